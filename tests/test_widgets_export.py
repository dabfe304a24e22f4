"""The widgets' Export: file names from any layer name, an earlier export kept, a set
written whole or not at all, errors said in words, what the tables say (cell areas in the
layer's unit, an input rescaled since the run), no Export while a run writes its layers.
Each test fails on the behaviour it fixed, unless it says it bounds a fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile
from _widget_helpers import discs, grid

from napari_tessella._widgets import LatticeWidget, ThresholdLabelWidget

# --- file names from any layer name


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


# --- an earlier export is kept; a set is written whole or not at all; errors in words


def test_an_export_into_a_folder_of_an_earlier_one_keeps_it(viewer, tmp_path):
    """Export, a re-run with other parameters, Export into the same folder: the first
    export's TIFF and CSV were replaced without a word (the earlier results lost). They
    are kept; the new set ends in ' (2)', then ' (3)', and the status line says so."""
    import pandas as pd

    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    first = widget.export(tmp_path)
    assert {path.name for path in first} == {"dna_labels.tif", "dna_labels.csv",
                                             "dna_centers.csv"}
    assert "earlier export" not in widget._status.value
    areas = pd.read_csv(tmp_path / "dna_labels.csv")["area"].tolist()
    widget.opening.value = 5  # another parameter: smaller objects
    widget()
    second = widget.export(tmp_path)
    assert {path.name for path in second} == {"dna_labels (2).tif", "dna_labels (2).csv",
                                              "dna_centers (2).csv"}
    assert "files of an earlier export there are kept: these end in ' (2)'" in \
        widget._status.value
    assert pd.read_csv(tmp_path / "dna_labels.csv")["area"].tolist() == areas
    assert pd.read_csv(tmp_path / "dna_labels (2).csv")["area"].max() < min(areas)
    # one file of a set is enough to keep the whole next set apart
    (tmp_path / "dna_labels (2).tif").unlink()
    third = widget.export(tmp_path)
    assert {path.name for path in third} == {"dna_labels (3).tif", "dna_labels (3).csv",
                                             "dna_centers (3).csv"}


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


def test_export_errors_are_said_without_python_s_errno(viewer, tmp_path, monkeypatch):
    """A folder named as one of the files (dna_labels.tif/) or a folder the user may not
    write in: "[Errno 21] Is a directory: '/…/dna_labels.tif'" is said as
    "dna_labels.tif: is a directory"; nothing of the input changes."""
    import napari_tessella._widgets._files as files

    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    (tmp_path / "dna_labels.tif").mkdir()  # stepped around: the export ends in ' (2)'
    assert "dna_labels (2).tif" in {path.name for path in widget.export(tmp_path)}

    def in_the_way(*args, **kwargs):
        raise IsADirectoryError(21, "Is a directory", str(tmp_path / "dna_labels.tif"))

    monkeypatch.setattr(files, "export_layers", in_the_way)
    assert widget.export(tmp_path) == []
    status = widget._status.value
    assert status == f"⚠ cannot export to {tmp_path}: dna_labels.tif: is a directory"

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/data/shared/dna_labels.tif")

    monkeypatch.setattr(files, "export_layers", read_only)
    widget.export("/data/shared")
    assert widget._status.value == ("⚠ cannot export to /data/shared: dna_labels.tif: "
                                    "permission denied")


# --- what the tables say


@pytest.mark.parametrize("geometry", ["shapes (editable)", "vectors (fast)"])
def test_exported_cell_areas_in_the_layers_unit_are_not_scaled_twice(viewer, tmp_path,
                                                                     geometry):
    """Columns 10 px apart at 0.5 µm: every inner cell is 5 × 5 = 25 µm², which the legend
    and the "area" column said, but the exported CSVs' "area_um2" read 6.25 (the area,
    already in µm², times the pixel's 0.25 µm² again) for the polygons and the pixel map,
    and the bonds' "length" (5 µm) had no column saying its unit."""
    viewer.add_image(np.zeros((80, 80)), name="img", scale=(0.5, 0.5), units="µm")
    viewer.add_points(grid(8, 10.0, 5.0), name="img columns", scale=(0.5, 0.5), units="µm")
    widget = LatticeWidget(viewer)
    widget.geometry.value = geometry
    widget.pixel_map.value = True
    assert widget() is not None
    assert "cell area: viridis 23.8\u00a0→\u00a026.2\u00a0µm²" in widget.legend.value
    tables = {p.name: pd.read_csv(p) for p in widget.export(tmp_path) if p.suffix == ".csv"}
    for name in ("img_columns_Voronoi.csv", "img_columns_Voronoi_map.csv"):
        table = tables[name].dropna(subset=["area"])
        assert np.median(table["area"]) == pytest.approx(25.0), name
        np.testing.assert_allclose(table["area_um2"], table["area"], err_msg=name)
    # the bonds' lengths, in µm too, say so: "length" was read as the pixels of the other
    # widgets' tables
    bonds = tables["img_columns_Delaunay.csv"]
    length = "longest_edge" if geometry.startswith("shapes") else "length"
    assert np.median(bonds[length]) == pytest.approx(5.0 if length == "length" else 50 ** 0.5)
    np.testing.assert_allclose(bonds[f"{length}_um"], bonds[length])


def test_cell_areas_of_a_lattice_in_pixels_get_no_unit_column(viewer, tmp_path):
    viewer.add_image(np.zeros((80, 80)), name="img")
    viewer.add_points(grid(8, 10.0, 5.0), name="img columns")
    widget = LatticeWidget(viewer)
    widget.geometry.value = "vectors (fast)"
    assert widget() is not None
    voronoi = viewer.layers["img columns Voronoi"]
    assert list(voronoi.features.columns) == ["cell", "area", "neighbours"]
    table = pd.read_csv(next(p for p in widget.export(tmp_path) if "Voronoi" in p.name))
    assert list(table.columns) == ["cell", "area", "neighbours"]


def test_export_says_the_input_was_rescaled_since_the_run(viewer, tmp_path):
    """The image's pixel size corrected after the run, then Export: the tables were written
    in µm of the old pixels without a word. They still are (as the outputs were made, and
    as they are drawn), and the status says so; after a re-run, nothing is said."""
    import pandas as pd

    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    image.scale = (0.25, 0.25)
    assert len(widget.export(tmp_path / "a")) == 3
    status = widget._status.value
    assert "'dna' has another scale since its outputs were made" in status
    area = pd.read_csv(tmp_path / "a" / "dna_labels.csv")["area_um2"]
    assert np.allclose(area, 377 * 0.25)  # 377 px of 0.5 × 0.5 µm, as made
    widget()
    widget.export(tmp_path / "b")
    assert "since its outputs were made" not in widget._status.value
    area = pd.read_csv(tmp_path / "b" / "dna_labels.csv")["area_um2"]
    assert np.allclose(area, 377 * 0.0625)


# --- Export while a run writes its layers


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
