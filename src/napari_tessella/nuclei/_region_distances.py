"""Distance transforms of a mask's components made in their boxes, for the diameter
estimate: the largest distance of each component (its inscribed radius) and the transform
of a mask with pixels added, from that of the mask (round 54: apart from
:mod:`.diameter`, which reached the module limit). Each component's is made in its box
widened by one pixel, where the nearest background pixel of its pixels lies: the same
distances as over the whole image, at the cost of a few small transforms; ``boxes``
(``_label_image._box_squares``'s cache) keeps those already made, by content.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _box_squares, _offsets, _widened


def _region_radius(mask, regions, ids, boxes=None) -> np.ndarray:
    """Per label 0..m of ``regions`` (the components of ``mask``, ``ndi.label``'s default
    4-connectivity), the largest value of ``mask``'s distance transform over the label,
    for the labels ``ids`` only (-inf for the others).

    Each is computed in the label's box widened by one pixel: the first pixel outside a
    component along a row or column is background, so the nearest background pixel of
    any pixel of the component lies in that box (the same distances as over the whole
    image, at the cost of a few small transforms instead of a large one). ``boxes``: the
    transforms already made, by content (``_label_image._box_squares``).
    """
    out = np.full(int(regions.max()) + 1, -np.inf)
    if ids.size == 0:
        return out
    rank = np.zeros(out.size, dtype=np.intp)
    rank[ids] = np.arange(1, ids.size + 1)
    at = _offsets(regions.shape)
    for i, box in zip(ids.tolist(), ndi.find_objects(rank[regions], max_label=ids.size),
                      strict=True):
        box = _widened(box, 1, regions.shape)
        # the root of the largest square: the largest distance
        out[i] = np.sqrt(_box_squares(mask[box], at, boxes)[regions[box] == i].max())
    return out


def _grown_distances(dist, mask, whole, regions, m, boxes=None) -> np.ndarray:
    """``ndi.distance_transform_edt(whole)`` for ``whole``, ``mask`` with pixels added,
    from ``dist``, the transform of ``mask``, and ``regions``, the ``m`` components of
    ``whole`` (``ndi.label``'s 4-connectivity).

    Only the components holding an added pixel change, each computed in its box widened
    by one pixel (the nearest background pixel of its pixels lies there, see
    :func:`_region_radius`). A component without one is one of ``mask``'s, and none of its
    pixels has an added pixel for its nearest background: every pixel nearer lies in the
    component (the pixels nearer than a given distance form a 4-connected disc), so that
    one would be 4-adjacent to it. ``boxes``: the transforms already made, by content
    (``_label_image._box_squares``; most grown components are a region
    :func:`_region_radius` transformed in the same box).
    """
    grown = np.zeros(m + 1, dtype=bool)
    grown[regions[whole & ~mask]] = True
    grown[0] = False
    ids = np.flatnonzero(grown)
    rank = np.zeros(m + 1, dtype=np.intp)
    rank[ids] = np.arange(1, ids.size + 1)
    out = dist.copy()
    at = _offsets(whole.shape)
    for i, box in zip(ids.tolist(), ndi.find_objects(rank[regions], max_label=ids.size),
                      strict=True):
        box = _widened(box, 1, whole.shape)
        if whole[box].all():  # no background at all: the transform's own distances
            return ndi.distance_transform_edt(whole)
        own = regions[box] == i
        out[box][own] = np.sqrt(_box_squares(whole[box], at, boxes)[own])
    return out
