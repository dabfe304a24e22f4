"""Round 56: dead clusters of 4 x 4 (up to 5 x 5) pixels, read by the ring at distance 3,
in memory and chunk by chunk. Each test says whether it fails on the round's base."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella._validation import as_float_image
from napari_tessella.nuclei._spikes import _despiked, _despiked_lazy
from napari_tessella.synthetic import synthetic_nuclei


def _camera(seed: int, **kw):
    """A 16-bit field of nuclei (a dark offset of 200) with its truth."""
    nuc = synthetic_nuclei(seed=seed, **kw)
    return np.clip(nuc.image * 2000 + 200, 0, 65535).astype(np.uint16), nuc.labels


def _dead_clusters(clean, labels, size, n, seed, *, off_grid=False):
    """``clean`` with ``n`` dead clusters of ``size`` x ``size`` pixels (at the field's
    minimum) deep inside bright nuclei, apart from each other, and a mask of them; with
    ``off_grid``, on no row and no column of the grid (4 mod 8)."""
    rng = np.random.default_rng(seed)
    ok = ndi.binary_erosion(labels > 0, iterations=6) & (clean > 1400)
    out, mask = clean.copy(), np.zeros(clean.shape, bool)
    k = np.arange(max(clean.shape))
    off = k % 8 != 4
    for i in rng.permutation(np.flatnonzero(ok)):
        r, c = divmod(int(i), clean.shape[1])
        rows, cols = np.arange(r, r + size), np.arange(c, c + size)
        if off_grid and not (off[rows].all() and off[cols].all()):
            continue
        box = (slice(r - 5, r + size + 5), slice(c - 5, c + size + 5))
        if mask[box].any() or not ok[r:r + size, c:c + size].all():
            continue
        out[r:r + size, c:c + size] = clean.min()
        mask[r:r + size, c:c + size] = True
        if mask.sum() >= n * size * size:
            break
    return out, mask


@pytest.mark.parametrize("size", [4])
def test_dead_4x4_clusters_inside_nuclei_are_read(size):
    """Dead 4 x 4 clusters inside bright nuclei are read back within a tenth of the
    nuclei's contrast (fails on the base: no pixel of a 4 x 4 has a ring at distance 2
    free of the cluster)."""
    clean, labels = _camera(0)
    bad, mask = _dead_clusters(clean, labels, size, 10, 1)
    assert mask.sum() >= 10 * size * size
    fixed, img = _despiked(bad, as_float_image(bad))
    err = np.abs(fixed[mask].astype(float) - clean[mask])
    assert np.percentile(err, 95) < 200 and err.max() < 400
    assert fixed.dtype == bad.dtype and np.array_equal(img, fixed)


def test_a_lone_dead_4x4_that_misses_the_grid_is_found():
    """One dead 4 x 4 cluster off the grid's rows and columns (no single dead pixel there
    either way): the stray pass finds it (its left neighbour and the fourth pixel on its
    right lie in the nucleus) and it is read back (fails on the base)."""
    clean, labels = _camera(2)
    bad, mask = _dead_clusters(clean, labels, 4, 1, 3, off_grid=True)
    assert mask.sum() == 16
    fixed = _despiked(bad, as_float_image(bad))[0]
    assert np.abs(fixed[mask].astype(float) - clean[mask]).max() < 400


@pytest.mark.parametrize("chunks", [(64, 64), (100, 37), (33, 200), (60, 2)])
def test_the_chunked_path_reads_4x4_clusters_as_memory_does(chunks):
    """Dead 4 x 4 clusters: the chunked image is the in-memory one pixel for pixel (an
    overlap of five pixels; chunks 60 x 2 made five wide first), clusters read (fails on
    the base); the clean field's lazy array is passed on as itself."""
    clean, labels = _camera(6, shape=(256, 258), n_nuclei=14)
    bad, mask = _dead_clusters(clean, labels, 4, 4, 6)
    fixed = _despiked(bad, as_float_image(bad))[0]
    assert np.abs(fixed[mask].astype(float) - clean[mask]).max() < 400
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_array_equal(
            _despiked_lazy(da.from_array(bad, chunks=chunks)).compute(), fixed)
        clean_lazy = da.from_array(clean, chunks=chunks)
        assert _despiked_lazy(clean_lazy) is clean_lazy


@pytest.mark.parametrize("kw", [
    {"nucleoli": 3, "nucleoli_depth": (0.5, 0.8), "nucleoli_size": (0.08, 0.15)},
    {"packed": 0.9, "diameter": 16.0, "n_nuclei": 300},
])
def test_nucleoli_and_packed_gaps_are_no_4x4_cluster(kw):
    """Nucleoli and the pockets between packed small nuclei are below their ring at
    distance 3 by less than the rule's depth: the image is passed on as the same array
    (a guard: passes on the base too)."""
    image, _ = _camera(5, **kw)
    img = as_float_image(image)
    assert _despiked(image, img)[0] is image
