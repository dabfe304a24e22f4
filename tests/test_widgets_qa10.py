"""Tenth QA pass (s15): seeds in another length unit, one seed-plane path for Points and
Labels seeds, outputs of a rotated stack, points of the Lattice in another unit. Each
fix's test fails on the code before it."""

from __future__ import annotations

import numpy as np
import pytest
from test_widgets_qa9 import CENTRES, discs, nucleus_ids

from napari_tessella._widgets import SeededWatershedWidget, ThresholdLabelWidget


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


# --- 1. seeds whose layer is in another length unit


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


# --- 2. one path for Points and Labels seeds


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
    assert f"1 of the 5 {kind} of the seeds layer 's' lie outside the image 'dna'" in \
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


# --- 5. outputs of a rotated stack, Run's and the preview's: on the image, on their plane


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


# --- other paths: the Lattice's points in another unit than its image


def test_lattice_points_in_another_length_unit_are_converted(viewer):
    """Points in nm over an image in µm (drawn on it by napari) were refused as lying
    outside the image; converted, the pixel map has a cell under each point."""
    from napari_tessella._widgets import LatticeWidget

    pixels = np.array([[16.0, 16.0], [16.0, 48.0], [48.0, 16.0], [48.0, 48.0],
                       [32.0, 32.0]])
    image = viewer.add_image(np.zeros((64, 64)), name="img", scale=(0.5, 0.5), units="um")
    points = viewer.add_points(pixels * 500.0, name="cols", units="nm")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget.image.value = image
    widget.pixel_map.value = True
    assert widget() is not None, widget._status.value
    cells = viewer.layers["cols Voronoi map"].data
    assert [int(cells[int(r), int(c)]) for r, c in pixels] == [1, 2, 3, 4, 5]


def test_points_seeds_with_a_nan_plane_or_none_on_a_plane_of_all_say_so(viewer):
    """A point whose plane coordinate is NaN was dropped without a word (its plane never
    matched); 'all planes' with a plane without seeds told the user to move the slider,
    which that mode does not read."""
    image = viewer.add_image(np.stack([discs(), discs()]), name="dna")
    seeds = viewer.add_points(np.c_[[np.nan, 1, 1, 1, 1], np.r_[CENTRES[:1], CENTRES]],
                              name="s")
    widget, written = watershed(viewer, image, seeds)
    assert written is None
    assert "1 of the 5 points of the seeds layer 's' have NaN" in widget._status.value
    seeds.data = np.c_[np.ones(4), CENTRES]
    widget._planes.value = "all planes"
    assert widget() is None
    assert widget._status.value == ("⚠ plane 0: the seeds layer 's' has no points where "
                                    "plane 0 of 'dna' lies.")


# --- a re-run after the image's transform is taken off


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


# --- the plane under the slider, for a stack in another length unit than the viewer's


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
