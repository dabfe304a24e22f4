"""The Seeded watershed widget: nuclei, their territories and seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox, PushButton

from .._finite import (
    blank_plane,
    empty_watershed,
    seeded_watershed_finite,
    whole_part,
)
from .._lazy import is_lazy
from .._validation import counted
from ..nuclei import default_min_size, estimate_object_diameter, seeded_watershed
from ._base import _USER_ERRORS, _DockWidget, _drain, _measured_labels
from ._layers import (
    _area_text,
    _geometry,
    _labels_features,
    _layer_choices,
    _plane,
    _set_field,
    _unit,
    _with_physical,
)
from ._physical import _pixel
from ._seeds import seeds_on_plane

if TYPE_CHECKING:
    import napari

class SeededWatershedWidget(_DockWidget):
    """Nuclei: smoothing → threshold → seeds → watershed → territories."""

    _progress_text = "Watershed"
    _operation = "seeded_watershed"
    _words = (("object_diameter", "'object diameter' (in pixels)"),
              ("min_size", "'min nucleus area' (in pixels)"), ("landscape", "'landscape'"))
    _lengths = (("object_diameter", "an object diameter of ", "the object diameter"),)
    _unit_fields = (("object_diameter", 1, 0.1), ("min_area", 2, 1.0))

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image, Labels, Points

        self.image = ComboBox(label="image", choices=_layer_choices(napari_viewer, Image),
                              tooltip="The DNA (nuclei) image; outputs are named after it.")
        self.seeds = ComboBox(
            label="seeds (optional)", nullable=True,
            choices=_layer_choices(napari_viewer, Points, Labels),
            tooltip="A Points or Labels layer of seeds inside the image; empty = find seeds "
                    "automatically.",
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
        self.landscape = ComboBox(
            label="landscape", choices=["distance", "intensity"], value="distance",
            tooltip="What the watershed floods: 'distance' splits touching round nuclei at "
                    "their waist; 'intensity' follows dark gaps in the DNA signal.")
        self.exclude_border = CheckBox(text="drop nuclei touching the border", value=False,
                                       tooltip="Nuclei cut by the image edge are removed.")
        self.estimate = PushButton(
            text="Estimate diameter",
            tooltip="Estimate the typical nucleus diameter from the image and fill it in.")
        super().__init__(
            napari_viewer,
            [self.image, self.seeds, self.object_diameter, self.estimate],
            advanced=[self.min_area, self.landscape, self.exclude_border],
        )
        self.label = "Seeded watershed"
        for field in (self.object_diameter, self.min_area):  # 0 read as a diameter of 0
            field.native.setSpecialValueText("auto")
        self.seeds.value = None
        self.estimate.changed.connect(self._estimate)

    def parameters(self) -> dict:
        pixel = _pixel(self.image.value).area  # a sheared pixel's: not row × column size
        length = _pixel(self.image.value).length
        diameter = self.object_diameter.value / length if self.object_diameter.value else None
        min_size = (max(1, round(self.min_area.value / pixel)) if self.min_area.value
                    else None)
        return {"object_diameter": diameter, "min_size": min_size,
                "landscape": self.landscape.value, "exclude_border": self.exclude_border.value}

    def set_parameters(self, params: dict) -> None:
        pixel = _pixel(self.image.value).area
        if "object_diameter" in params:
            _set_field(self.object_diameter, (params["object_diameter"] or 0.0)
                       * _pixel(self.image.value).length)
        if "min_size" in params:
            _set_field(self.min_area, (params["min_size"] or 0.0) * pixel)
        for name in ("landscape", "exclude_border"):
            if name in params:
                getattr(self, name).value = params[name]

    def _side_inputs(self) -> tuple:
        return (self.seeds.value,)

    def _estimate_job(self):
        """Read the shown plane (UI thread); the job estimates its diameter (worker)."""
        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, lazy=True)
        _pixel(layer)  # the estimate is shown in the layer's units: refused before

        def job():
            yield "estimating the nucleus diameter"
            # NaN pixels, a constant frame or fill: outside the image (as in the run)
            part = whole_part(image)  # (None for a lazy image)
            return estimate_object_diameter(image if part is None else part.image)

        job.stages = 1
        return job

    def _estimate(self, *_):
        """The Estimate diameter button: off the UI thread, with the progress bar."""
        layer = self.image.value
        if self._worker is not None:
            self._status.value = "⚠ a run is going: estimate once it is done (or Cancel it)"
            return
        self._start(prepare=self._estimate_job,
                    done=lambda d: self._show_estimate(d, layer))

    def estimate_diameter(self) -> float | None:
        """Estimate the diameter now (scripts, tests) and fill it in; None if it failed."""
        try:
            d = _drain(self._estimate_job())
        except _USER_ERRORS as err:
            self._report_error(err)
            return None
        self._show_estimate(d, self.image.value)
        return d

    def _show_estimate(self, d: float, layer):
        length = _pixel(layer).length
        _set_field(self.object_diameter, float(f"{d * length:.6g}"))  # 6 figures, any unit
        # the default min size of the diameter the run will read from the field (kept to a
        # tenth of a pixel), written as the run writes it: from the unrounded estimate it
        # said "36.2 µm² (290 px)" where the run said "36.12 µm² = 289 px"
        area = default_min_size(self.object_diameter.value / length)
        pixel_area = _pixel(layer).area
        unit = _unit(layer)
        size = f"{d:.1f} px" if not unit else f"{d * length:.3g}{unit} ({d:.1f} px)"
        self._status.value = (
            f"estimated diameter: {size}; nuclei under {_area_text(area, pixel_area, unit)} "
            "are dropped unless you set a min nucleus area")

    def _prepare(self):
        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, lazy=True, index=self._plane_index)
        geo = _geometry(layer)
        seeds_layer = self.seeds.value
        seeds = None if seeds_layer is None else seeds_on_plane(
            seeds_layer, layer, self._viewer, self._plane_index, image)
        seeds_name = seeds_layer.name if seeds_layer is not None else None
        kwargs = self.parameters()  # diameter in pixels, from the layer's units
        name = layer.name
        unit, px = _unit(layer), _pixel(layer).length
        if kwargs["object_diameter"] is not None and kwargs["object_diameter"] < 1 and unit:
            # in the field's unit, as its other bounds are: the core's "must be >= 1
            # pixels; got 0.6" answered a diameter typed in µm with a number in pixels
            least = f"{px:.4g}{unit}"
            raise ValueError(f"an object diameter of {self.object_diameter.value:.4g}{unit} "
                             f"is under one pixel ({least}): give at least {least}, or 0 "
                             "(auto) to estimate it.")
        pixel_area = _pixel(layer).area

        # a blank plane of a stack run plane by plane (a dropped frame): no nuclei there,
        # said, where the core's refusal of it as an image stopped the whole stack's run
        blank = (self._plane_index is not None and not is_lazy(image)
                 and blank_plane(image))

        def job():
            yield "smoothing, seeds and watershed"
            if blank:
                result, said, measured = empty_watershed(image.shape), "", None
            elif is_lazy(image):  # (chunk by chunk: the core's own checks)
                result = seeded_watershed(image, seeds=seeds, **kwargs)
                said, measured = "", image
            else:  # NaN or infinite pixels (a mosaic's padding): outside the image
                result, said, measured = seeded_watershed_finite(image, seeds=seeds, **kwargs)
                job.outside = said  # (said for a stack's other planes)
            nuclei, territories = result.labels, result.territories
            yield "measuring nuclei"
            data, extra, table = _measured_labels(
                {"nuclei": nuclei, "territories": territories},
                np.zeros(nuclei.shape) if blank else measured, f"{name} watershed")
            nuclei, territories = data["nuclei"], data["territories"]
            n = len(table)
            table = _with_physical(table, geo)
            points = np.asarray(result.seeds, dtype=float).reshape(-1, 2)
            seed_table = _with_physical(pd.DataFrame({"row": points[:, 0],
                                                      "col": points[:, 1]}), geo)
            outputs = [
                ("territories", (territories, {
                    "name": f"{name} territories", "opacity": 0.35, **geo, **extra}, "labels")),
                ("nuclei", (nuclei, {"name": f"{name} nuclei", **geo, **extra,
                                     "features": _labels_features(table)}, "labels")),
                ("seeds", (points, {
                    "name": f"{name} seeds", "size": max(3.0, result.object_diameter / 6),
                    "features": seed_table.drop(columns=["row", "col"]),
                    "face_color": "#ffff00", "border_width": 0, **geo}, "points")),
            ]
            if blank:
                return outputs, f"0 nuclei in {name!r}: the plane is {blank}"  # (plane 0)
            d = result.object_diameter
            size = f"{d:.1f} px" if not unit else f"{d * px:.3g}{unit} = {d:.1f} px"
            message = (f"{counted(n, 'nucleus', 'nuclei')} in {name!r} (diameter {size}, "
                       f"min size {_area_text(result.min_size, pixel_area, unit)}, "
                       f"{counted(len(result.seeds), 'seed')})")
            if n == 0 and seeds_name is not None:  # else no word why
                message += (f": no seed of {seeds_name!r} lies on a nucleus (the foreground "
                            "the threshold finds); check that the seeds were made on this "
                            "image")
            elif n == 0 and (kwargs["min_size"] or kwargs["exclude_border"]):
                filters = [text for on, text in (
                    (kwargs["min_size"], "the min nucleus area of "
                     f"{_area_text(result.min_size, pixel_area, unit)}"),
                    (kwargs["exclude_border"], "'drop nuclei touching the border'")) if on]
                message += f": {' or '.join(filters)} may have removed them all"
            if said:
                message += f"; {said}"
            return outputs, message

        job.stages = 2
        job.blank = f"no nuclei, the plane is {blank}" if blank else ""  # (said for a stack)
        return job
