"""Labels that lie between nuclei on dense blurred fields, given back to their neighbours
(issue 14, round 31).

On the challenge-like fields blurred by a wide PSF the seeding leaves some labels that
hold no nucleus of their own: a piece cut out where two or three nuclei meet, made of their
flanks (round 31 in ``docs/nuclei-history.md``: about 5 a field, each holding no true nucleus's
centre). Such a label is small, is hemmed in by other labels along most of its outline, and
its brightest pixel lies at its outline, not inside it: the light rises into a neighbour,
whose flank it is. A nucleus of its own, even a dim one pressed between brighter ones, has
its dome's top inside it.

:func:`_drop_between` takes the labels of at most ``_AREA`` nucleus areas whose outer ring
(8-neighbours) lies at least ``_CONTACT`` on other labels and whose brightest pixel of
``smooth`` lies at most ``_DEPTH`` of the label's largest inner distance in from its
outline, and gives each of their pixels to the touching kept label whose pixels are
strictly nearest (Euclidean); a tie goes to the larger of the tied labels, and stays with
neither when they are as large (no raster-order tie break: a flipped or turned image gives
the flipped or turned labels). Per label and its neighbours, from their pixels: the
chunked path's windows (which hold every blob near their core whole) give the in-memory
labels. It runs only on dense blurred fields (:func:`._background._shoulder_gate`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _square_dilated, _widened
from ._bisect import _inner_distance

#: a label at most this many nucleus areas (pi d^2 / 4)
_AREA = 0.8
#: its outer ring at least this share on other labels
_CONTACT = 0.6
#: its brightest pixel at most this share of its largest inner distance in
_DEPTH = 0.4


def _between_ids(labels, smooth, d):
    """The ids of the labels that lie between nuclei (see the module's docstring)."""
    n = int(labels.max())
    if n < 2:
        return np.zeros(0, np.int64)
    area = np.bincount(labels.ravel(), minlength=n + 1)
    small = np.flatnonzero(area <= _AREA * np.pi * d * d / 4)
    small = small[(small > 0) & (area[small] > 0)]
    if not small.size:
        return small
    boxes = ndi.find_objects(labels)
    inner = None
    out = []
    for i in small:
        box = _widened(boxes[i - 1], 1, labels.shape)
        region = labels[box]
        own = region == i
        ring = _square_dilated(own) & ~own
        if not ring.any() or np.count_nonzero(region[ring] > 0) < _CONTACT * ring.sum():
            continue
        if inner is None:
            inner = _inner_distance(labels)
        depth = inner[box][own]
        values = np.asarray(smooth[box], dtype=np.float64)[own]
        top = values == values.max()
        if depth[top].max() <= _DEPTH * depth.max():
            out.append(i)
    return np.asarray(out, np.int64)


def _drop_between(labels, smooth, d):
    """``labels`` with the labels between nuclei given to their neighbours (see the
    module's docstring); and whether any was."""
    ids = _between_ids(labels, smooth, d)
    if not ids.size:
        return labels, False
    orig, labels = labels, labels.copy()
    dropped = np.zeros(int(labels.max()) + 1, bool)
    dropped[ids] = True
    area = np.bincount(labels.ravel(), minlength=dropped.size)
    boxes = ndi.find_objects(labels)
    reach = int(np.ceil(d)) + 2
    for i in ids:
        box = _widened(boxes[i - 1], reach, labels.shape)
        region = orig[box]
        own = region == i
        near = region[_square_dilated(own) & ~own]
        cand = np.unique(near[(near > 0) & ~dropped[near]])
        if not cand.size:
            continue
        dist = np.stack([ndi.distance_transform_edt(region != k)[own] for k in cand])
        best = dist.min(0)
        tied = dist == best
        size = np.where(tied, area[cand][:, None], -1)
        top = size.max(0)
        win = size == top
        to = np.where(win.sum(0) == 1, cand[np.argmax(win, 0)], 0)
        labels[box][own] = to
    return labels, True
