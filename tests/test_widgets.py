"""The three widgets in a real napari.Viewer, used as a person would."""

from __future__ import annotations

import re

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
        (np.where(np.eye(40) > 0, np.nan, 1.0), "NaN"),
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


def test_find_atoms_widget_on_synthetic_lattice(viewer):
    from scipy.spatial import cKDTree

    from napari_tessella._widgets import FindAtomsWidget
    from napari_tessella.synthetic import synthetic_lattice

    lat = synthetic_lattice((128, 128), spacing=8, seed=2)
    layer = viewer.add_image(lat.image, name="lattice", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    points = viewer.layers["lattice columns"]
    assert len(points.data) == len(lat.positions)
    d, _ = cKDTree(lat.positions).query(points.data)
    assert d.max() < 0.5
    assert {"intensity", "amplitude", "sigma", "nn_distance", "coordination"} <= set(
        points.features)
    np.testing.assert_allclose(points.scale, (0.02, 0.02))
    assert "0.16 nm" in widget._status.value  # 8 px spacing in the layer's units
    assert "basis 0.16 nm × 0.16 nm at 90°" in widget._status.value


def test_find_atoms_features_measure_neighbours_in_the_sample_with_oblong_pixels(viewer):
    """A square lattice of 8 px on pixels 0.01 nm tall and 0.04 nm wide is, in the sample,
    rows 0.08 nm apart and columns 0.32 nm apart: each column's nearest neighbours are the
    two above and below (0.08 nm, coordination 2), not the four of the pixel grid (at
    8 px x 0.02 nm, the mean pixel)."""
    from napari_tessella._widgets import FindAtomsWidget
    from napari_tessella.synthetic import synthetic_lattice

    lat = synthetic_lattice((128, 128), spacing=8, seed=2)
    layer = viewer.add_image(lat.image, name="lattice", scale=(0.01, 0.04), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    features = viewer.layers["lattice columns"].features
    assert len(features) == len(lat.positions)
    np.testing.assert_allclose(features["nn_distance_nm"], 0.08, rtol=0.05)
    np.testing.assert_allclose(features["nn_distance"], 4.0, rtol=0.05)  # 0.02 nm pixels
    bulk = features["coordination"][(features["row"] > 12) & (features["row"] < 115)]
    assert (bulk == 2).all(), bulk.value_counts()
    # the first shell holds no second direction: no basis (the pixel grid's was
    # 0.16 nm × 0.16 nm); the spacing is the one the detection used, in mean pixels
    assert "basis" not in widget._status.value
    assert "spacing 0.16 nm" in widget._status.value
    layer.scale = (0.018, 0.022)  # rows 0.144 nm apart, columns 0.176 nm: both in the shell
    widget()
    features = viewer.layers["lattice columns"].features
    np.testing.assert_allclose(features["nn_distance_nm"], 0.144, rtol=0.05)
    found = re.search(r"basis ([0-9.]+) nm × ([0-9.]+) nm at 90°", widget._status.value)
    assert found, widget._status.value
    np.testing.assert_allclose([float(v) for v in found.groups()], [0.144, 0.176],
                               atol=0.003)


def test_structural_model_on_stem(stem_image, viewer):
    from napari_tessella._widgets import FindAtomsWidget

    layer = viewer.add_image(stem_image, name="NbW")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.refine.value = "com"
    widget.model.value = True
    widget()
    columns, chambers = viewer.layers["NbW columns"], viewer.layers["NbW chambers"]
    assert len(columns.data) > 1300 and len(chambers.data) > 1000
    assert {"cell_intensity", "sublattice", "cell_area"} <= set(columns.features)
    model = viewer.layers["NbW structural model"].data
    assert model.shape == stem_image.shape
    assert model.max() == len(columns.data) + len(chambers.data)
    bonds = viewer.layers["NbW column–channel bonds"]
    assert len(bonds.data) > len(chambers.data)  # every channel is bonded to its columns
    assert "column–channel bonds" in widget._status.value


def test_rerun_on_another_image_updates_colours_and_features(viewer):
    from napari_tessella._widgets import FindAtomsWidget
    from napari_tessella.synthetic import synthetic_lattice

    small = synthetic_lattice((96, 96), spacing=8, seed=1)
    layer = viewer.add_image(small.image, name="img")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.refine.value = "com"
    widget.model.value = True
    widget()
    model = viewer.layers["img structural model"]
    first = len(viewer.layers["img columns"].data)
    layer.data = synthetic_lattice((96, 96), spacing=6, seed=1).image
    widget()
    assert viewer.layers["img structural model"] is model  # updated in place
    columns = viewer.layers["img columns"]
    assert len(columns.data) > first
    assert len(columns.features) == len(columns.data)
    # every cell of the new model has its kind's colour
    n_points = int(model.data.max())
    colours = {tuple(np.round(model.colormap.map(i)[:3], 2)) for i in range(1, n_points + 1)}
    assert len(colours) == 2


def test_lattice_rerun_updates_vectors_in_place(viewer):
    from napari.layers import Layer
    from napari.utils.colormaps import ensure_colormap

    rng = np.random.default_rng(1)
    r, c = np.meshgrid(np.arange(60) * 7.0 + 3, np.arange(60) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    image = viewer.add_image(np.zeros((420, 420)), name="blank")
    points = viewer.add_points(pts, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = image
    widget()
    bonds, ridges = viewer.layers["grid Delaunay"], viewer.layers["grid Voronoi"]
    assert bonds._type_string == ridges._type_string == "vectors"
    ridges.visible = False  # the user's choice survives re-runs
    # fewer bonds, then more again, in new units: all updated in place
    for keep, scale in ((len(pts) - 400, (0.5, 0.5)), (len(pts), (0.5, 0.5))):
        points.data = pts[:keep]
        image.scale = points.scale = scale
        written = widget()
        assert viewer.layers["grid Delaunay"] is bonds
        assert viewer.layers["grid Voronoi"] is ridges
        assert bonds.visible and not ridges.visible
        data, meta, _ = written[0]
        assert len(bonds.data) == len(bonds.features) == len(bonds.edge_color) == len(data)
        np.testing.assert_allclose(bonds.scale, scale)
        np.testing.assert_allclose(bonds.features["length"], meta["features"]["length"])
        # the per-bond colours are those of a layer made from scratch with the new data
        fresh = Layer.create(data, meta, "vectors")
        np.testing.assert_allclose(bonds.edge_color, fresh.edge_color)
        # and what is drawn is the new bonds (meshed once, on the colours: 4 vertices each)
        drawn = viewer.window._qt_viewer.canvas.layer_to_visual[bonds].node.mesh_data
        assert len(drawn.get_vertices()) == 4 * len(data)
        np.testing.assert_allclose(drawn.get_face_colors()[::2], bonds.edge_color)
        # coloured by length, the legend's range ending on the colormap's two ends
        turbo = ensure_colormap("turbo").map(np.array([0.0, 1.0]))
        length = bonds.features["length"].to_numpy()
        np.testing.assert_allclose(bonds.edge_color[[length.argmin(), length.argmax()]],
                                   turbo, atol=0.01)
        assert "edge length: turbo" in widget.legend.value


def test_saved_parameters_reproduce_the_widget_on_the_command_line(stem_image, viewer,
                                                                    tmp_path):
    """The NbW-STEM sample, Threshold & label at 158 (0.62 of 8 bits) / opening 2 / 4-conn.,
    Save, then ``tessella threshold-label <the sample's own file> --params``: same objects."""
    import tifffile

    from napari_tessella.cli import main
    from napari_tessella.datasets import fetch

    viewer.open_sample("napari-tessella", "nbw_stem")
    layer = viewer.layers["NbW-STEM"]
    assert layer.data.dtype == np.uint8  # the file's own values, as napari's reader gives
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.opening.value = 2
    widget.connectivity.value = 1
    widget.value.value = 158.0
    widget()
    assert viewer.layers["NbW-STEM labels"].data.max() == 1376
    params = tmp_path / "threshold_label.json"
    assert widget.save_parameters(params) == params
    out = tmp_path / "out"
    assert main(["threshold-label", str(fetch("NbW-STEM.png")), "--params", str(params),
                 "--out", str(out), "--quiet"]) == 0
    from_cli = tifffile.imread(out / "NbW-STEM_labels.tif")
    assert from_cli.max() == 1376
    np.testing.assert_array_equal(from_cli, viewer.layers["NbW-STEM labels"].data)
    # napari's own reader gives the same values as the sample and the command line
    opened = viewer.open(fetch("NbW-STEM.png"), plugin="napari")[0]
    np.testing.assert_array_equal(np.asarray(opened.data)[..., 0] if opened.rgb
                                  else opened.data, layer.data)


def test_find_atoms_draws_dumbbells_with_their_table(viewer):
    """Close column pairs: both columns as points, each pair as an arrow (brighter → dimmer)
    with its centre, separation, orientation and polarity as features."""
    from napari_tessella._widgets import FindAtomsWidget
    from napari_tessella.synthetic import synthetic_dumbbells

    lat = synthetic_dumbbells((128, 128), spacing=16.0, pair_distance=0.4, angle=30.0,
                              intensity_ratio=0.6, seed=3)
    image = viewer.add_image(lat.image, name="GaAs", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget()
    columns = viewer.layers["GaAs columns"]
    assert abs(len(columns.data) - len(lat.positions)) <= 2
    pairs = viewer.layers["GaAs dumbbells"]
    assert pairs._type_string == "vectors"
    assert len(pairs.data) >= 0.9 * len(lat.positions) / 2
    features = pairs.features
    assert {"separation", "orientation", "polarity"} <= set(features)
    np.testing.assert_allclose(np.median(features["separation"]), 0.4 * 16.0, rtol=0.05)
    assert (features["polarity"] > 0).all()  # brighter column first
    assert "dumbbells" in widget._status.value


def test_unconverged_columns_are_drawn_apart(stem_image, viewer):
    """Fits that did not converge keep their centre of mass and are drawn hollow with a
    yellow ring; a re-run keeps the styles matched to the new points."""
    from napari_tessella._widgets import FindAtomsWidget

    image = viewer.add_image(stem_image, name="NbW")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget()
    columns = viewer.layers["NbW columns"]
    converged = columns.features["converged"].to_numpy(bool)
    assert 0 < (~converged).sum() < 0.1 * len(converged)
    assert np.all(columns.face_color[~converged][:, 3] == 0)  # hollow
    assert np.all(columns.face_color[converged][:, 3] == 1)
    np.testing.assert_allclose(columns.border_color[~converged][:, :3],
                               [[1.0, 0xd5 / 255, 0x4f / 255]] * (~converged).sum())
    widget()  # in place: colours follow the new data
    assert len(columns.face_color) == len(columns.data)


def test_physical_columns_move_positions_and_only_scale_displacements():
    import pandas as pd

    from napari_tessella._widgets._layers import _with_physical

    table = pd.DataFrame({"row": [2.0], "col": [4.0], "d_row": [2.0], "d_col": [-4.0],
                          "area": [10.0]})
    geo = {"scale": (0.5, 0.25), "translate": (100.0, 10.0), "units": ("nm", "nm")}
    out = _with_physical(table, geo)
    assert out["row_nm"].item() == 101.0 and out["col_nm"].item() == 11.0
    assert out["d_row_nm"].item() == 1.0 and out["d_col_nm"].item() == -1.0
    assert out["area_nm2"].item() == 1.25


@pytest.mark.parametrize("spelling", ["pixel", "pixels", "px", "Pixels", "dimensionless"])
def test_a_pixel_unit_is_no_unit_on_the_widgets_as_in_the_csv(spelling):
    """One list of pixel-unit names for the widgets and the CSV files ('pixels' was a unit
    on the widgets only: 'column spacing (pixels)' and '_pixels' columns)."""
    import pandas as pd

    from napari_tessella._widgets._layers import _unit_name, _with_physical
    from napari_tessella.export import physical_columns

    assert _unit_name((spelling, spelling)) == ""
    table = pd.DataFrame({"row": [2.0], "col": [4.0]})
    geo = {"scale": (0.5, 0.25), "translate": (0.0, 0.0), "units": (spelling, spelling)}
    assert _with_physical(table, geo).columns.tolist() == ["row", "col", "row_scaled",
                                                           "col_scaled"]
    assert physical_columns(table, unit=spelling).columns.tolist() == ["row", "col"]


def test_find_atoms_spacing_field_in_small_physical_units(viewer):
    """A spacing typed in nm on pixels of 0.014 nm keeps a tenth of a pixel, and one too
    large for the image is refused in the field's own unit."""
    from napari_tessella._widgets import FindAtomsWidget
    from napari_tessella.synthetic import synthetic_lattice

    lat = synthetic_lattice((96, 96), spacing=6.4)
    layer = viewer.add_image(lat.image, name="stem", scale=(0.01414, 0.01414), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.separation.value = 0.0906
    assert abs(widget.separation.value - 0.0906) <= 0.1 * 0.01414
    widget.separation.value = 6.4  # typed in pixels by mistake: 450 pixels
    widget()
    status = widget._status.value
    assert "a column spacing of 6.4 nm is over half" in status and "pixels" not in status
    assert "stem columns" not in viewer.layers
