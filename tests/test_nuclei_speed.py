"""The faster helpers of the nuclei defaults (round 17) give exactly what the plain
computations they replace give: the labels must stay pixel-identical."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

from napari_tessella._label_image import _label_moments
from napari_tessella.nuclei._cues import (
    _farther_than,
    _label_max,
    _label_quantile,
    _label_quantiles,
)
from napari_tessella.nuclei._resample import _block_mean, _downsample
from napari_tessella.threshold import _hist_edges, _histogram


@st.composite
def labelled(draw, most=6):
    """A small label image (ids 0..most, some absent) and values with many ties."""
    shape = draw(st.tuples(st.integers(1, 14), st.integers(1, 14)))
    labels = draw(hnp.arrays(np.int32, shape, elements=st.integers(0, most)))
    values = draw(hnp.arrays(np.float64, shape, elements=st.integers(-4, 4).map(float)))
    return labels, values + draw(st.sampled_from([0.0, 0.25, 1e-9]))


def _plain_quantile(values, labels, n, q):
    """The lexsort of round 16."""
    out = np.full(n + 1, -np.inf)
    for i in range(1, n + 1):
        vals = np.sort(values[labels == i])
        if vals.size:
            out[i] = vals[int(np.floor(q * (vals.size - 1)))]
    return out


@given(labelled(), st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0]))
def test_label_quantile_is_each_labels_sorted_value(case, q):
    labels, values = case
    n = 7  # one id more than drawn: absent ones are -inf
    assert np.array_equal(_label_quantile(values, labels, n, q),
                          _plain_quantile(values, labels, n, q))


@given(labelled(), st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]), min_size=1,
                            max_size=4))
def test_label_quantiles_from_one_sort_are_each_quantile(case, qs):
    """Several quantiles from one sort (the flat pieces' 10th, 50th and 90th percentiles):
    each the plain one, in the order asked."""
    labels, values = case
    got = _label_quantiles(values, labels, 7, qs)
    assert len(got) == len(qs)
    for out, q in zip(got, qs, strict=True):
        assert np.array_equal(out, _plain_quantile(values, labels, 7, q))


def test_label_quantile_of_ids_beyond_16_bits():
    # the second sort is a radix sort of 16-bit ids when they fit: larger ids sort as they are
    rng = np.random.default_rng(3)
    labels = rng.choice(np.array([0, 1, 2**16 - 1, 2**16, 2**16 + 1, 70_000]), (20, 30))
    labels = labels.astype(np.int64)
    values = rng.integers(0, 5, labels.shape).astype(float)
    for q in (0.25, 0.5):
        assert np.array_equal(_label_quantile(values, labels, 70_000, q),
                              _plain_quantile(values, labels, 70_000, q))


@given(labelled(most=9))
def test_label_max_of_integer_values_is_their_float_maximum(case):
    labels, values = case
    ids = values.astype(np.int64) + 5  # a label image's ids as the values
    plain = ndi.labeled_comprehension(ids.astype(float), labels, np.arange(11), np.max,
                                      float, -np.inf)
    assert np.array_equal(_label_max(ids, labels, 10), plain)


@st.composite
def masks(draw):
    shape = draw(st.tuples(st.integers(1, 16), st.integers(1, 16)))
    mask = draw(hnp.arrays(bool, shape, elements=st.booleans()))
    if draw(st.booleans()):  # blobs rather than noise
        mask = ndi.binary_closing(mask, iterations=2) | mask
    return mask


@given(masks(), st.sampled_from([0.5, 1.0, 1.4142135623730951, 1.8, 2.0, 2.2360679774997896,
                                  3.6, 5.0]),
       st.booleans())
def test_farther_than_is_the_distance_transform_compared(mask, radius, or_at):
    dist = ndi.distance_transform_edt(mask)
    expected = dist >= radius if or_at else dist > radius
    assert np.array_equal(_farther_than(mask, radius, or_at=or_at), expected)


def test_farther_than_without_background_is_the_transform():
    mask = np.ones((6, 9), bool)  # no background: the transform's own (odd) distances
    for radius in (1.5, 3.0):
        assert np.array_equal(_farther_than(mask, radius),
                              ndi.distance_transform_edt(mask) > radius)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bins", [256, 65536])
def test_histogram_counts_as_with_the_edges(dtype, bins):
    rng = np.random.default_rng(5)
    for values in (rng.gamma(2.0, 10.0, (60, 70)), rng.normal(510.0, 1.5, (40, 50)),
                   np.round(rng.normal(0.0, 3.0, (30, 30))), np.full((4, 4), 7.0),
                   rng.uniform(-1e-3, 1e-3, (20, 20)) + 1e8):
        values = values.astype(dtype)
        edges = _hist_edges(float(values.min()), float(values.max()), bins, values.dtype)
        on_edges = np.concatenate([values.ravel(), edges[::97].astype(dtype)])  # ties
        for v in (values, on_edges):
            counts = _histogram(v, edges)
            assert np.array_equal(counts, np.histogram(v, bins=edges)[0])
            assert counts.dtype == np.histogram(v, bins=edges)[0].dtype


def test_histogram_of_a_range_beyond_the_largest_float():
    values = np.array([-1.7e308, 0.0, 1.0, 1.6e308])
    edges = _hist_edges(-1.7e308, 1.6e308, 256, np.float64)
    with np.errstate(all="raise"):
        counts = _histogram(values, edges)
    assert np.array_equal(counts, np.histogram(values, bins=edges)[0])


@given(st.sampled_from([np.uint8, np.uint16, np.int16, np.int8, np.int32, np.uint64, bool]),
       st.integers(1, 7), st.tuples(st.integers(1, 23), st.integers(1, 23)), st.integers(0, 9))
def test_block_mean_of_integers_is_that_of_their_float64_copy(dtype, factor, shape, seed):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype) if dtype is not bool else None
    lo, hi = (info.min, info.max) if info is not None else (0, 1)
    img = rng.integers(lo, hi, shape, dtype=np.int64 if dtype is not np.uint64 else np.uint64,
                       endpoint=True).astype(dtype)
    for reduce in (_block_mean, _downsample):
        if reduce is _downsample and min(shape) < factor:
            continue
        fast = reduce(img, factor)
        assert fast.dtype == np.float64
        assert np.array_equal(fast, reduce(img.astype(np.float64), factor))


@given(labelled(most=8))
def test_label_moments_means_are_the_centres_of_mass(case):
    markers = case[0]
    ids = np.unique(markers)
    ids = ids[ids != 0]
    if not ids.size:
        return
    _, mean_r, mean_c = _label_moments(markers, int(ids[-1]), ids)[:3]
    centres = np.array(ndi.center_of_mass(np.ones(markers.shape), markers, ids)).reshape(-1, 2)
    assert np.array_equal(np.stack([mean_r[ids], mean_c[ids]], axis=1), centres)


def test_whole_textured_with_the_callers_parts_is_the_same():
    from napari_tessella.nuclei import diameter
    from napari_tessella.synthetic import synthetic_nuclei

    small = ndi.gaussian_filter(synthetic_nuclei(diameter=14, seed=2).image.astype(float), 1.0)
    level = float(np.median(small))
    labels, n = ndi.label(small > level + 0.2 * (small.max() - level))
    peak = _label_max(small, labels, n)
    peak[0] = np.inf
    mask = small > (level + 0.5 * (peak - level))[labels]
    parts = ndi.label(mask), ndi.distance_transform_edt(mask)
    assert np.array_equal(diameter._whole_textured(mask, small, labels, n, level),
                          diameter._whole_textured(mask, small, labels, n, level, parts))


@pytest.mark.parametrize(("dtype", "top", "params"), [
    (np.uint8, 255, {}), (np.uint16, 4000, {}), (np.int32, 70_000, {}),
    (np.uint8, 255, {"sigma": 2.0})])
def test_seeded_watershed_of_an_integer_image_is_that_of_its_float_copy(dtype, top, params):
    # a plane of integers is reduced from its integers and skips the finiteness and
    # exponent passes: the same result as its float64 copy
    from napari_tessella import seeded_watershed
    from napari_tessella.synthetic import synthetic_nuclei

    img = synthetic_nuclei(diameter=40, seed=4).image
    img = np.round(top * (img - img.min()) / np.ptp(img)).astype(dtype)
    a, b = seeded_watershed(img, **params), seeded_watershed(img.astype(np.float64), **params)
    assert a.labels.max() > 3
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.territories, b.territories)
    assert np.array_equal(a.seeds, b.seeds)
    assert a.threshold == b.threshold and a.object_diameter == b.object_diameter


def test_a_constant_plane_of_integers_is_refused_as_before():
    from napari_tessella import seeded_watershed

    with pytest.raises(ValueError, match="constant"):
        seeded_watershed(np.full((40, 50), 7, np.uint8))


@given(masks(), masks(), st.integers(0, 3))
def test_grown_distances_are_the_transform_of_the_grown_mask(mask, extra, shift):
    from napari_tessella.nuclei._region_distances import _grown_distances

    extra = np.roll(np.resize(extra, mask.shape), shift, axis=1)
    whole = mask | extra
    regions, m = ndi.label(whole)
    grown = _grown_distances(ndi.distance_transform_edt(mask), mask, whole, regions, m)
    assert np.array_equal(grown, ndi.distance_transform_edt(whole))


def test_grown_distances_of_a_mask_filled_whole():
    from napari_tessella.nuclei._region_distances import _grown_distances

    mask = np.ones((5, 7), bool)
    mask[2, 3] = False
    whole = np.ones_like(mask)
    regions, m = ndi.label(whole)
    grown = _grown_distances(ndi.distance_transform_edt(mask), mask, whole, regions, m)
    assert np.array_equal(grown, ndi.distance_transform_edt(whole))


@given(labelled(most=5))
def test_nearest_label_by_flat_indices(case):
    from napari_tessella._label_image import _nearest_label

    labels = np.pad(case[0], ((0, 1), (2, 0)))[:, ::-1]  # a view, not contiguous
    if not labels.any():
        return
    ri, ci = ndi.distance_transform_edt(labels == 0, return_distances=False,
                                        return_indices=True)
    assert np.array_equal(_nearest_label(labels), labels[ri, ci])


@pytest.mark.parametrize("value", [1, 7, -3])
def test_nearest_label_of_one_seed_value_is_that_value(value):
    from napari_tessella._label_image import _nearest_label

    seeds = np.zeros((9, 12), np.int32)
    seeds[2:4, 3] = value
    seeds[7, 10] = value
    out = _nearest_label(seeds)
    ri, ci = ndi.distance_transform_edt(seeds == 0, return_distances=False,
                                        return_indices=True)
    assert np.array_equal(out, seeds[ri, ci]) and out.dtype == seeds.dtype
    assert np.array_equal(_nearest_label(np.zeros((4, 5), np.int32)), np.zeros((4, 5)))


# round 19: Otsu from the fine histogram, the outline, erosion and dilation by shifts


@st.composite
def float_images(draw):
    shape = draw(st.tuples(st.integers(1, 24), st.integers(1, 24)))
    kind = draw(st.sampled_from(["levels", "gamma", "wide", "tiny"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "levels":  # few values: ties on the bins' edges
        img = rng.integers(0, draw(st.integers(1, 6)), shape) * draw(
            st.sampled_from([1.0, 0.1, 3.3, 1e-7]))
    elif kind == "gamma":
        img = rng.gamma(2.0, 10.0, shape)
    elif kind == "wide":
        img = rng.normal(0, 1, shape) * 10.0 ** draw(st.integers(-120, 120))
    else:
        img = rng.uniform(0, 1e-9, shape) + draw(st.sampled_from([0.0, 1.0, 1e3]))
    return img.astype(np.float64)


@given(float_images())
def test_otsu_from_the_fine_histogram_is_compute_thresholds(img):
    from napari_tessella.nuclei._background import _fine_histogram
    from napari_tessella.threshold import compute_threshold

    def outcome(f):
        try:
            return f()
        except ValueError as err:
            return str(err)

    def before():  # Otsu first, then the fine histogram (its errors in that order)
        otsu = compute_threshold(img, "otsu")
        _fine_histogram(img)
        return otsu

    assert outcome(lambda: _fine_histogram(img)[1]) == outcome(before)


def test_otsu_of_float32_and_constant_images_as_before():
    from napari_tessella.nuclei._background import _fine_histogram
    from napari_tessella.threshold import compute_threshold

    img = np.random.default_rng(1).gamma(2.0, 10.0, (30, 40)).astype(np.float32)
    assert _fine_histogram(img)[1] == compute_threshold(img, "otsu")
    with pytest.raises(ValueError, match="constant"):
        _fine_histogram(np.full((5, 6), 2.0))


@given(labelled(most=3))
def test_outline_is_where_the_3x3_maximum_and_minimum_differ(case):
    from napari_tessella.nuclei._outlines import _outline

    labels = case[0]
    footprint = np.ones((3, 3), bool)
    expected = (ndi.maximum_filter(labels, footprint=footprint)
                != ndi.minimum_filter(labels, footprint=footprint))
    assert np.array_equal(_outline(labels), expected)


@given(masks(), hnp.arrays(bool, st.tuples(st.sampled_from([1, 3, 5, 7]),
                                           st.sampled_from([1, 3, 5])),
                           elements=st.booleans()),
       st.integers(0, 1))
def test_binary_erosion_and_dilation_by_shifts_are_scipys(mask, footprint, border):
    from napari_tessella._label_image import _binary_dilation, _binary_erosion

    assert np.array_equal(_binary_erosion(mask, footprint, border),
                          ndi.binary_erosion(mask, footprint, border_value=border))
    assert np.array_equal(_binary_dilation(mask, footprint),
                          ndi.binary_dilation(mask, footprint))
