"""The Lattice & Voronoi widget's "image (for bounds)" box: an empty choice of the user's
is kept; with a Labels layer the box is not used and says so. (Its grid is 8 × 8 points 3
apart: not the shared helpers' grid.) Each test fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
from _widget_helpers import finished, names

from napari_tessella._widgets import LatticeWidget


def grid(n: int = 8, step: float = 3.0, offset: float = 1.5) -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"),
                    -1).reshape(-1, 2) * step + offset


def test_an_empty_image_chosen_by_hand_stays_empty(make_napari_viewer, qtbot):
    """The empty entry chosen in the docked widget's image box, then Run: the outputs
    added refreshed the boxes and "grid image" was picked again, so the next run took it
    for the bounds (and made a pixel map nobody asked an image for). An image added later
    picked it again too."""
    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((24, 24)), name="grid image", units="µm")
    viewer.add_points(grid(), name="grid columns", units="µm", size=0.8)
    _dock, widget = viewer.window.add_plugin_dock_widget("napari-tessella",
                                                         "Lattice & Voronoi")
    assert widget.image.value is viewer.layers["grid image"]
    box = widget.image.native
    box.setCurrentIndex(box.findText("-----"))  # the empty entry, as a user picks it
    assert widget.image.value is None
    widget.pixel_map.value = True
    widget._run_button.native.click()
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert names(viewer)[2:] == ["grid columns Delaunay", "grid columns Voronoi"]
    assert widget.image.value is None
    assert widget() is not None  # the second run: the points' own bounds again
    assert "grid columns Voronoi map" not in names(viewer)
    assert widget._last_lattice[0][0] is None  # no image shape for the bounds
    viewer.add_image(np.ones((24, 24)), name="another", units="µm")
    assert widget.image.value is None


def test_an_empty_image_set_in_a_script_stays_and_points_still_bring_theirs(viewer):
    """``w.image.value = None; w()`` in a script: the run's outputs picked the image again.
    An empty choice is kept through runs and new layers; points then picked by hand still
    bring the image they sit on."""
    viewer.add_image(np.zeros((24, 24)), name="grid image", units="µm")
    viewer.add_points(grid(), name="grid columns", units="µm", size=0.8)
    widget = LatticeWidget(viewer)
    widget.image.value = None
    assert widget() is not None
    assert widget.image.value is None
    nuc = viewer.add_image(np.zeros((48, 48)), name="nuc", scale=(0.5, 0.5), units="µm")
    viewer.add_points(grid(), name="nuc centers", scale=(0.5, 0.5), units="µm")
    assert widget.image.value is None  # neither the new image nor the new points' image
    widget.points.value = viewer.layers["nuc centers"]
    assert widget.image.value is nuc  # the pairing of points picked by hand
    assert widget() is not None and widget._last_lattice[0][0] == (48, 48)


def test_a_labels_input_disables_the_image_box_and_says_why(viewer):
    """With a Labels layer as the input the lattice's bounds, pixel map and unit are the
    labels' own and the image is never read, yet its box still showed "grid image" as
    if it set the bounds. The box is now disabled with a tooltip saying so, and enabled
    again for points."""
    image = viewer.add_image(np.zeros((24, 24)), name="grid image")
    labels = np.zeros((24, 24), dtype=np.int32)
    for k, (r, c) in enumerate(grid(4, 6.0, 3.0).astype(int), start=1):
        labels[r - 1:r + 2, c - 1:c + 2] = k
    viewer.add_labels(labels, name="cells")
    viewer.add_points(grid(), name="grid columns")
    widget = LatticeWidget(viewer)
    assert widget.image.enabled
    widget.points.value = viewer.layers["cells"]
    assert not widget.image.enabled
    assert "not used with a labels input" in widget.image.tooltip.lower()
    assert widget() is not None
    assert "bounds: the labels' own" in widget._status.value
    widget.points.value = viewer.layers["grid columns"]
    assert widget.image.enabled and widget.image.value is image
    assert "not used" not in widget.image.tooltip.lower()
