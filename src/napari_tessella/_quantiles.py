"""Quantiles per group (per label) of an image's values from one sort (round 54: apart
from :mod:`._label_image`, which reached the module limit): the values sorted by group,
then by value, as one sort of int64 keys, and numpy's "lower" and "linear" quantiles read
off runs of sorted values; the nuclei's per-label quantiles, the glow model's bands and
the atoms' noise read through it."""

from __future__ import annotations

from functools import partial

import numpy as np

#: every bit of an int64 but its sign: a negative float's other bits, flipped in its key
_FLIP = np.int64(0x7FFFFFFFFFFFFFFF)


def _sorted_keys(labels: np.ndarray, values: np.ndarray):
    """The pixels sorted by label, then by value, as one sorted array of int64 keys
    ``label << shift | (v - lo)``, with ``(keys, shift, lo)``; None when the values'
    span and the labels need more than 62 bits.

    ``v`` is the float64 value's bits as an int64, the negative ones' other bits flipped:
    the order of the floats (-0.0 just below 0.0), a bijection. Sorting the keys (no
    index) gives each label's values in order, as an argsort of the values and a stable
    one of the labels did (their gathers and the float argsort ~2x slower)."""
    key = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    lo, hi = int(key.min()), int(key.max())
    if lo < 0:  # (no value with its sign bit set: every key is its own bits, round 48)
        key = np.where(key < 0, key ^ _FLIP, key)
        lo, hi = int(key.min()), int(key.max())
    shift = max(1, (hi - lo).bit_length())
    if shift + int(labels.max()).bit_length() > 62 or int(labels.min()) < 0:
        return None
    key = key - lo  # (a new array: the values are not changed)
    key |= np.left_shift(labels, shift, dtype=np.int64)
    key.sort()
    return key, shift, lo


def _key_values(keys, at: np.ndarray) -> np.ndarray:
    """The float64 values at the positions ``at`` of :func:`_sorted_keys`' ``keys``."""
    key, shift, lo = keys
    bits = (key[at] & ((1 << shift) - 1)) + lo
    return np.where(bits < 0, bits ^ _FLIP, bits).view(np.float64)


def _group_quantiles(values: np.ndarray, groups: np.ndarray, size: int, qs,
                     fill: float = np.nan, method: str = "lower"):
    """Per group 0..size-1 of ``groups`` (non-negative ints below ``size``, one per value
    of the 1-d ``values``): the quantile ``q`` of its values for each ``q`` of ``qs``
    (float64, ``fill`` where a group is empty), and the counts (int64), from one sort.

    The quantile is ``np.quantile``'s ``method``: "lower", the value at rank floor(q
    (count - 1)) of the group's values in order, or "linear" (numpy's default), that one
    and the next blended as numpy does (its weight, its two sides of 0.5 and its last
    rank: the same bits, for finite values, in float64). The values are sorted by group,
    then by value, as one sort of int64 keys (:func:`_sorted_keys`); for values too
    spread for a key, sorted by value, then stably by group (a radix sort of 16-bit ids).
    The one sort-based per-group quantile of the package (round 49:
    ``_cues._label_quantiles`` reads the labelled pixels' through it, the glow model its
    bands' with group 0 and the counts, and its basins' heights "linear")."""
    outs = [np.full(size, fill) for _ in qs]
    counts = np.bincount(groups, minlength=size)
    if groups.size == 0:
        return outs, counts
    if (keys := _sorted_keys(groups, values)) is None:  # (a span of values too wide for a key)
        order = np.argsort(values)
        groups, values = groups[order], values[order]
        order = np.argsort(groups.astype(np.uint16) if groups.max() < 2**16 else groups,
                           kind="stable")
        values = values[order]
    start = np.cumsum(counts) - counts
    present = np.flatnonzero(counts)
    start, last = start[present], counts[present] - 1
    value_at = values.__getitem__ if keys is None else partial(_key_values, keys)
    for out, q in zip(outs, qs, strict=True):
        out[present] = _sorted_quantile(value_at, start, last, q, method)
    return outs, counts


def _sorted_quantile(value_at, start, last, q, method: str = "lower"):
    """``np.quantile(v, q, method=method)`` of runs ``v`` of values in order, "lower" or
    "linear": ``value_at(pos)`` reads the values at the positions ``pos``, each run from
    ``start`` to ``start + last`` (``start``, ``last`` and ``q`` broadcast together). The
    per-group quantiles (:func:`_group_quantiles`) and those of one sorted array
    (``_atoms_noise._sorted_quantiles``) read through it (round 50: the two wrote numpy's
    interpolation apart).

    "lower": the value at rank floor(q last); "linear" blends it and the next as numpy
    does (its weight, its two sides of 0.5 and its last rank, where the weight is at + 1:
    the same bits, for finite values, in float64)."""
    at = q * last  # (numpy's virtual index)
    lo = np.floor(at)
    a = value_at(start + lo.astype(np.int64))
    if method != "linear":
        return a
    b = np.asarray(value_at(start + np.minimum(lo.astype(np.int64) + 1, last)), np.float64)
    t = at - np.where(at >= last, -1.0, lo)
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def _quantile(values: np.ndarray, q: float) -> float:
    """``float(np.quantile(values, q))`` (numpy's "linear") of a 1-d array of finite
    float64 values, from one sort and :func:`_sorted_quantile`: the same bits, without
    numpy's checks and partition, ~10x its speed on a nucleus's few hundred pixels (a
    call per textured label in the edge outlines, round 59). Another type or no value:
    ``np.quantile`` as it is."""
    if values.dtype != np.float64 or values.ndim != 1 or values.size == 0:
        return float(np.quantile(values, q))
    ordered = np.sort(values)
    return float(_sorted_quantile(ordered.__getitem__, 0, ordered.size - 1, q, "linear"))
