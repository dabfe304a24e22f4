"""Blurred pairs: two touching nuclei of a dense blurred field kept as one label (issue 14,
round 24).

In a dense field blurred by a wide PSF two touching nuclei often show no intensity valley,
no neck and no curvature maximum of their own (round 16's and round 23's measurements in
``docs/nuclei-history.md``): the merged label is nearly convex and every split by intensity or
curvature fails on it. What it still shows, measured on the tuning fields (challenge-like
seeds 111-116 at PSF x2, x1.5, x1, the final labels): its area is that of a long shape, not
of a round one. A merged pair's area is a median 1.85 times that of its largest inscribed
disc (a single nucleus of the same fields 1.41; the singles' 90th percentile 1.83), it is
at least 1.3 nucleus areas (``pi d^2 / 4``, d the field's estimated diameter) and a little
concave (solidity at most 0.94).

:func:`_split_blurred_pairs` cuts such a label straight across its long axis (the second
moments of its pixels), where its chord is shortest within its middle (each side at least
``_SIDE`` of it), and keeps the cut when each side is one piece and nucleus-like
(solidity at least ``_PART_SOLIDITY``). Straight, not a watershed: the pair has no neck
or valley for a watershed to follow, and a straight cut decides no pixel by raster order
(a chord tied with its mirror image moves the cut midway between them, to the label's
centre; a pixel on the cut itself leaves the label whole).

It runs only on dense blurred fields (:func:`._background._shoulder_gate`, as
:mod:`._shoulders`): elongated single nuclei of sparse fields have the same shape.
Per label, from its own pixels and the field's diameter only, so the chunked path's
windows (which hold every blob near their core whole) give the in-memory labels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids
from ._merges import _solidity
from ._small import _with_new_peaks

#: labels of at least this many nucleus areas (pi d^2 / 4) ...
_AREA = 1.3
#: ... whose area is at least this many times that of their largest inscribed disc ...
_FILL = 1.8
#: ... and whose solidity is at most this ...
_SOLIDITY = 0.94
#: ... are cut across their long axis where the chord is shortest, each side at least
#: this share of the label ...
_SIDE = 0.3
#: ... if each side is one piece of at least this solidity
_PART_SOLIDITY = 0.85
#: the long axis' coordinates are rounded to this many decimals, so that a mirrored label
#: gives the mirrored coordinates bit for bit (ties on the cut are then ties both ways)
_DECIMALS = 6


def _split_blurred_pairs(labels, d, first, border=(True, True, True, True)):
    """Cut the labels that hold two blurred nuclei in two (see the module's docstring).

    Labels on the image border (``border``: which sides of the array are) are left
    whole (their shape is not theirs). Returns the labels (new ids from
    ``labels.max() + 1`` on, a copy when any label was cut) and, per cut, the label cut and
    the new label's id."""
    sizes = np.bincount(labels.ravel())
    unit = np.pi * d * d / 4
    big = np.flatnonzero(sizes[1:] >= _AREA * unit) + 1
    if not big.size:
        return labels, []
    big = big[~np.isin(big, _edge_ids(labels, border))]
    boxes = ndi.find_objects(labels)
    out, cuts = labels, []
    nxt = first
    for i in big.tolist():
        box = boxes[i - 1]
        obj = labels[box] == i
        side = _cut(obj, sizes[i])
        if side is None:
            continue
        if out is labels:
            out = labels.copy()
        out[box][side] = nxt
        cuts.append((i, nxt))
        nxt += 1
    return out, cuts


def _cut(obj, area):
    """The pixels of one side of the straight cut of ``obj`` (a boolean array of its box),
    or None when the object is not a blurred pair or no cut qualifies."""
    dist = ndi.distance_transform_edt(np.pad(obj, 1))[1:-1, 1:-1]
    if area < _FILL * np.pi * float(dist.max()) ** 2:
        return None  # one disc covers most of it: round, not two nuclei
    points = np.argwhere(obj).astype(np.float64)
    if _solidity(points) > _SOLIDITY:
        return None
    q = points - points.mean(axis=0)
    w, v = np.linalg.eigh(q.T @ q)
    if w[1] <= w[0] * (1 + 1e-6):
        return None  # no long axis
    t = np.round(q @ v[:, 1], _DECIMALS)
    n = t.size
    best, tied = None, False
    for t0 in np.arange(np.ceil(t.min()) + 0.5, t.max(), 1.0):
        below = int((t < t0).sum())
        if min(below, n - below) < _SIDE * n or np.any(t == t0):
            continue
        off = np.abs(t - t0)
        chord = float((off < 0.5).sum() + 0.5 * (off == 0.5).sum())
        key = (chord, abs(float(t0)), -min(below, n - below))
        if best is None or key < best[0]:
            best, tied = (key, t0), False
        elif key == best[0]:
            tied = True  # the same at the mirrored place (-t0): cut midway, at 0
    if best is None:
        return None
    t0 = 0.0 if tied else best[1]
    if tied and np.any(t == t0):
        return None  # a pixel on the cut of a symmetric object: no side to give it
    side = t < t0
    rows, cols = points.astype(np.intp).T
    for half in (side, ~side):
        piece = np.zeros(obj.shape, bool)
        piece[rows[half], cols[half]] = True
        if ndi.label(piece)[1] != 1 or _solidity(points[half]) < _PART_SOLIDITY:
            return None
    out = np.zeros(obj.shape, bool)
    out[rows[side], cols[side]] = True
    return out


def _with_pairs(labels, markers, peak, smooth, d, border):
    """:func:`_split_blurred_pairs` of ``labels``, each cut label's markers
    replaced by one per side (its largest distance to the outline) and the new side's
    peak its largest ``smooth`` (as :func:`._recipe._with_shoulders`); and whether any was
    cut."""
    first = max(peak.size, int(labels.max()) + 1)
    labels, cuts = _split_blurred_pairs(labels, d, first, border)
    if not cuts:
        return labels, markers, peak, False
    new = np.array([j for _, j in cuts])
    peak = _with_new_peaks(peak, first, smooth, labels, new)
    markers = markers.copy()
    boxes = ndi.find_objects(labels)
    nxt = int(markers.max()) + 1
    for i, j in cuts:
        box = tuple(slice(min(a.start, b.start), max(a.stop, b.stop))
                    for a, b in zip(boxes[i - 1], boxes[j - 1], strict=True))
        region, seeds_at = labels[box], markers[box]
        seeds_at[(region == i) | (region == j)] = 0
        for k in (i, j):
            part = region == k
            dist = ndi.distance_transform_edt(np.pad(part, 1))[1:-1, 1:-1]
            seeds_at.flat[np.argmax(dist)] = nxt
            nxt += 1
    return labels, markers, peak, True
