"""Round 31: exact speed-ups of the nuclei recipe (the neck test's hull skipped when no
outline pixel can lie deep enough below it; the per-label quantiles from one sort of
int64 keys; the small morphology of the per-object loops by slices), each against
the plain computation it replaces, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi
from scipy.spatial import ConvexHull

import napari_tessella._label_image as li
import napari_tessella._quantiles as qu
from napari_tessella.nuclei import _cues
from napari_tessella.nuclei import _shape as sh

_MASKS = hnp.arrays(bool, st.tuples(st.integers(1, 25), st.integers(1, 25)))


@settings(deadline=None, max_examples=300)
@given(_MASKS, st.integers(1, 6))
def test_small_morphology_is_scipys(mask, times):
    assert np.array_equal(li._opened(mask), ndi.binary_opening(mask))
    assert np.array_equal(li._square_dilated(mask),
                          ndi.binary_dilation(mask, np.ones((3, 3), bool)))
    assert np.array_equal(li._crosses_dilated(mask, times),
                          ndi.binary_dilation(mask, iterations=times))


def test_widened_box_is_clipped_to_the_shape():
    box = (slice(2, 5), slice(0, 9))
    assert li._widened(box, 3, (6, 10)) == (slice(0, 6), slice(0, 10))
    assert li._widened(box, 1, (6, 10)) == (slice(1, 6), slice(0, 10))
    assert li._widened((slice(1, 2),) * 3, 1, (4, 4, 4)) == (slice(0, 3),) * 3


@settings(deadline=None, max_examples=200)
@given(_MASKS)
def test_box_distance_is_scipys_where_own(mask):
    own = mask.copy()
    own[::2] = False
    out = np.full(mask.shape, -1.0)
    li._box_distance(mask, li._offsets(mask.shape), own, out)
    assert np.array_equal(out, np.where(own, ndi.distance_transform_edt(mask), -1.0))


def _plain_quantiles(values, labels, n, qs):
    """Each label's values sorted one by one (the definition)."""
    outs = [np.full(n + 1, -np.inf) for _ in qs]
    for i in range(1, n + 1):
        v = np.sort(values[labels == i].astype(np.float64))
        for out, q in zip(outs, qs, strict=True):
            if v.size:
                out[i] = v[int(np.floor(q * (v.size - 1)))]
    return outs


def _values(rng, kind, shape):
    if kind == "wide":
        return rng.normal(size=shape) * 10.0 ** rng.integers(-300, 300)
    if kind == "ties":
        return rng.integers(-3, 3, shape).astype(float)
    if kind == "unit":
        return rng.random(shape)
    if kind == "signed zeros":
        return np.where(rng.random(shape) < 0.5, -0.0, 0.0)
    if kind == "int":
        return rng.integers(-1000, 1000, shape)
    if kind == "float32":
        return rng.random(shape).astype(np.float32)
    if kind == "positive":  # (the keys' path)
        return np.round(rng.random(shape) * 100 + 1, 1)
    return -rng.random(shape) - 0.5


@pytest.mark.parametrize("kind", ["wide", "ties", "unit", "signed zeros", "int", "float32",
                                  "positive", "negative"])
def test_label_quantiles_from_keys_are_the_sorted_values(kind):
    rng = np.random.default_rng(31)
    for _ in range(200):
        shape = tuple(rng.integers(1, 30, 2))
        labels = rng.integers(0, rng.integers(1, 20), shape).astype(np.int32)
        values = _values(rng, kind, shape)
        n = int(labels.max())
        qs = (0.0, 0.1, 0.5, 0.9, 1.0)
        got = _cues._label_quantiles(values, labels, n, qs)
        want = _plain_quantiles(values, labels, n, qs)
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


def test_sorted_keys_refuse_a_span_too_wide():
    values = np.array([-1e300, 1e300, 0.0])
    assert qu._sorted_keys(np.array([1, 2, 3]), values) is None
    keys = qu._sorted_keys(np.array([2, 1, 1]), np.array([0.5, 3.0, 2.0]))
    assert qu._key_values(keys, np.arange(3)).tolist() == [2.0, 3.0, 0.5]
    keys = qu._sorted_keys(np.array([2, 1, 1]), np.array([-0.5, -3.0, -2.0]))
    assert qu._key_values(keys, np.arange(3)).tolist() == [-3.0, -2.0, -0.5]


def _outline(mask):
    return sh._outline_points(mask)


def _hull_depth(edge):
    facets = ConvexHull(edge).equations
    return (-(edge @ facets[:, :2].T + facets[:, 2])).min(axis=1)


def test_shallow_bound_is_never_below_the_hulls_depth():
    """The certificate: each pixel's bound is at least its depth below qhull's hull, so a
    bound below the neck depth means no deep pixel (and ``_neck`` is None)."""
    rng = np.random.default_rng(7)
    skipped = 0
    for _ in range(300):
        blobs = ndi.gaussian_filter(rng.random((40, 40)), rng.uniform(1.5, 4)) > 0.5
        lab, n = ndi.label(blobs)
        if n == 0:
            continue
        edge = _outline(lab == 1 + int(np.argmax(np.bincount(lab.ravel())[1:])))
        if len(edge) < 4 or np.linalg.matrix_rank(edge - edge[0]) < 2:
            continue
        along = edge @ sh._AROUND
        bound = (along.max(axis=0) - along).min(axis=1)
        assert (bound >= _hull_depth(edge) - 1e-9).all()
        d = rng.uniform(5, 40)
        if sh._shallow(edge, sh._NECK_DEPTH * d):
            skipped += 1
            assert not (_hull_depth(edge) >= sh._NECK_DEPTH * d).any()
    assert skipped > 0


def test_two_pinched_discs_still_show_their_neck():
    yy, xx = np.mgrid[:40, :60]
    pair = ((yy - 20) ** 2 + (xx - 20) ** 2 <= 100) | ((yy - 20) ** 2 + (xx - 37) ** 2 <= 100)
    edge = _outline(pair)
    assert not sh._shallow(edge, sh._NECK_DEPTH * 20)
    ends = sh._neck(edge, 20)
    assert ends is not None
    assert abs(ends[0][1] - ends[1][1]) <= 2  # across the contact, one above the other
    disc = (yy - 20) ** 2 + (xx - 30) ** 2 <= 225
    assert sh._shallow(_outline(disc), sh._NECK_DEPTH * 20)
    assert sh._neck(_outline(disc), 20) is None
