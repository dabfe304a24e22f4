"""Shape cues of the default nuclei recipe for dense fields of touching nuclei (issue 14):
which holes of the foreground to fill, where a pair of touching nuclei with no darker
seam between them shows a neck or a waist, and which crowded objects hold several nuclei
(their area against their neighbours', their concavity). Per object, at the working
resolution; kept apart from :mod:`._recipe`, which calls them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import (
    _crosses_dilated,
    _edge_ids,
    _label_moments,
    _nonzero,
    _per_label,
    _square_filter,
    _widened,
)
from ._cues import _fill_holes
from ._edges import _BRIGHT as _BRIGHT_CORE
from ._hull import _surely_solid
from ._long import _part_too_small
from ._own_peaks import _no_part_own_peak

#: holes of the foreground are filled up to this share of a nucleus's area (pi d^2 / 4)
_HOLE = 0.25
#: objects above this many nucleus areas are looked at for a neck ...
_NECK_AREA = 1.0
#: ... two concavities at least this deep (x d) below the object's convex hull ...
_NECK_DEPTH = 0.1
#: ... at most this far apart (x d) ...
_NECK_CHORD = 0.6
#: ... and each side of the chord between them at least this many nucleus areas
_NECK_PART = 0.4


def _fill_small_holes(mask: np.ndarray, d: float) -> np.ndarray:
    """``mask`` with its holes (background not 4-connected to the array's edge) filled,
    up to ``_HOLE`` times the area of a disc of diameter ``d``.

    A dark nucleolus or a dim patch inside a nucleus is a small hole; the background
    enclosed by a ring of touching nuclei in a dense field is not one. Filled, such a gap
    joined the ring into one blob whose distance transform has no neck (its maximum at
    the gap's centre, the radius of the whole ring), and the nuclei around it were merged
    or split through the gap. Per hole: a hole larger than that is never filled, so a
    chunk with a margin of a few diameters decides every hole as the whole image does.
    """
    return _fill_holes(mask, most=_HOLE * np.pi * d * d / 4)





def _outline_points(mask: np.ndarray) -> np.ndarray:
    """(row, col) of the pixels of ``mask`` with a 4-neighbour outside it (float64)."""
    pad = np.pad(mask, 1)
    inner = pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
    return np.transpose(_nonzero(mask & ~inner)).astype(np.float64)  # (np.argwhere)


def _neck(edge: np.ndarray, d: float):
    """The two ends of an object's neck, from its outline pixels ``edge`` (rows of
    (row, col)), or None.

    A concavity of the outline is bridged by one facet of the convex hull; its depth is
    the largest distance of its outline pixels below that facet. The ends are the deepest
    pixels of the two deepest concavities, kept if both are at least ``_NECK_DEPTH * d``
    deep and at most ``_NECK_CHORD * d`` apart: two nuclei pressed together pinch in on
    both sides of their contact, one kidney-shaped nucleus on one side only.
    """
    from scipy.spatial import ConvexHull, QhullError

    if _shallow(edge, _NECK_DEPTH * d):
        return None
    try:
        facets = ConvexHull(edge).equations  # inside: normal . x + offset <= 0
    except QhullError:  # a line of pixels
        return None
    below = -(edge @ facets[:, :2].T + facets[:, 2])
    facet = np.argmin(below, axis=1)  # the facet nearest each outline pixel
    depth = below[np.arange(len(edge)), facet]
    deep = depth >= _NECK_DEPTH * d
    deepest = np.full(len(facets), -1.0)
    np.maximum.at(deepest, facet[deep], depth[deep])
    two = np.argsort(deepest)[-2:]
    if deepest[two[0]] < 0:  # fewer than two deep concavities
        return None
    ends = []
    for f in two.tolist():
        at = np.flatnonzero(deep & (facet == f))
        ends.append(edge[at[np.argmax(depth[at])]])
    if np.hypot(*(ends[0] - ends[1])) > _NECK_CHORD * d:
        return None
    return ends


#: unit normals of supporting lines every 3.75 degrees (:func:`_shallow`)
_AROUND = np.stack([np.cos(np.arange(96) * np.pi / 48), np.sin(np.arange(96) * np.pi / 48)])


def _shallow(edge: np.ndarray, depth: float) -> bool:
    """True when no pixel of ``edge`` lies ``depth`` below the convex hull (then no neck).

    A pixel's depth below the hull is its distance to the nearest facet's line, at most
    its distance to any line that touches the pixels with all of them on one side: the
    lines of each normal of ``_AROUND`` through the pixel farthest along it. Certain when
    that bound is below ``depth`` by far more than rounding (qhull's facets and these
    lines agree to ~1e-12); saves the hull on most objects (88 of 102 on U2OS 1-4)."""
    along = edge @ _AROUND
    return bool((along.max(axis=0) - along).min(axis=1).max() < depth - 1e-6 * (1 + depth))


def _split_at_necks(labels, markers, d, origin=(0, 0)):
    """Split objects of more than ``_NECK_AREA`` nucleus areas (pi d^2 / 4) at their neck.

    Touching nuclei of the same brightness with no darker seam between them show no
    intensity cue (the cores and checks of ``_cues._split_clusters`` keep them whole), and
    the distance transform of a pair pressed together has almost no neck (a dynamic of
    about a pixel for a lobe of radius 8). Their outline does: it pinches in on both sides
    of the contact. An object with two deep concavities close together (:func:`_neck`) is
    cut along the chord between them if each side holds at least ``_NECK_PART`` nucleus
    areas (more on a long object, :func:`._long._part_too_small`); the pixels are then
    shared by a watershed of the object's distance transform from the two sides, and a
    side still above ``_NECK_AREA`` areas is looked at again.
    Per object, from its own outline: chunks with a margin give the same.

    ``origin``: the array's first pixel in the whole image (a chunk's window), at which the
    outlines are measured: the hull's facets and depths are then the same floats in a
    window as in the whole image (from the window's own pixels, their last bits differed
    and an equal-depth tie between two outline pixels cut a pair elsewhere).

    Returns the labels and the markers, a split object's markers replaced by one pixel per
    part (its largest distance to the outline).
    """
    n = int(labels.max())
    unit = np.pi * d * d / 4
    shift = np.asarray(origin, dtype=np.float64)
    big = np.bincount(labels.ravel(), minlength=n + 1) > _NECK_AREA * unit
    big[0] = False
    if not big.any():
        return labels, markers
    pad = np.pad(labels, 1)
    centre = pad[1:-1, 1:-1]
    edge = _per_label(big, labels) & ((pad[:-2, 1:-1] != centre) | (pad[2:, 1:-1] != centre)
                          | (pad[1:-1, :-2] != centre) | (pad[1:-1, 2:] != centre))
    rows, cols = _nonzero(edge)
    ids = labels[rows, cols]
    order = np.argsort(ids, kind="stable")
    points = np.stack([rows[order], cols[order]], axis=1).astype(np.float64)
    ids = ids[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    out, markers = labels.copy(), markers.copy()
    state = [n + 1, int(markers.max()) + 1]  # next label, next marker
    for a, b in zip(starts.tolist(), np.r_[starts[1:], ids.size].tolist(), strict=True):
        ends = _neck(points[a:b] + shift, d)
        if ends is not None:
            ends = [e - shift for e in ends]
            lo = points[a:b].min(axis=0).astype(int)
            hi = points[a:b].max(axis=0).astype(int) + 1
            _cut(out, markers, int(ids[a]), (slice(lo[0], hi[0]), slice(lo[1], hi[1])),
                 ends, unit, d, state, shift)
    return out, markers


def _cut(out, markers, i, box, ends, unit, d, state, shift=0.0):
    """Cut label ``i`` of ``out`` (in place, within ``box``) along the chord ``ends``."""
    from skimage.draw import line

    from ._basins import _watershed as watershed  # (skimage's, bit for bit)

    region, seeds_at = out[box], markers[box]
    obj = region == i
    origin = np.array([box[0].start, box[1].start])
    (r0, c0), (r1, c1) = (np.rint(e - origin).astype(int) for e in ends)
    cut = obj.copy()
    cut[line(r0, c0, r1, c1)] = False  # 8-connected: no 4-connected path crosses it
    pieces, k = ndi.label(cut)
    sizes = np.bincount(pieces.ravel(), minlength=k + 1)
    sizes[0] = 0
    two = np.argsort(sizes)[-2:]
    if k < 2 or _part_too_small(obj, sizes[two[0]], unit, _NECK_PART):
        return
    dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
    split = watershed(-dist, np.where(np.isin(pieces, two), pieces, 0), mask=obj)
    seeds_at[obj] = 0
    new = state[0]
    state[0] += 1
    region[split == two[0]] = new
    for j in (i, new):
        part = region == j
        seeds_at.flat[np.argmax(np.where(part, dist, -np.inf))] = state[1]
        state[1] += 1
        if part.sum() > _NECK_AREA * unit:  # three nuclei in a row: look again
            edge = _outline_points(part)
            again = _neck(edge + origin + shift, d)
            if again is not None:
                again = [e - shift for e in again]
                lo, hi = edge.min(axis=0).astype(int), edge.max(axis=0).astype(int) + 1
                _cut(out, markers, j, (slice(box[0].start + lo[0], box[0].start + hi[0]),
                                       slice(box[1].start + lo[1], box[1].start + hi[1])),
                     again, unit, d, state, shift)


#: objects above this many nucleus areas are looked at for a waist ...
_WAIST_AREA = 1.5
#: ... a narrowing of their width across their long axis at least this deep (x d) ...
_WAIST = 0.08
#: ... with at least this many nucleus areas on either side of it ...
_WAIST_PART = 0.6
#: ... among at least this many neighbours (labels within d/4 of its outline) ...
_WAIST_NEIGHBOURS = 2
#: ... whose median area is at least half a nucleus and this many times below its own
_WAIST_RATIO = 1.5


def _waist(points: np.ndarray, d: float):
    """Where an object narrows across its long axis: ``(axis, centre, position)`` of the
    cut (the object's pixels ``points``, rows of (row, col), go to either side of
    ``(points - centre) @ axis < position``), or None.

    Its width across the long axis (pixels per step of a pixel along it, smoothed over
    d/5) is looked at from both ends: the waist is the position where the width lies
    furthest below the widest point on either side. Two nuclei side by side narrow there
    from both sides together; one nucleus, however elongated or bent (a kidney narrows on
    one side, widens on the other), keeps its width or narrows towards its ends only.
    """
    centre = points.mean(axis=0)
    rel = points - centre
    _, vectors = np.linalg.eigh(rel.T @ rel)
    axis = vectors[:, 1]
    t = rel @ axis
    start = np.floor(t.min())
    bins = (t - start).astype(np.intp)
    width = np.bincount(bins).astype(np.float64)
    k = max(1, round(0.1 * d))
    width = ndi.uniform_filter1d(width, 2 * k + 1, mode="constant")
    left = np.maximum.accumulate(width)
    right = np.maximum.accumulate(width[::-1])[::-1]
    dips = np.minimum(left, right) - width
    at = int(np.argmax(dips))
    if dips[at] < _WAIST * d:
        return None
    return axis, centre, start + at + 0.5


def _above(labels, d, areas):
    """Each label's area (indexed by label), the nucleus area πd²/4 and the labels larger
    than ``areas`` nucleus areas."""
    sizes = np.bincount(labels.ravel(), minlength=int(labels.max()) + 1)
    unit = np.pi * d * d / 4
    return sizes, unit, np.flatnonzero(sizes[1:] > areas * unit) + 1


def _split_at_waists(labels, markers, d, find=ndi.find_objects):
    """Split objects of more than ``_WAIST_AREA`` nucleus areas at their waist.

    Two nuclei pressed together along a contact nearly as wide as they are pinch in too
    little on each side for :func:`_split_at_necks` (less than d/10, or on one side only),
    but their width across the pair's long axis still narrows at the contact, from both
    sides together (:func:`_waist`). Such an object is cut straight across there if it
    lies among nuclei much smaller than itself (:func:`_crowded`) and each side is one
    piece of at least ``_WAIST_PART`` nucleus areas; a side still above ``_WAIST_AREA``
    areas is looked at again. Per object, from its own pixels and its neighbours' areas:
    chunks with a margin give the same, but for an object whose area or whose neighbours'
    lies near a threshold, where the chunked foreground (cut from histograms) moves a few
    edge pixels.

    Returns the labels and the markers, a split object's markers replaced by one pixel per
    part (its largest distance to the outline). ``find``: ``ndi.find_objects`` or a
    :class:`_Boxes` (the same boxes).
    """
    sizes, unit, big = _above(labels, d, _WAIST_AREA)
    n = sizes.size - 1
    if not big.size:
        return labels, markers
    out, markers = labels.copy(), markers.copy()
    boxes = find(labels)
    state = [n + 1, int(markers.max()) + 1]  # next label, next marker
    reach = max(1, round(d / 4))
    for i in big.tolist():
        if _crowded(labels, i, boxes[i - 1], reach, sizes, unit):
            _cut_waist(out, markers, i, boxes[i - 1], unit, d, state)
    return out, markers


def _near_labels(labels, i, box, reach) -> np.ndarray:
    """The ids of the other labels within ``reach`` pixels of label ``i``'s outline
    (``box``: its slice in ``labels``)."""
    region = labels[_widened(box, reach, labels.shape)]
    obj = region == i
    near = np.unique(region[_crosses_dilated(obj, reach) & ~obj])
    return near[(near > 0) & (near != i)]


def _crowded(labels, i, box, reach, sizes, unit) -> bool:
    """Whether label ``i`` lies among at least ``_WAIST_NEIGHBOURS`` other labels within
    ``reach`` pixels of its outline, whose median area is at least half a nucleus
    (``unit``) and at most its own over ``_WAIST_RATIO``.

    A waist alone does not tell two nuclei from one: single nuclei pinched in the middle
    are common where nuclei are large and elongated (U2OS: as many such singles as merged
    pairs among objects of 1.5-3 nucleus areas). A merged pair in a dense field is twice
    the size of the nuclei around it; an isolated nucleus, or one beside debris, has no
    such neighbours to compare with and is left whole.
    """
    near = _near_labels(labels, i, box, reach)
    if near.size < _WAIST_NEIGHBOURS:
        return False
    typical = float(np.median(sizes[near]))
    return typical >= 0.5 * unit and sizes[i] >= _WAIST_RATIO * typical


def _cut_waist(out, markers, i, box, unit, d, state):
    """Cut label ``i`` of ``out`` (in place, within ``box``) at its waist, if it has one."""
    region, seeds_at = out[box], markers[box]
    obj = region == i
    points = np.transpose(_nonzero(obj)).astype(np.float64)  # (np.argwhere)
    cut = _waist(points, d)
    if cut is None:
        return
    axis, centre, position = cut
    side = (points - centre) @ axis < position
    if min(side.sum(), (~side).sum()) < _WAIST_PART * unit:
        return
    rows, cols = points.astype(np.intp).T
    for half in (side, ~side):  # a straight cut through a bent object: left whole
        piece = np.zeros(obj.shape, bool)
        piece[rows[half], cols[half]] = True
        if ndi.label(piece)[1] > 1:
            return
    new = state[0]
    state[0] += 1
    region[rows[side], cols[side]] = new
    dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
    seeds_at[obj] = 0
    for j in (i, new):
        part = region == j
        seeds_at.flat[np.argmax(np.where(part, dist, -np.inf))] = state[1]
        state[1] += 1
        if part.sum() > _WAIST_AREA * unit:  # three nuclei in a row: look again
            _cut_waist(out, markers, j, box, unit, d, state)


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
    with a margin give the same but near a threshold (see ``docs/nuclei.md``, round 7).
    Returns the labels and the markers, a split object's markers replaced by one pixel
    per part (its largest distance to the outline). ``find``: as :func:`_split_at_waists`.
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


def _typical_near(labels, i, box, reach, sizes, whole, among) -> float:
    """The median area of the labels within ``reach`` of label ``i``'s outline that are
    ``whole`` (not cut by the array's edge), or 0 with fewer than ``_MERGE_NEIGHBOURS``."""
    near = _near_labels(labels, i, box, reach)
    near = near[whole[near]]
    if near.size < among:
        return 0.0
    return float(np.median(sizes[near]))


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


#: crowded objects of at least this many nucleus areas ...
_PAIR_AREA = 1.0
#: ... among at least this many whole neighbours within d/2 ...
_PAIR_NEIGHBOURS = 4
#: ... at least this many times their median area are looked at for two nuclei by intensity,
_PAIR_RATIO = 1.25
#: ... a dimmer and a brighter one, each with a core at least this deep (x d) of at
#: least this share of the minimum size (``_recipe`` passes them to ``_cues._split_at_steps``)
_PAIR_CORE = 1 / 6
_PAIR_BODY = 0.2


def _crowded_pairs(labels, d, find=ndi.find_objects):
    """The labels that may hold two nuclei among a crowd of smaller ones: at least
    ``_PAIR_AREA`` nucleus areas and ``_PAIR_RATIO`` times the median area of at least
    ``_PAIR_NEIGHBOURS`` whole labels within d/2 of their outline (that median at least
    half a nucleus). ``find``: as :func:`_split_at_waists`."""
    sizes, unit, big = _above(labels, d, _PAIR_AREA)
    if not big.size:
        return big
    n = sizes.size - 1
    whole = np.ones(n + 1, dtype=bool)
    whole[_edge_ids(labels)] = False
    whole[0] = False
    boxes = find(labels)
    reach = max(1, round(d / 2))
    # a neighbour within reach has its box within reach of the object's box: count those
    # first (a few array operations) and measure only the objects with enough of them
    lo = np.array([(b[0].start, b[1].start) if b else (-10**9, -10**9) for b in boxes])
    hi = np.array([(b[0].stop, b[1].stop) if b else (-10**9, -10**9) for b in boxes])
    ids = np.flatnonzero(whole[1:])
    close = np.all((lo[None, ids] < hi[big - 1, None] + reach)
                   & (hi[None, ids] > lo[big - 1, None] - reach), axis=2)
    big = big[close.sum(axis=1) - whole[big] >= _PAIR_NEIGHBOURS]  # U2OS: few objects left
    out = []
    for i in big.tolist():
        box = boxes[i - 1]
        typical = _typical_near(labels, i, box, reach, sizes, whole, _PAIR_NEIGHBOURS)
        if typical >= 0.5 * unit and sizes[i] >= _PAIR_RATIO * typical:
            out.append(i)
    return np.array(out, dtype=np.intp)


class _Boxes:
    """``ndi.find_objects(labels)`` of a sequence of label images, each looked at in turn:
    the boxes of the last one again when the next is equal to it (same shape, type and
    values; a copy of it is kept), as it is after the steps that split nothing.

    ``find_objects`` reads every pixel (~0.2 ms on a U2OS working image), the comparison
    and the copy ~0.013 ms. Each call returns a new list (its caller may change it)."""

    def __init__(self):
        self._last = None

    def __call__(self, labels: np.ndarray) -> list:
        last = self._last
        if (last is not None and last[0].shape == labels.shape
                and last[0].dtype == labels.dtype and np.array_equal(last[0], labels)):
            return list(last[1])
        boxes = ndi.find_objects(labels)
        self._last = (labels.copy(), boxes)
        return list(boxes)
