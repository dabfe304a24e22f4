"""Shape cues of the default nuclei recipe for dense fields of touching nuclei (issue 14):
which holes of the foreground to fill, where a pair of touching nuclei with no darker
seam between them shows a neck or a waist, and which crowded objects may hold two nuclei
(their area against their neighbours'; those that hold several, split by k-means:
:mod:`._merges`). Per object, at the working resolution; kept apart from :mod:`._recipe`,
which calls them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _crosses_dilated, _edge_ids, _nonzero, _per_label, _widened
from ._cues import _fill_holes
from ._long import _part_too_small

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


def _typical_near(labels, i, box, reach, sizes, whole, among) -> float:
    """The median area of the labels within ``reach`` of label ``i``'s outline that are
    ``whole`` (not cut by the array's edge), or 0 with fewer than ``among`` of them."""
    near = _near_labels(labels, i, box, reach)
    near = near[whole[near]]
    if near.size < among:
        return 0.0
    return float(np.median(sizes[near]))


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


def _whole_labels(labels, n: int) -> np.ndarray:
    """Per label 0..n of ``labels``, whether it is whole: it touches no side of the array
    (a nucleus cut by the edge shows only part of its area; 0: never)."""
    whole = np.ones(n + 1, dtype=bool)
    whole[_edge_ids(labels)] = False
    whole[0] = False
    return whole


def _crowded_pairs(labels, d, find=ndi.find_objects):
    """The labels that may hold two nuclei among a crowd of smaller ones: at least
    ``_PAIR_AREA`` nucleus areas and ``_PAIR_RATIO`` times the median area of at least
    ``_PAIR_NEIGHBOURS`` whole labels within d/2 of their outline (that median at least
    half a nucleus). ``find``: as :func:`_split_at_waists`."""
    sizes, unit, big = _above(labels, d, _PAIR_AREA)
    if not big.size:
        return big
    n = sizes.size - 1
    whole = _whole_labels(labels, n)
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
