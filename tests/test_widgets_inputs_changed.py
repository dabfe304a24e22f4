"""Inputs changed under the widgets: a layer renamed (before or during a run), its data
or placement replaced, deleted and another of its name made, fields moved during a run;
the widgets' outputs follow their input and the user's own layers are never touched. Each
test fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import discs, finished, grid, names

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_nuclei

# --- an input renamed: its outputs follow its name, the same layers updated


def test_outputs_follow_a_renamed_input(viewer, lattice_image):
    """Image "cells" renamed "dapi", re-run: "cells labels" and "cells centers" were
    updated under their old names; they are the same layers, now "dapi …", no duplicates."""
    image = viewer.add_image(lattice_image, name="cells")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    labels, centres = viewer.layers["cells labels"], viewer.layers["cells centers"]
    image.name = "dapi"
    assert widget() is not None
    assert names(viewer) == ["dapi", "dapi labels", "dapi centers"]
    assert viewer.layers["dapi labels"] is labels and viewer.layers["dapi centers"] is centres
    widget()  # again, nothing changed: still the same three
    assert names(viewer) == ["dapi", "dapi labels", "dapi centers"]


def test_a_renamed_output_is_kept_and_the_chain_follows(viewer, lattice_image):
    """The user's renamed output is never written again (a new one is made), and a chained
    widget's outputs follow the renamed upstream layer: Find atoms → Lattice."""
    image = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="nm")
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = image
    atoms()
    columns = viewer.layers["lat columns"]
    lattice = LatticeWidget(viewer)
    assert lattice.points.value is columns and lattice.image.value is image
    lattice()
    delaunay = viewer.layers["lat columns Delaunay"]
    image.name = "NbW"
    atoms()
    assert viewer.layers["NbW columns"] is columns
    lattice()
    assert viewer.layers["NbW columns Delaunay"] is delaunay
    assert not [n for n in names(viewer) if n.startswith("lat")]
    # the user renames an output: theirs from now on, never overwritten
    columns.name = "my columns"
    kept = np.array(columns.data, copy=True)
    atoms.separation.value = 4.5
    atoms()
    assert viewer.layers["my columns"] is columns
    np.testing.assert_array_equal(columns.data, kept)
    assert "NbW columns" in viewer.layers and viewer.layers["NbW columns"] is not columns


def test_a_renamed_input_never_takes_a_users_layer_name(viewer, lattice_image):
    """"cells" renamed "dapi" while the user has a layer "dapi labels" of their own: that
    layer is untouched, the output becomes "dapi labels [1]" and stays the widget's."""
    image = viewer.add_image(lattice_image, name="cells")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    mine = viewer.add_labels(np.zeros((64, 64), np.int32), name="dapi labels")
    image.name = "dapi"
    widget()
    assert viewer.layers["dapi labels"] is mine and not mine.data.any()
    out = viewer.layers["dapi labels [1]"]
    widget.opening.value = 2
    widget()
    assert viewer.layers["dapi labels [1]"] is out and len(viewer.layers) == 4


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


# --- the principle, on sequences hypothesis draws: renaming the input, renaming or
# editing an output, re-running; the user's layers are never touched, the widget's own
# follow the input's name, and no run piles up layers


def test_renames_and_edits_never_lose_the_users_layers(make_napari_viewer, lattice_image):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    viewer = make_napari_viewer()
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    steps = st.lists(st.sampled_from(["rename input", "rename labels", "rename centers",
                                      "edit centers", "paint labels", "run", "clash"]),
                     min_size=1, max_size=8)

    @settings(max_examples=8, deadline=None)
    @given(steps=steps)
    def check(steps):
        for layer in list(viewer.layers):
            viewer.layers.remove(layer)
        image = viewer.add_image(lattice_image, name="img")
        widget.image.value = image
        widget()
        kept = {}  # layers the user made theirs: id -> (layer, its name, its data then)
        for i, step in enumerate([*steps, "run"]):
            own = {role: widget._outputs[(image.unique_id, role)].layer
                   for role in ("labels", "points")}
            if step == "rename input":
                image.name = f"img{i}"
            elif step == "clash":  # a layer of the user's own with the next output name
                mine = viewer.add_labels(np.zeros((4, 4), np.int32), name=f"new{i} labels")
                kept[id(mine)] = (mine, mine.name, mine.data.copy())
                image.name = f"new{i}"
            elif step.startswith("rename"):
                layer = own["labels" if step == "rename labels" else "points"]
                layer.name = f"mine{i}"
                kept[id(layer)] = (layer, layer.name, np.array(layer.data, copy=True))
            elif step == "edit centers":
                own["points"].add([1.0, 1.0])
                kept[id(own["points"])] = (own["points"], own["points"].name,
                                           own["points"].data.copy())
            elif step == "paint labels":
                own["labels"].paint((3, 3), 99)
                kept[id(own["labels"])] = (own["labels"], own["labels"].name,
                                           own["labels"].data.copy())
            else:
                assert widget() is not None, widget._status.value
                own = {role: widget._outputs[(image.unique_id, role)].layer
                       for role in ("labels", "points")}
                for role, suffix in (("labels", "labels"), ("points", "centers")):
                    assert own[role].name.startswith(f"{image.name} {suffix}")
                    assert all(own[role] is not layer for layer, _, _ in kept.values())
                for layer, name, data in kept.values():
                    assert layer in viewer.layers and layer.name == name
                    np.testing.assert_array_equal(np.asarray(layer.data), data)
                assert len(viewer.layers) == 3 + len(kept)

    check()


# --- an input's data or placement replaced


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


def test_a_re_run_after_the_image_is_unrotated_draws_its_outputs_unrotated(viewer):
    """A re-run updates its output layers in place. A rotate, shear or affine that the new
    outputs do not have was left on them: outputs made while the image was rotated stayed
    rotated, beside the objects, once the user took the rotation off."""
    image = viewer.add_image(discs(), name="img", rotate=30, shear=[0.2])
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    outputs = [layer for layer in viewer.layers if layer is not image]
    assert outputs and all(not np.allclose(layer.rotate, np.eye(2)) for layer in outputs)
    image.rotate, image.shear = 0, [0.0]
    widget()
    assert [layer for layer in viewer.layers if layer is not image] == outputs  # in place
    for layer in outputs:
        assert np.allclose(layer.rotate, np.eye(2)), layer.name
        assert np.allclose(layer.shear, 0), layer.name
        assert np.allclose(layer.affine.affine_matrix, np.eye(3)), layer.name


# --- an input deleted: its outputs are never another layer's


def test_a_new_image_never_gets_a_deleted_images_outputs(viewer, lattice_image, monkeypatch):
    """Python reuses the id() of a freed layer (seen after ~20 add/run/delete rounds in a
    session): outputs were keyed by id(), and a new image's results went into the deleted
    image's "A labels" instead of "B labels". Simulated here by an id() that gives both
    images the same number."""
    from napari_tessella._widgets import _layers

    def same_id(obj):
        return 1 if getattr(obj, "name", None) in ("A", "B") else id(obj)

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


def test_another_field_of_the_same_name_does_not_take_the_deleted_one_s_outputs(viewer):
    """Field 1 ("DAPI", as each well's folder names its file) thresholded, its image
    deleted to make room and its labels kept to compare; field 2, also "DAPI", opened and
    thresholded: its run overwrote field 1's labels and centres in place (unexported,
    lost). Another image's run makes its own layers; the same image opened again still
    updates its old ones (as an upstream re-run's points and labels do)."""
    widget = ThresholdLabelWidget(viewer)
    first = discs()
    widget.image.value = viewer.add_image(first, name="DAPI")
    widget()
    kept = viewer.layers["DAPI labels"]
    field1 = kept.data.copy()
    viewer.layers.remove("DAPI")
    for other in (discs(radius=6), discs((96, 160))):  # same shape, another shape
        image = viewer.add_image(other, name="DAPI")
        widget.image.value = image
        widget()
        assert np.array_equal(kept.data, field1)  # field 1's labels untouched
        assert widget._outputs[(image.unique_id, "labels")].layer is not kept
        viewer.layers.remove(image)
    names = [layer.name for layer in viewer.layers]
    again = viewer.add_image(first.copy(), name="DAPI")  # field 1 opened again
    widget.image.value = again
    widget()
    assert [layer.name for layer in viewer.layers] == [*names, "DAPI"]
    assert widget._outputs[(again.unique_id, "labels")].layer is kept


# --- the input or the fields changed while the run goes


def test_input_renamed_during_a_run_names_its_outputs(viewer, qtbot):
    """Renamed while the watershed ran (the Run button, off the UI thread): its outputs
    were written as "big nuclei", the name at the start."""
    image = viewer.add_image(synthetic_nuclei(seed=1).image, name="big")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget._run_button.native.click()
    image.name = "dapi"
    qtbot.waitUntil(lambda: widget._worker is None and not getattr(widget, "_stepping", 0),
                    timeout=60_000)
    assert names(viewer) == ["dapi", "dapi territories", "dapi nuclei", "dapi seeds"]


def test_status_names_an_input_renamed_during_a_run(viewer, qtbot, lattice_image):
    """A stack of points renamed while the lattice ran (the Run button): the outputs were
    "again Delaunay", the status line still said "(plane 1 of 'cols')"."""
    viewer.add_image(np.stack([lattice_image] * 3), name="stack")
    pts = grid()
    points = viewer.add_points(np.vstack([np.column_stack([np.full(len(pts), k), pts])
                                          for k in range(3)]), name="cols")
    widget = LatticeWidget(viewer)
    assert widget.points.value is points
    widget._run_button.native.click()
    points.name = "again"
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert names(viewer) == ["stack", "again", "again Delaunay", "again Voronoi"]
    assert "of 'again')" in widget._status.value and "'cols'" not in widget._status.value


def test_an_error_names_an_input_renamed_during_the_run(viewer, qtbot, lattice_image):
    """An error raised in the worker quotes the input as it is now."""
    viewer.add_image(lattice_image, name="img")
    points = viewer.add_points([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], name="line")
    widget = LatticeWidget(viewer)
    widget._run_button.native.click()
    points.name = "diagonal"
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert status.startswith("⚠") and "'diagonal'" in status and "'line'" not in status


def test_fields_moved_during_a_run_are_said(viewer, qtbot):
    """The slider dragged while 'all planes' ran: its preview was written, then the run's
    Otsu labels over it, the status saying "172 objects" beside a slider at 0.9 (manual).
    No preview is written during a run, and the status says the fields moved."""
    nuclei = synthetic_nuclei(seed=1).image
    image = viewer.add_image(np.stack([nuclei] * 6), name="s")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget._planes.value = "all planes"
    widget._run_button.native.click()
    widget._planes.value = "this plane"
    widget.value.value = 0.9
    assert "s labels" not in viewer.layers  # no preview while the run goes
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert viewer.layers["s labels"].data.shape == (6, 512, 512)
    assert "press Run again" in widget._status.value
    widget._run_button.native.click()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    # on its plane only, beside the stack, which is kept (round 50: it was replaced)
    assert viewer.layers["s labels [1]"].data.shape == (1, 512, 512)
    assert viewer.layers["s labels"].data.shape == (6, 512, 512)
    assert "press Run again" not in widget._status.value


def test_a_scale_changed_during_the_run_is_said(viewer, qtbot, held):
    """The image's pixel size corrected (0.5 → 0.25 µm) while Threshold & label ran: the
    outputs were drawn at the old scale, off the image, with areas in µm² of the old
    pixels, and the status line said only "4 objects in 'dna'". They are still written
    (the work is not lost: as the image was at Run), and the status says so."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    before = image.data.copy()
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget._run_button.native.click()
    image.scale = (0.25, 0.25)
    held.set()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert status.startswith("4 objects in 'dna'")
    assert "'dna' changed during the run: its scale" in status
    assert "as it was at Run: press Run again" in status
    assert tuple(viewer.layers["dna labels"].scale) == (0.5, 0.5)  # as measured
    assert np.array_equal(image.data, before)
    widget()  # run again: no note, the outputs follow the image
    assert "changed during the run" not in widget._status.value
    assert tuple(viewer.layers["dna labels"].scale) == (0.25, 0.25)
    assert [layer.name for layer in viewer.layers] == ["dna", "dna labels", "dna centers"]


def test_data_replaced_during_the_run_is_said(viewer, qtbot, held, lattice_image):
    """Find atoms on an image whose data was replaced during the run (another frame
    loaded into the same layer): the columns of the old frame were shown over the new one
    without a word."""
    image = viewer.add_image(lattice_image, name="lat", scale=(0.02, 0.02), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = image
    widget._run_button.native.click()
    image.data = lattice_image[::-1].copy()
    held.set()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert "64 columns in 'lat'" in status
    assert "'lat' changed during the run: its data;" in status
    assert "lat columns" in [layer.name for layer in viewer.layers]


def test_points_moved_during_a_lattice_run_are_said(viewer, qtbot):
    """The Lattice's points edited (one moved) while it ran; a run left alone says
    nothing more than before."""
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"),
                    -1).reshape(-1, 2) * 10.0 + 5
    points = viewer.add_points(grid, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget._run_button.native.click()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert "changed during the run" not in widget._status.value
    widget._run_button.native.click()
    moved = points.data.copy()
    moved[0] += 2
    points.data = moved
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert "'grid' changed during the run: its data;" in widget._status.value
