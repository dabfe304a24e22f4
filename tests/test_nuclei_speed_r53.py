"""Round 53 (speed): helpers that give numpy's and skimage's results bit for bit, faster.

Both helpers are new in round 53: on the round's base these tests fail at their import.
"""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from napari_tessella._label_image import _nonzero
from napari_tessella.nuclei._basins import _flood, _neighbours, _watershed


def _random_case(rng):
    """A random 2-D watershed input: image (plateaus and ties often), markers, mask."""
    shape = tuple(int(x) for x in rng.integers(1, 30, 2))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        image = rng.random(shape)
    elif kind == 1:  # few levels: plateaus, ties settled by the pushes' ages
        image = rng.integers(0, 4, shape).astype(np.float64)
    elif kind == 2:
        image = ndi.gaussian_filter(rng.random(shape), 2).astype(np.float32)
    else:
        image = rng.integers(-2, 3, shape).astype(np.int32)
    mask = rng.random(shape) < rng.uniform(0.2, 1.0)
    dtype = (np.int32, np.int64, np.intp, np.uint16)[int(rng.integers(0, 4))]
    markers = np.zeros(shape, dtype)
    for i in range(int(rng.integers(0, 6))):
        markers[rng.integers(0, shape[0]), rng.integers(0, shape[1])] = i + 1
    return image, markers, mask


def test_watershed_is_skimages_bit_for_bit():
    rng = np.random.default_rng(53)
    for _ in range(800):
        image, markers, mask = _random_case(rng)
        for connectivity in (1, 2):
            want = watershed(image, markers, mask=mask, connectivity=connectivity)
            got = _watershed(image, markers, mask, connectivity)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_watershed_keywords_as_the_recipe_calls_it():
    rng = np.random.default_rng(7)
    image, markers, mask = _random_case(rng)
    np.testing.assert_array_equal(_watershed(-image, markers, mask=mask),
                                  watershed(-image, markers, mask=mask))


def test_watershed_other_inputs_go_to_skimage():
    rng = np.random.default_rng(1)
    image = rng.random((6, 7, 5))
    markers = np.zeros(image.shape, np.int32)
    markers[1, 1, 1], markers[4, 5, 3] = 1, 2
    np.testing.assert_array_equal(_watershed(image, markers, None),
                                  watershed(image, markers))
    flat = rng.random((9, 8))
    seeds = np.zeros(flat.shape, np.int32)
    seeds[2, 2], seeds[7, 6] = 1, 2
    np.testing.assert_array_equal(_watershed(flat, seeds, None), watershed(flat, seeds))


def test_neighbours_in_skimages_order():
    util = pytest.importorskip("skimage.morphology._util")
    for width in (3, 4, 9, 250):
        for connectivity in (1, 2):
            want = util._offsets_to_raveled_neighbors(
                (5, width), ndi.generate_binary_structure(2, connectivity), center=(1, 1))
            np.testing.assert_array_equal(_neighbours(width, connectivity), want)


def test_flood_is_still_the_whole_watershed():
    rng = np.random.default_rng(3)
    for _ in range(200):
        image, markers, mask = _random_case(rng)
        markers = markers.astype(np.int32)
        for connectivity in (1, 2):
            want = watershed(image, markers, mask=mask, connectivity=connectivity)
            got = _flood(image, markers, mask, connectivity)
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("make", [
    lambda rng: rng.random((17, 23)) < 0.3,
    lambda rng: rng.integers(-2, 3, (12, 31)).astype(np.int32),
    lambda rng: rng.integers(0, 3, (40, 1)).astype(np.intp),
    lambda rng: np.where(rng.random((9, 9)) < 0.5, -0.0,
                         np.where(rng.random((9, 9)) < 0.5, np.nan, 0.0)),
    lambda rng: np.zeros((0, 5), bool),
    lambda rng: np.ones((3, 4), bool),
    lambda rng: rng.random(30) < 0.5,
    lambda rng: rng.random((3, 4, 5)) < 0.5,
])
def test_nonzero_is_numpys(make):
    a = make(np.random.default_rng(0))
    want = np.nonzero(a)
    got = _nonzero(a)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_nonzero_of_a_view():
    a = (np.random.default_rng(2).random((20, 30)) < 0.4)[3:17:2, ::-3]
    for g, w in zip(_nonzero(a), np.nonzero(a), strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("kernel", ["missing", "raises", "floods otherwise"])
def test_a_changed_private_kernel_falls_back_to_skimage(monkeypatch, kernel):
    """skimage's compiled flood is private: when another skimage has none, calls it
    otherwise or floods otherwise, the trial refuses it and skimage's public watershed
    runs, with its result."""
    import sys
    import types

    from napari_tessella.nuclei import _basins

    def raises(*args):
        raise TypeError("watershed_raveled() takes 7 positional arguments")

    def floods_otherwise(image, at, offsets, mask, strides, compactness, out, wsl):
        out[mask.astype(bool)] = 1

    fake = types.ModuleType("skimage.segmentation._watershed_cy")
    if kernel != "missing":
        fake.watershed_raveled = raises if kernel == "raises" else floods_otherwise
    monkeypatch.setitem(sys.modules, "skimage.segmentation._watershed_cy", fake)
    monkeypatch.setattr(_basins, "_KERNEL", _basins._UNTRIED)
    rng = np.random.default_rng(5)
    image = rng.random((20, 30))
    markers = np.zeros(image.shape, np.int32)
    markers[3, 3], markers[15, 25] = 1, 2
    mask = image > 0.1
    got = _basins._watershed(image, markers, mask, connectivity=1)
    assert _basins._kernel() is None
    np.testing.assert_array_equal(got, watershed(image, markers, mask=mask, connectivity=1))
