"""Round 26: exact rewrites for speed around the image's orientation. Each fast path
against the plain computation it replaces, on varied inputs; the labels must stay
pixel-identical.

- ``_outlines._refine_outlines(..., orient=...)``: the full-resolution labels and
  territories enlarged directly in the image's orientation (blocks flipped or turned, the
  redrawn pixels written where they land), not enlarged in the working orientation and
  copied back with ``from_canonical``;
- ``_orient.of_image(img, pixels)``: the row and column sums of a plane of 8- or 16-bit
  integers in 32-bit integers, not in float64 over its float64 copy;
- ``_validation.as_float_image``: an integer image's extremes read from its integers;
- ``_recipe._border_specks`` given the border's ids; ``_cues._label_quantiles`` with the
  labelled pixels found once.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed
from napari_tessella._validation import as_float_image
from napari_tessella.nuclei._cues import _label_quantiles
from napari_tessella.nuclei._orient import (
    TURNS,
    from_canonical,
    of_image,
    orientation,
)
from napari_tessella.nuclei._outlines import _refine_outlines
from napari_tessella.nuclei._recipe import _border_specks

ORIENTS = list(itertools.product((False, True), repeat=3))


def _working(seed, shape):
    """Touching labelled blobs (outlines between two nuclei and against the background),
    a smoothed image, cuts around its values, and territories (nearest label)."""
    rng = np.random.default_rng(seed)
    blobs = ndi.gaussian_filter(rng.random(shape), 1.5)
    labels = ndi.label(blobs > np.quantile(blobs, 0.45))[0].astype(np.int32)
    labels[:, shape[1] // 2] = 0  # cut in two along a column: pieces of one id apart
    labels = np.where(labels > 0, labels + (np.arange(shape[0])[:, None] > shape[0] // 2),
                      0).astype(np.int32)  # ... and touching ones of two ids along a row
    n = int(labels.max())
    smooth = blobs + rng.normal(0, 0.02, shape)
    cuts = np.quantile(smooth, rng.uniform(0.2, 0.8, n + 1))
    cuts[0] = np.inf
    idx = ndi.distance_transform_edt(labels == 0, return_distances=False,
                                     return_indices=True)
    territories = labels[idx[0], idx[1]]
    frozen = np.isin(labels, rng.integers(1, n + 1, 2))
    return labels, smooth, cuts, territories, frozen


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.integers(6, 23), st.integers(6, 23),
       st.integers(0, 5), st.integers(0, 5), st.sampled_from(ORIENTS))
def test_refine_outlines_in_the_image_orientation(seed, factor, rows, cols, cut_r, cut_c,
                                                  orient):
    """The enlargement in the image's orientation is ``from_canonical`` of the one in the
    working orientation, for every flip and turn, whole and partial last blocks."""
    labels, smooth, cuts, territories, frozen = _working(seed, (rows, cols))
    shape = (rows * factor - min(cut_r, factor - 1), cols * factor - min(cut_c, factor - 1))
    plain = _refine_outlines(labels, smooth, cuts, factor, shape, territories, frozen)
    got = _refine_outlines(labels, smooth, cuts, factor, shape, territories, frozen,
                           orient=orient)
    for a, b in zip(got, plain, strict=True):
        want = from_canonical(b, orient)
        assert a.dtype == want.dtype and a.shape == want.shape
        np.testing.assert_array_equal(a, want)


@pytest.mark.parametrize("orient", ORIENTS)
def test_refine_outlines_oriented_without_labels_or_reduction(orient):
    """Factor 1 (a given sigma) and no labels: turned back as before, as copies."""
    labels, smooth, cuts, territories, _ = _working(3, (9, 14))
    for lab, factor, shape in ((labels, 1, (9, 14)), (0 * labels, 3, (25, 40))):
        got = _refine_outlines(lab, smooth, cuts, factor, shape, territories, orient=orient)
        plain = _refine_outlines(lab, smooth, cuts, factor, shape, territories)
        for a, b in zip(got, plain, strict=True):
            np.testing.assert_array_equal(a, from_canonical(b, orient))
            assert a.flags.c_contiguous


@settings(deadline=None, max_examples=200)
@given(st.integers(0, 2**32 - 1), st.sampled_from([np.uint8, np.uint16, np.int8, np.int16]),
       st.integers(2, 40), st.integers(2, 40), st.booleans())
def test_orientation_from_the_integers(seed, dtype, rows, cols, extreme):
    """The sums of the integers give the orientation of the float64 copy's sums, the
    sums themselves being the same numbers (extreme values and near-symmetric images
    included, where the moments' tolerance decides)."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    if extreme:
        pixels = rng.choice([info.min, info.max], (rows, cols)).astype(dtype)
    else:
        pixels = rng.integers(info.min, int(info.max) + 1, (rows, cols)).astype(dtype)
    if seed % 3 == 0:  # symmetric: the moments at the tolerance
        pixels = np.concatenate([pixels, pixels[::-1]], axis=0)
    img = pixels.astype(np.float64)
    assert of_image(img, pixels) == of_image(img)
    sums = [np.sum(img, axis=k, dtype=np.float64) for k in (1, 0)]
    assert of_image(img, pixels) == orientation(*sums)


def test_orientation_of_wider_integers_and_floats_as_before():
    """32-bit and wider integers, floats, or a plane of another shape: the float sums."""
    rng = np.random.default_rng(5)
    for dtype in (np.int32, np.uint32, np.int64, np.float32):
        pixels = (rng.random((30, 20)) * 2**20).astype(dtype)
        img = pixels.astype(np.float64)
        assert of_image(img, pixels) == of_image(img)
    pixels = rng.integers(0, 255, (30, 20)).astype(np.uint8)
    assert of_image(pixels.T.astype(np.float64), pixels) == of_image(
        pixels.T.astype(np.float64))


@pytest.mark.parametrize("values", [[0, 255], [7, 7], [2**60, 2**60 + 1], [-(2**63), 2**63 - 1],
                                    [2**64 - 2, 2**64 - 1]])
def test_integer_extremes_as_their_float_copy(values):
    """Constant, or not, as the float64 copy: 2**60 and 2**60 + 1 are one float."""
    dtype = np.uint64 if max(values) >= 2**63 else np.int64
    arr = np.array([values, values[::-1]], dtype=dtype)
    copy = arr.astype(np.float64)
    if copy.min() == copy.max():
        with pytest.raises(ValueError, match="constant"):
            as_float_image(arr)
    else:
        np.testing.assert_array_equal(as_float_image(arr), copy)


@pytest.mark.parametrize("turn", list(TURNS))
def test_turned_image_labels_are_the_turned_labels(turn):
    """End to end on a synthetic field at a reduced working resolution (factor 2): every
    flip and turn of the image gives the same labels and territories, turned."""
    from napari_tessella.synthetic import synthetic_nuclei

    nuc = synthetic_nuclei(shape=(131, 157), diameter=40, n_nuclei=6, seed=2)
    image = np.clip(nuc.image * 200, 0, 255).astype(np.uint8)
    base = seeded_watershed(image)
    res = seeded_watershed(np.ascontiguousarray(TURNS[turn](image)))
    assert int(base.labels.max()) >= 3
    np.testing.assert_array_equal(res.labels, TURNS[turn](base.labels))
    np.testing.assert_array_equal(res.territories, TURNS[turn](base.territories))


def test_border_specks_given_the_border_ids():
    """The border's ids handed over give what the function finds itself."""
    from napari_tessella._label_image import _edge_ids

    rng = np.random.default_rng(1)
    for border in itertools.product((False, True), repeat=4):
        labels = ndi.label(ndi.gaussian_filter(rng.random((60, 70)), 1.0) > 0.52)[0]
        sizes = np.bincount(labels.ravel()).astype(float)
        ids = _edge_ids(labels, border)
        np.testing.assert_array_equal(_border_specks(labels, sizes, border, 40, ids),
                                      _border_specks(labels, sizes, border, 40))


@settings(deadline=None, max_examples=100)
@given(st.integers(0, 2**32 - 1), st.integers(0, 12))
def test_label_quantiles_plain(seed, n):
    """Per label, the value at rank floor(q (count - 1)) of its sorted values."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n + 1, (17, 23)).astype(np.int32)
    values = rng.integers(0, 6, (17, 23)).astype(np.float64)  # ties
    qs = (0.0, 0.25, 0.5, 1.0)
    got = _label_quantiles(values, labels, n, qs)
    for out, q in zip(got, qs, strict=True):
        for i in range(n + 1):
            own = np.sort(values[labels == i])
            want = own[int(np.floor(q * (own.size - 1)))] if i and own.size else -np.inf
            assert out[i] == want
