"""Round 22: exact rewrites for speed. Each fast path against the plain computation it
replaces, on varied inputs; the labels must stay pixel-identical.

- ``_outlines._redrawn``: the cut of each outline pixel's winner looked up per working
  pixel (and per pixel only where two nuclei meet), not for each of its f² pixels;
- ``_edges._own_distance``: a label's distance transform over its own box widened by one
  pixel, not over the window two bands wider;
- ``_foreground._auto_threshold``: its mask from the logged image Otsu was taken on, not
  logged again (``_auto_params_logged``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella.nuclei._outlines as outlines
from napari_tessella.nuclei._edges import _own_distance
from napari_tessella.nuclei._foreground import (
    _auto_mask,
    _auto_params,
    _auto_params_logged,
    _auto_threshold,
)
from napari_tessella.nuclei._outlines import _redrawn


def _plain_redrawn(values, winner, top, two, cuts):
    """The call it replaces: every pixel's cut looked up from its winner."""
    return np.where(values > cuts[winner], winner, 0)


@settings(deadline=None, max_examples=200)
@given(st.integers(1, 40), st.sampled_from([1, 4, 9, 25, 36]), st.integers(1, 12),
       st.integers(0, 2**32 - 1))
def test_redrawn_is_the_plain_lookup(rows, pixels, ids, seed):
    """Rows of one winner (``top``) and rows ``two`` whose pixels have several winners,
    cuts and values drawn from the same few levels (ties at the cut included)."""
    rng = np.random.default_rng(seed)
    top = rng.integers(1, ids + 1, rows).astype(np.int32)
    winner = np.repeat(top[:, None], pixels, axis=1)
    two = np.flatnonzero(rng.random(rows) < 0.4)
    winner[two] = rng.integers(1, ids + 1, (two.size, pixels))
    cuts = rng.integers(0, 4, ids + 1).astype(np.float64)
    cuts[0] = np.inf
    values = rng.integers(0, 5, (rows, pixels)).astype(np.float64)
    got = _redrawn(values, winner, top, two, cuts)
    want = _plain_redrawn(values, winner, top, two, cuts)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def _touching_labels(seed, shape=(37, 45)):
    """Blobs cut in two along rows and columns (many outline pixels between two nuclei)."""
    rng = np.random.default_rng(seed)
    labels = ndi.label(ndi.gaussian_filter(rng.random(shape), 2.0) > 0.5)[0]
    labels = labels.astype(np.int32)
    cut = np.arange(shape[1])[None, :] > shape[1] // 2
    labels = np.where((labels > 0) & cut, labels + labels.max(), labels).astype(np.int32)
    return labels, rng


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("factor", [2, 3, 5])
def test_refine_outlines_same_as_with_the_plain_lookup(seed, factor, monkeypatch):
    """The whole enlargement with the rewrite and with the plain look-up: the same labels
    and territories (shapes not a multiple of the factor, some nuclei frozen)."""
    labels, rng = _touching_labels(seed)
    smooth = ndi.gaussian_filter(rng.random(labels.shape), 1.0)
    n = int(labels.max())
    cuts = np.quantile(smooth, rng.random(n + 1))
    territories = labels.copy()
    frozen = np.isin(labels, rng.integers(1, n + 1, 2))
    shape = (labels.shape[0] * factor - 1, labels.shape[1] * factor - factor + 1)
    args = (labels, smooth, cuts, factor, shape, territories)
    fast = outlines._refine_outlines(*args, frozen=frozen)
    monkeypatch.setattr(outlines, "_redrawn", _plain_redrawn)
    plain = outlines._refine_outlines(*args, frozen=frozen)
    for a, b in zip(fast, plain, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def _box_of(own):
    """The box of ``own``'s pixels (slices), as ``ndi.find_objects`` gives."""
    return ndi.find_objects(own.astype(np.int32))[0]


@settings(deadline=None, max_examples=300)
@given(hnp.arrays(bool, st.tuples(st.integers(1, 20), st.integers(1, 20))),
       st.integers(0, 6), st.integers(0, 6), st.integers(0, 6), st.integers(0, 6))
def test_own_distance_is_the_window_transform(own, top, bottom, left, right):
    """A label's pixels (several pieces, touching the window's sides or not, filling it)
    in a window placed anywhere in an image: the transform over the window itself."""
    if not own.any():
        return
    rows, cols = own.shape
    window = (slice(top, top + rows), slice(left, left + cols))  # in image coordinates
    r, c = _box_of(own)
    own_box = (slice(r.start + top, r.stop + top), slice(c.start + left, c.stop + left))
    got = _own_distance(own, own_box, window)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, ndi.distance_transform_edt(own))


@pytest.mark.parametrize("seed", range(4))
def test_own_distance_of_labels_in_their_padded_windows(seed):
    """As ``_edge_outlines`` calls it: each label of an image of touching blobs, in its
    box widened by a pad and clipped to the image."""
    labels, _ = _touching_labels(seed, (60, 70))
    for i, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        window = tuple(slice(max(s.start - 7, 0), min(s.stop + 7, n))
                       for s, n in zip(box, labels.shape, strict=True))
        own = labels[window] == i
        np.testing.assert_array_equal(_own_distance(own, box, window),
                                      ndi.distance_transform_edt(own))


def _field(seed, dtype, shape=(64, 80)):
    """Blobs of varied brightness on a ramp with noise (some images without blobs)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    img = 5 + 0.05 * rows + rng.normal(0, 1, shape)
    for _ in range(rng.integers(0, 8)):
        r, c, a = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(2, 60)
        img += a * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 30)
    return ndi.gaussian_filter(img, 1.0).astype(dtype)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spread", [None, 0.3, 3.0])
@pytest.mark.parametrize("significant", [True, False])
def test_auto_threshold_mask_is_the_plain_one(seed, dtype, spread, significant):
    """The mask, cut and level as from ``_auto_params`` then ``_auto_mask`` (the logged
    image computed again), and the logged image is the plain expression."""
    img = _field(seed, dtype)
    level, eps, cut = _auto_params(img, spread, significant=significant)
    mask, value, got_level = _auto_threshold(img, spread, significant=significant)
    np.testing.assert_array_equal(mask, _auto_mask(img, level, eps, cut))
    assert (value, got_level) == (float(level + np.exp(cut) - eps), level)
    logged = _auto_params_logged(img, spread, significant=significant)[3]
    plain = np.log(np.maximum(img - level, 0) + eps)
    assert logged.dtype == plain.dtype
    np.testing.assert_array_equal(logged, plain)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 3000), factor=st.integers(2, 9), seed=st.integers(0, 2**32 - 1),
       boolean=st.booleans())
def test_outline_weights_are_the_plain_sum_in_order(n, factor, seed, boolean):
    """The outlines' interpolation (``_outlines._weighted``): the nine products summed in
    order, bit for bit, whatever the number of rows. BLAS's matrix product (``rows @
    weight``) gave other last bits in ~20 % of the values here, by the CPU's kernel, and
    handed large products to threads that spun after the call."""
    rng = np.random.default_rng(seed)
    t = (np.arange(factor) + 0.5) / factor - 0.5
    tent = np.stack([np.maximum(-t, 0), 1 - np.abs(t), np.maximum(t, 0)], axis=1)
    weight = np.einsum("ia,jb->abij", tent, tent).reshape(9, factor * factor)
    rows = (rng.random((n, 9)) > 0.5 if boolean
            else rng.uniform(0, 1000, (n, 9)) * rng.random((n, 1)))
    expected = np.zeros((n, factor * factor))
    for k in range(9):
        expected = expected + rows[:, k, None] * weight[k]
    got = outlines._weighted(rows, weight)
    assert got.dtype == np.float64 and got.shape == expected.shape
    assert np.array_equal(got, expected)
