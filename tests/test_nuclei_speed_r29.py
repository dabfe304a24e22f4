"""Round 29: exact speed-ups of the nuclei recipe (the diameter estimate's per-box distance
transforms made once per box content; the rim's medians of the sharpness cue taken once),
each against the plain computation it replaces, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella._label_image as li
from napari_tessella.nuclei import _cues, _shape
from napari_tessella.nuclei import _region_distances as rd
from napari_tessella.nuclei import diameter as dm

_MASKS = hnp.arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24)))


@settings(deadline=None, max_examples=200)
@given(_MASKS)
def test_box_squares_root_is_scipys_distance(mask):
    """The roots of the squares are scipy's distances, also without any background (its
    features are then (-1, 0)); the root of the largest square is the largest distance."""
    squares = li._box_squares(mask, li._offsets(mask.shape))
    want = ndi.distance_transform_edt(mask)
    np.testing.assert_array_equal(np.sqrt(squares), want)
    assert np.sqrt(squares.max()) == want.max()


@settings(deadline=None, max_examples=200)
@given(_MASKS, st.data())
def test_box_squares_cache_gives_the_same_squares_by_content(mask, data):
    """A box of the same content (another array, another dtype of the offsets) is looked
    up; another content is transformed, and each result is scipy's."""
    cache = {}
    first = li._box_squares(mask, li._offsets(mask.shape), cache)
    again = li._box_squares(mask.copy(), np.arange(max(mask.shape), dtype=np.int64), cache)
    assert again is first and len(cache) == 1
    other = mask.copy()
    i = data.draw(st.integers(0, mask.size - 1))
    other.flat[i] = not other.flat[i]
    got = li._box_squares(other, li._offsets(other.shape), cache)
    assert got is not first and len(cache) == 2
    np.testing.assert_array_equal(np.sqrt(got), ndi.distance_transform_edt(other))
    # a different shape of the same bytes is another box
    if mask.shape[0] != mask.shape[1]:
        flat = np.ascontiguousarray(mask).reshape(mask.shape[::-1])
        got = li._box_squares(flat, li._offsets(flat.shape), cache)
        np.testing.assert_array_equal(np.sqrt(got), ndi.distance_transform_edt(flat))


def _blobs(seed, shape=(60, 70), count=9):
    rng = np.random.default_rng(seed)
    img = np.zeros(shape)
    rr, cc = np.mgrid[:shape[0], :shape[1]]
    for _ in range(count):
        r, c = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        a, b = rng.uniform(2, 9, 2)
        img += rng.uniform(0.5, 2) * (((rr - r) / a) ** 2 + ((cc - c) / b) ** 2 <= 1)
    return img + 0.05 * rng.random(shape)


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 10**6), st.floats(0.2, 1.2))
def test_mask_distance_with_a_shared_cache_is_scipys(seed, cut):
    """Two masks transformed through one cache (many of their boxes alike, as the
    estimate's two passes): each is scipy's transform of the whole mask."""
    img = _blobs(seed)
    cache = {}
    li_reach, li._REACH = li._REACH, 0  # the boxes' path (round 33: else the whole mask's)
    try:
        _transforms_through(img, cut, cache)
    finally:
        li._REACH = li_reach


def _transforms_through(img, cut, cache):
    for mask in (img > cut, (img > cut) & (img > cut + 0.3), img > cut):
        got = li._mask_distance(mask, ndi.label(mask)[0], cache)
        np.testing.assert_array_equal(got, ndi.distance_transform_edt(mask))


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 10**6), st.floats(0.2, 1.2))
def test_region_radius_and_grown_distances_with_a_cache(seed, cut):
    """``_region_radius`` (the largest distance of each region, from its box) and
    ``_grown_distances`` (the transform of a grown mask) through one cache: those of
    scipy's transforms of the whole masks."""
    img = _blobs(seed)
    low = img > cut
    regions, m = ndi.label(low, output=np.intp)
    ids = np.arange(1, m + 1)[::2]
    cache = {}
    got = rd._region_radius(low, regions, ids, cache)
    plain = rd._region_radius(low, regions, ids)
    dist = ndi.distance_transform_edt(low)
    for i in ids.tolist():
        assert got[i] == plain[i] == dist[regions == i].max()
    assert np.isneginf(np.delete(got, ids)).all()
    # the mask inside: the pieces above a higher cut; grown by the chosen regions
    mask = low & (img > cut + 0.4)
    pick = np.zeros(m + 1, dtype=bool)
    pick[ids] = True
    whole = mask | pick[regions]
    grown = ndi.label(whole, output=np.intp)
    want = ndi.distance_transform_edt(whole)
    before = ndi.distance_transform_edt(mask)
    np.testing.assert_array_equal(rd._grown_distances(before, mask, whole, *grown, cache), want)
    np.testing.assert_array_equal(rd._grown_distances(before, mask, whole, *grown), want)


def test_radius_of_with_a_cache_is_its_estimate():
    """The estimate's radius through a cache filled by a first pass is the one without."""
    rng = np.random.default_rng(3)
    img = ndi.gaussian_filter(_blobs(5, (90, 100), 20) + 0.02 * rng.normal(size=(90, 100)), 1)
    cache = {}
    first = dm._radius_of(img, None, False, cache)
    assert cache
    flat = img - ndi.maximum_filter(ndi.minimum_filter(img, 31), 31)
    assert dm._radius_of(flat, None, False, cache) == dm._radius_of(flat)
    assert first == dm._radius_of(img)


@settings(deadline=None, max_examples=40)
@given(st.integers(0, 10**6), st.floats(3, 14))
def test_edge_sharpness_with_the_rim_medians_given(seed, d):
    """The wide ring's sharpness with the rim's medians left by the first call: the same
    numbers as taking them again."""
    img = ndi.gaussian_filter(_blobs(seed), 1.0)
    labels = ndi.label(img > 0.4)[0]
    level = float(np.median(img))
    nearest = li._nearest_label(labels) if labels.any() else None
    medians = []
    first = _cues._edge_sharpness(labels, img, level, d, nearest, inner=medians)
    np.testing.assert_array_equal(first, _cues._edge_sharpness(labels, img, level, d, nearest))
    if labels.any():
        assert len(medians) == 1
    for ring in (None, _cues._WIDE_RING):
        np.testing.assert_array_equal(
            _cues._edge_sharpness(labels, img, level, d, nearest, ring, list(medians)),
            _cues._edge_sharpness(labels, img, level, d, nearest, ring))


def test_boxes_are_find_objects_and_found_again_after_a_change():
    rng = np.random.default_rng(1)
    labels = ndi.label(rng.random((40, 50)) > 0.6)[0]
    find = _shape._Boxes()
    first = find(labels)
    assert first == ndi.find_objects(labels)
    same = find(labels.copy())
    assert same == first and same is not first
    changed = labels.copy()
    changed[changed == 3] = 0
    changed[0, 0] = labels.max() + 1
    assert find(changed) == ndi.find_objects(changed)
    assert find(changed.astype(np.int64)) == ndi.find_objects(changed.astype(np.int64))
    assert find(labels) == ndi.find_objects(labels)
