"""Round 59: a rotated field whose one-pixel rim is all the fill value, with a few dead
(dark) pixels in it, segmented chunk by chunk as in memory.

In memory the fill is looked for on the image as given, then (none found) on it with its
spikes read; chunk by chunk the look was gated by the despiked image alone, in which the
rim's pixels beside a bright fill are read as spikes, so the fill went unread and its
corners were segmented as nuclei (17° with a fill of 1500: 14,456 nucleus pixels chunk
by chunk, 8,992 in memory; as uint16 with 65535 the chunked run failed outright).

Failing on the round's base: the three bright fills (the fill of 0 passes there too: its rim
is no spike).
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_partition, same_territories
from _shapes import noisy_field
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed, threshold_label_finite

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def field():
    return noisy_field()


def _rimmed(field, angle, fill, dtype=np.float64, reshape=True, seed=1):
    """``field`` rotated by ``angle`` with ``fill`` in its corners and on its whole
    one-pixel rim, and 20 dead pixels inside (0; the maximum for a fill of 0)."""
    base = field.clip(0).astype(dtype) if dtype is not np.float64 else field
    img = ndi.rotate(base, angle, reshape=reshape, cval=fill, order=1)
    img[0] = img[-1] = fill
    img[:, 0] = img[:, -1] = fill
    rng = np.random.default_rng(seed)
    rows = rng.integers(5, img.shape[0] - 5, 20)
    cols = rng.integers(5, img.shape[1] - 5, 20)
    img[rows, cols] = img.max() if fill == 0 else 0
    return img


@pytest.mark.parametrize(("angle", "fill", "dtype", "reshape"), [
    (17, 1500.0, np.float64, True),
    (17, 65535, np.uint16, True),
    (40, 1500.0, np.float64, False),
    (17, 0.0, np.float64, True),
])
def test_a_rims_fill_is_read_chunk_by_chunk_as_in_memory(field, angle, fill, dtype,
                                                          reshape):
    image = _rimmed(field, angle, fill, dtype, reshape)
    memory = seeded_watershed(image)
    for chunks in (64, 96):
        lazy = seeded_watershed(da.from_array(image, chunks=chunks))
        assert same_territories(lazy, memory), chunks


def test_threshold_label_reads_the_rims_fill_as_memory(field):
    """Threshold & label agreed on the base already (it reads no spikes): kept so."""
    image = _rimmed(field, 17, 1500.0)
    tl = {"smooth_sigma": 2.0, "min_size": 30}
    memory = threshold_label_finite(image, **tl)
    lazy = threshold_label_finite(da.from_array(image, chunks=64), **tl)
    assert same_partition(lazy.labels.compute(), memory.labels)
    assert lazy.said == memory.said
