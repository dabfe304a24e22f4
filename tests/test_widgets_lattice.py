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


def test_lattice_widget_triangulates_physical_positions_of_anisotropic_points(viewer):
    """A hexagonal lattice in nm on a (3, 1) nm Points layer: the bonds and cells are the
    hexagonal lattice's, not those of the squashed pixel grid."""
    a, size = 6.0, np.array([3.0, 1.0])
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    phys = np.column_stack([(i * a * np.sqrt(3) / 2).ravel(),
                            (j * a + (i % 2) * a / 2).ravel()]) + a
    px = phys / size
    image = viewer.add_image(np.zeros((30, 70)), name="stem", scale=tuple(size), units="nm")
    points = viewer.add_points(px, name="hex", scale=tuple(size), units="nm")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget.geometry.value = "vectors (fast)"
    widget.pixel_map.value = True
    widget()
    bonds = viewer.layers["hex Delaunay"].features
    expected = lattice(phys)
    got = np.sort(np.column_stack([bonds["start"], bonds["end"]]), axis=1)
    np.testing.assert_array_equal(got, expected.edges)
    np.testing.assert_allclose(bonds["length"], expected.edge_lengths)
    interior = ~((i == 0) | (i == 7) | (j == 0) | (j == 7)).ravel()
    pixel = viewer.layers["hex Voronoi map"]
    counts = pixel.features.set_index("index")["neighbours"]
    assert np.all(counts.to_numpy()[1:][interior] == 6)
    areas = pixel.features["area"].to_numpy()[1:]
    np.testing.assert_allclose(areas[interior], np.sqrt(3) / 2 * a**2)
    # the pixel map: each pixel's physically nearest point
    np.testing.assert_array_equal(pixel.data, lattice(px, (30, 70), sampling=size).voronoi_labels)
    # the same points on square pixels give other bonds (the cache keys on the scale too)
    image.scale = points.scale = (1.0, 1.0)
    widget()
    assert "reused" not in widget._status.value
    assert len(viewer.layers["hex Delaunay"].features) != len(bonds) or not np.array_equal(
        np.sort(np.column_stack([viewer.layers["hex Delaunay"].features["start"],
                                 viewer.layers["hex Delaunay"].features["end"]]), axis=1), got)
