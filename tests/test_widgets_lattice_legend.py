"""The Lattice & Voronoi widget's legend: each number kept with its unit, the longest
edge named for triangles, one value (or mostly one value) said as such. Each test fails on
the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import grid, legend_of

from napari_tessella._widgets import LatticeWidget


def test_legend_never_breaks_a_number_from_its_unit(viewer, lattice_image):
    """The legend's lines wrap in a narrow dock: at the space before "µm²", which then
    stood alone on a line."""
    image = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="µm")
    viewer.add_points(grid(), name="lat columns", scale=(0.5, 0.5), units="µm")
    widget = LatticeWidget(viewer)
    assert widget.image.value is image
    assert widget() is not None
    lines = widget.legend.value.split("\n")
    assert lines[0].endswith("\u00a0µm") and lines[1].endswith("\u00a0µm²")
    # a scale without a unit: "scale units", one word with its number too
    viewer.add_points(grid(), name="scaled", scale=(2.0, 2.0))
    widget.points.value = viewer.layers["scaled"]
    widget.image.value = None
    assert widget() is not None
    assert widget.legend.value.endswith("\u00a0scale\u00a0units²")


def test_shapes_legend_names_the_longest_edge(viewer):
    """Drawn as Shapes, each triangle is coloured by its longest edge: on a 3 µm grid the
    legend said "edge length: turbo 4.24 → 4.24 µm" beside "median edge 3 µm"."""
    viewer.add_points(grid(8, 3.0), name="clicked", units="µm")
    widget = LatticeWidget(viewer)
    assert widget() is not None and widget._status.value.endswith("median edge 3 µm")
    legend = widget.legend.value.replace("\u00a0", " ")
    assert legend.startswith("longest edge: turbo, all 4.24 µm")  # all equal (qa6)
    assert widget._bars["edge length"].label == "longest edge"
    widget.geometry.value = "vectors (fast)"  # each bond its own colour: its length
    assert widget() is not None
    assert widget.legend.value.replace("\u00a0", " ").startswith("edge length: turbo 3 → ")
    assert widget._bars["edge length"].label == "edge length"


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
