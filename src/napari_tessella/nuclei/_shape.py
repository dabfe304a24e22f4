"""Shape cues of the default nuclei recipe for dense fields of touching nuclei (issue 14):
which holes of the foreground to fill, and where a pair of touching nuclei with no darker
seam between them shows a neck. Per object, at the working resolution; kept apart from
:mod:`._recipe`, which calls them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._cues import _fill_holes

#: holes of the foreground are filled up to this share of a nucleus's area (pi d^2 / 4)
_HOLE = 0.25
#: objects above this many nucleus areas are looked at for a neck ...
_NECK_AREA = 1.5
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
    return np.argwhere(mask & ~inner).astype(np.float64)


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


def _split_at_necks(labels, markers, d):
    """Split objects of more than ``_NECK_AREA`` nucleus areas (pi d^2 / 4) at their neck.

    Touching nuclei of the same brightness with no darker seam between them show no
    intensity cue (the cores and checks of ``_cues._split_clusters`` keep them whole), and
    the distance transform of a pair pressed together has almost no neck (a dynamic of
    about a pixel for a lobe of radius 8). Their outline does: it pinches in on both sides
    of the contact. An object with two deep concavities close together (:func:`_neck`) is
    cut along the chord between them if each side holds at least ``_NECK_PART`` nucleus
    areas; the pixels are then shared by a watershed of the object's distance transform
    from the two sides, and a side still above ``_NECK_AREA`` areas is looked at again.
    Per object, from its own outline: chunks with a margin give the same.

    Returns the labels and the markers, a split object's markers replaced by one pixel per
    part (its largest distance to the outline).
    """
    n = int(labels.max())
    unit = np.pi * d * d / 4
    big = np.bincount(labels.ravel(), minlength=n + 1) > _NECK_AREA * unit
    big[0] = False
    if not big.any():
        return labels, markers
    pad = np.pad(labels, 1)
    centre = pad[1:-1, 1:-1]
    edge = big[labels] & ((pad[:-2, 1:-1] != centre) | (pad[2:, 1:-1] != centre)
                          | (pad[1:-1, :-2] != centre) | (pad[1:-1, 2:] != centre))
    rows, cols = np.nonzero(edge)
    ids = labels[rows, cols]
    order = np.argsort(ids, kind="stable")
    points = np.stack([rows[order], cols[order]], axis=1).astype(np.float64)
    ids = ids[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    out, markers = labels.copy(), markers.copy()
    state = [n + 1, int(markers.max()) + 1]  # next label, next marker
    for a, b in zip(starts.tolist(), np.r_[starts[1:], ids.size].tolist(), strict=True):
        ends = _neck(points[a:b], d)
        if ends is not None:
            lo = points[a:b].min(axis=0).astype(int)
            hi = points[a:b].max(axis=0).astype(int) + 1
            _cut(out, markers, int(ids[a]), (slice(lo[0], hi[0]), slice(lo[1], hi[1])),
                 ends, unit, d, state)
    return out, markers


def _cut(out, markers, i, box, ends, unit, d, state):
    """Cut label ``i`` of ``out`` (in place, within ``box``) along the chord ``ends``."""
    from skimage.draw import line
    from skimage.segmentation import watershed

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
    if k < 2 or sizes[two[0]] < _NECK_PART * unit:
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
            again = _neck(edge + origin, d)
            if again is not None:
                lo, hi = edge.min(axis=0).astype(int), edge.max(axis=0).astype(int) + 1
                _cut(out, markers, j, (slice(box[0].start + lo[0], box[0].start + hi[0]),
                                       slice(box[1].start + lo[1], box[1].start + hi[1])),
                     again, unit, d, state)
