"""Blurred dense fields (issue 14, round 14): the challenge-like fields of
``benchmarks/nuclei_dense_heldout.py`` with their PSF widened x2 (sigma 2-4 px, 0.1-0.2 d).

Every nucleus's rim there is less steep than a sharp field's (median 2.8 x contrast / d
against the fixed 3.4), so the unsharp test took ~25 nuclei per field for glows and
dropped them. Tuning seeds of round 13 (111-116), never the held-out 101-106."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, dense_score

from napari_tessella.nuclei._cues import _drop_unsharp, _near_steep


@pytest.fixture(scope="module")
def dense():
    return benchmark("nuclei_dense_heldout")


def test_psf_option_keeps_the_fields(dense):
    # psf=1 draws the same fields as before the option (the held-out figures stand)
    image, truth = dense.challenge_field(101)
    again, same = dense.challenge_field(101, psf=1.0)
    assert np.array_equal(image, again) and np.array_equal(truth, same)


@pytest.mark.parametrize(("seed", "most_missing", "least_f1"),
                         [(111, 17, 0.705), (113, 24, 0.59), (114, 19, 0.67),
                          (115, 13, 0.815)])
def test_blurred_dense_nuclei_are_not_dropped_as_glows(dense, seed, most_missing, least_f1):
    # Round 14 (the steep-rim bar from the sharp nuclei around): main before it, seed 111
    # F1 0.682 (34 missing), 113 0.516 (55); round 14: 0.726 (19), 0.562 (42). Round 19:
    # 0.726 was seed 111 as drawn; turned it gave 0.697-0.723, and since round 19 every
    # orientation gives the one its content chooses: 0.697 (21 missing). Round 20 (most
    # nuclei of these fields are unsharp, so many had fewer than 3 sharp neighbours to
    # lower their bar; the ones the bar keeps now vouch for the next): before it, seed 111
    # 0.697 (21 missing), 114 0.642 (25); round 20: 0.711 (14), 0.685 (16). Round 21 (an
    # unsharp label that stands out of a wider ring needs one kept neighbour, not three):
    # before it, seed 113 0.582 (38 missing), 115 0.810 (17); round 21: 0.600 (19), 0.822 (11)
    m = dense_score(seed)
    assert m["missing"] <= most_missing, m
    assert m["f1"] >= least_f1, m


def test_a_shallow_object_among_sharp_nuclei_is_still_dropped():
    # a Gaussian bump (a smudge) amid four sharp discs: its neighbours' rims are steeper
    # than 3.4, so the bar stays there and the bump goes; the discs stay
    rr, cc = np.indices((120, 120), dtype=float)
    image = np.full((120, 120), 0.05)
    labels = np.zeros((120, 120), np.int32)
    for k, (r, c) in enumerate([(30, 30), (30, 90), (90, 30), (90, 90)], start=1):
        disc = (rr - r) ** 2 + (cc - c) ** 2 <= 100
        image[disc] = 1.0
        labels[disc] = k
    from scipy import ndimage as ndi

    image = ndi.gaussian_filter(image, 1.0)
    bump = 0.6 * np.exp(-((rr - 60) ** 2 + (cc - 60) ** 2) / (2 * 12.0 ** 2))
    image = image + bump
    labels[(bump > 0.18) & (labels == 0)] = 5
    peak = np.r_[np.inf, [float(image[labels == i].max()) for i in range(1, 6)]]
    bar = _near_steep(labels, image, 0.05, 20.0, np.array([5]),
                      ndi.gaussian_gradient_magnitude(image, 1.0), 3.4, np.ones(6, bool))
    assert bar[5] == pytest.approx(3.4)
    out, _ = _drop_unsharp(labels.copy(), image, 0.05, 20.0, peak,
                           np.zeros(6), sharp=0.4, recut=0.5, trim=0.3)
    assert not (out == 5).any()
    assert all((out == i).any() for i in range(1, 5))


def _two_discs(first, second, blur=2.0):
    """A 80 x 110 field of two discs of radius 10 (d 20), 32 px apart, blurred by
    ``blur``, on a level of 0.02; labels 1 and 2 their pixels above ``first`` and
    ``second`` of their contrast."""
    from scipy import ndimage as ndi

    rr, cc = np.indices((80, 110), dtype=float)
    image = np.zeros((80, 110))
    for c in (39, 71):
        image[(rr - 40) ** 2 + (cc - c) ** 2 <= 100] = 1.0
    image = ndi.gaussian_filter(image, blur) + 0.02
    labels = np.zeros(image.shape, np.int32)
    labels[(image > 0.02 + first * 0.98) & (cc < 55)] = 1
    labels[(image > 0.02 + second * 0.98) & (cc >= 55)] = 2
    return image, labels


def test_an_unsharp_nucleus_with_one_kept_neighbour_stands_out_of_a_wider_ring():
    # Round 21: in a blurred dense field most nuclei have one or two kept neighbours, not
    # the three the neighbours' bar asked for. Label 2, outlined high on its blurred edge,
    # is unsharp at d/10 (0.48 < 0.5) and shallower than the bar (2.9 < 4) but stands out
    # of its ring 0.15-0.3 d outside (0.97): with its one sharp neighbour (rim 3.7, below
    # the bar) it is kept. Main dropped it (fewer than 3 sharp neighbours).
    from scipy import ndimage as ndi

    from napari_tessella.nuclei._cues import _WIDE_RING, _edge_sharpness, _rim_gradient

    image, labels = _two_discs(0.2, 0.7)
    sharpness = _edge_sharpness(labels, image, 0.02, 20.0)
    assert sharpness[1] >= 0.5 > sharpness[2]
    assert _edge_sharpness(labels, image, 0.02, 20.0, None, _WIDE_RING)[2] >= 0.9
    rims = _rim_gradient(labels, image, 0.02, 20.0, None,
                         ndi.gaussian_gradient_magnitude(image, 1.0))
    assert 0.6 * rims[1] <= rims[2] < rims[1] < 4.0
    peak = np.r_[np.inf, [float(image[labels == i].max()) for i in (1, 2)]]
    out, _ = _drop_unsharp(labels.copy(), image, 0.02, 20.0, peak, np.zeros(3),
                           sharp=0.5, recut=0.0, trim=0.3, steep=4.0)
    assert (out == 1).any() and (out == 2).any()


def test_a_smudge_with_one_kept_neighbour_is_still_dropped():
    # Round 21's guard: a Gaussian bump beside one sharp disc whose rim (2.9) is below the
    # bar of 3.4; the bump is unsharp (0.45 < 0.5) and its rim (2.3) passes 0.6 x the
    # disc's, but 0.15-0.3 d outside it is still bright (0.79 < 0.9): a smudge, dropped;
    # the disc stays

    from napari_tessella.nuclei._cues import _WIDE_RING, _edge_sharpness

    rr, cc = np.indices((80, 110), dtype=float)
    bump = 0.8 * np.exp(-((rr - 40) ** 2 + (cc - 71) ** 2) / (2 * 9.0 ** 2))
    image, labels = _two_discs(0.2, 2.0, blur=3.0)
    image = image + bump
    labels[(bump > 0.3 * 0.8) & (labels == 0)] = 2
    assert _edge_sharpness(labels, image, 0.02, 20.0, None, _WIDE_RING)[2] < 0.9
    peak = np.r_[np.inf, [float(image[labels == i].max()) for i in (1, 2)]]
    out, _ = _drop_unsharp(labels.copy(), image, 0.02, 20.0, peak, np.zeros(3),
                           sharp=0.5, recut=0.0, trim=0.3)  # no higher cut
    assert (out == 1).any() and not (out == 2).any()
