"""Ninth QA pass (s13): the widgets as a microscopist uses them daily. Physical columns of
Find atoms named with the layer's unit, Labels seeds placed through world coordinates as
Points seeds are, and a "this plane" result drawn on its plane only; then chained runs
on unusual but legitimate inputs. Each fix's test fails on the code before it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_lattice

CENTRES = np.array([[32.0, 30.0], [32.0, 54.0], [90.0, 40.0], [80.0, 96.0]])


def discs(shape=(128, 128), radius: float = 11.0) -> np.ndarray:
    """Four bright discs (nuclei), the first two touching, on a dark field."""
    rr, cc = np.indices(shape)
    image = np.zeros(shape)
    for r, c in CENTRES:
        image[(rr - r) ** 2 + (cc - c) ** 2 <= radius**2] = 1.0
    return image


# --- 1. Find atoms: the physical nearest-neighbour distance named with the unit


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


# --- 2. Labels seeds placed through world coordinates


def nucleus_ids(labels: np.ndarray) -> list[int]:
    return [int(labels[int(r), int(c)]) for r, c in CENTRES]


def test_labels_seeds_of_another_scale_are_placed_where_napari_draws_them(viewer):
    """Seeds painted on a half-resolution Labels layer (64², scale 2) over a 128² image
    were refused for their shape; they are mapped through world coordinates, as Points
    seeds are: one nucleus per seed, each on the seed's disc."""
    image = viewer.add_image(discs(), name="dna")
    seeds = np.zeros((64, 64), dtype=np.int32)
    for k, (r, c) in enumerate(CENTRES, start=1):
        seeds[int(r) // 2, int(c) // 2] = k
    viewer.add_labels(seeds, name="half seeds", scale=(2, 2))
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.seeds.value = viewer.layers["half seeds"]
    widget.object_diameter.value = 22
    assert widget() is not None, widget._status.value
    ids = nucleus_ids(viewer.layers["dna nuclei"].data)
    assert 0 not in ids and len(set(ids)) == 4
    np.testing.assert_array_equal(viewer.layers["half seeds"].data, seeds)  # untouched


def test_translated_labels_seeds_of_the_same_shape_are_not_read_pixel_for_pixel(viewer):
    """Seed labels of the image's shape but moved by 20 px (translate): read pixel for
    pixel, the seeds fell on background 20 px below their nuclei, and the watershed
    missed nuclei; placed as napari draws them, all four."""
    image = viewer.add_image(discs(), name="dna")
    seeds = np.zeros((128, 128), dtype=np.int32)
    for k, (r, c) in enumerate(CENTRES, start=1):
        seeds[int(r) + 20 - 1:int(r) + 20 + 2, int(c) - 1:int(c) + 2] = k
    seeds_layer = viewer.add_labels(seeds, name="moved seeds", translate=(-20, 0))
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.seeds.value = seeds_layer
    widget.object_diameter.value = 22
    assert widget() is not None, widget._status.value
    ids = nucleus_ids(viewer.layers["dna nuclei"].data)
    assert 0 not in ids and len(set(ids)) == 4


def test_labels_seeds_placed_off_the_image_are_refused_saying_where(viewer):
    image = viewer.add_image(discs(), name="dna")
    seeds = np.zeros((128, 128), dtype=np.int32)
    seeds[30:34, 30:34] = 1
    viewer.add_labels(seeds, name="far seeds", translate=(500, 500))
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.seeds.value = viewer.layers["far seeds"]
    assert widget() is None
    assert "lie outside the image 'dna'" in widget._status.value
    assert "dna nuclei" not in viewer.layers


def test_labels_seeds_of_a_stack_follow_the_images_planes_in_world(viewer):
    """'all planes' of a 2-plane image whose seeds stack starts one plane later (its
    plane 0 is the image's plane 1): each image plane takes the seeds at its place, and
    the plane without seeds says so instead of reading plane for plane."""
    stack = np.stack([discs(), discs()])
    image = viewer.add_image(stack, name="dna")
    seeds = np.zeros((1, 128, 128), dtype=np.int32)
    for k, (r, c) in enumerate(CENTRES, start=1):
        seeds[0, int(r), int(c)] = k
    viewer.add_labels(seeds, name="seeds z1", translate=(1, 0, 0))
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.seeds.value = viewer.layers["seeds z1"]
    widget.object_diameter.value = 22
    widget._planes.value = "all planes"
    assert widget() is None
    assert "no plane where plane 0 of 'dna' lies" in widget._status.value


# --- 3. "this plane" on a stack: drawn on that plane only


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


def test_seeds_that_miss_every_nucleus_are_said(viewer):
    """A seed painted on the background: '0 nuclei … 0 seeds' and no word why."""
    image = viewer.add_image(discs(), name="dna")
    seeds = np.zeros((128, 128), dtype=np.int32)
    seeds[5, 5] = 1
    viewer.add_labels(seeds, name="stray")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.seeds.value = viewer.layers["stray"]
    widget.object_diameter.value = 22
    assert widget() is not None
    assert widget._status.value.startswith("0 nuclei")
    assert "no seed of 'stray' lies on a nucleus" in widget._status.value


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


def test_a_min_area_that_removes_every_nucleus_is_named(viewer):
    """A min nucleus area typed far too large: '0 nuclei' said nothing of why (Threshold
    & label names the filter that removed its objects)."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="µm")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.min_area.value = 10_000.0  # µm²: far above a nucleus of 11 µm
    assert widget() is not None
    assert widget._status.value.startswith("0 nuclei")
    assert "the min nucleus area of 1e+04 µm² = 40000 px may have removed them all" in (
        widget._status.value)


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
