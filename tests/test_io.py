"""Whole-slide outputs: OME-Zarr (NGFF) labels with the input's scale and a pyramid, the
object table beside them in physical units; results equal the in-memory ones."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from test_reading import write_ome_zarr, write_pyramidal_ome_tiff

from napari_tessella import _lazy, measure_objects, threshold_label
from napari_tessella.cli import main
from napari_tessella.export import write_labels_zarr

da = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

KWARGS = {"threshold": 30000, "smooth_sigma": 1.0, "opening": 3, "min_size": 5}
OPTIONS = ["--threshold", "30000", "--smooth-sigma", "1", "--opening", "3", "--min-size", "5"]


def _blobs(shape=(520, 610), seed=0):
    """uint16 image with bright blobs, some crossing chunk borders."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    img = np.zeros(shape)
    img[tuple(rng.integers(0, s, 300) for s in shape)] = 1
    img = ndi.gaussian_filter(ndi.binary_dilation(img, iterations=4).astype(float), 2)
    noisy = img * 50000 + rng.normal(8000, 1500, shape)
    return np.clip(noisy, 0, 65535).astype(np.uint16)


def _ngff_reader_nodes(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.io import parse_url
        from ome_zarr.reader import Label, Reader
    return [n for n in Reader(parse_url(str(path)))() if n.load(Label)]


def _check_ngff_labels(store, name, expected, scale, unit):
    """The store holds labels/<name> as an NGFF label image the ome-zarr reader opens."""
    (node,) = _ngff_reader_nodes(store / "labels")
    meta = node.metadata
    assert meta["name"] == name
    assert [a["unit"] for a in meta["axes"]] == [unit, unit]
    levels = node.data
    np.testing.assert_array_equal(np.asarray(levels[0]), expected)
    for k, transforms in enumerate(meta["coordinateTransformations"]):
        assert np.allclose(transforms[0]["scale"], np.multiply(scale, 2**k))
    for k, level in enumerate(levels[1:], 1):
        np.testing.assert_array_equal(np.asarray(level), expected[:: 2**k, :: 2**k])


def test_write_labels_zarr_is_ngff_and_opens_as_labels_in_napari(tmp_path):
    labels = np.zeros((2100, 300), dtype=np.int32)
    labels[10:20, 30:40] = 1
    labels[2000:2050, 100:200] = 2
    target = tmp_path / "x_labels.zarr"
    stored, table = write_labels_zarr({target: da.from_array(labels, chunks=512)},
                                      scale=(0.5, 0.25), unit="um")
    assert table is None and [a.shape for a in stored[target]] == [(2100, 300), (1050, 150)]
    _check_ngff_labels(target, "x_labels", labels, (0.5, 0.25), "micrometer")

    reader = pytest.importorskip("napari_ome_zarr").napari_get_reader
    path = str(target / "labels" / "x_labels")
    layers = reader(path)(path)
    (data, meta, kind), = [lyr for lyr in layers if lyr[2] == "labels"]
    assert kind == "labels" and np.allclose(meta["scale"], (0.5, 0.25))
    np.testing.assert_array_equal(np.asarray(data[0]), labels)


def test_cli_large_ome_tiff_gives_in_memory_objects_and_ngff_labels(tmp_path, monkeypatch):
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)  # this TIFF is "large": read lazily
    image = _blobs()
    path = write_pyramidal_ome_tiff(tmp_path / "slide.ome.tif", image, pixel=(0.5, 0.25))
    out = tmp_path / "out"
    assert main(["threshold-label", str(path), "--chunks", "128", "--out", str(out),
                 "--quiet", *OPTIONS]) == 0
    expected = threshold_label(image, **KWARGS)
    assert expected.max() > 20
    _check_ngff_labels(out / "slide.ome_labels.zarr", "slide.ome_labels", expected,
                       (0.5, 0.25), "micrometer")
    table = pd.read_csv(out / "slide.ome_objects.csv")
    memory = measure_objects(expected, image)
    np.testing.assert_allclose(table[["com_row", "com_col", "area"]],
                               memory[["com_row", "com_col", "area"]])
    np.testing.assert_allclose(table["com_row_um"], memory["com_row"] * 0.5)
    np.testing.assert_allclose(table["com_col_um"], memory["com_col"] * 0.25)
    np.testing.assert_allclose(table["area_um2"], memory["area"] * 0.125)

    # --pixel-size / --unit override the file's metadata
    assert main(["threshold-label", str(path), "--out", str(tmp_path / "o2"), "--quiet",
                 "--pixel-size", "2", "--unit", "nm", *OPTIONS]) == 0
    (node,) = _ngff_reader_nodes(tmp_path / "o2" / "slide.ome_labels.zarr" / "labels")
    assert node.metadata["coordinateTransformations"][0][0]["scale"] == [2.0, 2.0]
    assert node.metadata["axes"][0]["unit"] == "nanometer"
    assert "area_nm2" in pd.read_csv(tmp_path / "o2" / "slide.ome_objects.csv")


def test_cli_ome_zarr_input(tmp_path, monkeypatch):
    image = _blobs((400, 380), seed=2)
    path = write_ome_zarr(tmp_path / "img.ome.zarr", image, pixel=(0.2, 0.2),
                          unit="micrometer", chunks=(96, 96))
    expected = threshold_label(image, **KWARGS)
    # small: labels as a TIFF with the pixel size, the table in µm
    assert main(["threshold-label", str(path), "--out", str(tmp_path / "s"), "--quiet",
                 *OPTIONS]) == 0
    tifffile = pytest.importorskip("tifffile")
    with tifffile.TiffFile(tmp_path / "s" / "img.ome_labels.tif") as tf:
        np.testing.assert_array_equal(tf.asarray(), expected)
        xres = tf.pages.first.tags["XResolution"].value
        assert np.isclose(xres[0] / xres[1], 5.0) and tf.imagej_metadata["unit"] == "um"
    table = pd.read_csv(tmp_path / "s" / "img.ome_objects.csv")
    np.testing.assert_allclose(table["area_um2"], table["area"] * 0.04)
    # large: NGFF labels with the same scale, chunk by chunk
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)
    assert main(["threshold-label", str(path), "--out", str(tmp_path / "l"), "--quiet",
                 *OPTIONS]) == 0
    _check_ngff_labels(tmp_path / "l" / "img.ome_labels.zarr", "img.ome_labels", expected,
                       (0.2, 0.2), "micrometer")
    np.testing.assert_allclose(pd.read_csv(tmp_path / "l" / "img.ome_objects.csv")["area"],
                               table["area"])


def test_more_than_65535_labels_are_a_32_bit_tiff_with_their_pixel_size(tmp_path):
    from napari_tessella.export import save_labels
    from napari_tessella.reading import read_pixel_size

    tifffile = pytest.importorskip("tifffile")
    labels = np.arange(300 * 300).reshape(300, 300)
    save_labels(labels, tmp_path / "many.tif", scale=(0.5, 0.5), unit="um")
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "many.tif"), labels)
    size = read_pixel_size(tmp_path / "many.tif")
    assert size.unit == "um" and np.allclose(size.scale, 0.5)


@pytest.mark.parametrize("scale", [(1e-12, 1e-12), (-0.5, 0.5), (1e12, 2.0)])
@pytest.mark.parametrize("top", [3, 70000])
def test_labels_tiff_with_odd_pixel_sizes(tmp_path, scale, top):
    """A pixel size beyond the TIFF tags' fractions (1e-12 units: 1e12 per unit) or a
    flipped axis still writes the labels (was 'max_denominator should be at least 1')."""
    import tifffile

    from napari_tessella.export import save_labels

    labels = np.zeros((8, 8), np.uint32)
    labels[2:4, 2:4] = top
    path = save_labels(labels, tmp_path / "l.tif", scale=scale, unit="um")
    np.testing.assert_array_equal(tifffile.imread(path), labels)
    if scale == (-0.5, 0.5) and top == 3:
        assert tifffile.TiffFile(path).pages[0].tags["XResolution"].value == (2, 1)
