"""Widgets under odd geometry and odd use: units and pixel sizes, stacks shown beyond
their planes, a layer napari refuses to draw, buttons that must not block the UI, the
threshold slider following the smoothing; each test fails on the behaviour it fixed."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from napari_tessella import threshold as threshold_module
from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei


def test_layer_tables_and_csv_spell_units_alike(viewer, lattice_image, tmp_path):
    """µm on the layer: the same ASCII column names in the layer's features and the CSV,
    and exporting does not add a second set of physical columns."""
    layer = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="µm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget()
    features = viewer.layers["lat labels"].features
    assert "area_um2" in features and "com_row_um" in features
    assert not any("µ" in str(c) for c in features.columns)
    written = widget.export(tmp_path)
    table = pd.read_csv(next(p for p in written if p.name == "lat_centers.csv"))
    physical = [c for c in table.columns if c.endswith("_um") or c.endswith("_um2")]
    assert len(physical) == len(set(physical)) and "com_row_um" in physical
    np.testing.assert_allclose(table["area_um2"], table["area"] * 0.25)


def test_anisotropic_pixels_one_length_per_pixel(viewer, lattice_image):
    """Rows of 0.5 nm, columns of 2 nm: a spacing typed in nm is read and reported with
    the same pixel length (the geometric mean, 1 nm), areas are row × column size."""
    layer = viewer.add_image(lattice_image, name="aniso", scale=(0.5, 2.0), units="nm")
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = layer
    atoms.separation.value = 8.0
    assert atoms.parameters()["separation"] == pytest.approx(8.0)
    atoms()
    assert "spacing 8 nm" in atoms._status.value
    table = viewer.layers["aniso columns"].features
    np.testing.assert_allclose(table["nn_distance_nm"], table["nn_distance"])
    threshold = ThresholdLabelWidget(viewer)
    threshold.image.value = layer
    threshold.smooth_sigma.value = 2.0
    assert threshold.parameters()["smooth_sigma"] == pytest.approx(2.0)
    threshold()
    features = viewer.layers["aniso labels"].features
    np.testing.assert_allclose(features["area_nm2"], features["area"] * 1.0)
    np.testing.assert_allclose(features["com_col_nm"], features["com_col"] * 2.0)


def test_a_flipped_axis_gives_positive_sizes(viewer, lattice_image):
    layer = viewer.add_image(lattice_image, name="flip", scale=(-1.0, 2.0))
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget()
    features = viewer.layers["flip labels"].features
    assert (features["area_scaled2"] > 0).all()
    np.testing.assert_allclose(features["area_scaled2"], features["area"] * 2.0)
    np.testing.assert_allclose(features["com_row_scaled"], -features["com_row"])


def test_a_stack_shown_beyond_its_planes_names_the_plane_it_reads(viewer, lattice_image):
    """The viewer at plane 4 of a longer stack: a 2-plane stack shows (and is read at)
    its last plane, and the message names that plane, not plane 4."""
    viewer.add_image(np.stack([lattice_image] * 5), name="long")
    short = viewer.add_image(np.stack([lattice_image, lattice_image[::-1]]), name="short")
    viewer.dims.set_current_step(0, 4)
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = short
    widget()
    assert "(plane 1)" in widget._status.value
    reference = ThresholdLabelWidget(viewer)
    one = viewer.add_image(lattice_image[::-1], name="one")
    reference.image.value = one
    reference()
    np.testing.assert_array_equal(viewer.layers["short labels"].data[0],  # on plane 1
                                  viewer.layers["one labels"].data)


def test_a_method_change_computes_its_threshold_once(viewer, lattice_image, monkeypatch):
    """Choosing a method sets the slider and previews with that very value (the method
    used to run twice: once for the slider, once inside the preview)."""
    from napari_tessella import segmentation

    calls = []
    original = threshold_module.compute_threshold

    def counting(image, method, *args, **kwargs):
        if isinstance(method, str):  # a number passes through: no computing
            calls.append(method)
        return original(image, method, *args, **kwargs)

    monkeypatch.setattr(threshold_module, "compute_threshold", counting)
    monkeypatch.setattr(segmentation, "compute_threshold", counting)
    layer = viewer.add_image(lattice_image, name="lat")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    calls.clear()
    widget.method.value = "li"
    assert calls == ["li"]
    assert viewer.layers["lat labels"].data.max() > 0
    # the preview equals a run with the method
    preview = viewer.layers["lat labels"].data.copy()
    widget()
    np.testing.assert_array_equal(viewer.layers["lat labels"].data, preview)


def test_smoothing_moves_the_methods_slider(viewer):
    rng = np.random.default_rng(0)
    image = rng.random((64, 64)) ** 4  # skewed noise: smoothing moves Otsu's threshold
    layer = viewer.add_image(image, name="noise")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.method.value = "otsu"
    before = widget.value.value
    widget.smooth_sigma.value = 3.0
    expected = threshold_module.smoothed_threshold(image, "otsu", smooth_sigma=3.0)
    assert widget.value.value != pytest.approx(before, abs=1e-3)
    assert widget.value.value == pytest.approx(expected, abs=2 * widget.value.step)
    assert widget.method.value == "otsu"  # still the method, not the user's own value


def test_estimate_diameter_button_runs_in_a_worker(viewer, qtbot, monkeypatch):
    from napari_tessella._widgets import watershed

    threads = []
    original = watershed.estimate_object_diameter

    def recording(image):
        threads.append(threading.current_thread())
        return original(image)

    monkeypatch.setattr(watershed, "estimate_object_diameter", recording)
    nuclei = synthetic_nuclei(seed=1).image
    layer = viewer.add_image(nuclei, name="syn", scale=(2, 2), units="µm")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.estimate.changed()
    assert widget._worker is not None and not widget._run_button.enabled
    widget.estimate.changed()  # again while it runs: said, not silently dropped
    assert "a run is going" in widget._status.value
    qtbot.waitUntil(lambda: widget._worker is None, timeout=30000)
    assert threads and threads[0] is not threading.main_thread()
    assert 50 < widget.object_diameter.value < 70
    assert "estimated diameter" in widget._status.value and widget._run_button.enabled


def test_estimate_on_a_huge_scale_widens_the_field(viewer):
    """A diameter of 5e13 in the layer's units: beyond the field's range, which used to
    raise out of the button's signal."""
    nuclei = synthetic_nuclei(seed=1).image
    layer = viewer.add_image(nuclei, name="huge", scale=(1e12, 1e12))
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    d = widget.estimate_diameter()
    assert widget.object_diameter.value == pytest.approx(d * 1e12, rel=1e-6)
    assert widget.parameters()["object_diameter"] == pytest.approx(d, rel=1e-6)


@pytest.mark.parametrize("run_button", [False, True])
def test_a_layer_napari_refuses_is_a_message(viewer, lattice_image, qtbot, monkeypatch,
                                             run_button):
    """napari raising while a result is added (e.g. an OverflowError of its dims slider
    with extreme scales) is a message in the widget, not a traceback."""
    layer = viewer.add_image(lattice_image, name="lat")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer

    def refuse(*args, **kwargs):
        raise OverflowError("argument 1 overflowed")

    monkeypatch.setattr(type(viewer), "add_layer", refuse)
    if run_button:
        widget._run_button.clicked()
        qtbot.waitUntil(lambda: widget._worker is None, timeout=30000)
    else:
        assert widget() is None
    assert "could not be drawn" in widget._status.value
    assert "OverflowError" in widget._status.value
    assert widget._run_button.enabled and not widget._writing
    assert [lyr.name for lyr in viewer.layers] == ["lat"]


def test_watershed_seeds_are_its_own_output(viewer):
    """The seeds layer the widget wrote, picked as its seeds input, then run again: the
    seeds are kept, and no error."""
    nuclei = synthetic_nuclei(seed=1).image
    layer = viewer.add_image(nuclei, name="syn")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget()
    seeds = viewer.layers["syn seeds"]
    before = np.array(seeds.data, copy=True)
    n = int(viewer.layers["syn nuclei"].data.max())
    widget.seeds.value = seeds
    assert widget() is not None
    np.testing.assert_allclose(viewer.layers["syn seeds"].data, before)
    assert int(viewer.layers["syn nuclei"].data.max()) == n


def test_output_deleted_or_renamed_between_runs(viewer, lattice_image):
    layer = viewer.add_image(lattice_image, name="lat")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    viewer.layers.remove("lat columns")
    assert widget() is not None and "lat columns" in viewer.layers
    viewer.layers["lat columns"].name = "mine"
    widget()
    assert "mine" in viewer.layers and "lat columns" in viewer.layers


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # napari's thumbnail
def test_lattice_on_points_with_nan_is_a_message(viewer):
    viewer.add_points([[np.nan, 1.0], [5.0, 5.0], [1.0, 9.0], [9.0, 2.0]], name="nan")
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["nan"]
    widget.image.value = None
    assert widget() is None
    assert "NaN" in widget._status.value


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # napari's thumbnail
def test_watershed_seeds_with_nan_or_on_another_plane_say_so(viewer):
    nuclei = synthetic_nuclei(seed=1).image
    widget = SeededWatershedWidget(viewer)
    widget.image.value = viewer.add_image(nuclei, name="syn")
    widget.seeds.value = viewer.add_points([[np.nan, 10.0], [50.0, 50.0]], name="nan")
    assert widget() is None
    assert "1 of the 2 points" in widget._status.value and "NaN" in widget._status.value
    widget.seeds.value = viewer.add_labels(np.zeros(nuclei.shape, np.int32), name="empty")
    assert widget() is None
    assert "the seeds layer 'empty' has no labels" in widget._status.value
    widget.seeds.value = viewer.add_points([[3, 50.0, 50.0], [6, 60.0, 60.0]], name="3, 6")
    viewer.dims.set_point(0, 4)
    assert widget() is None
    assert "no points on the plane shown" in widget._status.value


@pytest.mark.parametrize("widget_type", [ThresholdLabelWidget, SeededWatershedWidget])
def test_all_planes_of_a_4d_stack_keep_both_leading_axes(viewer, lattice_image, widget_type):
    """(2, 2, Y, X): labels come back (2, 2, Y, X), not (4, Y, X) (napari refused those
    with the stack's 4-D scale)."""
    planes = np.stack([np.stack([lattice_image, lattice_image[::-1]])] * 2)
    widget = widget_type(viewer)
    widget.image.value = viewer.add_image(planes, name="4d")
    widget._planes.value = "all planes"
    assert widget() is not None, widget._status.value
    role = "labels" if widget_type is ThresholdLabelWidget else "nuclei"
    labels = viewer.layers[f"4d {role}"].data
    assert labels.shape == planes.shape
    # plane (1, 1) is the flipped image: its objects are plane (0, 0)'s, flipped
    np.testing.assert_array_equal(labels[1, 1][::-1] > 0, labels[0, 0] > 0)


def test_closing_the_viewer_during_a_run_is_quiet(make_napari_viewer, qtbot):
    import sys

    viewer = make_napari_viewer()
    widget = SeededWatershedWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.image.value = viewer.add_image(synthetic_nuclei(seed=1).image, name="syn")
    errors = []
    hook, sys.excepthook = sys.excepthook, lambda *exc: errors.append(exc)
    try:
        widget._start()
        worker = widget._worker
        viewer.close()
        qtbot.waitUntil(lambda: not worker.is_running, timeout=30000)
        qtbot.wait(200)
    finally:
        sys.excepthook = hook
    assert not errors, errors[0][1]


def test_export_to_a_file_instead_of_a_folder_is_a_message(viewer, lattice_image, tmp_path):
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.add_image(lattice_image, name="lat", scale=(1e-12, 1e-12))
    widget()
    written = widget.export(tmp_path / "out")  # a pixel of 1e-12: still written
    assert sorted(p.suffix for p in written) == [".csv", ".csv", ".tif"]
    (tmp_path / "file").write_text("")
    assert widget.export(tmp_path / "file") == []
    assert "cannot export to" in widget._status.value


def test_threshold_slider_between_extreme_ranges(viewer, lattice_image):
    """From an image of 1e300 to one of 1e-300: the slider cannot follow (its precision
    overflowed to NaN and raised out of the image field); a method still works."""
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.add_image(lattice_image.astype(float) * 1e300, name="big")
    widget.image.value = viewer.add_image(lattice_image.astype(float) * 1e-300, name="tiny")
    widget.method.value = "li"
    assert widget() is not None
    assert viewer.layers["tiny labels"].data.max() > 10


@pytest.mark.parametrize("transform", [{"rotate": 30}, {"shear": [0.3]},
                                       {"affine": [[1, 0.2, 5], [0, 1, -3], [0, 0, 1]]}])
def test_outputs_lie_on_a_rotated_or_affine_image(viewer, lattice_image, transform):
    """The outputs take the image's whole placement, not only its scale and translate
    (they were drawn unrotated over a rotated image)."""
    image = viewer.add_image(lattice_image, name="lat", scale=(2, 2), translate=(5, 7),
                             **transform)
    for widget_type, output in ((ThresholdLabelWidget, "lat labels"),
                                (FindAtomsWidget, "lat columns")):
        widget = widget_type(viewer)
        widget.image.value = image
        widget()
        layer = viewer.layers[output]
        for corner in ([0, 0], [10, 40], [63, 5]):
            np.testing.assert_allclose(layer.data_to_world(corner),
                                       image.data_to_world(corner), atol=1e-9)


@pytest.mark.parametrize(("widget_type", "params", "message"), [
    (ThresholdLabelWidget, {"opening": float("nan")}, "'opening' must be a whole number"),
    (ThresholdLabelWidget, {"smooth_sigma": None}, "smooth"),
    (SeededWatershedWidget, {"object_diameter": float("nan")}, "must be a finite number"),
    (SeededWatershedWidget, {"min_size": -3}, ">= 0"),
    (FindAtomsWidget, {"separation": 1.0}, "'column spacing' (in pixels) must be >= 2"),
    # named as on the widget, not as the command line's option (was "--refine")
    (FindAtomsWidget, {"refine": "fit"}, "⚠ refine must be none, com or gaussian"),
    (FindAtomsWidget, {"threshold": "otsu"}, "⚠ threshold of find atoms must be a number"),
])
def test_a_parameters_file_with_bad_values_moves_no_field(viewer, tmp_path, widget_type,
                                                          params, message):
    """Checked as the command line checks them, before any field is set (a NaN was
    'cannot convert float NaN to integer', a None a float() error, others were loaded
    and failed only at Run)."""
    import json

    widget = widget_type(viewer)
    widget.image.value = viewer.add_image(synthetic_nuclei(seed=1).image, name="img")
    saved = widget.save_parameters(tmp_path / "p.json")
    doc = json.loads(saved.read_text())
    doc["parameters"].update(params)
    saved.write_text(json.dumps(doc))
    before = widget.parameters()
    assert widget.load_parameters(saved) is None
    assert message in widget._status.value
    assert widget.parameters() == before


def test_lattice_lengths_use_each_axis_pixel_size(viewer):
    """Rows of 0.5 nm, columns of 2 nm: a bond's length is measured along both axes and a
    cell's area is row size × column size."""
    pts = np.array([[5.0, 5.0], [10.0, 20.0], [30.0, 5.0], [20.0, 20.0]])
    viewer.add_points(pts, name="aniso", scale=(0.5, 2.0), units="nm")
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["aniso"]
    widget.image.value = None
    widget.geometry.value = "vectors (fast)"
    widget()
    bonds = viewer.layers["aniso Delaunay"].features
    world = pts * [0.5, 2.0]
    expected = np.hypot(*(world[bonds["start"]] - world[bonds["end"]]).T)
    np.testing.assert_allclose(bonds["length"], expected)
    assert f"median edge {np.median(expected):.3g} nm" in widget._status.value
    cells = viewer.layers["aniso Voronoi"].features
    widget.geometry.value = "shapes (editable)"
    widget()
    shapes = viewer.layers["aniso Delaunay"].features
    tri = world[widget._last_lattice[3].triangles]
    longest = np.max([np.hypot(*(tri[:, i] - tri[:, j]).T)
                      for i, j in ((0, 1), (1, 2), (0, 2))], axis=0)
    np.testing.assert_allclose(shapes["longest_edge"], longest)
    np.testing.assert_allclose(cells["area"], widget._last_lattice[3].cell_areas[cells["cell"]])


def test_lattice_messages_name_the_layer_and_the_plane(viewer):
    """A Labels input is not called 'points'; a stack of Points says which planes hold
    enough points when the shown one does not."""
    lab = np.zeros((40, 40), np.int32)
    lab[5, 5], lab[10, 10] = 1, 2
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.add_labels(lab, name="two")
    widget.image.value = None
    assert widget() is None
    status = widget._status.value
    assert "the Labels layer 'two' has 2 object(s); a lattice needs at least 3" in status
    lab[20, 20] = 3
    widget.points.value = viewer.add_labels(lab, name="line")
    assert widget() is None
    assert "objects of the Labels layer 'line' are collinear" in widget._status.value
    widget.points.value = viewer.add_points(
        [[2, 5, 5], [2, 10, 20], [3, 30, 5], [3, 1, 1], [3, 20, 20]], name="stack")
    viewer.dims.set_point(0, 2)
    assert widget() is None
    status = widget._status.value
    assert "'stack' on the plane shown (plane 2) has 2 point(s)" in status
    assert "plane 3 (3 points)" in status and "points has" not in status


def test_threshold_makes_no_layers_when_its_image_is_deleted(viewer, lattice_image):
    """The combo box falls back to another image: the slider follows it, but no preview
    layers appear for an image the user did not choose; the deleted image's outputs stay."""
    first = viewer.add_image(lattice_image, name="a")
    viewer.add_image(lattice_image[::-1], name="b")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = first
    widget.opening.value = 1  # the user's own change: a preview of 'a'
    assert {"a labels", "a centers"} <= {layer.name for layer in viewer.layers}
    viewer.layers.remove(first)
    names = [layer.name for layer in viewer.layers]
    assert widget.image.value.name == "b"
    assert not any(name.startswith("b ") for name in names)
    assert "a labels" in names and "'a' was removed" in widget._status.value
    widget.opening.value = 2  # a change of the user's: now 'b' is previewed
    assert "b labels" in [layer.name for layer in viewer.layers]


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_find_atoms_on_extreme_magnitudes_fits_quietly(viewer, lattice_image, factor):
    """Gaussian fits of an image × 1e300 all failed with overflow warnings (napari shows
    warnings as notifications) and × 1e-300 failed with 'SVD did not converge': find_atoms
    fits the image scaled by a power of two and gives intensities in the image's units."""
    import warnings

    image = lattice_image.astype(float) / lattice_image.max()
    widget = FindAtomsWidget(viewer)
    widget.refine.value = "gaussian"
    widget.image.value = viewer.add_image(image, name="one")
    widget()
    reference = viewer.layers["one columns"].features
    widget.image.value = viewer.add_image(image * factor, name="extreme")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        widget()
    ours = [w for w in caught if "napari_tessella" in w.filename]
    assert not ours, [str(w.message) for w in ours]
    table = viewer.layers["extreme columns"].features
    assert table["converged"].all() and len(table) == len(reference)
    np.testing.assert_allclose(table[["row", "col"]], reference[["row", "col"]], atol=1e-6)
    np.testing.assert_allclose(table["amplitude"], reference["amplitude"] * factor,
                               rtol=1e-6)


def test_find_atoms_all_planes_keeps_each_points_style(viewer):
    """Per-point styles (hollow, ringed columns whose fit did not converge) and each plane's
    point size follow their points into the stack: napari got plane 0's list for the whole
    stack, warned and drew every point white."""
    import warnings

    from napari_tessella._widgets import FindAtomsWidget

    small = synthetic_lattice((64, 64), spacing=6.0, seed=1).image
    large = synthetic_lattice((64, 64), spacing=9.0, seed=2).image
    widget = FindAtomsWidget(viewer)
    widget.image.value = viewer.add_image(np.stack([small, large]), name="pair")
    widget._planes.value = "all planes"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # napari's "colors parameter has N entries…"
        assert widget() is not None, widget._status.value
    points = viewer.layers["pair columns"]
    plane = points.data[:, 0]
    assert len(points.face_color) == len(points.data) == len(points.size)
    # each plane's own size (a third of its spacing)
    assert points.size[plane == 0].max() < points.size[plane == 1].min()
