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
inscribed in their union is larger than the largest inscribed in either piece, and it lies
across the cut. Two touching nuclei meet where each is narrow, away from their centres, so
each keeps its own largest disc and their union's is no larger than the larger one's; where
they overlap much (centres 0.65 of their radii's sum apart) the cut between them takes a
little off each one's disc, but the union's largest disc is still centred in one of them, a
good part of its radius from the cut. Round 38, the base's final labels of the 20 tuning
fields at PSF x2 (10th / 50th / 90th percentiles; a nucleus's pieces: 58 pairs, two nuclei:
1206): the union's largest inner distance over the larger piece's 1.00 / 1.20 / 1.38 and
1.00 / 1.00 / 1.08; the distance of its centre from the other piece, over its radius, 0.11
/ 0.40 / 0.74 and 0.73 / 1.05 / 1.43.

:func:`_join_cut_through` joins two touching labels (4-neighbours) whose union's largest
inner distance is at least ``_RATIO`` times the larger of the two labels' own and ``_PX``
pixels more, every one of whose largest discs (ties of whole pixels) is centred within
``_NEAR`` of its radius of the other label, of one level (their cores' mean contrasts, as
:mod:`._join`'s, within ``_LEVEL`` of the larger), together at most ``_AREA`` nucleus
areas, and neither with another such partner (no chains, no choice: the labels' order does
not matter). Inner
distances are :func:`._bisect._inner_distance`'s (whole pixels, the array's edge outside),
each union's and the distances to the other label taken in the pair's own box: the same
under turns and in a chunk's window that holds both labels whole. It runs only on sharpened
fields, last of the dense steps (after :func:`._missing._with_missing`), so that the pieces
the later steps leave are seen too. The level test is looser than the joins' of
:mod:`._join` (0.3, not 0.1): on the sharpened image a nucleus's dome and texture give its
pieces levels apart, and the geometry is the test that tells them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._bisect import _group_box, _inner_distance
from ._join import _join_map, _of_one_level, _pairs_within

#: the union's largest inner distance at least this times the larger label's own
_RATIO = 1.15
#: and at least this many pixels more (inner distances are whole-pixel steps: on small
#: nuclei, 5-6 px discs, 1.15 times is a single step, which nuclei pressed together reach)
_PX = 1.5
#: every largest disc of the union centred at most this share of its radius from the other
#: label: the cut runs through the union's widest part
_NEAR = 0.5
#: the two cores' mean contrasts differ by at most this share of the larger
_LEVEL = 0.3
#: the union at most this many nucleus areas (pi d^2 / 4)
_AREA = 2.5


def _cut_through(labels, boxes, a, b, larger) -> bool:
    """Whether labels ``a`` and ``b`` are the pieces of one nucleus cut through its widest
    part: their union's largest inner distance (:func:`._bisect._inner_distance`) at least
    ``_RATIO`` times ``larger`` (the larger of the two labels' own) and ``_PX`` more, and
    every largest disc of the union centred within ``_NEAR`` of its radius of the other
    label (the cut runs through them: two nuclei whose light adds where they overlap give a
    union with a ridge of largest discs, some far from the cut). Taken in the box that
    holds both labels."""
    sub = labels[_group_box(boxes, a, (b,))]
    inner = _inner_distance(((sub == a) | (sub == b)).astype(np.int8))
    most = float(inner.max())
    if most < max(_RATIO * larger, larger + _PX):
        return False
    top = inner == most  # the centres of the union's largest discs
    on_a = top & (sub == a)
    near = 0.0
    if on_a.any():
        near = ndi.distance_transform_edt(sub != b)[on_a].max()
    if (top & ~on_a).any():
        near = max(near, ndi.distance_transform_edt(sub != a)[top & ~on_a].max())
    return bool(near <= _NEAR * most)


def _join_cut_through(labels, smooth, level, d):
    """``labels`` with the two pieces of a nucleus cut through its widest part joined again
    (see the module's docstring; the lesser id is kept); and whether any pair was."""
    con = np.asarray(smooth, dtype=np.float64) - level
    found = _pairs_within(labels, con, d, _AREA)
    if found is None:
        return labels, False
    a, b, ok, _, _, most = found
    ok &= _of_one_level(labels, con, found[4], most, a, b, _LEVEL)
    if not ok.any():
        return labels, False
    boxes = ndi.find_objects(labels)
    for i in np.flatnonzero(ok):
        ok[i] = _cut_through(labels, boxes, int(a[i]), int(b[i]), max(most[a[i]], most[b[i]]))
    to = _join_map(labels, a, b, ok)
    return (labels, False) if to is None else (to[labels], True)
