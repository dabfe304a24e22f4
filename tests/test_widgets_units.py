"""Lengths, areas and positions in the layers' world, in a real viewer: rows and columns
in different units (or in units that do not convert), a scale without a unit, plain
pixels, micron/mm/metre layers in the fields, points in another unit than their image, a
rotated image, a pixel size given as an affine; then the principle on placements
hypothesis draws. Each test fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _widget_helpers import grid, legend_of

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_nuclei

# --- axes in different units


def test_lattice_lengths_with_rows_in_um_and_columns_in_nm(viewer):
    """Rows of 0.5 µm, columns of 2 nm: a bond is measured with rows of 500 nm (it mixed
    0.5 and 2 as if both were nm), a cell's area in nm², the ties chosen physically."""
    pts = np.array([[5.0, 5.0], [10.0, 200.0], [30.0, 5.0], [20.0, 220.0], [40.0, 100.0]])
    viewer.add_points(pts, name="mixed", scale=(0.5, 2.0), units=("µm", "nm"))
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["mixed"]
    widget.image.value = None
    widget.geometry.value = "vectors (fast)"
    assert widget() is not None
    bonds = viewer.layers["mixed Delaunay"].features
    world = pts * [500.0, 2.0]
    expected = np.hypot(*(world[bonds["start"]] - world[bonds["end"]]).T)
    np.testing.assert_allclose(bonds["length"], expected)
    assert f"median edge {np.median(expected):.3g} nm" in widget._status.value
    # the outputs still lie on the input: same scale and units as napari has them
    assert tuple(viewer.layers["mixed Delaunay"].scale) == (0.5, 2.0)


def test_tables_and_export_with_rows_in_um_and_columns_in_nm(viewer, lattice_image, tmp_path):
    """Physical columns put both axes in the columns' unit: com_row_nm is com_row × 1000
    nm (it was × 1, a µm size named nm), area_nm2 the true area; the CSV says the same."""
    layer = viewer.add_image(lattice_image, name="mixed", scale=(0.001, 1.0),
                             units=("µm", "nm"))
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.min_size.value = 4.0  # nm²: 4 pixels of 1 nm × 1 nm
    assert widget.parameters()["min_size"] == 4
    assert widget() is not None
    features = viewer.layers["mixed labels"].features
    np.testing.assert_allclose(features["com_row_nm"], features["com_row"] * 1.0)
    np.testing.assert_allclose(features["area_nm2"], features["area"] * 1.0)
    written = widget.export(tmp_path)
    table = pd.read_csv(tmp_path / "mixed_centers.csv")
    assert written and "row_nm" in table
    np.testing.assert_allclose(table["row_nm"], table["row"] * 1.0)


@pytest.mark.parametrize("units", [("s", "nm"), ("pixel", "nm")])
def test_axes_in_units_that_do_not_convert_are_refused(viewer, lattice_image, units):
    """Rows in seconds (a kymograph) or plain pixels, columns in nm: no length or area
    can be measured across them. Every widget says so, writes nothing, and the Find atoms
    field still opens (no error from the unit change)."""
    image = viewer.add_image(lattice_image, name="kymo", scale=(0.5, 2.0), units=units)
    pts = viewer.add_points([[5, 5], [10, 20], [30, 5], [20, 25]], name="pts",
                            scale=(0.5, 2.0), units=units)
    before = {layer.name for layer in viewer.layers}
    for widget_type in (ThresholdLabelWidget, SeededWatershedWidget, FindAtomsWidget):
        widget = widget_type(viewer)
        widget.image.value = image
        assert widget() is None
        assert "rows in" in widget._status.value and "columns in nm" in widget._status.value
    lattice = LatticeWidget(viewer)
    lattice.points.value = pts
    lattice.image.value = None
    assert lattice() is None
    assert "one length unit" in lattice._status.value
    assert {layer.name for layer in viewer.layers} == before


def test_lattice_on_axes_in_angstrom_and_furlong_says_why(viewer):
    """Rows in Å, columns in furlongs: both lengths (converted), but the grid is then a
    line in the sample; "collinear" alone did not say why."""
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0), indexing="ij"),
                    -1).reshape(-1, 2) * 10
    viewer.add_points(grid, name="grid", units=("angstrom", "furlong"))
    widget = LatticeWidget(viewer)
    widget.image.value = None
    assert widget() is None
    text = widget._status.value
    assert "collinear" in text and "rows are in Å and its columns in fur" in text
    assert "layer.units" in text


def test_lattice_on_axes_in_nm_and_um_runs_and_says_so(viewer):
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0), indexing="ij"),
                    -1).reshape(-1, 2) * 10
    viewer.add_points(grid, name="grid", scale=(1000.0, 1.0), units=("nm", "µm"))
    widget = LatticeWidget(viewer)
    widget.image.value = None
    assert widget() is not None  # 1000 nm × 1 µm: square pixels, no note
    assert "times as tall" not in widget._status.value
    viewer.layers["grid"].scale = (1.0, 1.0)
    assert widget() is not None  # 1 nm × 1 µm: converted, and said
    assert "rows are in nm and its columns in µm" in widget._status.value


# --- a scale without a unit, plain pixels, other spellings of a unit


def test_a_scale_without_a_unit_is_not_called_pixels(viewer, lattice_image):
    """Lengths of a layer scaled by 0.5 with no unit are in the scale's units: the fields,
    the lattice legend and the messages said "px" for them (half the pixels' numbers)."""
    layer = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5))
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = layer
    assert atoms.separation.label == "column spacing (scale units)"
    atoms()
    assert "spacing 4 scale units" in atoms._status.value
    lattice = LatticeWidget(viewer)
    lattice.points.value = viewer.layers["lat columns"]
    lattice.image.value = layer
    lattice()
    legend = legend_of(lattice)
    assert "px" not in legend
    assert "longest edge: turbo" in legend and "scale units\n" in legend + "\n"  # shapes
    assert legend.rstrip().endswith("scale units²")
    # the lengths are the scale's: an 8-pixel lattice at 0.5 per pixel has 4-unit bonds
    median = lattice._status.value.split("median edge ")[1]
    assert median.endswith(" scale units") and float(median.split()[0]) == pytest.approx(4, 0.05)
    water = SeededWatershedWidget(viewer)
    water.image.value = layer
    assert water.object_diameter.label == "object diameter (scale units)"
    assert water.min_area.label == "min nucleus area (scale units²)"
    label = ThresholdLabelWidget(viewer)
    label.image.value = layer
    assert label.smooth_sigma.label == "smooth σ (scale units)"


def test_pixels_stay_pixels(viewer, lattice_image):
    """A layer of scale 1 (also flipped, or moved) with no unit is in pixels, as before."""
    layer = viewer.add_image(lattice_image, name="lat", scale=(-1, 1), translate=(5, 7))
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = layer
    assert atoms.separation.label == "column spacing (px)"
    lattice = LatticeWidget(viewer)
    atoms()
    lattice.points.value = viewer.layers["lat columns"]
    lattice.image.value = layer
    lattice()
    assert " px\n" in legend_of(lattice) and legend_of(lattice).endswith(" px²")


def test_pixel_lengths_in_the_status_line_say_px(viewer):
    """No physical unit: "median edge 8" (8 what?); the legend beside it said px."""
    viewer.add_points(grid(), name="cols")
    widget = LatticeWidget(viewer)
    assert widget() is not None
    assert widget._status.value.endswith("median edge 8 px"), widget._status.value
    viewer.layers["cols"].units = ("nm", "nm")
    assert widget() is not None and "median edge 8 nm" in widget._status.value


def test_labels_lengths_are_in_the_labels_units_not_the_images(viewer):
    """A Labels layer is measured in its own geometry (the image is not used for it): with
    an image in µm chosen beside it, its pixel lengths were labelled µm."""
    labels = np.zeros((64, 64), np.int32)
    for i, (r, c) in enumerate([(10, 10), (10, 40), (40, 10), (40, 40), (25, 25)]):
        labels[r:r + 4, c:c + 4] = i + 1
    viewer.add_image(np.zeros((64, 64)), name="img", scale=(0.5, 0.5), units="um")
    layer = viewer.add_labels(labels, name="objects")
    widget = LatticeWidget(viewer)
    widget.points.value = layer
    widget.image.value = viewer.layers["img"]
    assert widget() is not None
    # pixels: px; and the image beside it is said not to be used (its box is disabled)
    assert widget._status.value.endswith(
        "median edge 25.6 px; bounds: the labels' own (no image is used)")
    assert "µm" not in legend_of(widget) and " px\n" in legend_of(widget)
    viewer.layers["objects"].scale = (2, 2)
    viewer.layers["objects"].units = ("nm", "nm")
    assert widget() is not None
    assert "median edge 51.2 nm; bounds" in widget._status.value


def test_a_layer_in_microns_is_in_micrometres(viewer, lattice_image, tmp_path):
    """units='micron' (a common spelling): pint's symbol for it is a bare "µ", and the
    fields, messages and table columns said "µ" (com_row_µ, which no reader knows)."""
    layer = viewer.add_image(lattice_image, name="cells", scale=(0.5, 0.5), units="micron")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    assert widget.smooth_sigma.label == "smooth σ (µm)"
    assert widget() is not None
    table = viewer.layers["cells centers"].features
    assert "com_row_um" in table and "area_um2" in table
    lattice = LatticeWidget(viewer)
    lattice.points.value = viewer.layers["cells centers"]
    assert lattice() is not None
    assert lattice._status.value.endswith(" µm") and legend_of(lattice).endswith(" µm²")
    written = widget.export(tmp_path)
    assert "com_row_um" in pd.read_csv(next(p for p in written if p.suffix == ".csv"))


# --- a layer in mm or metres: the fields hold its lengths


def _docked_in_mm_and_metres(make_napari_viewer, qtbot, widget_class):
    """The widget docked, its image a nuclei field in mm then in metres (0.65 µm pixels):
    yields the widget and the pixel size, then checks the fields still fit the dock."""
    viewer = make_napari_viewer(show=True)
    nuclei = synthetic_nuclei(seed=1).image
    widget = widget_class(viewer)
    viewer.window.add_dock_widget(widget, name=widget.label, area="right")
    qtbot.wait(200)
    room = widget._scroll.viewport().width()
    for unit, pixel in (("mm", 6.5e-4), ("m", 6.5e-7)):
        image = viewer.add_image(nuclei, name=unit, scale=(pixel, pixel), units=unit)
        widget.image.value = image
        yield widget, pixel
        qtbot.wait(100)
        assert widget._inner.minimumSizeHint().width() <= room


def test_watershed_fields_hold_lengths_in_mm_and_metres(make_napari_viewer, qtbot):
    """The diameter and area fields had two decimals: on a layer in mm (0.65 µm pixels)
    the estimated 0.0195 mm became 0.02 (30.8 px), a typed 0.013 mm became 0.01 (15.4 px
    instead of 20), an area of 4.2e-5 mm² became 0; in metres nothing but 0 ("estimate
    it") could be typed. The estimate was also rounded to 6 decimals (1.95e-5 m → 1.9e-5).
    The fields take the decimals of a tenth of a pixel (a pixel's area), and stay within
    the dock."""
    from napari_tessella._widgets import SeededWatershedWidget

    for widget, pixel in _docked_in_mm_and_metres(make_napari_viewer, qtbot,
                                                  SeededWatershedWidget):
        widget.min_area.value = 0.0
        assert widget.estimate_diameter() == pytest.approx(30.0, abs=0.05)
        assert widget.object_diameter.value == pytest.approx(30 * pixel, rel=1e-3)
        assert widget() is not None
        assert "= 30.0 px, min size" in widget._status.value, widget._status.value
        widget.object_diameter.value = 20 * pixel  # the user types 20 pixels' worth
        widget.min_area.value = 100 * pixel**2
        assert widget.parameters()["object_diameter"] == pytest.approx(20, abs=0.1)
        assert widget.parameters()["min_size"] == 100
        assert widget() is not None and "= 20.0 px, min size" in widget._status.value


def test_threshold_fields_hold_lengths_in_mm_and_metres(make_napari_viewer, qtbot):
    """Threshold & label on a layer in mm: a typed smoothing of 0.0013 mm (2 px) became 0
    (no smoothing, silently) and a min size of 2.1e-5 mm² (50 px) became 0."""
    for widget, pixel in _docked_in_mm_and_metres(make_napari_viewer, qtbot,
                                                  ThresholdLabelWidget):
        widget.smooth_sigma.value = 2 * pixel
        widget.min_size.value = 50 * pixel**2
        params = widget.parameters()
        assert params["smooth_sigma"] == pytest.approx(2.0, abs=0.05)
        assert params["min_size"] == 50
        assert widget() is not None


# --- placement in world coordinates: another unit, a rotation, an affine


def test_lattice_points_in_another_length_unit_are_converted(viewer):
    """Points in nm over an image in µm (drawn on it by napari) were refused as lying
    outside the image; converted, the pixel map has a cell under each point."""
    from napari_tessella._widgets import LatticeWidget

    pixels = np.array([[16.0, 16.0], [16.0, 48.0], [48.0, 16.0], [48.0, 48.0],
                       [32.0, 32.0]])
    image = viewer.add_image(np.zeros((64, 64)), name="img", scale=(0.5, 0.5), units="um")
    points = viewer.add_points(pixels * 500.0, name="cols", units="nm")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = image
    widget.pixel_map.value = True
    assert widget() is not None, widget._status.value
    cells = viewer.layers["cols Voronoi map"].data
    assert [int(cells[int(r), int(c)]) for r, c in pixels] == [1, 2, 3, 4, 5]


def test_points_drawn_on_a_rotated_image_are_read_where_they_lie(viewer, lattice_image):
    """Points clicked on a rotated, scaled and translated image are stored in world
    coordinates, unrotated: the lattice's pixel map and the watershed's seeds find them
    where they lie (they were related by scale and translate only: "27 of the 40 points
    lie outside the image", or seeds in the wrong place)."""
    image = viewer.add_image(lattice_image, name="lat", scale=(2, 2), translate=(30, -20),
                             rotate=25)
    pixels = np.array([[8.0, 8.0], [8.0, 40.0], [40.0, 8.0], [40.0, 40.0], [24.0, 56.0]])
    world = np.array([image.data_to_world(p) for p in pixels])
    drawn = viewer.add_points(world, name="drawn")
    widget = LatticeWidget(viewer)
    widget.points.value = drawn
    widget.image.value = image
    widget.pixel_map.value = True
    assert widget() is not None, widget._status.value
    cells = viewer.layers["drawn Voronoi map"]
    for k, (r, c) in enumerate(pixels.astype(int)):
        assert cells.data[r, c] == k + 1
    np.testing.assert_allclose(cells.data_to_world([8, 40]), world[1], atol=1e-9)
    watershed = SeededWatershedWidget(viewer)
    watershed.image.value = image
    watershed.seeds.value = drawn
    watershed.object_diameter.value = 12.0
    assert watershed() is not None, watershed._status.value
    np.testing.assert_allclose(viewer.layers["lat seeds"].data, pixels)


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


# --- the principle, on placements hypothesis draws: every length and area in the layer's
# units, the same in the tables, the messages and the legend


def test_units_follow_the_layers_placement(make_napari_viewer, lattice_image):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from napari_tessella._widgets._layers import _unit
    from napari_tessella._widgets._physical import _pixel

    viewer = make_napari_viewer()
    label, lattice, atoms = (ThresholdLabelWidget(viewer), LatticeWidget(viewer),
                             FindAtomsWidget(viewer))

    @settings(max_examples=6)
    @given(size=st.floats(-3, 3), ratio=st.sampled_from([1.0, 1.0, 0.5, 3.0]),
           flip=st.sampled_from([(1, 1), (-1, 1), (1, -1)]),
           shift=st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)),
           unit=st.sampled_from([None, "pixel", "nm", "µm", "micron", "angstrom", "mm"]))
    def check(size, ratio, flip, shift, unit):
        for layer in list(viewer.layers):
            viewer.layers.remove(layer)
        scale = (flip[0] * 10**size, flip[1] * 10**size * ratio)
        layer = viewer.add_image(lattice_image, name="img", scale=scale, translate=shift,
                                 **({"units": (unit, unit)} if unit else {}))
        (py, px), (oy, ox) = _pixel(layer).scale, _pixel(layer).translate
        suffix = _unit(layer)  # '' in plain pixels: the messages give no unit
        label.image.value = layer
        assert label() is not None, label._status.value
        table = viewer.layers["img centers"].features
        if (abs(py), abs(px), oy, ox) != (1, 1, 0, 0):
            row = next(c for c in table if c.startswith("com_row_"))
            area = next(c for c in table if c.startswith("area_"))
            assert np.allclose(table[row], table["com_row"] * py + oy, rtol=1e-9)
            assert np.allclose(table[area], table["area"] * abs(py * px), rtol=1e-9)
        lattice.points.value = viewer.layers["img centers"]
        lattice.image.value = layer
        assert lattice() is not None, lattice._status.value
        status = lattice._status.value.split(" (same points")[0]
        assert status.endswith(suffix) and (suffix or " px") in legend_of(lattice)
        median = float(status.split("median edge ")[1].split()[0])
        # an 8-pixel square lattice: bonds along the rows and the columns
        assert 7.5 * min(abs(py), abs(px)) <= median <= 8.5 * max(abs(py), abs(px))
        atoms.image.value = layer
        assert atoms() is not None, atoms._status.value
        spacing = atoms._status.value.split("spacing ")[1].split(";")[0]
        assert spacing.endswith(suffix)
        # an 8-pixel lattice round in pixels: found in pixels on oblong ones too (round
        # 54: on the square plane each column was two), its spacing in pixels of the mean
        # size, and each column once
        assert float(spacing.split()[0]) == pytest.approx(8 * np.sqrt(abs(py * px)),
                                                          rel=0.05)
        assert len(viewer.layers["img columns"].data) == 64
        assert np.array_equal(layer.data, lattice_image)

    check()
