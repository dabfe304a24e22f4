"""Out-of-focus glows left out of the diameter estimate (round 34, ``nuclei._glows``)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark
from hypothesis import given, settings
from hypothesis import strategies as st
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
    return components(small, 50)


def components(small, cut):
    """What ``_without_glows`` reads of ``small`` cut at ``cut`` (its background 0): the
    components' inscribed radii and areas, the image, its level, labels and distances."""
    mask = small > cut
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


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 14), st.floats(0.5, 20.0))
def test_what_is_left_out_is_wide_and_enough_is_kept(seed, count, edge):
    """On random fields of discs (one wide with an edge of random width, the others
    small, any of them overlapping or cut by the border), the rule returns a non-empty
    subset of the components; when it leaves one out (about a third of the examples), at
    least three are kept and each one left out is at least 2.5x the narrowest kept."""
    rng = np.random.default_rng(seed)
    rr, cc = np.indices((160, 160), dtype=float)
    small = np.zeros((160, 160))
    for k in range(count):
        r0, c0 = rng.uniform(0, 160, 2)
        # the first wide, its edge of random width; the others of nucleus size or not
        disc = np.hypot(rr - r0, cc - c0) <= rng.uniform(*((20, 50) if k == 0 else (2, 14)))
        small += ndi.gaussian_filter(disc * rng.uniform(50, 150), edge if k == 0 else 1.0)
    mask = small > 25
    labels, n = ndi.label(mask)
    if n == 0:
        return
    dist = ndi.distance_transform_edt(mask)
    radius = np.array(ndi.maximum(dist, labels, np.arange(1, n + 1)), dtype=float)
    area = np.bincount(labels.ravel())[1:].astype(float)
    kept_r, kept_a = _without_glows(radius, area, small, 0.0, labels, dist)
    assert 0 < kept_r.size <= radius.size and kept_r.size == kept_a.size
    # the kept ones are components as they were (with their areas), at least three stay,
    # and each one left out is at least 2.5x the narrowest kept one
    pairs = {(float(r), float(a)) for r, a in zip(radius, area, strict=True)}
    assert all((float(r), float(a)) in pairs for r, a in zip(kept_r, kept_a, strict=True))
    if kept_r.size < radius.size:
        assert kept_r.size >= 3
        gone = sorted(set(zip(radius.tolist(), area.tolist(), strict=True))
                      - set(zip(kept_r.tolist(), kept_a.tolist(), strict=True)))
        assert min(r for r, _ in gone) >= 2.5 * kept_r.min()
