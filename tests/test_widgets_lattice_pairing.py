"""The Lattice & Voronoi widget's points and image (for bounds) as a pair: the image the
points were made on comes with them (picked by hand, after a deletion, as layers come and
go), an image the user picks stays. Each test fails on the behaviour it fixed, unless it
says it pins kept behaviour."""

from __future__ import annotations

import numpy as np
from _widget_helpers import grid, legend_of

from napari_tessella._widgets import FindAtomsWidget, LatticeWidget, ThresholdLabelWidget


def test_lattice_takes_the_image_its_points_were_made_on(viewer, lattice_image):
    """Find atoms on an image in nm, then a newer image of other placement: the lattice
    followed the new columns but kept the newest image for bounds, so the nm positions
    were read as that image's pixels and the lengths lost their unit."""
    stem = viewer.add_image(lattice_image, name="stem", scale=(0.1, 0.1), units="nm")
    viewer.add_image(np.zeros((128, 128)), name="other")
    lattice = LatticeWidget(viewer)
    assert lattice.image.value.name == "other"  # nothing to match yet: the newest
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = stem
    atoms()
    assert lattice.points.value.name == "stem columns"
    assert lattice.image.value is stem
    assert lattice() is not None
    assert lattice._status.value.endswith(" nm")
    assert legend_of(lattice).endswith("nm²")
    # an image the user picks stays, also when newer columns arrive
    lattice.image.value = viewer.layers["other"]
    atoms.image.value = viewer.add_image(lattice_image, name="stem 2", scale=(0.1, 0.1),
                                         units="nm")
    atoms()
    assert lattice.image.value.name == "other"


def test_lattice_image_match_prefers_the_named_image(viewer, lattice_image):
    """Of two images placed alike, the one whose name the points carry."""
    first = viewer.add_image(lattice_image, name="a")
    viewer.add_image(lattice_image, name="b")
    lattice = LatticeWidget(viewer)
    label = ThresholdLabelWidget(viewer)
    label.image.value = first
    label()
    assert lattice.points.value.name == "a centers"
    assert lattice.image.value is first


def test_points_picked_by_hand_bring_their_image(viewer, lattice_image):
    """Points "nuc centers" (0.2 × 0.1 µm, moved) picked in the box while "lat" (the
    newest columns' image) was the bounds: the image stayed "lat", and the run said "9 of
    the 172 points … lie outside the image of shape (64, 64)" without naming it. The
    points' own image now comes with them; an image picked by hand stays, and points
    outside it are refused naming it."""
    nuc = viewer.add_image(lattice_image, name="nuc", scale=(0.2, 0.1), translate=(10, -5),
                           units="µm")
    viewer.add_points(grid(), name="nuc centers", scale=(0.2, 0.1), translate=(10, -5),
                      units="µm")
    lat = viewer.add_image(lattice_image, name="lat")
    viewer.add_points(grid(), name="lat columns")
    widget = LatticeWidget(viewer)
    assert widget.image.value is lat
    widget.points.value = viewer.layers["nuc centers"]
    assert widget.image.value is nuc
    assert widget() is not None and widget._status.value.split("; ")[1].endswith("µm")
    widget.image.value = lat  # by hand: kept, whatever points come next
    widget.points.value = viewer.layers["lat columns"]
    widget.points.value = viewer.layers["nuc centers"]
    assert widget.image.value is lat
    assert widget() is None
    assert "lie outside the image 'lat' (64 × 64 pixels)" in widget._status.value


def test_deleted_points_fall_back_with_their_own_image(viewer, lattice_image):
    """Columns of "B" deleted after a run on them: the widget took "A columns" but kept
    "B" for the bounds, reading A's points as B's pixels. Now "A" comes with them, and
    the status says so; with no image placed as the remaining points, none."""
    a = viewer.add_image(lattice_image, name="A", scale=(0.5, 0.5), units="nm")
    viewer.add_points(grid(), name="A columns", scale=(0.5, 0.5), units="nm")
    viewer.add_image(lattice_image, name="B", scale=(0.2, 0.2), units="nm")
    b_cols = viewer.add_points(grid(), name="B columns", scale=(0.2, 0.2), units="nm")
    widget = LatticeWidget(viewer)
    assert widget.points.value is b_cols and widget.image.value.name == "B"
    assert widget() is not None
    viewer.layers.remove(b_cols)
    assert widget.points.value.name == "A columns" and widget.image.value is a
    assert "'B columns' was deleted: now 'A columns'" in widget._status.value
    assert "the image 'A'" in widget._status.value
    assert widget() is not None
    assert "nm" in widget._status.value
    # points placed as no image is: no image for the bounds
    viewer.add_points(grid(), name="clicked", scale=(0.3, 0.3), units="nm")
    widget.points.value = viewer.layers["clicked"]
    assert widget() is not None
    viewer.layers.remove("clicked")
    assert widget.points.value.name == "A columns" and widget.image.value is a
    viewer.add_points(grid(), name="other", scale=(0.3, 0.3), units="nm")
    widget.points.value = viewer.layers["other"]
    widget.image.value = a
    viewer.layers.remove("A columns")  # not the chosen one: nothing changes
    assert widget.points.value.name == "other" and widget.image.value is a
    widget()
    viewer.layers.remove("other")  # no Points left
    assert widget.points.value is None and "deleted" in widget._status.value


def test_an_image_a_run_used_stays_as_layers_come_and_goes_with_picked_points(viewer):
    """The image the widget filled in, once run on, is kept as new images and points come;
    points then picked by hand bring theirs, and the image follows them again."""
    a = viewer.add_image(np.zeros((48, 48)), name="A", units="µm")
    viewer.add_points(grid(), name="A columns", units="µm")
    widget = LatticeWidget(viewer)
    assert widget.image.value is a
    assert widget() is not None
    b = viewer.add_image(np.zeros((96, 96)), name="B", scale=(0.5, 0.5), units="µm")
    viewer.add_points(grid(), name="B columns", scale=(0.5, 0.5), units="µm")
    assert widget.points.value.name == "A columns" and widget.image.value is a
    widget.points.value = viewer.layers["B columns"]
    assert widget.image.value is b
    c = viewer.add_image(np.zeros((96, 96)), name="C", scale=(0.5, 0.5), units="µm")
    assert widget.image.value is b  # B is the one named after the points
    viewer.layers.remove(b)  # the image deleted: the points' other image takes its place
    assert widget.image.value is c and widget.points.value.name == "B columns"


def test_a_deleted_labels_input_gives_the_box_back_to_points_and_their_image(viewer):
    """A Labels input chosen, then deleted: the widget falls back to the newest points,
    enables the image box again and pairs their image."""
    image = viewer.add_image(np.zeros((48, 48)), name="A")
    viewer.add_points(grid(), name="A columns")
    labels = np.zeros((48, 48), dtype=np.int32)
    for k, (r, c) in enumerate(grid().astype(int), start=1):
        labels[r - 1:r + 2, c - 1:c + 2] = k
    cells = viewer.add_labels(labels, name="cells")
    widget = LatticeWidget(viewer)
    widget.points.value = cells
    assert not widget.image.enabled
    assert widget() is not None
    viewer.layers.remove(cells)
    assert widget.points.value.name == "A columns"
    assert widget.image.enabled and widget.image.value is image
    assert "'cells' was deleted: now 'A columns'" in widget._status.value
    assert widget() is not None
