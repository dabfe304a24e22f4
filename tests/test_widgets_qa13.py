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


# --- 3. another image of a deleted image's name


def test_another_field_of_the_same_name_does_not_take_the_deleted_one_s_outputs(viewer):
    """Field 1 ("DAPI", as each well's folder names its file) thresholded, its image
    deleted to make room and its labels kept to compare; field 2, also "DAPI", opened and
    thresholded: its run overwrote field 1's labels and centres in place (unexported,
    lost). Another image's run makes its own layers; the same image opened again still
    updates its old ones (as an upstream re-run's points and labels do)."""
    widget = ThresholdLabelWidget(viewer)
    first = discs()
    widget.image.value = viewer.add_image(first, name="DAPI")
    widget()
    kept = viewer.layers["DAPI labels"]
    field1 = kept.data.copy()
    viewer.layers.remove("DAPI")
    for other in (discs(radius=6), discs((96, 160))):  # same shape, another shape
        image = viewer.add_image(other, name="DAPI")
        widget.image.value = image
        widget()
        assert np.array_equal(kept.data, field1)  # field 1's labels untouched
        assert widget._outputs[(image.unique_id, "labels")].layer is not kept
        viewer.layers.remove(image)
    names = [layer.name for layer in viewer.layers]
    again = viewer.add_image(first.copy(), name="DAPI")  # field 1 opened again
    widget.image.value = again
    widget()
    assert [layer.name for layer in viewer.layers] == [*names, "DAPI"]
    assert widget._outputs[(again.unique_id, "labels")].layer is kept


# --- 4. Export while a run writes its layers


def test_export_while_a_run_writes_its_layers_is_refused(viewer, qtbot, tmp_path):
    """The Run button writes a run's layers one per turn of the event loop, so the UI
    answers between them; an Export clicked between two turns wrote the new run's
    territories beside the last run's nuclei and seeds (a TIFF and tables of two runs,
    under one name). It is refused, nothing written, and Export works once the run is
    in."""
    from napari_tessella._widgets import SeededWatershedWidget

    image = viewer.add_image(discs(), name="dna")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget()
    image.data = discs(radius=6)  # the next field: the watershed shows no preview
    write_one, said = widget._write_one, []

    def clicked_between_turns(output, source):
        done = write_one(output, source)
        if not said:
            said.append(widget.export(tmp_path / "mid"))
        return done

    widget._write_one = clicked_between_turns
    widget._run_button.native.click()
    qtbot.waitUntil(lambda: widget._worker is None and not widget._stepping, timeout=60_000)
    assert said == [[]]
    assert not (tmp_path / "mid").exists()
    written = widget.export(tmp_path / "after")
    labels = tifffile.imread(tmp_path / "after" / "dna_nuclei.tif")
    table = __import__("pandas").read_csv(tmp_path / "after" / "dna_nuclei.csv")
    assert len(written) >= 3
    assert sorted(table["area"]) == sorted(np.bincount(labels.ravel())[1:][
        np.bincount(labels.ravel())[1:] > 0])


# --- 5. an Export that fails half-way


def test_an_export_that_fails_half_way_leaves_no_half_set(viewer, tmp_path, monkeypatch):
    """The disk filled up after the labels TIFF was written: Export said "cannot export …:
    no space left on device" and left the TIFF without its tables under a result's name
    (and the next Export, the disk freed, went on to " (2)" beside it). A set is written
    whole or not at all."""
    import errno

    import napari_tessella._widgets._export as export_module

    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.add_image(discs(), name="dna")
    widget()
    save_table = export_module.save_table

    def disk_full(table, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(export_module, "save_table", disk_full)
    assert widget.export(tmp_path) == []
    assert "no space left on device" in widget._status.value
    assert list(tmp_path.iterdir()) == []  # nothing, hidden or not
    monkeypatch.setattr(export_module, "save_table", save_table)
    written = widget.export(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["dna_labels.tif", "dna_labels.csv", "dna_centers.csv"]) == sorted(
        path.name for path in written)


def test_export_into_a_read_only_folder_names_that_folder(viewer, tmp_path, monkeypatch):
    """Bounds the hidden folder above: a folder that may not be written in is named, not
    the hidden folder Export writes into first (passes on the code before it: it bounds
    the fix). The tests may run as root, who may write anywhere: the refusal a read-only
    folder gives is made here."""
    import errno
    import pathlib

    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.add_image(discs(), name="dna")
    widget()
    locked = tmp_path / "locked"
    locked.mkdir()
    mkdir, save_labels = pathlib.Path.mkdir, __import__(
        "napari_tessella._widgets._export", fromlist=["save_labels"]).save_labels

    def read_only(self, *args, **kwargs):
        if self.parent == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return mkdir(self, *args, **kwargs)

    def refused(data, path, **kwargs):
        if path.parent == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return save_labels(data, path, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    monkeypatch.setattr("napari_tessella._widgets._export.save_labels", refused)
    assert widget.export(locked) == []
    status = widget._status.value
    assert "permission denied" in status and ".tessella-export" not in status
    assert list(locked.iterdir()) == []
