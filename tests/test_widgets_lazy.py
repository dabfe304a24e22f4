"""Widgets on lazy (dask/Zarr) and multiscale layers: chunk by chunk, Zarr-backed outputs."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_partition as same_up_to_numbering
from scipy import ndimage as ndi

da = pytest.importorskip("dask.array")

from napari_tessella import _lazy  # noqa: E402
from napari_tessella._widgets import (  # noqa: E402
    SeededWatershedWidget,
    ThresholdLabelWidget,
    _base,
)
from napari_tessella.nuclei import seeded_watershed  # noqa: E402
from napari_tessella.segmentation import threshold_label  # noqa: E402
from napari_tessella.synthetic import synthetic_nuclei  # noqa: E402


@pytest.fixture
def small_limit(monkeypatch, tmp_path):
    """Treat anything above 100 x 100 pixels as 'large', and keep results in tmp_path."""
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)
    monkeypatch.setattr(_base, "RESULTS_DIR", tmp_path / "results")
    return tmp_path


@pytest.fixture
def blobs():
    rng = np.random.default_rng(5)
    field = ndi.gaussian_filter(rng.standard_normal((1100, 1200)), 6.0)
    return ((field - field.min()) / np.ptp(field) * 4000).astype(np.uint16)


def test_threshold_widget_on_a_dask_layer(small_limit, blobs, make_napari_viewer):
    viewer = make_napari_viewer()
    lazy = da.from_array(blobs, chunks=(256, 300))
    layer = viewer.add_image(lazy, name="mosaic", scale=(0.5, 0.5))
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.method.value = "otsu"
    widget.smooth_sigma.value = 0.5  # in the layer's units: 1 px
    widget.opening.value = 3
    assert widget() is not None
    labels = viewer.layers["mosaic labels"]
    assert not labels.multiscale  # one level: a Zarr array, read lazily by napari
    assert type(labels.data).__module__.startswith("zarr")
    assert tuple(labels.scale) == (0.5, 0.5)
    expected = threshold_label(blobs, "otsu", smooth_sigma=1.0, opening=3)
    stored = np.asarray(labels.data)
    np.testing.assert_array_equal(stored, expected)  # numbering included
    assert len(viewer.layers["mosaic centers"].data) == expected.max()
    assert (small_limit / "results" / "napari-tessella").exists()
    assert layer.data is lazy  # the input layer is untouched

    # a re-run replaces the outputs instead of piling up layers
    widget.opening.value = 2
    assert widget() is not None
    assert [lyr.name for lyr in viewer.layers].count("mosaic labels") == 1

    written = widget.export(small_limit / "export")
    assert sorted(p.suffix for p in written) == [".csv", ".csv", ".tif"]  # + labels' table


def test_multiscale_output_is_exported_as_zarr(small_limit, make_napari_viewer):
    viewer = make_napari_viewer()
    image = np.zeros((4200, 300), np.uint8)
    image[100:200, 50:150] = 200
    image[3000:3100, 10:20] = 200
    layer = viewer.add_image(da.from_array(image, chunks=1024), name="tall")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.method.value = "otsu"
    widget()
    labels = viewer.layers["tall labels"]
    assert labels.multiscale
    levels = labels.data
    assert [lv.shape for lv in levels] == [(4200, 300), (2100, 150), (1050, 75)]
    np.testing.assert_array_equal(np.asarray(levels[1]), np.asarray(levels[0])[::2, ::2])
    written = widget.export(small_limit / "export")
    zarr = pytest.importorskip("zarr")
    exported = [p for p in written if p.suffix == ".zarr"]
    assert len(exported) == 1
    # an OME-Zarr store with NGFF labels, as the command line writes
    group = zarr.open_group(str(exported[0]), mode="r")
    (name,) = list(group["labels"].group_keys())
    assert "image-label" in dict(group["labels"][name].attrs).get("ome", {})
    stored = group["labels"][name]["0"][:]
    np.testing.assert_array_equal(stored, np.asarray(levels[0]))
    assert stored.max() == 2


def test_watershed_widget_on_a_multiscale_layer(small_limit, make_napari_viewer):
    viewer = make_napari_viewer()
    nuc = synthetic_nuclei((900, 1000), n_nuclei=90, diameter=34, seed=8)
    full = da.from_array(nuc.image, chunks=(300, 256))
    layer = viewer.add_image([full, full[::2, ::2], full[::4, ::4]], name="cells",
                             multiscale=True)
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    assert widget() is not None
    nuclei = viewer.layers["cells nuclei"]
    territories = viewer.layers["cells territories"]
    # computed chunk by chunk from the full-resolution level, stored as Zarr
    assert type(nuclei.data).__module__.startswith("zarr")
    assert type(territories.data).__module__.startswith("zarr")
    memory = seeded_watershed(nuc.image)
    assert same_up_to_numbering(memory.labels, np.asarray(nuclei.data))
    assert np.asarray(territories.data).min() > 0
    assert f"{int(memory.labels.max())} nuclei" in widget._status.value


def test_lazy_image_with_label_seeds_is_a_clear_message(small_limit, make_napari_viewer):
    viewer = make_napari_viewer()
    nuc = synthetic_nuclei((400, 400), n_nuclei=10, diameter=30, seed=9)
    layer = viewer.add_image(da.from_array(nuc.image, chunks=200), name="cells")
    seeds = viewer.add_labels(nuc.labels, name="seed labels")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.seeds.value = seeds
    before = [lyr.name for lyr in viewer.layers]
    assert widget() is None
    assert "Points layer" in widget._status.value
    assert [lyr.name for lyr in viewer.layers] == before
