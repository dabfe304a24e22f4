"""Round 51: exact speed-ups of the nuclei recipe on U2OS images, each against the
computation it replaces, bit for bit: the square minimum and maximum filters (the local
background's openings, the crowd's and the dim rings' label filters) by runs doubled
along each axis (``_label_image._square_filter``).

These fail on the round's base: the helper does not exist there."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

from napari_tessella._label_image import _square_filter

_FILTERS = {True: ndi.maximum_filter, False: ndi.minimum_filter}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@settings(deadline=None, max_examples=300)
@given(hnp.arrays(st.sampled_from([np.float64, np.int32, np.uint16]),
                  st.tuples(st.integers(1, 40), st.integers(1, 40)),
                  elements=st.integers(0, 50)),
       st.integers(1, 45), st.booleans(), st.sampled_from(["reflect", "constant"]),
       st.integers(0, 60))
def test_square_filter_is_scipys(img, size, largest, mode, cval):
    """Every side (odd ones by the doubled runs; even ones and windows wider than the
    array by scipy), both extremes, both modes, ties of equal values everywhere."""
    want = _FILTERS[largest](img, size, mode=mode, cval=cval)
    assert _same(_square_filter(img, size, largest, mode=mode, cval=cval), want)


@pytest.mark.parametrize("size", [3, 7, 39, 73])
@pytest.mark.parametrize("largest", [False, True])
def test_square_filter_on_a_smooth_working_image(size, largest):
    """A smoothed field of the working images' size and the recipe's sides (the local
    background's 39, the estimate's 73): the same floats, and the opening too."""
    rng = np.random.default_rng(size)
    img = ndi.gaussian_filter(rng.random((206, 270)), 1.5) - 0.5  # signs of both kinds
    assert _same(_square_filter(img, size, largest), _FILTERS[largest](img, size))
    opened = ndi.maximum_filter(ndi.minimum_filter(img, size), size)
    assert _same(_square_filter(_square_filter(img, size, False), size, True), opened)


def test_square_filter_leaves_nan_to_scipy():
    """scipy's comparisons let a NaN through otherwise than ``np.minimum``: such an image
    is filtered by scipy itself."""
    img = np.arange(30.0).reshape(5, 6)
    img[2, 3] = np.nan
    for largest in (False, True):
        assert _same(_square_filter(img, 3, largest), _FILTERS[largest](img, 3))


def test_square_filter_keeps_the_input():
    img = np.random.default_rng(1).random((20, 30))
    before = img.copy()
    _square_filter(img, 5, False)
    _square_filter(img, 5, True, mode="constant", cval=2.0)
    assert np.array_equal(img, before)
