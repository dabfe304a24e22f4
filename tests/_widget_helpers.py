"""Small helpers shared by the widget test files: the four-disc nuclei field, a grid of
points, the layer names of a viewer, whether a widget's run is done, the lattice legend as
text, seed dots painted on the discs, a widget set up on an image."""

from __future__ import annotations

import numpy as np

CENTRES = np.array([[32.0, 30.0], [32.0, 54.0], [90.0, 40.0], [80.0, 96.0]])


def discs(shape=(128, 128), radius: float = 11.0) -> np.ndarray:
    """Four bright discs (nuclei), the first two touching, on a dark field."""
    rr, cc = np.indices(shape)
    image = np.zeros(shape)
    for r, c in CENTRES:
        image[(rr - r) ** 2 + (cc - c) ** 2 <= radius**2] = 1.0
    return image


def nucleus_ids(labels: np.ndarray) -> list[int]:
    return [int(labels[int(r), int(c)]) for r, c in CENTRES]


def _dots(value_of=lambda i: 1, dtype=np.int32):
    """A small square seed painted on each disc's centre, the i-th with ``value_of(i)``."""
    seeds = np.zeros((128, 128), dtype)
    for i, (r, c) in enumerate(CENTRES.astype(int)):
        seeds[r - 2:r + 3, c - 2:c + 3] = value_of(i)
    return seeds


def grid(n: int = 6, step: float = 8.0, offset: float = 4.0) -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"),
                    -1).reshape(-1, 2) * step + offset


def names(viewer):
    return [layer.name for layer in viewer.layers]


def finished(widget):
    return widget._worker is None and not getattr(widget, "_stepping", 0)


def legend_of(widget) -> str:
    """The lattice legend's text, its no-break spaces (number and unit) as spaces."""
    return widget.legend.value.replace("\u00a0", " ")


def widget_on(kind: str, viewer, image, **fields):
    """A new widget of class ``kind`` (of ``napari_tessella._widgets``) on ``viewer`` with
    ``image`` chosen and each of ``fields`` (a field's name: its value) set."""
    from napari_tessella import _widgets

    widget = getattr(_widgets, kind)(viewer)
    widget.image.value = image
    for key, value in fields.items():
        getattr(widget, key).value = value
    return widget


def watershed_widget(viewer, image, **fields):
    """A Seeded watershed widget on ``image`` (:func:`widget_on`)."""
    return widget_on("SeededWatershedWidget", viewer, image, **fields)


def threshold_widget(viewer, image, **fields):
    """A Threshold & label widget on ``image`` (:func:`widget_on`)."""
    return widget_on("ThresholdLabelWidget", viewer, image, **fields)
