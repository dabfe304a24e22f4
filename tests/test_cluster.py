"""The command line on a real multi-process dask.distributed cluster: inputs are opened by
the workers from their path (no pixels in the task graph), labels are written by the
workers, and the objects equal the in-memory ones."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from test_io import KWARGS, OPTIONS, _blobs
from test_reading import write_pyramidal_ome_tiff

from napari_tessella import _lazy, measure_objects, threshold_label
from napari_tessella.cli import main

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
zarr = pytest.importorskip("zarr")

_SIZE = re.compile(r"Sending large graph of size ([\d.]+) (\w+)")
_UNITS = {"B": 1, "kiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def _run_and_measure_graphs(argv):
    """Run the command line; return its exit code and the size of every graph it sent.

    The client warns for every graph above the threshold, with its pickled size: with a
    1-byte threshold every graph is reported.
    """
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1B"}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    sizes = []
    for w in caught:
        m = _SIZE.search(str(w.message))
        if m:
            sizes.append(float(m.group(1)) * _UNITS[m.group(2)])
    return code, sizes


def test_cli_on_a_cluster_ships_paths_not_pixels(cluster, tmp_path, monkeypatch):
    image = _blobs((640, 700), seed=4).astype(np.float32)  # 1.7 MiB, labels 1.7 MiB
    z = zarr.open_array(str(tmp_path / "mosaic.zarr"), mode="w", shape=image.shape,
                        chunks=(256, 256), dtype=image.dtype)
    z[:] = image
    tiff = write_pyramidal_ome_tiff(tmp_path / "slide.ome.tif", image.astype(np.uint16),
                                    pixel=(0.5, 0.5))
    expected = threshold_label(image, **KWARGS)
    memory = measure_objects(expected, image)
    assert len(memory) > 20

    # labels small enough for a TIFF: computed on the workers, measured there too
    out = tmp_path / "small"
    code, sizes = _run_and_measure_graphs(
        ["threshold-label", str(tmp_path / "mosaic.zarr"), "--scheduler", cluster,
         "--out", str(out), "--quiet", *OPTIONS])
    assert code == 0 and sizes and max(sizes) < 2**20, sizes
    table = pd.read_csv(out / "mosaic_objects.csv")
    np.testing.assert_allclose(table[["com_row", "com_col", "area", "mean"]],
                               memory[["com_row", "com_col", "area", "mean"]],
                               rtol=1e-9)

    # a large (lazily read) TIFF: labels written by the workers into the OME-Zarr store
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)
    out = tmp_path / "large"
    code, sizes = _run_and_measure_graphs(
        ["threshold-label", str(tiff), "--scheduler", cluster, "--chunks", "192",
         "--out", str(out), "--quiet", *OPTIONS])
    assert code == 0 and sizes and max(sizes) < 2**20, sizes
    labels = zarr.open_array(str(out / "slide.ome_labels.zarr/labels/slide.ome_labels/0"),
                             mode="r")
    np.testing.assert_array_equal(labels[:], threshold_label(image.astype(np.uint16),
                                                             **KWARGS))
    assert "area_um2" in pd.read_csv(out / "slide.ome_objects.csv")


def _zarr(path, image, chunks):
    z = zarr.open_array(str(path), mode="w", shape=image.shape, chunks=chunks,
                        dtype=image.dtype)
    z[:] = image
    return path


def test_graphs_do_not_grow_with_the_number_of_objects(cluster, tmp_path):
    """The stitching's look-up tables stay on the cluster, named by the graph: 40 times
    more objects (about 20,000) leave the largest graph sent the same size."""
    noise = np.random.default_rng(1).random((1024, 1024)).astype(np.float32)
    path = _zarr(tmp_path / "noise.zarr", noise, (256, 256))
    largest, counts = [], []
    for threshold in ("0.9995", "0.98"):
        out = tmp_path / threshold
        code, sizes = _run_and_measure_graphs(
            ["threshold-label", str(path), "--scheduler", cluster, "--threshold", threshold,
             "--out", str(out), "--quiet"])
        assert code == 0 and sizes
        largest.append(max(sizes))
        counts.append(len(pd.read_csv(out / "noise_objects.csv")))
    assert counts[1] > 30 * counts[0] and counts[1] > 15_000, counts
    # 4 bytes per object in the graph would be 80 kB more
    assert largest[1] < largest[0] + 8 * 2**10, (largest, counts)


def test_watershed_on_a_cluster_sends_a_few_kib_per_chunk(cluster, tmp_path):
    """Each chunk's window (with its margin) is one overlap of the working image, not a
    slice with its own graph (85 kB per chunk before), and its tables stay on the cluster."""
    from napari_tessella.nuclei import seeded_watershed

    image = _blobs((640, 700), seed=5).astype(np.float32)
    path = _zarr(tmp_path / "cells.zarr", image, (128, 128))  # 30 chunks
    out = tmp_path / "ws"
    code, sizes = _run_and_measure_graphs(
        ["watershed", str(path), "--scheduler", cluster, "--out", str(out), "--quiet"])
    assert code == 0 and sizes
    assert max(sizes) < 30 * 10 * 2**10, sizes  # < 10 kiB per chunk (was ~85)
    import dask.array as da
    import tifffile

    local = seeded_watershed(da.from_zarr(str(path)))
    np.testing.assert_array_equal(tifffile.imread(out / "cells_labels.tif"),
                                  np.asarray(local.labels))


def _client_bytes():
    """benchmarks/cluster.py's count of the bytes the client receives."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "cluster.py"
    spec = importlib.util.spec_from_file_location("cluster_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ClientBytes


@pytest.mark.parametrize("command", ["threshold-label", "watershed"])
def test_no_label_image_comes_to_the_client(cluster, tmp_path, monkeypatch, command):
    """The TIFF label files of an image below LARGE_PIXELS are written by a worker, and the
    objects measured there: the client neither receives the labels nor reads them from
    disk nor writes a TIFF (before, it read the workers' scratch store back, or gathered
    the watershed's labels and territories and measured them, and wrote the files), and
    the files and table equal the chunked computation's done here and the in-memory
    table."""
    import dask.array as da
    import tifffile

    from napari_tessella.nuclei import seeded_watershed

    image = _blobs((1024, 1024), seed=6).astype(np.float32)
    path = _zarr(tmp_path / "cells.zarr", image, (256, 256))
    nbytes = image.size * 4  # one int32 label image: 4 MiB
    out = tmp_path / command
    # the diameter estimate gathers a window of up to 1024² reduced pixels (4 MiB here,
    # the whole image; bounded on any image): given, it is not estimated
    options = OPTIONS if command == "threshold-label" else ["--object-diameter", "12"]
    # what this process (the workers are others) writes to TIFF and reads from Zarr
    tiffs, read = [], []
    imwrite, getitem = tifffile.imwrite, zarr.Array.__getitem__
    monkeypatch.setattr(tifffile, "imwrite", lambda f, *a, **k: tiffs.append(f) or imwrite(
        f, *a, **k))
    monkeypatch.setattr(zarr.Array, "__getitem__", lambda self, key: read.append(
        np.asarray(got := getitem(self, key)).nbytes) or got)
    with _client_bytes()(cluster) as received:
        code, sizes = _run_and_measure_graphs(
            [command, str(path), "--scheduler", cluster, "--out", str(out), "--quiet",
             *options])
    monkeypatch.undo()
    assert code == 0 and sizes and max(sizes) < 2**20, sizes
    # the largest: the watershed's histogram of 65,792 bins, 0.5 MiB on any image (the
    # labels, 4 MiB, before)
    assert received.largest < nbytes / 4, received.largest
    assert received.total < nbytes / 2, received.total
    assert not tiffs, tiffs
    assert sum(read) < nbytes / 16, read  # threshold-label: 4 MiB before

    if command == "threshold-label":
        expected = {"labels": threshold_label(image, **KWARGS)}
    else:
        local = seeded_watershed(da.from_zarr(str(path)), object_diameter=12)
        expected = {"labels": np.asarray(local.labels),
                    "territories": np.asarray(local.territories)}
        assert (expected["territories"] > 0).mean() > 0.5
    for name, want in expected.items():
        np.testing.assert_array_equal(tifffile.imread(out / f"cells_{name}.tif"), want)
    table = pd.read_csv(out / "cells_objects.csv")
    memory = measure_objects(expected["labels"], image)
    assert len(table) == len(memory) > 20
    np.testing.assert_allclose(table[["com_row", "com_col", "area", "mean", "max"]],
                               memory[["com_row", "com_col", "area", "mean", "max"]],
                               rtol=1e-9)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"cells_{name}.tif" for name in expected] + ["cells_objects.csv"])
