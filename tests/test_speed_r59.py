"""Round 59: cheaper formulations of steps of the nuclei defaults, each returning exactly
what the one it replaced returned (the labels of the 101-image dump unchanged).

These tests compare the new code with the old formulation, written out here, on varied
inputs. The behaviour is unchanged by design, so they pass on the round's base as well
(where the new helpers are missing they are skipped there); the speed is measured in
``benchmarks/nuclei_speed.py``, never asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella.nuclei import _cues


@st.composite
def _labelled(draw, most_ids=6):
    """A small float image (values drawn from few levels: ties, zeros, negatives) and a
    label image of ids 0..k with some ids missing."""
    rows = draw(st.integers(2, 14))
    cols = draw(st.integers(2, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    levels = rng.choice([-3.5, -1.0, 0.0, 0.25, 2.0, 7.0, 1e300], size=5)
    values = rng.choice(levels, size=(rows, cols)) + (rng.random((rows, cols)) < 0.5) * \
        rng.normal(size=(rows, cols))
    k = draw(st.integers(0, most_ids))
    labels = rng.integers(0, k + 1, size=(rows, cols)).astype(
        draw(st.sampled_from([np.int32, np.intp])))
    return values, labels, k


@settings(max_examples=200, deadline=None)
@given(_labelled(), st.data())
def test_labels_maximum_is_scipys(case, data):
    """``_small._labels_maximum`` (the peaks of new labels) is ``ndi.maximum``, present
    ids and absent ones (0 there) alike."""
    _small = pytest.importorskip("napari_tessella.nuclei._small")
    if not hasattr(_small, "_labels_maximum"):
        pytest.skip("the base has no _labels_maximum")
    values, labels, k = case
    ids = np.asarray(data.draw(st.lists(st.integers(1, k + 3), min_size=1, max_size=5)))
    got = _small._labels_maximum(values, labels, ids)
    want = np.asarray(ndi.maximum(values, labels, ids), dtype=np.float64)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


@settings(max_examples=200, deadline=None)
@given(_labelled())
def test_glow_heights_are_scipys(case):
    """The glow pieces' heights: ``_label_max`` with inf at 0, as the concatenation of inf
    and ``ndi.maximum`` over the ids 1..k of a labelling (every id present)."""
    values, mask, _ = case
    parts, k = ndi.label(mask > 0)
    got = _cues._label_max(values, parts, k)
    got[0] = np.inf
    want = np.concatenate([[np.inf], ndi.maximum(values, parts, np.arange(1, k + 1))])
    np.testing.assert_array_equal(got, want)


@st.composite
def _image(draw):
    """A float image with ties, -inf (``_split_clusters`` masks its box so) and both signs."""
    rows, cols = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    img = rng.choice([-np.inf, -2.0, 0.0, 1.0, 3.5], size=(rows, cols)) + \
        (rng.random((rows, cols)) < 0.5) * rng.normal(size=(rows, cols))
    return img


@settings(max_examples=300, deadline=None)
@given(_image(), st.integers(1, 31))
def test_square_maximum_is_scipys(img, size):
    """The windows' maxima of ``_split_clusters``, ``_log_peaks``, the glow model's bumps
    and the glow pieces' local height: ``_square_filter(x, size, True)`` for
    ``ndi.maximum_filter(x, size)``, any side (even ones and wider than the box go to
    scipy)."""
    from napari_tessella._label_image import _square_filter

    np.testing.assert_array_equal(_square_filter(img, size, True),
                                  ndi.maximum_filter(img, size))


@settings(max_examples=300, deadline=None)
@given(_image(), st.integers(0, 7).map(lambda k: 2 * k + 1))
def test_square_opening_is_scipys(img, size):
    """The glow pieces' body: two square filters for ``ndi.grey_opening(x, size)``, odd
    sides as the recipe's (an even side shifts scipy's dilation by a pixel)."""
    from napari_tessella._label_image import _square_filter

    img = np.where(np.isinf(img), 0.0, img)  # (the body is opened from finite values)
    np.testing.assert_array_equal(
        _square_filter(_square_filter(img, size, False), size, True),
        ndi.grey_opening(img, size))


@settings(max_examples=300, deadline=None)
@given(_image(), st.integers(0, 2**32 - 1), st.sampled_from([np.float64, np.float32]))
def test_seed_heights_are_label_maxima(img, seed, dtype):
    """The h-maxima's seed heights read at one pixel of each seed are their maxima over
    every pixel (``_label_max``), on landscapes of plateaus and ties, in a mask."""
    from skimage.morphology import local_maxima

    _markers = pytest.importorskip("napari_tessella.nuclei._markers")
    if not hasattr(_markers, "_seed_heights"):
        pytest.skip("the base has no _seed_heights")
    landscape = np.round(np.where(np.isinf(img), -5.0, img)).astype(dtype)  # plateaus
    mask = np.random.default_rng(seed).random(landscape.shape) < 0.8
    seeds, n = ndi.label(local_maxima(landscape, connectivity=2, allow_borders=True) & mask,
                         structure=np.ones((3, 3), bool))
    got = _markers._seed_heights(landscape, seeds, n)
    want = _cues._label_max(landscape, seeds, n)
    np.testing.assert_array_equal(got[1:], want[1:])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([0.0, -0.0, 1.0, -2.5, 1e300, -1e300, 5e-324]),
                          st.floats(allow_nan=False, allow_infinity=False)),
                min_size=1, max_size=60),
       st.one_of(st.sampled_from([0.0, 0.5, 0.75, 0.9, 1.0]), st.floats(0.0, 1.0)))
def test_quantile_is_numpys(values, q):
    """The edge outlines' body level: ``_quantiles._quantile`` is ``np.quantile``'s
    "linear" quantile to the bit (sign of zero aside, which no comparison reads)."""
    _quantiles = pytest.importorskip("napari_tessella._quantiles")
    if not hasattr(_quantiles, "_quantile"):
        pytest.skip("the base has no _quantile")
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        want = float(np.quantile(values, q))
        got = _quantiles._quantile(values, q)
    assert got == want or (np.isnan(got) and np.isnan(want))
