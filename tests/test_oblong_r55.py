"""Round 55: Find atoms on oblong pixels under heavy noise.

Round 54 read which geometry the columns are round in from the central lobe of a
Hann-windowed autocorrelation. Under noise of 0.3 of the peak, columns round in pixels
measured up to 1.24 there, beyond the 10 % limit, and were searched on the square plane,
where each looked like an unresolved pair and was found twice. The autocorrelation is now
the linear one (zero-padded, no window); and a search in pixels that split the columns
(dumbbells whose elongation undoes the pixel's) gives way to the square plane. Each test
says whether it fails on the round's base.
"""

from __future__ import annotations

import numpy as np
import pytest
from _shapes import oblong_dumbbells, pixel_sizes
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

from napari_tessella._finite import find_atoms_finite
from napari_tessella._square import ROUND, column_widths, round_in_pixels
from napari_tessella.synthetic import synthetic_lattice

# pixel lattices (96², 8 px apart) whose round-54 widths' ratio at noise 0.3 was 1.24
# and 1.12 (tuning seeds)
NOISY = (16608, 16609)
RATIOS = [(1, 2), (2, 1), (1, 4), (4, 1)]


def _once(found, truth, spacing):
    """``(found twice, spurious)``: found columns whose nearest found neighbour is nearer
    than half the spacing, and found columns farther than a quarter of the spacing from
    every true one (all in pixels, where the columns are round)."""
    found = np.asarray(found, dtype=np.float64).reshape(-1, 2)
    d, _ = cKDTree(found).query(found, k=2)
    twice = int((d[:, 1] < spacing / 2).sum())
    d, _ = cKDTree(np.asarray(truth)).query(found)
    return twice, int((d > spacing / 4).sum())


@pytest.mark.parametrize("ratio", RATIOS)
@pytest.mark.parametrize("seed", NOISY)
def test_noisy_columns_round_in_pixels_are_found_once(ratio, seed):
    """Columns round in pixels at noise 0.3 of the peak, given an oblong scale: read as
    round in pixels and each found once, where it is (fails on the base: the widths'
    ratio 1.24 and 1.12 sent both lattices to the square plane, which found 201-333
    columns, 105-290 of them nearer than half the spacing to another)."""
    lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=0.3, seed=seed)
    size = tuple(pixel_sizes(ratio))
    assert round_in_pixels(lat.image, size)
    res = find_atoms_finite(lat.image, sampling=size, refine="gaussian").result
    twice, spurious = _once(res.positions, lat.positions, 8.0)
    assert twice <= 2 and spurious == 0, (twice, spurious)  # (2: a speck of noise's pair)
    assert len(res.positions) >= 60  # (the noise hides half of the 144, as on square pixels)
    # as on square pixels, bit for bit: the very search of a square-pixel plane
    square = find_atoms_finite(lat.image, sampling=None, refine="gaussian").result
    np.testing.assert_array_equal(res.positions, square.positions)


def test_the_widths_scatter_less_under_noise():
    """Twelve lattices round in pixels at noise 0.3: every widths' ratio within the 10 %
    (fails on the base: up to 1.24, three of the twelve beyond 1.1)."""
    ratios = []
    for seed in range(16600, 16612):
        lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=0.3, seed=seed)
        wr, wc = column_widths(lat.image)
        ratios.append(abs(np.log(wr / wc)))
    assert max(ratios) < np.log(ROUND), np.exp(max(ratios))


def test_the_widths_are_the_columns_own_without_noise():
    """Without noise the lobe's widths are √2 times the columns' (1.4 px) to 10 % (the
    lobe read at whole lags), the same along both axes to 1 % (passes on the base too:
    the measure is as it was, only less scattered under noise)."""
    lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=0.0, seed=0)
    wr, wc = column_widths(lat.image)
    assert wr == pytest.approx(1.4 * np.sqrt(2), rel=0.1)
    assert wc == pytest.approx(wr, rel=0.01)


def test_the_stem_sample_is_still_round_in_the_sample(stem_image):
    """NbW-STEM resampled to 1 × 3, 3 × 1, 1 × 4 and 4 × 1 pixels: its columns are still
    read as round in the sample, their widths' ratio there within 0.7-1.3 at 1:3 (passes
    on the base too: the guard of the change). (At 1:4 a column is under a pixel wide
    along the long side, its lobe a single lag: the widths are no measure there, but
    far from round in pixels.)"""
    for zoom in ((1.0, 1 / 3), (1 / 3, 1.0), (1.0, 0.25), (0.25, 1.0)):
        plane = ndi.zoom(stem_image, zoom, order=1, mode="nearest", grid_mode=True)
        size = pixel_sizes(1 / np.array(zoom))
        assert not round_in_pixels(plane, size)
        if min(zoom) > 0.3:
            wr, wc = column_widths(plane)
            assert 0.7 < wr * size[0] / (wc * size[1]) < 1.3


def test_noisy_lattices_round_in_pixels_whatever_the_ratio():
    """Property: columns round in pixels (96², 8 px apart) under noise of 0.1-0.25 of the
    peak, on pixels 1.5-4 times longer one way than the other, either way: read as round
    in pixels, and found as on square pixels, with no column found twice that square
    pixels find once. (On the base, 4 % of such lattices measured beyond the 10 % at
    noise 0.2, 22 % at 0.3, and were found on the square plane, twice: the property fails
    there. A rare noisy lattice has a column that Find atoms finds twice on square pixels
    too, e.g. noise 0.125, seed 362879: that is not the pixels' doing.)"""
    from hypothesis import given
    from hypothesis import strategies as st

    @given(aspect=st.floats(1.5, 4.0), tall=st.booleans(), noise=st.floats(0.1, 0.25),
           seed=st.integers(0, 10**6))
    def check(aspect, tall, noise, seed):
        lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=noise, seed=seed)
        size = tuple(pixel_sizes((aspect, 1.0) if tall else (1.0, aspect)))
        assert round_in_pixels(lat.image, size)
        res = find_atoms_finite(lat.image, sampling=size, refine="gaussian").result
        square = find_atoms_finite(lat.image, refine="gaussian").result
        np.testing.assert_array_equal(res.positions, square.positions)

    check()


def _dumbbells(ratio, pair=5.6, **kwargs):
    """Dumbbells round in the sample, ``pair`` mean pixels apart along the pixel's long
    side: ``(image, truth in pixels)``."""
    size = pixel_sizes(ratio)
    half = np.zeros(2)
    half[int(size[1] > size[0])] = pair / 2
    return oblong_dumbbells(ratio, half, **kwargs)


@pytest.mark.parametrize("ratio", [(1, 1.5), (1.5, 1)])
def test_dumbbells_that_undo_the_pixel_are_found_once(ratio):
    """Dumbbells 5.6 mean pixels apart along the long side of 1 × 1.5 pixels: elongated
    as much as the pixel, they read as round in pixels, and the search there split each
    column in two (on the base: 1339 columns of 833 over eight fields, 828 with a
    neighbour nearer than 1.9 mean pixels). The split is seen on the result, and the
    columns are found on the square plane: each once, both columns of every pair."""
    image, truth = _dumbbells(ratio, seed=3)
    size = pixel_sizes(ratio)
    assert round_in_pixels(image, size)  # (the widths cannot tell: the result can)
    res = find_atoms_finite(image, sampling=tuple(size), refine="gaussian").result
    found = np.asarray(res.positions).reshape(-1, 2) * size
    near, _ = cKDTree(found).query(found, k=2)
    inside = np.all((found >= 6) & (found <= np.array(image.shape) * size - 7), axis=1)
    # none found twice away from the edges (a column cut by one is found inside it)
    assert (near[inside, 1] > 2.8).all(), np.sort(near[inside, 1])[:4]
    # every true column well inside the image found, within 1 mean pixel
    truth = truth * size
    inner = truth[np.all((truth >= 6) & (truth <= np.array(image.shape) * size - 7), axis=1)]
    d, _ = cKDTree(found).query(inner)
    assert (d < 1.0).all(), int((d >= 1.0).sum())
    from napari_tessella._square import split_in_pixels
    from napari_tessella.atoms import find_atoms

    assert split_in_pixels(find_atoms(image, refine="gaussian").positions,
                           column_widths(image))


def test_a_lattice_round_in_pixels_is_not_split():
    """The check on the result leaves columns round in pixels alone (up to noise 0.3:
    none of the columns found has a neighbour within the columns' width; passes on the
    base too, which has no such check)."""
    from napari_tessella._square import split_in_pixels
    from napari_tessella.atoms import find_atoms

    for noise in (0.1, 0.3):
        lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=noise, seed=16601)
        res = find_atoms(lat.image, refine="gaussian")
        assert not split_in_pixels(res.positions, column_widths(lat.image))
