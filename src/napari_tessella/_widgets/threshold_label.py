"""The Threshold & label widget: threshold → opening → connected components → centres and
per-object statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, FloatSlider, FloatSpinBox, SpinBox

from .._finite import blank_plane, smoothed_threshold_finite, threshold_label_finite
from .._lazy import is_lazy
from .._validation import counted
from ..measure import OVERSIZED, oversized_objects
from ..threshold import THRESHOLD_METHODS
from ._base import _USER_ERRORS, _DockWidget, _drain, _measured_labels, in_viewer_words
from ._layers import (
    _area_text,
    _current_plane,
    _geometry,
    _image_shape,
    _labels_features,
    _layer_choices,
    _layer_key,
    _plane,
    _set_field,
    _unit,
    _value_range,
    _with_physical,
)
from ._physical import _pixel
from ._stacks import ALL_PLANES, _lead_shape, _placed_on_plane

if TYPE_CHECKING:
    import napari

_MANUAL = "manual"


#: The preview runs on the UI thread at every slider step: keep it to images it can redo
#: in a few tens of milliseconds.
PREVIEW_MAX_PIXELS = 16 * 10**6


class ThresholdLabelWidget(_DockWidget):
    """Threshold → opening → connected components → centres and per-object statistics."""

    _progress_text = "Labelling"
    _operation = "threshold_label"
    _words = (("smooth_sigma", "'smooth σ' (in pixels)"), ("min_size", "'min size' (in pixels)"),
              ("opening", "'opening'"), ("connectivity", "'connectivity'"))
    _lengths = (("smooth_sigma", "a smooth σ of ", "the smooth σ"),)
    _unit_fields = (("smooth_sigma", 1, 0.05), ("min_size", 2, 1.0))  # σ: half-pixel steps

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image

        self.image = ComboBox(label="image", choices=_layer_choices(napari_viewer, Image),
                              tooltip="The image to segment; outputs are named after it.")
        self.method = ComboBox(
            label="threshold", choices=[_MANUAL, *THRESHOLD_METHODS], value="otsu",
            tooltip="A method computes the threshold from the image; 'manual' uses the slider.",
        )
        self.value = FloatSlider(label="value", min=0.0, max=1.0, step=0.001, value=0.5,
                                 tooltip="Threshold in image units; drag it to preview.")
        self.smooth_sigma = FloatSpinBox(
            label="smooth σ (px)", min=0.0, max=1e6, step=0.5, value=0.0,
            tooltip="Gaussian smoothing before thresholding, in the image's units (0 = none).")
        self.opening = SpinBox(
            label="opening (px)", min=0, max=50, value=0,
            tooltip="Side of the square of a binary opening, in pixels (0 = none): removes "
                    "thin bridges between objects.")
        self.connectivity = ComboBox(
            label="connectivity", choices=[("4 (edges)", 1), ("8 (edges+corners)", 2)], value=1,
            tooltip="Which neighbouring pixels join one object: 4 = sharing an edge, 8 = also "
                    "a corner.",
        )
        self.min_size = FloatSpinBox(
            label="min size (px²)", min=0.0, max=1e12, step=1.0, value=0.0,
            tooltip="Smallest object kept, as an area in the image's units² (0 = keep all).")
        self.exclude_border = CheckBox(text="drop objects touching the border", value=False,
                                       tooltip="Objects cut by the image edge are removed.")
        self.dark_objects = CheckBox(text="dark objects (e.g. channels)", value=False,
                                     tooltip="Objects are darker than the threshold.")
        self.live_preview = CheckBox(
            text="live preview", value=True,
            tooltip="Relabel and re-centre at every change (images up to "
                    f"{PREVIEW_MAX_PIXELS // 10**6} Mpx).")
        super().__init__(
            napari_viewer,
            [self.image, self.method, self.value, self.opening, self.dark_objects,
             self.live_preview],
            advanced=[self.smooth_sigma, self.connectivity, self.min_size, self.exclude_border],
        )
        self.label = "Threshold & label"
        self._syncing = False
        self._ready = False  # no preview layers before the user touches anything
        self._watched = None  # the image whose data replacements move the slider
        self._shown = None  # the image the fields were last set for
        self._follow_only = False  # a preview not asked by the user: existing outputs only
        self.image.changed.connect(self._image_changed)
        self.method.changed.connect(self._method_changed)
        self.value.changed.connect(self._value_changed)
        # the method's threshold depends on the smoothing: σ moves the slider too
        self.smooth_sigma.changed.connect(self._method_changed)
        for w in (self.opening, self.connectivity, self.min_size, self.exclude_border,
                  self.dark_objects):
            w.changed.connect(self._preview)
        self._image_changed()
        self._ready = True

    def _refresh_choices(self, event=None):
        """Layers added or removed: a fallback to another image (its own was deleted, or
        the first image added) sets the slider for it but previews nothing, since only
        the user's own changes make layers; the last outputs stay as they are."""
        if not getattr(self, "_ready", False):  # during __init__
            return super()._refresh_choices(event)
        before = self.image.value
        self._ready = False
        try:
            super()._refresh_choices(event)
        finally:
            self._ready = True
        after = self.image.value
        if after is not before and before is not None:
            now = f"now on {after.name!r}: " if after is not None else ""
            self._status.value = (f"the image {before.name!r} was removed; {now}its outputs "
                                  "stay. Change a parameter or press Run to label"
                                  f"{' it' if after is not None else ' an image'}.")

    # --- keeping the slider meaningful for the chosen image and method
    def _image_changed(self, *_, data: bool = False):
        """The user chose another image, or (``data``) the chosen image's data were
        replaced. napari also emits the box's change when the chosen image is renamed:
        nothing to redo then (it made preview layers the user never asked for)."""
        layer = self.image.value
        self._follow_data(layer)
        same, self._shown = layer is self._shown, layer
        if layer is None or (same and not data):
            return
        lo, hi = _value_range(layer)
        if not np.isfinite([lo, hi]).all() or lo >= hi:
            return
        if not self._set_range(lo, hi):
            self._status.value = (f"⚠ the value slider cannot follow the range of "
                                  f"{layer.name!r} ({lo:g}–{hi:g}): use a method")
            return
        # new data: a preview already shown for this image follows it; none is started
        self._follow_only = data
        try:
            self._method_changed()
        finally:
            self._follow_only = False

    def _data_replaced(self, *_):
        self._image_changed(data=True)

    def _set_range(self, lo: float, hi: float) -> bool:
        """Give the value slider the range [lo, hi] in 1000 steps; False if it cannot.

        A new slider each time: magicgui's float slider stores its range as Qt integers
        under a precision that each change moves one way only, so after an image of range
        5e18 one of range 1 got (0, 0), a slider that did not move (and 1e-6 overflowed).
        From a new slider, a small step is set first and a large range first (its top, then
        its bottom)."""
        if (self.value.min, self.value.max) == (lo, hi):
            return True
        old = self.value
        new = FloatSlider(label=old.label, min=0.0, max=1.0, step=0.001, value=0.0,
                          tooltip=old.tooltip)
        step = (hi - lo) / 1000
        try:
            if step < new.step:
                new.step = step
                new.min, new.max = lo, hi
            else:  # the top first: a bottom above the old top (a 12-bit camera's 48)
                # moved it, and the step's change then scaled the bottom to 4.8
                new.max, new.min = hi, lo
                new.step = step
            new.value = min(max(old.value, new.min), new.max)  # as Qt rounded them
        except (ValueError, OverflowError):  # beyond what Qt's integer slider holds
            return False
        if abs(new.min - lo) > step or abs(new.max - hi) > step:
            return False
        index = self._body.index(old)
        self._body.remove(old)
        self._body.insert(index, new)
        new.changed.connect(self._value_changed)
        self.value = new
        return True

    def _follow_data(self, layer):
        """Watch the chosen image's data: replaced (``layer.data = …``), the slider takes
        its new range and the method its new value, as for a newly chosen image."""
        if layer is self._watched:
            return
        if self._watched is not None:
            self._watched.events.data.disconnect(self._data_replaced)
        self._watched = layer
        if layer is not None:
            layer.events.data.connect(self._data_replaced)

    def _method_changed(self, *_):
        """Set the slider to the method's threshold (then preview with that very value)."""
        layer = self.image.value
        if layer is None or self.method.value == _MANUAL:
            self._preview()  # a manual value does not move: only the labels change
            return
        if layer.ndim >= 2 and int(np.prod(_image_shape(layer))) > PREVIEW_MAX_PIXELS:
            return  # as the preview: the method's value is computed when Run is pressed
        try:  # of the finite pixels (NaN or infinite ones: outside the sample)
            value = smoothed_threshold_finite(
                _plane(layer, self._viewer), self.method.value,
                smooth_sigma=self._params()["smooth_sigma"], dark=self.dark_objects.value,
                name=repr(layer.name))
        except _USER_ERRORS as err:
            self._status.value = f"⚠ {in_viewer_words(err)}"
            return
        self._syncing = True
        try:
            self.value.value = min(max(value, self.value.min), self.value.max)
        finally:
            self._syncing = False
        self._preview(threshold=value)  # computed once, not again by the preview

    def _value_changed(self, *_):
        if self._syncing:
            return
        if self.method.value != _MANUAL:
            self._syncing = True  # dragging the slider means "my own value"
            try:
                self.method.value = _MANUAL
            finally:
                self._syncing = False
        self._preview()

    def _preview(self, *_, threshold: float | None = None):
        """Relabel on every parameter change (cheap: one threshold and one labelling)."""
        if (not self._ready or not self.live_preview.value or self._syncing
                or self.image.value is None):
            return
        layer = self.image.value
        if self._follow_only and not self._previewed(layer):
            return
        if self._worker is not None:  # a Run is writing these outputs: it says the rest
            return
        if self._planes.value == ALL_PLANES and _lead_shape(layer):
            # a preview is one plane: it replaced the stack of labels 'all planes' made
            self._status.value = ("live preview shows one plane: off while 'all planes' is "
                                  "chosen; press Run")
            return
        n_pixels = int(np.prod(_image_shape(layer))) if layer.ndim >= 2 else 0
        if n_pixels > PREVIEW_MAX_PIXELS:
            self._status.value = (f"live preview is off for images over "
                                  f"{PREVIEW_MAX_PIXELS // 10**6} Mpx: press Run")
            return
        try:  # the labels and their centres, as Run would make them
            outputs, message = _drain(self._prepare(lazy=False, threshold=threshold))
        except _USER_ERRORS as err:
            self._status.value = f"⚠ {in_viewer_words(err)}"
            return
        if _lead_shape(layer):  # on the plane shown only, as Run draws it
            outputs, message = _placed_on_plane(
                outputs, message, _current_plane(layer, self._viewer), layer)
        self._previewing = True  # (a preview follows the slider: no word of the plane left)
        try:
            self._apply(outputs, f"preview: {message}", layer)
        finally:
            self._previewing = False

    def _previewed(self, layer) -> bool:
        """Whether this image's labels, written by this widget, are in the viewer."""
        record = self._outputs.get((_layer_key(layer), "labels"))
        return record is not None and record.layer in self._viewer.layers

    def parameters(self) -> dict:
        return self._params()

    def set_parameters(self, params: dict) -> None:
        pixel = _pixel(self.image.value).area  # a sheared pixel's: not row × column size
        length = _pixel(self.image.value).length
        threshold = params.get("threshold", self.method.value)
        self._syncing = True  # one preview at the end, not one per control
        try:
            if isinstance(threshold, str):
                self.method.value = threshold
            else:
                self.method.value = _MANUAL
                t = float(threshold)
                self._set_range(min(self.value.min, t), max(self.value.max, t))
                self.value.value = min(max(t, self.value.min), self.value.max)
            if "smooth_sigma" in params:  # pixels in the file, the layer's units here
                _set_field(self.smooth_sigma, float(params["smooth_sigma"]) * length)
            if "min_size" in params:
                _set_field(self.min_size, float(params["min_size"]) * pixel)
            for name in ("opening", "connectivity", "exclude_border", "dark_objects"):
                if name in params:
                    getattr(self, name).value = params[name]
        finally:
            self._syncing = False
        self._method_changed()

    def _params(self) -> dict:
        threshold = self.method.value if self.method.value != _MANUAL else self.value.value
        pixel = _pixel(self.image.value).area
        return {  # in pixels, as the core and the command line take them
            "threshold": threshold,
            "smooth_sigma": self.smooth_sigma.value / _pixel(self.image.value).length,
            "opening": self.opening.value,
            "connectivity": self.connectivity.value,
            "min_size": round(self.min_size.value / pixel),
            "exclude_border": self.exclude_border.value,
            "dark_objects": self.dark_objects.value,
        }

    def _prepare(self, lazy: bool = True, threshold: float | None = None):
        """The job of a run; ``threshold``: the method's value, already computed for this
        image and smoothing (the preview after a method change)."""
        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, lazy=lazy, index=self._plane_index)
        params = self._params()
        if threshold is not None:
            params["threshold"] = threshold
        geo = _geometry(layer)
        name = layer.name
        # the min size as its field says it (an area in the layer's units², or px²)
        unit, pixel = _unit(layer), _pixel(layer).area
        area = _area_text(params["min_size"], pixel, unit)

        every_plane = self._plane_index is not None  # one plane of an 'all planes' run

        def job():
            yield "thresholding and labelling"
            # a blank frame of a series (one value, or no finite pixel): no objects there,
            # the other planes theirs (a lazy plane goes to the core as it is)
            blank = blank_plane(image) if every_plane and not is_lazy(image) else ""
            measured, said = image, ""
            if blank:
                labels = np.zeros(image.shape[:2], np.int32)
                job.blank = f"no objects, the plane is {blank}"  # (said for the stack)
            else:  # NaN or infinite pixels (a mosaic's padding): outside the sample, no
                # object there, as the Seeded watershed reads them (the core's reading)
                labels, said, measured = threshold_label_finite(image, **params, name=repr(name))
                if said:
                    job.outside = said  # (said for a stack's other planes)
            labels_meta = {"name": f"{name} labels", **geo}
            yield "measuring objects"
            data, extra, table = _measured_labels({"labels": labels}, measured,
                                                  f"{name} labels")
            labels = data["labels"]
            labels_meta.update(extra)
            n = len(table)
            points = table[["com_row", "com_col"]].to_numpy()
            table = _with_physical(table, geo)  # the same table on both layers
            labels_meta["features"] = _labels_features(table)
            outputs = [
                ("labels", (labels, labels_meta, "labels")),
                ("points", (points, {
                    "name": f"{name} centers", "features": table, "size": 3,
                    "face_color": "#ff7f0e", "border_width": 0, **geo,
                }, "points")),
            ]
            if blank:
                message = f"0 objects in {name!r}: the plane is {blank}"
            elif n == 0:
                message = _no_objects(image, params, name, area, measured if said else None)
            else:
                message = (f"{counted(n, 'object')} in {name!r}"
                           f"{_joined_note(table['area'].to_numpy(), pixel, unit)}")
            if said:
                message = f"{message.rstrip('.')}; {said}"
            return outputs, message

        job.stages = 2
        return job


def _joined_note(areas, pixel_area: float, unit: str) -> str:
    """What the count does not say: objects of about twice the typical area are likely
    two or more joined by the threshold (atom columns closer than the blur: a dumbbell is
    one object here), '' when there are none."""
    k, median = oversized_objects(areas)
    if not k:
        return ""
    return (f" ({k} of them {OVERSIZED:g}× the median area of "
            f"{_area_text(median, pixel_area, unit)} or more: likely 2 or more joined, "
            "closer than the blur; a higher threshold or an opening parts them, and Find "
            "atoms finds close atom columns apart)")


def _no_objects(image, params: dict, name: str, area: str, filled=None) -> str:
    """Why a run found no objects: nothing above the threshold, or the filters (border,
    opening, min size: ``area``, as its field says it) removed all that was (tried again
    without them, in memory only). ``filled``: the plane with its non-finite pixels
    filled, when it has some (its range is that of its finite pixels: the fill is one of
    their percentiles)."""
    filters = [text for on, text in (
        (params["exclude_border"], "'drop objects touching the border'"),
        (params["opening"] > 1, f"the opening of {params['opening']} px"),
        (params["min_size"] > 0, f"the min size of {area}"))if on]
    if filters and not is_lazy(image):
        bare = {**params, "opening": 0, "min_size": 0, "exclude_border": False}
        n = int(threshold_label_finite(image, **bare).labels.max())
        if n:
            return (f"0 objects in {name!r}: {n} {'passes' if n == 1 else 'pass'} the "
                    "threshold, but "
                    f"{' and '.join(filters)} removed them all.")
    values = image if filled is None else filled
    lo, hi = (float(v) for v in (values.min(), values.max()))
    return f"0 objects: nothing passes the threshold in {name!r} (image range {lo:g}–{hi:g})."
