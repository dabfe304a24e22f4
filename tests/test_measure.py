"""measure_objects: every column against a per-label reference, in memory and chunk by chunk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

from napari_tessella import measure_objects
from napari_tessella.measure import MEASURE_COLUMNS, measure_objects_chunked

PROFILE = settings(max_examples=30, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])
# ids as they come from other programs: small, gaps, and at the ends of the integer types
IDS = [0, 0, 0, 1, 2, 7, 2**31 - 1, 2**53 + 1, 2**63 - 1]
EXACT = [c for c in MEASURE_COLUMNS if c not in ("com_row", "com_col", "mean")]


def reference(labels, image) -> pd.DataFrame:
    """One label at a time, straight from the definitions in the docstring."""
    rows = []
    for i in np.unique(labels[labels != 0]):
        rr, cc = np.nonzero(labels == i)  # raster order
        w = image[rr, cc].astype(np.float64)
        u = w - w.min()
        if w.max() > w.min():
            com = (u @ rr / u.sum(), u @ cc / u.sum())
        else:
            com = (rr.mean(), cc.mean())
        lo, hi = int(np.argmin(w)), int(np.argmax(w))  # first of ties
        rows.append([i, rr.mean(), cc.mean(), *com, len(w), w.mean(), w.min(), w.max(),
                     rr[lo], cc[lo], rr[hi], cc[hi], rr.min(), cc.min(), rr.max() + 1,
                     cc.max() + 1])
    table = pd.DataFrame(rows, columns=list(MEASURE_COLUMNS))
    return table.astype({c: np.float64 for c in MEASURE_COLUMNS[1:]})


def assert_same(got, expected, rtol=1e-9):
    assert list(got.columns) == list(MEASURE_COLUMNS)
    assert len(got) == len(expected)
    np.testing.assert_array_equal(got["label"].to_numpy(), expected["label"].to_numpy())
    for col in EXACT[1:]:
        np.testing.assert_array_equal(got[col], expected[col], err_msg=col)
    for col in ("com_row", "com_col", "mean"):
        np.testing.assert_allclose(got[col], expected[col], rtol=rtol, atol=1e-9, err_msg=col)


@st.composite
def label_images(draw, ids=IDS, dtype=np.int64):
    shape = draw(st.tuples(st.integers(2, 12), st.integers(2, 12)))
    labels = draw(hnp.arrays(dtype, shape, elements=st.sampled_from(ids)))
    # a few integer levels: many ties; negative and positive values in one object
    image = draw(hnp.arrays(np.float64, shape, elements=st.integers(-6, 6).map(float)))
    return labels, image


@PROFILE
@given(label_images())
def test_matches_per_label_reference(data):
    labels, image = data
    assert_same(measure_objects(labels, image), reference(labels, image))


@PROFILE
@given(label_images(ids=[0, 1, 2**64 - 1, 2**63 + 5, 2**63 - 1], dtype=np.uint64))
def test_huge_unsigned_ids_come_back_exactly(data):
    labels, image = data
    got = measure_objects(labels, image)
    np.testing.assert_array_equal(got["label"].to_numpy().astype(np.uint64),
                                  np.unique(labels[labels != 0]))
    assert_same(got, reference(labels, image))


@PROFILE
@given(label_images(), st.integers(1, 5), st.integers(1, 5))
def test_chunked_equals_in_memory(data, chunk_rows, chunk_cols):
    labels, image = data
    expected = measure_objects(labels, image)
    got = measure_objects_chunked(labels, image, chunks=(chunk_rows, chunk_cols))
    for col in MEASURE_COLUMNS:
        assert got[col].dtype == expected[col].dtype, col
    assert_same(got, expected, rtol=1e-12)


@PROFILE
@given(label_images(), st.floats(-1e6, 1e6), st.floats(1e-3, 1e3))
def test_centres_lie_inside_their_boxes(data, offset, scale):
    labels, image = data
    table = measure_objects(labels, image * scale + offset)
    for axis in ("row", "col"):
        lo, hi = table[f"bbox_min_{axis}"], table[f"bbox_max_{axis}"] - 1
        for centre in (f"com_{axis}", f"centroid_{axis}"):
            assert (table[centre] >= lo).all() and (table[centre] <= hi).all(), centre


def test_centre_of_mass_stays_inside_with_both_signs():
    # issue 13 #6: plain intensity weights put this centre at column 12 of a 4-px image
    labels = np.pad(np.ones((2, 2), int), 1)
    image = np.pad([[-10.0, 11.0], [-10.0, 11.0]], 1)
    table = measure_objects(labels, image)
    assert table.loc[0, ["com_row", "com_col"]].tolist() == [1.5, 2.0]
    assert table.loc[0, ["mean", "min", "max"]].tolist() == [0.5, -10.0, 11.0]


def test_large_ids_allocate_nothing_per_id():
    # issue 13 #10: a bincount over the id range wanted 16 GiB here
    table = measure_objects(np.array([[0, 2**31 - 1], [0, 0]]), np.ones((2, 2)))
    assert table["label"].tolist() == [2**31 - 1]
    assert table.loc[0, ["area", "com_row", "com_col", "bbox_max_col"]].tolist() == [1, 0, 1, 2]


def test_matches_scipy_and_skimage():
    from skimage.measure import regionprops_table

    rng = np.random.default_rng(1)
    image = rng.random((40, 50)).astype(np.float32)
    labels, n = ndi.label(image > 0.7)
    table = measure_objects(labels, image)
    ids = np.arange(1, n + 1)
    assert list(table["label"]) == list(ids)
    props = regionprops_table(labels, image, properties=(
        "area", "centroid", "bbox", "intensity_mean", "intensity_min", "intensity_max"))
    np.testing.assert_array_equal(table["area"], props["area"])
    np.testing.assert_allclose(table[["centroid_row", "centroid_col"]],
                               np.column_stack([props["centroid-0"], props["centroid-1"]]))
    bbox = ["bbox_min_row", "bbox_min_col", "bbox_max_row", "bbox_max_col"]
    np.testing.assert_array_equal(table[bbox], np.column_stack([props[f"bbox-{k}"]
                                                                 for k in range(4)]))
    np.testing.assert_allclose(table["mean"], props["intensity_mean"], rtol=1e-6)
    np.testing.assert_array_equal(table["min"], props["intensity_min"])
    np.testing.assert_array_equal(table["max"], props["intensity_max"])
    # random floats: no ties, so scipy's positions are the only ones
    _, _, minpos, maxpos = ndi.extrema(image, labels, ids)
    np.testing.assert_array_equal(table[["max_at_row", "max_at_col"]], np.array(maxpos))
    np.testing.assert_array_equal(table[["min_at_row", "min_at_col"]], np.array(minpos))
    # the centre of mass is scipy's with the weights moved to start at the object's minimum
    shifted = image - ndi.minimum(image, labels, ids)[labels - 1]
    with np.errstate(invalid="ignore"):  # one-pixel objects: 0 / 0
        com = np.array(ndi.center_of_mass(shifted, labels, ids))
    single = table["area"].to_numpy() == 1  # one pixel: the centroid
    np.testing.assert_allclose(table[["com_row", "com_col"]].to_numpy()[~single],
                               com[~single], rtol=1e-6)


def test_empty_and_columns():
    table = measure_objects(np.zeros((5, 5), int), np.ones((5, 5)))
    assert table.empty and tuple(table.columns) == MEASURE_COLUMNS
    assert table["label"].dtype == np.int64


def test_shape_mismatch():
    with pytest.raises(ValueError, match="same"):
        measure_objects(np.zeros((5, 5), int), np.zeros((5, 6)))


def test_centre_of_mass_is_subpixel():
    image = np.zeros((5, 5))
    image[2, 1], image[2, 2], image[2, 3] = 1.0, 3.0, 2.0
    labels = (image > 0).astype(int)
    table = measure_objects(labels, image)
    assert table["com_col"][0] == pytest.approx((2 * 2 + 3 * 1) / 3)  # weights 0, 2, 1
    assert table["centroid_col"][0] == pytest.approx(2.0)


def test_object_wrapping_a_row_end_is_split_per_row():
    # one label on the last pixel of a row and the first of the next: two separate runs
    labels = np.zeros((3, 4), int)
    labels[0, 3] = labels[1, 0] = 5
    image = np.arange(12.0).reshape(3, 4)
    assert_same(measure_objects(labels, image), reference(labels, image))
