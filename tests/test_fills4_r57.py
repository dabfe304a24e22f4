"""Round 57: with ``exclude_border``, the territories of the nuclei a fill cuts are given
to the nearest nucleus kept chunk by chunk, as in memory.

Failing on the round's base: every test here (chunk by chunk those territories were left
to no nucleus: 1,976 pixels of the field rotated 17° with a fill of 0 below; the base has
no ``nearest_label_lazy``). ``test_fills_property_r56.py``'s territories property fails on
the base too.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_territories
from _shapes import filled_fields, noisy_field

from napari_tessella import _label_image, _nearest_chunked, seeded_watershed

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def field():
    """A float field of 14 nuclei, 200-3200 with noise of 5 (round 55's)."""
    return noisy_field()


def _cases(field):
    return filled_fields(field)



@pytest.mark.parametrize("case", ["rotated 17, fill 0", "rotated 40, fill 1500",
                                  "uint16 rotated 17, fill 65535", "missing tile"])
def test_chunked_territories_of_nuclei_cut_by_a_fill_are_memorys(field, case):
    """Chunks of 64, 128, 160 × 64 and 100 × 70: the nuclei and every territory
    memory's; the territories of the nuclei the fill cuts belong to nuclei kept (none is
    left empty inside the field). (At 64 × 160 the chunked watershed's own territories
    differ from memory's by 120 pixels on two of these fields, without ``exclude_border``
    too and on the base alike: a pixel whose nearest nucleus lies beyond its chunk's
    margin, far inside the field's empty corner.)"""
    image = _cases(field)[case]
    memory = seeded_watershed(image, exclude_border=True)
    assert (memory.territories > 0).sum() > (seeded_watershed(image).labels > 0).sum()
    for chunks in (64, 128, (160, 64), (100, 70)):
        lazy = seeded_watershed(da.from_array(image, chunks=chunks), exclude_border=True)
        assert same_territories(lazy, memory), chunks


def test_territories_farther_than_the_first_margin(field, monkeypatch):
    """Coarse cells of 2 pixels (round 58; before, a first margin of 2 pixels, too
    narrow for most pixels): each pixel's nearest nucleus is memory's."""
    monkeypatch.setattr(_nearest_chunked, "_cell_side", lambda shape: 2)
    image = _cases(field)["missing tile"]
    memory = seeded_watershed(image, exclude_border=True)
    lazy = seeded_watershed(da.from_array(image, chunks=96), exclude_border=True)
    assert same_territories(lazy, memory)


@pytest.mark.parametrize("reach", [1, 3, 64])
def test_the_lazy_nearest_label_is_the_whole_images(monkeypatch, reach):
    """``nearest_label_lazy`` is ``_nearest_label`` of the whole image on the pixels asked
    for, ties included (labels on a grid of 4), at chunks that cut them, with coarse
    cells of 1, 3 and 64 pixels (round 58; before, first margins of as many pixels); no
    label: 0."""
    monkeypatch.setattr(_nearest_chunked, "_cell_side", lambda shape: reach)
    rng = np.random.default_rng(reach)
    for trial in range(12):
        shape = tuple(int(n) for n in rng.integers(30, 110, 2))
        labels = np.zeros(shape, np.int32)
        for i in range(int(rng.integers(0 if trial else 1, 6))):
            r, c = rng.integers(0, shape[0]) // 4 * 4, rng.integers(0, shape[1]) // 4 * 4
            labels[r:r + rng.integers(1, 4), c:c + rng.integers(1, 4)] = i + 1
        at = rng.random(shape) < 0.5
        want = (np.where(at, _label_image._nearest_label(labels), 0) if labels.any()
                else np.zeros(shape, np.int32))
        for chunks in ((17, 23), 40, (64, 9)):
            got = _nearest_chunked.nearest_label_lazy(da.from_array(labels, chunks=chunks),
                                                  da.from_array(at, chunks=chunks))
            assert got.dtype == labels.dtype
            np.testing.assert_array_equal(got.compute(), want)
