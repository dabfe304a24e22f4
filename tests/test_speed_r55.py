"""Round 55: exact speed-ups of the nuclei recipe — scipy's binary dilations by squares
and by iterated crosses taken by slices (``_label_image._square_dilated`` of any odd
side, ``_crosses_dilated``), the glow search's maximum filter of its saturated pixels by
``_square_filter``; each against the scipy call it replaces, bit for bit, and the glow
search's regrown outlines (round 51) the same with either."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella._label_image as li

_MASKS = hnp.arrays(bool, st.tuples(st.integers(1, 30), st.integers(1, 30)))


@settings(deadline=None, max_examples=300)
@given(_MASKS, st.integers(0, 16))
def test_a_square_dilation_of_any_odd_side_is_scipys(mask, half):
    """Fails on the base: its ``_square_dilated`` takes the 3 x 3 square only."""
    side = 2 * half + 1
    assert np.array_equal(li._square_dilated(mask, side),
                          ndi.binary_dilation(mask, np.ones((side, side), bool)))


@settings(deadline=None, max_examples=200)
@given(_MASKS, st.integers(0, 20))
def test_the_maximum_filter_of_a_mask_is_scipys(mask, half):
    """The glow search's pixels near a saturated cell (``_dim._glow_dim``'s ``near_cell``),
    a window wider than the mask included (scipy's then)."""
    side = 2 * half + 1
    assert np.array_equal(li._square_filter(mask, side, True),
                          ndi.maximum_filter(mask, side))


@pytest.fixture(scope="module")
def field():
    # round 51's tuning field: its dim nucleus 6 beside a glow is regrown (two bands)
    return benchmark("nuclei_cellline").uneven_field(12600)


def test_the_glow_search_reads_the_same_bands_as_with_scipy(field, monkeypatch):
    """Fails on the base (its glow search has no ``_square_dilated``): the recipe's labels
    with the bands' dilations by slices and with scipy's are the same, and the bands were
    read (the regrowth ran)."""
    from napari_tessella.nuclei import _dim, seeded_watershed

    image, _ = field
    sides = []

    def counted(mask, side=3):
        sides.append(side)
        return li._square_dilated(mask, side)

    monkeypatch.setattr(_dim, "_square_dilated", counted)
    fast = seeded_watershed(image).labels
    assert 2 * _dim._GLOW_BAND[1] + 1 in sides

    def scipys(mask, side=3):
        return ndi.binary_dilation(mask, np.ones((side, side), bool))

    monkeypatch.setattr(_dim, "_square_dilated", scipys)
    assert np.array_equal(seeded_watershed(image).labels, fast)
