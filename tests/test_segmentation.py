"""threshold_label: unit tests and the original recipe's figures.

measure_objects has its own tests, in test_measure.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella import THRESHOLD_METHODS, measure_objects, threshold_label


def two_blobs(dtype=np.float64):
    image = np.zeros((20, 20), dtype=dtype)
    image[2:6, 2:6] = 10
    image[10:15, 12:18] = 20
    image[7, 7] = 10  # a single bright pixel touching blob 1 only by a corner
    return image


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64])
def test_any_real_dtype(dtype):
    labels = threshold_label(two_blobs(dtype), 5)
    assert labels.dtype == np.int32
    assert labels.max() == 3


def test_connectivity_joins_corner_neighbours():
    image = np.zeros((6, 6))
    image[1, 1] = image[2, 2] = 1
    assert threshold_label(image, 0.5, connectivity=1).max() == 2
    assert threshold_label(image, 0.5, connectivity=2).max() == 1


def test_opening_removes_specks_and_min_size():
    image = two_blobs()
    assert threshold_label(image, 5, opening=2).max() == 2
    labels = threshold_label(image, 5, min_size=17)
    assert labels.max() == 1  # only the 5×6 blob has >= 17 pixels
    assert (labels > 0).sum() == 30


def test_exclude_border_and_sequential_ids():
    image = two_blobs()
    image[0:3, 15:20] = 30
    labels = threshold_label(image, 5, exclude_border=True)
    assert labels[0:3, 15:20].max() == 0
    assert sorted(np.unique(labels)) == [0, 1, 2, 3]


def test_dark_objects_finds_channels():
    image = np.ones((10, 10))
    image[3:5, 3:5] = 0
    labels = threshold_label(image, 0.5, dark_objects=True)
    assert labels.max() == 1 and (labels == 1).sum() == 4


@pytest.mark.parametrize("method", THRESHOLD_METHODS)
def test_every_method_runs(method):
    rng = np.random.default_rng(0)
    image = rng.normal(0.2, 0.05, (64, 64))
    image[20:40, 20:40] += 1
    labels = threshold_label(image, method)
    assert labels[30, 30] > 0
    assert labels[5, 5] == 0 or method == "minimum"


def test_rgb_is_luminance():
    gray = two_blobs()
    rgb = np.stack([gray] * 3, axis=-1)
    np.testing.assert_array_equal(threshold_label(rgb, 5), threshold_label(gray, 5))


def test_nothing_passes_gives_empty_labels():
    labels = threshold_label(two_blobs(), 100)
    assert labels.shape == (20, 20) and labels.max() == 0
    assert len(measure_objects(labels, two_blobs())) == 0


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.full((10, 10), 3.0), r"constant \(all values 3\)"),
        (np.zeros((2, 10, 10)), "2-D"),
        (np.array([[np.nan, 1.0], [0.0, 1.0]]), "NaN"),
        (np.zeros((10, 10), dtype=complex), "real numbers"),
    ],
)
def test_bad_images(image, match):
    with pytest.raises((ValueError, TypeError), match=match):
        threshold_label(image, 0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"connectivity": 3}, "connectivity"),
        ({"opening": -1}, "opening"),
        ({"smooth_sigma": -1}, "smooth_sigma"),
        ({"threshold": "magic"}, "unknown threshold method"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        threshold_label(two_blobs(), **{"threshold": 5, **kwargs})


# --- the original recipe's figures on the real micrograph (see ../shared/data/README.md)
def test_stem_reference_figures(stem_image):
    assert stem_image.var() == pytest.approx(0.02580, abs=5e-6)
    assert threshold_label(stem_image, 0.62, opening=2, connectivity=1).max() == 1376
    assert threshold_label(stem_image, 0.62, connectivity=1).max() == 1568


def test_float32_gives_same_objects(stem_image):
    a = threshold_label(stem_image, 0.62, opening=2)
    b = threshold_label(stem_image.astype(np.float32), np.float32(0.62), opening=2)
    assert a.max() == b.max() == 1376
