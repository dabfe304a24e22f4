"""Round 49: the review's mends, a refactor with every label identical. The one
sort-based per-group quantile (``_quantiles._group_quantiles``) is ``np.quantile``
per group, group 0 and the counts included, on both of its sorts (the int64 keys and the
plain argsorts for values too spread for a key)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

import napari_tessella._label_image as li
import napari_tessella._quantiles as qu
from napari_tessella.nuclei import _cues
from napari_tessella.nuclei import _glow_model as gm

#: values whose keys fit (one binade), too spread for a key, whole numbers (many ties)
#: and signed ones (a zero of either sign)
_VALUES = {
    "keys": lambda rng, m: 1.0 + rng.random(m),
    "spread": lambda rng, m: 10.0 ** rng.uniform(-30, 30, m),
    "ties": lambda rng, m: np.round(rng.random(m) * 20.0),
    "signed": lambda rng, m: np.where(rng.random(m) < 0.1, 0.0, rng.normal(size=m)),
}


def _each_group(values, groups, size, q, method):
    """``np.quantile`` of each group's values one by one (nan where it is empty)."""
    out = np.full(size, np.nan)
    for g in range(size):
        v = values[groups == g]
        if v.size:
            out[g] = np.quantile(v, q, method=method)
    return out


@pytest.mark.parametrize("kind", sorted(_VALUES))
@pytest.mark.parametrize("seed", range(4))
def test_group_quantiles_are_numpys_lower_per_group_with_group_0(kind, seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 60))
    m = int(rng.integers(0, 800))
    groups = rng.integers(0, size, m)
    values = _VALUES[kind](rng, m)
    if kind == "keys":
        assert qu._sorted_keys(groups, values) is not None
    if kind == "spread" and m > 1:
        assert qu._sorted_keys(groups, values) is None
    qs = (0.0, 0.25, 0.5, 0.9, 1.0)
    outs, counts = qu._group_quantiles(values, groups, size, qs)
    assert np.array_equal(counts, np.bincount(groups, minlength=size))
    for out, q in zip(outs, qs, strict=True):
        assert out.dtype == np.float64
        assert np.array_equal(out, _each_group(values, groups, size, q, "lower"),
                              equal_nan=True)


def test_group_quantiles_fill_the_empty_groups():
    outs, counts = qu._group_quantiles(np.array([3.0, 1.0, 2.0]), np.array([2, 2, 0]), 4,
                                       (0.5,), fill=-1.0)
    assert np.array_equal(outs[0], [2.0, -1.0, 1.0, -1.0])
    assert np.array_equal(counts, [1, 0, 2, 0])
    (out,), counts = qu._group_quantiles(np.empty(0), np.empty(0, np.int64), 3, (0.5,))
    assert np.isnan(out).all() and out.size == 3 and not counts.any()


@pytest.mark.parametrize("seed", range(3))
def test_label_quantiles_are_the_groups_of_the_labelled_pixels(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 9, (40, 30)).astype(np.int32)
    labels[labels == 4] = 0  # an absent label: -inf
    values = rng.random((40, 30)).astype(np.float32) * 300
    qs = (0.1, 0.5, 0.9)
    got = _cues._label_quantiles(values, labels, 8, qs)
    for out, q in zip(got, qs, strict=True):
        want = _each_group(values.ravel().astype(np.float64), labels.ravel(), 9, q, "lower")
        want[0] = want[4] = -np.inf  # group 0 is not a label's
        assert np.array_equal(out, want)


@pytest.mark.parametrize("kind", sorted(_VALUES))
@pytest.mark.parametrize("seed", range(4))
def test_group_quantiles_linear_are_numpys_bits(kind, seed):
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(1, 40))
    m = int(rng.integers(0, 600))
    groups = rng.integers(0, size, m)
    values = _VALUES[kind](rng, m)
    qs = (0.0, 0.1, 0.5, 0.9, 1.0, float(rng.random()))
    outs, _ = qu._group_quantiles(values, groups, size, qs, method="linear")
    for out, q in zip(outs, qs, strict=True):
        want = _each_group(values, groups, size, q, "linear")
        assert np.array_equal(out.view(np.int64), want.view(np.int64))  # the bits, zeros' signs


def test_group_quantiles_linear_of_one_value_and_of_zeros():
    values = np.array([-0.0, 2.0, -0.0, -0.0, 5.0, 7.0])
    groups = np.array([0, 1, 2, 2, 3, 3])
    (out,), _ = qu._group_quantiles(values, groups, 4, (0.9,), method="linear")
    want = [np.quantile(values[groups == g], 0.9) for g in range(4)]
    assert np.array_equal(out.view(np.int64), np.array(want).view(np.int64))


def test_basins_heights_are_labeled_comprehensions_quantile():
    """The glow model's basins' 0.9 quantiles (round 47: ``ndi.labeled_comprehension``
    with ``np.quantile``) are the shared helper's "linear" ones, bit for bit."""
    rng = np.random.default_rng(7)
    soft = ndi.gaussian_filter(rng.normal(size=(60, 50)), 2)
    basins = rng.integers(0, 12, (60, 50)).astype(np.int32)
    got = _cues._label_quantiles(soft, basins, 11, (0.9,), "linear")[0]
    want = ndi.labeled_comprehension(soft, basins, np.arange(1, 12),
                                     lambda v: np.quantile(v, 0.9), float, 0)
    assert np.array_equal(got[1:], want)


@pytest.mark.parametrize("d", [6.0, 11.5, 17.0, 28.0])
def test_glow_window_holds_what_the_glow_model_reads(d):
    """One reach (``_glow_model._model_reach``): the pieces' crop is the saturated box
    widened by it, and a chunk's window grown for that cell holds the crop."""
    shape = (400, 420)
    smooth = np.zeros(shape)
    box = (slice(190, 204), slice(200, 217))
    smooth[box] = 100.0
    bright = smooth > 50
    _, crop = gm._over_glow_pieces(np.zeros(shape, np.int32), smooth, bright, 1.0, d, 5)
    assert crop == li._widened(box, gm._model_reach(d), shape)
    lo, hi = gm._glow_window(smooth, 1.0, d, (slice(195, 196), slice(205, 206)),
                             (195, 205), (196, 206), 0)
    assert all(lo[a] <= crop[a].start and crop[a].stop <= hi[a] for a in range(2))
