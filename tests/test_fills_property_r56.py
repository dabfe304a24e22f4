"""Property: a constant fill (a rotation's corner triangles or a mosaic's missing tile, of
any value) is read chunk by chunk as in memory, at any chunk shape (round 56). The named
cases are in ``test_fills3_r56.py``."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_partition
from _shapes import noisy_field
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed, threshold_label_finite

da = pytest.importorskip("dask.array")

TL = {"smooth_sigma": 2.0, "min_size": 30}
SLOW = dict(deadline=None, suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate])  # (shrinking: minutes)


@pytest.fixture(scope="module")
def field():
    """A 12-bit float field of 12 nuclei with noise of 5."""
    return noisy_field((180, 220), n_nuclei=12, seed=7, noise_seed=1)


def _filled(field, angle, value, corner, rows, cols):
    """``field`` rotated by ``angle`` with the fill ``value``, or (``angle`` 0) missing a
    ``rows`` × ``cols`` tile of ``value`` in one ``corner``."""
    if angle:
        return ndi.rotate(field, angle, reshape=True, cval=value, order=1)
    image = field.copy()
    r = slice(None, rows) if corner < 2 else slice(image.shape[0] - rows, None)
    c = slice(None, cols) if corner % 2 == 0 else slice(image.shape[1] - cols, None)
    image[r, c] = value
    return image


FILLS = dict(angle=st.sampled_from([0, 11, 33]),
             value=st.sampled_from([0.0, 150.0, 1500.0, 4000.0]),
             corner=st.integers(0, 3), rows=st.integers(20, 80), cols=st.integers(20, 90),
             chunks=st.tuples(st.integers(40, 200), st.integers(40, 200)))


@settings(max_examples=6, **SLOW)
@given(method=st.sampled_from(["otsu", "li", "mean"]), **FILLS)
def test_any_fill_at_any_chunks_labels_as_in_memory(field, method, angle, value, corner,
                                                    rows, cols, chunks):
    image = _filled(field, angle, value, corner, rows, cols)
    kept = image.copy()
    memory = threshold_label_finite(image, method, **TL)
    lazy = threshold_label_finite(da.from_array(image, chunks=chunks), method, **TL)
    assert same_partition(lazy.labels.compute(), memory.labels)
    assert lazy.said == memory.said
    np.testing.assert_array_equal(image, kept)


@settings(max_examples=3, **SLOW)
@given(**FILLS)
def test_any_fill_at_any_chunks_gives_memorys_nuclei(field, angle, value, corner, rows,
                                                     cols, chunks):
    image = _filled(field, angle, value, corner, rows, cols)
    memory = seeded_watershed(image).labels
    lazy = seeded_watershed(da.from_array(image, chunks=chunks)).labels.compute()
    assert same_partition(lazy, memory)


def _mapped(lazy, memory):
    """The lazy result's territories in memory's ids (its labels mapped onto memory's)."""
    labels, territories = lazy.labels.compute(), lazy.territories.compute()
    fg = memory.labels > 0
    lut = np.zeros(max(int(labels.max()), int(territories.max())) + 1, np.int64)
    lut[labels[fg]] = memory.labels[fg]
    return labels, lut[territories]


@settings(max_examples=3, **SLOW)
@given(**FILLS)
def test_any_fill_at_any_chunks_gives_memorys_territories_with_exclude_border(
        field, angle, value, corner, rows, cols, chunks):
    """Round 57: with ``exclude_border`` the nuclei memory's and every territory too (the
    cut nuclei's given to the nearest nucleus kept), wherever the chunked watershed's own
    territories are memory's without it (a pixel whose nearest nucleus lies beyond its
    chunk's margin may differ, with or without ``exclude_border``)."""
    image = _filled(field, angle, value, corner, rows, cols)
    lazy_image = da.from_array(image, chunks=chunks)
    plain = seeded_watershed(image)
    agree = _mapped(seeded_watershed(lazy_image), plain)[1] == plain.territories
    memory = seeded_watershed(image, exclude_border=True)
    labels, territories = _mapped(seeded_watershed(lazy_image, exclude_border=True), memory)
    assert same_partition(labels, memory.labels)
    np.testing.assert_array_equal(territories[agree], memory.territories[agree])
    assert agree.mean() > 0.99
