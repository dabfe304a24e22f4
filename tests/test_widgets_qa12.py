"""Twelfth QA pass (s17): inputs changed while a run is in flight, Find atoms → Lattice on
STEM images it was not tuned on (dumbbells), and the command lines' bad arguments. Each
fix's test fails on the code before it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_widgets_qa9 import discs

import napari_tessella._widgets.atoms as atoms_widget
import napari_tessella._widgets.threshold_label as threshold_widget
from napari_tessella._widgets import FindAtomsWidget, LatticeWidget, ThresholdLabelWidget
from napari_tessella.synthetic import synthetic_dumbbells


def finished(widget):
    return widget._worker is None and not getattr(widget, "_stepping", 0)


@pytest.fixture
def held(monkeypatch):
    """The widgets' core calls wait (off the UI thread) until the test lets them go: the
    test changes the input while the run is surely in flight."""
    go = threading.Event()

    def holding(func):
        def wrapped(*args, **kwargs):
            go.wait(30)
            return func(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(threshold_widget, "threshold_label",
                        holding(threshold_widget.threshold_label))
    monkeypatch.setattr(atoms_widget, "_find_atoms_quietly",
                        holding(atoms_widget._find_atoms_quietly))
    return go


# --- 1. the input changed while the run goes


def test_a_scale_changed_during_the_run_is_said(viewer, qtbot, held):
    """The image's pixel size corrected (0.5 → 0.25 µm) while Threshold & label ran: the
    outputs were drawn at the old scale, off the image, with areas in µm² of the old
    pixels, and the status line said only "4 objects in 'dna'". They are still written
    (the work is not lost: as the image was at Run), and the status says so."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    before = image.data.copy()
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget._run_button.native.click()
    image.scale = (0.25, 0.25)
    held.set()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert status.startswith("4 objects in 'dna'")
    assert "'dna' changed during the run: its scale" in status
    assert "as it was at Run: press Run again" in status
    assert tuple(viewer.layers["dna labels"].scale) == (0.5, 0.5)  # as measured
    assert np.array_equal(image.data, before)
    widget()  # run again: no note, the outputs follow the image
    assert "changed during the run" not in widget._status.value
    assert tuple(viewer.layers["dna labels"].scale) == (0.25, 0.25)
    assert [layer.name for layer in viewer.layers] == ["dna", "dna labels", "dna centers"]


def test_data_replaced_during_the_run_is_said(viewer, qtbot, held, lattice_image):
    """Find atoms on an image whose data was replaced during the run (another frame
    loaded into the same layer): the columns of the old frame were shown over the new one
    without a word."""
    image = viewer.add_image(lattice_image, name="lat", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget._run_button.native.click()
    image.data = lattice_image[::-1].copy()
    held.set()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert "64 columns in 'lat'" in status
    assert "'lat' changed during the run: its data;" in status
    assert "lat columns" in [layer.name for layer in viewer.layers]


def test_points_moved_during_a_lattice_run_are_said(viewer, qtbot):
    """The Lattice's points edited (one moved) while it ran; a run left alone says
    nothing more than before."""
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"),
                    -1).reshape(-1, 2) * 10.0 + 5
    points = viewer.add_points(grid, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget._run_button.native.click()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert "changed during the run" not in widget._status.value
    widget._run_button.native.click()
    moved = points.data.copy()
    moved[0] += 2
    points.data = moved
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert "'grid' changed during the run: its data;" in widget._status.value


# --- 2. Find atoms on dumbbells: the basis of the lattice, not of the pairs


@pytest.mark.parametrize(("kind", "angle", "spacing", "cell_angle"), [
    ("hexagonal", 0.0, 14.0, 60), ("hexagonal", "random", 14.0, 60),
    ("square", 30.0, 14.0, 90), ("square", "random", 16.0, 90),
])
def test_the_basis_of_dumbbells_is_that_of_their_lattice(viewer, kind, angle, spacing,
                                                         cell_angle):
    """On dumbbells (GaAs [110]-like pairs 0.4 spacing apart) every column's nearest
    neighbour is its partner: the basis was measured on the pairs' axis. Pairs all one
    way (angle 0) gave no basis; pairs in random directions a wrong one ("basis 5.58 ×
    5.58 at 61°" for a 14 px hexagonal lattice). It is now the basis of the dumbbells'
    centres, in the layer's unit, and says so."""
    image = synthetic_dumbbells((160, 160), kind=kind, spacing=spacing, angle=angle,
                                seed=1).image
    layer = viewer.add_image(image, name="GaAs", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    status = widget._status.value
    assert "dumbbells in 'GaAs'" in status
    said = status.split("basis of the dumbbells ")[1]
    a, rest = said.split(" nm × ")
    b, at = rest.split(" nm at ")
    assert float(a) == pytest.approx(spacing * 0.02, rel=0.03)
    assert float(b) == pytest.approx(spacing * 0.02, rel=0.03)
    assert int(at.rstrip("°").split("°")[0]) == pytest.approx(cell_angle, abs=2)


# --- 3. the command lines' bad arguments


def test_napari_tessella_points_a_batch_command_to_tessella(capsys):
    """`napari-tessella atoms img.tif` (the plugin's name, as the hub page says) answered
    "invalid choice: 'atoms' (choose from 'demo')": the batch commands are `tessella`'s."""
    import argparse

    from napari_tessella.__main__ import main
    from napari_tessella.cli import _build_parser

    commands = next(action.choices for action in _build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    assert len(commands) == 4
    for command in commands:
        assert main([command, "my image.tif", "--out", "res"]) == 2
        err = capsys.readouterr().err
        assert (f"'{command}' is a command of the batch command line: tessella {command} "
                "'my image.tif' --out res") in err


def test_tessella_refuses_a_unit_it_does_not_know_before_any_work(tmp_path, capsys):
    """`--unit nmm` (a typo) was written into every table's column names (`row_nmm`) and
    every TIFF; units it knows, in any spelling, still run."""
    import tifffile

    from napari_tessella.cli import main

    tifffile.imwrite(tmp_path / "a.tif", discs().astype("float32"))
    out = tmp_path / "out"
    assert main(["threshold-label", str(tmp_path / "a.tif"), "--out", str(out),
                 "--unit", "nmm", "--pixel-size", "0.1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--unit 'nmm' is not a unit of length" in err and not out.exists()
    for unit, column in (("µm", "com_row_um"), ("nanometers", "com_row_nm"),
                         ("Å", "com_row_angstrom"), ("pixel", None)):
        assert main(["threshold-label", str(tmp_path / "a.tif"), "--out", str(out),
                     "--unit", unit, "--pixel-size", "0.1", "--quiet"]) == 0
        table = (out / "a_objects.csv").read_text().splitlines()[0].split(",")
        assert column is None or column in table


def test_tessella_says_why_it_cannot_make_the_output_folder(tmp_path, capsys):
    """--out where no folder can be made: Python's "[Errno 2] No such file or directory:
    '/proc/x'" is said in the option's words."""
    import tifffile

    from napari_tessella.cli import main

    tifffile.imwrite(tmp_path / "a.tif", discs().astype("float32"))
    assert main(["atoms", str(tmp_path / "a.tif"), "--out", "/proc/tessella-x"]) == 2
    err = capsys.readouterr().err
    assert "--out /proc/tessella-x: cannot make this folder (no such file" in err
    assert "Errno" not in err


# --- 4. a pixel size given as an affine


@pytest.mark.parametrize("turn", [0.0, 30.0])
def test_a_pixel_size_given_as_an_affine_makes_the_lengths(viewer, tmp_path, lattice_image,
                                                           turn):
    """Some readers give the pixel size as the layer's affine (scale 1): napari draws the
    image at 0.02 nm a pixel, but Find atoms said "spacing 8 nm; basis 8 nm × 7.99 nm" and
    the Lattice "median edge 8.06 nm" (pixels called nm). The affine's scaling counts as
    the scale does (a turn in it changes no length); the physical columns of an
    axis-aligned one are its world coordinates."""
    import pandas as pd

    a = np.radians(turn)
    linear = 0.02 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    affine = np.eye(3)
    affine[:2, :2], affine[:2, 2] = linear, (1.0, 2.0)
    image = viewer.add_image(lattice_image, name="lat", affine=affine, units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget()
    assert "spacing 0.16 nm; basis 0.16 nm × 0.16 nm at 90°" in widget._status.value
    lattice = LatticeWidget(viewer)
    lattice()
    assert "median edge 0.161 nm" in lattice._status.value
    widget.export(tmp_path)
    table = pd.read_csv(tmp_path / "lat_columns.csv")
    assert np.allclose(table["nn_distance_nm"], table["nn_distance"] * 0.02)
    if turn == 0.0:  # where napari draws them
        assert np.allclose(table["row_nm"], table["row"] * 0.02 + 1.0)
        assert np.allclose(table["col_nm"], table["col"] * 0.02 + 2.0)


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


# --- 5. export errors in words


def test_export_errors_are_said_without_python_s_errno(viewer, tmp_path, monkeypatch):
    """A folder named as one of the files (dna_labels.tif/) or a folder the user may not
    write in: "[Errno 21] Is a directory: '/…/dna_labels.tif'" is said as
    "dna_labels.tif: is a directory"; nothing of the input changes."""
    import napari_tessella._widgets._base as base

    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    (tmp_path / "dna_labels.tif").mkdir()  # stepped around: the export ends in ' (2)'
    assert "dna_labels (2).tif" in {path.name for path in widget.export(tmp_path)}

    def in_the_way(*args, **kwargs):
        raise IsADirectoryError(21, "Is a directory", str(tmp_path / "dna_labels.tif"))

    monkeypatch.setattr(base, "export_layers", in_the_way)
    assert widget.export(tmp_path) == []
    status = widget._status.value
    assert status == f"⚠ cannot export to {tmp_path}: dna_labels.tif: is a directory"

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/data/shared/dna_labels.tif")

    monkeypatch.setattr(base, "export_layers", read_only)
    widget.export("/data/shared")
    assert widget._status.value == ("⚠ cannot export to /data/shared: dna_labels.tif: "
                                    "permission denied")


def test_one_column_is_one_column(viewer):
    """A spacing typed on an image of one atom: "1 columns in 'x'"."""
    rr, cc = np.indices((64, 64))
    image = viewer.add_image(np.exp(-((rr - 30) ** 2 + (cc - 30) ** 2) / 4.0), name="x")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget.separation.value = 20
    widget()
    assert widget._status.value.startswith("1 column in 'x'; spacing 20")


# --- 6. a widget made again after its dock was closed


def test_a_widget_opened_again_updates_the_layers_of_the_closed_one(viewer, tmp_path):
    """napari destroys a plugin dock when its × is clicked; Plugins ▸ Threshold & label
    then makes a new widget, whose run added "dna labels [1]" and "dna centers [1]" beside
    the layers of the closed one. It takes over their records: the same layers are
    updated in place (and its own writes are not taken for the user's edits); a layer the
    user edited stays theirs."""
    image = viewer.add_image(discs(), name="dna")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-tessella",
                                                        "Threshold & label")
    widget.image.value = image
    widget()
    labels = viewer.layers["dna labels"]
    viewer.window.remove_dock_widget(dock)  # what the dock's × does
    dock, again = viewer.window.add_plugin_dock_widget("napari-tessella",
                                                       "Threshold & label")
    assert again is not widget
    again.image.value = image
    image.data = discs(radius=8)
    again()
    assert [layer.name for layer in viewer.layers] == ["dna", "dna labels", "dna centers"]
    assert viewer.layers["dna labels"] is labels and (labels.data > 0).sum() < 4 * 377
    image.data = discs()
    again()  # its own write above was not an edit: updated in place again
    assert [layer.name for layer in viewer.layers] == ["dna", "dna labels", "dna centers"]
    labels.paint((10, 110), 9)
    again()
    assert [layer.name for layer in viewer.layers] == [
        "dna", "dna labels", "dna centers", "dna labels [1]"]
    names = {path.name for path in again.export(tmp_path)}  # Export: the layers it keeps
    assert {"dna_labels__1_.tif", "dna_labels__1_.csv", "dna_centers.csv"} == names


def test_two_widgets_docked_at_once_keep_their_own_outputs(viewer):
    """Only a widget taken out of its dock hands its layers on: two of a kind made by a
    script, both alive, each keep their own (as before)."""
    image = viewer.add_image(discs(), name="dna")
    first, second = ThresholdLabelWidget(viewer), ThresholdLabelWidget(viewer)
    for widget in (first, second):
        widget.image.value = image
        widget()
    assert [layer.name for layer in viewer.layers] == [
        "dna", "dna labels", "dna centers", "dna labels [1]", "dna centers [1]"]


def test_a_dock_closed_during_its_run_hands_its_layers_on(viewer, qtbot, held):
    """The dock closed (×) while it ran, and the widget opened again before the run ended:
    the closed one's run still writes its layers (no work lost), and the new widget's run
    updates those, not "dna labels [1]" beside them."""
    image = viewer.add_image(discs(), name="dna")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-tessella",
                                                        "Threshold & label")
    widget.image.value = image
    widget._run_button.native.click()
    viewer.window.remove_dock_widget(dock)
    _, again = viewer.window.add_plugin_dock_widget("napari-tessella", "Threshold & label")
    held.set()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert [layer.name for layer in viewer.layers] == ["dna", "dna labels", "dna centers"]
    labels = viewer.layers["dna labels"]
    again.image.value = image
    again()
    assert [layer.name for layer in viewer.layers] == ["dna", "dna labels", "dna centers"]
    assert viewer.layers["dna labels"] is labels


# --- an earlier export in the folder is kept


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
