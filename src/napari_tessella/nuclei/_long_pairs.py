"""Two touching nuclei left as one long label on a dense field: split where two ellipses fit.

At the end of the dense blurred path the largest error class is a merged pair (round 45:
4.9-6.7 per field on the tuning fields 6600-6639). Most have no seed, neck or valley of
their own (round 43), but their outline is not one ellipse: a large nucleus with a smaller
one overlapping its end is longer than a nucleus (axes of 1.7 : 1, median, against 1.3 for
single large nuclei) and departs from the ellipse of its own second moments (0.16 of its
area outside or missing, against 0.07), and a two-means cut of its pixels crosses it where
it is narrower than the parts are deep, or between parts of different brightness. See
``docs/nuclei.md``, round 45 (pair2).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids
from ._shape import _kmeans_parts, _near_labels
from ._small import _with_new_peaks

#: a label is looked at when its area is at least this many times the median area of the
#: whole labels within d/2 of its outline ...
_PAIR_RATIO = 1.1
#: ... of which there are at least this many ...
_PAIR_NEIGHBOURS = 2
#: ... if its long axis is at least this many times its short one (second moments) ...
_PAIR_AXES = 1.6
#: ... and at least this share of its area lies outside the ellipse of the same moments,
#: or of that ellipse outside it (a single nucleus's wavy outline: 0.07, median)
_PAIR_MISFIT = 0.10
#: the cut between the two parts is at most this many times the smaller part's inscribed
#: diameter long (a neck: 1.1 for merged pairs, 1.4 for single nuclei, median) ...
_PAIR_CUT = 1.0
#: ... or the dimmer part's light (its upper quartile over the background) is at most this
#: share of the brighter one's (two nuclei of their own brightness: 0.87, one: 0.96)
_PAIR_DIMMER = 0.85
#: each part holds at least this share of the neighbours' median area
_PAIR_PART = 0.4
#: rounds of the two-ellipse fit of the parts (it settles in a few)
_FIT_ROUNDS = 15


def _ellipse_misfit(obj) -> tuple[float, float]:
    """The pixels where ``obj`` and the ellipse of its second moments (axes twice the
    square roots of the eigenvalues) disagree, over its area; and the axes' ratio."""
    points = np.argwhere(obj).astype(np.float64)
    centre = points.mean(axis=0)
    spread = points - centre
    values, vectors = np.linalg.eigh(spread.T @ spread / len(points))
    long, short = 2 * np.sqrt(values[1]), 2 * np.sqrt(max(values[0], 1e-9))
    rows, cols = np.indices(obj.shape, dtype=np.float64)
    rows -= centre[0]
    cols -= centre[1]
    along = rows * vectors[0, 1] + cols * vectors[1, 1]
    across = rows * vectors[0, 0] + cols * vectors[1, 0]
    ellipse = (along / long) ** 2 + (across / short) ** 2 <= 1
    return float((obj ^ ellipse).sum()) / len(points), long / short


def _two_ellipses(points, parts):
    """The parts (0/1) of ``points`` refitted as two ellipses: each point goes to the
    Gaussian (mean, covariance and share of its part) under which it is likelier, for
    ``_FIT_ROUNDS`` rounds or until no point moves; None when a part runs empty.

    Two-means cuts a pair across its middle; a large nucleus with a smaller one at its
    end is cut nearer the smaller one's centre by this fit."""
    for _ in range(_FIT_ROUNDS):
        scores = []
        for j in (0, 1):
            own = points[parts == j]
            if len(own) < 5:
                return None
            spread = np.cov(own.T) + 0.5 * np.eye(2)  # a pixel's own spread: never flat
            off = points - own.mean(axis=0)
            far = np.einsum("ij,jk,ik->i", off, np.linalg.inv(spread), off)
            scores.append(-0.5 * far - 0.5 * np.log(np.linalg.det(spread))
                          + np.log(len(own) / len(points)))
        new = np.argmax(scores, axis=0)
        if np.array_equal(new, parts):
            break
        parts = new
    return parts


def _two_parts(obj, typical, light):
    """The part (0/1) of each pixel of ``obj`` (``np.argwhere`` order): two-means
    (``._shape._kmeans_parts``) refitted as two ellipses (:func:`_two_ellipses`). None when
    a part is under ``_PAIR_PART`` of ``typical`` or not one piece, or when the cut between
    them is longer than ``_PAIR_CUT`` times the smaller inscribed diameter and the parts'
    light (``light``: over the background, an image over ``obj``'s box) differs by less
    than ``_PAIR_DIMMER``."""
    points = np.argwhere(obj)
    parts = _kmeans_parts(points.astype(np.float64), obj, 2)
    if parts is not None:
        parts = _two_ellipses(points.astype(np.float64), parts)
    if parts is None or np.bincount(parts, minlength=2).min() < _PAIR_PART * typical:
        return None
    first = np.zeros(obj.shape, bool)
    first[tuple(points[parts == 0].T)] = True
    second = obj & ~first
    if ndi.label(first)[1] != 1 or ndi.label(second)[1] != 1:
        return None
    cut = int((first & ndi.binary_dilation(second)).sum())
    deep = min(ndi.distance_transform_edt(np.pad(p, 1)).max() for p in (first, second))
    if cut <= _PAIR_CUT * 2 * deep:
        return parts
    upper = [np.percentile(light[p], 75) for p in (first, second)]
    return parts if min(upper) <= _PAIR_DIMMER * max(upper) else None


def _split_long_pairs(labels, smooth, level, d, first):
    """Split the labels that two ellipses fit better than one into two, by two-means.

    A label at least ``_PAIR_RATIO`` times the median area of the whole labels within d/2
    of it (at least ``_PAIR_NEIGHBOURS``), with axes of at least ``_PAIR_AXES`` : 1 and an
    outline that misses the ellipse of its moments by ``_PAIR_MISFIT`` of its area
    (:func:`_ellipse_misfit`), is cut in two by :func:`_two_parts` (its light: ``smooth``
    over the background ``level``); the second part takes a new label from ``first`` on.
    Per label, from its pixels and its neighbours' areas.

    Returns the labels (a copy when any was cut) and an (n, 2) array of one pixel per new
    label (its deepest, for a marker)."""
    sizes = np.bincount(labels.ravel())
    if sizes.size < 2:
        return labels, np.zeros((0, 2), np.intp)
    whole = np.ones(sizes.size, bool)
    whole[_edge_ids(labels)] = False
    reach = max(1, round(d / 2))
    boxes = ndi.find_objects(labels)
    out, points, new = labels, [], first
    for i in np.flatnonzero(sizes[1:]).tolist():
        i += 1
        box = boxes[i - 1]
        obj = labels[box] == i
        near = _near_labels(labels, i, box, reach)
        near = near[whole[near]]
        if near.size < _PAIR_NEIGHBOURS:
            continue
        typical = float(np.median(sizes[near]))
        if sizes[i] < _PAIR_RATIO * typical:
            continue
        misfit, axes = _ellipse_misfit(obj)
        if axes < _PAIR_AXES or misfit < _PAIR_MISFIT:
            continue
        parts = _two_parts(obj, typical, smooth[box] - level)
        if parts is None:
            continue
        if out is labels:
            out = labels.copy()
        at = np.argwhere(obj)[parts == 1]
        part = np.zeros(obj.shape, bool)
        part[tuple(at.T)] = True
        out[box][part] = new
        depth = ndi.distance_transform_edt(np.pad(part, 1))[1:-1, 1:-1]
        deepest = np.unravel_index(np.argmax(depth), part.shape)
        points.append((box[0].start + deepest[0], box[1].start + deepest[1]))
        new += 1
    return out, np.array(points, np.intp).reshape(-1, 2)


def _with_long_pairs(labels, markers, peak, smooth, level, d):
    """:func:`_split_long_pairs` of ``labels``, with a marker at each new label's deepest
    pixel and its peak (its largest ``smooth``); and whether any was cut."""
    first = max(peak.size, int(labels.max()) + 1)
    labels, points = _split_long_pairs(labels, smooth, level, d, first)
    if not len(points):
        return labels, markers, peak, False
    new = np.arange(first, first + len(points))
    markers = markers.copy()
    markers[points[:, 0], points[:, 1]] = int(markers.max()) + 1 + np.arange(len(points))
    peak = _with_new_peaks(peak, first, smooth, labels, new)
    return labels, markers, peak, True
