"""Round 48: faster steps of the nuclei recipe that must give numpy's and scipy's bits.

Each helper is compared with the call it replaces on random inputs made to hit its edge
cases (values on bin edges, ties, signed zeros, masks without a zero in a column)."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella._label_image import _binary_dilation, _binary_erosion, _edt_squares
from napari_tessella.nuclei._background import _equal_bins, _robust_level
from napari_tessella.nuclei._cues import _label_quantiles
from napari_tessella.nuclei._foreground import _ordered_histogram
from napari_tessella.threshold import _hist_edges


@pytest.mark.parametrize("seed", range(4))
def test_edt_squares_are_scipys_distances(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        shape = tuple(rng.integers(2, 70, 2))
        mask = ndi.gaussian_filter(rng.random(shape), rng.uniform(0.5, 8)) > rng.uniform(0.3, 0.6)
        squares = _edt_squares(mask)
        if squares is not None:
            assert squares.shape == mask.shape and squares.flags.c_contiguous
            assert np.array_equal(np.sqrt(squares, dtype=np.float64),
                                  ndi.distance_transform_edt(mask))
    whole = np.ones((40, 300), bool)  # no 0 at all: capped, not trusted
    assert _edt_squares(whole) is None
    whole[20, 150] = False  # one 0: distances up to 150 along the rows
    squares = _edt_squares(whole)
    assert squares is None or np.array_equal(np.sqrt(squares, dtype=np.float64),
                                             ndi.distance_transform_edt(whole))


def _cases(rng):
    for _ in range(150):
        k = int(rng.integers(2, 3000))
        yield [rng.normal(size=k) * 10 ** rng.uniform(-200, 200),
               rng.integers(0, 7, size=k) / 3.0,  # values on the bin edges
               1000 + rng.random(k) * 1e-9,  # a narrow range far from 0
               np.linspace(-3, 5, k),
               rng.random(k) ** 7][int(rng.integers(0, 5))]


def test_equal_bins_is_numpys_histogram():
    rng = np.random.default_rng(1)
    for values in _cases(rng):
        lo, hi = float(values.min()), float(values.max())
        if not lo < hi:
            continue
        for bins in (7, 256, 65536):
            try:
                want = np.histogram(values, bins=bins, range=(lo, hi))
            except ValueError:  # too many bins for the range: numpy's error, as numpy
                with pytest.raises(ValueError):
                    _equal_bins(values, bins, lo, hi)
                continue
            got = _equal_bins(values, bins, lo, hi)
            assert got[0].dtype == want[0].dtype
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_robust_level_is_numpys_two_medians():
    rng = np.random.default_rng(2)
    arrays = list(_cases(rng))
    arrays += [rng.integers(-3, 4, size=int(rng.integers(1, 200))).astype(float)
               for _ in range(300)]  # ties at the median and at its distances
    arrays += [np.array([-0.0, 0.0, 0.0]), np.array([1.0, np.inf, -np.inf, 2.0]),
               np.array([3.0]), rng.normal(size=(7, 9))]
    for values in arrays:
        level = float(np.median(values))
        want = (level, 1.4826 * float(np.median(np.abs(values - level))))
        got = _robust_level(values)
        assert np.array_equal(got, want)
        assert [np.signbit(v) for v in got] == [np.signbit(v) for v in want]
    with np.errstate(invalid="ignore"):
        assert np.isnan(_robust_level(np.array([1.0, np.nan]))[0])


def test_ordered_histogram_is_numpys_weighted_histogram():
    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.integers(1, 5000))
        values = np.log(np.maximum(np.linspace(0, 5, k) - rng.uniform(0, 3), 0)
                        + rng.uniform(1e-3, 1))  # ties where the log is flattened
        weights = rng.integers(0, 50, k)
        lo, hi = float(values.min()), float(values.max())
        if not lo < hi:
            continue
        edges = _hist_edges(lo, hi, 256, np.float64)
        want = np.histogram(values, bins=edges, weights=weights)[0]
        got = _ordered_histogram(values, edges, weights)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    # out of order, or weights that are not whole numbers: numpy's own
    values, weights = rng.normal(size=100), rng.random(100)
    edges = np.linspace(-3, 3, 11)
    assert np.array_equal(_ordered_histogram(values, edges, weights),
                          np.histogram(values, bins=edges, weights=weights)[0])


def test_label_quantiles_keep_their_values():
    rng = np.random.default_rng(4)
    for values in ([rng.normal(size=(30, 40)), np.where(rng.random((30, 40)) < 0.5, -0.0, 0.0),
                    rng.random((30, 40))]):
        labels = rng.integers(0, 6, (30, 40))
        before = values.copy()
        lows, mids = _label_quantiles(values, labels, 5, (0.25, 0.5))
        assert np.array_equal(before.view(np.int64), values.view(np.int64))  # unchanged
        for i in range(1, 6):
            own = np.sort(values[labels == i])
            k = own.size - 1
            assert lows[i] == own[int(np.floor(0.25 * k))]
            assert mids[i] == own[int(np.floor(0.5 * k))]


def test_shifted_binary_morphology_is_scipys():
    rng = np.random.default_rng(5)
    for _ in range(200):
        mask = rng.random(tuple(rng.integers(1, 30, 2))) > 0.4
        footprint = rng.random((2 * rng.integers(0, 3) + 1, 2 * rng.integers(0, 3) + 1)) > 0.3
        if not footprint.any():
            continue
        for border in (0, 1):
            assert np.array_equal(_binary_erosion(mask, footprint, border),
                                  ndi.binary_erosion(mask, footprint, border_value=border))
        assert np.array_equal(_binary_dilation(mask, footprint),
                              ndi.binary_dilation(mask, footprint))
