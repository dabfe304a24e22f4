"""Round 21: the distance transform of a mask computed component by component in each
one's box widened by a pixel (``_label_image._mask_distance``) is scipy's transform of
the whole mask, exactly: the labels must stay pixel-identical."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella._label_image as li


@pytest.fixture
def boxes_always(monkeypatch):
    """Never the whole-image fallback: the boxes' path is the one under test (nor the
    whole mask's squares of round 33, ``_edt_squares``)."""
    monkeypatch.setattr(li, "_PER_BOX", -10**9)
    monkeypatch.setattr(li, "_REACH", 0)


@settings(deadline=None)
@given(hnp.arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24))),
       st.sampled_from(["four", "eight", "none"]))
def test_mask_distance_is_the_whole_transform(mask, parts):
    """Diagonal contacts, components touching the sides, one filling the array: the
    components given (4- or 8-connected: an id holding several 4-components) or made."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(li, "_PER_BOX", -10**9)
        mp.setattr(li, "_REACH", 0)
        given_parts = {"four": ndi.label(mask)[0],
                       "eight": ndi.label(mask, structure=np.ones((3, 3)))[0],
                       "none": None}[parts]
        got = li._mask_distance(mask, given_parts)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ndi.distance_transform_edt(mask))


@pytest.mark.parametrize("seed", range(4))
def test_mask_distance_of_blobs_near_each_other(seed, boxes_always):
    """Blobs whose boxes overlap, on a larger array (ties of many offsets)."""
    rng = np.random.default_rng(seed)
    mask = ndi.gaussian_filter(rng.random((90, 120)), 3) > 0.52
    labels = ndi.label(mask)[0]
    np.testing.assert_array_equal(li._mask_distance(mask, labels),
                                  ndi.distance_transform_edt(mask))
    np.testing.assert_array_equal(li._mask_distance(mask),
                                  ndi.distance_transform_edt(mask))


def test_mask_distance_whole_image_fallback_is_the_same():
    """One blob over most of the array: the boxes would cost as much, the whole taken."""
    mask = np.zeros((40, 50), bool)
    mask[1:39, 2:48] = True
    mask[20, 20] = False
    np.testing.assert_array_equal(li._mask_distance(mask), ndi.distance_transform_edt(mask))
