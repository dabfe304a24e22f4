"""The parts of a crowded object split by :func:`._shape._split_merges`, redrawn at their
necks (issue 14, round 43).

The step shares an object's pixels among k parts by k-means of their coordinates: two
nuclei of unequal size part through the middle, not at their neck, and an object of one
large nucleus among small neighbours is cut in two with no neck at all. Measured in the
working frame on the dense tuning fields, the nuclei the step divides stay divided at the
end more often than not, most of them in objects cut into more parts than they hold
nuclei. Here two touching parts whose shared cut has no neck (the object's distance to its
outline along the cut nearly as deep as the shallower part's deepest pixel) are one part
again, and the parts left are redrawn by a watershed of that distance from each part's
deepest pixel, so that the cut follows the neck.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._basins import _flood

#: two parts whose cut is at least this deep (x the shallower part's deepest distance to
#: the object's outline) have no neck between them: one part
_NO_NECK = 0.85


def _parts_at_necks(obj, split, k, typical):
    """``split`` (parts 1..k over the boolean ``obj``, a box's arrays) joined across the
    cuts with no neck (:data:`_NO_NECK`) and redrawn along the distance map's valleys;
    ``typical``: the neighbours' median area, for the split step's checks of the parts
    (:func:`_fits`). Returns (split, k) redrawn, the
    joined k-means parts when the redrawn ones fail ``fits``, ``split`` and ``k`` as given
    when those fail too, or None when no two parts are left (the object stays whole)."""
    dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
    deep = ndi.maximum(dist, split, np.arange(1, k + 1))
    # the deepest pixel on each cut between two touching parts (4-neighbours)
    owner = np.arange(k + 1)
    for a_sl, b_sl in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                       ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        a, b = split[a_sl], split[b_sl]
        on = (a > 0) & (b > 0) & (a != b)
        if not on.any():
            continue
        depth = np.minimum(dist[a_sl][on], dist[b_sl][on])
        for p, q, v in zip(a[on].tolist(), b[on].tolist(), depth.tolist(), strict=True):
            if v >= _NO_NECK * min(deep[p - 1], deep[q - 1]):
                root_p, root_q = _root(owner, p), _root(owner, q)
                owner[max(root_p, root_q)] = min(root_p, root_q)
    roots = np.array([_root(owner, j) for j in range(k + 1)])
    ids = np.unique(roots[1:])
    if ids.size < 2:
        return None
    lut = (np.searchsorted(ids, roots) + 1).astype(np.int32)  # parts 1..k' (0 stays 0)
    lut[0] = 0
    joined, k = lut[split], int(ids.size)
    markers = np.zeros(obj.shape, np.int32)
    for j in range(1, k + 1):
        markers.flat[np.argmax(np.where(joined == j, dist, -np.inf))] = j
    redrawn = _flood(-dist, markers, obj).astype(np.int32)
    if _fits(redrawn, k, typical):
        return redrawn, k
    return (joined, k) if _fits(joined, k, typical) else (split, len(deep))


def _fits(split, k, typical) -> bool:
    """The split step's checks of parts 1..k: each of ``_MERGE_PART`` typical areas or
    more, in one piece and at least ``_PART_SOLIDITY`` solid (:mod:`._shape`)."""
    from ._shape import _MERGE_PART, _PART_SOLIDITY, _solidity

    if np.bincount(split.ravel(), minlength=k + 1)[1:].min() < _MERGE_PART * typical:
        return False
    if any(ndi.label(split == j)[1] != 1 for j in range(1, k + 1)):
        return False
    return min(_solidity(np.argwhere(split == j).astype(np.float64))
               for j in range(1, k + 1)) >= _PART_SOLIDITY


def _root(owner, j):
    """The first part of ``j``'s group (``owner``: a union-find's parents)."""
    while owner[j] != j:
        j = owner[j]
    return j
