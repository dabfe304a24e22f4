"""A nucleus cut through its widest part joined again on sharpened dense fields (issue 14,
round 38).

On the challenge-like dense fields under a wide PSF (PSF x2, sharpened by :mod:`._deblur`)
the largest error class is still the split nucleus: two labels each holding a good part of
one nucleus, neither matching it. Round 38 traced them through the recipe: no one step
makes them (the clusters', merges', shoulders' and pairs' cuts and the bisection each start
some), and the halves' join (:func:`._join._join_halves`) leaves those whose cut is short
against their width (a curved cut, one piece much smaller than the other).

What tells them from two touching nuclei is where the cut runs. A cut through one nucleus
runs through its widest part, so each piece is narrower than the whole: the largest disc
inscribed in their union is larger than the largest inscribed in either piece. Two touching
nuclei meet where each is narrow, away from their centres, so each keeps its own largest
disc and their union's is no larger than the larger one's (round 38, the base's final labels
of the 20 tuning fields at PSF x2: union / larger piece 1.00 / 1.19 / 1.38 at the 10th /
50th / 90th percentiles for a nucleus's pieces, 0.98 / 1.00 / 1.06 for two nuclei).

:func:`_join_cut_through` joins two touching labels (4-neighbours) whose union's largest
inner distance is at least ``_RATIO`` times the larger of the two labels' own, of one level
(their cores' mean contrasts, as :mod:`._join`'s, within ``_LEVEL`` of the larger),
together at most ``_AREA`` nucleus areas, and neither with another such partner (no chains,
no choice: the labels' order does not matter). Inner distances are
:func:`._bisect._inner_distance`'s (whole pixels, the array's edge outside), each union's
taken in its own box: the same in a chunk's window that holds both labels whole. It runs
only on sharpened fields, last of the dense steps (after :func:`._missing._with_missing`),
so that the pieces the later steps leave are seen too. The level test is looser than the
joins' of :mod:`._join` (0.3, not 0.1): on the sharpened image a nucleus's dome and texture
give its pieces levels apart, and the geometry is the test that tells them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._bisect import _group_box, _inner_distance
from ._join import _contacts, _core_levels, _joined

#: the union's largest inner distance at least this times the larger label's own
_RATIO = 1.2
#: the two cores' mean contrasts differ by at most this share of the larger
_LEVEL = 0.3
#: the union at most this many nucleus areas (pi d^2 / 4)
_AREA = 2.5


def _union_inner(labels, boxes, a, b) -> float:
    """The largest inner distance (:func:`._bisect._inner_distance`) of the union of labels
    ``a`` and ``b``, taken in the box that holds both."""
    sub = labels[_group_box(boxes, a, (b,))]
    return float(_inner_distance(((sub == a) | (sub == b)).astype(np.int8)).max())


def _join_cut_through(labels, smooth, level, d):
    """``labels`` with the two pieces of a nucleus cut through its widest part joined again
    (see the module's docstring; the lesser id is kept); and whether any pair was."""
    n = int(labels.max())
    if n < 2:
        return labels, False
    con = np.asarray(smooth, dtype=np.float64) - level
    found = _contacts(labels, con)
    if found is None:
        return labels, False
    a, b = found[:2]
    area = np.bincount(labels.ravel(), minlength=n + 1).astype(float)
    ok = area[a] + area[b] <= _AREA * np.pi * d * d / 4
    if not ok.any():
        return labels, False
    inner = _inner_distance(labels)
    most = np.asarray(ndi.maximum(inner, labels, np.arange(n + 1)))
    level_of = _core_levels(labels, con, inner, most)
    ca, cb = level_of[a], level_of[b]
    top = np.maximum(ca, cb)
    ok &= (top > 0) & (np.abs(ca - cb) <= _LEVEL * top)
    if not ok.any():
        return labels, False
    boxes = ndi.find_objects(labels)
    for i in np.flatnonzero(ok):
        wide = _RATIO * max(most[a[i]], most[b[i]])
        ok[i] = _union_inner(labels, boxes, int(a[i]), int(b[i])) >= wide
    return _joined(labels, a, b, ok)
