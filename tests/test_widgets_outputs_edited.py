"""The widgets' outputs edited by the user: points and shapes added by hand get no
copied measurements, labels painted by hand are exported with a table of what they hold
now (on their planes for a stack), a painted pixel map keeps its cells' table. Each test
fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _widget_helpers import discs

from napari_tessella._widgets import LatticeWidget, ThresholdLabelWidget

# --- points and shapes the user adds to an output have no measurements


def test_a_point_the_user_adds_to_the_centres_gets_no_copied_measurements(viewer,
                                                                          tmp_path):
    """napari gives a point added by hand the features of the point last selected (its
    "current properties"): a point clicked into 'dna centers' was exported as a copy of
    object 4 (label 4, area 771 px, mean, bbox…) at another place. Its measurements
    are missing now; the objects' rows stay as they were, and so do its coordinates."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    centres = viewer.layers["dna centers"]
    before = centres.features.copy()
    centres.selected_data = {len(centres.data) - 1}  # as a click on the last one does
    centres.add(np.array([[5.0, 60.0]]))
    added = centres.features.iloc[-1]
    assert pd.isna(added["label"]) and pd.isna(added["area"]) and pd.isna(added["mean"])
    pd.testing.assert_frame_equal(centres.features.iloc[:-1], before, check_dtype=False)
    written = widget.export(tmp_path)
    table = pd.read_csv(next(p for p in written if p.name == "dna_centers.csv"))
    assert table["row"].iloc[-1] == 5.0 and table["row_um"].iloc[-1] == 2.5
    assert table["label"].iloc[:-1].tolist() == before["label"].tolist()
    assert np.isnan(table["label"].iloc[-1]) and np.isnan(table["area_um2"].iloc[-1])


def test_points_set_by_hand_get_no_measurements_but_moves_keep_theirs(viewer):
    """Points added by setting the layer's data (more points than before) get blank rows
    too; a point moved keeps its object's row. (napari's paste emits no data event: pasted
    points keep the copied rows, as a copy.)"""
    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    centres = viewer.layers["dna centers"]
    labels = centres.features["label"].tolist()
    moved = centres.data.copy()
    moved[0] += 3
    centres.data = moved
    assert centres.features["label"].tolist() == labels
    centres.data = np.vstack([moved, [[10.0, 10.0], [12.0, 100.0]]])
    assert centres.features["label"].iloc[:-2].tolist() == labels
    assert centres.features["label"].iloc[-2:].isna().all()
    assert centres.features["area"].iloc[-2:].isna().all()


def test_a_shape_the_user_draws_into_the_lattice_has_no_edge_length(viewer, tmp_path):
    """The Lattice's triangles: a triangle drawn by hand got the longest edge of the
    triangle last selected, and Export wrote it as a measured triangle."""
    grid = np.stack(np.meshgrid(np.arange(5), np.arange(5), indexing="ij"),
                    -1).reshape(-1, 2) * 10.0 + 5
    points = viewer.add_points(grid, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = None
    widget()
    shapes = next(layer for layer in viewer.layers if layer._type_string == "shapes")
    n = len(shapes.data)
    shapes.selected_data = {0}
    shapes.add_polygons([np.array([[0.0, 0.0], [0.0, 3.0], [3.0, 0.0]])])
    assert len(shapes.features) == n + 1
    assert shapes.features.iloc[:n].notna().all().all()
    assert shapes.features.iloc[-1].isna().all()


def test_points_added_to_the_users_own_layer_keep_napari_s_defaults(viewer):
    """Only the widgets' outputs are blanked: a Points layer of the user's own keeps
    napari's behaviour (a new point takes the current class, as annotators expect)."""
    points = viewer.add_points(np.array([[1.0, 1.0]]), name="mine",
                               features={"kind": ["cell"]})
    points.add(np.array([[2.0, 2.0]]))
    assert points.features["kind"].tolist() == ["cell", "cell"]


# --- labels edited by hand are exported with a table of what they hold now


def test_labels_painted_by_hand_are_exported_with_their_objects_measured_again(viewer,
                                                                               tmp_path):
    """Painting in 'dna labels' (an object erased, a new one drawn) changed the TIFF but
    not the CSV beside it: the table listed the erased object with its old area and not
    the new one. Export measures the labels as they are now, on the image they came
    from, so the table and the TIFF hold the same objects."""
    import tifffile

    from napari_tessella.measure import measure_objects

    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    labels = viewer.layers["dna labels"]
    erased = int(labels.data[90, 40])
    labels.paint((80, 96), 0)  # the brush erases a little of another object
    labels.fill((90, 40), 0)  # the bucket erases that object
    labels.paint((10, 110), 9)  # a new object drawn with the brush
    written = widget.export(tmp_path)
    tiff = tifffile.imread(tmp_path / "dna_labels.tif")
    table = pd.read_csv(tmp_path / "dna_labels.csv")
    assert sorted(table["label"]) == sorted(set(np.unique(tiff)) - {0})
    assert erased not in set(table["label"]) and 9 in set(table["label"])
    expected = measure_objects(labels.data, image.data)
    assert np.allclose(table["area"], expected["area"])
    assert np.allclose(table["mean"], expected["mean"])
    assert "area_um2" in table and len(written) == 3
    assert "'dna labels' was edited: its table measured again" in widget._status.value


def test_labels_that_cannot_be_measured_again_are_exported_without_a_stale_table(
        viewer, tmp_path):
    """The image they came from deleted: the TIFF is written, the table measured before
    the edits is not (it would list objects that are gone), and the status says so."""
    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    labels = viewer.layers["dna labels"]
    labels.fill((90, 40), 0)
    viewer.layers.remove(image)
    written = widget.export(tmp_path)
    assert [p.name for p in written] == ["dna_labels.tif", "dna_centers.csv"]
    assert "'dna labels' was edited" in widget._status.value
    assert "not measured again" in widget._status.value


def test_labels_not_edited_are_exported_with_the_runs_table(viewer, tmp_path):
    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    table = viewer.layers["dna labels"].features
    widget.export(tmp_path)
    assert "measured again" not in widget._status.value
    assert pd.read_csv(tmp_path / "dna_labels.csv")["area"].tolist() == \
        table["area"].tolist()


def test_a_lattice_pixel_map_painted_keeps_its_cells_table(viewer, tmp_path):
    """The Lattice's pixel map is not a measured object table: painted, it is exported
    with its cells' table as before (the cells are the points', not the paint's)."""
    grid = np.stack(np.meshgrid(np.arange(4), np.arange(4), indexing="ij"),
                    -1).reshape(-1, 2) * 10.0 + 5
    points = viewer.add_points(grid, name="grid")
    image = viewer.add_image(np.zeros((40, 40)), name="bounds")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = image
    widget.pixel_map.value = True
    widget()
    pixel_map = next(layer for layer in viewer.layers if layer._type_string == "labels")
    pixel_map.paint((20, 20), 1)
    written = widget.export(tmp_path)
    assert f"{pixel_map.name.replace(' ', '_')}.csv" in [p.name for p in written]
    assert "edited" not in widget._status.value


@pytest.mark.parametrize("planes", ["all planes", "this plane"])
def test_labels_of_a_stack_painted_by_hand_are_measured_again_on_their_planes(
        viewer, tmp_path, planes):
    """'All planes' labels and the one-plane-deep labels of 'this plane': each plane is
    measured on the image's plane it lies on, and the table says which."""
    import tifffile

    from napari_tessella.measure import measure_objects

    stack = np.stack([discs(), np.roll(discs(), 8, axis=1), np.roll(discs(), 16, axis=1)])
    image = viewer.add_image(stack * np.array([1.0, 2.0, 3.0])[:, None, None], name="z")
    viewer.dims.set_point(0, 2)
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget._planes.value = planes
    widget()
    labels = viewer.layers["z labels"]
    on = labels.data[-1]  # the last plane of the labels: plane 2 of the image either way
    gone = int(on[90, 56])
    labels.fill((labels.data.shape[0] - 1, 90, 56), 0)
    written = widget.export(tmp_path)
    assert "'z labels' was edited: its table measured again" in widget._status.value
    tiff = tifffile.imread(tmp_path / "z_labels.tif")
    table = pd.read_csv(tmp_path / "z_labels.csv")
    assert sorted(table["label"]) == sorted(set(np.unique(tiff)) - {0})
    assert gone not in set(table["label"])
    last = table[table["plane"] == 2]
    expected = measure_objects(labels.data[-1], image.data[2])
    assert np.allclose(last["mean"], expected["mean"]) and len(last) == 3
    assert len(written) == 3
