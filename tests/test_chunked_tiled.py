"""The two differences left on the tiled dense fields (``chunked_agreement.py --tiled``,
round 30): the chunks' views of a nucleus are matched by centroid, never two views of one
chunk in the same object, not even through a third view (``nuclei._stitch``); a window is
widened where a trimmed halo part it cuts comes within 3 d of the core (``nuclei._reach``)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, same_partition

pytest.importorskip("dask.array")

from napari_tessella.nuclei import _chunked, seeded_watershed
from napari_tessella.nuclei._stitch import _match_objects


def _summaries(*chunks):
    return [{"ids": np.arange(1, len(c) + 1), "centres": np.array(c, float).reshape(-1, 2)}
            for c in chunks]


def _groups(summaries, tol):
    ncomp, comp, _ = _match_objects(summaries, tol)
    owner = np.concatenate([np.full(len(s["ids"]), k) for k, s in enumerate(summaries)])
    ids = np.concatenate([s["ids"] for s in summaries])
    views = [(int(o), int(i)) for o, i in zip(owner, ids, strict=True)]
    assert comp.max() + 1 == ncomp
    return sorted(sorted(v for v, c in zip(views, comp, strict=True) if c == g)
                  for g in range(ncomp))


def test_a_view_near_two_objects_of_another_chunk_joins_the_nearest_only():
    """A ring-shaped nucleus around a small one: centroids 2.3 px apart, within the
    tolerance. Chunk 0 sees the ring only; chunk 1 both. Joined by pairs, chunk 0's ring
    made one object of chunk 1's two; it now joins chunk 1's ring (the nearer) alone."""
    ring, inner = (164.29, 306.54), (166.16, 305.18)
    assert _groups(_summaries([ring], [inner, ring]), 3.8) == [[(0, 1), (1, 2)], [(1, 1)]]
    # whatever the order the views come in
    assert _groups(_summaries([ring, inner], [ring]), 3.8) == [[(0, 1), (1, 1)], [(0, 2)]]


def test_views_of_one_nucleus_in_four_chunks_stay_one_object():
    """A nucleus on a chunk corner, its centroid a little apart in each chunk, and no clash:
    one object, as before; a clash elsewhere does not split it."""
    views = _summaries([(10.0, 10.0), (50.0, 50.0)], [(10.5, 10.2), (51.0, 50.0), (50.0, 51.5)],
                       [(10.2, 10.6)], [(9.8, 10.1)])
    groups = _groups(views, 2.0)
    assert [(0, 1), (1, 1), (2, 1), (3, 1)] in groups
    assert [(0, 2), (1, 2)] in groups and [(1, 3)] in groups


@pytest.fixture(scope="module")
def tiled_ring():
    """Four 256² challenge-like fields side by side (seeds 113, 133, 153, 173, PSF x2:
    ``chunked_agreement.py --tiled``), and their in-memory labels: at rows 156-175, columns
    296-318, a ring-shaped nucleus around a small one (columns 300-312). (The last field
    differing in chunks of 200 x 150 and of 128² before round 30.)"""
    make = benchmark("nuclei_dense_heldout").challenge_field
    four = [make(113 + k, psf=2.0)[0] for k in (0, 20, 40, 60)]
    image = np.block([[four[0], four[1]], [four[2], four[3]]])
    return image, seeded_watershed(image).labels


@pytest.mark.parametrize("cols", [298, 315], ids=["ring-left", "ring-right"])
def test_a_chunk_border_across_a_ring_around_a_nucleus_gives_the_in_memory_nuclei(
        tiled_ring, cols):
    """A chunk border crossing the ring but not the small nucleus inside it: the chunk that
    sees only the ring's part in its core joined the other chunk's two nuclei into one
    (2 nuclei in memory, 1 chunked; ``chunked_agreement.py --tiled`` at 200 x 150)."""
    import dask

    image, memory = tiled_ring
    assert memory[158, 305] != memory[166, 305] and memory[166, 305] > 0  # the ring, inner
    with dask.config.set(scheduler="synchronous"):
        labels = _chunked.seeded_watershed_chunked(image, chunks=(512, cols)).labels.compute()
    assert same_partition(memory, labels)


def test_a_cut_halo_part_within_3_d_of_the_core_widens_the_window(tiled_ring):
    """The same field in 512 x 128 chunks: the window of the chunk at columns 128-256 cuts
    a trimmed halo part 1.32 d from its core (the window was widened within 1 d only, the
    blob reach without shoulders). Its trim gave a nucleus at columns 97-120 other than
    memory's, a neighbour of a core nucleus within d/2, and with 3 whole neighbours instead
    of 4 the crowd split left a pair of nuclei at rows 180-221, columns 120-145 whole."""
    import dask

    image, memory = tiled_ring
    with dask.config.set(scheduler="synchronous"):
        labels = _chunked.seeded_watershed_chunked(image, chunks=(512, 128)).labels.compute()
    assert same_partition(memory, labels)
