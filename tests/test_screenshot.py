"""What a user sees: the output layers are really drawn on the canvas."""

from __future__ import annotations

import numpy as np

from napari_tessella._widgets import LatticeWidget, ThresholdLabelWidget


def colourful(shot: np.ndarray) -> np.ndarray:
    """Pixels that are clearly not gray (the image itself is drawn in gray)."""
    rgb = shot[..., :3].astype(int)
    return (rgb.max(axis=-1) - rgb.min(axis=-1)) > 60


def test_outputs_are_drawn(stem_image, make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    image = viewer.add_image(stem_image, name="NbW", colormap="gray")
    before = viewer.screenshot(canvas_only=True, flash=False)
    assert colourful(before).mean() < 0.001  # a gray image is gray

    thresh = ThresholdLabelWidget(viewer)
    thresh.image.value = image
    thresh.value.value = 0.62
    thresh.opening.value = 2
    thresh()
    lat = LatticeWidget(viewer)
    lat.points.value = viewer.layers["NbW centers"]
    lat.image.value = image
    lat()
    viewer.reset_view()
    after = viewer.screenshot(canvas_only=True, flash=False)
    # labels, centres and bonds colour much of the micrograph (0.17 here), while the image
    # itself still shows between them: no pixel map over it by default
    assert colourful(after).mean() > 0.1

    # each output layer changes the picture on its own
    outputs = [layer for layer in viewer.layers if layer is not image]
    for layer in outputs:
        layer.visible = False
    for layer in outputs:
        layer.visible = True
        shot = viewer.screenshot(canvas_only=True, flash=False)
        layer.visible = False
        assert colourful(shot).mean() > 0.01, f"{layer.name} is not visible on the canvas"
