"""Widgets driven as a user would in a real viewer, on what the other widget tests leave
out: axes in different units, an input layer whose data is replaced, a spacing only the
core checks, and odd layers (dtypes, 1 × N images, Points of 0–3 points, a run on a layer
deleted meanwhile); each test fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_tessella import find_atoms
from napari_tessella._validation import LengthError
from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_lattice

# --- axes in different units


def legend_of(widget) -> str:
    """The lattice legend's text, its no-break spaces (number and unit) as spaces."""
    return widget.legend.value.replace("\u00a0", " ")


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


# --- the input layer's data replaced


def test_threshold_slider_follows_the_data_of_its_image(viewer, lattice_image):
    """``layer.data = …`` with another range: the slider takes the new range and the
    method's value on it (it kept the old range: an Otsu threshold of ~1000 was clamped
    to 1, and the manual slider could not reach the new values). Another image's data
    replaced moves nothing."""
    layer = viewer.add_image(lattice_image, name="lat")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    assert widget.value.max == pytest.approx(lattice_image.max())
    assert widget() is not None  # a run: its preview then follows the data
    layer.data = lattice_image * 1000.0 + 500.0
    assert widget.value.min == pytest.approx(layer.data.min())
    assert widget.value.max == pytest.approx(layer.data.max())
    from napari_tessella.threshold import smoothed_threshold

    assert widget.value.value == pytest.approx(smoothed_threshold(layer.data, "otsu"),
                                               rel=1e-3)
    labels = viewer.layers["lat labels"].data
    assert labels.max() > 10  # the preview of the new data
    other = viewer.add_image(lattice_image, name="other")
    widget.image.value = other
    limits = (widget.value.min, widget.value.max)
    layer.data = lattice_image * -7.0
    assert (widget.value.min, widget.value.max) == limits
    # chosen again, the image is read as it is now, not as napari first saw it
    widget.image.value = layer
    assert widget.value.min == pytest.approx(-7.0 * lattice_image.max())


# --- Find atoms: the spacing rule is the core's


def test_find_atoms_leaves_the_spacing_rule_to_the_core(viewer, lattice_image, monkeypatch):
    """A spacing over half the image reaches find_atoms, whose check answers (the widget
    checked the same rule itself first); the message is in the field's unit and words."""
    from napari_tessella._widgets import atoms as widget_module

    given = []
    core = widget_module.find_atoms

    def spy(image, **params):
        given.append(params["separation"])
        return core(image, **params)

    monkeypatch.setattr(widget_module, "find_atoms", spy)
    layer = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.separation.value = 20.0  # 40 pixels of a 64-pixel image
    assert widget() is None
    assert given == [pytest.approx(40.0)]
    assert widget._status.value == ("⚠ a column spacing of 20 nm is over half the image's "
                                    "shorter side (shape (64, 64)): at most 16 nm.")
    assert "lat columns" not in viewer.layers


# --- placement in world coordinates


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


# --- dtypes and value ranges


@pytest.mark.parametrize("ranges", [(5e18, 1.0), (4e9, 1e-6), (1.0, 1e-6), (1e-6, 1e4)])
def test_threshold_slider_after_an_image_of_a_very_different_range(viewer, lattice_image,
                                                                    ranges):
    """An int64 image of range 5e18 (or uint32 of 4e9), then an image of range 1: the
    slider spanned (0, 0) and could not be dragged; ranges of 1e-6 overflowed. Now each
    image's range, and a manual value in the middle of it stays there."""
    clean = np.clip(lattice_image, 0, None) / lattice_image.max()
    first, second = ranges
    dtype = np.int64 if first > 1e9 else float
    viewer.add_image((clean * first).astype(dtype), name="first")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.layers["first"]
    assert widget.value.max == pytest.approx(first, rel=1e-3)
    widget.image.value = viewer.add_image(clean * second, name="second")
    assert widget.value.max == pytest.approx(second, rel=1e-3)
    assert widget.value.min == pytest.approx(0.0, abs=second * 1e-3)
    widget.value.value = second / 2  # the user's own value: manual
    assert widget.method.value == "manual"
    assert widget.value.value == pytest.approx(second / 2, rel=2e-3)
    assert widget() is not None
    assert viewer.layers["second labels"].data.max() > 10


# --- outputs belong to their input for good


def test_a_new_image_never_gets_a_deleted_images_outputs(viewer, lattice_image, monkeypatch):
    """Python reuses the id() of a freed layer (seen after ~20 add/run/delete rounds in a
    session): outputs were keyed by id(), and a new image's results went into the deleted
    image's "A labels" instead of "B labels". Simulated here by an id() that gives both
    images the same number."""
    from napari_tessella._widgets import _base, _layers

    def same_id(obj):
        return 1 if getattr(obj, "name", None) in ("A", "B") else id(obj)

    monkeypatch.setattr(_base, "id", same_id, raising=False)
    monkeypatch.setattr(_layers, "id", same_id, raising=False)
    widget = ThresholdLabelWidget(viewer)
    a = viewer.add_image(lattice_image, name="A")
    widget.image.value = a
    widget()
    kept = viewer.layers["A labels"].data.copy()
    viewer.layers.remove(a)
    b = viewer.add_image(lattice_image[::-1], name="B")
    widget.image.value = b
    widget()
    assert "B labels" in viewer.layers
    np.testing.assert_array_equal(viewer.layers["A labels"].data, kept)


# --- layout


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


# --- Find atoms: dumbbells that come and go


@pytest.fixture(scope="module")
def dumbbell_image():
    from napari_tessella.synthetic import synthetic_dumbbells

    return synthetic_dumbbells((128, 128), spacing=16.0, pair_distance=0.4, angle=30.0,
                               intensity_ratio=0.6, seed=3).image


def test_dumbbells_of_an_earlier_run_do_not_stay(viewer, dumbbell_image):
    """The image's data replaced by one without pairs: the re-run found none, and the last
    run's 56 arrows stayed over the new columns as if found there. Now that layer is
    emptied (and the status says 0 dumbbells); an image that never had any gets none."""
    image = viewer.add_image(dumbbell_image, name="GaAs")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget()
    assert len(viewer.layers["GaAs dumbbells"].data) > 20
    image.data = synthetic_lattice((128, 128), spacing=8.0, seed=0).image
    assert widget() is not None
    assert len(viewer.layers["GaAs dumbbells"].data) == 0
    assert len(viewer.layers["GaAs dumbbells"].features) == 0
    assert "0 dumbbells" in widget._status.value
    plain = viewer.add_image(synthetic_lattice((64, 64), spacing=8.0, seed=1).image,
                             name="plain")
    widget.image.value = plain
    widget()
    assert "plain dumbbells" not in viewer.layers


def test_all_planes_with_dumbbells_on_some_planes_only(viewer, dumbbell_image):
    """A stack whose first plane has no pairs and second has: 'all planes' raised
    KeyError: 'dumbbells' (a traceback; the roles were those of the first plane)."""
    plain = synthetic_lattice((128, 128), spacing=8.0, seed=0).image
    image = viewer.add_image(np.stack([plain, dumbbell_image]), name="st")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget._planes.value = "all planes"
    assert widget() is not None
    pairs = viewer.layers["st dumbbells"]
    assert len(pairs.data) > 20 and (pairs.data[:, 0, 0] == 1).all()
    assert (pairs.features["plane"] == 1).all()
    assert set(np.round(viewer.layers["st columns"].data[:, 0])) == {0, 1}


# --- lengths in the units the user sees (QA pass s6): a core error about a length carries
# it as numbers (no parsing of its text); a scale without a unit is never called pixels


# --- the core's length errors keep their lengths


@pytest.mark.parametrize(("separation", "lengths", "text"), [
    (40.0, {"value": 40.0, "limit": 32.0}, "separation=40 pixels is over half the image's "
     "shorter side (shape (64, 64)): at most 32 pixels."),
    (1.5, {"value": 1.5, "limit": 2}, "separation must be >= 2 pixels; got 1.5 pixels."),
])
def test_a_spacing_error_carries_its_lengths(lattice_image, separation, lengths, text):
    with pytest.raises(LengthError) as info:
        find_atoms(lattice_image, separation=separation)
    err = info.value
    assert isinstance(err, ValueError)  # callers catching ValueError see no change
    assert err.name == "separation" and err.lengths == lengths
    assert str(err) == text
    assert err.in_units(lambda v: f"{v / 2:g} nm").endswith("nm.")


def test_a_length_larger_than_the_image_carries_its_lengths(lattice_image):
    from napari_tessella import threshold_label

    with pytest.raises(LengthError) as info:
        threshold_label(lattice_image, threshold="otsu", smooth_sigma=100)
    assert info.value.name == "smooth_sigma"
    assert info.value.lengths == {"value": 100.0, "limit": 64}


# --- the widgets say them in the field's unit


def test_a_spacing_under_two_pixels_is_said_in_the_fields_unit(viewer, lattice_image):
    """0.4 nm on pixels of 0.5 nm is 0.8 pixels: the message said "'column spacing' (in
    pixels) must be >= 2 pixels; got 0.8", a number the user never typed."""
    layer = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.separation.value = 0.4
    assert widget() is None
    assert widget._status.value == "⚠ the column spacing must be >= 1 nm; got 0.4 nm."


def test_a_diameter_larger_than_the_image_is_said_in_the_fields_unit(viewer, lattice_image):
    """The diameter field is in µm; the core refuses it in pixels (a length over the image's
    longest side): the message named 'object diameter' (in pixels)=400.0 pixels."""
    layer = viewer.add_image(lattice_image, name="dna", scale=(0.5, 0.5), units="um")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.object_diameter.value = 200.0
    assert widget() is None
    status = widget._status.value
    assert status.startswith("⚠ an object diameter of 200 µm is larger than the image")
    assert "longest side 32 µm" in status and "pixels" not in status


def test_an_opening_in_pixels_stays_in_pixels(viewer, lattice_image):
    """The opening field is in pixels: its error is not converted into the layer's unit."""
    layer = viewer.add_image(lattice_image[:, :40], name="img", scale=(0.5, 0.5), units="nm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.opening.max = 1000
    widget.opening.value = 50
    assert widget() is None
    assert "'opening'=50 pixels is larger than the image" in widget._status.value


# --- a scale without a unit


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


def test_renaming_or_replacing_an_image_starts_no_preview(viewer, lattice_image):
    """Only the user's own change or Run makes layers: renaming the chosen image (napari
    re-emits the box's value) made its labels and centres appear, and so did replacing
    its data before any preview."""
    layer = viewer.add_image(lattice_image, name="lat")
    widget = ThresholdLabelWidget(viewer)
    assert widget.image.value is layer
    layer.name = "renamed"
    assert [lyr.name for lyr in viewer.layers] == ["renamed"]
    layer.data = lattice_image * 2.0  # the slider follows, no layer is made
    assert [lyr.name for lyr in viewer.layers] == ["renamed"]
    assert widget.value.max == pytest.approx(2.0 * lattice_image.max())
    widget.method.value = "li"  # the user's change: a preview
    assert "renamed labels" in viewer.layers
    layer.name = "again"
    assert len(viewer.layers) == 3


def test_lattice_takes_the_image_its_points_were_made_on(viewer, lattice_image):
    """Find atoms on an image in nm, then a newer image of other placement: the lattice
    followed the new columns but kept the newest image for bounds, so the nm positions
    were read as that image's pixels and the lengths lost their unit."""
    stem = viewer.add_image(lattice_image, name="stem", scale=(0.1, 0.1), units="nm")
    viewer.add_image(np.zeros((128, 128)), name="other")
    lattice = LatticeWidget(viewer)
    assert lattice.image.value.name == "other"  # nothing to match yet: the newest
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = stem
    atoms()
    assert lattice.points.value.name == "stem columns"
    assert lattice.image.value is stem
    assert lattice() is not None
    assert lattice._status.value.endswith(" nm")
    assert legend_of(lattice).endswith("nm²")
    # an image the user picks stays, also when newer columns arrive
    lattice.image.value = viewer.layers["other"]
    atoms.image.value = viewer.add_image(lattice_image, name="stem 2", scale=(0.1, 0.1),
                                         units="nm")
    atoms()
    assert lattice.image.value.name == "other"


def test_lattice_image_match_prefers_the_named_image(viewer, lattice_image):
    """Of two images placed alike, the one whose name the points carry."""
    first = viewer.add_image(lattice_image, name="a")
    viewer.add_image(lattice_image, name="b")
    lattice = LatticeWidget(viewer)
    label = ThresholdLabelWidget(viewer)
    label.image.value = first
    label()
    assert lattice.points.value.name == "a centers"
    assert lattice.image.value is first


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


# --- the principle, on placements hypothesis draws: every length and area in the layer's
# units, the same in the tables, the messages and the legend


def test_units_follow_the_layers_placement(make_napari_viewer, lattice_image):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from napari_tessella._widgets._layers import _physical, _unit

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
        (py, px), (oy, ox), _ = _physical(layer)
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
        assert float(spacing.split()[0]) == pytest.approx(8 * np.sqrt(abs(py * px)),
                                                          rel=0.05)
        assert np.array_equal(layer.data, lattice_image)

    check()
