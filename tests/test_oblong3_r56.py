"""Round 56: Find atoms on oblong pixels, a missed search in pixels.

Dumbbells 5.6 mean pixels apart along the long side of 1 × 1.5 pixels read as round in
pixels by the autocorrelation's lobe (their pair's elongation undoes the pixel's). Under
noise of 0.2 of the peak the search in pixels there found about one site per pair, not
two columns too near each other, so round 55's check for a split could not see it. The
mean column at the sites found is now measured too: when it is not round in pixels the
search there missed the columns and the square plane is searched instead. Each test says
whether it fails on the round's base.
"""

from __future__ import annotations

import numpy as np
import pytest
from _shapes import oblong_dumbbells, pixel_sizes
from scipy.spatial import cKDTree

from napari_tessella._finite import find_atoms_finite
from napari_tessella.atoms import find_atoms
from napari_tessella.synthetic import synthetic_lattice

RATIOS = [(1, 1.5), (1.5, 1)]


def _dumbbells(ratio, seed, noise=0.2, pair=5.6):
    """Dumbbells ``pair`` mean pixels apart along the pixel's long side."""
    size = pixel_sizes(ratio)
    half = np.zeros(2)
    half[int(size[1] > size[0])] = pair / 2
    return oblong_dumbbells(ratio, half, seed=seed, noise=noise)


def _inner_found(found, truth, size, shape):
    """The share of the true columns well inside the image with a found one within 1
    mean pixel."""
    found = np.asarray(found, dtype=np.float64).reshape(-1, 2) * size
    truth = truth * size
    hi = np.array(shape) * size - 7
    inner = truth[np.all((truth >= 6) & (truth <= hi), axis=1)]
    d, _ = cKDTree(found).query(inner)
    return float(np.mean(d < 1.0))


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("seed", [17601, 17603])
def test_noisy_dumbbells_that_undo_the_pixel_are_all_found(ratio, seed):
    """Dumbbells along the long side of 1 × 1.5 pixels at noise 0.2: read as round in
    pixels, and the search there neither split them nor found them (about one site per
    pair): the mean column at its sites is not round in pixels, so the square plane is
    searched, and nearly every column is found (fails on the base: 24-42 % of the
    columns well inside the image found)."""
    from napari_tessella._square import (
        column_widths,
        missed_in_pixels,
        round_in_pixels,
        split_in_pixels,
    )

    image, truth = _dumbbells(ratio, seed)
    size = pixel_sizes(ratio)
    widths = column_widths(image)
    assert round_in_pixels(image, tuple(size))  # (the lobe cannot tell)
    in_pixels = find_atoms(image, refine="gaussian").positions
    assert not split_in_pixels(in_pixels, widths)  # (nor can round 55's check)
    assert missed_in_pixels(image, in_pixels, widths, tuple(size))
    res = find_atoms_finite(image, sampling=tuple(size), refine="gaussian").result
    assert _inner_found(res.positions, truth, size, image.shape) >= 0.9


@pytest.mark.parametrize("noise", [0.1, 0.3])
def test_a_lattice_round_in_pixels_is_not_missed(noise):
    """Columns round in pixels (σ 1.4 px), given 1 × 2 pixels: the mean column at the
    sites found is round and as wide as a column (to 10 %), so the search in pixels is
    kept, bit for bit as on square pixels (fails on the base only for want of the
    measure: the guard of the change)."""
    from napari_tessella._square import column_widths, mean_column_widths, missed_in_pixels

    lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=noise, seed=17602)
    size = tuple(pixel_sizes((1, 2)))
    widths = column_widths(lat.image)
    found = find_atoms(lat.image, refine="gaussian").positions
    wr, wc = mean_column_widths(lat.image, found, widths)
    assert wr == pytest.approx(1.4, rel=0.1) and wc == pytest.approx(1.4, rel=0.1)
    assert not missed_in_pixels(lat.image, found, widths, size)
    res = find_atoms_finite(lat.image, sampling=size, refine="gaussian").result
    np.testing.assert_array_equal(res.positions, found)


def test_the_mean_column_is_the_columns_own_shape():
    """Single columns round in the sample (14 mean pixels apart) on 1 × 1.5 pixels, read
    at their sites: the mean column is 1.5 times longer along the pixel's short side,
    as a column round in the sample is (fails on the base only for want of the
    measure)."""
    from napari_tessella._square import column_widths, mean_column_widths

    ratio = (1, 1.5)
    image, truth = oblong_dumbbells(ratio, np.zeros(2), seed=17600)  # single columns
    wr, wc = mean_column_widths(image, truth, column_widths(image))
    assert wr / wc == pytest.approx(1.5, rel=0.1)


def test_too_few_sites_is_no_miss():
    """Fewer than 3 sites give no mean column, and no miss."""
    from napari_tessella._square import mean_column_widths, missed_in_pixels

    lat = synthetic_lattice((48, 48), spacing=8.0, seed=0)
    assert mean_column_widths(lat.image, lat.positions[:2], (1.8, 1.8)) is None
    assert not missed_in_pixels(lat.image, lat.positions[:2], (1.8, 1.8), (1.0, 2.0))


def test_a_few_sites_under_heavy_noise_are_no_shape():
    """A lattice round in pixels at noise 0.5 where the search in pixels found 3 sites of
    144: their mean is within ten standard errors of flat, no shape to read, so no miss
    is said (fails without the gate: the noise made the three sites' mean oblong, and
    the square plane found 90 of 144 columns there with 22 found twice at 1 × 4)."""
    from napari_tessella._square import column_widths, mean_column_widths, missed_in_pixels

    lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=0.5, seed=17609)
    found = find_atoms(lat.image, refine="gaussian").positions
    assert len(found) == 3
    widths = column_widths(lat.image)
    assert mean_column_widths(lat.image, found, widths) is None
    assert not missed_in_pixels(lat.image, found, widths, tuple(pixel_sizes((1, 4))))


def test_dark_columns_round_in_pixels_are_not_missed():
    """Dark columns round in pixels (one minus a lattice) given 1 × 2 pixels, found with
    ``dark``: the mean column is read on the plane's negative, round, and the search in
    pixels is kept, bit for bit as on square pixels (fails if the plane is read as it is:
    a dip is no column, and the square plane was searched)."""
    lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=0.1, seed=1)
    image = 1.0 - lat.image
    size = tuple(pixel_sizes((1, 2)))
    res = find_atoms_finite(image, sampling=size, refine="gaussian", dark=True).result
    square = find_atoms_finite(image, refine="gaussian", dark=True).result
    np.testing.assert_array_equal(res.positions, square.positions)
