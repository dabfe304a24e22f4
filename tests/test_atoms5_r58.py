"""Round 58: Find atoms on oblong pixels, a search in pixels that finds fewer than 3
columns.

It gives way to the plane resampled to square pixels, as a search that split or missed
the columns does, and its error is raised only when that fails as well. (The square
plane's own doubles merged, the better-placed site kept: measured, not kept, see
``benchmarks/atoms_doubles.py``.) Each test says whether it fails on the round's base.
"""

from __future__ import annotations

import numpy as np
import pytest
from _shapes import pixel_sizes
from scipy.spatial import cKDTree

from napari_tessella import _square
from napari_tessella._finite import find_atoms_finite
from napari_tessella.atoms import find_atoms
from napari_tessella.synthetic import synthetic_lattice


def _lattice(seed, noise=0.5):
    """Columns round in pixels (96², 8 px apart, width 1.4 px) under heavy noise."""
    lat = synthetic_lattice((96, 96), spacing=8.0, sigma=1.4, gaussian_noise=noise,
                            seed=seed)
    return lat.image, lat.positions


def _matched(found, truth, size, nearest):
    """The true columns with a found one within a third of ``nearest`` (mean pixels)."""
    d, _ = cKDTree(np.asarray(found) * size).query(np.asarray(truth) * size)
    return int(np.sum(d < nearest / 3))


def test_a_search_in_pixels_that_finds_too_few_gives_way_to_the_square_plane():
    """Noise-0.5 lattice round in pixels on 1.5 × 1 pixels: the search in pixels finds
    fewer than 3 columns; the square plane finds most of the 144 (fails on the base,
    which raised)."""
    image, truth = _lattice(19600)
    size = pixel_sizes((1.5, 1))
    assert _square.round_in_pixels(image, size)
    with pytest.raises(ValueError, match="fewer than 3 columns"):
        find_atoms(image, refine="com")
    res = find_atoms_finite(image, sampling=tuple(size), refine="com").result
    assert _matched(res.positions, truth, size, 8.0 * size.min()) > 0.5 * len(truth)


def test_too_few_on_both_planes_raises_the_search_in_pixels_words(monkeypatch):
    """When the square plane finds fewer than 3 columns too, the search in pixels' own
    error is raised, the same sentence as without oblong pixels (passes on the base,
    which raised it without trying; fails if the square plane's error is let through
    or the error is swallowed)."""
    image, _ = _lattice(19600)
    size = pixel_sizes((1.5, 1))
    with pytest.raises(ValueError) as in_pixels:
        find_atoms(image, refine="com")
    real = _square.find_atoms

    def none_on_square(img, **params):
        if np.shape(img) != np.shape(image):
            raise ValueError("the square plane's own words")
        return real(img, **params)

    monkeypatch.setattr(_square, "find_atoms", none_on_square)
    with pytest.raises(ValueError) as both:
        find_atoms_finite(image, sampling=tuple(size), refine="com")
    assert str(both.value) == str(in_pixels.value)


def test_other_errors_of_the_search_in_pixels_are_not_hidden(monkeypatch):
    """An error that is not about too few columns (a bad parameter) is raised as it is,
    the square plane not tried (passes on the base too)."""
    image, _ = _lattice(19600)
    with pytest.raises(ValueError, match="refine"):
        find_atoms_finite(image, sampling=tuple(pixel_sizes((1.5, 1))), refine="nope")

