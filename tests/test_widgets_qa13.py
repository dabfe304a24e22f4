"""Thirteenth QA pass (s19): corrupt and truncated TIFFs on the command line, Export of
layers with long or dot-led names, and chained widgets over layers deleted and made again.
Each fix's test fails on the code before it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from test_widgets_qa9 import discs

from napari_tessella._widgets import ThresholdLabelWidget
from napari_tessella.cli import main

# --- 1. the command line on TIFFs that are cut short or lie about their size


def _lying_tiff(path):
    """A valid 8 × 8 TIFF whose header is edited to say 200000 × 200000 pixels (one strip
    listed for the 25,000 its size needs): a corrupt header."""
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8))
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tf:
        for tag in tf.pages.first.tags.values():
            if tag.code in (256, 257):  # ImageWidth, ImageLength
                width = 2 if tag.dtype == 3 else 4
                raw[tag.valueoffset:tag.valueoffset + width] = (200_000).to_bytes(width,
                                                                                  "little")
    path.write_bytes(bytes(raw))


def _cut_tiff(path):
    """A tiled, zlib-compressed TIFF cut at half its bytes (an interrupted copy)."""
    rng = np.random.default_rng(0)
    image = (rng.random((512, 512)) * 255).astype(np.uint8)
    tifffile.imwrite(path, image, tile=(128, 128), compression="zlib")
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])


@pytest.mark.parametrize("make", [_lying_tiff, _cut_tiff])
def test_a_corrupt_or_cut_tiff_fails_in_one_line(tmp_path, capfd, make):
    """A header claiming 200000² pixels (read lazily, as large TIFFs are) failed with
    "KeyError: '16128.0'" and some 1,500 lines of asyncio tracebacks from zarr's reader
    threads; a cut, compressed TIFF with "error: Error -5 while decompressing data" (the
    type name of a bug). Both are refused before any pixel is read, in one line that says
    the file is truncated or corrupt."""
    path = tmp_path / "field.tif"
    make(path)
    code = main(["threshold-label", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capfd.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert "field.tif cannot be read as a TIF image (truncated or corrupt" in err
    assert "KeyError" not in err and "Traceback" not in err and "Error -5" not in err
    assert len(lines) <= 3, err
    assert not any((tmp_path / "out").iterdir())


def test_a_whole_tiff_still_reads(tmp_path):
    """Bounds the check above: whole tiled, striped and sparse (a tile of 0 bytes) TIFFs
    read as before."""
    from napari_tessella.reading import open_image

    image = (np.random.default_rng(1).random((256, 256)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "tiled.tif", image, tile=(64, 64), compression="zlib")
    tifffile.imwrite(tmp_path / "strips.tif", image, rowsperstrip=16)
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([image, image[::-1]]))
    assert np.array_equal(open_image(tmp_path / "tiled.tif"), image)
    assert np.array_equal(open_image(tmp_path / "strips.tif"), image)
    assert np.array_equal(np.asarray(open_image(tmp_path / "strips.tif", lazy=True)), image)
    assert open_image(tmp_path / "stack.tif").shape == (2, 256, 256)


# --- 2. Export of layers whose names make no file name


def test_export_of_a_layer_named_after_a_long_file(viewer, tmp_path):
    """An image named after a 244-byte file name: "…_labels.tif" is past a file name's
    255 bytes, and Export said "file name too long" and wrote nothing — for every later
    Export of the widget too, since Export writes the outputs of every input (the first
    input's files were left behind, a partial set). The stem is cut, with a hash of the
    whole name; the other input's files are written too."""
    widget = ThresholdLabelWidget(viewer)
    for name in ("dna", "é" * 122):  # 244 bytes in UTF-8
        widget.image.value = viewer.add_image(discs(), name=name)
        widget()
    written = widget.export(tmp_path)
    assert len(written) == 6, widget._status.value
    assert all(len(path.name.encode()) <= 255 for path in written)
    assert {path.name for path in written} >= {"dna_labels.tif", "dna_labels.csv",
                                              "dna_centers.csv"}
    assert all(path.exists() for path in written)


def test_export_of_a_dot_named_layer_is_not_hidden(viewer, tmp_path):
    """A layer named ".x" (or ".") made ".x_labels.tif": a hidden file, not seen in a file
    browser (and taken for macOS's "._" resource files)."""
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.add_image(discs(), name=".x")
    widget()
    written = widget.export(tmp_path)
    assert len(written) == 3
    assert not any(path.name.startswith(".") for path in written)


def test_a_chunked_run_of_a_long_named_layer_stores_its_labels(tmp_path):
    """A chunked (large image) run stores its labels in a Zarr folder named after the
    layer, plus a time stamp: with a long name the run failed ("file name too long")."""
    import dask.array as da

    from napari_tessella._widgets._export import measured_labels

    labels = da.from_array(np.arange(64, dtype=np.int32).reshape(8, 8) % 3, chunks=4)
    image = np.ones((8, 8))
    _, extra, table = measured_labels({"labels": labels}, image, "n" * 240 + " labels",
                                         results_dir=tmp_path)
    assert extra["multiscale"] is not None
    assert len(table) == 2
