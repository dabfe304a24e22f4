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

*The halves of a large nucleus* (round 37): on a field the sharpening ran on
(:mod:`._deblur`, PSF x2) the sharper texture cuts the largest nuclei (1.5-2.5 nucleus
areas) in two, and their union is too large for the tests above. What tells them from two
touching nuclei is the cut's length against the halves' width: a nucleus cut across is cut
along a chord as long as the nucleus is wide, while two rounded nuclei touch along a
contact shorter than either is wide. :func:`_join_halves` joins two touching labels whose
cut is at least ``_HALVES_CUT`` times as long as the narrower one is wide (twice its largest
inner distance), of one level (``_HALVES_LEVEL``), together at most ``_HALVES_AREA`` nucleus
areas, neither with another such partner; until round 41 only on sharpened fields, so
that the crowded fields of small nuclei, which are not sharpened, never saw it.

*The halves under a narrow PSF* (round 41): on the dense fields that are not sharpened
(PSF x1, part of x1.5) the seeding cuts the largest nuclei in two as well (at x1 half of
the split nuclei, each piece about half its nucleus). There the halves' join runs too,
with the union at most ``_NARROW_HALVES_AREA`` nucleus areas: at 2.5 it joined a label
already holding three crowded 18-px nuclei to its neighbour (``tests/test_nuclei_dense.py``,
the most crowded field of round 13).
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


def _join_split(labels, smooth, level, d, halves=None):
    """``labels`` with the pairs of touching labels of one nucleus joined (see the
    module's docstring; the lesser id is kept); and whether any pair was joined. With
    ``halves`` (a union's bound in nucleus areas: ``_HALVES_AREA`` on a sharpened field,
    :mod:`._deblur`, ``_NARROW_HALVES_AREA`` on another dense one), then the halves of a
    large nucleus too (:func:`_join_halves`). The two joins share one scan of the
    boundaries and, when the first joins nothing, its inner distances."""
    if int(labels.max()) < 2:
        return labels, False
    con = np.asarray(smooth, dtype=np.float64) - level  # each pixel's contrast
    scan = _Boundaries(labels, con)
    labels, to, inner = _join_one(labels, con, d, scan)
    if halves is None:
        return labels, to is not None
    if to is not None:  # the joined pairs' own boundaries are gone
        scan, inner = scan.relabelled(to), None
    labels, more = _join_halves(labels, smooth, level, d, scan, inner, area=halves)
    return labels, to is not None or more


def _join_one(labels, con, d, scan):
    """:func:`_join_split` without the halves: the four tests of the module's docstring.
    ``labels``, the map of old to new ids (None when nothing was joined) and the inner
    distances if they were computed (None otherwise)."""
    n = int(labels.max())
    if scan.empty:
        return labels, None, None
    a, b, contact, seam = scan.contacts(with_seam=True)
    area = np.bincount(labels.ravel(), minlength=n + 1).astype(float)
    union = area[a] + area[b]
    ok = union <= _AREA * np.pi * d * d / 4
    ok &= contact >= _CONTACT * np.sqrt(union)
    if not ok.any():
        return labels, None, None
    inner = _inner_distance(labels)
    most = ndi.maximum(inner, labels, np.arange(n + 1))
    level_of = _core_levels(labels, con, inner, most)
    ca, cb = level_of[a], level_of[b]
    top, dim = np.maximum(ca, cb), np.minimum(ca, cb)
    ok &= (top > 0) & (np.abs(ca - cb) <= _LEVEL * top)
    ok &= seam >= _SEAM * dim
    to = _join_map(labels, a, b, ok)
    return (labels, None, inner) if to is None else (to[labels], to, None)


def _join_map(labels, a, b, ok):
    """The map of each id to the id it keeps when each pair ``(a, b)`` that is ``ok`` is
    joined (the lesser id kept), only pairs whose two labels have no other such partner;
    None when no pair is."""
    if not ok.any():
        return None
    times = np.bincount(np.concatenate([a[ok], b[ok]]), minlength=int(labels.max()) + 1)
    ok = ok & (times[a] == 1) & (times[b] == 1)
    if not ok.any():
        return None
    to = np.arange(int(labels.max()) + 1, dtype=labels.dtype)
    to[b[ok]] = a[ok]
    return to


#: the halves: their union at most this many nucleus areas (pi d^2 / 4) on a sharpened
#: field
_HALVES_AREA = 2.5
#: ... and on a dense field that is not sharpened (round 41)
_NARROW_HALVES_AREA = 2.2
#: the cut (its length, :func:`_cut_lengths`) at least this times as long as the narrower
#: half is wide (twice its largest inner distance)
_HALVES_CUT = 1.2
#: the two halves' core contrasts differ by at most this share of the larger
_HALVES_LEVEL = 0.1


class _Boundaries:
    """The pixel pairs (4-neighbours) across the boundaries between touching labels, from
    one scan: each pair's code ``lo * (n + 1) + hi`` of its two ids, its mean contrast
    ``con``, and its midpoint (twice its coordinates, so integers), in scan order."""

    def __init__(self, labels, con=None, *, _from=None):
        if _from is not None:
            self.n, self.code, self.val, self.y, self.x = _from
            return
        self.n = n = int(labels.max())
        codes, vals, ys, xs = [], [], [], []
        for sa, sb, dy, dx in ((np.s_[:, :-1], np.s_[:, 1:], 0, 1),
                               (np.s_[:-1], np.s_[1:], 1, 0)):
            la, lb = labels[sa], labels[sb]
            m = (la > 0) & (lb > 0) & (la != lb)
            lo = np.minimum(la[m], lb[m]).astype(np.int64)
            codes.append(lo * (n + 1) + np.maximum(la[m], lb[m]).astype(np.int64))
            vals.append((con[sa][m] + con[sb][m]) / 2)
            y, x = np.nonzero(m)  # (row-major, as ``la[m]``)
            ys.append(2 * y.astype(np.int64) + dy)
            xs.append(2 * x.astype(np.int64) + dx)
        self.code, self.val = np.concatenate(codes), np.concatenate(vals)
        self.y, self.x = np.concatenate(ys), np.concatenate(xs)

    @property
    def empty(self):
        """Whether no two labels touch."""
        return self.code.size == 0

    def relabelled(self, to):
        """The scan of ``to[labels]`` (``to`` keeps each id or maps it to a lesser one):
        the pixel pairs whose two ids became one are no longer on a boundary."""
        n = self.n
        lo, hi = to[self.code // (n + 1)], to[self.code % (n + 1)]
        keep = lo != hi
        lo, hi = lo[keep].astype(np.int64), hi[keep].astype(np.int64)
        code = np.minimum(lo, hi) * (n + 1) + np.maximum(lo, hi)
        return _Boundaries(None, _from=(n, code, self.val[keep], self.y[keep], self.x[keep]))

    def contacts(self, with_seam=False):
        """The pairs ``(a, b)`` (a < b) of touching labels and the number of pixel pairs
        across each boundary; with ``with_seam`` also the mean contrast of those pixels."""
        n = self.n
        pairs, inv, contact = np.unique(self.code, return_inverse=True, return_counts=True)
        a, b = pairs // (n + 1), pairs % (n + 1)
        if not with_seam:
            return a, b, contact
        return a, b, contact, np.bincount(inv, weights=self.val) / contact

    def cut_lengths(self, a, b):
        """The length of the boundary between each pair of touching labels ``(a, b)`` (as
        :meth:`contacts` gives them): its extent along its long axis, from the exact integer
        moments of the midpoints of the pixel pairs across it, so that a turned image, or a
        window of it, gives the same lengths; a straight cut of ``k`` pixel pairs along a
        row or column is ``sqrt(k^2 - 1)`` long, and a diagonal one is not counted twice
        over (horizontal and vertical pairs)."""
        at = np.searchsorted(a * (self.n + 1) + b, self.code)
        k = np.bincount(at, minlength=a.size)
        y, x = self.y.copy(), self.x.copy()
        for v in (y, x):  # from each boundary's own corner: small integers, exact sums
            low = np.full(a.size, np.iinfo(np.int64).max)
            np.minimum.at(low, at, v)
            v -= low[at]
        sy, sx = np.bincount(at, y, a.size), np.bincount(at, x, a.size)
        syy, sxx, sxy = (np.bincount(at, v, a.size) for v in (y * y, x * x, x * y))
        cyy, cxx, cxy = k * syy - sy * sy, k * sxx - sx * sx, k * sxy - sx * sy
        top = 0.5 * (cyy + cxx) + np.hypot(0.5 * (cyy - cxx), cxy)
        return np.sqrt(3.0 * np.maximum(top, 0.0)) / np.maximum(k, 1)


def _core_levels(labels, contrast, inner, most):
    """Each label's mean ``contrast`` over its core (``_CORE``), labels 0..n."""
    n = int(labels.max())
    core = (labels > 0) & (inner >= _CORE * np.asarray(most)[labels])
    cl = labels[core]
    return (np.bincount(cl, weights=contrast[core], minlength=n + 1)
            / np.maximum(np.bincount(cl, minlength=n + 1), 1))


def _pairs_within(labels, con, d, areas, scan=None, inner=None):
    """The pairs ``(a, b)`` of touching labels (:class:`_Boundaries`, ``scan`` when the
    caller has it), ``ok`` where their union is at most ``areas`` nucleus areas, the scan,
    the labels' inner distances (``inner`` when the caller has them) and each label's
    largest: ``(a, b, ok, scan, inner, most)``; None when no pair is within (no distance
    transform is made then)."""
    n = int(labels.max())
    if n < 2:
        return None
    scan = _Boundaries(labels, con) if scan is None else scan
    if scan.empty:
        return None
    a, b = scan.contacts()[:2]
    area = np.bincount(labels.ravel(), minlength=n + 1).astype(float)
    ok = area[a] + area[b] <= areas * np.pi * d * d / 4
    if not ok.any():
        return None
    inner = _inner_distance(labels) if inner is None else inner
    most = np.asarray(ndi.maximum(inner, labels, np.arange(n + 1)))
    return a, b, ok, scan, inner, most


def _of_one_level(labels, con, inner, most, a, b, share):
    """Whether each pair's two core contrasts (:func:`_core_levels`) differ by at most
    ``share`` of the larger (a positive one)."""
    level_of = _core_levels(labels, con, inner, most)
    ca, cb = level_of[a], level_of[b]
    top = np.maximum(ca, cb)
    return (top > 0) & (np.abs(ca - cb) <= share * top)


def _halves_area(sharpened: bool) -> float:
    """The halves' bound on a dense field (round 41): ``_HALVES_AREA`` where it was
    sharpened (:mod:`._deblur`), else ``_NARROW_HALVES_AREA``."""
    return _HALVES_AREA if sharpened else _NARROW_HALVES_AREA


def _join_halves(labels, smooth, level, d, scan=None, inner=None, area=_HALVES_AREA):
    """``labels`` with the two halves of a large nucleus that the seeding cut in two
    joined again (round 37 on sharpened fields, round 41 on the other dense ones; see
    ``docs/nuclei-history.md``): two touching labels whose cut is at least ``_HALVES_CUT`` times
    as long as the narrower one is wide, of one level, together at most ``area`` nucleus
    areas, and neither with another such partner; the lesser id is kept. And whether any
    pair was joined. ``scan`` (the labels' :class:`_Boundaries`) and ``inner`` (their
    inner distances) when the caller has them."""
    con = np.asarray(smooth, dtype=np.float64) - level
    found = _pairs_within(labels, con, d, area, scan, inner)
    if found is None:
        return labels, False
    a, b, ok, scan, inner, most = found
    ok &= scan.cut_lengths(a, b) >= _HALVES_CUT * 2 * np.minimum(most[a], most[b])
    if not ok.any():
        return labels, False
    ok &= _of_one_level(labels, con, inner, most, a, b, _HALVES_LEVEL)
    to = _join_map(labels, a, b, ok)
    return (labels, False) if to is None else (to[labels], True)
