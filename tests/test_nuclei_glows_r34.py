"""Out-of-focus glows left out of the diameter estimate (round 34, ``nuclei._glows``)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import estimate_object_diameter
from napari_tessella.nuclei._glows import _without_glows


def _discs(big_edge: float):
    """Eight sharp discs of radius 8 and one of radius 40 whose edge has the width
    ``big_edge`` (a Gaussian blur of that sigma), cut at half their own contrast as the
    estimate cuts them; returns what ``_without_glows`` reads."""
    rr, cc = np.indices((300, 300), dtype=float)
    small = np.zeros((300, 300))
    big = np.hypot(rr - 150, cc - 150) <= 40
    small += ndi.gaussian_filter(big * 100.0, big_edge)
    sharp = np.zeros_like(small)
    for r0, c0 in [(20, 20), (20, 80), (20, 220), (20, 280), (280, 20), (280, 100),
                   (280, 200), (280, 280)]:
        sharp[np.hypot(rr - r0, cc - c0) <= 8] = 100.0
    small += ndi.gaussian_filter(sharp, 1.5)
    mask = small > 50
    labels, n = ndi.label(mask)
    dist = ndi.distance_transform_edt(mask)
    radius = np.array(ndi.maximum(dist, labels, np.arange(1, n + 1)))
    area = np.bincount(labels.ravel())[1:].astype(float)
    return radius, area, small, 0.0, labels, dist


def test_a_wide_edged_disc_carrying_the_median_is_left_out():
    radius, area, *rest = _discs(big_edge=15.0)
    assert np.median(np.repeat(radius, area.astype(int))) > 30  # it carries the median
    kept_r, _ = _without_glows(radius, area, *rest)
    assert kept_r.size == radius.size - 1
    assert kept_r.max() < 10


def test_a_sharp_large_nucleus_among_small_ones_is_kept():
    radius, area, *rest = _discs(big_edge=1.5)
    kept_r, kept_a = _without_glows(radius, area, *rest)
    assert kept_r is radius and kept_a is area


@pytest.mark.parametrize("seed", [411, 422, 437])
def test_uneven_fields_with_glows_are_estimated_at_their_nuclei(seed):
    """``uneven d32`` fields (saturated cells with glows on uneven light) the estimate put
    at 2-5x their nuclei before the rule (64, 160 and 67 px for nuclei of about 32)."""
    image, truth = benchmark("nuclei_cellline").uneven_field(seed)
    area = np.bincount(truth.ravel())[1:]
    true_d = float(np.median(2 * np.sqrt(area[area > 0] / np.pi)))
    d = estimate_object_diameter(image)
    assert 0.7 * true_d < d < 1.3 * true_d
    assert estimate_object_diameter(np.fliplr(image)) == pytest.approx(d)
