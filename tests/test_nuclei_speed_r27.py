"""Round 27: exact speed-ups of the nuclei recipe, each against the plain computation it
replaces, bit for bit (the labels must stay pixel-identical)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella._label_image as li
from napari_tessella.nuclei import _background as bg
from napari_tessella.nuclei import diameter as dm
from napari_tessella.nuclei._resample import _downsample
from napari_tessella.threshold import LI_BINS, _hist_edges, _histogram, compute_threshold


@settings(deadline=None)
@given(hnp.arrays(bool, st.tuples(st.integers(1, 30), st.integers(1, 30))))
def test_box_distance_is_scipys_where_own(mask):
    """The distances of the box's own pixels (one 4-component), the rest left as given."""
    parts = ndi.label(mask)[0]
    want = ndi.distance_transform_edt(mask)
    at = np.arange(max(mask.shape), dtype=np.int32)
    for k in range(1, int(parts.max()) + 1):
        own = parts == k
        out = np.full(mask.shape, -1.0)
        got = li._box_distance(mask, at, own, out)
        assert got is out
        np.testing.assert_array_equal(out[own], want[own])
        assert (out[~own] == -1.0).all()


def _images():
    rng = np.random.default_rng(7)
    yield rng.random((40, 50))
    yield np.log(np.maximum(ndi.gaussian_filter(rng.normal(size=(60, 45)), 1.5), 0) + 1e-3)
    yield rng.normal(size=(33, 21)) * 1e-80 + 5e-79
    yield rng.normal(size=(30, 30)) * 1e120  # rescaled by the threshold: taken as it is
    yield np.round(rng.random((25, 40)) * 4)  # a few levels, ties at the edges
    yield rng.random((20, 20)).astype(np.float32)  # float32: taken as it is
    yield rng.random((1, 20))  # too small for the fast path


@pytest.mark.parametrize("img", list(_images()), ids=lambda a: f"{a.dtype}{a.shape}")
def test_image_otsu_is_compute_threshold(img):
    if min(img.shape) < 2:
        with pytest.raises(ValueError):
            compute_threshold(img, "otsu")
        with pytest.raises(ValueError):
            bg._image_otsu(img)
        return
    want = float(compute_threshold(img, "otsu"))
    got = bg._image_otsu(img)
    assert got == want and np.signbit(got) == np.signbit(want)


def test_image_otsu_of_a_constant_image_raises_as_before():
    with pytest.raises(ValueError, match="constant"):
        bg._image_otsu(np.full((10, 10), 3.0))


@pytest.mark.parametrize("img", list(_images())[:6], ids=lambda a: f"{a.dtype}{a.shape}")
def test_fine_histogram_is_the_histogram_on_its_edges(img):
    """Counts and edges from one numpy histogram over (min, max): those of
    ``_histogram(img, _hist_edges(...))``, for float64 and float32 images."""
    (counts, centres, width), otsu = bg._fine_histogram(img)
    lo, hi = float(img.min()), float(img.max())
    edges = _hist_edges(lo, hi, LI_BINS, img.dtype)
    np.testing.assert_array_equal(counts, _histogram(img, edges))
    np.testing.assert_array_equal(centres, edges[:-1] / 2 + edges[1:] / 2)
    assert width == float(edges[1] - edges[0])
    assert otsu == bg._otsu(img, counts, edges, lo, hi)


@settings(deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 1000)),
       st.integers(0, 120))
def test_box_running_sums(values, size):
    """The running sums as slices of the cumulative sums: the index arrays' values."""
    values = values.astype(np.float64)
    if size <= 1:
        assert bg._box(values, size) is values
        return
    pad = min(size, values.size)
    ext = np.concatenate([values[:pad][::-1], values, np.zeros(pad)])
    cum = np.concatenate([[0.0], np.cumsum(ext)])
    lo = np.arange(values.size) + pad - size // 2
    try:
        want = cum[lo + size] - cum[lo]
    except IndexError:  # a box far wider than the values: the same error as before
        with pytest.raises(IndexError):
            bg._box(values, size)
        return
    np.testing.assert_array_equal(bg._box(values, size), want)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1030, 1349), (517, 263), (300, 301)])
def test_estimate_leaves_its_block_means(dtype, shape):
    """The estimate from the whole image's block means (the partial blocks completed) is
    the estimate from ``_downsample``; their whole blocks are ``_downsample`` bit for bit."""
    rng = np.random.default_rng(shape[0])
    base = ndi.gaussian_filter(rng.random(shape), 4)
    img = (base / base.max() * (200 if dtype == np.uint8 else 4000)).astype(dtype)
    whole = {}
    assert dm._estimate_in_memory(img, whole) == dm._estimate_in_memory(img)
    assert whole
    for factor, means in whole.items():
        part = _downsample(img, factor)
        np.testing.assert_array_equal(means[:part.shape[0], :part.shape[1]], part)
        assert means.shape == tuple(-(-s // factor) for s in shape)
