"""Lattice & Voronoi widget at scale: shared Voronoi ridges, the reused lattice."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella import lattice
from napari_tessella._widgets import LatticeWidget


@pytest.fixture
def viewer(make_napari_viewer):
    return make_napari_viewer()


def test_lattice_rerun_reuses_the_lattice_only_for_the_same_points(viewer):
    rng = np.random.default_rng(2)
    r, c = np.meshgrid(np.arange(12) * 7.0 + 3, np.arange(12) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    image = viewer.add_image(np.zeros((84, 84)), name="blank")
    points = viewer.add_points(pts, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget()  # no pixel map wanted: none made
    assert "grid Voronoi map" not in viewer.layers
    assert widget._last_lattice[3].voronoi_labels is None
    widget.pixel_map.value = True
    widget()  # the same points, but the map is new: a new lattice
    assert "reused" not in widget._status.value
    pixel = viewer.layers["grid Voronoi map"]
    expected = lattice(pts, (84, 84))
    pixel.data[:] = 7  # the user paints over the whole map
    widget()  # nothing changed: the lattice is reused, not the painted map
    assert "lattice reused" in widget._status.value
    np.testing.assert_array_equal(viewer.layers["grid Voronoi map"].data,
                                  expected.voronoi_labels)
    moved = pts.copy()
    moved[0] += 0.5  # one point moves: a new lattice
    points.data = moved
    widget()
    assert "reused" not in widget._status.value
    bonds = viewer.layers["grid Delaunay"]
    np.testing.assert_allclose(bonds.features["length"], lattice(moved).edge_lengths)
    widget.image.value = None  # other bounds: a new lattice too
    widget()
    assert "reused" not in widget._status.value


def test_large_lattice_draws_each_voronoi_ridge_once(viewer, monkeypatch):
    from napari_tessella._widgets import lattice as lattice_widget
    from napari_tessella.tessellation import polygon_edges

    rng = np.random.default_rng(3)
    r, c = np.meshgrid(np.arange(15) * 7.0 + 3, np.arange(15) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    image = viewer.add_image(np.zeros((105, 105)), name="blank")
    points = viewer.add_points(pts, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget.geometry.value = "vectors (fast)"
    widget()
    per_cell = len(viewer.layers["grid Voronoi"].data)  # every cell's sides, inside it
    monkeypatch.setattr(lattice_widget, "RIDGES_LIMIT", 100)  # a "large" lattice
    widget()
    ridges = viewer.layers["grid Voronoi"]
    expected = lattice(pts, (105, 105))
    sides = polygon_edges(expected.voronoi_polygons)
    assert len(ridges.data) == len(sides) < per_cell
    np.testing.assert_allclose(ridges.data[:, 0] + ridges.data[:, 1], sides[:, 1])
    table = ridges.features
    inner = table["other_cell"].to_numpy() >= 0
    area = expected.cell_areas
    np.testing.assert_allclose(table["cell_area"], area[table["cell"]])
    np.testing.assert_allclose(table["mean_area"][inner],
                               (area[table["cell"]][inner]
                                + area[table["other_cell"][inner]]) / 2)
    # coloured by that mean, on the legend's cell-area scale
    from napari.utils.colormaps import ensure_colormap

    ends = [table["mean_area"].idxmin(), table["mean_area"].idxmax()]
    np.testing.assert_allclose(ridges.edge_color[ends],
                               ensure_colormap("viridis").map(np.array([0.0, 1.0])), atol=0.01)
    assert "cell area: viridis" in widget.legend.value
