"""Every widget driven through a matrix of odd inputs in a real viewer: whatever layer is
chosen (2-D, stack, RGB, constant, tiny, NaN, empty points, labels), deleted or shown at
another plane, and whatever extreme value a field takes, the answer is a result or a
message in the widget — never a traceback — and no input layer is modified."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_lattice


@pytest.fixture
def odd_viewer(make_napari_viewer):
    viewer = make_napari_viewer()
    lat = synthetic_lattice((64, 64), spacing=8.0, seed=0).image
    viewer.add_image(lat, name="plain")
    viewer.add_image(np.stack([lat, lat[::-1], np.zeros_like(lat)]), name="stack")
    viewer.add_image(np.stack([lat] * 3, axis=-1), name="rgb", rgb=True)
    viewer.add_image(np.full((64, 64), 3.0), name="constant")
    viewer.add_image(np.ones((1, 1)), name="tiny")
    nan = lat.copy()
    nan[5, 5] = np.nan
    viewer.add_image(nan, name="nan")
    viewer.add_image((lat * 255).astype(np.uint8), name="uint8")
    viewer.add_points(np.empty((0, 2)), name="no points")
    viewer.add_points([[10, 10], [10, 10], [20, 30]], name="duplicate points")
    viewer.add_points([[1, 10, 10], [2, 20, 30], [2, 40, 20], [2, 5, 50]], name="3-D points")
    labels = np.zeros((64, 64), np.int32)
    labels[10:20, 10:20] = 1
    labels[40:50, 30:45] = 2
    viewer.add_labels(labels, name="labels")
    return viewer


def _snapshot(viewer):
    return {layer.name: np.array(layer.data, copy=True) for layer in viewer.layers
            if layer._type_string in ("image", "points", "labels")}


def _run(widget):
    """Run synchronously; a user error is a message, anything else fails the test."""
    result = widget()
    assert result is None or isinstance(result, list)
    if result is None:
        assert widget._status.value, "a failed run must say why in the widget"


IMAGE_WIDGETS = [ThresholdLabelWidget, SeededWatershedWidget, FindAtomsWidget]
IMAGES = ["plain", "stack", "rgb", "constant", "tiny", "nan", "uint8"]


@pytest.mark.parametrize("widget_type", IMAGE_WIDGETS)
def test_image_widgets_answer_every_image(odd_viewer, widget_type):
    before = _snapshot(odd_viewer)
    widget = widget_type(odd_viewer)
    for name in IMAGES:
        widget.image.value = odd_viewer.layers[name]
        _run(widget)
    odd_viewer.dims.set_current_step(0, 2)  # the stack's last (empty) plane
    widget.image.value = odd_viewer.layers["stack"]
    _run(widget)
    for name, data in before.items():
        np.testing.assert_array_equal(odd_viewer.layers[name].data, data, err_msg=name)


def test_watershed_with_every_seeds_layer(odd_viewer):
    widget = SeededWatershedWidget(odd_viewer)
    widget.image.value = odd_viewer.layers["plain"]
    for name in ("no points", "duplicate points", "3-D points", "labels"):
        widget.seeds.value = odd_viewer.layers[name]
        _run(widget)


def test_lattice_with_every_input(odd_viewer):
    widget = LatticeWidget(odd_viewer)
    for points in ("no points", "duplicate points", "3-D points", "labels"):
        widget.points.value = odd_viewer.layers[points]
        for image in (None, "plain", "tiny", "stack"):
            widget.image.value = None if image is None else odd_viewer.layers[image]
            _run(widget)


@pytest.mark.parametrize("widget_type", [*IMAGE_WIDGETS, LatticeWidget])
def test_deleted_input_layer_is_a_message(odd_viewer, widget_type):
    widget = widget_type(odd_viewer)
    field = widget.points if widget_type is LatticeWidget else widget.image
    chosen = odd_viewer.layers["labels" if widget_type is LatticeWidget else "plain"]
    field.value = chosen
    odd_viewer.layers.remove(chosen)
    _run(widget)


@pytest.mark.parametrize("widget_type", IMAGE_WIDGETS)
def test_extreme_field_values(odd_viewer, widget_type):
    """Every numeric field at its minimum and its maximum."""
    from magicgui.widgets.bases import RangedWidget

    widget = widget_type(odd_viewer)
    widget.image.value = odd_viewer.layers["plain"]
    # the fields are the widget's attributes (sections may sit in Qt containers)
    ranged = [w for w in vars(widget).values() if isinstance(w, RangedWidget)]
    assert ranged, "the widget has numeric fields"
    for field in ranged:
        original = field.value
        for value in (field.min, field.max):
            field.value = value
            _run(widget)
        field.value = original

