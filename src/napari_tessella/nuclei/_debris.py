"""Debris cut by the image border, outlined (issue 14, round 34).

:func:`_border_specks` drops the pieces on one side of the image border that are at least
as deep as half their chord (their object's centre is in the image) and under a quarter of
the minimum size, on the labels trimmed to their own peak (round 24). Those labels are
smaller than the nuclei's outlines drawn later: a border cap of a U2OS nucleus, trimmed,
measures 0.28-0.50 of the minimum size, so the bar cannot be raised there (round 34:
at half the minimum size, 7 hand-labelled caps were lost with 6 spurious pieces).

The bright debris of the ``uneven d32`` fields (half discs centred on the border) is
sharp-edged: its outline grows little, and 17 of the 21 spurious pieces of it left on the
tuning fields measured 0.15-0.39 of the minimum size outlined, whereas the outlined U2OS
caps measure more than the minimum size. :func:`_outlined_debris` takes the same test
again on the outlines, at twice the trimmed bar: the whole object, whose half at least is
in the image, would then be under the minimum size an object inside the image must reach.
"""

from __future__ import annotations

import numpy as np

from .._label_image import _edge_ids, _per_label

# ... of at least this many pixels: the shape of fewer says nothing (packed crops of 12-px
# nuclei: pieces of 6 px, 4 along the border and 2 deep, were caps as often as debris)
_SPECK_LEAST = 10
_OUTLINED = 2.0  # on the outlines: the trimmed labels' bar times this (half the minimum size)


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
    r, c = np.nonzero(_per_label(pick, labels))
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


def _outlined_debris(labels, border, most, nearest):
    """``labels`` without their border specks (:func:`_border_specks`) of fewer than
    ``_OUTLINED * most`` pixels, read on the outlined labels, and ``nearest`` (None when a
    label was dropped: the territories are made again)."""
    sizes = np.bincount(labels.ravel())
    ids = _border_specks(labels, sizes, border, _OUTLINED * most)
    if ids.size == 0:
        return labels, nearest
    gone = np.zeros(sizes.size, bool)
    gone[ids] = True
    labels[_per_label(gone, labels)] = 0
    return labels, None
