"""Two touching nuclei left as one label on a dense field: cut where the label shows a seam.

The largest error class left on the dense blurred path is a merged pair (round 45: 4.9-6.7
per field); the outline's fit to one ellipse alone cut single nuclei too (round 45, pair2).
Here a label is cut by two ellipses fitted to its pixels, and the cut is kept only where the
label itself shows two nuclei across it: the label and the isophote of its light at half the
dimmer part's peak are both narrower there than their convex hulls (notched, the outline at
both ends of the cut), the light along the cut is below both parts' own, and the cut is
shorter than the smaller part is deep. See ``docs/nuclei-history.md``, round 46 (pair3).
Round 47 (pairs): where the two ellipses show no seam, the straight cut between two
notches of the outline is read the same way, and a label with too few whole neighbours
within d/2 (at the image's edge) reads them within d.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import convex_hull_image

from .._label_image import _crosses_dilated, _edge_ids
from ._merges import _kmeans_parts
from ._shape import _typical_near
from ._small import _with_new_labels

#: a label is looked at when its area is at least this many times the median area of the
#: whole labels within d/2 of its outline ...
_SEAM_RATIO = 1.1
#: ... of which there are at least this many
_SEAM_NEIGHBOURS = 2
#: a label with fewer such neighbours (most at the image's edge: a third of the merged
#: labels at the step on round 47's tuning fields at PSF x2) takes their median area from
#: within this many times d/2 instead
_SEAM_WIDER = 2
#: each part holds at least this share of the neighbours' median area
_SEAM_PART = 0.35
#: the label's width along the cut over its convex hull's there is at most this (a waist:
#: 0.84 for merged pairs, 0.95 for single nuclei, median, round 46's tuning fields) ...
_SEAM_WAIST = 0.9
#: ... but at least this (narrower, the label is pieces joined by a thread, not two nuclei
#: pressed together: on the tuning fields 9 of the 29 single nuclei cut, 2 of 58 pairs)
_SEAM_THREAD = 0.6
#: ... and its outline lies at least this many pixels inside the hull at both ends of the cut
_SEAM_NOTCH = 0.5
#: the isophote at this share of the dimmer part's peak light ...
_SEAM_ISO = 0.5
#: ... is along the cut at most this share of its convex hull's width (0.82 against 0.95)
_SEAM_ISO_WAIST = 0.85
#: the mean light along the cut over the dimmer part's peak is at most this (0.76 / 0.83)
_SEAM_DARK = 0.85
#: the cut is at most this many times the smaller part's inscribed diameter (1.2 / 1.4)
_SEAM_NECK = 1.1
#: the cut between two notches of the outline is looked for among this many deepest ones
_NOTCHES = 4
#: rounds of the two-ellipse fit of the parts (it settles in a few)
_FIT_ROUNDS = 15


def _cov(own, centre):
    """``np.cov(own.T)`` of (n, 2) float points whose mean is ``centre``, by numpy's own
    steps without its checks (the fit calls it thousands of times per dense field; the
    same numbers to the bit: ``own.mean(axis=0)`` sums in the order ``np.cov`` does)."""
    spread = own.T.astype(np.float64)
    spread -= centre[:, None]
    out = np.dot(spread, spread.T)
    out *= np.true_divide(1, len(own) - 1)
    return out


def _two_ellipses(points, parts):
    """The parts (0/1) of ``points`` refitted as two ellipses: each point goes to the
    Gaussian (mean, covariance and share of its part) under which it is likelier, for
    ``_FIT_ROUNDS`` rounds or until no point moves; None when a part runs empty."""
    flat = 0.5 * np.eye(2)  # a pixel's own spread: never flat
    for _ in range(_FIT_ROUNDS):
        sizes, centres, spreads = [], [], np.empty((2, 2, 2))
        for j in (0, 1):
            own = points[parts == j]
            if len(own) < 5:
                return None
            centres.append(own.mean(axis=0))
            spreads[j] = _cov(own, centres[j]) + flat
            sizes.append(len(own))
        inverse, dets = np.linalg.inv(spreads), np.linalg.det(spreads)  # both at once
        scores = []
        for j in (0, 1):
            off = points - centres[j]
            far = np.einsum("ij,jk,ik->i", off, inverse[j], off)
            scores.append(-0.5 * far - 0.5 * np.log(dets[j])
                          + np.log(sizes[j] / len(points)))
        new = np.argmax(scores, axis=0)
        if np.array_equal(new, parts):
            break
        parts = new
    return parts


def _waist(mask, normal, strip, hull=None) -> tuple[float, float]:
    """Of ``mask`` across the one-pixel strip ``floor(pixel @ normal) == strip``: its width
    over its convex hull's, and how far inside the hull its outline lies at the shallower
    end (pixels; 99 where the strip misses ``mask``). ``hull``: ``mask``'s convex hull,
    when the caller has it."""
    across_normal = np.array([-normal[1], normal[0]])
    ends = []
    for each in (mask, convex_hull_image(mask) if hull is None else hull):
        points = np.argwhere(each).astype(np.float64)
        on = np.floor(points @ normal) == strip
        across = points[on] @ across_normal
        ends.append((int(on.sum()), across.min() if on.any() else 0.0,
                     across.max() if on.any() else 0.0))
    (count, low, high), (wide, hull_low, hull_high) = ends
    if not count:
        return 0.0, 99.0
    return count / max(wide, 1), float(min(low - hull_low, hull_high - high))


def _notch_cut(obj, least, hull):
    """``obj`` cut in two along the straight line between two notches of its outline: the
    second part's mask, or None.

    The notches are the pieces of its convex hull outside it; of the ``_NOTCHES`` deepest
    (their deepest outline pixel's distance to the hull's outside), the pair whose nearest
    outline pixels (among those at least half the notch's depth) are joined by the line
    of most depth (the shallower notch's) per length, with each side at least ``least``
    pixels and one piece; a notch under ``_SEAM_NOTCH`` deep does not count (the seam
    test needs that much at both ends). ``hull``: ``obj``'s convex hull. Unlike the two
    ellipses it can cut a smaller nucleus off a larger one's end (round 47)."""
    notches, n = ndi.label(hull & ~obj)
    if n < 2:
        return None
    depth = ndi.distance_transform_edt(hull)
    edge = obj & _crosses_dilated(~obj, 1)
    beside = ndi.grey_dilation(notches, footprint=np.ones((3, 3))) * edge
    ends = []
    for j in range(1, n + 1):
        pixels = np.argwhere(beside == j)
        deep = depth[tuple(pixels.T)]
        if len(pixels) and deep.max() >= 1 + _SEAM_NOTCH:  # the hull's own outline: 1
            ends.append((float(deep.max()), pixels[deep >= 0.5 * deep.max()]))
    if len(ends) < 2:  # a seam needs a notch at both ends of its cut
        return None
    ends.sort(key=lambda end: -end[0])  # stable: ties in the notches' raster order
    ends = ends[:_NOTCHES]
    points = np.argwhere(obj).astype(np.float64)
    best, out = 0.0, None
    for x in range(len(ends)):
        for y in range(x + 1, len(ends)):
            (deep_p, at_p), (deep_q, at_q) = ends[x], ends[y]
            apart = np.hypot(*(at_p[:, None, :] - at_q[None, :, :]).transpose(2, 0, 1))
            a, b = np.unravel_index(np.argmin(apart), apart.shape)
            score = min(deep_p, deep_q) / max(float(apart[a, b]), 1.0)
            if score <= best:
                continue
            p, line = at_p[a].astype(np.float64), (at_q[b] - at_p[a]).astype(np.float64)
            side = (points[:, 0] - p[0]) * line[1] - (points[:, 1] - p[1]) * line[0] > 0
            if min(int(side.sum()), int((~side).sum())) < least:
                continue
            second = np.zeros(obj.shape, bool)
            second[tuple(points[side].astype(np.intp).T)] = True
            if ndi.label(second)[1] != 1 or ndi.label(obj & ~second)[1] != 1:
                continue
            best, out = score, second
    return out


def _shows_seam(obj, light, second, hull) -> bool:
    """Whether ``obj`` shows two nuclei across its cut into ``second`` and the rest: the
    label's waist and notches on the straight strip across the line between the parts'
    centres, through the cut's middle (:func:`_waist`, ``_SEAM_THREAD`` to
    ``_SEAM_WAIST``, ``_SEAM_NOTCH``), the waist of the isophote at ``_SEAM_ISO`` of the
    dimmer part's peak (``_SEAM_ISO_WAIST``), the strip's mean light over that peak
    (``_SEAM_DARK``) and the cut's length over the smaller part's inscribed diameter
    (``_SEAM_NECK``). ``hull``: ``obj``'s convex hull."""
    first = obj & ~second
    points = np.argwhere(obj)
    where = points.astype(np.float64)
    parts = second[tuple(points.T)].astype(np.intp)
    cut = first & _crosses_dilated(second, 1)
    if not cut.any():  # the parts meet at a corner only: no seam across them to read
        return False
    deep = min(ndi.distance_transform_edt(p).max() for p in (first, second))
    if cut.sum() > _SEAM_NECK * 2 * deep:
        return False
    axis = where[parts == 1].mean(axis=0) - where[parts == 0].mean(axis=0)
    normal = axis / max(float(np.hypot(*axis)), 1e-12)
    strip = np.floor(np.argwhere(cut).mean(axis=0) @ normal)
    waist, notch = _waist(obj, normal, strip, hull)
    if not _SEAM_THREAD <= waist <= _SEAM_WAIST or notch < _SEAM_NOTCH:
        return False
    values = light[tuple(points.T)]
    peak = min(values[parts == 0].max(), values[parts == 1].max())
    on = np.floor(where @ normal) == strip
    if peak <= 0 or not on.any() or values[on].mean() > _SEAM_DARK * peak:
        return False
    iso = obj & (light >= _SEAM_ISO * peak)
    return _waist(iso, normal, strip)[0] <= _SEAM_ISO_WAIST


def _seam_cut(obj, light, least):
    """``obj`` (a padded box; ``light`` over the background) cut in two where it shows two
    nuclei: the second part's mask, or None.

    The parts are two-means refitted as two ellipses (:func:`_two_ellipses`), each of at
    least ``least`` pixels and one piece; where they show no seam (:func:`_shows_seam`),
    the cut between two notches of the outline (:func:`_notch_cut`) is read the same way."""
    points = np.argwhere(obj)
    where = points.astype(np.float64)
    hull = convex_hull_image(obj)  # read by both cuts
    parts = _kmeans_parts(where, obj, 2)
    if parts is not None:
        parts = _two_ellipses(where, parts)
    if parts is not None and np.bincount(parts, minlength=2).min() >= least:
        second = np.zeros(obj.shape, bool)
        second[tuple(points[parts == 1].T)] = True
        if (ndi.label(second)[1] == 1 and ndi.label(obj & ~second)[1] == 1
                and _shows_seam(obj, light, second, hull)):
            return second
    second = _notch_cut(obj, least, hull)
    return second if second is not None and _shows_seam(obj, light, second, hull) else None


def _seam_candidates(labels, d):
    """Per label looked at: (id, its box padded by one pixel, the neighbours' median
    area); those at least ``_SEAM_RATIO`` times it, with ``_SEAM_NEIGHBOURS`` whole ones
    within d/2 (or, with fewer there, within ``_SEAM_WIDER`` times that)."""
    sizes = np.bincount(labels.ravel())
    if sizes.size < 2:
        return
    whole = np.ones(sizes.size, bool)
    whole[_edge_ids(labels)] = False
    reach = max(1, round(d / 2))
    boxes = ndi.find_objects(labels)
    for i in np.flatnonzero(sizes[1:]).tolist():
        i += 1
        box = boxes[i - 1]
        typical = _typical_near(labels, i, box, reach, sizes, whole, _SEAM_NEIGHBOURS)
        if not typical:  # at the image's edge or a cluster's rim: the neighbours farther out
            typical = _typical_near(labels, i, box, _SEAM_WIDER * reach, sizes, whole,
                                    _SEAM_NEIGHBOURS)
        if not typical or sizes[i] < _SEAM_RATIO * typical:  # 0: too few whole neighbours
            continue
        box = tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n))
                    for s, n in zip(box, labels.shape, strict=True))
        yield i, box, typical


def _split_seam_pairs(labels, smooth, level, d, first):
    """Cut the labels that show two nuclei across a seam (:func:`_seam_cut`) in two; the
    second part takes a new label from ``first`` on. Per label, from its pixels, its light
    (``smooth`` over the background ``level``) and its neighbours' areas.

    Returns the labels (a copy when any was cut) and an (n, 2) array of one pixel per new
    label (its deepest, for a marker)."""
    out, points, new = labels, [], first
    for i, box, typical in _seam_candidates(labels, d):
        obj = labels[box] == i
        second = _seam_cut(obj, smooth[box] - level, _SEAM_PART * typical)
        if second is None:
            continue
        if out is labels:
            out = labels.copy()
        out[box][second] = new
        depth = ndi.distance_transform_edt(second)
        deepest = np.unravel_index(np.argmax(depth), second.shape)
        points.append((box[0].start + deepest[0], box[1].start + deepest[1]))
        new += 1
    return out, np.array(points, np.intp).reshape(-1, 2)


def _with_seam_pairs(labels, markers, peak, smooth, level, d):
    """:func:`_split_seam_pairs` of ``labels``, with a marker at each new label's deepest
    pixel and its peak (its largest ``smooth``); and whether any was cut."""
    return _with_new_labels(_split_seam_pairs, labels, markers, peak, smooth, level, d)
