"""Sixth QA pass (s8-qa2): leftovers of the fifth user pass (a legend over equal values, the
watershed's estimated min size, lengths without "px", the Lattice's outputs of one plane of
a stack, a dock closed during a run). Each test fails on the code before its fix."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella._widgets import LatticeWidget, SeededWatershedWidget
from napari_tessella.synthetic import synthetic_nuclei


def finished(widget):
    return widget._worker is None and not getattr(widget, "_stepping", 0)


def grid(n: int = 6, step: float = 8.0, offset: float = 4.0) -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"),
                    -1).reshape(-1, 2) * step + offset


def legend_of(widget) -> str:
    return widget.legend.value.replace("\u00a0", " ")


# --- 5. a dock closed during a run


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


# --- 2. the watershed's estimate and its run give the same default min size


@pytest.mark.parametrize("unit", ["µm", None])
def test_the_estimated_min_size_is_the_one_the_run_uses(viewer, unit):
    """At 0.3338 µm pixels the estimate said "nuclei under 35 µm² (314 px)" and the run
    "min size 34.88 µm² = 313 px" for the same default: the estimate came from the
    unrounded diameter, the run from the field's (kept to a tenth of a pixel)."""
    pixel = 0.3338
    geo = {"scale": (pixel, pixel), "units": unit} if unit else {}
    viewer.add_image(synthetic_nuclei(seed=1).image, name="dapi", **geo)
    widget = SeededWatershedWidget(viewer)
    assert widget.estimate_diameter() is not None
    estimate = widget._status.value
    said = estimate.split("nuclei under ")[1].split(" are dropped")[0]
    assert widget() is not None
    run = widget._status.value.split("min size ")[1].split(", ")[0]
    assert said == run, (estimate, widget._status.value)
    assert said.endswith(" px" if unit else " px²")


# --- 1. a legend over values that are all equal


def test_a_legend_over_one_value_says_that_value(viewer):
    """A perfect 3 µm grid drawn as Shapes: every triangle's longest edge is 4.24 µm, and
    the legend read "longest edge: turbo 4.24 → 5.24 µm" (the colour limits padded by
    one), a range no triangle had, under a gradient bar. A 0.1 nm grid, whose lengths
    differ by rounding only, coloured its triangles from both ends of the map."""
    viewer.add_points(grid(8, 3.0), name="clicked", units="µm")
    widget = LatticeWidget(viewer)
    assert widget() is not None
    legend = legend_of(widget).split("\n")
    assert legend[0] == "longest edge: turbo, all 4.24 µm", legend
    assert "5.24" not in legend_of(widget)
    assert legend[1] == "cell area: viridis, all 9 µm²", legend  # cells up to half a step out
    assert "qlineargradient" not in widget._bars["edge length"].native.styleSheet()
    colours = viewer.layers["clicked Delaunay"].edge_color
    assert np.allclose(colours, colours[0])  # one value, one colour
    widget.geometry.value = "vectors (fast)"  # each bond its own colour: a range
    assert widget() is not None
    assert legend_of(widget).startswith("edge length: turbo 3 → 4.24 µm")
    assert "qlineargradient" in widget._bars["edge length"].native.styleSheet()
    widget.geometry.value = "auto"
    # lengths equal but for rounding: still one value, one colour
    viewer.add_points(grid(8, 0.1) + 1e-3, name="fine", scale=(1e-4, 1e-4), units="µm")
    widget.points.value = viewer.layers["fine"]
    assert widget() is not None
    assert legend_of(widget).startswith("longest edge: turbo, all 1.41e-05 µm")
    colours = viewer.layers["fine Delaunay"].edge_color
    assert np.allclose(colours, colours[0])


def test_a_legend_over_mostly_one_value_gives_the_full_range(viewer):
    """Inner cells of a grid all 64 px², border cells larger: the legend gives the full
    range and the value most cells have, not "64 → 65 px²"."""
    from napari_tessella._widgets._lattice_draw import _colour_range

    values = np.r_[np.full(200, 64.0), 100.0, 120.0]
    assert _colour_range(values) == ((64.0, 120.0), ("most", 64.0))
    assert _colour_range(np.full(5, 2.0)) == ((1.0, 3.0), ("all", 2.0))
    assert _colour_range([1.0, 2.0, 3.0])[1] is None
    pts = grid(30, 8.0)
    pts[465] += (1.5, -1.0)  # one point off: its cell and its neighbours' change
    viewer.add_points(pts, name="cols")
    widget = LatticeWidget(viewer)
    assert widget() is not None
    area = legend_of(widget).split("\n")[1]
    assert area.startswith("cell area: viridis ") and area.endswith(" (most 64 px²)"), area
    assert "→ 65 px²" not in area
    cells = viewer.layers["cols Voronoi"].features["area"].to_numpy()
    low, high = (float(v) for v in area.split("viridis ")[1].split(" (")[0][:-4].split(" → "))
    assert low == pytest.approx(cells.min(), rel=5e-3)
    assert high == pytest.approx(cells.max(), rel=5e-3)


# --- 3. lengths in pixels say px


def test_pixel_lengths_in_the_status_line_say_px(viewer):
    """No physical unit: "median edge 8" (8 what?); the legend beside it said px."""
    viewer.add_points(grid(), name="cols")
    widget = LatticeWidget(viewer)
    assert widget() is not None
    assert widget._status.value.endswith("median edge 8 px"), widget._status.value
    viewer.layers["cols"].units = ("nm", "nm")
    assert widget() is not None and "median edge 8 nm" in widget._status.value


# --- 4. the Lattice of one plane of a stack lies on that plane


@pytest.mark.parametrize("geometry", ["auto", "vectors (fast)", "mesh"])
def test_the_lattice_of_one_plane_is_drawn_on_that_plane(viewer, monkeypatch, geometry):
    """Points of a time series (3 planes, 2 s apart), the Lattice run on plane 1: its
    outputs were 2-D layers drawn over every plane, plane 1's lattice over planes 0 and 2
    as the user stepped through them. They lie on plane 1 now, placed with the stack's
    leading axis as its points are (Shapes, Vectors, the mesh and the pixel map)."""
    from napari_tessella._widgets import _lattice_draw as lattice_widget

    if geometry == "mesh":
        monkeypatch.setattr(lattice_widget, "MESH_LIMIT", 10)
        geometry = "auto"
    viewer.add_image(np.zeros((3, 48, 48)), name="movie", scale=(2.0, 0.5, 0.5),
                     units=("s", "µm", "µm"))
    pts = grid()
    points = viewer.add_points(
        np.vstack([np.c_[np.full(len(pts), k), pts + k] for k in range(3)]), name="cols",
        scale=(2.0, 0.5, 0.5), units=("s", "µm", "µm"))
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = viewer.layers["movie"]
    widget.pixel_map.value = True
    widget.geometry.value = geometry
    viewer.dims.set_point(0, 2.0)  # plane 1
    assert widget() is not None
    assert "(plane 1 of 'cols'), drawn on that plane only" in widget._status.value
    made = [viewer.layers[f"cols {what}"] for what in ("Delaunay", "Voronoi", "Voronoi map")]
    for layer in made:
        assert layer.ndim == 3, layer.name
        assert tuple(layer.scale) == (2.0, 0.5, 0.5)
        assert str(layer.units[0]) == "second"
    # the pixel map one plane deep, moved there; the others hold the plane as the points
    assert made[2].translate[0] == 2.0 and made[2].data.shape[0] == 1
    # the bonds lie where plane 1's points are: the plane's world positions match
    first = made[0].data[0] if made[0]._type_string != "surface" else made[0].data[0][:3]
    corner = np.asarray(first) if made[0]._type_string == "shapes" else None
    if corner is not None:
        on = made[0].data_to_world(corner[0])
        assert on[0] == 2.0 and any(np.allclose(on[1:], points.data_to_world(p)[1:])
                                    for p in points.data[36:72])
    def drawn_on(layers, on):
        for plane in range(3):
            viewer.dims.set_point(0, 2.0 * plane)
            for layer in layers:
                layer.refresh()
                if layer._type_string == "labels":
                    drawn = not layer._slice.empty
                elif layer._type_string == "shapes":
                    drawn = bool(np.any(layer._data_view._displayed))
                elif layer._type_string == "surface":
                    drawn = layer._view_faces is not None and len(layer._view_faces) > 0
                else:
                    drawn = len(layer._view_indices) > 0
                assert drawn == (plane == on), (layer.name, plane)

    drawn_on(made, 1)
    # another plane: the same outputs (Shapes are made anew), moved there
    viewer.dims.set_point(0, 4.0)
    assert widget() is not None and "(plane 2 of 'cols')" in widget._status.value
    assert len(viewer.layers) == 5
    assert viewer.layers["cols Voronoi map"].translate[0] == 4.0
    drawn_on([viewer.layers[f"cols {w}"] for w in ("Delaunay", "Voronoi", "Voronoi map")], 2)
