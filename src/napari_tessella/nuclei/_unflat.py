"""Dim nuclei on a glow's steep flank, found on the image before its flattening (round 32).

The flattening's grey opening (:func:`._foreground._flatten`) fits its box on the glow's
side of a dim nucleus 1-2 d from a saturated cell and takes most of the nucleus's plateau
off with the glow: :func:`._dim._glow_dim` reads the candidates its first pass left on
the working image before the flattening, over the same ring surface, and
:func:`_with_unflat` adds their outlines here. The foreground cut has often found a
sliver of such a nucleus, a label wholly inside its outline: the outline takes it in.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._small import _with_new_peaks

#: a label with at least this share of its pixels inside an outline is a piece of it
_PIECE = 0.8
#: an outline is added when at least this share of it lies on the background (the rest on
#: its pieces, or at most a tenth of it on other labels)
_FREE = 0.5


def _with_unflat(labels, markers, peak, smooth, least, comp, k, points):
    """``labels`` with the outlines ``comp`` (1..``k``, one point of ``points`` each)
    added as labels of their own when they keep ``least`` background pixels, at least
    ``_FREE`` of them, and at most a tenth of them lie on labels that are not their
    pieces (``_PIECE`` of a label inside the outline): those pieces are taken in whole.
    Returns the labels, markers, peaks and whether anything was added.

    Every choice is by pixel counts of one outline and the labels under it: no order
    between outlines (a label can be a piece of one outline only)."""
    on = comp > 0
    if k == 0 or not on.any():
        return labels, markers, peak, False
    under = _under_outlines(labels, comp, k)
    new = ((under.free >= least) & (under.free >= _FREE * under.size)
           & (10 * under.other <= under.size))
    new[0] = False
    if not new.any():
        return labels, markers, peak, False
    return (*_added(labels, markers, peak, smooth, comp, points, new, under), True)


class _Under(NamedTuple):
    """What lies under outlines 1..k: ``size`` of each (0..k); per (outline, label) pair
    present, ``part_of``, ``label_of`` and their ``counts`` of pixels, and whether the
    label is a ``piece`` of the outline (``_PIECE`` of it inside); per outline the
    pixels on the background (``free``), on its pieces (``held``) and on other labels
    (``other``); ``n``, the labels' largest id + 1."""

    size: np.ndarray
    part_of: np.ndarray
    label_of: np.ndarray
    counts: np.ndarray
    piece: np.ndarray
    free: np.ndarray
    held: np.ndarray
    other: np.ndarray
    n: int


def _under_outlines(labels, comp, k) -> _Under:
    """The pixel counts under the outlines ``comp`` (1..``k``) of ``labels``
    (:class:`_Under`): whole-pixel sums, no order between outlines."""
    on = comp > 0
    n = int(labels.max()) + 1
    size = np.bincount(comp.ravel(), minlength=k + 1)
    pairs, counts = np.unique(comp[on].astype(np.int64) * n + labels[on], return_counts=True)
    part_of, label_of = np.divmod(pairs, n)
    lsize = np.bincount(labels.ravel(), minlength=n)
    piece = (label_of > 0) & (counts >= _PIECE * lsize[label_of])
    free = np.bincount(part_of[label_of == 0], counts[label_of == 0], minlength=k + 1)
    held = np.bincount(part_of[piece], counts[piece], minlength=k + 1)
    rest = (label_of > 0) & ~piece
    other = np.bincount(part_of[rest], counts[rest], minlength=k + 1)
    return _Under(size, part_of, label_of, counts, piece, free, held, other, n)


def _added(labels, markers, peak, smooth, comp, points, new, under: _Under):
    """``labels`` with the outlines ``new`` (bool per outline 0..k) added as labels of
    their own, their pieces taken in whole, their ``points`` marked; with the markers and
    peaks (the pieces' peaks ``inf``: gone)."""
    on = comp > 0
    ids = np.flatnonzero(new)
    first = max(peak.size, under.n)
    table = np.zeros(new.size, np.int64)
    table[ids] = first + np.arange(ids.size)
    taken = under.piece & new[under.part_of]
    owner = np.zeros(under.n, np.int64)  # each piece taken in: its outline's new id
    owner[under.label_of[taken]] = table[under.part_of[taken]]
    out = labels.astype(np.int64)
    owned = owner[labels]  # per pixel: the new id of the outline taking its label in
    mine = on & new[comp] & ((labels == 0) | (owned == table[comp]))
    out[owned > 0] = owned[owned > 0]
    out[mine] = table[comp[mine]]
    markers = markers.copy()
    at = points & mine
    markers[at] = int(markers.max()) + comp[at]
    peak = _with_new_peaks(peak, first, smooth, out, table[ids])
    peak[under.label_of[taken]] = np.inf  # gone, taken in
    return out.astype(np.int32), markers, peak
