"""Issue 12 in a real viewer: outputs belong to their input, choices stay, tables on the
Labels layers, readable lattice, compact widgets, Cancel, units and words."""

from __future__ import annotations

import numpy as np

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)

SCALE = (0.05, 0.05)


def names(viewer):
    return [layer.name for layer in viewer.layers]


def threshold(viewer, image, value=0.62):
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.image.value = image
    widget.opening.value = 2
    widget.value.value = value
    return widget


def test_a_second_image_gets_its_own_layers(stem_image, viewer):
    a = viewer.add_image(stem_image, name="A", scale=SCALE, units="nm")
    b = viewer.add_image(stem_image[::-1].copy(), name="B", scale=SCALE, units="nm")
    widget = threshold(viewer, a)
    widget()
    a_labels, a_centres = viewer.layers["A labels"], viewer.layers["A centers"]
    a_data = a_labels.data.copy()
    widget.image.value = b
    widget()
    assert names(viewer) == ["A", "B", "A labels", "A centers", "B labels", "B centers"]
    assert viewer.layers["A labels"] is a_labels and viewer.layers["A centers"] is a_centres
    np.testing.assert_array_equal(a_labels.data, a_data)  # never overwritten
    widget.opening.value = 0
    widget()  # B again: B's own layers, in place
    assert len(viewer.layers) == 6
    assert viewer.layers["B labels"].data.max() == 1568
    np.testing.assert_array_equal(a_labels.data, a_data)


def test_renamed_or_edited_outputs_are_left_alone(stem_image, viewer):
    a = viewer.add_image(stem_image, name="A")
    widget = threshold(viewer, a)
    widget()
    labels = viewer.layers["A labels"]
    labels.name = "my atoms"
    widget()
    assert viewer.layers["my atoms"] is labels
    assert viewer.layers["A labels"] is not labels
    fresh = viewer.layers["A labels"]
    fresh.paint((10, 10), 5)  # the user paints in it
    painted = fresh.data.copy()
    widget()
    assert viewer.layers["A labels"] is fresh  # left as the user made it
    np.testing.assert_array_equal(fresh.data, painted)
    assert len([n for n in names(viewer) if n.startswith("A labels")]) == 2


def test_input_choice_stays_and_planes_are_not_merged(viewer):
    grid = np.stack(np.meshgrid(np.arange(6) * 10.0, np.arange(6) * 10.0, indexing="ij"),
                    -1).reshape(-1, 2)
    mine = viewer.add_points(grid, name="mine")
    widget = LatticeWidget(viewer)
    assert widget.points.value is mine
    widget()  # what it ran on is the user's choice from now on
    viewer.add_points(grid + 3, name="someone else's")
    assert widget.points.value is mine  # adding a layer never changes the choice
    viewer.layers.remove("someone else's")
    assert widget.points.value is mine
    # a 3-D Points layer: only the shown plane's points
    stack = np.concatenate([np.c_[np.zeros(len(grid)), grid],
                            np.c_[np.ones(10), grid[:10] + 1]])
    pts3 = viewer.add_points(stack, name="stack")
    widget.points.value = pts3
    viewer.dims.set_point(0, 0)
    widget()
    assert widget._status.value.startswith(f"{len(grid)} points")


def test_watershed_per_image_with_tables(u2os_pair, viewer, tmp_path):
    from napari_tessella.synthetic import synthetic_nuclei

    image, _ = u2os_pair
    a = viewer.add_image(image, name="U2OS", scale=(0.5, 0.5), units="µm")
    b = viewer.add_image(synthetic_nuclei(seed=1).image, name="syn")
    widget = SeededWatershedWidget(viewer)
    assert widget.object_diameter.label == "object diameter (µm)"
    widget.image.value = a
    widget()
    seeds_a = viewer.layers["U2OS seeds"]
    nuclei = viewer.layers["U2OS nuclei"]
    n = int(nuclei.data.max())
    table = nuclei.features
    assert len(table) == n and list(table["index"]) == list(range(1, n + 1))
    np.testing.assert_allclose(table["area_um2"], table["area"] * 0.25)
    np.testing.assert_allclose(table["com_row_um"], table["com_row"] * 0.5)
    # B with A's seeds: refused, with the fields named as the user sees them
    widget.image.value = b
    widget.seeds.value = seeds_a
    assert widget() is None
    assert "outside the image 'syn'" in widget._status.value
    assert "seeds (optional)" in widget._status.value
    widget.seeds.value = None
    widget()
    assert {"U2OS nuclei", "U2OS territories", "U2OS seeds", "syn nuclei",
            "syn territories", "syn seeds"} <= set(names(viewer))
    assert viewer.layers["U2OS nuclei"] is nuclei and viewer.layers["U2OS seeds"] is seeds_a
    files = {f.name for f in widget.export(tmp_path)}
    assert {"U2OS_nuclei.tif", "U2OS_nuclei.csv", "syn_nuclei.csv", "U2OS_seeds.csv"} <= files


def test_labels_features_units_and_live_preview(stem_image, viewer):
    a = viewer.add_image(stem_image, name="A", scale=SCALE, units="nm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = a
    assert widget.smooth_sigma.label == "smooth σ (nm)"
    assert widget.min_size.label == "min size (nm²)"
    widget.opening.value = 2
    widget.value.value = 0.62  # the live preview: labels and centres agree
    labels, centres = viewer.layers["A labels"], viewer.layers["A centers"]
    assert labels.data.max() == len(centres.data) == 1376
    table = labels.features
    assert list(table["index"][:3]) == [1, 2, 3]
    np.testing.assert_allclose(table["com_col_nm"], table["com_col"] * SCALE[1])
    np.testing.assert_allclose(table["area_nm2"], table["area"] * SCALE[0] * SCALE[1])
    assert list(centres.features.columns) == list(table.columns.drop("index"))
    widget.min_size.value = 0.05  # nm² = 20 px of 0.05 × 0.05 nm
    assert widget.parameters()["min_size"] == 20
    for w in (widget, LatticeWidget(viewer), FindAtomsWidget(viewer),
              SeededWatershedWidget(viewer)):
        fields = [*w._body, *w._advanced]
        untipped = [f.label for f in fields if hasattr(f, "tooltip") and not f.tooltip
                    and f not in (w._status, w._progress) and f.widget_type != "Container"
                    and not f.label.startswith(("edge length", "cell area"))]
        assert not untipped, f"{w.label}: no tooltip on {untipped}"


def test_find_atoms_words_and_units(viewer):
    layer = viewer.add_image(np.zeros((40, 40)) + np.random.default_rng(0).random((40, 40)),
                             name="noise", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    assert widget.separation.label == "column spacing (nm)"
    widget()
    assert "=" not in widget._status.value  # no keyword arguments in messages


def test_lattice_legend_and_pixel_map_underneath(stem_image, viewer):
    a = viewer.add_image(stem_image, name="A", scale=SCALE, units="nm")
    threshold(viewer, a)()
    widget = LatticeWidget(viewer)
    widget.image.value = a
    widget.pixel_map.value = True
    widget()
    order = names(viewer)
    assert order.index("A centers Voronoi map") < order.index("A centers Delaunay")
    assert "edge length: turbo" in widget.legend.value and "nm" in widget.legend.value
    assert "cell area: viridis" in widget.legend.value and "nm²" in widget.legend.value
    assert viewer.layers["A centers Delaunay"]._type_string == "vectors"  # 2725 > 150


def test_cancel_writes_nothing(stem_image, viewer, qtbot):
    a = viewer.add_image(stem_image, name="A")
    widget = threshold(viewer, a)
    widget._run_button.clicked()
    widget.cancel()
    qtbot.waitUntil(lambda: widget._worker is None, timeout=20000)
    assert names(viewer) == ["A"]
    assert "cancelled" in widget._status.value
    assert widget._run_button.enabled and not widget._progress.visible


def test_four_widgets_fit_a_small_window(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    docks = []
    for cls in (ThresholdLabelWidget, SeededWatershedWidget, LatticeWidget, FindAtomsWidget):
        widget = cls(viewer)
        docks.append(viewer.window.add_dock_widget(widget, name=widget.label, area="right"))
        assert not widget._sections["Export & parameters"].isExpanded()
    qtbot.wait(400)
    size = viewer.window._qt_window.size()
    assert (size.width(), size.height()) == (1600, 1000)
    assert viewer.window._qt_viewer.canvas.native.width() > 700
    # docked one under another, each gets a fair share of the height (and scrolls in it)
    heights = [dock.height() for dock in docks]
    assert min(heights) > 150, heights


def test_stacks_this_plane_or_all_planes(stem_image, viewer, qtbot):
    stack = np.stack([stem_image, stem_image[::-1].copy(), stem_image * 0.3])
    layer = viewer.add_image(stack, name="T", scale=(2.0, *SCALE), units=("s", "nm", "nm"))
    widget = threshold(viewer, layer)
    assert not widget._planes.native.isHidden()  # offered for a stack only
    viewer.dims.set_point(0, 4.0)  # world coordinates: 2 s per plane
    widget()  # this plane (the default): a dim plane
    assert widget._status.value.startswith("0 objects") and "(plane 2)" in widget._status.value
    assert viewer.layers["T labels"].data.shape == (1, *stem_image.shape)  # plane 2 only
    widget._planes.value = "all planes"
    widget._run_button.clicked()  # off the UI thread, plane after plane
    qtbot.waitUntil(lambda: widget._worker is None, timeout=60000)
    labels, centres = viewer.layers["T labels"], viewer.layers["T centers"]
    assert labels.data.shape == stack.shape and tuple(labels.scale) == (2.0, *SCALE)
    assert labels.data.max() == 2 * 1376  # numbered on across planes
    assert centres.data.shape == (2 * 1376, 3)
    assert set(centres.data[:, 0]) == {0.0, 1.0}
    assert list(labels.features["plane"].unique()) == [0, 1]
    assert labels.features["index"].is_unique
    assert "all 3 planes of 'T'" in widget._status.value
    # the lattice of the stack's centres: the shown plane's points only
    lat = LatticeWidget(viewer)
    lat.points.value = centres
    viewer.dims.set_point(0, 2.0)
    lat()
    assert lat._status.value.startswith("1376 points")
    assert "(plane 1 of 'T centers')" in lat._status.value


def test_input_deleted_and_made_again_updates_the_same_outputs(viewer):
    """Delete the centres, re-run Threshold & label (centres made again): the lattice
    widget follows the new centres and its re-run updates its outputs, not 'name [1]'."""
    from napari_tessella.synthetic import synthetic_lattice

    image = viewer.add_image(synthetic_lattice((96, 96), spacing=8.0).image, name="lat")
    thresh = ThresholdLabelWidget(viewer)
    thresh.image.value = image
    thresh()
    lat = LatticeWidget(viewer)
    lat()
    bonds = viewer.layers["lat centers Delaunay"]
    viewer.layers.remove(viewer.layers["lat centers"])
    thresh()
    assert lat.points.value is viewer.layers["lat centers"]
    lat()
    names = [layer.name for layer in viewer.layers]
    assert not any(name.endswith("[1]") for name in names), names
    assert viewer.layers["lat centers Delaunay"] is bonds
