"""The plugin's dock widgets: thin magicgui containers over the pure core.

Every widget follows one pattern (:class:`_CoreWidget`):

1. on the UI thread, read the input layers (the displayed 2-D plane, a copy), the
   parameters and the layer's scale/translate;
2. off the UI thread, call **one** core function and turn its result into LayerDataTuples;
3. back on the UI thread, write those tuples into the widget's own output layers — updating
   them in place when they still exist, so re-running never piles up layers and other
   widgets that use them as input keep pointing at them.

Bad input is answered by a notification and a line in the widget's status label, never a
traceback; nothing is written to the viewer unless the whole computation succeeded, and
input layers are never modified.

A script or test runs a widget synchronously by setting its inputs and calling it:
``widget()`` returns the list of LayerDataTuples it wrote (``None`` if it failed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSlider,
    FloatSpinBox,
    Label,
    PushButton,
    SpinBox,
)

from .lattice import lattice
from .segmentation import THRESHOLD_METHODS, compute_threshold, measure_objects, threshold_label

if TYPE_CHECKING:
    import napari

LayerDataTuple = tuple  # (data, meta, layer_type)

# Errors a user can cause with their input; anything else is a bug and is reported as such.
_USER_ERRORS = (ValueError, TypeError)


# --------------------------------------------------------------------------- layer reading
#: Planes of lazy (dask/Zarr) layers — including multiscale ones — with more pixels than
#: this are processed chunk by chunk, and their label images are stored as Zarr pyramids
#: instead of being held in memory (the command line's limit too).
CHUNKED_PIXELS = 2**26  # 8192 x 8192
#: Folder for the Zarr label images of chunked runs (one sub-folder per run); None = the
#: system's temporary folder. *Export results* copies them where the user wants.
RESULTS_DIR: Path | None = None


def _plane(layer, viewer, *, lazy: bool = False):
    """The 2-D (row, column) plane of ``layer`` the viewer currently shows, as an ndarray.

    RGB(A) layers keep their channel axis (the core turns it into luminance); multiscale
    layers give their full-resolution level; lazy (dask) data is computed for this plane only.
    With ``lazy=True`` a lazy plane of more than :data:`CHUNKED_PIXELS` pixels is returned
    as a dask array instead (the core then works chunk by chunk).
    """
    from .chunked import is_lazy

    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    spatial = layer.ndim
    lead = spatial - 2
    if is_lazy(data) and type(data).__module__.split(".")[0] != "dask":
        import dask.array as da

        native = getattr(data, "chunks", None)
        data = da.from_array(data, chunks=native if isinstance(native, tuple) else "auto")
    if lead > 0:
        point = layer.world_to_data(viewer.dims.point) if viewer is not None else None
        index = []
        for axis in range(lead):
            pos = 0 if point is None else round(float(point[axis]))
            index.append(min(max(pos, 0), data.shape[axis] - 1))
        data = data[tuple(index)]
    if lazy and is_lazy(data):
        rows, cols = data.shape[:2]
        if rows * cols > CHUNKED_PIXELS:
            return data
    # A private copy (dask/Zarr data is read here, for this plane only): nothing downstream
    # may write into the user's layer.
    return np.array(data, copy=True)


def _layer_data(levels: list):
    """(data, multiscale) for a Labels layer from pyramid levels (napari needs two or more
    levels for a multiscale layer; a single Zarr array is shown lazily as it is)."""
    return (levels, True) if len(levels) > 1 else (levels[0], False)


def _file_stem(name: str) -> str:
    """A layer name made safe as a file name (letters, digits, '-', '_', '.')."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def _lazy_max(array) -> int:
    import dask.array as da

    return int(da.from_zarr(array).max().compute())


def _store_labels(lazy: dict, stem: str, measure_image=None):
    """Compute lazy label images into a Zarr pyramid each, chunk by chunk.

    ``lazy`` maps a name to a lazy label image; they are computed in one pass (shared work
    is done once). With ``measure_image``, the first one is measured in the same pass.
    Returns ``({name: [level arrays, full resolution first]}, table or None)``.
    """
    import tempfile
    import time
    import uuid

    import dask.array as da
    import zarr

    from .chunked import measure_objects_chunked

    safe = _file_stem(stem)
    root = Path(RESULTS_DIR) if RESULTS_DIR is not None else Path(tempfile.gettempdir())
    folder = (root / "napari-tessella"
              / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.zarr")
    folder.mkdir(parents=True)
    names = list(lazy)
    targets = {name: zarr.open_array(str(folder / name / "0"), mode="w",
                                     shape=lazy[name].shape, chunks=lazy[name].chunksize,
                                     dtype=np.int32) for name in names}
    table = None
    if measure_image is not None:
        first, rest = names[0], names[1:]
        table = measure_objects_chunked(lazy[first], measure_image,
                                        labels_out=targets[first])
        if rest:
            da.store([lazy[n] for n in rest], [targets[n] for n in rest], lock=False)
    else:
        da.store([lazy[n] for n in names], [targets[n] for n in names], lock=False)
    levels = {}
    for name in names:
        pyramid = [zarr.open_array(str(folder / name / "0"), mode="r")]
        while max(pyramid[-1].shape) > 2048:  # napari shows the level that fits the view
            k = len(pyramid)
            smaller = da.from_zarr(pyramid[-1])[::2, ::2]
            smaller.rechunk(1024).to_zarr(str(folder / name / str(k)), overwrite=True)
            pyramid.append(zarr.open_array(str(folder / name / str(k)), mode="r"))
        levels[name] = pyramid
    return levels, table


def _geometry(layer) -> dict[str, Any]:
    """Scale, translate and units of the displayed plane, for the output layers to inherit."""
    geo = {
        "scale": tuple(float(s) for s in layer.scale[-2:]),
        "translate": tuple(float(t) for t in layer.translate[-2:]),
    }
    units = getattr(layer, "units", None)
    if units:
        geo["units"] = tuple(str(u) for u in units[-2:])
    return geo


def _pixel_size(layer) -> tuple[float, float]:
    """(row, column) size of a pixel in the layer's world units; (1, 1) without a layer."""
    if layer is None:
        return 1.0, 1.0
    return float(layer.scale[-2]), float(layer.scale[-1])


def _unit(layer) -> str:
    """' nm'-style suffix for lengths in the layer's world units ('' for plain pixels)."""
    units = getattr(layer, "units", None)
    unit = format(units[-1], "~") if units else ""
    return "" if unit in ("", "pixel", "px", "dimensionless") else f" {unit}"


def _robust_limits(values: np.ndarray) -> tuple[float, float]:
    """Colour limits that ignore the few outliers (hull triangles, border cells)."""
    if len(values) == 0:
        return (0.0, 1.0)
    lo, hi = np.percentile(values, [2, 98])
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


def _layer_choices(viewer, *types) -> Callable:
    """Choices for a layer ComboBox, bound to ``viewer`` so undocked widgets work too."""
    return lambda _widget=None: [lyr for lyr in viewer.layers if isinstance(lyr, types)]


def _points_in_pixels(points_layer, image_layer=None) -> np.ndarray:
    """(row, column) of the points in ``image_layer``'s pixel grid (or their own data grid).

    Layers are related through their scale and translate on the last two axes, which is how
    napari places them in world coordinates (rotation and shear are not supported here).
    """
    pts = np.asarray(points_layer.data, dtype=np.float64)
    pts = pts[:, -2:] if pts.ndim == 2 else pts.reshape(0, 2)
    if image_layer is None:
        return pts
    world = pts * np.asarray(points_layer.scale[-2:]) + np.asarray(points_layer.translate[-2:])
    return (world - np.asarray(image_layer.translate[-2:])) / np.asarray(image_layer.scale[-2:])


def _image_shape(layer) -> tuple[int, int]:
    shape = layer.level_shapes[0] if layer.multiscale else layer.data.shape
    return tuple(int(s) for s in (shape[-3:-1] if layer.rgb else shape[-2:]))


def _unchanged(layer, key: str, value) -> bool:
    """Whether setting ``layer.<key> = value`` would leave it as it is (cheap checks only).

    Geometry, units, names and colormaps given by name are compared; colours and contrast
    limits are always set again, since they depend on the new data.
    """
    if key in ("scale", "translate"):
        current = np.asarray(getattr(layer, key), dtype=float)
        wanted = np.asarray(value, dtype=float)
        return current.shape == wanted.shape and bool(np.all(current == wanted))
    if key == "units":
        return tuple(str(u) for u in layer.units) == tuple(str(u) for u in value)
    if key == "name":
        return layer.name == value
    if key in ("colormap", "edge_colormap") and isinstance(value, str):
        return getattr(getattr(layer, key), "name", None) == value
    return False


# ---------------------------------------------------------------------------- base widget
class _CoreWidget(Container):
    """Shared plumbing: layer choices, threaded runs, output-layer bookkeeping, status."""

    #: short verb shown on the progress bar
    _progress_text = "Working"
    #: name of the operation in parameters files shared with the ``tessella`` command line
    _operation: str | None = None

    def __init__(self, viewer: napari.Viewer, widgets: list):
        self._viewer = viewer
        self._outputs: dict[str, Any] = {}  # role -> layer written by this widget
        self._worker = None
        self._run_button = PushButton(text="Run")
        self._status = Label(value="")
        # long messages wrap instead of widening the dock (and squeezing the canvas)
        self._status.native.setWordWrap(True)
        self._export_folder = FileEdit(label="export to", mode="d", value=Path.home())
        self._export_button = PushButton(text="Export results (TIFF + CSV)")
        extra = []
        if self._operation is not None:
            self._params_file = FileEdit(label="parameters", mode="w", filter="*.json",
                                         value=Path.home() / f"{self._operation}.json")
            save, load = PushButton(text="Save"), PushButton(text="Load")
            save.changed.connect(lambda *_: self.save_parameters(self._params_file.value))
            load.changed.connect(lambda *_: self.load_parameters(self._params_file.value))
            extra = [self._params_file,
                     Container(widgets=[save, load], layout="horizontal", labels=False)]
        super().__init__(
            widgets=[*widgets, self._run_button, self._status, self._export_folder,
                     self._export_button, *extra],
            labels=True,
        )
        self._run_button.changed.connect(self._start)
        self._export_button.changed.connect(lambda *_: self.export(self._export_folder.value))
        events = viewer.layers.events
        for ev in (events.inserted, events.removed, events.reordered):
            ev.connect(self._refresh_choices)
        self._refresh_choices()

    def _refresh_choices(self, event=None):
        self.reset_choices()

    # --- to be provided by subclasses
    def _prepare(self) -> Callable[[], tuple[list[tuple[str, LayerDataTuple]], str]]:
        """Read inputs on the UI thread; return a job to run off it.

        The job returns ``(outputs, message)`` where ``outputs`` is a list of
        ``(role, (data, meta, layer_type))``.
        """
        raise NotImplementedError

    # --- running
    def __call__(self) -> list[LayerDataTuple] | None:
        """Run synchronously (scripts, tests); returns the LayerDataTuples written."""
        try:
            job = self._prepare()
            outputs, message = job()
        except _USER_ERRORS as err:
            self._report_error(err)
            return None
        return self._apply(outputs, message)

    def _start(self, *_args):
        """Run off the UI thread with a progress bar (the Run button)."""
        from napari.qt.threading import create_worker

        if self._worker is not None:
            return  # a run is already going; the button is disabled meanwhile
        try:
            job = self._prepare()
        except _USER_ERRORS as err:
            self._report_error(err)
            return
        self._run_button.enabled = False
        self._status.value = f"{self._progress_text}…"
        # errors reach _report_error through `errored`: a notification, not a traceback
        worker = create_worker(
            job, _progress={"total": 0, "desc": f"tessella: {self._progress_text}"},
            _ignore_errors=True,
        )
        worker.returned.connect(lambda result: self._apply(*result))
        worker.errored.connect(self._report_error)
        worker.finished.connect(self._finished)
        self._worker = worker
        worker.start()

    def _finished(self):
        self._worker = None
        self._run_button.enabled = True

    def _report_error(self, err: BaseException):
        from napari.utils.notifications import show_error

        text = str(err) if isinstance(err, _USER_ERRORS) else f"{type(err).__name__}: {err}"
        self._status.value = f"⚠ {text}"
        show_error(f"{self.label or 'tessella'}: {text}")

    # --- parameters files (the same files ``tessella --params`` reads)
    def parameters(self) -> dict:
        """The core function's keyword arguments the widget is set to."""
        raise NotImplementedError

    def set_parameters(self, params: dict) -> None:
        """Set the widget's controls from core keyword arguments."""
        raise NotImplementedError

    def save_parameters(self, path) -> Path | None:
        """Write the current parameters to a JSON file the command line can use."""
        from .params import save_parameters

        try:
            written = save_parameters(path, self._operation, self.parameters())
        except (*_USER_ERRORS, OSError) as err:
            self._report_error(ValueError(str(err)))
            return None
        self._status.value = f"parameters saved to {written}"
        return written

    def load_parameters(self, path) -> dict | None:
        """Set the controls from a parameters file (saved here or written by hand)."""
        from .params import load_parameters

        try:
            operation, params = load_parameters(path)
            if operation != self._operation:
                raise ValueError(f"{path} holds parameters for {operation!r}, not "
                                 f"{self._operation!r}.")
            self.set_parameters(params)
        except (*_USER_ERRORS, OSError) as err:
            self._report_error(ValueError(str(err)))
            return None
        self._status.value = f"parameters loaded from {path}"
        return params

    # --- export
    def export(self, folder) -> list[Path]:
        """Write this widget's output layers into ``folder``: Labels as TIFF, tables as CSV.

        Points are written with their coordinates and features, Shapes with their features;
        physical-unit columns are added from the layer's scale.
        """
        from napari.utils.notifications import show_info

        from .export import save_labels, save_table

        folder = Path(folder)
        layers = [lyr for lyr in self._outputs.values() if lyr in self._viewer.layers]
        if not layers:
            self._report_error(ValueError("nothing to export yet: run the widget first."))
            return []
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            self._report_error(ValueError(f"cannot write to {folder}: {err}"))
            return []
        written = []
        for layer in layers:
            stem = _file_stem(layer.name)
            unit = _unit(layer).strip()
            scale, translate = tuple(layer.scale[-2:]), tuple(layer.translate[-2:])
            if layer._type_string == "labels" and layer.multiscale:
                import dask.array as da  # too big for a TIFF: the full resolution as Zarr

                target = folder / f"{stem}.zarr"
                da.from_zarr(layer.data[0]).to_zarr(str(target), overwrite=True)
                written.append(target)
            elif layer._type_string == "labels":
                written.append(save_labels(layer.data, folder / f"{stem}.tif", scale=scale,
                                           unit=unit))
            else:
                table = layer.features.copy()
                if layer._type_string == "points":
                    table.insert(0, "col", np.asarray(layer.data)[:, -1])
                    table.insert(0, "row", np.asarray(layer.data)[:, -2])
                written.append(save_table(table, folder / f"{stem}.csv", scale=scale,
                                          translate=translate, unit=unit))
        message = f"exported {len(written)} file(s) to {folder}"
        self._status.value = message
        show_info(message)
        return written

    # --- writing outputs
    def _apply(self, outputs: list[tuple[str, LayerDataTuple]], message: str):
        from napari.layers import Layer

        written, to_show = [], []
        for role, (data, meta, layer_type) in outputs:
            layer = self._outputs.get(role)
            mine = layer is not None and layer in self._viewer.layers
            multiscale = bool(meta.get("multiscale")) or getattr(layer, "multiscale", False)
            if (mine and layer._type_string == layer_type and layer_type != "shapes"
                    and not multiscale):
                # In place: keeps the user's display settings, and other widgets that use
                # this layer as input keep pointing at it. Unchanged scale, translate and
                # names are not set again: each costs napari a full refresh (0.2 s of a
                # 0.6 s re-run with 60,000 bonds).
                layer.data = data
                if not layer.visible:
                    # napari does not slice hidden layers, but Vectors re-mesh on a colour
                    # change all the same: with the old slice (IndexError if fewer bonds)
                    layer.set_view_slice()
                if "features" in meta:
                    layer.features = meta["features"]
                # colours that depend on the new data (label kinds, per-bond colours) too
                for key in ("scale", "translate", "units", "name", "colormap", "size",
                            "edge_colormap", "edge_contrast_limits", "edge_color"):
                    if (key in meta and hasattr(layer, key)
                            and not _unchanged(layer, key, meta[key])):
                        setattr(layer, key, meta[key])
            else:
                # Shapes take per-shape colours and features only at creation: replace the
                # layer at the same place in the list, keeping visibility and opacity.
                # New layers are inserted hidden and shown once all are in: napari then
                # builds each one's thumbnail and visual once instead of on every step
                # (about a third faster for 60,000 bonds).
                new = Layer.create(data, {**meta, "visible": False}, layer_type)
                visible = meta.get("visible", True)
                if mine:
                    index = self._viewer.layers.index(layer)
                    visible, new.opacity = layer.visible, layer.opacity
                    self._viewer.layers.remove(layer)
                    self._viewer.layers.insert(index, new)
                else:
                    self._viewer.add_layer(new)
                to_show.append((new, visible))
                self._outputs[role] = new
            written.append((data, meta, layer_type))
        for layer, visible in to_show:
            layer.visible = visible
        # the outcome goes to the widget's status line only: a notification toast on every
        # run would be noise, and makes the canvas redraw twice more as it slides in
        self._status.value = message
        return written


# ------------------------------------------------------------------- 1. threshold & label
_MANUAL = "manual"
#: The preview runs on the UI thread at every slider step: keep it to images it can redo
#: in a few tens of milliseconds.
PREVIEW_MAX_PIXELS = 16 * 10**6


class ThresholdLabelWidget(_CoreWidget):
    """Threshold → opening → connected components → centres and per-object statistics."""

    _progress_text = "Labelling"
    _operation = "threshold_label"

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image

        self.image = ComboBox(label="image", choices=_layer_choices(napari_viewer, Image))
        self.method = ComboBox(
            label="threshold", choices=[_MANUAL, *THRESHOLD_METHODS], value="otsu",
            tooltip="A method computes the threshold from the image; 'manual' uses the slider.",
        )
        self.value = FloatSlider(label="value", min=0.0, max=1.0, step=0.001, value=0.5,
                                 tooltip="Threshold in image units; drag it to preview.")
        self.smooth_sigma = FloatSpinBox(label="smooth σ (px)", min=0.0, max=100.0, step=0.5,
                                         value=0.0)
        self.opening = SpinBox(label="opening (px)", min=0, max=50, value=0,
                               tooltip="Side of the square of a binary opening (0 = none).")
        self.connectivity = ComboBox(
            label="connectivity", choices=[("4 (edges)", 1), ("8 (edges+corners)", 2)], value=1
        )
        self.min_size = SpinBox(label="min size (px)", min=0, max=10**7, value=0)
        self.exclude_border = CheckBox(text="drop objects touching the border", value=False)
        self.dark_objects = CheckBox(text="dark objects (e.g. channels)", value=False)
        self.live_preview = CheckBox(text="live preview", value=True)
        super().__init__(
            napari_viewer,
            [self.image, self.method, self.value, self.smooth_sigma, self.opening,
             self.connectivity, self.min_size, self.exclude_border, self.dark_objects,
             self.live_preview],
        )
        self.label = "Threshold & label"
        self._syncing = False
        self._ready = False  # no preview layers before the user touches anything
        self.image.changed.connect(self._image_changed)
        self.method.changed.connect(self._method_changed)
        self.value.changed.connect(self._value_changed)
        for w in (self.smooth_sigma, self.opening, self.connectivity, self.min_size,
                  self.exclude_border, self.dark_objects):
            w.changed.connect(self._preview)
        self._image_changed()
        self._ready = True

    # --- keeping the slider meaningful for the chosen image and method
    def _image_changed(self, *_):
        layer = self.image.value
        if layer is None:
            return
        lo, hi = (float(v) for v in layer.contrast_limits_range)
        if not np.isfinite([lo, hi]).all() or lo >= hi:
            return
        self._syncing = True
        try:
            self.value.min, self.value.max = lo, hi
            self.value.step = (hi - lo) / 1000
        finally:
            self._syncing = False
        self._method_changed()

    def _method_changed(self, *_):
        layer = self.image.value
        if layer is None or self.method.value == _MANUAL:
            return
        try:
            image = _plane(layer, self._viewer)
            from ._validation import as_float_image

            img = as_float_image(image)
            if self.smooth_sigma.value > 0:
                from scipy import ndimage as ndi

                img = ndi.gaussian_filter(img, self.smooth_sigma.value)
            value = compute_threshold(img, self.method.value)
        except _USER_ERRORS as err:
            self._status.value = f"⚠ {err}"
            return
        self._syncing = True
        try:
            self.value.value = min(max(value, self.value.min), self.value.max)
        finally:
            self._syncing = False
        self._preview()

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

    def _preview(self, *_):
        """Relabel on every parameter change (cheap: one threshold and one labelling)."""
        if (not self._ready or not self.live_preview.value or self._syncing
                or self.image.value is None):
            return
        layer = self.image.value
        n_pixels = int(np.prod(_image_shape(layer))) if layer.ndim >= 2 else 0
        if n_pixels > PREVIEW_MAX_PIXELS:
            self._status.value = (f"live preview is off for images over "
                                  f"{PREVIEW_MAX_PIXELS // 10**6} Mpx: press Run")
            return
        try:
            params = self._params()
            image = _plane(layer, self._viewer)
            labels = threshold_label(image, **params)
        except _USER_ERRORS as err:
            self._status.value = f"⚠ {err}"
            return
        meta = {"name": f"{self.image.value.name} labels", **_geometry(self.image.value)}
        n = int(labels.max())
        self._apply([("labels", (labels, meta, "labels"))], f"preview: {n} objects")

    def parameters(self) -> dict:
        return self._params()

    def set_parameters(self, params: dict) -> None:
        threshold = params.get("threshold", self.method.value)
        self._syncing = True  # one preview at the end, not one per control
        try:
            if isinstance(threshold, str):
                self.method.value = threshold
            else:
                self.method.value = _MANUAL
                self.value.max = max(self.value.max, float(threshold))
                self.value.min = min(self.value.min, float(threshold))
                self.value.value = float(threshold)
            for name in ("smooth_sigma", "opening", "connectivity", "min_size",
                         "exclude_border", "dark_objects"):
                if name in params:
                    getattr(self, name).value = params[name]
        finally:
            self._syncing = False
        self._method_changed()

    def _params(self) -> dict:
        threshold = self.method.value if self.method.value != _MANUAL else self.value.value
        return {
            "threshold": threshold,
            "smooth_sigma": self.smooth_sigma.value,
            "opening": self.opening.value,
            "connectivity": self.connectivity.value,
            "min_size": self.min_size.value,
            "exclude_border": self.exclude_border.value,
            "dark_objects": self.dark_objects.value,
        }

    def _prepare(self):
        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, lazy=True)
        params = self._params()
        geo = _geometry(layer)
        name = layer.name

        def job():
            from .chunked import is_lazy

            labels = threshold_label(image, **params)
            labels_meta = {"name": f"{name} labels", **geo}
            if is_lazy(labels):  # chunk by chunk; stored as a Zarr pyramid
                stored, table = _store_labels({"labels": labels}, f"{name} labels",
                                              measure_image=image)
                labels, labels_meta["multiscale"] = _layer_data(stored["labels"])
            else:
                table = measure_objects(labels, image)
            n = len(table)
            points = table[["com_row", "com_col"]].to_numpy()
            area = table["area"].to_numpy() * geo["scale"][0] * geo["scale"][1]
            table = table.assign(area_scaled=area)
            outputs = [
                ("labels", (labels, labels_meta, "labels")),
                ("points", (points, {
                    "name": f"{name} centers", "features": table, "size": 3,
                    "face_color": "#ff7f0e", "border_width": 0, **geo,
                }, "points")),
            ]
            if n == 0:
                lo, hi = (float(v) for v in (image.min(), image.max()))
                message = (f"0 objects: nothing passes the threshold in {name!r} "
                           f"(image range {lo:g}–{hi:g}).")
            else:
                message = f"{n} objects in {name!r}"
            return outputs, message

        return job


# -------------------------------------------------------------------- 2. seeded watershed
class SeededWatershedWidget(_CoreWidget):
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
        from .nuclei import default_min_size, estimate_object_diameter

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

        from .nuclei import seeded_watershed

        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, lazy=True)
        geo = _geometry(layer)
        seeds_layer = self.seeds.value
        seeds = None
        if seeds_layer is not None:
            if isinstance(seeds_layer, Labels):
                from .chunked import is_lazy

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
            from .chunked import is_lazy

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


# ---------------------------------------------------------------------- 3. lattice/Voronoi
#: Above this many triangles, geometry is drawn as Vectors: napari's Shapes layer needs
#: seconds for tens of thousands of shapes, Vectors draw 60,000 bonds in well under 1 s.
SHAPES_LIMIT = 5000
_GEOMETRY = ["auto", "shapes (editable)", "vectors (fast)"]


def _lattice_outputs(result, name, geo, unit, want, geometry):
    """LayerDataTuples for a LatticeResult (runs in the worker thread)."""
    use_shapes = geometry == _GEOMETRY[1] or (
        geometry == _GEOMETRY[0] and len(result.triangles) <= SHAPES_LIMIT)
    scale = geo["scale"][0]
    pts = result.points
    outputs = []
    if want[0]:
        if use_shapes:
            tri = pts[result.triangles]
            sides = np.stack([np.hypot(*(tri[:, i] - tri[:, j]).T)
                              for i, j in ((0, 1), (1, 2), (0, 2))], axis=1)
            longest = sides.max(axis=1) * scale
            outputs.append(("triangles", (list(tri), {
                "name": f"{name} Delaunay", "shape_type": "polygon",
                "features": {"longest_edge": longest},
                "edge_color": "longest_edge", "edge_colormap": "turbo",
                "edge_contrast_limits": _robust_limits(longest),
                "face_color": "transparent", "edge_width": 0.5, **geo,
            }, "shapes")))
        else:
            e = result.edges
            length = result.edge_lengths * scale
            vectors = np.stack([pts[e[:, 0]], pts[e[:, 1]] - pts[e[:, 0]]], axis=1)
            outputs.append(("triangles", (vectors, {
                "name": f"{name} Delaunay", "vector_style": "line",
                "features": {"length": length, "start": e[:, 0], "end": e[:, 1]},
                "edge_color": "length", "edge_colormap": "turbo",
                "edge_contrast_limits": _robust_limits(length),
                "edge_width": 0.5, **geo,
            }, "vectors")))
    if want[1]:
        area = result.cell_areas * geo["scale"][0] * geo["scale"][1]
        neighbours = np.bincount(result.edges.ravel(), minlength=len(pts))
        if use_shapes:
            outputs.append(("polygons", (list(result.voronoi_polygons), {
                "name": f"{name} Voronoi", "shape_type": "polygon",
                "features": {"area": area, "neighbours": neighbours},
                "face_color": "area", "face_colormap": "viridis",
                "face_contrast_limits": _robust_limits(area),
                "edge_color": "white", "edge_width": 0.3, "opacity": 0.5, **geo,
            }, "shapes")))
        else:
            from .lattice import polygon_edges

            ridges = polygon_edges(result.voronoi_polygons)
            ridges[:, 1] -= ridges[:, 0]
            outputs.append(("polygons", (ridges, {
                "name": f"{name} Voronoi", "vector_style": "line", "edge_color": "white",
                "edge_width": 0.3, **geo,
            }, "vectors")))
    if want[2] and result.voronoi_labels is not None:
        meta = {"name": f"{name} Voronoi map", "opacity": 0.4, **geo}
        if want[1] and result.voronoi_labels.max() == len(pts):
            # hovering a cell shows its area and neighbour count
            meta["features"] = {"index": np.arange(len(pts) + 1),
                                "area": np.r_[np.nan, area],
                                "neighbours": np.r_[0, neighbours]}
        outputs.append(("pixel", (result.voronoi_labels, meta, "labels")))
    median = np.median(result.edge_lengths) * scale
    message = (f"{len(pts)} points, {len(result.triangles)} triangles, "
               f"{len(result.edges)} edges; median edge {median:.3g}{unit}")
    return outputs, message


class LatticeWidget(_CoreWidget):
    """Points (or Labels) → Delaunay triangles, Voronoi polygons, pixel Voronoi map."""

    _progress_text = "Triangulating"

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image, Labels, Points

        self.points = ComboBox(
            label="points or labels",
            choices=_layer_choices(napari_viewer, Points, Labels),
            tooltip="Lattice points (e.g. the centers from Threshold & label) or a Labels layer.",
        )
        self.image = ComboBox(
            label="image (for bounds)", nullable=True,
            choices=_layer_choices(napari_viewer, Image),
            tooltip="Clip the Voronoi diagram to this image and make the pixel Voronoi map.",
        )
        self.triangles = CheckBox(text="Delaunay triangles", value=True)
        self.polygons = CheckBox(text="Voronoi polygons", value=True)
        self.pixel_map = CheckBox(text="pixel Voronoi map", value=True)
        self.geometry = ComboBox(
            label="draw as", choices=_GEOMETRY, value="auto",
            tooltip=f"Shapes can be selected and edited but are slow beyond ~{SHAPES_LIMIT} "
                    "triangles; vectors draw any number of bonds and cell sides at once. "
                    f"'auto' uses shapes up to {SHAPES_LIMIT} triangles.",
        )
        super().__init__(
            napari_viewer, [self.points, self.image, self.triangles, self.polygons,
                            self.pixel_map, self.geometry]
        )
        self.label = "Lattice & Voronoi"
        self._pick_defaults()

    def _refresh_choices(self, event=None):
        from napari.layers import Points

        super()._refresh_choices(event)
        new = getattr(event, "value", None) if getattr(event, "type", "") == "inserted" else None
        if isinstance(new, Points) and new not in self._outputs.values():
            self.points.value = new  # the centres another widget just made
        self._pick_defaults()

    def _pick_defaults(self):
        """Chain from the other widgets: prefer the newest Points layer and an image."""
        from napari.layers import Image, Points

        pts = [lyr for lyr in self._viewer.layers if isinstance(lyr, Points)]
        if pts and not isinstance(self.points.value, Points):
            self.points.value = pts[-1]
        imgs = [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)]
        if imgs and self.image.value is None:
            self.image.value = imgs[-1]

    def _prepare(self):
        from napari.layers import Labels

        src = self.points.value
        if src is None:
            raise ValueError("choose a Points or Labels layer first.")
        img_layer = self.image.value
        shape = None
        labels = None
        points = None
        if isinstance(src, Labels):
            labels = _plane(src, self._viewer)
            geo = _geometry(src)
        elif img_layer is not None:
            # outputs share the image's pixel grid, so the pixel map lines up with it
            shape = _image_shape(img_layer)
            geo = _geometry(img_layer)
            points = _points_in_pixels(src, img_layer)
        else:
            geo = _geometry(src)
            points = _points_in_pixels(src)
        unit = _unit(img_layer if img_layer is not None else src)
        want = (self.triangles.value, self.polygons.value, self.pixel_map.value)
        if not any(want):
            raise ValueError("tick at least one output (triangles, polygons or pixel map).")
        name, geometry = src.name, self.geometry.value

        def job():
            result = lattice(points, shape, labels=labels)
            return _lattice_outputs(result, name, geo, unit, want, geometry)

        return job


# ------------------------------------------------------------------------ 4. find atoms
def _kind_colormap(kind: np.ndarray):
    from napari.utils.colormaps import DirectLabelColormap

    colours = {None: "transparent", 0: "transparent"}
    for i, k in enumerate(kind, start=1):
        colours[i] = "#00e5ff" if k == "chamber" else "#ff2e88"
    return DirectLabelColormap(color_dict=colours)


class FindAtomsWidget(_CoreWidget):
    """HAADF-STEM: sub-pixel atom columns (or dark channels) with lattice features."""

    _progress_text = "Finding columns"
    _operation = "find_atoms"

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image

        self.image = ComboBox(label="image", choices=_layer_choices(napari_viewer, Image))
        self.separation = FloatSpinBox(
            label="column spacing", min=0.0, max=1e6, step=0.1, value=0.0,
            tooltip="Nearest-neighbour distance in the layer's units; 0 = estimate it.")
        self.refine = ComboBox(label="refine", choices=["gaussian", "com", "none"],
                               value="gaussian",
                               tooltip="gaussian: 2-D Gaussian fit of every column at once; "
                                       "com: centre of mass; none: the pixel maximum.")
        self.dark = CheckBox(text="dark columns (channels / chambers)", value=False)
        self.model = CheckBox(
            text="structural model (columns + channels)", value=False,
            tooltip="Find bright columns and dark channels separately and merge their "
                    "Voronoi diagrams into one model, with the column–channel bonds.")
        super().__init__(napari_viewer,
                         [self.image, self.separation, self.refine, self.dark, self.model])
        self.label = "Find atoms"

    def parameters(self) -> dict:
        pixel = _pixel_size(self.image.value)[1]
        sep = self.separation.value / pixel if self.separation.value else None
        refine = None if self.refine.value == "none" else self.refine.value
        return {"separation": sep, "refine": refine, "dark": self.dark.value}

    def set_parameters(self, params: dict) -> None:
        pixel = _pixel_size(self.image.value)[1]
        if "separation" in params:
            self.separation.value = (params["separation"] or 0.0) * pixel
        if "refine" in params:
            self.refine.value = params["refine"] or "none"
        if "dark" in params:
            self.dark.value = bool(params["dark"])

    def _prepare(self):
        from .atoms import find_atoms
        from .lattice import lattice
        from .lattice_analysis import basis_vectors, lattice_table, structural_model

        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer)
        geo = _geometry(layer)
        unit = _unit(layer)
        params = self.parameters()
        name = layer.name
        model = self.model.value
        kinds = ["columns", "chambers"] if model else [
            "chambers" if params["dark"] else "columns"]

        def points_output(kind, result, vmap):
            table = result.table.copy()
            if len(result.positions) >= 3:
                features = lattice_table(result.positions, image, voronoi_labels=vmap)
                table = pd.concat([table, features], axis=1)
                table["nn_distance_scaled"] = table["nn_distance"] * geo["scale"][0]
            return (kind, (result.positions, {
                "name": f"{name} {kind}", "features": table, "size": result.separation / 3,
                "face_color": "#00e5ff" if kind == "chambers" else "#ff2e88",
                "border_width": 0, **geo}, "points"))

        def job():
            found = {k: find_atoms(image, **{**params, "dark": k == "chambers"}) for k in kinds}
            outputs = []
            for kind, result in found.items():
                vmap = (lattice(result.positions, image.shape[:2]).voronoi_labels
                        if len(result.positions) >= 3 else None)
                outputs.append(points_output(kind, result, vmap))
            parts = [f"{len(r.positions)} {k}" for k, r in found.items()]
            first = next(iter(found.values()))
            if model:
                sm = structural_model(found["columns"].positions, found["chambers"].positions,
                                      image.shape[:2])
                segments = sm.points[sm.bonds]
                vectors = np.stack([segments[:, 0], segments[:, 1] - segments[:, 0]], axis=1)
                outputs += [
                    ("model", (sm.voronoi_labels, {
                        "name": f"{name} structural model", "opacity": 0.35,
                        # cells of columns and of channels in the points' two colours
                        "colormap": _kind_colormap(sm.kind),
                        "features": {"index": np.arange(len(sm.kind) + 1),
                                     "kind": np.r_[["background"], sm.kind]}, **geo},
                        "labels")),
                    ("bonds", (vectors, {
                        "name": f"{name} column–channel bonds", "vector_style": "line",
                        "edge_color": "#ffd54f", "edge_width": 0.3, **geo}, "vectors")),
                ]
                parts.append(f"{len(sm.bonds)} column–channel bonds")
            message = (f"{', '.join(parts)} in {name!r}; spacing "
                       f"{first.separation * geo['scale'][0]:.3g}{unit}")
            try:  # the lattice's basis, for the user to read off at a glance
                basis = basis_vectors(first.positions) * geo["scale"][0]
                lengths = np.hypot(basis[:, 0], basis[:, 1])
                cos = abs(basis[0] @ basis[1]) / (lengths[0] * lengths[1])
                message += (f"; basis {lengths[0]:.3g}{unit} × {lengths[1]:.3g}{unit} at "
                            f"{np.degrees(np.arccos(min(cos, 1.0))):.0f}°")
            except ValueError:
                pass  # too few columns, or all in a row: no 2-D basis to report
            return outputs, message

        return job
