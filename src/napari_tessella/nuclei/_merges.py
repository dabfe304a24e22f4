"""Crowded objects of a dense field that hold several nuclei, split (issue 14): their area
against the whole neighbours' around them (:func:`._shape._typical_near`), their concavity
(solidity) or elongation, and their pixels shared among k centres by k-means (round 54:
apart from :mod:`._shape`, which reached the module limit). Per object, at the working
resolution; :mod:`._recipe` calls :func:`_split_merges`, :mod:`._crowd`, :mod:`._pairs`
and :mod:`._seams` share its parts.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids, _label_moments, _nonzero, _square_filter
from ._edges import _BRIGHT as _BRIGHT_CORE
from ._hull import _surely_solid
from ._own_peaks import _no_part_own_peak
from ._shape import _above, _typical_near

#: objects above this many nucleus areas are looked at as possible merges of k nuclei ...
_MERGE_AREA = 1.3
#: ... among at least this many neighbours within d/2 whose median area is at least
#: half a nucleus ...
_MERGE_NEIGHBOURS = 2
#: ... if they are at least this many times the neighbours' median area ...
_MERGE_RATIO = 1.5
#: ... and concave: their area at most this share of their convex hull's
_MERGE_SOLIDITY = 0.92
#: ... or convex but elongated, axes at least this ratio
_MERGE_AXES = 1.6
#: ... and then at least this many times the neighbours' median area
_LONG_RATIO = 2.0
#: ... among at least this many neighbours
_LONG_NEIGHBOURS = 3
# ... unless their maximum contrast is above _BRIGHT_CORE (the glow step's _edges._BRIGHT,
# imported above) times their median one: a bright cell in its glow, which that step parts
#: each part of a merge is at least this share of the neighbours' median area
_MERGE_PART = 0.5
#: ... and each part at least this solid (a nucleus, not a half with neighbours' slivers)
_PART_SOLIDITY = 0.8


def _split_merges(labels, markers, d, smooth, level, find=ndi.find_objects, domes=False):
    """Split crowded, concave objects into as many parts as the nuclei around them say.

    Per object above ``_MERGE_AREA`` nucleus areas: the typical nucleus is the median area
    of the labels within d/2 of its outline (:func:`_typical_near`), leaving out labels cut
    by the array's edge and the candidates themselves. An object whose solidity is at most
    ``_MERGE_SOLIDITY``, at least ``_MERGE_RATIO`` times that area among
    ``_MERGE_NEIGHBOURS`` or more (or a convex one with axes of ``_MERGE_AXES`` : 1 or
    more, ``_LONG_RATIO`` times among ``_LONG_NEIGHBOURS``: a pair pressed flat), is
    taken for ``k = round(area / typical)`` (2 to 4) nuclei and its pixels are shared
    among k centres by k-means of their coordinates (:func:`_kmeans_parts`): two nuclei
    part across the middle, three in a triangle in three sectors. A part below
    ``_MERGE_PART`` of the typical area, less solid than ``_PART_SOLIDITY`` or in more
    than one piece leaves the object whole. So does a maximum contrast above
    ``_BRIGHT_CORE`` times the median one (over the background ``level`` of the working
    image ``smooth``): a saturated cell in its glow, which ``_edges._glow_nuclei`` takes
    apart by intensity; with ``domes`` (dense blurred fields) so does a split none of
    whose parts holds a peak of the distance map of its own (``._own_peaks``: one dome).
    Per object, from its pixels and its neighbours' areas: chunks
    with a margin give the same but near a threshold (see ``docs/nuclei-history.md``, round 7).
    Returns the labels and the markers, a split object's markers replaced by one pixel
    per part (its largest distance to the outline). ``find``: as :func:`._shape._split_at_waists`.
    """
    sizes, unit, big = _above(labels, d, _MERGE_AREA)
    n = sizes.size - 1
    if not big.size:
        return labels, markers
    reach = max(1, round(d / 2))
    # only objects with another label within reach can be crowded: one pass over the image
    size = 2 * reach + 1
    other = (_square_filter(labels, size, True) != labels) | (
        _square_filter(np.where(labels > 0, labels, n + 1), size, False) != labels)
    near = np.bincount(labels[other & (labels > 0)], minlength=n + 1) > 0
    big = big[near[big]]
    if not big.size:
        return labels, markers
    boxes = find(labels)
    axes = _axes_ratio(labels, n, big)
    concave = []
    for i in big.tolist():
        points = np.transpose(_nonzero(labels[boxes[i - 1]] == i)).astype(np.float64)
        if not _surely_solid(points, _MERGE_SOLIDITY) and _solidity(points) <= _MERGE_SOLIDITY:
            concave.append((i, points, _MERGE_RATIO, _MERGE_NEIGHBOURS))
        elif axes[i] >= _MERGE_AXES:
            concave.append((i, points, _LONG_RATIO, _LONG_NEIGHBOURS))
    # not a typical nucleus: a label cut by the array's edge shows only part of its area
    # (at the image's border, and at a chunk's, whose margin can end inside it), and a
    # concave one of more than _MERGE_AREA may itself be a merge (in a chunk, a neighbour
    # near the margin can be one that the whole image split)
    whole = np.ones(n + 1, dtype=bool)
    whole[_edge_ids(labels)] = False
    whole[[c[0] for c in concave]] = False
    out, markers = labels.copy(), markers.copy()
    state = [n + 1, int(markers.max()) + 1]
    for i, points, ratio, among in concave:
        box = boxes[i - 1]
        obj = labels[box] == i
        typical = _typical_near(labels, i, box, reach, sizes, whole, among)
        if typical < 0.5 * unit or sizes[i] < ratio * typical:
            continue
        contrast = smooth[box][obj] - level
        if contrast.max() > _BRIGHT_CORE * np.median(contrast):
            continue
        k = int(min(4, max(2, round(sizes[i] / typical))))
        parts = _kmeans_parts(points, obj, k)
        if parts is None:
            continue
        rows, cols = points.astype(np.intp).T
        counts = np.bincount(parts, minlength=k)
        if counts.min() < _MERGE_PART * typical:
            continue
        split = np.zeros(obj.shape, np.int32)
        split[rows, cols] = parts + 1
        if any(ndi.label(split == j + 1)[1] != 1 for j in range(k)):
            continue
        if min(_solidity(points[parts == j]) for j in range(k)) < _PART_SOLIDITY:
            continue
        dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
        if domes and _no_part_own_peak(obj, split, k, dist):  # one dome: k ran high
            continue
        _write_parts(out, markers, box, obj, split, k, dist, state)
    return out, markers


def _write_parts(out, markers, box, obj, split, k, dist, state) -> None:
    """Write the split of object ``obj`` (in ``box``) into ``out`` and ``markers``, in place.

    ``split`` is an image of parts 1..k over ``obj``: part 1 keeps the object's label,
    parts 2..k take new labels from ``state[0]`` on, and each part gets one marker from
    ``state[1]`` on, at its largest distance ``dist`` to the outline (the object's old
    markers are removed)."""
    region, seeds_at = out[box], markers[box]
    seeds_at[obj] = 0
    for j in range(1, k + 1):
        part = split == j
        if j > 1:
            region[part] = state[0]
            state[0] += 1
        seeds_at.flat[np.argmax(np.where(part, dist, -np.inf))] = state[1]
        state[1] += 1


def _axes_ratio(labels, n, ids) -> np.ndarray:
    """Per label 0..n, the ratio of the long to the short axis of its pixels' second
    moments (:func:`_label_moments`), for the labels ``ids`` (the others: 0)."""
    count, _, _, var_r, var_c, cov = _label_moments(labels, n, ids)
    half = np.sqrt(0.25 * (var_r - var_c) ** 2 + cov**2)
    # the eigenvalues of the pixels' scatter matrix (sums, not means)
    large = count * (0.5 * (var_r + var_c) + half)
    small = count * (0.5 * (var_r + var_c) - half)
    return np.sqrt(large / np.maximum(small, 1e-9))


def _solidity(points: np.ndarray) -> float:
    """Pixel count over the pixels a convex hull of the same pixels would hold (``points``
    in the row-major order of ``np.argwhere``).

    That hull holds about its area plus half its perimeter plus one pixel (Pick's theorem
    for the hull of the pixel centres), so a convex object has a solidity of about 1 at
    any size; the plain hull area would give a 10-pixel disc 0.87."""
    from scipy.spatial import ConvexHull, QhullError

    # the hull of the pixels is that of each row's two ends (rows in ascending order)
    rows = points[:, 0]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    last = np.r_[first[1:] - 1, len(rows) - 1]
    try:
        hull = ConvexHull(points[np.r_[first, last]])
    except QhullError:  # a line of pixels
        return 1.0
    return len(points) / (hull.volume + hull.area / 2 + 1)


def _kmeans_parts(points: np.ndarray, obj: np.ndarray, k: int):
    """Part of each pixel (0..k-1) by k-means of the coordinates ``points``, started from
    the deepest pixel of ``obj`` and then each pixel farthest from the centres so far."""
    dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
    rows, cols = points.astype(np.intp).T
    depth = dist[rows, cols]
    centres = [points[np.argmax(depth)]]
    for _ in range(k - 1):
        far = np.min([np.hypot(*(points - c).T) for c in centres], axis=0)
        centres.append(points[np.argmax(far * depth)])
    centres = np.array(centres)
    parts = None
    for _ in range(20):
        d2 = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2)
        new = np.argmin(d2, axis=1)
        if parts is not None and np.array_equal(new, parts):
            break
        parts = new
        if np.bincount(parts, minlength=k).min() == 0:
            return None
        centres = np.array([points[parts == j].mean(axis=0) for j in range(k)])
    return parts
