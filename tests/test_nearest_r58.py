"""Round 58: each pixel's nearest label chunk by chunk (``nearest_label_lazy``) reads each
chunk with the margin its pixels need, from a coarse grid of the labelled cells, and
never the whole image in one chunk.

Failing on the round's base: ``test_no_window_is_the_whole_image`` (a pixel farther
than 64 pixels from every label widened every chunk's margin fourfold, to windows of
nearly the whole image, and past 256 pixels to the whole image in one chunk); the
property patches the new module's cell side. Peak memory before and after:
``benchmarks/nearest_lazy.py``.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import scipy.ndimage
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_tessella import _label_image

da = pytest.importorskip("dask.array")


def _memory(labels, at):
    if not labels.any():
        return np.zeros(labels.shape, labels.dtype)
    return np.where(at, _label_image._nearest_label(labels), 0).astype(labels.dtype)


def _lazy(labels, at, chunks, same_chunks=True):
    try:
        from napari_tessella._nearest_chunked import nearest_label_lazy
    except ImportError:  # the base's, for the test that shows it read the whole image
        nearest_label_lazy = _label_image.nearest_label_lazy

    got = nearest_label_lazy(da.from_array(labels, chunks=chunks),
                             da.from_array(at, chunks=chunks))
    assert got.dtype == labels.dtype
    if same_chunks:  # (the base's came in the chunks its margins had made)
        assert got.chunks == da.from_array(labels, chunks=chunks).chunks
    return got.compute()


def _holed_lattice(side=600, hole=200, step=12):
    """Labels of 3 × 3 pixels on a lattice of ``step`` over a ``side``² image, none in
    a centred square of ``hole``: its centre lies ~hole / 2 pixels from every label."""
    labels = np.zeros((side, side), np.int32)
    k = 0
    for r in range(2, side - 3, step):
        for c in range(5, side - 3, step):
            if max(abs(r - side / 2), abs(c - side / 2)) > hole / 2:
                k += 1
                labels[r:r + 3, c:c + 3] = k
    return labels


def test_no_window_is_the_whole_image():
    """An empty square of 200 px in a 600² lattice of labels, chunks of 50: every
    unlabelled pixel gets memory's nearest label, from windows of at most 40 % of the
    image (the centre's chunks read ~100 px around them; the base read every chunk with
    a margin of 256 px, nearly the whole image each, fails here)."""
    labels = _holed_lattice()
    at = labels == 0
    sizes = []
    transform = scipy.ndimage.distance_transform_edt

    def spy(image, *args, **kwargs):
        sizes.append(np.asarray(image).size)
        return transform(image, *args, **kwargs)

    with mock.patch.object(scipy.ndimage, "distance_transform_edt", spy):
        got = _lazy(labels, at, 50, same_chunks=False)
    np.testing.assert_array_equal(got, _memory(labels, at))
    assert sizes and max(sizes) < 0.4 * labels.size, max(sizes) / labels.size


@pytest.mark.parametrize("chunks", [(7, 11), 16, (64, 5), (33, 200)])
def test_a_label_in_one_corner_alone(chunks):
    """One label in a corner, every pixel asked for (the base's case for the whole image
    in one chunk): memory's labels at tiny and uneven chunks; and two labels tied along
    the diagonal between them, broken as memory breaks them."""
    labels = np.zeros((90, 130), np.uint16)
    labels[85:88, 2:4] = 7
    at = np.ones(labels.shape, bool)
    np.testing.assert_array_equal(_lazy(labels, at, chunks), _memory(labels, at))
    labels[3, 120] = 9
    labels[86, 127] = 3
    np.testing.assert_array_equal(_lazy(labels, at, chunks), _memory(labels, at))


def test_no_label_and_nothing_asked():
    """No label: 0 everywhere; no pixel asked for: 0 everywhere, whatever the labels."""
    labels = np.zeros((40, 50), np.int64)
    at = np.ones(labels.shape, bool)
    np.testing.assert_array_equal(_lazy(labels, at, 16), np.zeros_like(labels))
    labels[5, 5] = 2
    np.testing.assert_array_equal(_lazy(labels, ~at, 16), np.zeros_like(labels))


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(2, 70), cols=st.integers(2, 70), seed=st.integers(0, 2**31 - 1),
       count=st.integers(1, 8), share=st.floats(0.0, 1.0),
       chunk_rows=st.integers(1, 40), chunk_cols=st.integers(1, 40),
       side=st.sampled_from([1, 2, 5, 8, 64]))
def test_property_the_whole_images_nearest_label(rows, cols, seed, count, share,
                                                 chunk_rows, chunk_cols, side):
    """Any labels (on a grid of 3, so ties abound), any pixels asked for, any chunks and
    coarse cells: memory's nearest label on the pixels asked for, 0 elsewhere."""
    from napari_tessella import _nearest_chunked

    rng = np.random.default_rng(seed)
    labels = np.zeros((rows, cols), np.int32)
    for k in range(count):
        r, c = rng.integers(0, rows) // 3 * 3, rng.integers(0, cols) // 3 * 3
        labels[r:r + rng.integers(1, 4), c:c + rng.integers(1, 4)] = k + 1
    at = rng.random(labels.shape) < share
    with mock.patch.object(_nearest_chunked, "_cell_side", lambda shape: side):
        got = _lazy(labels, at, (chunk_rows, chunk_cols))
    np.testing.assert_array_equal(got, _memory(labels, at))
