"""The three widgets in a real napari.Viewer, used as a person would."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella._widgets import LatticeWidget, SeededWatershedWidget, ThresholdLabelWidget

SCALE = (0.05, 0.05)
TRANSLATE = (3.0, -2.0)


def layer_names(viewer):
    return [layer.name for layer in viewer.layers]


def run_stem_threshold(viewer, stem_image):
    image = viewer.add_image(stem_image, name="NbW", scale=SCALE, translate=TRANSLATE)
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.opening.value = 2
    widget.connectivity.value = 1
    widget.value.value = 0.62  # dragging the slider switches the method to "manual"
    assert widget.method.value == "manual"
    return image, widget, widget()


def test_threshold_label_reproduces_recipe(stem_image, viewer):
    original = stem_image.copy()
    image, widget, written = run_stem_threshold(viewer, stem_image)
    assert layer_names(viewer) == ["NbW", "NbW labels", "NbW centers"]
    labels, points = viewer.layers["NbW labels"], viewer.layers["NbW centers"]
    assert labels.data.max() == 1376
    assert len(points.data) == 1376
    columns = {"com_row", "com_col", "area", "mean", "min", "max", "max_at_row", "bbox_max_col"}
    assert columns <= set(points.features)
    for out in (labels, points):
        np.testing.assert_allclose(out.scale, SCALE)
        np.testing.assert_allclose(out.translate, TRANSLATE)
    # the input layer is untouched
    np.testing.assert_array_equal(image.data, original)
    assert "1376 objects" in widget._status.value
    assert len(written) == 2


def test_rerun_updates_outputs_in_place(stem_image, viewer):
    _, widget, _ = run_stem_threshold(viewer, stem_image)
    labels, points = viewer.layers["NbW labels"], viewer.layers["NbW centers"]
    widget.opening.value = 0
    widget()
    assert layer_names(viewer) == ["NbW", "NbW labels", "NbW centers"]
    assert viewer.layers["NbW labels"] is labels and viewer.layers["NbW centers"] is points
    assert labels.data.max() == 1568 and len(points.data) == 1568
    # a layer the user deleted is simply made again
    viewer.layers.remove(points)
    widget()
    assert layer_names(viewer) == ["NbW", "NbW labels", "NbW centers"]


def test_method_dropdown_sets_slider(stem_image, viewer):
    from skimage.filters import threshold_li, threshold_otsu

    image = viewer.add_image(stem_image, name="NbW")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    assert widget.method.value == "otsu"  # the default shows its value on the slider
    assert widget.value.value == pytest.approx(threshold_otsu(stem_image), abs=2e-3)
    assert "NbW labels" not in layer_names(viewer)  # but draws nothing until asked
    widget.method.value = "li"
    assert widget.value.value == pytest.approx(threshold_li(stem_image), abs=2e-3)
    assert widget.method.value == "li"
    assert "preview" in widget._status.value  # live preview already drew the labels
    assert "NbW labels" in layer_names(viewer)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.full((40, 40), 3.0), "constant"),
        (np.full((40, 40), np.nan), "no finite pixel"),  # (a few NaN: outside the sample)
    ],
)
def test_bad_image_gives_message_not_layers(viewer, data, message):
    viewer.add_image(data, name="bad")
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.method.value = "otsu"
    assert widget() is None
    assert message in widget._status.value
    assert layer_names(viewer) == ["bad"]


def test_nothing_above_threshold_is_reported(viewer):
    viewer.add_image(np.linspace(0, 1, 400).reshape(20, 20), name="ramp")
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.value.value = 0.999 * widget.value.max
    widget.method.value = "manual"
    widget.value.value = widget.value.max
    widget()
    assert "0 objects" in widget._status.value


def test_rgb_and_stack_inputs(stem_image, viewer):
    rgb = np.stack([stem_image] * 3, axis=-1)
    viewer.add_image(rgb, name="rgb", rgb=True)
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.value.value = 0.62
    widget.opening.value = 2
    widget()
    assert viewer.layers["rgb labels"].data.max() == 1376

    stack = np.stack([np.zeros_like(stem_image), stem_image])
    layer = viewer.add_image(stack, name="stack")
    viewer.dims.set_point(0, 1)  # show the second plane
    widget.image.value = layer
    widget.method.value = "manual"
    widget.value.value = 0.62
    widget()
    assert viewer.layers["stack labels"].data.shape == (1, *stem_image.shape)  # plane 1 only
    assert viewer.layers["stack labels"].data.max() == 1376


def test_lattice_widget_on_centres(stem_image, viewer):
    image, _, _ = run_stem_threshold(viewer, stem_image)
    widget = LatticeWidget(viewer)
    assert widget.points.value is viewer.layers["NbW centers"]
    assert not widget.pixel_map.value  # off by default: the lattice stays readable
    widget.image.value = image
    widget.pixel_map.value = True
    widget.geometry.value = "shapes (editable)"  # auto draws 2725 triangles as vectors
    widget()
    tri, cells, vmap = (viewer.layers[f"NbW centers {s}"]
                        for s in ("Delaunay", "Voronoi", "Voronoi map"))
    assert tri.nshapes == 2726  # 2725 with plain intensity weights: see docs/tour.md
    assert cells.nshapes == 1376
    assert vmap.data.shape == stem_image.shape and vmap.data.max() == 1376
    assert {"area", "neighbours"} <= set(cells.features)
    np.testing.assert_allclose(cells.features["area"].sum(), stem_image.size * SCALE[0] ** 2,
                               rtol=1e-6)
    for out in (tri, cells, vmap):
        np.testing.assert_allclose(out.scale, SCALE)
        np.testing.assert_allclose(out.translate, TRANSLATE)
    n_layers = len(viewer.layers)
    widget()
    assert len(viewer.layers) == n_layers
    assert "2726 triangles" in widget._status.value


def test_lattice_widget_rejects_collinear_points(viewer):
    viewer.add_points([[0, 0], [1, 1], [2, 2]], name="line")
    widget = LatticeWidget(viewer)
    assert widget() is None
    assert "collinear" in widget._status.value
    assert layer_names(viewer) == ["line"]


def test_lattice_widget_from_labels(viewer):
    labels = np.zeros((60, 60), np.int32)
    for i, (r, c) in enumerate([(10, 10), (10, 45), (45, 12), (40, 40), (25, 28)], start=1):
        labels[r - 3:r + 3, c - 3:c + 3] = i
    viewer.add_labels(labels, name="objects")
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["objects"]
    widget.pixel_map.value = True
    widget()
    assert viewer.layers["objects Delaunay"].nshapes == 4
    vmap = viewer.layers["objects Voronoi map"].data
    assert set(np.unique(vmap)) == {1, 2, 3, 4, 5}


def test_seeded_watershed_widget_u2os(u2os_pair, viewer):
    image, _ = u2os_pair
    layer = viewer.add_image(image, name="U2OS")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.exclude_border.value = True
    widget()
    nuclei = viewer.layers["U2OS nuclei"].data
    territories = viewer.layers["U2OS territories"].data
    seeds = viewer.layers["U2OS seeds"].data
    assert nuclei.max() > 10
    assert territories.min() > 0  # the whole plane is covered
    border = np.concatenate([nuclei[0], nuclei[-1], nuclei[:, 0], nuclei[:, -1]])
    assert border.max() == 0
    assert len(seeds) >= len(np.unique(nuclei)) - 1
    assert "nuclei" in widget._status.value


def test_seeded_watershed_takes_its_own_seeds_back(u2os_pair, viewer):
    """Fix the seeds, then re-run: the seeds layer the widget made is a valid input. (The
    working grid's last block is partial on 1030 x 1349: its centre lay past the image,
    and the widget refused 5 of its own 44 seeds as outside the image.)"""
    image, _ = u2os_pair
    layer = viewer.add_image(image, name="U2OS")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget()
    seeds = viewer.layers["U2OS seeds"]
    assert np.all(seeds.data >= 0) and np.all(seeds.data <= np.array(image.shape) - 1)
    widget.seeds.value = seeds
    widget()
    assert "⚠" not in widget._status.value and "nuclei" in widget._status.value


def test_seeded_watershed_with_user_points(viewer):
    from napari_tessella.synthetic import synthetic_nuclei

    truth = synthetic_nuclei(seed=1)
    layer = viewer.add_image(truth.image, name="syn", scale=(2, 2))
    # seeds drawn by hand in world coordinates: the image scale must be honoured
    pts = viewer.add_points(truth.centers[:5] * 2, name="my seeds")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.seeds.value = pts
    widget()
    nuclei = viewer.layers["syn nuclei"].data
    assert 1 <= len(np.unique(nuclei)) - 1 <= 5
    np.testing.assert_allclose(viewer.layers["syn nuclei"].scale, (2, 2))


def test_watershed_min_area_is_in_the_layer_units(viewer):
    from napari_tessella.synthetic import synthetic_nuclei

    truth = synthetic_nuclei(seed=1)  # nuclei of ~30 px, ~700 px² each
    layer = viewer.add_image(truth.image, name="syn", scale=(2, 2), units="µm")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.estimate_diameter()  # as the button does: the diameter in the layer's units
    assert 50 < widget.object_diameter.value < 70
    # the default minimum, in µm² and pixels, written as the run writes it
    assert "µm² = 314 px are dropped" in widget._status.value
    assert "dropped unless you set a min nucleus area" in widget._status.value
    widget()
    assert viewer.layers["syn nuclei"].data.max() > 10
    assert "min size" in widget._status.value
    widget.min_area.value = 8000.0  # µm², say: 2000 pixels of 2 × 2, larger than any nucleus
    assert widget.parameters()["min_size"] == 2000
    widget()
    assert viewer.layers["syn nuclei"].data.max() == 0  # the same layer, updated
    assert "0 nuclei" in widget._status.value
    assert "min size 8000 µm² = 2000 px" in widget._status.value  # the field's units²
    assert layer_names(viewer).count("syn nuclei") == 1
    widget.min_area.value = 0.0
    widget.set_parameters({"min_size": 50})
    assert widget.min_area.value == 200.0


def test_run_button_works_off_the_ui_thread(stem_image, viewer, qtbot):
    image = viewer.add_image(stem_image, name="NbW")
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.image.value = image
    widget.value.value = 0.62
    widget.opening.value = 2
    widget._run_button.clicked()
    qtbot.waitUntil(lambda: widget._worker is None, timeout=20000)
    assert viewer.layers["NbW labels"].data.max() == 1376
    assert widget._run_button.enabled


def test_errors_in_thread_become_notifications(viewer, qtbot):
    viewer.add_points([[0, 0], [1, 1], [2, 2]], name="line")
    widget = LatticeWidget(viewer)
    widget._run_button.clicked()
    qtbot.waitUntil(lambda: widget._worker is None, timeout=20000)
    assert "collinear" in widget._status.value
    assert layer_names(viewer) == ["line"]


def test_export_writes_tiff_and_csv(stem_image, viewer, tmp_path):
    import pandas as pd
    import tifffile

    image = viewer.add_image(stem_image, name="NbW", scale=SCALE, units="nm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.value.value = 0.62
    widget.opening.value = 2
    widget()
    files = widget.export(tmp_path / "out")
    assert sorted(f.name for f in files) == ["NbW_centers.csv", "NbW_labels.csv",
                                             "NbW_labels.tif"]
    labels = tifffile.imread(tmp_path / "out" / "NbW_labels.tif")
    np.testing.assert_array_equal(labels, viewer.layers["NbW labels"].data)
    table = pd.read_csv(tmp_path / "out" / "NbW_centers.csv")
    assert len(table) == 1376
    np.testing.assert_allclose(table["com_row_nm"], table["com_row"] * SCALE[0])
    np.testing.assert_allclose(table["area_nm2"], table["area"] * SCALE[0] * SCALE[1])


def test_export_before_running_says_so(viewer, tmp_path):
    viewer.add_image(np.random.default_rng(0).random((20, 20)), name="img")
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    assert widget.export(tmp_path) == []
    assert "run the widget first" in widget._status.value


def test_large_lattice_is_drawn_as_vectors(viewer):
    rng = np.random.default_rng(0)
    r, c = np.meshgrid(np.arange(80) * 7.0 + 3, np.arange(80) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    viewer.add_image(np.zeros((560, 560)), name="blank")
    viewer.add_points(pts, name="big")
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["big"]
    widget.image.value = viewer.layers["blank"]
    widget.pixel_map.value = True
    widget()  # auto: more than SHAPES_LIMIT triangles
    bonds = viewer.layers["big Delaunay"]
    assert bonds._type_string == "vectors"
    n_edges = len(bonds.data)
    from scipy.spatial import Delaunay

    hull = len(np.unique(Delaunay(pts).convex_hull))
    assert n_edges == 3 * len(pts) - 3 - hull  # Euler's formula for a triangulation
    # two thirds of the bonds of a square lattice are its 7 px sides, one third diagonals
    assert np.mean(np.abs(bonds.features["length"] - 7.0) < 1.0) == pytest.approx(2 / 3, abs=0.03)
    assert viewer.layers["big Voronoi"]._type_string == "vectors"
    map_layer = viewer.layers["big Voronoi map"]
    assert map_layer.features["area"].iloc[1:].sum() == pytest.approx(560 * 560)
    # forcing shapes replaces the vectors layers in place of the list
    widget.geometry.value = "shapes (editable)"
    widget.triangles.value = False
    widget.polygons.value = False
    widget()
    assert viewer.layers["big Voronoi map"] is map_layer


def test_parameters_round_trip_with_command_line_format(stem_image, viewer, tmp_path):
    from napari_tessella.params import load_parameters

    viewer.add_image(stem_image, name="NbW")
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.value.value = 0.62
    widget.opening.value = 2
    widget.connectivity.value = 2
    path = widget.save_parameters(tmp_path / "p.json")
    operation, params = load_parameters(path)
    assert operation == "threshold_label"
    assert params["threshold"] == pytest.approx(0.62) and params["opening"] == 2

    other = ThresholdLabelWidget(viewer)
    other.live_preview.value = False
    other.load_parameters(path)
    assert other.parameters() == widget.parameters()
    other()
    assert viewer.layers["NbW labels"].data.max() == threshold_label_count(stem_image, 0.62, 2, 2)

    (tmp_path / "bad.json").write_text("{not json")
    assert other.load_parameters(tmp_path / "bad.json") is None
    assert "bad.json" in other._status.value


def threshold_label_count(image, value, opening, connectivity):
    from napari_tessella import threshold_label

    return threshold_label(image, value, opening=opening, connectivity=connectivity).max()
