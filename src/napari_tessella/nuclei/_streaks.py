"""Glare streaks dropped by the coherence of their gradient (issue 14, round 45).

A glare streak of the cell-line fields (``fibroblast d74`` most of all) is a long faint
ridge: its 30 % cut makes a label whose edge can pass :func:`._cues._drop_unsharp`, and its
rise toward its medial axis is no steeper than a small blurred nucleus's. What parts it
from a nucleus is the direction of its gradient: across its one axis everywhere, whereas a
nucleus's (even an elongated one of aspect 3) points all round its outline. The measure is
the structure tensor of the smoothed image's gradient summed over the label's pixels,
``(l1 - l2) / (l1 + l2)`` of its eigenvalues (0: every direction, 1: one direction).

Only labels off the image border are looked at (a nucleus cut by the border is a sliver
whose gradient is coherent: the U2OS-like kind's read up to 0.84), and only off the dense
blurred path (the recipe's ``shoulders``): there a small nucleus, or a piece of one cut by
the dense field's splits, is a few pixels across and reads coherent too (round 45's patch
lost 12-15 dense nuclei per 10 fields at every PSF). A label touching a label under the
bar is kept too: on a U2OS image a large nucleus cut in three by the recipe had one
coherent piece (a streak cut in pieces touches only coherent pieces, or nothing).
"""

from __future__ import annotations

import numpy as np

from .._label_image import _edge_ids

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


def _gradient_coherence(labels, smooth):
    """Per label 0..n, the coherence of ``smooth``'s gradient over its pixels:
    ``(l1 - l2) / (l1 + l2)`` of the summed structure tensor (0 for a flat label)."""
    n = int(labels.max())
    rows, cols = np.gradient(smooth.astype(np.float64, copy=False))
    flat = labels.ravel()

    def summed(values):
        return np.bincount(flat, weights=values.ravel(), minlength=n + 1)

    jrr, jcc, jrc = summed(rows * rows), summed(cols * cols), summed(rows * cols)
    return np.hypot(jrr - jcc, 2 * jrc) / np.maximum(jrr + jcc, 1e-12)


def _drop_streaks(labels, smooth, border=(True, True, True, True)):
    """Drop the labels off the image border (``border``: which sides of the array are it,
    top, bottom, left, right) whose gradient coherence (:func:`_gradient_coherence`) is at
    least ``_COHERENT`` and that touch no label under it (a piece of a split nucleus touches
    its other pieces; round 45: one U2OS piece of 3,601 px read over the bar): glare streaks.
    Returns the labels (changed in place) and whether any was dropped."""
    if not labels.any():
        return labels, False
    streak = _gradient_coherence(labels, smooth) >= _COHERENT
    streak[0] = False
    streak[_edge_ids(labels, border)] = False
    if streak.any():
        near, other = _touching(labels)
        streak[near[~streak[other]]] = False
    if not streak.any():
        return labels, False
    labels[streak[labels]] = 0
    return labels, True
