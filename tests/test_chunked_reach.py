"""Chunks whose window cuts a network of trimmed halos near their core are segmented again
from a wider window (``nuclei._reach``, round 29)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, same_partition

pytest.importorskip("dask.array")

from napari_tessella.nuclei import _chunked, seeded_watershed


@pytest.fixture(scope="module")
def dense_512():
    """A 512² challenge-like dense field drawn whole (tuning seed 113, PSF x1.5), and its
    in-memory labels."""
    image = benchmark("nuclei_dense_heldout").challenge_field(113, side=512, n=500, psf=1.5)[0]
    return image, seeded_watershed(image).labels


@pytest.mark.parametrize("cache", [True, False], ids=["kept", "segmented-again"])
def test_halo_network_wider_than_the_window_gives_the_in_memory_nuclei(
        dense_512, monkeypatch, cache):
    """Round 28: in 128 x 160 chunks, 3 nuclei differed from memory. The trim's removed
    halos there join into a network over 6.7 d, and the chunk's 6 d window saw part of it:
    its rescue (a removed part holding a disc of radius d/4 is a nucleus of its own) found
    no nucleus where memory found one, a neighbour of a core nucleus in the crowd split's
    median. Such chunks are segmented again from a wider window now, with or without each
    chunk's labels kept between the passes."""
    import dask

    image, memory = dense_512
    redone, widen = [], getattr(_chunked, "widen", None)

    def counted(*args):
        out = widen(*args)
        redone.append(out[2])  # the chunks segmented again
        return out

    monkeypatch.setattr(_chunked, "widen", counted, raising=False)  # (none before round 29)
    monkeypatch.setattr(_chunked, "CACHE_PIXELS", 2**28 if cache else 0)
    with dask.config.set(scheduler="synchronous"):
        labels = _chunked.seeded_watershed_chunked(image, chunks=(128, 160)).labels.compute()
    assert same_partition(memory, labels)
    assert 0 < redone[0] < 16  # some of the 16 chunks, not all


def test_cut_sides_names_the_sides_where_a_cut_part_comes_near_the_core():
    from napari_tessella.nuclei import _reach

    parts = np.zeros((60, 80), np.int32)
    core = ((20, 40), (30, 50))
    parts[0:25, 25:29] = 1  # from the top edge into the core's rows, 2 px left of it
    parts[45:60, 70:80] = 2  # bottom right corner, far from the core
    d = 10.0
    # part 1 touches the top side and comes within 1 d of the core; part 2 does not
    assert _reach.cut_sides(parts, core, (False,) * 4, 1.0, d) == (True, False, False, False)
    # ... unless the top is the image border
    assert _reach.cut_sides(parts, core, (True, False, False, False), 1.0, d) == (False,) * 4
    # part 2 is 2.1 d from the core: named with a reach of 3 d, on both its sides
    assert _reach.cut_sides(parts, core, (True, False, False, False), 3.0, d) == (
        False, True, False, True)
    # a part within EDGE (1 d) of a side counts as cut by it
    parts[:] = 0
    parts[5:30, 25:35] = 3
    assert _reach.cut_sides(parts, core, (False,) * 4, 1.0, d) == (True, False, False, False)
    parts[:] = 0
    parts[15:30, 25:35] = 3  # 15 px from the top: inside the window, seen whole
    assert _reach.cut_sides(parts, core, (False,) * 4, 1.0, d) == (False,) * 4
