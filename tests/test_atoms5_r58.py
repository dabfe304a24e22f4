"""Round 58: Find atoms on oblong pixels, the square plane's own doubles and a search in
pixels that finds fewer than 3 columns.

Once a search in pixels gives way to the plane resampled to square pixels, a column
round in pixels is elongated there and can be found twice: of two sites each other's
nearest and nearer than ``_square.DOUBLE`` of the separation, the one where a filter of
the columns' own shape peaks is kept (not the brighter). A search in pixels that finds
fewer than 3 columns gives way to the square plane too, and its error is raised only
when that fails as well. Each test says whether it fails on the round's base.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _shapes import pixel_sizes
from scipy.spatial import cKDTree

from napari_tessella import _square
from napari_tessella._finite import find_atoms_finite
from napari_tessella.atoms import AtomsResult, find_atoms
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


def _doubles(res, size):
    """Sites whose nearest site lies nearer than ``DOUBLE`` (0.15) of the separation, in
    the sample (mean pixels, as the separation is given)."""
    p = np.asarray(res.positions) * size
    d, _ = cKDTree(p).query(p, k=2)
    return int(np.sum(d[:, 1] < getattr(_square, "DOUBLE", 0.15) * res.separation))


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


def test_the_square_planes_doubles_are_kept_once():
    """Noise-0.5 lattice round in pixels on 1 × 1.5 pixels: the search in pixels finds 6
    sites, too few to check, the square plane more, two columns of them twice: each is
    kept once, and no column is lost (fails on the base: 4 sites found twice)."""
    image, truth = _lattice(19608)
    size = pixel_sizes((1, 1.5))
    assert _square.round_in_pixels(image, size)
    assert len(find_atoms(image, refine="gaussian").positions) < 10
    res = find_atoms_finite(image, sampling=tuple(size), refine="gaussian").result
    assert _doubles(res, size) == 0
    assert _matched(res.positions, truth, size, 8.0 * size.min()) >= 79
    assert len(res.table) == len(res.positions)
    partner = res.table["partner"].to_numpy()
    paired = partner >= 0
    assert np.array_equal(partner[partner[paired]], np.flatnonzero(paired))


def test_the_better_placed_site_is_kept_not_the_brighter():
    """Two sites of one column elongated along the columns (σ 1.4 × 5.6 px), 0.5 and 3 px
    from its centre: the one nearer is kept though its peak is the lower; a site of
    another column never goes (fails on the base: no such step)."""
    rows, cols = np.mgrid[:64, :160]
    centres = [(16.0, 40.0), (16.0, 120.0), (48.0, 40.0), (48.0, 120.0)]
    plane = sum(np.exp(-(rows - r) ** 2 / (2 * 1.4**2) - (cols - c) ** 2 / (2 * 5.6**2))
                for r, c in centres)
    sites = np.array([(16.0, 40.5), (16.0, 43.0), *centres[1:]])
    table = pd.DataFrame({"row": sites[:, 0], "col": sites[:, 1],
                          "peak": [0.5, 0.9, 1.0, 1.0, 1.0], "partner": -1})
    res = AtomsResult(positions=sites, table=table, separation=20.0)
    widths = np.sqrt(2) * np.array([1.4, 5.6])
    kept = _square.one_per_column(plane, res, widths)
    np.testing.assert_array_equal(kept.positions, sites[[0, 2, 3, 4]])
    assert list(kept.table["peak"]) == [0.5, 1.0, 1.0, 1.0]
    # nearer each other than DOUBLE of the separation only: both stay
    far = AtomsResult(positions=sites, table=table, separation=2.5 / _square.DOUBLE - 1)
    assert len(_square.one_per_column(plane, far, widths).positions) == 5
