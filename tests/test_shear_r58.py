"""Lengths and areas of layers whose transform is not a plain scale (round 58).

napari draws a layer as affine · translate · rotate · shear · scale. A pixel's sizes are
the world lengths of one row step and one column step, its area the world area of the
parallelogram they span: both measured here with napari's own ``_data_to_world`` of the
pixel's corners, never with the project's reading of the layer.
"""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("napari")

from napari.layers import Image, Labels

from napari_tessella._widgets._export import export_layers
from napari_tessella._widgets._layers import _geometry, _with_physical
from napari_tessella._widgets._physical import _pixel

SKEW = [[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]  # an affine that skews the axes


def _steps(layer):
    """World vectors of one row step and one column step, by napari's own transform."""
    origin, row, col = np.asarray(layer._data_to_world(np.array(
        [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])), dtype=float)
    return row - origin, col - origin


def _world_sizes(layer):
    row, col = _steps(layer)
    return float(np.linalg.norm(row)), float(np.linalg.norm(col))


def _world_area(layer):
    row, col = _steps(layer)
    return abs(float(row[0] * col[1] - row[1] * col[0]))


LAYERS = {
    "sheared": dict(scale=(0.5, 0.5), shear=[0.2]),
    "sheared anisotropic": dict(scale=(0.4, 0.7), shear=[-0.35]),
    "rotated then skewed by the affine": dict(scale=(0.5, 0.5), rotate=30,
                                              affine=[[1, 0, 0], [0, 2, 0], [0, 0, 1]]),
    "general affine": dict(scale=(0.5, 0.8), affine=SKEW),
    "sheared, rotated and affine": dict(scale=(0.3, 0.6), shear=[0.25], rotate=-20,
                                        affine=[[1.2, 0.1, 0], [0.05, 0.9, 0], [0, 0, 1]]),
}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_pixel_sizes_are_napari_world_steps(kind):
    """A length along the rows or the columns is its world length, as the rulers show:
    at a shear of 0.2 the columns were 2 % short (0.5 nm instead of 0.51 nm)."""
    layer = Image(np.zeros((8, 8)), units=("nm", "nm"), **LAYERS[kind])
    np.testing.assert_allclose(_pixel(layer).size, _world_sizes(layer), rtol=1e-12)
    # the geometry the outputs are given reads alike
    np.testing.assert_allclose(_pixel(_geometry(layer)).size, _world_sizes(layer),
                               rtol=1e-12)


@pytest.mark.parametrize("kind", [k for k in LAYERS if "affine" in k])
def test_area_is_the_world_parallelogram(kind):
    """A pixel's area in world units is |det| of its steps, not row × column size; the
    area columns (area_nm2) and a length's square (the unit fields) follow it."""
    layer = Labels(np.zeros((8, 8), np.int32), units=("nm", "nm"), **LAYERS[kind])
    area = _world_area(layer)
    table = _with_physical(pd.DataFrame({"label": [1], "area": [10.0]}), _geometry(layer))
    assert table["area_nm2"].iloc[0] == pytest.approx(10 * area, rel=1e-12)
    assert _pixel(layer).length ** 2 == pytest.approx(area, rel=1e-12)


def test_a_shear_keeps_the_pixel_area():
    """A shear slides the rows, not the area: sy·sx, not sy·sx·√(1 + s²) (the longer
    column step must not leak into the areas)."""
    layer = Labels(np.zeros((8, 8), np.int32), scale=(0.4, 0.7), shear=[0.5],
                   units=("um", "um"))
    table = _with_physical(pd.DataFrame({"label": [1], "area": [4.0]}), _geometry(layer))
    assert table["area_um2"].iloc[0] == pytest.approx(4 * _world_area(layer), rel=1e-12)
    assert _world_area(layer) == pytest.approx(0.4 * 0.7, rel=1e-12)
    assert _pixel(layer).size[1] > 0.7  # while a column step is longer


def test_export_writes_world_areas(tmp_path):
    """Export's CSV of a skewed Labels layer: the area column in world units²."""
    labels = np.zeros((8, 8), np.int32)
    labels[2:5, 2:6] = 1
    layer = Labels(labels, units=("nm", "nm"), **LAYERS["general affine"])
    layer.features = pd.DataFrame({"index": [1], "label": [1], "area": [12.0]})
    files, _suffix = export_layers([layer], tmp_path)
    csv = [f for f in files if str(f).endswith(".csv")]
    assert csv
    table = pd.read_csv(csv[0])
    assert table["area_nm2"].iloc[0] == pytest.approx(12 * _world_area(layer), rel=1e-12)


def test_plain_scale_is_unchanged_bit_for_bit():
    """A layer with a plain scale (and a flip, and rows in other units) reads as before."""
    layer = Image(np.zeros((4, 4)), scale=(0.123, -0.456), translate=(1.5, -2.0),
                  units=("um", "nm"))
    pixel = _pixel(layer)
    (sy, sx), (ty, tx), unit = pixel.scale, pixel.translate, pixel.unit
    assert (sy, sx, ty, tx, unit) == (0.123 * 1000.0, -0.456, 1.5 * 1000.0, -2.0, "nm")
    assert _pixel(layer).length == float(np.sqrt(abs(0.123 * 1000.0) * 0.456))


@pytest.mark.parametrize("widget_name, field, key", [
    ("ThresholdLabelWidget", "min_size", "min_size"),
    ("SeededWatershedWidget", "min_area", "min_size"),
])
def test_area_fields_on_a_skewed_layer(make_napari_viewer, widget_name, field, key):
    """In a real viewer: an area typed in µm² is the pixels napari's world gives it (50
    pixels' worth on a skewed layer is 50 px; it was 48, each pixel taken as row size ×
    column size, 4 % too large), and a pixel count is shown back as that area."""
    import napari_tessella._widgets as widgets

    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros((32, 32)), scale=(0.5, 0.8), affine=SKEW,
                             units=("um", "um"))
    widget = getattr(widgets, widget_name)(viewer)
    widget.image.value = image
    pixel = _world_area(image)
    getattr(widget, field).value = 50 * pixel
    assert widget.parameters()[key] == 50
    widget.set_parameters({key: 20})
    assert getattr(widget, field).value == pytest.approx(20 * pixel, rel=1e-3)


@pytest.mark.parametrize("kind", ["sheared", "general affine", "sheared, rotated and affine"])
@pytest.mark.parametrize("geometry", ["vectors (fast)", "shapes (editable)"])
def test_lattice_bonds_and_cells_in_napari_world(make_napari_viewer, kind, geometry):
    """The Lattice widget's bond lengths are the distances napari's own data → world
    gives the bond's ends (diagonal bonds too, not only those along an axis), a cell's
    area that of its polygon in the world (|det| per pixel)."""
    from napari_tessella._widgets import LatticeWidget

    viewer = make_napari_viewer()
    rng = np.random.default_rng(3)
    pts = np.stack(np.meshgrid(np.arange(6), np.arange(6), indexing="ij"),
                   -1).reshape(-1, 2) * 8.0 + 4.0 + rng.uniform(-1.5, 1.5, (36, 2))
    layer = viewer.add_points(pts, name="p", units=("nm", "nm"), **LAYERS[kind])
    widget = LatticeWidget(viewer)
    widget.points.value = layer
    widget.image.value = None
    widget.geometry.value = geometry
    assert widget() is not None
    world = np.asarray(layer._data_to_world(pts))
    triangles = viewer.layers["p Delaunay"]
    if geometry.startswith("shapes"):  # each triangle by its longest edge; napari keeps
        # a Shapes layer's vertices in float32 (1e-7 relative)
        longest = [max(np.linalg.norm(w[i] - w[(i + 1) % 3]) for i in range(3))
                   for w in (np.asarray(layer._data_to_world(t)) for t in triangles.data)]
        np.testing.assert_allclose(triangles.features["longest_edge"], longest, rtol=1e-5)
        cells = viewer.layers["p Voronoi"]
        for polygon, area in zip(cells.data, cells.features["area"], strict=True):
            w = np.asarray(layer._data_to_world(polygon))
            shoelace = 0.5 * abs(np.dot(w[:, 0], np.roll(w[:, 1], 1))
                                 - np.dot(w[:, 1], np.roll(w[:, 0], 1)))
            assert area == pytest.approx(shoelace, rel=1e-5)
    else:
        bonds = triangles.features
        expected = np.linalg.norm(world[bonds["start"]] - world[bonds["end"]], axis=1)
        np.testing.assert_allclose(bonds["length"], expected, rtol=1e-9)
