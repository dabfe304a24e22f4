"""Boundaries between touching nuclei of a dense blurred field moved to where they are
equally far from the two nuclei's cores (issue 14, round 26).

In a dense field blurred by a wide PSF the labels of touching nuclei often reach over
their boundary (round 25's *straddles* in ``docs/nuclei-history.md``): a boundary placed by a
neck of the distance, a straight cut or a trim at a fraction of a brighter neighbour's
peak keeps a dim nucleus's flank in the bright one's label, or cuts through a nucleus.
Each label's *core* — its pixels at least ``_CORE`` of its own largest distance to its
outline (outline: the background, another label or the array's edge) — still lies
inside its nucleus; the boundary between two touching nuclei lies about half-way
between their cores.

:func:`_bisect_touching` gives each labelled pixel to the label, among its own and the
labels touching its own, whose core is nearest (Euclidean), when that core is strictly
nearer than its own label's and no other label's is as near (every tie keeps the pixel
where it was: no tie is broken by raster order, so a flipped or turned image gives the
flipped or turned labels). A pixel moved away from the part of its new label that holds
the core goes back. The union of the labels is unchanged: only boundaries between two
labels move.

It runs only on dense blurred fields (:func:`._background._shoulder_gate`, as
:mod:`._shoulders` and :mod:`._pairs`). Per label and its neighbours, from their pixels:
the chunked path's windows (which hold every blob near their core whole) give the
in-memory labels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: a label's core: its pixels at least this share of its largest distance to its outline
_CORE = 0.75


def _inner_distance(labels):
    """Each labelled pixel's distance to the nearest pixel that is not of its own label
    (the array's edge counts as outside), 0 on the background."""
    pad = np.pad(labels, 1)
    own = pad > 0
    for axis in (0, 1):
        for shift in (1, -1):
            own &= np.roll(pad, shift, axis=axis) == pad
    return ndi.distance_transform_edt(own)[1:-1, 1:-1] + (labels > 0)


def _group_box(boxes, k, others):
    """The bounding box (``ndi.find_objects``' ``boxes``) of label ``k`` and ``others``."""
    box = boxes[k - 1]
    for j in others:
        box = tuple(slice(min(x.start, y.start), max(x.stop, y.stop))
                    for x, y in zip(box, boxes[j - 1], strict=True))
    return box


def _bisect_touching(labels):
    """``labels`` with the boundaries between touching labels moved half-way between
    their cores (see the module's docstring); and whether any pixel moved."""
    n = int(labels.max())
    if n < 2:
        return labels, False
    dist = _inner_distance(labels)
    top = np.zeros(n + 1)
    np.maximum.at(top, labels.ravel(), dist.ravel())
    core = (labels > 0) & (dist >= _CORE * top[labels])
    # touching labels (8-neighbours), both ways
    pairs = []
    for a, b in ((labels[:-1], labels[1:]), (labels[:, :-1], labels[:, 1:]),
                 (labels[:-1, :-1], labels[1:, 1:]), (labels[:-1, 1:], labels[1:, :-1])):
        touch = (a != b) & (a > 0) & (b > 0)
        pairs.append(np.stack([a[touch], b[touch]]))
    pairs = np.concatenate(pairs, axis=1)
    if not pairs.size:
        return labels, False
    pairs = np.unique(np.concatenate([pairs, pairs[::-1]], axis=1), axis=1)
    touching = {}
    for a, b in pairs.T.tolist():
        touching.setdefault(a, []).append(b)
    boxes = ndi.find_objects(labels)
    own = np.full(labels.shape, np.inf)
    best = np.full(labels.shape, np.inf)
    who = np.zeros(labels.shape, np.int64)
    tied = np.zeros(labels.shape, bool)
    for k in sorted(touching):
        group = [k] + touching[k]
        box = _group_box(boxes, k, touching[k])
        region = labels[box]
        far = ndi.distance_transform_edt(~(core[box] & (region == k)))
        at = np.isin(region, group)
        mine = region == k
        own[box][mine] = far[mine]
        others = at & ~mine
        b, w, t = best[box], who[box], tied[box]
        nearer = others & (far < b)
        same = others & (far == b)
        b[nearer], w[nearer], t[nearer] = far[nearer], k, False
        t[same] = True
    move = (labels > 0) & (best < own) & ~tied
    if not move.any():
        return labels, False
    out = labels.copy()
    out[move] = who[move]
    # a moved pixel cut off from its new label's core goes back
    for k in np.unique(out[move]).tolist():
        box = _group_box(boxes, k, touching[k])
        piece, m = ndi.label(out[box] == k)
        if m > 1:
            held = np.unique(piece[core[box] & (labels[box] == k)])
            lost = (piece > 0) & ~np.isin(piece, held)
            out[box][lost] = labels[box][lost]
    return out, True
