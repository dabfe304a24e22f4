"""The Seeded watershed widget: nuclei, their territories and seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, PushButton

from .._lazy import is_lazy
from ..nuclei import default_min_size, estimate_object_diameter, seeded_watershed
from ._base import _USER_ERRORS, _DockWidget, _lazy_max, _store_labels
from ._layers import (
    _geometry,
    _layer_choices,
    _layer_data,
    _pixel_size,
    _plane,
    _points_in_pixels,
    _unit,
)

if TYPE_CHECKING:
    import napari

class SeededWatershedWidget(_DockWidget):
    """Nuclei: smoothing → threshold → seeds → watershed → territories."""

    _progress_text = "Watershed"
    _operation = "seeded_watershed"

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image, Labels, Points

        self.image = ComboBox(label="image", choices=_layer_choices(
            napari_viewer, Image))
        self.seeds = ComboBox(
            label="seeds (optional)", nullable=True,
            choices=_layer_choices(napari_viewer, Points, Labels),
            tooltip="A Points or Labels layer of seeds; empty = find seeds automatically.",
        )
        self.object_diameter = FloatSpinBox(
            label="object diameter", min=0.0, max=1e6, step=1.0, value=0.0,
            tooltip="Typical nucleus diameter in the layer's units; 0 = estimate it.",
        )
        self.min_area = FloatSpinBox(
            label="min nucleus area", min=0.0, max=1e12, step=1.0, value=0.0,
            tooltip="Smallest nucleus kept, in the layer's units²; 0 = a disc of two thirds "
                    "of the diameter, π (d/3)². Lower it to keep small nuclei or fragments.",
        )
        self.landscape = ComboBox(label="landscape", choices=["distance", "intensity"],
                                  value="distance")
        self.exclude_border = CheckBox(text="drop nuclei touching the border", value=False)
        self.estimate = PushButton(text="Estimate diameter")
        super().__init__(
            napari_viewer,
            [self.image, self.seeds, self.object_diameter, self.estimate, self.min_area,
             self.landscape, self.exclude_border],
        )
        self.label = "Seeded watershed"
        self.seeds.value = None
        self.estimate.changed.connect(self._estimate)

    def parameters(self) -> dict:
        py, px = _pixel_size(self.image.value)
        diameter = self.object_diameter.value / px if self.object_diameter.value else None
        min_size = (max(1, round(self.min_area.value / (py * px))) if self.min_area.value
                    else None)
        return {"object_diameter": diameter, "min_size": min_size,
                "landscape": self.landscape.value, "exclude_border": self.exclude_border.value}

    def set_parameters(self, params: dict) -> None:
        py, px = _pixel_size(self.image.value)
        if "object_diameter" in params:
            self.object_diameter.value = (params["object_diameter"] or 0.0) * px
        if "min_size" in params:
            self.min_area.value = (params["min_size"] or 0.0) * py * px
        for name in ("landscape", "exclude_border"):
            if name in params:
                getattr(self, name).value = params[name]

    def _estimate(self, *_):
        layer = self.image.value
        if layer is None:
            return
        try:
            d = estimate_object_diameter(_plane(layer, self._viewer, lazy=True))
        except _USER_ERRORS as err:
            self._report_error(err)
            return
        py, px = _pixel_size(layer)
        self.object_diameter.value = round(d * px, 3)
        area = default_min_size(d)
        unit = _unit(layer)
        if unit:  # in the layer's units first, as the fields are
            self._status.value = (
                f"estimated diameter: {d * px:.3g}{unit} ({d:.1f} px); nuclei under "
                f"{area * py * px:.3g}{unit}² ({area} px) are dropped unless you set a "
                "min nucleus area")
        else:
            self._status.value = (f"estimated diameter: {d:.1f} px; nuclei under {area} px "
                                  "are dropped unless you set a min nucleus area")

    def _prepare(self):
        from napari.layers import Labels

        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, lazy=True)
        geo = _geometry(layer)
        seeds_layer = self.seeds.value
        seeds = None
        if seeds_layer is not None:
            if isinstance(seeds_layer, Labels):
                if is_lazy(image):
                    raise ValueError(
                        f"{layer.name!r} is processed chunk by chunk: give the seeds as a "
                        "Points layer (a Labels layer of seeds is not supported there).")
                seeds = _plane(seeds_layer, self._viewer)
                if seeds.shape != image.shape:
                    raise ValueError(
                        f"seed labels {seeds_layer.name!r} have shape {seeds.shape}, the image "
                        f"{layer.name!r} has {image.shape}."
                    )
            else:
                seeds = _points_in_pixels(seeds_layer, layer)
                if len(seeds) == 0:
                    raise ValueError(f"the seeds layer {seeds_layer.name!r} has no points.")
        kwargs = self.parameters()  # diameter in pixels, from the layer's units
        name = layer.name

        def job():
            result = seeded_watershed(image, seeds=seeds, **kwargs)
            nuclei, territories = result.labels, result.territories
            extra = {}
            if is_lazy(nuclei):  # chunk by chunk; both stored as Zarr pyramids in one pass
                stored, _ = _store_labels({"nuclei": nuclei, "territories": territories},
                                          f"{name} watershed")
                n = _lazy_max(stored["nuclei"][0])  # nuclei are numbered 1..n
                nuclei, multiscale = _layer_data(stored["nuclei"])
                territories, _ = _layer_data(stored["territories"])
                extra = {"multiscale": multiscale}
            else:
                n = int(len(np.unique(nuclei)) - 1)
            outputs = [
                ("territories", (territories, {
                    "name": f"{name} territories", "opacity": 0.35, **geo, **extra}, "labels")),
                ("nuclei", (nuclei, {"name": f"{name} nuclei", **geo, **extra}, "labels")),
                ("seeds", (result.seeds, {
                    "name": f"{name} seeds", "size": max(3.0, result.object_diameter / 6),
                    "face_color": "#ffff00", "border_width": 0, **geo}, "points")),
            ]
            message = (f"{n} nuclei in {name!r} (diameter {result.object_diameter:.1f} px, "
                       f"min size {result.min_size} px, {len(result.seeds)} seeds)")
            return outputs, message

        return job
