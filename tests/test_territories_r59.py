"""Round 59: the chunked watershed's territories are memory's also where a pixel's nearest
nucleus lies beyond its chunk's window (deep in an empty corner or band), on every
scheduler: such pixels take the whole image's nearest nucleus, read where the chunks'
segmentations lie (on a cluster, by the workers; ``nuclei._chunked_territories``).

Failing on the round's base: the chunks of 64 × 160 and the empty band (those pixels took
the nearest nucleus their chunk's window held: 120 and 123 pixels of round 55's field
rotated 17° at chunks of 64 × 160, with and without ``exclude_border``; 27,084 and 14,700
of the band), in one process and on the cluster; the other chunk shapes pass there too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from _benchmarks import same_territories
from _shapes import filled_fields, noisy_field

from napari_tessella import _lazy, seeded_watershed
from napari_tessella.chunked import seeded_watershed_chunked
from napari_tessella.synthetic import synthetic_nuclei

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def fields():
    return filled_fields(noisy_field())


def _band_field():
    """Nuclei of 40 px (segmented at half resolution) beside an empty band of 180 px
    (noise on the background, no fill)."""
    image = synthetic_nuclei((320, 400), n_nuclei=10, diameter=40.0, seed=3).image
    field = (image.clip(0) / image.max() * 3000 + 200)
    rng = np.random.default_rng(1)
    field[:, :180] = 200 + rng.normal(0, 5, (320, 180))
    field[:, 180:] += rng.normal(0, 5, (320, 220))
    return field


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
    """Memory's territories beside the empty band at chunks of 96 × 80 and 130 × 70, the
    band's pixels too, though ~180 px from their nearest nucleus."""
    field = _band_field()
    memory = seeded_watershed(field)
    assert memory.labels.max() >= 3
    assert (memory.territories[:, :20] > 0).all()
    for chunks in ((96, 80), (130, 70)):
        lazy = seeded_watershed(da.from_array(field, chunks=chunks))
        assert same_territories(lazy, memory), chunks


_SIZE = re.compile(r"Sending large graph of size ([\d.]+) (\w+)")
_UNITS = {"B": 1, "kiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def _on_cluster(image, chunks, address, path):
    """The chunked watershed's labels and territories computed on the cluster from a
    Zarr store at ``path`` (read by the workers: no pixels in the graph), and the size of
    every graph sent (the client warns for each above a 1-byte threshold)."""
    import dask

    zarr = pytest.importorskip("zarr")
    store = zarr.open_array(str(path), mode="w", shape=image.shape, chunks=chunks,
                            dtype=image.dtype)
    store[:] = image
    client = _lazy._resolve_scheduler(address)
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1B"}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lazy = seeded_watershed_chunked(da.from_zarr(str(path)), scheduler=address)
        labels, territories = dask.compute(lazy.labels, lazy.territories, scheduler=client)
    sizes = [float(m.group(1)) * _UNITS[m.group(2)]
             for w in caught if (m := _SIZE.search(str(w.message)))]
    return lazy, labels, territories, sizes


@pytest.mark.parametrize("which", ["band", "rotated"])
def test_one_result_on_a_cluster(cluster, fields, which, tmp_path):
    """On a real dask.distributed cluster (worker processes) the territories are memory's,
    as in one process, and no graph sent holds more than 10 kiB a chunk (round 58's
    whole-image pass sent 2.2 MB for 30 chunks)."""
    image, chunks = ((_band_field(), (96, 80)) if which == "band"
                     else (fields["rotated 17, fill 0"], (64, 160)))
    memory = seeded_watershed(image)
    lazy, labels, territories, sizes = _on_cluster(image, chunks, cluster,
                                                   tmp_path / "field.zarr")
    n_chunks = int(np.prod(lazy.labels.numblocks))
    assert sizes and max(sizes) < n_chunks * 10 * 2**10, (sizes, n_chunks)
    here = seeded_watershed(da.from_array(image, chunks=chunks))
    np.testing.assert_array_equal(labels, here.labels.compute())
    np.testing.assert_array_equal(territories, here.territories.compute())

    class Result:  # (same_territories reads .compute() of both arrays)
        pass

    got = Result()
    got.labels, got.territories = da.from_array(labels), da.from_array(territories)
    assert same_territories(got, memory)
