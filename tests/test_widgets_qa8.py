"""Eighth QA pass (s10): the Lattice widget's pairing of points and image as one state,
what the status line says while a run starts, and inputs a user of other microscopes
brings. The pairing tests pin behaviour the refactor kept; each fix's test fails on the
code before it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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


# --- 3. inputs of other microscopes


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


@pytest.mark.parametrize("kind", ["image", "labels"])
def test_a_pixel_map_of_a_large_grid_is_refused_before_any_work(viewer, monkeypatch, kind):
    """A 30000 × 30000 lazy image for the bounds and 'pixel Voronoi map' ticked: the
    widget made the map in memory (the map alone: 64 s of CPU and 12.5 GB at peak). A map
    of a grid over the plugin's "large" limit is now refused at once, saying what to do,
    the lattice core never called; unticked, the run goes on. (Here with the limit lowered
    to 32 × 32: a 30000² image would load the test machine as it loaded the user's.)"""
    from napari_tessella import _lazy
    from napari_tessella._widgets import lattice as lattice_widget

    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 32 * 32)
    monkeypatch.setattr(lattice_widget, "LARGE_PIXELS", 32 * 32)
    calls = []
    real = lattice_widget.lattice
    monkeypatch.setattr(lattice_widget, "lattice",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    labels = np.zeros((64, 64), np.int32)
    for k, (r, c) in enumerate(grid(6, 10.0, 5.0).astype(int), start=1):
        labels[r - 1:r + 2, c - 1:c + 2] = k
    if kind == "image":
        viewer.add_image(np.zeros((64, 64)), name="slide")
        viewer.add_points(grid(6, 10.0, 5.0), name="slide columns")
    else:
        viewer.add_labels(labels, name="slide")
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["slide columns" if kind == "image" else "slide"]
    widget.pixel_map.value = True
    assert widget() is None
    assert "pixel Voronoi map of 'slide' (64 × 64 pixels) is too large" in \
        widget._status.value
    assert "over 1,024 pixels, 32 × 32" in widget._status.value
    assert "untick 'pixel Voronoi map'" in widget._status.value and not calls
    widget.pixel_map.value = False
    assert widget() is not None and len(calls) == 1
