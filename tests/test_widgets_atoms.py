"""The widgets in a real napari.Viewer, used as a person would (continued from
test_widgets.py): Find atoms, the structural model, reruns on another image, saved
parameters on the command line, physical units; Find atoms on dumbbells (pairs that come
and go, on some planes only, the basis of their lattice) and its table and count in the
layer's words."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from napari_tessella._widgets import FindAtomsWidget, LatticeWidget, ThresholdLabelWidget
from napari_tessella.synthetic import synthetic_dumbbells, synthetic_lattice


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
    """A lattice of round columns 0.08 nm apart down the rows and 0.32 nm across, on
    pixels 0.01 nm tall and 0.02 nm wide (rows 8 px apart, columns 16 px): each column's
    nearest neighbours are the two above and below (0.08 nm, coordination 2), not the
    four of the pixel grid. Round 53: the columns are found on the plane resampled to
    square pixels (found in pixels, each oblong column was two; the test's earlier
    lattice, columns round in pixels and so 4:1 in the sample, is no real sample)."""
    from napari_tessella._widgets import FindAtomsWidget
    from napari_tessella.synthetic import synthetic_lattice

    rr, cc = np.indices((128, 128)).astype(float)
    sites = [(r, c) for r in range(4, 128, 8) for c in range(8, 128, 16)]
    image = sum(np.exp(-((rr - r) ** 2 / 8.0 + (cc - c) ** 2 / 2.0)) for r, c in sites)
    image = image + np.random.default_rng(0).normal(0, 0.03, image.shape)
    layer = viewer.add_image(image, name="lattice", scale=(0.01, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    features = viewer.layers["lattice columns"].features
    assert abs(len(features) - len(sites)) <= 1  # (one speck of noise at most)
    np.testing.assert_allclose(features["nn_distance_nm"].median(), 0.08, rtol=0.05)
    bulk = features["coordination"][(features["row"] > 12) & (features["row"] < 115)]
    assert (bulk == 2).mean() > 0.95, bulk.value_counts()
    # the first shell holds no second direction: no basis, and the status says so; the
    # spacing is the one the detection used, in the sample
    assert "no lattice basis" in widget._status.value
    assert "spacing 0.08 nm" in widget._status.value
    lat = synthetic_lattice((128, 128), spacing=8, seed=2)
    layer.data = lat.image
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

    from napari_tessella._widgets._layers import _with_physical
    from napari_tessella._widgets._physical import _unit_name
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


# --- Find atoms: dumbbells that come and go, the basis of their lattice


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


@pytest.mark.parametrize(("kind", "angle", "spacing", "cell_angle"), [
    ("hexagonal", 0.0, 14.0, 60), ("hexagonal", "random", 14.0, 60),
    ("square", 30.0, 14.0, 90), ("square", "random", 16.0, 90),
])
def test_the_basis_of_dumbbells_is_that_of_their_lattice(viewer, kind, angle, spacing,
                                                         cell_angle):
    """On dumbbells (GaAs [110]-like pairs 0.4 spacing apart) every column's nearest
    neighbour is its partner: the basis was measured on the pairs' axis. Pairs all one
    way (angle 0) gave no basis; pairs in random directions a wrong one ("basis 5.58 ×
    5.58 at 61°" for a 14 px hexagonal lattice). It is now the basis of the dumbbells'
    centres, in the layer's unit, and says so."""
    image = synthetic_dumbbells((160, 160), kind=kind, spacing=spacing, angle=angle,
                                seed=1).image
    layer = viewer.add_image(image, name="GaAs", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    status = widget._status.value
    assert "dumbbells in 'GaAs'" in status
    said = status.split("basis of the dumbbells ")[1]
    a, rest = said.split(" nm × ")
    b, at = rest.split(" nm at ")
    assert float(a) == pytest.approx(spacing * 0.02, rel=0.03)
    assert float(b) == pytest.approx(spacing * 0.02, rel=0.03)
    assert int(at.rstrip("°").split("°")[0]) == pytest.approx(cell_angle, abs=2)


# --- Find atoms' table and count in the layer's words


@pytest.mark.parametrize(("scale", "units", "column"), [
    ((0.02, 0.02), "nm", "nn_distance_nm"),
    ((0.5, 0.5), None, "nn_distance_scaled"),
])
def test_find_atoms_names_the_physical_distance_with_the_layers_unit(viewer, tmp_path,
                                                                     scale, units, column):
    """A layer in nm gave 'nn_distance_scaled' beside 'row_nm' and 'col_nm' (and the
    Lattice's 'length_nm'): the unit in the name, as Export and the other widgets write
    it; 'scaled' only for a scale without a unit."""
    lat = synthetic_lattice((96, 96), spacing=8, seed=2)
    layer = viewer.add_image(lat.image, name="lat", scale=scale, units=units)
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    assert widget() is not None
    features = viewer.layers["lat columns"].features
    np.testing.assert_allclose(features[column], features["nn_distance"] * scale[0])
    others = {"nn_distance_scaled", "nn_distance_nm"} - {column}
    assert not others & set(features.columns)
    unit = column.rsplit("_", 1)[1]
    assert f"row_{unit}" in features  # the same word as the coordinates'
    table = pd.read_csv(tmp_path / "lat_columns.csv") if widget.export(tmp_path) else None
    np.testing.assert_allclose(table[column], features[column])


def test_find_atoms_on_plain_pixels_adds_no_physical_column(viewer):
    """No scale, no unit: the pixel table as it is (as Export adds nothing), not a copy of
    'nn_distance' under a '_scaled' name."""
    lat = synthetic_lattice((96, 96), spacing=8, seed=2)
    layer = viewer.add_image(lat.image, name="lat")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    assert widget() is not None
    assert not [c for c in viewer.layers["lat columns"].features if "scaled" in str(c)]


def test_one_column_is_one_column(viewer):
    """A spacing typed on an image of one atom: "1 columns in 'x'"."""
    rr, cc = np.indices((64, 64))
    image = viewer.add_image(np.exp(-((rr - 30) ** 2 + (cc - 30) ** 2) / 4.0), name="x")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget.separation.value = 20
    widget()
    assert widget._status.value.startswith("1 column in 'x'; spacing 20")
