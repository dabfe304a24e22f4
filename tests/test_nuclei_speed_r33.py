"""Round 33: the distance transform of a mask from two passes of whole-array steps
(``_label_image._edt_squares``): its roots are scipy's distances, bit for bit, or it
declines (a distance beyond its reach) and the transform is scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella._label_image as li


def _roots(mask):
    squares = li._edt_squares(mask)
    return None if squares is None else np.sqrt(squares, dtype=np.float64)


@settings(deadline=None, max_examples=300)
@given(hnp.arrays(bool, st.tuples(st.integers(1, 30), st.integers(1, 30))),
       st.sampled_from([0, 1, 2, 3, 128]))
def test_squares_are_scipys_or_declined(mask, reach):
    """Any mask, any reach: the roots of the squares are scipy's distances, or None."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(li, "_REACH", reach)
        got = _roots(mask)
        whole = li._mask_distance(mask)
    want = ndi.distance_transform_edt(mask)
    if got is not None:
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(whole, want)


@pytest.mark.parametrize("seed", range(6))
def test_blobs_of_a_working_image(seed):
    """Blurred blobs on a working image's scale (distances up to ~20 px): taken, exact."""
    rng = np.random.default_rng(seed)
    mask = ndi.gaussian_filter(rng.random((206, 269)), 2 + seed) > 0.5
    got = _roots(mask)
    assert got is not None
    np.testing.assert_array_equal(got, ndi.distance_transform_edt(mask))


def test_a_column_without_background_is_capped_and_checked():
    """A column of ones from top to bottom is capped at the reach; a distance beyond it
    declines (scipy's then), one within it stands."""
    mask = np.ones((60, 9), bool)
    mask[:, 0] = False
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(li, "_REACH", 4)
        assert li._edt_squares(mask) is None  # distances up to 8: beyond 4
        mp.setattr(li, "_REACH", 9)
        np.testing.assert_array_equal(_roots(mask), ndi.distance_transform_edt(mask))


def test_no_background_declines():
    """All ones (scipy's own convention there) and a single row: declined."""
    assert li._edt_squares(np.ones((40, 40), bool)) is None
    assert li._edt_squares(np.ones((1, 40), bool)) is None
    assert li._edt_squares(np.ones((40, 40), np.uint8)) is None
    np.testing.assert_array_equal(li._mask_distance(np.ones((40, 40), bool)),
                                  ndi.distance_transform_edt(np.ones((40, 40), bool)))
