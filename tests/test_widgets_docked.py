"""The widgets docked in napari's window: their layout in the dock, the status line
while a run starts, fields that read "auto", a dock closed (also during its run) and the
widget opened again, File ▸ Open Sample offline. Each test fails on the behaviour it
fixed."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import discs, finished, grid

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_nuclei

# --- the layout in the dock, the status line, the fields


def test_a_long_message_does_not_widen_the_widget(make_napari_viewer, lattice_image, qtbot):
    """A status message of ~100 characters made Qt widen the wrapped label (up to ~80
    characters) after the dock had taken its width when shown: the fields, the Cancel
    button and the message were cut off at the dock's right side."""
    viewer = make_napari_viewer(show=True)
    viewer.add_image(lattice_image, name="lat", scale=(0.05, 0.05), units="nm")
    widget = FindAtomsWidget(viewer)
    viewer.window.add_dock_widget(widget, name=widget.label, area="right")
    qtbot.wait(200)
    widget.separation.value = 3.0  # 60 pixels: refused with a long message
    assert widget() is None and len(widget._status.value) > 90
    qtbot.wait(200)
    needed, room = widget._inner.minimumSizeHint().width(), widget._scroll.viewport().width()
    assert needed <= room, (needed, room)
    assert widget._status.native.width() > room / 2  # wrapped over the row, not a sliver


def test_the_legend_does_not_widen_the_docked_lattice(make_napari_viewer, qtbot):
    """Docked in a 1280 × 800 window under Threshold & label, the Lattice's legend (a
    word-wrapped label Qt lets ask for ~80 characters) made the widget 411 px wide in a
    369 px dock after a run: the legend's "µm²", the status line, the Cancel button and
    the boxes' arrows were cut off at the side."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    nuclei = synthetic_nuclei(seed=1).image  # textured: cells from 0.464 to 1.13e+03 µm²
    viewer.add_image(np.clip(nuclei * 3000 + 48, 0, 4095).astype(np.uint16), name="lat",
                     scale=(0.325, 0.325), units="µm")
    _, threshold = viewer.window.add_plugin_dock_widget("napari-tessella", "Threshold & label")
    _, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Lattice & Voronoi")
    qtbot.wait(300)
    threshold()
    widget.points.value = viewer.layers["lat centers"]
    assert widget() is not None and "µm²" in widget.legend.value
    # a range stays on one line, and a thousand is not 1.13e+03
    assert "e+03" not in widget.legend.value
    assert all("\u00a0→\u00a0" in line for line in widget.legend.value.split("\n"))
    qtbot.wait(300)
    needed, room = widget._inner.minimumSizeHint().width(), widget._scroll.viewport().width()
    assert needed <= room, (needed, room)
    # the legend's row asks for no more width than the status line's (both wrap): it
    # asked for its text on one line (393 px against 245 px under xvfb-run's fonts)
    legend_row = widget.legend.native.parentWidget().minimumSizeHint().width()
    status_row = widget._status.native.parentWidget().minimumSizeHint().width()
    assert legend_row <= status_row, (legend_row, status_row)


def test_the_status_line_says_a_run_started_before_the_bar_shows(make_napari_viewer, qtbot,
                                                                 monkeypatch):
    """Run pressed again: for the first second (before the late progress bar shows) the
    status line still read the last run's "36 points, …", as if the new run were done."""
    import time

    from napari_tessella._widgets import _qt

    monkeypatch.setattr(_qt, "PROGRESS_DELAY_MS", 60_000, raising=False)
    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((48, 48)), name="A")
    points = viewer.add_points(grid(), name="A columns")
    widget = LatticeWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget._run_button.clicked()
    qtbot.waitUntil(lambda: finished(widget), timeout=30_000)
    assert widget._status.value.startswith("36 points")
    lattice = widget._lattice

    def slow(*args, **kwargs):  # in the worker
        time.sleep(1.0)
        return lattice(*args, **kwargs)

    widget._lattice = slow
    points.data = points.data + 0.25
    widget._run_button.clicked()
    assert not widget._progress.visible  # the bar is not shown yet
    assert widget._status.value == "running…"
    qtbot.waitUntil(lambda: finished(widget), timeout=30_000)
    assert widget._status.value.startswith("36 points")


def test_fields_whose_zero_means_estimate_it_say_auto(viewer):
    """The watershed's 'object diameter (px)' showed 0.00 beside a run that used 95 px
    (0 means: estimate it, said only in the tooltip); so did the min nucleus area and
    Find atoms' column spacing. They read "auto" at 0, and the number once one is set."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    watershed = SeededWatershedWidget(viewer)
    watershed.image.value = image
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = image
    fields = (watershed.object_diameter, watershed.min_area, atoms.separation)
    assert [field.native.text() for field in fields] == ["auto"] * 3
    assert watershed.parameters()["object_diameter"] is None
    watershed.estimate_diameter()
    assert watershed.object_diameter.native.text() not in ("auto", "0.00")
    assert watershed.object_diameter.value > 0


# --- a dock closed, a widget opened again


def test_a_dock_closed_during_a_run_says_where_its_outputs_went(make_napari_viewer, qtbot):
    """Closed (its title bar's x) while the lattice ran, the dock still wrote its layers
    (no work lost) but said so only on its status line, which nobody can see any more."""
    from napari.utils.notifications import notification_manager

    viewer = make_napari_viewer(show=True)
    viewer.add_points(grid(), name="cols")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Lattice & Voronoi")
    qtbot.wait(200)
    said = []
    notification_manager.notification_ready.connect(lambda n: said.append(n.message))
    widget._run_button.native.click()
    dock.title.close_button.click()  # napari's own close: the dock is removed
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    qtbot.wait(100)
    assert [layer.name for layer in viewer.layers] == ["cols", "cols Delaunay", "cols Voronoi"]
    assert any("'cols Delaunay'" in m and "closed" in m for m in said), said


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


# --- File ▸ Open Sample offline


def test_a_sample_that_cannot_be_downloaded_says_where_to_put_it(make_napari_viewer,
                                                                 tmp_path, monkeypatch):
    """Offline with an empty cache, File ▸ Open Sample ▸ NbW-STEM: napari shows the
    sample's OSError as its message (a sample that returns no layer is an error to napari
    too). It quoted the whole lookup error (over 400 characters of connection pool and
    host) before "Put a copy at …"; now a short cause, where to put the file, and that
    the synthetic samples need no download; no layer is added."""
    import pooch

    def offline(*_args, **_kwargs):
        raise ConnectionError("HTTPSConnectionPool: Max retries exceeded " + "x" * 400)

    monkeypatch.setenv("NAPARI_TESSELLA_DATA", str(tmp_path))
    monkeypatch.setattr(pooch, "retrieve", offline)
    viewer = make_napari_viewer()
    for key, file in (("nbw_stem", "NbW-STEM.png"), ("u2os", "dna-0.png")):
        with pytest.raises(OSError) as info:
            viewer.open_sample("napari-tessella", key)
        text = str(info.value)
        assert f"Put a copy at {tmp_path / file}" in text and "offline?" in text
        assert "synthetic samples need no download" in text and len(text) < 400
        assert info.value.__suppress_context__  # no chained traceback
    assert len(viewer.layers) == 0
