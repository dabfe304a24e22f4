"""Round 20: the holes the per-nucleus cut opens are filled as the watershed fills them
(``_recipe._flood_holes``), without flooding every labelled pixel when each hole lies
in one nucleus, and ``np.where(keep, labels, 0)`` is ``_label_image._only``; the labels
must stay pixel-identical."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from napari_tessella.nuclei._cues import _fill_holes
from napari_tessella.nuclei._recipe import _flood_holes


def _flooded(labels, filled, height):
    """The call it replaces."""
    return watershed(-height, labels, mask=filled).astype(np.int32)


def _case(seed, shape=(48, 61)):
    """Touching labelled blobs (a few ids, some sharing a border) with holes, some inside
    one blob and some on the border between two, and a smooth landscape with ties."""
    rng = np.random.default_rng(seed)
    mask = ndi.gaussian_filter(rng.random(shape), 2.5) > 0.5
    labels, n = ndi.label(mask)
    labels = labels.astype(np.int32)
    rows, cols = np.arange(shape[0])[:, None], np.arange(shape[1])[None, :]
    # cut some blobs in two along a column, others along a row: neighbours that touch
    labels = np.where((labels > 0) & (cols >= shape[1] // 2) & (labels % 2 == 0),
                      labels + n, labels)
    labels = np.where((labels > 0) & (rows >= shape[0] // 2) & (labels % 3 == 1),
                      labels + 2 * n, labels).astype(np.int32)
    holes = rng.random(shape) < 0.08
    labels[holes] = 0
    height = np.round(ndi.gaussian_filter(rng.random(shape), 2) * 8) / 8  # many ties
    return labels, _fill_holes(labels > 0), height


@pytest.mark.parametrize("seed", range(40))
def test_flood_holes_is_the_watershed(seed):
    labels, filled, height = _case(seed)
    assert (filled & (labels == 0)).any()
    np.testing.assert_array_equal(_flood_holes(labels, filled, height),
                                  _flooded(labels, filled, height))


def _one_nucleus_holes():
    labels = np.zeros((20, 30), dtype=np.int32)
    labels[2:12, 2:12] = 3
    labels[2:12, 12:20] = 5  # touches 3
    labels[14:19, 22:29] = 7
    labels[5, 5] = labels[6, 5] = 0  # a hole in 3
    labels[4:6, 15:17] = 0  # a hole in 5
    labels[16, 25] = 0  # a hole in 7
    height = np.random.default_rng(0).random(labels.shape)
    return labels, _fill_holes(labels > 0), height


def test_holes_inside_one_nucleus_take_its_label_without_the_flood(monkeypatch):
    labels, filled, height = _one_nucleus_holes()
    expected = _flooded(labels, filled, height)

    def refuse(*args, **kwargs):
        raise AssertionError("the whole-image flood was run")

    monkeypatch.setattr("napari_tessella.nuclei._basins._watershed", refuse)  # (round 53)
    out = _flood_holes(labels, filled, height)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.int32
    assert out[5, 5] == out[6, 5] == 3 and out[4, 15] == 5 and out[16, 25] == 7


def test_a_hole_between_two_nuclei_is_flooded_by_the_landscape():
    labels, filled, _ = _one_nucleus_holes()
    labels[6:8, 11:13] = 0  # on the border of 3 and 5: the landscape decides
    filled = _fill_holes(labels > 0)
    for slope in (1.0, -1.0):  # higher towards 5, then towards 3
        height = slope * np.tile(np.arange(labels.shape[1], dtype=float), (20, 1))
        out = _flood_holes(labels, filled, height)
        np.testing.assert_array_equal(out, _flooded(labels, filled, height))
        assert set(np.unique(out[6:8, 11:13])) == ({5} if slope > 0 else {3})


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16])
@pytest.mark.parametrize("seed", range(5))
def test_only_is_where_with_zero(dtype, seed):
    from napari_tessella._label_image import _only

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2**15, (17, 23)).astype(dtype)
    keep = rng.random(labels.shape) < 0.4
    out = _only(labels, keep)
    expected = np.where(keep, labels, 0)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint16])
@pytest.mark.parametrize("table_dtype", [np.float64, bool, np.int32])
def test_per_label_is_the_table_indexed(dtype, table_dtype):
    from napari_tessella._label_image import _per_label

    rng = np.random.default_rng(7)
    top = 70_000 if np.iinfo(dtype).max > 70_000 else 60_000
    labels = rng.integers(0, top, (19, 21)).astype(dtype)
    table = (rng.random(top) * 100).astype(table_dtype)
    out = _per_label(table, labels)
    expected = table[labels]
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(IndexError):  # an id beyond the table, as indexing says
        _per_label(table[:10], labels)
