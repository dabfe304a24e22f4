"""Glare streaks cut into pieces (issue 14, round 31), and single ones told by their gradient.

A glare streak (a blurred straight band, :func:`._edges._streaks`) that the watershed cut
across into two or more pieces is no streak to the per-label tests: each piece is about as
long as it is wide (elongation 1.5-3.3) and some are as wide as a thin nucleus (inscribed
radius 0.28-0.38 d). Together they are a streak: the pieces touch each other end to end
and their union is a long thin band. Everything here is read from the labels' moments and,
for the few chains that pass them, from the members' own boxes.

Round 45: single glare streaks dropped by the coherence of their gradient
(:func:`_drop_streaks`, run after ``._cues._drop_unsharp``; the per-label shape verdicts
of ``._edges._streaks`` run earlier, with the glows). A glare streak of the cell-line
fields (``fibroblast d74`` most of all) is a long faint ridge: its 30 % cut makes a label
whose edge can pass :func:`._cues._drop_unsharp`, and its rise toward its medial axis is no
steeper than a small blurred nucleus's. What parts it from a nucleus is the direction of
its gradient: across its one axis everywhere, whereas a nucleus's (even an elongated one of
aspect 3) points all round its outline. The measure is the structure tensor of the smoothed
image's gradient summed over the label's pixels, ``(l1 - l2) / (l1 + l2)`` of its
eigenvalues (0: every direction, 1: one direction). Only labels off the image border are
looked at (a nucleus cut by the border is a sliver whose gradient is coherent: the
U2OS-like kind's read up to 0.84), and only off the dense blurred path (the recipe's
``shoulders``): there a small nucleus, or a piece of one cut by the dense field's splits,
is a few pixels across and reads coherent too (round 45's patch lost 12-15 dense nuclei per
10 fields at every PSF). A label touching a label under the bar is kept too: on a U2OS
image a large nucleus cut in three by the recipe had one coherent piece (a streak cut in
pieces touches only coherent pieces, or nothing).

Round 47: those two gates keep the streaks that end on a nucleus or run off the image.
Where a coherent label meets the border or a label under the bar tells them
(:func:`_contacts`, round 46): a streak cut across meets them at an end of its length,
across its gradient; a cap cut by the border meets it along its flat side, a piece of a
split nucleus its other pieces along its side or much of its outline. Such a streak is
not dropped at once: the rim outlines and the glow steps after it would grow the nucleus
it touches into its place (round 46). It keeps its label through them and is dropped after
(:func:`_drop_ended`), so the other labels come out as they would with it kept.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._label_image import _edge_ids, _square_dilated, _widened
from ._dim import _elongation

_CHAIN = (1.4, 0.85, 0.4)  # a piece: elongation at least, spread across below (x d; four
# standard deviations along its short axis), inscribed radius below (x d)
_CHAIN_UNION = (3.5, 2.0, 1.15)  # the pieces' union: elongation at least, length at least
# (x d), and spread across at most this times its widest piece's (in a line, not offset)
_CHAIN_CUT = 0.85  # two pieces are linked where they touch along this share of the narrower
# one's width at least (a streak cut straight across: 0.98-1.03; nuclei end to end: 0.1-0.75)


def _touching_pairs(labels, ids, boxes) -> tuple[np.ndarray, np.ndarray]:
    """(k, 2) pairs of labels of ``ids`` that touch each other (4-connected), each read in
    the box of one of them widened by a pixel, and each contact's length (the first's
    pixels beside the second)."""
    want = np.zeros(int(labels.max()) + 1, bool)
    want[ids] = True
    pairs, contact = [], []
    for i in ids:
        lab = labels[_widened(boxes[i - 1], 1, labels.shape)]
        own = lab == i
        beside = {}
        for a, b, at in ((own[:, :-1], lab[:, 1:], np.s_[:, :-1]),
                         (own[:, 1:], lab[:, :-1], np.s_[:, 1:]),
                         (own[:-1], lab[1:], np.s_[:-1]), (own[1:], lab[:-1], np.s_[1:])):
            for j in np.unique(b[a]):
                if want[j] and j > i:
                    hit = beside.setdefault(int(j), np.zeros_like(own))
                    hit[at] |= a & (b == j)
        for j, hit in beside.items():
            pairs.append((i, j))
            contact.append(np.count_nonzero(hit))
    return np.asarray(pairs, dtype=np.intp).reshape(-1, 2), np.asarray(contact, float)


def _union_shape(members, count, mean_r, mean_c, var_r, var_c, cov):
    """(elongation, largest and smallest standard deviation) of the union of ``members``
    from their counts, means and central second moments."""
    w = count[members]
    total = w.sum()
    mr, mc = (w * mean_r[members]).sum() / total, (w * mean_c[members]).sum() / total
    dr, dc = mean_r[members] - mr, mean_c[members] - mc
    vr = (w * (var_r[members] + dr * dr)).sum() / total
    vc = (w * (var_c[members] + dc * dc)).sum() / total
    vrc = (w * (cov[members] + dr * dc)).sum() / total
    half = np.sqrt(0.25 * (vr - vc) ** 2 + vrc**2)
    big, small = 0.5 * (vr + vc) + half, 0.5 * (vr + vc) - half
    return np.sqrt(big / max(small, 1e-12)), np.sqrt(big), np.sqrt(max(small, 0.0))


def _streak_chains(labels, d, moments, done, piece=_CHAIN, union=_CHAIN_UNION,
                   cut=_CHAIN_CUT) -> np.ndarray:
    """Per label 0..n, whether it is a piece of a glare streak cut across: elongated
    ``piece[0]``, spread across less than ``piece[1] * d``, with an inscribed disc of radius
    below ``piece[2] * d``, and touching another such piece along at least ``cut`` of the
    narrower one's width (cut straight across), the pieces so chained (two or
    more) making a union elongated at least ``union[0]``, long (four standard deviations)
    at least ``union[1] * d`` and no wider across than ``union[2]`` times its widest piece
    (the pieces in one line). ``moments``: :func:`._label_image._label_moments` of the
    labels; ``done``: labels already found to be streaks (left out)."""
    count, _, _, var_r, var_c, cov = moments
    n = count.size - 1
    out = np.zeros(n + 1, bool)
    half = np.sqrt(0.25 * (var_r - var_c) ** 2 + cov**2)
    big, small = 0.5 * (var_r + var_c) + half, 0.5 * (var_r + var_c) - half
    thin = ((count > 0) & ~done & (big >= piece[0] ** 2 * small)
            & (16 * small < (piece[1] * d) ** 2))
    thin[0] = False
    ids = np.flatnonzero(thin)
    if ids.size < 2:
        return out
    boxes = ndi.find_objects(labels)
    pairs, contact = _touching_pairs(labels, ids, boxes)
    width = np.sqrt(12 * np.maximum(small, 0.0))  # a band's width from its moments
    pairs = pairs[contact >= cut * np.minimum(width[pairs[:, 0]], width[pairs[:, 1]])]
    if pairs.size == 0:
        return out
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n + 1, n + 1))
    _, group = connected_components(graph, directed=False)
    chained = np.unique(pairs)
    for g in np.unique(group[chained]):
        members = chained[group[chained] == g]
        elong, spread, across = _union_shape(members, *moments)
        if (elong < union[0] or 4 * spread < union[1] * d
                or across > union[2] * np.sqrt(small[members].max())):
            continue
        radius = 0.0
        for i in members:  # each piece thin: its inscribed disc, in its own box
            lab = labels[_widened(boxes[i - 1], 1, labels.shape)]
            own = lab == i
            parted = own & (ndi.maximum_filter(lab, 3) == ndi.minimum_filter(lab, 3))
            radius = max(radius, ndi.distance_transform_edt(parted).max() + 1.0)
        if radius < piece[2] * d:
            out[members] = True
    return out


#: A label off the border whose gradient coherence is at least this is a streak. Round 45,
#: tuning fields (off the border, the five kinds whose streaks are known): 85 of 107 streak
#: labels at 0.7 or more, 4 of 3,813 nuclei (their 95th percentile 0.30-0.41 by kind; the
#: largest 0.55-0.85, a label of two nuclei among them).
_COHERENT = 0.7


def _touching(labels):
    """The pairs of labels that touch (8-connected), both ways: two arrays of ids."""
    one, two = [], []
    for a, b in ((labels[1:], labels[:-1]), (labels[:, 1:], labels[:, :-1]),
                 (labels[1:, 1:], labels[:-1, :-1]), (labels[1:, :-1], labels[:-1, 1:])):
        meet = (a > 0) & (b > 0) & (a != b)
        one += [a[meet], b[meet]]
        two += [b[meet], a[meet]]
    return np.concatenate(one), np.concatenate(two)


#: A coherent label that meets an incoherent label, or the image border, is a streak cut
#: across unless the way from its centroid to one of those contacts is at least this |cos|
#: from its gradient's main direction (along its side). Round 46, tuning fields 8000-8039
#: (seven kinds): the 12 nuclei at coherence 0.6 or more that touch a label read 0.73-1.00,
#: the 114 streak labels at 0.7 or more touching a nucleus or the border at an end 0.00-0.5
#: (most under 0.1).
_ON_SIDE = 0.5
#: ... or unless its contacts cover at least this share of its outline. Round 46: the U2OS
#: labels over the bar with a contact (a piece of a nucleus cut in three, caps cut by the
#: border, some in a corner) 0.43-0.70; streak labels meeting a nucleus or the border at an
#: end 0.00-0.49, all but a few under 0.3.
_MET = 0.3
#: ... or unless it is elongated less than this (no band, so no ends; the crowded synthetic
#: fields of ``test_nuclei_dense``: two round nuclei at 1.10 and 1.24 with one end-on
#: contact; round 46's tuning streak labels with such contacts: 2 of 104 under it, their
#: median 3.25).
_BAND = 1.4


def _steps(img, r, c):
    """``np.gradient(img)`` (2-D float64, at least 2 x 2) at the pixels (``r``, ``c``)."""
    out = []
    for k, size, lo, hi in ((r, img.shape[0], (np.maximum(r - 1, 0), c),
                             (np.minimum(r + 1, img.shape[0] - 1), c)),
                            (c, img.shape[1], (r, np.maximum(c - 1, 0)),
                             (r, np.minimum(c + 1, img.shape[1] - 1)))):
        diff = img[hi] - img[lo]
        out.append(np.where((k > 0) & (k < size - 1), diff / 2.0, diff))
    return out


def _gradient_axes(labels, smooth):
    """Per label 0..n, the coherence of ``smooth``'s gradient over its pixels
    (``(l1 - l2) / (l1 + l2)`` of the summed structure tensor, 0 for a flat label) and the
    angle of its main direction (the first eigenvector, ``(cos, sin)`` as (row, column))."""
    n = int(labels.max())
    img = smooth.astype(np.float64, copy=False)
    flat = labels.ravel()
    if img.ndim == 2 and min(img.shape) >= 2:
        # round 54: numpy's differences at the labelled pixels only (central ones halved
        # inside, one-sided at the sides: ``np.gradient``'s bits), summed per label in the
        # same order; label 0's sums (the background's) are then 0, and never read
        at = np.flatnonzero(flat)
        r = at // img.shape[1]
        flat, rows, cols = flat[at], *(_steps(img, r, at - r * img.shape[1]))
    else:
        rows, cols = np.gradient(img)

    def summed(values):
        return np.bincount(flat, weights=values.ravel(), minlength=n + 1)

    jrr, jcc, jrc = summed(rows * rows), summed(cols * cols), summed(rows * cols)
    coherence = np.hypot(jrr - jcc, 2 * jrc) / np.maximum(jrr + jcc, 1e-12)
    return coherence, 0.5 * np.arctan2(2 * jrc, jrr - jcc)


def _gradient_coherence(labels, smooth):
    """Per label 0..n, the coherence of ``smooth``'s gradient over its pixels:
    ``(l1 - l2) / (l1 + l2)`` of the summed structure tensor (0 for a flat label)."""
    return _gradient_axes(labels, smooth)[0]


def _contacts(labels, ids, angle, partner, border):
    """Per label of ``ids``, how it meets the labels with ``partner`` True (8-connected)
    and the sides of the array that are the image border (``border``): the largest
    ``|cos|`` over those contacts between its gradient's main direction (``angle``) and
    the way from its centroid to the contact (its own pixels there; -1 with no contact),
    the share of its outline in contact, and its elongation (:func:`._dim._elongation`,
    the square root of its second moments' ratio; 0 with no contact). A band cut across by
    a nucleus or the border meets it at an end: ``|cos|`` near 0, a small share, elongated.
    A nucleus's rim piece meets its other pieces, and a cap the border, along its side, or
    along much of its outline."""
    side, share, elongation = np.full(ids.size, -1.0), np.zeros(ids.size), np.zeros(ids.size)
    boxes = ndi.find_objects(labels)
    ring = np.ones((3, 3), bool)
    for k, i in enumerate(ids):
        at = _widened(boxes[i - 1], 1, labels.shape)
        lab = labels[at]
        own = lab == i
        outline = own & ~ndi.binary_erosion(own, ring, border_value=1)
        hits = [own & _square_dilated(lab == j)
                for j in np.unique(lab[_square_dilated(own) & ~own]) if j and partner[j]]
        ends = (at[0].start == 0, at[0].stop == labels.shape[0],
                at[1].start == 0, at[1].stop == labels.shape[1])
        for cut, on, end in zip((np.s_[0], np.s_[-1], np.s_[:, 0], np.s_[:, -1]), border, ends,
                                strict=True):
            if on and end and own[cut].any():
                hit = np.zeros_like(own)
                hit[cut] = own[cut]
                hits.append(hit)
        if not hits:
            continue
        met = np.logical_or.reduce(hits)
        share[k] = np.count_nonzero(met) / np.count_nonzero(outline | met)
        rr, cc = np.nonzero(own)
        elongation[k] = _elongation(rr, cc)
        direction = np.cos(angle[i]), np.sin(angle[i])
        for hit in hits:
            hr, hc = np.nonzero(hit)
            dr, dc = hr.mean() - rr.mean(), hc.mean() - cc.mean()
            far = np.hypot(dr, dc)
            cos = abs(dr * direction[0] + dc * direction[1]) / far if far >= 1.0 else 1.0
            side[k] = max(side[k], cos)
    return side, share, elongation


def _drop_streaks(labels, smooth, border=(True, True, True, True), ended=None):
    """Drop the labels off the image border (``border``: which sides of the array are it,
    top, bottom, left, right) whose gradient coherence (:func:`_gradient_coherence`) is at
    least ``_COHERENT`` and that touch no label under it (a piece of a split nucleus touches
    its other pieces; round 45: one U2OS piece of 3,601 px read over the bar): glare streaks.
    With ``ended`` (a list), the coherent labels kept so that meet those labels under the bar
    and the border only at their ends (:func:`_contacts`: every contact under ``_ON_SIDE``
    in ``|cos|``, under ``_MET`` of the outline together, elongated ``_BAND`` or more) are
    put in it, streaks cut across to drop after the outline steps (:func:`_drop_ended`).
    Returns the labels (changed in place) and whether any was dropped."""
    if not labels.any():
        return labels, False
    coherence, angle = _gradient_axes(labels, smooth)
    coherent = coherence >= _COHERENT
    coherent[0] = False
    streak = coherent.copy()
    streak[_edge_ids(labels, border)] = False
    if streak.any():
        near, other = _touching(labels)
        streak[near[~streak[other]]] = False
    ids = np.flatnonzero(coherent & ~streak) if ended is not None else ()
    if len(ids):
        side, share, elongation = _contacts(labels, ids, angle, ~coherent, border)
        ended.extend(ids[(side < _ON_SIDE) & (share < _MET)
                         & ((side < 0) | (elongation >= _BAND))].tolist())
    if not streak.any():
        return labels, False
    labels[streak[labels]] = 0
    return labels, True


def _drop_ended(labels, ended):
    """``labels`` without the labels ``ended`` (ids: :func:`_drop_streaks`'s streaks that
    met a nucleus or the border at an end), and whether any was dropped. They are dropped
    after the rim outlines and the glow steps, which keep each label's id and give new ones
    ids above every earlier one: dropped before them, a streak's place went to the nucleus
    it touched, which then outgrew its nucleus (round 46, ``uneven d32`` 3709)."""
    if not ended:
        return labels, False
    drop = np.zeros(int(labels.max()) + 1, bool)
    drop[[i for i in ended if i < drop.size]] = True
    gone = drop[labels]
    if not gone.any():
        return labels, False
    labels[gone] = 0
    return labels, True
