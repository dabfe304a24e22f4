"""Round 58: the chunked watershed's territories are memory's also where a pixel's nearest
nucleus lies beyond its chunk's window (deep in an empty corner or band): such pixels
take the whole image's nearest nucleus, from the chunks' kept segmentations.

Failing on the round's base: the chunks of 64 × 160 and the empty band (those pixels took
the nearest nucleus their chunk's window held: 120 and 123 pixels of round 55's field
rotated 17° at chunks of 64 × 160, with and without ``exclude_border``; 27,084 and 14,700
of the band); the other chunk shapes pass there too.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_territories
from _shapes import filled_fields, noisy_field

from napari_tessella import seeded_watershed
from napari_tessella.synthetic import synthetic_nuclei

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def fields():
    return filled_fields(noisy_field())


@pytest.mark.parametrize("case", ["rotated 17, fill 0", "uint16 rotated 17, fill 65535"])
@pytest.mark.parametrize("chunks", [(64, 160), (48, 200), (72, 56)])
def test_filled_fields_territories_at_uneven_chunks(fields, case, chunks):
    """Round 55's field rotated 17° (its empty corner ~75 px from every nucleus, beyond
    a margin of 2 d + 1 = 57 px): memory's nuclei and territories at uneven chunks, with
    ``exclude_border`` and without."""
    image = fields[case]
    for exclude in (False, True):
        memory = seeded_watershed(image, exclude_border=exclude)
        lazy = seeded_watershed(da.from_array(image, chunks=chunks), exclude_border=exclude)
        assert same_territories(lazy, memory), exclude


def test_an_empty_band_at_working_resolution():
    """Nuclei of 40 px (segmented at half resolution) beside an empty band of 180 px
    (noise on the background, no fill): memory's territories at chunks of 96 × 80 and
    130 × 70, the band's pixels too, though ~180 px from their nearest nucleus."""
    image = synthetic_nuclei((320, 400), n_nuclei=10, diameter=40.0, seed=3).image
    field = (image.clip(0) / image.max() * 3000 + 200)
    rng = np.random.default_rng(1)
    field[:, :180] = 200 + rng.normal(0, 5, (320, 180))
    field[:, 180:] += rng.normal(0, 5, (320, 220))
    memory = seeded_watershed(field)
    assert memory.labels.max() >= 3
    assert (memory.territories[:, :20] > 0).all()
    for chunks in ((96, 80), (130, 70)):
        lazy = seeded_watershed(da.from_array(field, chunks=chunks))
        assert same_territories(lazy, memory), chunks
