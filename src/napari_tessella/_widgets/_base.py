"""The plugin's dock widgets: thin magicgui containers over the pure core.

Every widget follows one pattern (:class:`._base._DockWidget`):

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
from magicgui.widgets import Container, FileEdit, Label, PushButton

from ..export import save_labels, save_table, write_labels_zarr
from ..params import load_parameters, save_parameters
from ._layers import _file_stem, _unchanged, _unit

if TYPE_CHECKING:
    import napari

LayerDataTuple = tuple  # (data, meta, layer_type)

# Errors a user can cause with their input; anything else is a bug and is reported as such.
_USER_ERRORS = (ValueError, TypeError)


#: Folder for the Zarr label images of chunked runs (one sub-folder per run); None = the
#: system's temporary folder. *Export results* copies them where the user wants.
RESULTS_DIR: Path | None = None


def _lazy_max(array) -> int:
    import dask.array as da

    return int(da.from_zarr(array).max().compute())


def _store_labels(lazy: dict, stem: str, measure_image=None):
    """Compute lazy label images into a Zarr pyramid each, in one pass, under
    :data:`RESULTS_DIR` (with ``measure_image``, the first one is also measured).

    Returns ``({name: [level arrays, full resolution first]}, table or None)``.
    """
    import tempfile
    import time
    import uuid

    root = Path(RESULTS_DIR) if RESULTS_DIR is not None else Path(tempfile.gettempdir())
    folder = (root / "napari-tessella"
              / f"{_file_stem(stem)}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.zarr")
    folder.mkdir(parents=True)
    targets = {folder / name: array for name, array in lazy.items()}
    stored, table = write_labels_zarr(targets, measure_image=measure_image, pyramid=True)
    return {name: stored[folder / name] for name in lazy}, table


class _DockWidget(Container):
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
        try:
            written = save_parameters(path, self._operation, self.parameters())
        except (*_USER_ERRORS, OSError) as err:
            self._report_error(ValueError(str(err)))
            return None
        self._status.value = f"parameters saved to {written}"
        return written

    def load_parameters(self, path) -> dict | None:
        """Set the controls from a parameters file (saved here or written by hand)."""
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
