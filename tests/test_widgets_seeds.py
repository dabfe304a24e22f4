"""The Seeded watershed's seeds layer: Labels seeds placed through world coordinates as
Points seeds are, seeds in another length unit, one path for Points and Labels seeds on
stacks (the plane shown, seeds off the image, rotated out of the plane, NaN planes), seeds
that miss every nucleus, seeds painted with one label. Each test fails on the behaviour it
fixed, unless it says it bounds a fix."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import CENTRES, _dots, discs, nucleus_ids

from napari_tessella._widgets import SeededWatershedWidget
from napari_tessella.nuclei.watershed import seeded_watershed


def watershed(viewer, image, seeds, diameter: float = 22):
    """The Seeded watershed run on ``image`` with ``seeds``: (widget, what it wrote)."""
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.seeds.value = seeds
    widget.object_diameter.value = diameter
    return widget, widget()


def four_nuclei(labels: np.ndarray) -> bool:
    ids = nucleus_ids(labels)
    return 0 not in ids and len(set(ids)) == 4


def label_seeds(shape=(128, 128)) -> np.ndarray:
    seeds = np.zeros(shape, dtype=np.int32)
    for k, (r, c) in enumerate(CENTRES, start=1):
        seeds[int(r) - 1:int(r) + 2, int(c) - 1:int(c) + 2] = k
    return seeds


# --- Labels seeds placed through world coordinates, as Points seeds are


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
    assert ("1 of the 1 label of the seeds layer 'far seeds' lies outside the image 'dna'"
            in widget._status.value)
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


# --- seeds whose layer is in another length unit


@pytest.mark.parametrize("kind", ["points", "labels"])
@pytest.mark.parametrize(("image_units", "seed_units", "factor"), [
    ("um", "nm", 1000.0), ("nm", "um", 0.001), ("mm", "um", 1000.0)])
def test_seeds_in_another_length_unit_are_converted(viewer, kind, image_units, seed_units,
                                                    factor):
    """An image at 0.5 µm/px and seeds made at 500 nm/px describe the same world: they
    were refused as off the image; they are converted and find the four nuclei."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units=image_units)
    scale = (0.5 * factor, 0.5 * factor)
    if kind == "points":
        seeds = viewer.add_points(CENTRES * scale[0], name="s", units=seed_units)
    else:
        seeds = viewer.add_labels(label_seeds(), name="s", scale=scale, units=seed_units)
    widget, written = watershed(viewer, image, seeds, 11)
    assert written is not None, widget._status.value
    assert four_nuclei(viewer.layers["dna nuclei"].data)


def test_seeds_in_units_that_do_not_convert_are_refused_saying_so(viewer):
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    seeds = viewer.add_points(CENTRES, name="timed", units=("s", "s"))
    widget, written = watershed(viewer, image, seeds, 22)
    assert written is None
    assert "'timed' is in s where 'dna' is in µm" in widget._status.value
    assert "dna nuclei" not in viewer.layers


# --- one path for Points and Labels seeds


def seeds_layer(viewer, kind: str, planes: dict, name: str = "s", **kwargs):
    """A seeds layer of ``kind`` with seeds at ``planes`` ({plane: (n, 2) centres} of a
    stack, or {None: centres} for one plane)."""
    if kind == "points":
        data = np.concatenate([pts if p is None else np.c_[np.full(len(pts), p), pts]
                               for p, pts in planes.items()])
        return viewer.add_points(data, name=name, **kwargs)
    shape = (256, 256)
    if None in planes:
        data = np.zeros(shape, np.int32)
    else:
        data = np.zeros((max(planes) + 1, *shape), np.int32)
    for p, pts in planes.items():
        plane = data if p is None else data[p]
        for k, (r, c) in enumerate(pts, start=1):
            plane[int(r) - 1:int(r) + 2, int(c) - 1:int(c) + 2] = k
    return viewer.add_labels(data, name=name, **kwargs)


@pytest.mark.parametrize("kind", ["points", "labels"])
def test_seeds_of_the_image_plane_shown_are_used_beyond_its_planes(viewer, kind):
    """A 2-plane image with the slider on plane 3 (where the seeds' stack goes on): napari
    shows the image's plane 1, which is the plane run on; Labels seeds took plane 1's
    seeds, Points seeds those of plane 3 (here off the image: refused)."""
    image = viewer.add_image(np.stack([discs(), discs()]), name="dna")
    seeds = seeds_layer(viewer, kind, {1: CENTRES, 3: np.array([[200.0, 200.0]])})
    viewer.dims.set_point(0, 3)
    widget, written = watershed(viewer, image, seeds, 22)
    assert written is not None, widget._status.value
    assert "(plane 1)" in widget._status.value
    assert four_nuclei(viewer.layers["dna nuclei"].data[0])


@pytest.mark.parametrize("kind", ["points", "labels"])
def test_seeds_partly_off_the_image_are_refused_for_both_kinds(viewer, kind):
    """A fifth seed beyond the 128² image: Points were refused, a Labels seed there was
    dropped without a word (4 nuclei from 5 seeds)."""
    image = viewer.add_image(discs(), name="dna")
    seeds = seeds_layer(viewer, kind, {None: np.r_[CENTRES, [[200.0, 200.0]]]})
    widget, written = watershed(viewer, image, seeds, 22)
    assert written is None
    assert f"1 of the 5 {kind} of the seeds layer 's' lies outside the image 'dna'" in \
        widget._status.value
    assert "dna nuclei" not in viewer.layers


@pytest.mark.filterwarnings("ignore:Non-orthogonal slicing:UserWarning")  # napari's
@pytest.mark.parametrize("kind", ["points", "labels"])
def test_seeds_rotated_out_of_the_plane_are_refused_for_both_kinds(viewer, kind):
    """Seeds of a stack turned about a row axis (a rotation out of the plane): no plane of
    them lies on the image's plane. Labels were refused; Points went through the whole
    transform and were read in the wrong place, or as off the image."""
    image = viewer.add_image(np.stack([discs(), discs()]), name="dna")
    cos, sin = np.cos(np.radians(20)), np.sin(np.radians(20))
    turn = np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])  # axes 0 and 1
    seeds = seeds_layer(viewer, kind, {0: CENTRES, 1: CENTRES}, rotate=turn)
    widget, written = watershed(viewer, image, seeds, 22)
    assert written is None
    assert "not placed plane on plane" in widget._status.value


def test_points_seeds_with_a_nan_plane_or_none_on_a_plane_of_all_say_so(viewer):
    """A point whose plane coordinate is NaN was dropped without a word (its plane never
    matched); 'all planes' with a plane without seeds told the user to move the slider,
    which that mode does not read."""
    image = viewer.add_image(np.stack([discs(), discs()]), name="dna")
    seeds = viewer.add_points(np.c_[[np.nan, 1, 1, 1, 1], np.r_[CENTRES[:1], CENTRES]],
                              name="s")
    widget, written = watershed(viewer, image, seeds)
    assert written is None
    assert "1 of the 5 points of the seeds layer 's' has NaN" in widget._status.value
    seeds.data = np.c_[np.ones(4), CENTRES]
    widget._planes.value = "all planes"
    assert widget() is None
    assert widget._status.value == ("⚠ plane 0: the seeds layer 's' has no points where "
                                    "plane 0 of 'dna' lies.")


# --- seeds that find no nucleus; seeds painted with one label (napari's brush keeps its
# label from dot to dot)


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


def test_seeds_painted_with_one_label_are_one_seed_each(viewer):
    """Four seed dots painted on napari's "new labels" layer with the brush (its label stays
    1 from dot to dot): the watershed made one "nucleus" of the four discs, its territory
    the whole image, and drew its one seed at their mean, on no nucleus ("1 nuclei … 1
    seeds"). Each separate painted piece is a seed: four nuclei, the seeds on them."""
    image = viewer.add_image(discs(), name="dna")
    painted = viewer.add_labels(_dots(), name="Labels")
    before = painted.data.copy()
    widget = SeededWatershedWidget(viewer)
    widget.image.value, widget.seeds.value = image, painted
    widget()
    assert widget._status.value.startswith("4 nuclei in 'dna'")
    assert "4 seeds" in widget._status.value
    nuclei = viewer.layers["dna nuclei"].data
    seeds = viewer.layers["dna seeds"].data
    assert nuclei.max() == 4
    assert np.all(nuclei[tuple(np.rint(seeds).astype(int).T)] > 0)  # each on a nucleus
    assert np.array_equal(painted.data, before)  # the input is not touched


def test_seed_ids_of_one_piece_each_are_kept():
    """Bounds the fix (passes on the code before it): seeds of one piece per id — also two
    ids touching, also a piece whose pixels meet only at a corner (a brush stroke's
    diagonal step) — give as many nuclei as ids, as before."""
    image = discs()
    distinct = _dots(lambda i: 10 * (i + 1))
    assert seeded_watershed(image, seeds=distinct).labels.max() == 4
    stroke = np.zeros((128, 128), np.int32)
    r, c = CENTRES[2].astype(int)
    stroke[r, c] = stroke[r + 1, c + 1] = stroke[r + 2, c + 2] = 5  # corners only
    result = seeded_watershed(image, seeds=stroke)
    assert result.labels.max() == 1 and len(result.seeds) == 1
