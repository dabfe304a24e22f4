"""Crowded merges with no cue in their outline or their brightness (issue 14, round 13).

In the most crowded dense fields (nuclei 0.65 d apart, two thirds of the field covered)
two nuclei of equal brightness that overlap show no neck (:func:`._shape._split_at_necks`),
no waist (:func:`._shape._split_at_waists`) and no step (:func:`._cues._split_at_steps`),
and at 1.0-1.5 nucleus areas they lie below the concave-merge test of
:func:`._merges._split_merges`. What they do show, measured on tuning fields of round 13
(``docs/nuclei-history.md``): they are larger than the nuclei around them, no single disc covers
them (a single nucleus holds a median 1.3 times its largest inscribed disc, one 1.8 times
as long as wide about 1.8 times; a merged pair 1.7-2.0 times) and, unlike an elongated
nucleus, they are a little concave. Per object, at the working
resolution; kept apart from :mod:`._recipe`, which calls it after the other splits.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._basins import _watershed as watershed  # (skimage's, bit for bit)
from ._merges import _BRIGHT_CORE, _PART_SOLIDITY, _kmeans_parts, _solidity, _write_parts
from ._merges import _MERGE_PART as _PART
from ._shape import _PAIR_NEIGHBOURS as _AMONG  # (the whole labels its median is over)
from ._shape import _above, _crowded_pairs, _typical_near, _whole_labels

#: a crowded object (:func:`._shape._crowded_pairs`: at least a nucleus area and 1.25 times
#: the median area of at least 4 whole labels within d/2) whose area is at least this many
#: times that of its largest inscribed disc ...
_FILL = 1.75
#: ... and whose solidity is at most this (a single nucleus is convex) ...
_SOLIDITY = 0.94
#: ... is split into about ``area / median`` parts, at most this many ...
_MOST = 6
#: ... and at most this many times k inscribed discs for k parts (a ragged object, such
#: as a nucleus joined to a piece of a glow, is not k round nuclei) ...
_FILL_EACH = 1.2
# ... if each is one piece of at least _PART of the median area and at least
# _PART_SOLIDITY solid (the merge split's rule for its parts, imported above), the median
# taken over at least _AMONG whole labels (:func:`._shape._crowded_pairs`'s, imported too)


def _split_crowds(labels, markers, d, smooth, level, find=ndi.find_objects, big=None):
    """Split crowded objects that no single disc covers into the nuclei their area holds.

    Candidates are the objects of :func:`._shape._crowded_pairs` whose area is at least
    ``_FILL`` times that of their largest inscribed disc and whose solidity is at most
    ``_SOLIDITY``. With ``m`` the median area of the whole labels within d/2 of its
    outline, such an object is tried as ``k = round(area / m)`` nuclei (2 to ``_MOST``),
    then as k - 1 and k + 1, leaving out any k for which its area is above ``_FILL_EACH``
    k inscribed discs (more ragged than k nuclei). The k-means of its pixel coordinates
    (:func:`._merges._kmeans_parts`) gives k regions whose deepest pixels (largest distance
    to the outline) seed a watershed of the distance transform, so the parts meet where
    the object is narrowest between them, not on the k-means' straight lines. The first k
    whose parts are each one piece of at least ``_PART`` m and of solidity
    ``_PART_SOLIDITY`` or more is kept; none, and the object stays whole. So does one whose
    maximum contrast (over the background ``level`` of the working image ``smooth``) is
    above ``_BRIGHT_CORE`` times its median one: a saturated cell in its glow, left to the
    glow step. Per object, from its pixels and its neighbours' areas, as the other crowded
    splits. Returns the labels and the markers, a split object's markers replaced by one
    pixel per part (its largest distance to the outline). ``find``: as
    :func:`._shape._split_at_waists`; ``big``: the candidates, ``_crowded_pairs(labels, d)``,
    when the caller has them (made here when None).
    """
    big = _crowded_pairs(labels, d, find) if big is None else big
    if not big.size:
        return labels, markers
    sizes, _, _ = _above(labels, d, 0)
    n = sizes.size - 1
    whole = _whole_labels(labels, n)
    boxes = find(labels)
    reach = max(1, round(d / 2))
    out, markers = labels.copy(), markers.copy()
    state = [n + 1, int(markers.max()) + 1]  # next label, next marker
    for i in big.tolist():
        box = boxes[i - 1]
        obj = labels[box] == i
        dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
        if sizes[i] < _FILL * np.pi * float(dist.max()) ** 2:
            continue  # one disc covers it
        points = np.argwhere(obj).astype(np.float64)
        if _solidity(points) > _SOLIDITY:
            continue
        typical = _typical_near(labels, i, box, reach, sizes, whole, _AMONG)
        contrast = smooth[box][obj] - level
        if not typical or contrast.max() > _BRIGHT_CORE * np.median(contrast):
            continue
        parts = None
        ratio = sizes[i] / typical
        near = int(min(_MOST, max(2, round(ratio))))
        for k in sorted({max(2, near - 1), near, min(_MOST, near + 1)},
                        key=lambda x: abs(x - ratio)):
            if sizes[i] > _FILL_EACH * k * np.pi * float(dist.max()) ** 2:
                continue  # more ragged than k nuclei
            parts = _plausible_parts(points, obj, dist, k, typical)
            if parts is not None:
                break
        if parts is None:
            continue
        _write_parts(out, markers, box, obj, parts, k, dist, state)
    return out, markers


def _plausible_parts(points, obj, dist, k, typical):
    """``obj`` shared among ``k`` nuclei (an image of parts 1..k, 0 outside), or None.

    The deepest pixel of each region of the k-means of the pixel coordinates ``points``
    seeds a watershed of the distance transform ``dist``; the parts must each be one piece
    of at least ``_PART`` times ``typical`` pixels and ``_PART_SOLIDITY`` solid."""
    means = _kmeans_parts(points, obj, k)
    if means is None:
        return None
    seeds = np.zeros(obj.shape, np.int32)
    rows, cols = points.astype(np.intp).T
    depth = dist[rows, cols]
    for j in range(k):  # each part's deepest pixel
        at = int(np.argmax(np.where(means == j, depth, -np.inf)))
        seeds[rows[at], cols[at]] = j + 1
    parts = watershed(-dist, seeds, mask=obj)
    label_of = parts[rows, cols]
    if np.bincount(label_of, minlength=k + 1)[1:].min() < _PART * typical:
        return None
    if any(ndi.label(parts == j)[1] != 1 for j in range(1, k + 1)):
        return None
    if min(_solidity(points[label_of == j]) for j in range(1, k + 1)) < _PART_SOLIDITY:
        return None
    return parts

