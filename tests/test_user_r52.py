"""Round 52: Threshold & label, Find atoms and the Lattice used as a microscopist uses them
in the viewer. Each test fails on the code before its fix (said in its docstring)."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import threshold_widget

from napari_tessella import find_atoms, threshold_label
from napari_tessella.synthetic import synthetic_lattice


def _finite_table(layer) -> bool:
    return bool(np.isfinite(layer.features.select_dtypes("number").to_numpy()).all())


# --- NaN or infinite pixels: read as outside the sample, as the Seeded watershed reads them


def test_threshold_label_segments_a_nan_padded_mosaic_as_if_cropped(make_napari_viewer,
                                                                     field):
    """A field padded with NaN (a stitched mosaic) was refused by Threshold & label ("image
    contains 30000 NaN or infinite pixel(s): … must be given a value before segmenting"),
    at the choice of the image and at Run. Its labels are now those of the field cropped
    out, in place; the statistics are finite; the status says how many pixels were NaN;
    the layer keeps its NaN."""
    padded = np.full((260, 300), np.nan)
    padded[20:220, 35:275] = field
    viewer = make_napari_viewer()
    layer = viewer.add_image(padded, name="mosaic")
    before = layer.data.copy()
    widget = threshold_widget(viewer, layer, opening=2, min_size=20)
    assert widget() is not None, widget._status.value
    expected = threshold_label(field, "otsu", opening=2, min_size=20)
    labels = viewer.layers["mosaic labels"]
    assert labels.data.shape == padded.shape
    np.testing.assert_array_equal(labels.data[20:220, 35:275], expected)
    assert not labels.data[np.isnan(padded)].any()
    assert _finite_table(labels) and _finite_table(viewer.layers["mosaic centers"])
    status = widget._status.value
    assert status.startswith(f"{expected.max()} objects in 'mosaic'")
    assert "30000 pixels (38 % of the image) are NaN or infinite" in status.replace(",", "")
    assert "outside the image" in status
    assert "⚠" not in status
    np.testing.assert_array_equal(layer.data, before)


def test_the_method_and_its_slider_read_only_the_finite_pixels(make_napari_viewer, field):
    """The slider took the method's value when the image was chosen: with NaN pixels it
    showed "⚠ image contains … NaN" instead. It now shows Otsu's threshold of the finite
    part, and the live preview draws its labels."""
    padded = np.full((240, 260), np.nan)
    padded[20:220, 10:250] = field
    viewer = make_napari_viewer()
    widget = threshold_widget(viewer, viewer.add_image(padded, name="tiles"))
    widget.opening.value = 1  # a user's change: the preview starts
    from napari_tessella.threshold import smoothed_threshold

    assert widget.value.value == pytest.approx(smoothed_threshold(field, "otsu"), abs=2e-3)
    assert "tiles labels" in [layer.name for layer in viewer.layers], widget._status.value
    assert "NaN or infinite" in widget._status.value and "⚠" not in widget._status.value


@pytest.mark.parametrize("dark", [False, True])
def test_no_object_on_nan_or_infinite_pixels_at_any_threshold(make_napari_viewer, field,
                                                              dark):
    """Dead pixels (NaN, +inf, -inf) inside the field, and a manual threshold below every
    finite value (bright objects) or above it (dark ones): every finite pixel is then an
    object, and the non-finite ones must still be none (were the core given them at a
    dark level they would be, and would join objects across them)."""
    image = field.copy()
    bad = np.zeros(image.shape, bool)
    bad[100, :] = True  # a line of NaN across the field: two objects, not one
    bad[50, 60] = bad[10, 200] = True
    image[bad] = np.nan
    image[10, 200] = -np.inf if dark else np.inf
    viewer = make_napari_viewer()
    widget = threshold_widget(viewer, viewer.add_image(image, name="dead"), dark_objects=dark,
                        live_preview=False)
    widget.method.value = "manual"
    widget.value.value = widget.value.max if dark else widget.value.min
    assert widget() is not None, widget._status.value
    labels = viewer.layers["dead labels"].data
    assert not labels[bad].any()
    assert labels.max() == 2  # above and below the NaN line
    good = ~bad
    assert (labels[:100][good[:100]] == 1).mean() > 0.999  # (the slider's end, rounded)
    assert (labels[101:][good[101:]] == 2).mean() > 0.999
    assert "242 pixels" in widget._status.value


def test_drop_objects_touching_the_border_drops_those_cut_by_nan(make_napari_viewer,
                                                                field):
    """With 'drop objects touching the border', an object cut by a NaN hole (the edge of
    a tile) is dropped as one cut by the image's edge is; those away from it are kept,
    unchanged: Otsu's threshold is of the finite pixels (the 6400 pixels of the hole,
    given a dark level, had moved it and changed every object's outline)."""
    image = field.copy()
    image[60:140, 80:160] = np.nan
    viewer = make_napari_viewer()
    widget = threshold_widget(viewer, viewer.add_image(image, name="holed"), exclude_border=True,
                        opening=2, min_size=20, live_preview=False)
    assert widget() is not None, widget._status.value
    labels = viewer.layers["holed labels"].data
    near = np.zeros(image.shape, bool)
    near[59:141, 79:161] = True
    assert labels.max() > 0 and not labels[near].any()
    from skimage.filters import threshold_otsu

    hole = np.isnan(image)
    otsu = threshold_otsu(field[~hole])  # of the finite pixels
    whole = threshold_label(field, otsu, opening=2, min_size=20, exclude_border=True)
    far = np.unique(whole[:, :40])  # objects far from the hole: kept, unchanged
    for i in far[far > 0]:
        assert len(np.unique(labels[whole == i])) == 1 and labels[whole == i][0] > 0
    assert np.array_equal(np.unique(labels), np.arange(labels.max() + 1))  # 1..n


def test_no_objects_on_a_nan_image_gives_the_finite_range(make_napari_viewer, field):
    """Filters that remove every object of a NaN-padded image: the message says how many
    pass the threshold, in words (before: the image was refused)."""
    padded = np.full((220, 260), np.nan)
    padded[10:210, 10:250] = field
    viewer = make_napari_viewer()
    widget = threshold_widget(viewer, viewer.add_image(padded, name="mosaic"), min_size=1e6,
                        live_preview=False)
    assert widget() is not None, widget._status.value
    status = widget._status.value
    assert status.startswith("0 objects in 'mosaic':") and "min size" in status
    assert ".;" not in status and "nan" not in status.replace("NaN", "")


@pytest.mark.parametrize("which", ["threshold", "atoms"])
def test_an_all_nan_image_is_refused_in_one_line_naming_it(make_napari_viewer, which):
    """No finite pixel: one line naming the layer, no output layer."""
    from napari_tessella._widgets import FindAtomsWidget

    viewer = make_napari_viewer()
    layer = viewer.add_image(np.full((64, 64), np.nan), name="void")
    if which == "threshold":
        widget = threshold_widget(viewer, layer, live_preview=False)
    else:
        widget = FindAtomsWidget(viewer)
        widget.image.value = layer
    assert widget() is None
    assert widget._status.value == ("⚠ 'void' has no finite pixel: every one is NaN or "
                                    "infinite, so there is nothing to segment.")
    assert [layer.name for layer in viewer.layers] == ["void"]


def test_find_atoms_on_a_nan_padded_image(make_napari_viewer):
    """Find atoms refused a NaN-padded STEM image too. Its columns are now those of the
    image cropped out, moved by the padding; no column, and no channel, on a NaN pixel
    (a hole inside too); the features are finite; the status says how many were NaN."""
    lat = synthetic_lattice((128, 128), spacing=8, seed=2).image.astype(np.float64)
    padded = np.full((160, 170), np.nan)
    padded[10:138, 30:158] = lat
    viewer = make_napari_viewer()
    from napari_tessella._widgets import FindAtomsWidget

    widget = FindAtomsWidget(viewer)
    widget.image.value = viewer.add_image(padded, name="stem")
    assert widget() is not None, widget._status.value
    columns = viewer.layers["stem columns"]
    expected = find_atoms(lat, refine="gaussian").positions
    np.testing.assert_allclose(columns.data, expected + np.array([10, 30]))
    np.testing.assert_allclose(columns.features[["row", "col"]].to_numpy(), columns.data)
    assert _finite_table(columns)
    assert "NaN or infinite" in widget._status.value
    padded[60:70, 60:75] = np.nan
    viewer.layers["stem"].data = padded
    widget.model.value = True
    assert widget() is not None, widget._status.value
    for kind in ("columns", "chambers"):
        pixel = np.round(viewer.layers[f"stem {kind}"].data).astype(int)
        assert not np.isnan(padded[pixel[:, 0], pixel[:, 1]]).any()
        assert _finite_table(viewer.layers[f"stem {kind}"])


@pytest.mark.parametrize("which", ["threshold", "watershed"])
def test_a_stacks_other_plane_with_nan_pixels_is_said(make_napari_viewer, field, which):
    """'all planes' of a series whose plane 1 has a NaN gap: the status spoke of plane 0
    only, so the gap (no objects there) went unsaid. It is said after plane 0's count, in
    the words a single plane uses."""
    from napari_tessella._widgets import SeededWatershedWidget, ThresholdLabelWidget

    gap = field.copy()
    gap[:, :20] = np.nan
    viewer = make_napari_viewer()
    layer = viewer.add_image(np.stack([field, gap]), name="series")
    widget = (ThresholdLabelWidget if which == "threshold" else SeededWatershedWidget)(viewer)
    if which == "threshold":
        widget.live_preview.value = False
    widget.image.value = layer
    widget._planes.value = "all planes"
    assert widget() is not None, widget._status.value
    status = widget._status.value
    assert status.startswith("all 2 planes of 'series'; plane 0: ")
    assert status.endswith("; plane 1: 4000 pixels (8.3 % of the image) are NaN or "
                           "infinite: read as outside the image (no object there)")


# --- the Lattice of a Labels layer whose ids are not 1..n


@pytest.mark.parametrize("geometry", ["shapes", "vectors"])
def test_the_cells_of_a_labels_input_name_their_objects(make_napari_viewer, geometry):
    """A Labels layer whose ids are not 1..n (objects deleted, or ids of another tool):
    the Voronoi cells' table had no id, so a row (and the CSV made of it) named no
    object, and the pixel map, which holds the objects' own ids, had no features to
    show on hover. The cells now carry their object's ``label``, and the map its
    features under the objects' ids."""
    from _widget_helpers import grid

    from napari_tessella._widgets import LatticeWidget

    points = grid(6, 10.0, 5.0)
    labels = np.zeros((64, 64), np.int32)
    ids = 1000 + 7 * np.arange(len(points))[::-1]  # not 1..n, nor in the points' order
    for i, (r, c) in zip(ids, points.astype(int), strict=True):
        labels[r - 2:r + 2, c - 2:c + 2] = i
    viewer = make_napari_viewer()
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.add_labels(labels, name="objects")
    widget.pixel_map.value = True
    widget.geometry.value = next(g for g in widget.geometry.choices if geometry in g)
    assert widget() is not None, widget._status.value
    cells = viewer.layers["objects Voronoi"].features
    order = np.argsort(ids)
    # each cell's label is the id of the object at its centre
    for row in cells.itertuples():
        cell = getattr(row, "cell", row.Index)
        r, c = points[order][cell].astype(int)
        assert row.label == labels[r, c]
    assert set(cells["label"]) == set(ids)
    mapped = viewer.layers["objects Voronoi map"]
    assert list(mapped.features["index"]) == [0, *sorted(ids)]
    assert mapped.features["area"].iloc[1:].notna().all()


# --- painting on an output, undone


def test_painting_undone_leaves_the_labels_the_widgets_own(make_napari_viewer):
    """The user paints on "d labels" and undoes every stroke: the layer is as the run
    wrote it, yet a re-run said "'d labels' was edited by hand: kept as it is" and wrote
    "d labels [1]" beside it (a copy the user never made). It is updated in place now;
    a stroke left standing still keeps the layer the user's (nothing of theirs lost)."""
    from _widget_helpers import discs

    viewer = make_napari_viewer()
    widget = threshold_widget(viewer, viewer.add_image(discs(), name="d"), live_preview=False)
    assert widget() is not None
    own = viewer.layers["d labels"]
    own.paint((110, 20), 7)
    own.paint((100, 100), 9)
    own.undo()
    own.undo()
    assert widget() is not None
    assert [layer.name for layer in viewer.layers] == ["d", "d labels", "d centers"]
    assert "edited by hand" not in widget._status.value
    assert viewer.layers["d labels"] is own
    own.paint((110, 20), 7)
    own.paint((100, 100), 9)
    own.undo()  # one stroke kept: the user's layer, left as it is
    painted = own.data.copy()
    assert widget() is not None
    assert "'d labels' was edited by hand" in widget._status.value
    np.testing.assert_array_equal(own.data, painted)
    assert "d labels [1]" in [layer.name for layer in viewer.layers]
