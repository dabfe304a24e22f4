"""Fourth QA pass (s7): a renamed input's outputs follow its name, areas said in their
field's units, axes in units far apart explained, the core's length errors worded through
slots; chaining and odd inputs. Each test fails on the code before the fix it names."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella import find_atoms
from napari_tessella._validation import LengthError
from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_nuclei


def names(viewer):
    return [layer.name for layer in viewer.layers]


# --- 1. a renamed input: its outputs follow its name, the same layers updated


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


# --- 2. an area said in its field's units


def test_no_objects_says_the_min_size_in_the_fields_units(viewer, lattice_image):
    """The min size field is an area in µm²: "the min size of 400 px" named pixels."""
    image = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="µm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.min_size.value = 100.0  # µm², 400 px: larger than every column
    widget()
    assert "0 objects" in widget._status.value
    assert "the min size of 100 µm² = 400 px" in widget._status.value


def test_watershed_says_its_min_size_in_the_fields_units(viewer):
    nuclei = synthetic_nuclei(seed=1).image
    image = viewer.add_image(nuclei, name="syn", scale=(0.5, 0.5), units="µm")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.min_area.value = 25.0  # µm², 100 px
    widget()
    assert "min size 25 µm² = 100 px" in widget._status.value
    plain = viewer.add_image(nuclei, name="plain")
    widget.image.value = plain
    widget.min_area.value = 100.0
    widget()
    assert "min size 100 px²" in widget._status.value


# --- 3. axes in units far apart


def test_lattice_on_axes_in_angstrom_and_furlong_says_why(viewer):
    """Rows in Å, columns in furlongs: both lengths (converted), but the grid is then a
    line in the sample; "collinear" alone did not say why."""
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0), indexing="ij"),
                    -1).reshape(-1, 2) * 10
    viewer.add_points(grid, name="grid", units=("angstrom", "furlong"))
    widget = LatticeWidget(viewer)
    widget.image.value = None
    assert widget() is None
    text = widget._status.value
    assert "collinear" in text and "rows are in Å and its columns in fur" in text
    assert "layer.units" in text


def test_lattice_on_axes_in_nm_and_um_runs_and_says_so(viewer):
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0), indexing="ij"),
                    -1).reshape(-1, 2) * 10
    viewer.add_points(grid, name="grid", scale=(1000.0, 1.0), units=("nm", "µm"))
    widget = LatticeWidget(viewer)
    widget.image.value = None
    assert widget() is not None  # 1000 nm × 1 µm: square pixels, no note
    assert "times as tall" not in widget._status.value
    viewer.layers["grid"].scale = (1.0, 1.0)
    assert widget() is not None  # 1 nm × 1 µm: converted, and said
    assert "rows are in nm and its columns in µm" in widget._status.value


# --- 4. the core's length errors name the length through slots


def test_length_error_takes_the_callers_words_without_string_surgery(lattice_image):
    with pytest.raises(LengthError) as info:
        find_atoms(lattice_image, separation=40.0)
    err = info.value
    assert "separation" not in err.template  # the length is named through its slots
    text = err.in_units(lambda v: f"{v / 2:g} nm", the="the spacing", named="a spacing of ")
    assert text.startswith("a spacing of 20 nm is over half") and text.endswith("16 nm.")
    with pytest.raises(LengthError) as info:
        find_atoms(lattice_image, separation=1.0)
    assert info.value.in_units(str, the="the spacing").startswith("the spacing must be >= 2")


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
