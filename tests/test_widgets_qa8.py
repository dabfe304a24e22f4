"""Eighth QA pass (s10): the Lattice widget's pairing of points and image as one state,
what the status line says while a run starts, and inputs a user of other microscopes
brings. The pairing tests pin behaviour the refactor kept; each fix's test fails on the
code before it."""

from __future__ import annotations

import numpy as np

from napari_tessella._widgets import LatticeWidget


def finished(widget):
    return widget._worker is None and not getattr(widget, "_stepping", 0)


def grid(n: int = 6, step: float = 8.0, offset: float = 4.0) -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"),
                    -1).reshape(-1, 2) * step + offset


# --- 1. who chose the image (kept behaviour)


def test_an_image_a_run_used_stays_as_layers_come_and_goes_with_picked_points(viewer):
    """The image the widget filled in, once run on, is kept as new images and points come;
    points then picked by hand bring theirs, and the image follows them again."""
    a = viewer.add_image(np.zeros((48, 48)), name="A", units="µm")
    viewer.add_points(grid(), name="A columns", units="µm")
    widget = LatticeWidget(viewer)
    assert widget.image.value is a
    assert widget() is not None
    b = viewer.add_image(np.zeros((96, 96)), name="B", scale=(0.5, 0.5), units="µm")
    viewer.add_points(grid(), name="B columns", scale=(0.5, 0.5), units="µm")
    assert widget.points.value.name == "A columns" and widget.image.value is a
    widget.points.value = viewer.layers["B columns"]
    assert widget.image.value is b
    c = viewer.add_image(np.zeros((96, 96)), name="C", scale=(0.5, 0.5), units="µm")
    assert widget.image.value is b  # B is the one named after the points
    viewer.layers.remove(b)  # the image deleted: the points' other image takes its place
    assert widget.image.value is c and widget.points.value.name == "B columns"


def test_a_deleted_labels_input_gives_the_box_back_to_points_and_their_image(viewer):
    """A Labels input chosen, then deleted: the widget falls back to the newest points,
    enables the image box again and pairs their image."""
    image = viewer.add_image(np.zeros((48, 48)), name="A")
    viewer.add_points(grid(), name="A columns")
    labels = np.zeros((48, 48), dtype=np.int32)
    for k, (r, c) in enumerate(grid().astype(int), start=1):
        labels[r - 1:r + 2, c - 1:c + 2] = k
    cells = viewer.add_labels(labels, name="cells")
    widget = LatticeWidget(viewer)
    widget.points.value = cells
    assert not widget.image.enabled
    assert widget() is not None
    viewer.layers.remove(cells)
    assert widget.points.value.name == "A columns"
    assert widget.image.enabled and widget.image.value is image
    assert "'cells' was deleted: now 'A columns'" in widget._status.value
    assert widget() is not None


# --- 2. the status line while a run starts


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
