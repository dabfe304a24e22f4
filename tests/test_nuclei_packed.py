"""Crops of packed tissue: nuclei tiling the field (issue 14, round 17).

A 220² crop of a hexagonal packing of 12-16 px nuclei with 1-3 px gaps, blurred: every
pixel lies within a few of an edge, so the differences of pixels 3 apart (the noise the
diameter estimate judged its foreground cut by) were the edges, 6-28x the noise; Otsu's
split was read as noise, the cut raised above almost every pixel, the estimate fell to
its floor (3 px) and the defaults found 2-10 nuclei of ~200-300
(benchmarks/nuclei_packed.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella.nuclei import (
    estimate_object_diameter,
    score_segmentation,
    seeded_watershed,
)
from napari_tessella.synthetic import synthetic_nuclei


def _crop(d, gap, blur, seed, side=220):
    return synthetic_nuclei((side, side), diameter=d, packed=gap, blur=blur, seed=seed,
                            brightness_range=(0.5, 1.0))


# (d, gap, blur, seed): main estimated these at 3.0-7.0 px (the floor for most)
FELL = [(12, 2, 1.5, 0), (12, 3, 1.5, 0), (16, 1, 0.8, 2), (16, 2, 1.5, 3),
        (16, 3, 1.5, 3), (16, 1, 0.8, 1), (12, 1, 1.5, 1)]


@pytest.mark.parametrize("d, gap, blur, seed", FELL)
def test_packed_crop_estimate_within_a_quarter(d, gap, blur, seed):
    est = estimate_object_diameter(_crop(d, gap, blur, seed).image)
    assert 0.75 * d <= est <= 1.25 * d, est


@pytest.mark.parametrize("d, gap, blur, seed", [(12, 2, 1.5, 0), (16, 2, 1.5, 3),
                                                (16, 3, 1.5, 3)])
def test_packed_crop_nuclei_found(d, gap, blur, seed):
    """main found 2, 7 and 10 nuclei on these (of 314, 196 and 177)."""
    nuc = _crop(d, gap, blur, seed)
    labels = seeded_watershed(nuc.image).labels
    assert labels.max() >= 0.75 * nuc.labels.max()
    assert score_segmentation(labels, nuc.labels)["f1"] >= 0.8


@pytest.mark.parametrize("seed", [0, 1])
def test_noise_alone_estimate_as_without_the_tiles(seed, monkeypatch):
    """On noise alone the tiles' noise and the pixel differences agree: the cut raised to
    the significance floor is raised again, and the estimate is the one without the
    tiles (never a "nucleus" of noise)."""
    from napari_tessella.nuclei import diameter as D

    img = np.random.default_rng(seed).normal(0.2, 0.02, (256, 256))
    with_tiles = estimate_object_diameter(img)
    monkeypatch.setattr(D, "_tile_noise", lambda *a: np.inf)
    assert estimate_object_diameter(img) == with_tiles


def test_packed_generator_geometry():
    nuc = synthetic_nuclei((200, 200), diameter=16, packed=2, blur=0, seed=1, noise=0)
    n = int(nuc.labels.max())
    assert np.array_equal(np.unique(nuc.labels), np.arange(n + 1))  # 1..n, no gaps
    assert len(nuc.centers) == n
    # neighbours one pitch apart (d + gap), interior discs of exactly d
    c = nuc.centers
    dist = np.hypot(*(c[:, None] - c[None]).transpose(2, 0, 1))
    np.fill_diagonal(dist, np.inf)
    assert np.allclose(dist.min(axis=1), 18.0)
    inner = [i for i in range(n) if 10 < c[i, 0] < 190 and 10 < c[i, 1] < 190]
    areas = np.bincount(nuc.labels.ravel())[1:][inner]
    assert np.all(np.abs(areas - np.pi * 64) < 12)
    # the gap stays background; the field is tiled to its edges
    assert 0.6 < (nuc.labels > 0).mean() < 0.75
    assert (nuc.labels[0] > 0).any() and (nuc.labels[-1] > 0).any()
    # blur 0, no noise: the image is the levels drawn, 0 in the gaps
    assert np.all(nuc.image[nuc.labels == 0] == 0)


def test_packed_crop_chunked_estimate_as_in_memory():
    """The chunked estimate reduces the same images and judges them alike."""
    da = pytest.importorskip("dask.array")
    from napari_tessella.nuclei import estimate_object_diameter_chunked

    img = _crop(16, 2, 1.5, 3, side=300).image
    lazy = da.from_array(img, chunks=(128, 96))
    assert estimate_object_diameter_chunked(lazy) == pytest.approx(
        estimate_object_diameter(img), rel=1e-9)
