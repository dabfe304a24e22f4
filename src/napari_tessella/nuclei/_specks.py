"""Specks on the image border: debris cut by the border, not a nucleus's cap (round 24;
round 46).

A piece on one side of the border at least as deep as half its chord shows at least half
of its object; under a quarter of the minimum size, that object whole would be under half
of it. Round 24 drops those pieces before the outlines are drawn. Round 46 found the
bright debris of the ``uneven d32`` fields (half discs centred on the border) still there:
its smoothed skirt kept it over the size bar at that point, and the rim outlines, cut
half-way to the background, took it under the bar afterwards (25 border-debris labels on
40 tuning fields, 13 of them dropped once their outline's size is read again; the others
are left: on the final labels 5 are over the bar and 2 touch two sides). The shape is
read where round 24 reads it: the caps of real nuclei are shallower there, and deeper once
their outline moved in. Only the pieces up to ``_SKIRT`` times the bar are read again.
"""

from __future__ import annotations

import numpy as np

from .._label_image import _edge_ids, _nonzero, _per_label

# a piece of at least this many pixels: the shape of fewer says nothing (packed crops of 12-px
# nuclei: pieces of 6 px, 4 along the border and 2 deep, were caps as often as debris)
_SPECK_LEAST = 10
# the deep border pieces re-checked after the outline step are those up to this many times
# the speck size limit (the debris of the ``uneven d32`` fields measured 1.0-1.4 times it
# there, its smoothed skirt included)
_SKIRT = 2.0


def _border_specks(labels, sizes, border, most, ids=None) -> np.ndarray:
    """The labels on one side only of the image border (``border``: which sides of
    ``labels`` are the image's; ``ids``: the labels on them when known), of fewer
    than ``most`` pixels (and at least ``_SPECK_LEAST``), at least as deep from that
    side as half their chord along it.

    A disc cut by a straight border is that deep exactly when its centre is in the image:
    the piece is at least half of it, so the object whole is under twice ``most``. The
    caps of nuclei mostly outside the image are shallower (round 24, working labels: the
    U2OS caps under a quarter of the minimum size that a hand label matches are 0.31-0.67 x
    half their chord deep, but at the corners, where a piece is cut by two sides: those are
    left alone); the bright debris of the ``uneven d32`` fields, half discs centred on the
    border, measure 1.0-3.6 (0.14-0.26 of the minimum size).
    """
    ids = _edge_ids(labels, border) if ids is None else ids
    ids = ids[(ids > 0) & (sizes[ids] < most) & (sizes[ids] >= _SPECK_LEAST)]
    if ids.size == 0:
        return ids
    rows, cols = labels.shape
    pick = np.zeros(sizes.size, dtype=bool)  # ``np.isin(labels, ids)`` by a look-up
    pick[ids] = True
    r, c = _nonzero(_per_label(pick, labels))
    k = np.searchsorted(ids, labels[r, c])  # ids are sorted (np.unique)
    n = ids.size
    # per side (top, bottom, left, right): the chord (pixels on it) and the depth from it
    chords = [np.bincount(k[r == 0], minlength=n), np.bincount(k[r == rows - 1], minlength=n),
              np.bincount(k[c == 0], minlength=n), np.bincount(k[c == cols - 1], minlength=n)]
    depths = [np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)]
    for depth, dist in zip(depths, (r + 1, rows - r, c + 1, cols - c), strict=True):
        np.maximum.at(depth, k, dist)
    chords = np.stack([ch * on_side for ch, on_side in zip(chords, border, strict=True)])
    depths = np.stack(depths)
    one_side = np.count_nonzero(chords, axis=0) == 1
    chord = chords.max(axis=0)
    deep = (2 * depths >= chords) & (chords == chord) & (chords > 0)
    return ids[one_side & deep.any(axis=0)]


def _without_border_specks(labels, deep, most):
    """``labels`` without those of ``deep`` (ids, the :func:`_border_specks` shape measured
    on an earlier outline) now of fewer than ``most`` pixels, and whether any was dropped;
    the other labels keep their ids. The steps in between keep each label's id and give new
    labels ids above every earlier one (the per-label ``peak`` arrays are indexed by them),
    so an id of ``deep`` still names the piece it was measured on, or nothing."""
    if deep.size == 0:  # no candidates: nothing to measure
        return labels, False
    sizes = np.bincount(labels.ravel(), minlength=int(deep.max(initial=0)) + 1)
    specks = deep[(sizes[deep] > 0) & (sizes[deep] < most)]
    if specks.size == 0:
        return labels, False
    drop = np.zeros(sizes.size, dtype=bool)
    drop[specks] = True
    return np.where(_per_label(drop, labels), 0, labels), True
