"""Whole-slide inputs: tiled / pyramidal OME-TIFF and OME-Zarr read lazily, at level 0,
with the physical pixel size from their metadata."""

from __future__ import annotations

import gc
import pickle
import warnings

import numpy as np
import pytest
import tifffile

from napari_tessella import _lazy, reading
from napari_tessella.reading import DiskArray, open_image, read_pixel_size

dask_array = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")


def _image(shape=(700, 900), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 60000, shape, dtype=np.uint16)


def write_pyramidal_ome_tiff(path, image, *, pixel=(0.5, 0.25), unit="µm", tile=(128, 128)):
    """A tiled OME-TIFF with two reduced levels in SubIFDs (as slide scanners write)."""
    meta = {"axes": "YX", "PhysicalSizeY": pixel[0], "PhysicalSizeX": pixel[1],
            "PhysicalSizeYUnit": unit, "PhysicalSizeXUnit": unit}
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(image, tile=tile, subifds=2, metadata=meta)
        tw.write(image[::2, ::2], tile=tile, subfiletype=1)
        tw.write(image[::4, ::4], tile=tile, subfiletype=1)
    return path


def write_ome_zarr(path, image, *, pixel=(0.5, 0.25), unit="micrometer", chunks=(128, 128)):
    """An OME-Zarr (NGFF 0.5) image pyramid written by the ome-zarr library."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.writer import write_image
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    write_image(image, root, axes=["y", "x"], scale={"y": pixel[0], "x": pixel[1]},
                axes_units={"y": unit, "x": unit}, scale_factors=(2, 4),
                storage_options={"chunks": chunks})
    return path


def test_small_tiff_is_read_into_memory(tmp_path):
    image = _image()
    write_pyramidal_ome_tiff(tmp_path / "s.ome.tif", image)
    got = open_image(tmp_path / "s.ome.tif")
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, image)  # level 0, not a reduced level
    lazy = open_image(tmp_path / "s.ome.tif", lazy=True)  # e.g. for a cluster's workers
    assert isinstance(lazy, dask_array.Array)
    np.testing.assert_array_equal(lazy.compute(), image)


def test_large_tiff_is_lazy_in_whole_tiles_and_pickles_as_its_path(tmp_path, monkeypatch):
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)
    monkeypatch.setattr(reading, "DEFAULT_CHUNKS", (300, 300))
    image = _image()
    path = write_pyramidal_ome_tiff(tmp_path / "big.ome.tif", image)
    lazy = open_image(path)
    assert isinstance(lazy, dask_array.Array) and lazy.shape == image.shape
    assert lazy.chunksize == (256, 256)  # whole 128² tiles, about the default chunk side
    np.testing.assert_array_equal(lazy.compute(), image)
    np.testing.assert_array_equal(lazy[100:300, 250:700].compute(), image[100:300, 250:700])
    # the graph carries the path, not the pixels
    assert len(pickle.dumps(dict(lazy.__dask_graph__()))) < 20_000
    disk = DiskArray(path, "tiff")
    clone = pickle.loads(pickle.dumps(disk))
    np.testing.assert_array_equal(clone[5:9, 7:11], image[5:9, 7:11])


def test_striped_tiff_and_threads(tmp_path, monkeypatch):
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)
    image = _image((600, 500), seed=3)
    tifffile.imwrite(tmp_path / "strips.tif", image, rowsperstrip=16)
    lazy = open_image(tmp_path / "strips.tif").rechunk(64)
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), image)


def test_ome_zarr_is_read_at_level_0_with_its_scale(tmp_path):
    image = _image((300, 260), seed=1)
    path = write_ome_zarr(tmp_path / "img.ome.zarr", image)
    lazy = open_image(path)
    assert isinstance(lazy, dask_array.Array) and lazy.chunksize == (128, 128)
    np.testing.assert_array_equal(lazy.compute(), image)
    assert len(pickle.dumps(dict(lazy.__dask_graph__()))) < 20_000
    size = read_pixel_size(path)
    assert size.scale == (0.5, 0.25) and size.unit == "um"


def test_ome_zarr_with_singleton_leading_axes(tmp_path):
    image = _image((120, 100), seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.writer import write_image
    root = zarr.open_group(str(tmp_path / "tczyx.zarr"), mode="w", zarr_format=3)
    write_image(image[None, None, None], root, axes="tczyx",
                scale={"t": 1, "c": 1, "z": 2.0, "y": 0.1, "x": 0.1},
                axes_units={"y": "nanometer", "x": "nanometer"}, scale_factors=(2,))
    lazy = open_image(tmp_path / "tczyx.zarr")
    assert lazy.shape == image.shape
    np.testing.assert_array_equal(lazy.compute(), image)
    assert read_pixel_size(tmp_path / "tczyx.zarr") == ((0.1, 0.1), "nm")


def test_pixel_size_from_tiff_metadata(tmp_path):
    image = _image((64, 64))
    write_pyramidal_ome_tiff(tmp_path / "o.ome.tif", image, pixel=(0.2, 0.2), unit="nm")
    assert read_pixel_size(tmp_path / "o.ome.tif") == ((0.2, 0.2), "nm")
    # ImageJ: resolution tags in pixels per unit, the unit in the ImageJ metadata
    tifffile.imwrite(tmp_path / "ij.tif", image, imagej=True, resolution=(1 / 0.3, 1 / 0.6),
                     metadata={"unit": "micron"})
    size = read_pixel_size(tmp_path / "ij.tif")
    assert size.unit == "um" and np.allclose(size.scale, (0.6, 0.3))
    # plain TIFF: pixels per centimetre
    tifffile.imwrite(tmp_path / "cm.tif", image, resolution=(20000, 20000),
                     resolutionunit="CENTIMETER")
    size = read_pixel_size(tmp_path / "cm.tif")
    assert size.unit == "um" and np.allclose(size.scale, (0.5, 0.5))
    # no physical size: a screen resolution, no resolution tags, a PNG
    tifffile.imwrite(tmp_path / "dpi.tif", image, resolution=(72, 72), resolutionunit="INCH")
    tifffile.imwrite(tmp_path / "none.tif", image)
    assert read_pixel_size(tmp_path / "dpi.tif") is None
    assert read_pixel_size(tmp_path / "none.tif") is None


def test_ngff_04_on_zarr_v2(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.format import FormatV04
        from ome_zarr.writer import write_image
    image = _image((200, 150), seed=5)
    root = zarr.open_group(str(tmp_path / "v04.zarr"), mode="w", zarr_format=2)
    write_image(image, root, axes=["y", "x"], fmt=FormatV04(), scale={"y": 3.0, "x": 2.0},
                axes_units={"y": "micrometer", "x": "micrometer"}, scale_factors=(2,))
    np.testing.assert_array_equal(open_image(tmp_path / "v04.zarr").compute(), image)
    assert read_pixel_size(tmp_path / "v04.zarr") == ((3.0, 2.0), "um")


@pytest.mark.parametrize("lazy", [False, True])
def test_a_planar_rgb_tiff_is_read_as_rgb(tmp_path, lazy):
    """An RGB TIFF stored plane by plane (planar configuration 'separate', as some
    cameras and ImageJ write it) came back as (3, M, N) and was refused as a stack."""
    rgb = np.stack([_image((40, 50), seed=i).astype(np.uint8) for i in range(3)])
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", planarconfig="separate")
    image = open_image(path, lazy=lazy)
    assert image.shape == (40, 50, 3)
    np.testing.assert_array_equal(np.asarray(image), np.moveaxis(rgb, 0, -1))


@pytest.mark.parametrize("content", [
    bytes(range(256)) * 2,  # garbage
    b"\x89PNG\r\n\x1a\n" + bytes(range(100)),  # a PNG signature, then garbage
    b"hello\n",  # text
])
def test_a_corrupt_png_is_one_clear_line_and_no_warning(tmp_path, capsys, content):
    """imageio, left to guess, tried each legacy plugin on it: a DICOM DeprecationWarning
    (with warnings as errors, the test settings: a traceback) and unclosed files."""
    from napari_tessella.cli import main

    path = tmp_path / "broken.png"
    path.write_bytes(content)
    gc.collect()  # files earlier tests left to the collector: not this test's warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^broken\.png cannot be read as a PNG image") \
                as err:
            open_image(path)
        assert "\n" not in str(err.value) and "uri" not in str(err.value)
        assert main(["threshold-label", str(path), "--out", str(tmp_path / "out"),
                     "--quiet"]) == 1
    out = capsys.readouterr().err
    assert "broken.png: broken.png cannot be read as a PNG image" in out
    assert "Traceback" not in out and "Warning" not in out
