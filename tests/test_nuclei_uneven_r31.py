"""Glare streaks cut across into pieces are streaks (issue 14, round 31, ``nuclei/_glare.py``
and ``nuclei/_edges._streaks``): pieces cut straight across and chained in one line into a
long thin band are dropped; nuclei touching end to end or offset are not."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from _benchmarks import benchmark

from napari_tessella._label_image import _label_moments
from napari_tessella.nuclei import seeded_watershed

D = 20.0


def _band(shape, r0, c0, length, width, cuts):
    """Labels of a horizontal band (rows ``r0 ± width / 2``, columns ``c0 ..
    c0 + length``) cut across at the columns ``cuts`` into pieces 1, 2, ..."""
    labels = np.zeros(shape, np.int32)
    rr, cc = np.indices(shape)
    band = (np.abs(rr - r0) <= width / 2) & (cc >= c0) & (cc < c0 + length)
    edges = [c0, *cuts, c0 + length]
    for k, (a, b) in enumerate(pairwise(edges), start=1):
        labels[band & (cc >= a) & (cc < b)] = k
    return labels


def _chains(labels):
    from napari_tessella.nuclei._glare import _streak_chains

    n = int(labels.max())
    return _streak_chains(labels, D, _label_moments(labels, n), np.zeros(n + 1, bool))


def test_a_band_cut_into_three_pieces_is_a_streak():
    labels = _band((60, 120), 30, 20, 3 * D, 0.5 * D, [40, 60])
    assert _chains(labels)[1:].all()


def test_pieces_offset_across_are_not_a_streak():
    labels = _band((80, 120), 30, 20, 3 * D, 0.5 * D, [40, 60])
    middle = labels == 2
    labels[middle] = 0
    labels[np.roll(middle, 7, axis=0)] = 2  # the middle piece moved half a width down
    assert not _chains(labels)[1:].any()


def test_a_row_of_small_round_nuclei_is_not_a_streak():
    labels = np.zeros((60, 140), np.int32)
    rr, cc = np.indices(labels.shape)
    for k, c in enumerate((30, 50, 70, 90), start=1):  # discs of diameter d, touching
        labels[np.hypot(rr - 30, cc - c) <= 10] = k
    assert not _chains(labels)[1:].any()


def test_two_thin_nuclei_end_to_end_are_not_a_streak():
    """Elongated nuclei touching at their rounded ends (a short contact) are not a streak
    cut across, however well they line up (``elongated`` 70: contact 0.42 of the width)."""
    labels = np.zeros((60, 160), np.int32)
    rr, cc = np.indices(labels.shape)
    for k, c in enumerate((50, 85), start=1):  # ellipses 1.75 d x 0.6 d, end to end
        inside = ((cc - c) / 17.5) ** 2 + ((rr - 30) / 6.0) ** 2 <= 1
        labels[inside & (labels == 0)] = k
    labels[(np.abs(rr - 30) <= 1) & (cc >= 67) & (cc <= 68)] = 1  # touching, briefly
    assert not _chains(labels)[1:].any()
    straight = _band((60, 160), 30, 32, 70, 12, [67])  # the same cut straight across
    assert _chains(straight)[1:].all()


def test_a_piece_ending_on_a_streak_only_is_left():
    from napari_tessella.nuclei._edges import _streaks

    labels = np.zeros((80, 160), np.int32)
    rr, cc = np.indices(labels.shape)
    labels[(np.abs(rr - 40) <= 5.5) & (cc >= 46) & (cc < 75)] = 1  # thick, elongated
    labels[(np.abs(rr - 40) <= 2.5) & (cc >= 75) & (cc < 140)] = 2  # a thin long streak
    out = _streaks(labels, D)
    assert out[2] and not out[1]


def test_uneven_field_glare_pieces_dropped():
    """Tuning field ``uneven d32`` 32: a glare streak the watershed cut in two (centres
    near (175, 429) and (177, 385)); both pieces were kept as objects before round 31."""
    bench = benchmark("nuclei_cellline")
    img, ref = bench.uneven_field(32)
    labels = seeded_watershed(img).labels
    assert labels[175, 429] == 0 and labels[177, 385] == 0
    # the nuclei around it are still found
    assert len(np.unique(labels)) - 1 >= len(np.unique(ref)) - 1 - 4
