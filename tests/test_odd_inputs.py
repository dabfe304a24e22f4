"""Inputs a demanding user tries that the earlier sweeps did not (QA pass s4): very
elongated images, ... Each test fails on the behaviour it fixed."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_tessella import seeded_watershed
from napari_tessella.nuclei import estimate_object_diameter
from napari_tessella.synthetic import synthetic_lattice


@pytest.fixture(scope="module")
def lattice_image():
    return synthetic_lattice((64, 64), spacing=8.0, seed=0).image


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("shape", [(2, 5120), (5120, 3), (2, 1000)])
def test_a_very_elongated_image_gets_a_diameter_not_an_index_error(lattice_image, shape,
                                                                  lazy):
    """A line scan or a thin strip (2 × 5120): the diameter estimate reduced the image by
    its long side (÷ 20), leaving no rows (IndexError in the block mean)."""
    rows, cols = shape
    strip = np.tile(lattice_image, (rows // 64 + 1, cols // 64 + 1))[:rows, :cols]
    image = da.from_array(strip, chunks=256) if lazy else strip
    diameter = estimate_object_diameter(image)
    assert 0 < diameter <= max(shape)
    result = seeded_watershed(image)
    assert np.asarray(result.labels).shape == shape and result.labels.max() > 0
