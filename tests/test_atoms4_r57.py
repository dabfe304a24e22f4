"""Round 57: Find atoms on oblong pixels, columns found twice on the square plane.

Dumbbells 5.6 mean pixels apart along the long side of 1 × 1.5 pixels, under noise of 0.2
of the peak, are searched in pixels first and, that search having missed them, on the
square plane (round 56). There 1.4-1.7 % of the columns were found twice: two sites a
fraction of the pair's distance apart on one column. After such a fallback, two sites
nearer each other than a third of the sites' own median nearest-neighbour distance are
now one column: the brighter is kept. Each test says whether it fails on the round's base.
"""

from __future__ import annotations

import numpy as np
import pytest
from _shapes import oblong_dumbbells, pixel_sizes
from scipy.spatial import cKDTree

from napari_tessella import _square
from napari_tessella._finite import find_atoms_finite


def _dumbbells(ratio, seed, noise=0.2, pair=5.6):
    """Dumbbells ``pair`` mean pixels apart along the pixel's long side."""
    size = pixel_sizes(ratio)
    half = np.zeros(2)
    half[int(size[1] > size[0])] = pair / 2
    return oblong_dumbbells(ratio, half, seed=seed, noise=noise)


def _nearest(found, size):
    """Each found column's distance to its nearest found neighbour, in mean pixels."""
    p = np.asarray(found, dtype=np.float64) * size
    return cKDTree(p).query(p, k=2)[0][:, 1]


def _matched(found, truth, size):
    """The true columns with a found one within a third of the pair (5.6 mean pixels)."""
    d, _ = cKDTree(np.asarray(found) * size).query(truth * size)
    return int(np.sum(d < 5.6 / 3))


@pytest.mark.parametrize(("ratio", "seed"), [((1, 1.5), 18603), ((1, 1.5), 18611),
                                             ((1.5, 1), 18603)])
def test_a_column_is_found_once_after_the_fallback(ratio, seed, monkeypatch):
    """Noise-0.2 dumbbells that the search in pixels missed: on the square plane no two
    sites lie within a third of the pair's distance, and every column matched without
    the merge is matched with it (fails on the base: 1-2 columns found twice)."""
    image, truth = _dumbbells(ratio, seed)
    size = pixel_sizes(ratio)
    found = find_atoms_finite(image, sampling=tuple(size), refine="gaussian").result
    assert _nearest(found.positions, size).min() >= 5.6 / 3
    monkeypatch.setattr(_square, "without_doubles", lambda res, width: res)
    before = find_atoms_finite(image, sampling=tuple(size), refine="gaussian").result
    assert len(before.positions) > len(found.positions)  # the merge had doubles to merge
    assert _matched(found.positions, truth, size) == _matched(before.positions, truth, size)
    assert set(map(tuple, found.positions)) <= set(map(tuple, before.positions))
    partner = found.table["partner"].to_numpy()
    paired = partner >= 0
    assert np.array_equal(partner[partner[paired]], np.flatnonzero(paired))


def test_the_pairs_of_a_dumbbell_lattice_are_never_merged():
    """Every column of a dumbbell lattice (pairs 5.6 apart, 14 between pairs) is kept,
    whatever its brightness; a third site 1 px from one column goes, the brighter of the
    two staying (new name: fails to import on the base)."""
    grid = np.arange(0, 100, 14.0)
    centres = np.array([(a, b) for a in grid for b in grid])
    half = np.array([0.0, 2.8])
    sites = np.concatenate([centres - half, centres + half])
    rng = np.random.default_rng(0)
    assert _square.found_twice(sites, rng.random(len(sites))).all()
    extra = np.vstack([sites, sites[5] + np.array([0.6, 0.8])])
    bright = np.r_[np.ones(len(sites)), 2.0]
    keep = _square.found_twice(extra, bright)
    assert keep.sum() == len(sites) and keep[-1] and not keep[5]


def test_a_chain_drops_only_what_is_that_near():
    """Three sites in a row 1.5 apart on a lattice 6 apart: the brightest in the middle
    takes both its neighbours; at an end, it takes the middle one and the far end, 3
    apart from it, stays. Fewer than 3 sites are all kept (fail to import on the
    base)."""
    grid = np.arange(0, 60, 6.0)
    lattice = np.array([(a, b) for a in grid for b in grid]) + 20
    chain = np.array([(0, 0), (0, 1.5), (0, 3.0)])
    sites = np.vstack([lattice, chain])
    base = np.zeros(len(lattice))
    middle = _square.found_twice(sites, np.r_[base, 1, 2, 1])
    assert middle[:-3].all() and list(middle[-3:]) == [False, True, False]
    end = _square.found_twice(sites, np.r_[base, 3, 2, 1])
    assert end[:-3].all() and list(end[-3:]) == [True, False, True]
    assert _square.found_twice(chain[:2], [1, 2]).all()


def test_a_direct_search_of_the_square_plane_keeps_its_sites(monkeypatch):
    """Columns round in the sample are searched on the square plane at once: no merge
    there (the STEM sample keeps its positions bit for bit); it runs only after a search
    in pixels gave way (passes on the base too)."""
    calls = []
    monkeypatch.setattr(_square, "without_doubles", lambda res, width: calls.append(1) or res)
    image, _ = oblong_dumbbells((1, 2), np.array([2.8, 0.0]), seed=1, noise=0.05)
    find_atoms_finite(image, sampling=tuple(pixel_sizes((1, 2))), refine="gaussian")
    assert not calls
