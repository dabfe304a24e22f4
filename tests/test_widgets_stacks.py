"""The widgets on stacks (nD images, points and labels): a 'this plane' result drawn on
its plane only, one plane's results chained into the other widgets and exported, 'all
planes' kept, the plane shown read as napari shows it (3-D view, rolled or transposed axes,
a stack in another unit) and a rotated stack's outputs on their plane of the image. Each
test fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _widget_helpers import discs, grid, nucleus_ids

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_nuclei

# --- 'this plane' on a stack: drawn on that plane only


def test_this_plane_results_are_drawn_on_their_plane_only(viewer):
    """Threshold & label on plane 1 of a 3-plane stack: the labels and centres were 2-D,
    drawn over planes 0 and 2 as well. They stand on plane 1 (one plane deep, moved there),
    a re-run on plane 2 moves the same layers, 'all planes' fills the same layers."""
    planes = np.stack([discs(), np.roll(discs(), 8, axis=1), np.roll(discs(), 16, axis=1)])
    image = viewer.add_image(planes, name="s", scale=(3.0, 0.5, 0.5))
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.method.value = "otsu"
    viewer.dims.set_point(0, 3.0)  # plane 1
    assert widget() is not None
    labels, centres = viewer.layers["s labels"], viewer.layers["s centers"]
    assert labels.data.shape == (1, 128, 128) and labels.translate[0] == 3.0
    assert labels.scale[0] == 3.0 and labels.scale[1] == 0.5
    # the centres hold their plane, as the stack's own points do (Export's axis0)
    assert centres.data.shape[1] == 3 and set(centres.data[:, 0]) == {1.0}
    assert centres.translate[0] == 0.0 and centres.scale[0] == 3.0
    assert "(plane 1)" in widget._status.value
    np.testing.assert_array_equal(labels.data[0] > 0, planes[1] > 0.5)
    viewer.dims.set_point(0, 6.0)  # plane 2, run again: the same layers, moved
    assert widget() is not None
    assert viewer.layers["s labels"] is labels and labels.translate[0] == 6.0
    np.testing.assert_array_equal(labels.data[0] > 0, planes[2] > 0.5)
    widget._planes.value = "all planes"
    assert widget() is not None
    assert viewer.layers["s labels"] is labels and labels.data.shape == (3, 128, 128)
    assert labels.translate[0] == 0.0
    assert len([ly for ly in viewer.layers if ly.name.startswith("s ")]) == 2
    np.testing.assert_array_equal(image.data, planes)  # the input untouched


def test_a_preview_on_a_stack_is_drawn_on_the_plane_shown(viewer):
    """The live preview of plane 2 stood on every plane, as Run's result did."""
    planes = np.stack([discs(), discs(), np.roll(discs(), 8, axis=0)])
    image = viewer.add_image(planes, name="s")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    viewer.dims.set_point(0, 2)
    widget.value.value = 0.5  # the user drags the slider: a preview
    labels = viewer.layers["s labels"]
    assert labels.ndim == 3 and labels.translate[0] == 2.0
    assert "plane 2" in widget._status.value


def test_a_large_planes_this_plane_result_says_it_is_shown_on_every_plane(viewer,
                                                                           monkeypatch,
                                                                           tmp_path):
    """A stack of large (chunked) planes: its labels are Zarr levels, kept 2-D (a layer
    one plane deep would copy them), and the status line says so."""
    da = pytest.importorskip("dask.array")
    from napari_tessella import _lazy
    from napari_tessella._widgets import _base

    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)
    monkeypatch.setattr(_base, "RESULTS_DIR", tmp_path)
    stack = da.from_array(np.stack([discs((160, 160))] * 2), chunks=(1, 80, 80))
    image = viewer.add_image(stack, name="big")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.method.value = "otsu"
    viewer.dims.set_point(0, 1)
    assert widget() is not None, widget._status.value
    assert viewer.layers["big labels"].ndim == 2
    assert "(plane 1, shown on every plane)" in widget._status.value


@pytest.mark.parametrize("geometry", ["auto", "vectors (fast)", "mesh"])
def test_the_lattice_of_one_plane_is_drawn_on_that_plane(viewer, monkeypatch, geometry):
    """Points of a time series (3 planes, 2 s apart), the Lattice run on plane 1: its
    outputs were 2-D layers drawn over every plane, plane 1's lattice over planes 0 and 2
    as the user stepped through them. They lie on plane 1 now, placed with the stack's
    leading axis as its points are (Shapes, Vectors, the mesh and the pixel map)."""
    from napari_tessella._widgets import _lattice_draw as lattice_widget

    if geometry == "mesh":
        monkeypatch.setattr(lattice_widget, "MESH_LIMIT", 10)
        geometry = "auto"
    viewer.add_image(np.zeros((3, 48, 48)), name="movie", scale=(2.0, 0.5, 0.5),
                     units=("s", "µm", "µm"))
    pts = grid()
    points = viewer.add_points(
        np.vstack([np.c_[np.full(len(pts), k), pts + k] for k in range(3)]), name="cols",
        scale=(2.0, 0.5, 0.5), units=("s", "µm", "µm"))
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = viewer.layers["movie"]
    widget.pixel_map.value = True
    widget.geometry.value = geometry
    viewer.dims.set_point(0, 2.0)  # plane 1
    assert widget() is not None
    assert "(plane 1 of 'cols'), drawn on that plane only" in widget._status.value
    made = [viewer.layers[f"cols {what}"] for what in ("Delaunay", "Voronoi", "Voronoi map")]
    for layer in made:
        assert layer.ndim == 3, layer.name
        assert tuple(layer.scale) == (2.0, 0.5, 0.5)
        assert str(layer.units[0]) == "second"
    # the pixel map one plane deep, moved there; the others hold the plane as the points
    assert made[2].translate[0] == 2.0 and made[2].data.shape[0] == 1
    # the bonds lie where plane 1's points are: the plane's world positions match
    first = made[0].data[0] if made[0]._type_string != "surface" else made[0].data[0][:3]
    corner = np.asarray(first) if made[0]._type_string == "shapes" else None
    if corner is not None:
        on = made[0].data_to_world(corner[0])
        assert on[0] == 2.0 and any(np.allclose(on[1:], points.data_to_world(p)[1:])
                                    for p in points.data[36:72])
    def drawn_on(layers, on):
        for plane in range(3):
            viewer.dims.set_point(0, 2.0 * plane)
            for layer in layers:
                layer.refresh()
                if layer._type_string == "labels":
                    drawn = not layer._slice.empty
                elif layer._type_string == "shapes":
                    drawn = bool(np.any(layer._data_view._displayed))
                elif layer._type_string == "surface":
                    drawn = layer._view_faces is not None and len(layer._view_faces) > 0
                else:
                    drawn = len(layer._view_indices) > 0
                assert drawn == (plane == on), (layer.name, plane)

    drawn_on(made, 1)
    # another plane: the same outputs (Shapes are made anew), moved there
    viewer.dims.set_point(0, 4.0)
    assert widget() is not None and "(plane 2 of 'cols')" in widget._status.value
    assert len(viewer.layers) == 5
    assert viewer.layers["cols Voronoi map"].translate[0] == 4.0
    drawn_on([viewer.layers[f"cols {w}"] for w in ("Delaunay", "Voronoi", "Voronoi map")], 2)


def test_a_nudge_after_all_planes_keeps_the_stack(viewer):
    """'all planes' run on a 3-plane stack, then the slider nudged: the live preview (one
    plane) replaced the (3, 512, 512) labels with a (512, 512) plane, the run's work lost."""
    nuclei = synthetic_nuclei(seed=1).image
    image = viewer.add_image(np.stack([nuclei] * 3), name="s")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget._planes.value = "all planes"
    assert widget() is not None
    labels = viewer.layers["s labels"]
    stack = labels.data.copy()
    assert stack.shape == (3, 512, 512)
    widget.value.value = 0.6
    assert viewer.layers["s labels"] is labels and np.array_equal(labels.data, stack)
    assert "off while 'all planes'" in widget._status.value
    widget._planes.value = "this plane"  # one plane is what the user asks for now
    widget.value.value = 0.55
    # on its plane only, beside the stack, which is kept (round 50: it was replaced)
    assert viewer.layers["s labels [1]"].data.shape == (1, 512, 512)
    assert viewer.layers["s labels"] is labels and np.array_equal(labels.data, stack)


# --- one plane's results chained into the other widgets, and exported


def test_this_plane_results_chain_into_the_lattice_and_the_watershed(viewer):
    """Centres found on plane 1 (a 1-plane-deep layer standing on plane 1) feed the
    Lattice (drawn on plane 1 too) and the watershed as seeds, with the slider there."""
    planes = np.stack([np.zeros((128, 128)), discs(), np.zeros((128, 128))])
    image = viewer.add_image(planes, name="s")
    threshold = ThresholdLabelWidget(viewer)
    threshold.image.value = image
    threshold.method.value = "otsu"
    viewer.dims.set_point(0, 1)
    assert threshold() is not None
    lattice = LatticeWidget(viewer)
    lattice.points.value = viewer.layers["s centers"]
    lattice.image.value = image
    assert lattice() is not None, lattice._status.value
    triangles = next(ly for ly in viewer.layers if ly.name.startswith("s centers ")
                     and ly._type_string in ("shapes", "vectors"))
    first = np.asarray(triangles.data[0])
    assert triangles.data_to_world(first[0] if first.ndim == 2 else first)[0] == 1.0
    assert "(plane 1 of 's centers')" in lattice._status.value
    watershed = SeededWatershedWidget(viewer)
    watershed.image.value = image
    watershed.seeds.value = viewer.layers["s centers"]
    watershed.object_diameter.value = 22
    assert watershed() is not None, watershed._status.value
    nuclei = viewer.layers["s nuclei"]
    assert nuclei.translate[0] == 1.0
    assert len(set(nucleus_ids(nuclei.data[0])) - {0}) == 4


def test_labels_of_one_plane_seed_that_plane_only(viewer):
    """Threshold & label's labels of plane 1 (one plane deep) as the watershed's seeds:
    on plane 1 they seed its nuclei; with the slider on plane 2 they were read as plane
    2's seeds (the nearest plane they have), now the run says they are not there."""
    image = viewer.add_image(np.stack([discs()] * 3), name="s")
    threshold = ThresholdLabelWidget(viewer)
    threshold.image.value = image
    threshold.method.value = "otsu"
    viewer.dims.set_point(0, 1)
    assert threshold() is not None
    watershed = SeededWatershedWidget(viewer)
    watershed.image.value = image
    watershed.seeds.value = viewer.layers["s labels"]
    watershed.object_diameter.value = 22
    assert watershed() is not None, watershed._status.value
    assert len(set(nucleus_ids(viewer.layers["s nuclei"].data[0])) - {0}) == 4
    viewer.dims.set_point(0, 2)
    assert watershed() is None
    assert "'s labels' has no plane where plane 2 of 's' lies" in watershed._status.value


def test_the_lattice_of_one_plane_labels_names_the_stacks_plane(viewer):
    """Labels Threshold & label drew on plane 2 (one plane deep): the Lattice said
    "(plane 0 of 's labels')", their own plane, with the slider on plane 2."""
    image = viewer.add_image(np.stack([discs()] * 3), name="s")
    threshold = ThresholdLabelWidget(viewer)
    threshold.image.value = image
    threshold.method.value = "otsu"
    viewer.dims.set_point(0, 2)
    assert threshold() is not None
    lattice = LatticeWidget(viewer)
    lattice.points.value = viewer.layers["s labels"]
    assert lattice() is not None, lattice._status.value
    assert "(plane 0 of 's labels' = plane 2 of 's')" in lattice._status.value


def test_a_this_plane_export_says_the_plane(viewer, tmp_path):
    """Centres of plane 2 exported: 'axis0' is 2, the plane they were found on."""
    image = viewer.add_image(np.stack([discs()] * 3), name="s")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.method.value = "otsu"
    viewer.dims.set_point(0, 2)
    assert widget() is not None
    widget.export(tmp_path)
    table = pd.read_csv(tmp_path / "s_centers.csv")
    assert len(table) == 4 and set(table["axis0"]) == {2}


def test_all_planes_of_a_4d_stack_export(viewer, tmp_path):
    """'all planes' of a (T, Z, Y, X) stack: its centres' features hold axis0 and axis1,
    and Export failed with "cannot insert axis0, already exists"."""
    image = viewer.add_image(np.stack([np.stack([discs()] * 2)] * 2), name="tz")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.method.value = "otsu"
    widget._planes.value = "all planes"
    assert widget() is not None
    written = widget.export(tmp_path)
    assert written, widget._status.value
    table = pd.read_csv(tmp_path / "tz_centers.csv")
    assert len(table) == 16
    assert table.groupby(["axis0", "axis1"]).size().tolist() == [4, 4, 4, 4]


# --- the plane shown: a 3-D view, rolled or transposed axes, a stack in another unit


def stack_of_discs():
    return np.stack([discs(), np.roll(discs(), 8, axis=1), np.roll(discs(), 16, axis=1)])


@pytest.mark.parametrize("view", ["3d", "rolled"])
@pytest.mark.parametrize("kind", ["threshold", "watershed", "atoms"])
def test_this_plane_in_a_3d_or_rolled_view_is_refused_naming_the_view(viewer, view,
                                                                       kind):
    """In the 3-D view (the slider hidden) or with the axes rolled (the canvas showing
    Z × X), 'this plane' ran on the row × column plane at a slider nobody saw, and
    said "(plane 1)" with its labels drawn one plane deep across the view."""
    image = viewer.add_image(stack_of_discs(), name="z")
    viewer.dims.set_point(0, 1)
    if view == "3d":
        viewer.dims.ndisplay = 3
    else:
        viewer.dims.order = (1, 0, 2)
    widget = {"threshold": ThresholdLabelWidget, "watershed": SeededWatershedWidget,
              "atoms": FindAtomsWidget}[kind](viewer)
    widget.image.value = image
    assert widget() is None
    status = widget._status.value
    assert ("in 3-D" if view == "3d" else "its axes 0 and 2") in status, status
    assert status.endswith("on the plane to use. Or choose 'all planes'."), status
    assert [layer.name for layer in viewer.layers] == ["z"]
    widget._planes.value = "all planes"
    if kind != "atoms":
        assert widget() is not None, widget._status.value


def test_the_lattice_of_a_points_stack_in_3d_is_refused_saying_why(viewer):
    pts = np.array([[p, r, c] for p in range(2) for r in (10, 30, 50) for c in (10, 40)],
                   dtype=float)
    points = viewer.add_points(pts, name="cols")
    viewer.dims.ndisplay = 3
    widget = LatticeWidget(viewer)
    widget.points.value = points
    assert widget() is None
    assert "'cols' in 3-D" in widget._status.value
    viewer.dims.ndisplay = 2
    assert widget() is not None, widget._status.value


def test_a_transposed_plane_is_still_the_plane_shown(viewer):
    """The transpose button swaps the plane's two axes: the same plane, run as before."""
    image = viewer.add_image(stack_of_discs(), name="z")
    viewer.dims.set_point(0, 2)
    viewer.dims.order = (0, 2, 1)
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    assert widget() is not None, widget._status.value
    assert "plane 2" in widget._status.value


def test_the_plane_shown_of_a_stack_in_another_unit_is_the_one_read(viewer):
    """napari converts the slider's world position (in the viewer's units, here nm) into
    each layer's units when it draws it; the widgets read the plane through the layer's
    own transform only, so the stack in µm was read at its last plane (2000 taken as µm)
    while plane 2 was shown."""
    from napari_tessella._widgets._layers import _current_plane

    planes = np.arange(5, dtype=float)[:, None, None] * np.ones((5, 32, 32))
    um = viewer.add_image(planes, name="um", units=("um",) * 3)
    nm = viewer.add_image(planes, name="nm", units=("nm",) * 3, scale=(1000.0,) * 3)
    viewer.dims.set_point(0, 2000.0)  # nm
    for layer in (um, nm):  # the plane napari draws (each plane holds its index)
        assert np.unique(layer._slice.image.raw).tolist() == [2.0], layer.name
        assert _current_plane(layer, viewer) == (2,), layer.name


# --- outputs of a rotated stack, Run's and the preview's: on the image, on their plane


def rotated_stack(viewer):
    """A 3-plane stack turned by 30° in its plane (and scaled): the discs of plane 1 are
    shifted by 8 columns, so a wrong plane shows."""
    planes = np.stack([discs(), np.roll(discs(), 8, axis=1), discs()])
    cos, sin = np.cos(np.radians(30)), np.sin(np.radians(30))
    turn = np.array([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]])
    return planes, viewer.add_image(planes, name="s", rotate=turn, scale=(2.0, 0.5, 0.5),
                                    translate=(1.0, 3.0, -4.0))


def assert_on_the_image(labels, image, plane: int, planes, data_plane: int = 0):
    """Every object pixel of the labels lies, in world, on an object pixel of ``plane``."""
    rows, cols = np.nonzero(labels.data[data_plane])
    assert len(rows)
    pixels = np.c_[np.full(len(rows), data_plane), rows, cols]
    world = np.asarray(labels._data_to_world(pixels))
    back = np.rint(np.asarray(image._data_to_world.inverse(world))).astype(int)
    assert (back[:, 0] == plane).all()
    assert (planes[plane][back[:, 1], back[:, 2]] > 0.5).all()


def test_a_preview_on_a_rotated_stack_lies_on_its_plane_of_the_image(viewer):
    """The preview (and Run's 'this plane') of a rotated stack drew its labels unrotated,
    beside the objects: they take the stack's transform, one plane deep on their plane."""
    planes, image = rotated_stack(viewer)
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    viewer.dims.set_point(0, 3.0)  # plane 1
    widget.value.value = 0.5  # the user drags the slider: a preview
    labels = viewer.layers["s labels"]
    assert labels.data.shape == (1, 128, 128)
    assert "preview" in widget._status.value and "(plane 1)" in widget._status.value
    assert_on_the_image(labels, image, 1, planes)
    centres = viewer.layers["s centers"]
    world = np.asarray(centres._data_to_world(centres.data))
    back = np.asarray(image._data_to_world.inverse(world))
    np.testing.assert_allclose(back[:, 0], 1.0, atol=1e-9)
    widget.method.value = "otsu"
    assert widget() is not None  # Run: the same place
    assert_on_the_image(viewer.layers["s labels"], image, 1, planes)
    widget._planes.value = "all planes"
    assert widget() is not None
    for plane in range(3):
        assert_on_the_image(viewer.layers["s labels"], image, plane, planes, plane)
