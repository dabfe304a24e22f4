"""Two touching labels of one nucleus joined again on dense blurred fields (issue 14,
round 30).

On the challenge-like fields blurred by a wide PSF the seeding still cuts some single
nuclei in two (the scorer's *splits*): two labels that together are about one nucleus,
touching along most of their width, as bright as each other, and as bright where they meet
as in their cores. Two nuclei side by side differ from that in at least one of these: their
union is larger, they touch along a shorter line (a neck), their levels differ (each
nucleus has its own brightness), or the boundary between them is darker than the dimmer
one's core.

:func:`_join_split` joins a pair of touching labels when all of these hold, and when
neither label has another such partner (no chain is joined and no choice is made between
two partners: the result does not depend on the labels' order, so a flipped or turned
image gives the flipped or turned labels). Per pair of labels from their own pixels: the
chunked path's windows (which hold every blob near their core whole) give the in-memory
labels. It runs only on dense blurred fields (:func:`._background._shoulder_gate`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._bisect import _inner_distance

#: the union at most this many nucleus areas (pi d^2 / 4)
_AREA = 1.8
#: the contact (pixel pairs across the boundary) at least this times the union's side
_CONTACT = 0.7
#: the two cores' mean contrasts differ by at most this share of the larger
_LEVEL = 0.1
#: the boundary's mean contrast at least this share of the dimmer core's
_SEAM = 1.0
#: a label's core: its pixels at least this share of its largest inner distance
_CORE = 0.6


def _join_split(labels, smooth, level, d):
    """``labels`` with the pairs of touching labels of one nucleus joined (see the
    module's docstring; the lesser id is kept); and whether any pair was joined."""
    n = int(labels.max())
    if n < 2:
        return labels, False
    lab = labels.ravel()
    con = np.asarray(smooth, dtype=np.float64) - level  # each pixel's contrast
    contrast = con.ravel()
    # contacts: pixel pairs of two labels across a boundary (4-neighbours), and the mean
    # contrast of the two pixels of each
    codes, vals = [], []
    for a, b, va, vb in ((labels[:, :-1], labels[:, 1:], con[:, :-1], con[:, 1:]),
                         (labels[:-1], labels[1:], con[:-1], con[1:])):
        m = (a > 0) & (b > 0) & (a != b)
        if m.any():
            lo = np.minimum(a[m], b[m]).astype(np.int64)
            hi = np.maximum(a[m], b[m]).astype(np.int64)
            codes.append(lo * (n + 1) + hi)
            vals.append((va[m] + vb[m]) / 2)
    if not codes:
        return labels, False
    codes, vals = np.concatenate(codes), np.concatenate(vals)
    pairs, inv, contact = np.unique(codes, return_inverse=True, return_counts=True)
    seam = np.bincount(inv, weights=vals) / contact
    a, b = pairs // (n + 1), pairs % (n + 1)
    area = np.bincount(lab, minlength=n + 1).astype(float)
    union = area[a] + area[b]
    ok = union <= _AREA * np.pi * d * d / 4
    ok &= contact >= _CONTACT * np.sqrt(union)
    if not ok.any():
        return labels, False
    inner = _inner_distance(labels)
    most = ndi.maximum(inner, labels, np.arange(n + 1))
    core = (labels > 0) & (inner >= _CORE * np.asarray(most)[labels])
    cl = lab[core.ravel()]
    level_of = (np.bincount(cl, weights=contrast[core.ravel()], minlength=n + 1)
                / np.maximum(np.bincount(cl, minlength=n + 1), 1))
    ca, cb = level_of[a], level_of[b]
    top, dim = np.maximum(ca, cb), np.minimum(ca, cb)
    ok &= (top > 0) & (np.abs(ca - cb) <= _LEVEL * top)
    ok &= seam >= _SEAM * dim
    if not ok.any():
        return labels, False
    # only pairs whose two labels have no other partner
    times = np.bincount(np.concatenate([a[ok], b[ok]]), minlength=n + 1)
    ok &= (times[a] == 1) & (times[b] == 1)
    if not ok.any():
        return labels, False
    to = np.arange(n + 1, dtype=labels.dtype)
    to[b[ok]] = a[ok]
    return to[labels], True
