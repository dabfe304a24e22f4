"""Condensed bright nuclei below the default minimum size.

A mitotic or apoptotic cell's chromatin is condensed into a disc of about 0.6 d, about a
third of an ordinary nucleus's area, and it is many times brighter than its neighbours.
Cut at the trim, its label lies under the minimum size (a disc of d/3) and was dropped
with the debris (round 38: six of eight `fibroblast` losses at the size filter). Such a
label is kept when its own cues say nucleus: at least ``_CONDENSED_SIZE`` of the minimum
size, compact (its inscribed disc at least ``_CONDENSED_ROUND`` of the radius of a disc of
its area), sharp against the background around it (:func:`._cues._edge_sharpness`-like,
at least ``_CONDENSED_SHARP``) and at least ``_CONDENSED_BRIGHT`` times as bright (median
over the foreground cut) as the other labels within ``_CONDENSED_REACH`` d of it (the
median over their pixels there: whole pixels near the label, so that a chunk read with
its margin gives the in-memory answer; no label near, not kept). Debris
specks are smaller, glare streaks are not compact, and neither is that bright and sharp.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _crosses_dilated, _widened

_CONDENSED_SIZE = 0.5
_CONDENSED_ROUND = 0.8
_CONDENSED_SHARP = 0.7
_CONDENSED_BRIGHT = 4.0
_CONDENSED_REACH = 1.0


def _condensed(labels, sizes, needed, smooth, level, d, edge) -> np.ndarray:
    """The ids of labels under ``needed`` (not on the image border, ``edge``) kept as
    condensed bright nuclei (see the module's docstring)."""
    ids = np.flatnonzero((sizes < needed) & (sizes >= _CONDENSED_SIZE * needed))
    ids = ids[(ids > 0) & ~np.isin(ids, edge)]
    if not ids.size:
        return ids
    k = max(1, round(d / 10))
    reach = max(1.0, _CONDENSED_REACH * d)
    boxes = ndi.find_objects(labels)
    out = []
    for i in ids:
        box = _widened(boxes[i - 1], int(np.ceil(reach)) + 1, labels.shape)
        own = labels[box] == i
        near = (labels[box] > 0) & ~own & (ndi.distance_transform_edt(~own) <= reach)
        if not near.any():
            continue
        med = float(np.median(smooth[box][own])) - level
        if med < _CONDENSED_BRIGHT * (float(np.median(smooth[box][near])) - level):
            continue
        inscribed = ndi.distance_transform_edt(np.pad(own, 1)).max()
        if inscribed < _CONDENSED_ROUND * np.sqrt(sizes[i] / np.pi):
            continue
        rim = own & ~ndi.binary_erosion(own, iterations=k)
        ring = _crosses_dilated(own, k) & (labels[box] == 0)
        if not ring.any():
            continue
        inner = float(np.median(smooth[box][rim])) - level
        outer = float(np.quantile(smooth[box][ring], 0.25)) - level
        if inner > 0 and (inner - outer) / inner >= _CONDENSED_SHARP:
            out.append(i)
    return np.asarray(out, dtype=ids.dtype)
