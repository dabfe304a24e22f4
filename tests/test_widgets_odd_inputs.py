"""Inputs a user of other microscopes and tools brings: images of very different value
ranges (int64, 12- and 16-bit cameras), a grid too large for a pixel map, Labels with
negative ids (another tool's "ignore" value). Each test fails on the behaviour it fixed."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import _dots, discs, grid

from napari_tessella._widgets import LatticeWidget, SeededWatershedWidget, ThresholdLabelWidget
from napari_tessella.synthetic import synthetic_nuclei

# --- value ranges far apart: int64, 12- and 16-bit cameras with a dark offset


@pytest.mark.parametrize("ranges", [(5e18, 1.0), (4e9, 1e-6), (1.0, 1e-6), (1e-6, 1e4)])
def test_threshold_slider_after_an_image_of_a_very_different_range(viewer, lattice_image,
                                                                    ranges):
    """An int64 image of range 5e18 (or uint32 of 4e9), then an image of range 1: the
    slider spanned (0, 0) and could not be dragged; ranges of 1e-6 overflowed. Now each
    image's range, and a manual value in the middle of it stays there."""
    clean = np.clip(lattice_image, 0, None) / lattice_image.max()
    first, second = ranges
    dtype = np.int64 if first > 1e9 else float
    viewer.add_image((clean * first).astype(dtype), name="first")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = viewer.layers["first"]
    assert widget.value.max == pytest.approx(first, rel=1e-3)
    widget.image.value = viewer.add_image(clean * second, name="second")
    assert widget.value.max == pytest.approx(second, rel=1e-3)
    assert widget.value.min == pytest.approx(0.0, abs=second * 1e-3)
    widget.value.value = second / 2  # the user's own value: manual
    assert widget.method.value == "manual"
    assert widget.value.value == pytest.approx(second / 2, rel=2e-3)
    assert widget() is not None
    assert viewer.layers["second labels"].data.max() > 10


def test_threshold_slider_takes_a_camera_images_range(viewer):
    """A 12-bit camera image (dark offset 48, top 3387) or a 16-bit one (1000-60000): the
    slider said "cannot follow the range of 'cam' (48–3387): use a method" (the bottom, set
    above the new slider's top of 1, became 4.8 when the step changed)."""
    nuclei = synthetic_nuclei(seed=1).image
    widget = ThresholdLabelWidget(viewer)
    for name, top, lo, hi in (("12-bit", 4095, 48, 3387), ("16-bit", 65535, 1000, 60000)):
        span = nuclei.max() - nuclei.min()
        data = np.round(lo + (nuclei - nuclei.min()) / span * (hi - lo)).astype(np.uint16)
        assert data.min() == lo and data.max() == hi <= top
        image = viewer.add_image(data, name=name)
        widget.image.value = image
        assert "⚠" not in widget._status.value, widget._status.value
        assert abs(widget.value.min - lo) <= (hi - lo) / 1000
        assert abs(widget.value.max - hi) <= (hi - lo) / 1000
        assert lo < widget.value.value < hi  # the method's threshold, on the slider
        widget.method.value = "manual"
        widget.value.value = (lo + hi) / 2
        assert widget() is not None and "objects" in widget._status.value
        widget.method.value = "otsu"


# --- a grid too large for a pixel map


@pytest.mark.parametrize("kind", ["image", "labels"])
def test_a_pixel_map_of_a_large_grid_is_refused_before_any_work(viewer, monkeypatch, kind):
    """A 30000 × 30000 lazy image for the bounds and 'pixel Voronoi map' ticked: the
    widget made the map in memory (the map alone: 64 s of CPU and 12.5 GB at peak). A map
    of a grid over the plugin's "large" limit is now refused at once, saying what to do,
    the lattice core never called; unticked, the run goes on. (Here with the limit lowered
    to 32 × 32: a 30000² image would load the test machine as it loaded the user's.)"""
    from napari_tessella import _lazy
    from napari_tessella._widgets import lattice as lattice_widget

    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 32 * 32)
    monkeypatch.setattr(lattice_widget, "LARGE_PIXELS", 32 * 32)
    calls = []
    real = lattice_widget.lattice
    monkeypatch.setattr(lattice_widget, "lattice",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    labels = np.zeros((64, 64), np.int32)
    for k, (r, c) in enumerate(grid(6, 10.0, 5.0).astype(int), start=1):
        labels[r - 1:r + 2, c - 1:c + 2] = k
    if kind == "image":
        viewer.add_image(np.zeros((64, 64)), name="slide")
        viewer.add_points(grid(6, 10.0, 5.0), name="slide columns")
    else:
        viewer.add_labels(labels, name="slide")
    widget = LatticeWidget(viewer)
    widget.points.value = viewer.layers["slide columns" if kind == "image" else "slide"]
    widget.pixel_map.value = True
    assert widget() is None
    assert "pixel Voronoi map of 'slide' (64 × 64 pixels) is too large" in \
        widget._status.value
    assert "over 1,024 pixels, 32 × 32" in widget._status.value
    assert "untick 'pixel Voronoi map'" in widget._status.value and not calls
    widget.pixel_map.value = False
    assert widget() is not None and len(calls) == 1


# --- Labels with negative ids (another tool's "ignore" value) are refused by name


def _negative(viewer, name):
    labels = _dots(lambda i: -(i + 1), np.int16)
    return viewer.add_labels(labels, name=name), labels


def test_negative_seed_ids_are_refused_naming_the_layer(viewer):
    """Seeds with ids below 0 were refused as "seeds has negative values; labels must be 0
    (background) or positive.": 'seeds' and 'labels' are Python arguments, not the layer
    the user chose. The message names the layer and its lowest id."""
    image = viewer.add_image(discs(), name="dna")
    layer, before = _negative(viewer, "ilastik seeds")
    widget = SeededWatershedWidget(viewer)
    widget.image.value, widget.seeds.value = image, layer
    widget()
    status = widget._status.value
    assert "the seeds layer 'ilastik seeds' has negative labels (down to -4)" in status
    assert "dna nuclei" not in viewer.layers
    assert np.array_equal(layer.data, before)


def test_negative_lattice_labels_are_refused_naming_the_layer(viewer):
    """The same for a Labels input of the Lattice: "labels has negative values; …"."""
    layer, before = _negative(viewer, "cellpose masks")
    widget = LatticeWidget(viewer)
    widget.points.value = layer
    widget()
    status = widget._status.value
    assert "the Labels layer 'cellpose masks' has negative labels (down to -4)" in status
    assert np.array_equal(layer.data, before)
