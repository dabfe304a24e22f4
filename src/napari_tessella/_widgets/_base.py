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

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, Label, ProgressBar, PushButton

from .._validation import LengthError, counted
from ._errors import (
    _USER_ERRORS,
    _on_plane,
    in_viewer_words,
)
from ._export import measured_labels
from ._files import _WritesFiles
from ._layers import (
    _current_plane,
    _field_unit,
    _fit_decimals,
    _in_field_units,
    _relabelled,
    _set_field,
    _watch_series,
)
from ._outputs import (
    _InputWatch,
    _ledger_for,
    _said_now,
    _tell_if_unseen,
    _viewer_ready,
)
from ._qt import (
    _fitting_scroll_area,
    _LateProgress,
    _names_now,
    _OnParentChange,
    _OnShow,
    _share_dock_height,
    _wrapping,
)
from ._stacks import (
    ALL_PLANES,
    THIS_PLANE,
    _drain,
    _lead_shape,
    _message_text,
    _placed_on_plane,
    _plane_notes,
    _plane_text,
    _stages,
    _with_plane,
    stack_outputs,
)
from ._writing import LayerDataTuple, _WritesOutputs

if TYPE_CHECKING:
    import napari

#: Folder for chunked runs' Zarr labels, one per run (None: a temporary one; Export copies).
RESULTS_DIR: Path | None = None


def _measured_labels(labels: dict, image, stem: str):
    """:func:`._export.measured_labels` with chunked results under :data:`RESULTS_DIR`."""
    return measured_labels(labels, image, stem, RESULTS_DIR)


class _DockWidget(_WritesOutputs, _WritesFiles, Container):
    """Shared plumbing: layer choices, threaded runs, output-layer bookkeeping, status.

    Layout, top to bottom: the main fields, Run / Cancel, the progress bar and status line,
    then two collapsed sections, *Advanced* (fields most users leave alone) and *Export &
    parameters*; all in a scroll area, so that four docked widgets fit a small screen.
    """

    #: short verb shown on the progress bar
    _progress_text = "Working"
    #: name of the operation in parameters files shared with the ``tessella`` command line
    _operation: str | None = None
    #: the field holding the input layer the outputs belong to
    _input_field = "image"
    #: whether the input may be a stack (T or Z, Y, X) processed plane by plane
    _stacks = True
    #: core keyword names in error messages -> the field names the user sees
    _words: tuple[tuple[str, str], ...] = ()
    #: lengths the fields give in the layer's units: (core keyword, "keyword=" as in
    #: "a spacing of ", "keyword" as in "the spacing"); see _layers._in_field_units
    _lengths: tuple[tuple[str, str, str], ...] = ()
    #: fields holding a length (1) or an area (2) in the input layer's units, and the
    #: finest step each shows, in pixels or pixel areas (None: the widget sets its own);
    #: labelled and given their decimals by :meth:`_units_changed`
    _unit_fields: tuple[tuple[str, int, float | None], ...] = ()

    def __init__(self, viewer: napari.Viewer, widgets: list, advanced: list = ()):
        from qtpy.QtCore import Qt
        from qtpy.QtWidgets import QFrame, QVBoxLayout, QWidget
        from superqt import QCollapsible

        self._viewer = viewer
        self._plane_index: tuple[int, ...] | None = None  # set while preparing one plane
        self._planes = ComboBox(
            label="planes", choices=[THIS_PLANE, ALL_PLANES], value=THIS_PLANE, visible=False,
            tooltip="For a stack (T or Z, Y, X): the plane shown, or every plane (off the UI "
                    "thread; outputs get the stack's leading axes).")
        if self._stacks:
            widgets = [widgets[0], self._planes, *widgets[1:]]
        # (input layer's id, role) -> its output layer; _writing: not the user's edits
        self._ledger = _ledger_for(self, viewer)
        self._worker = None
        self._run_button = PushButton(text="Run", tooltip="Run on the chosen input "
                                      "(off the UI thread); outputs are named after it.")
        self._cancel_button = PushButton(text="Cancel", enabled=False,
                                         tooltip="Stop the run; nothing is written.")
        self._progress = ProgressBar(value=0, min=0, max=1, visible=False, label="progress")
        self._status = Label(value="")
        self._late = _LateProgress(self._progress, self._status)  # shown after a while
        _wrapping(self._status.native)  # long messages wrap, the dock keeps its width
        self._export_folder = FileEdit(label="export to", mode="d", value=Path.home(),
                                       tooltip="Folder for Export results.")
        self._export_button = PushButton(
            text="Export results (TIFF + CSV)",
            tooltip="Write this widget's output layers: Labels as TIFF (and their table as "
                    "CSV), Points and Shapes tables as CSV, with physical-unit columns. "
                    "Files of an earlier export in the folder are kept: the new ones end "
                    "in ' (2)'.")
        export = [self._export_folder, self._export_button]
        if self._operation is not None:
            self._params_file = FileEdit(
                label="parameters", mode="w", filter="*.json",
                value=Path.home() / f"{self._operation}.json",
                tooltip="A JSON parameters file, the same the tessella command line reads "
                        "with --params.")
            save = PushButton(text="Save", tooltip="Save the fields to the parameters file.")
            load = PushButton(text="Load", tooltip="Set the fields from the parameters file.")
            save.changed.connect(lambda *_: self.save_parameters(self._params_file.value))
            load.changed.connect(lambda *_: self.load_parameters(self._params_file.value))
            export += [self._params_file,
                       Container(widgets=[save, load], layout="horizontal", labels=False)]
        buttons = Container(widgets=[self._run_button, self._cancel_button],
                            layout="horizontal", labels=False)
        self._body = Container(widgets=[*widgets, buttons, self._progress, self._status],
                               labels=True)
        self._advanced = Container(widgets=list(advanced), labels=True)
        self._export_box = Container(widgets=export, labels=True)
        super().__init__(widgets=[], labels=False)

        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._body.native)
        self._sections = {}
        scroll = _fitting_scroll_area()
        for title, box in (("Advanced", self._advanced), ("Export & parameters",
                                                          self._export_box)):
            if not box:
                continue
            section = QCollapsible(title.replace("&", "&&"))  # a lone & is a shortcut key
            section.setDuration(0)  # no animation: tests and screenshots see the end state
            section.addWidget(box.native)
            column.addWidget(section)
            self._sections[title] = section
        column.addStretch(1)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        # fields are never cut off at the side: the dock is made as wide as they need (set
        # again once shown, when the style is known), and scrolls vertically only
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(inner.sizeHint().width() + 20)
        self._width_filter = _OnShow(self._shown)
        scroll.installEventFilter(self._width_filter)
        self.native.layout().addWidget(scroll)
        self._parent_filter = _OnParentChange(self._reparented)  # taken out of its dock
        self.native.installEventFilter(self._parent_filter)
        self.native.layout().setContentsMargins(0, 0, 0, 0)
        self._scroll, self._inner = scroll, inner

        self._run_button.changed.connect(self._start)
        self._cancel_button.changed.connect(self.cancel)
        self._export_button.changed.connect(lambda *_: self.export(self._export_folder.value))
        if self._stacks:
            getattr(self, self._input_field).changed.connect(self._input_changed)
        events = viewer.layers.events
        for ev in (events.inserted, events.removed, events.reordered, events.renamed):
            ev.connect(self._refresh_choices)
        self._unit_layer = self._unit_seen = None
        self._refresh_choices()
        self._input_changed()
        _watch_series(self)  # the chosen image not its TIFF's main one: said
        if self._unit_fields:  # its pixel size set or changed: the fields keep their meaning
            getattr(self, self._input_field).changed.connect(self._watch_units)
            self._watch_units()

    def _shown(self):
        """First shown (docked): as wide as the fields, and a fair share of the height."""
        from qtpy.QtCore import QTimer

        scroll, inner = self._scroll, self._inner
        scroll.setMinimumWidth(inner.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width() + 4)
        if not getattr(self, "_balanced", False):
            self._balanced = True
            self.native.setProperty("tessella", True)
            # after the main window has laid the new dock out
            QTimer.singleShot(100, self._share_height)

    def _share_height(self):
        try:
            _share_dock_height(self.native)
        except RuntimeError:  # closed meanwhile: its Qt widgets are gone
            pass

    def _input_changed(self, *_):
        """Offer 'this plane' / 'all planes' only for stacks."""
        layer = self._source() if self._stacks else None
        self._planes.visible = bool(layer is not None and _lead_shape(layer))

    def _watch_units(self, *_):
        """Another layer chosen: the fields labelled in its units, and its scale, units
        and affine followed (:meth:`_units_moved`)."""
        layer = self._source()
        for which, slot in ((self._unit_layer, "disconnect"), (layer, "connect")):
            if which is not None:
                for name in ("scale", "units", "affine"):
                    getattr(getattr(which.events, name), slot)(self._units_moved)
        self._unit_layer = layer
        self._unit_seen = _field_unit(layer) if layer is not None else None
        self._units_changed()

    def _units_moved(self, *_):
        """The chosen layer given another pixel size or unit: the fields relabelled in it,
        and a number typed under another unit ('23' under 'px') converted so it keeps the
        pixels it gave; the number under the old label would have meant something else
        (23 µm, twice the pixels), silently."""
        layer = self._unit_layer
        if layer is None or self._closed():
            return
        before, after = self._unit_seen, _field_unit(layer)
        self._unit_seen = after
        self._units_changed()
        factor = _relabelled(before, after) if before is not None else 1.0
        said = []
        for name, power, _ in self._unit_fields:
            field = getattr(self, name)
            if factor in (None, 1.0) or not field.value:
                continue
            old, value = field.value, field.value * factor**power
            with field.changed.blocked():  # the same pixels: no preview to redo
                _set_field(field, value)
            square = "²" if power == 2 else ""
            said.append(f"{field.label.split(' (')[0]} {old:.4g} {before[0]}{square} is "
                        f"{value:.4g} {after[0]}{square}")
        if said:
            self._status.value = (f"{layer.name!r} is now in {after[0]}: the fields keep "
                                  "their pixels (" + "; ".join(said) + ")")

    def _units_changed(self):
        """Label the fields of :attr:`_unit_fields` in the chosen layer's units ('px'
        without one), each with the decimals of its finest step there (two decimals cut a
        0.0195 mm diameter to 0.02): on a layer chosen, and on its pixel size changed."""
        layer = self._source()
        unit, length = _field_unit(layer)  # (length None: units that do not convert)
        for name, power, finest in self._unit_fields:
            field = getattr(self, name)
            field.label = f"{field.label.split(' (')[0]} ({unit}{'²' if power == 2 else ''})"
            if finest is not None and length is not None:  # (a length² is a pixel's area)
                _fit_decimals(field, finest * length**power)

    def _job(self):
        """The job of a run: the shown plane, or every plane of a stack one after another
        (a stage each: the progress bar counts planes and Cancel stops between them); its
        outputs made ready for the viewer in the same thread (:func:`_for_the_viewer`)."""
        return _viewer_ready(self._plain_job())

    def _plain_job(self):
        layer = self._source()
        lead = _lead_shape(layer) if self._stacks and layer is not None else ()
        if not lead:
            return self._prepare()
        if self._planes.value == THIS_PLANE:
            try:
                index = _current_plane(layer, self._viewer)
            except ValueError as err:  # no plane of it on the canvas (a 3-D view)
                raise ValueError(f"{err} Or choose 'all planes'.") from err
            job = self._prepare()

            def one_plane():
                outputs, message = yield from _stages(job)
                # drawn on that plane only: as 2-D layers they stood on every plane
                return _placed_on_plane(outputs, message, index, layer)

            one_plane.stages = getattr(job, "stages", 0)
            return one_plane
        indices = list(np.ndindex(*lead))
        jobs = []
        for index in indices:  # read every plane now, on the UI thread
            self._plane_index = index
            try:
                jobs.append(self._prepare())
            except _USER_ERRORS as err:
                raise _on_plane(err, index) from err
            finally:
                self._plane_index = None

        def all_planes():
            per_plane, messages = [], []
            for i, job in enumerate(jobs):
                yield f"plane {i + 1} of {len(jobs)}"
                try:
                    outputs, message = _drain(job)
                except _USER_ERRORS as err:  # which plane it was
                    raise _on_plane(err, indices[i]) from err
                per_plane.append(outputs)
                messages.append(message)
            # planes found blank (said by _plane_notes); a stack of nothing else is refused
            blank = [(indices[i], job.blank) for i, job in enumerate(jobs)
                     if getattr(job, "blank", "")]
            if len(blank) == len(jobs):
                raise ValueError(f"every plane of {layer.name!r} is blank "
                                 f"({_plane_text(blank[0][0])}: {blank[0][1]}): there is "
                                 "nothing to segment.")
            shown = next(i for i, job in enumerate(jobs) if not getattr(job, "blank", ""))
            text = _message_text(messages[shown])
            every = "all " if len(jobs) > 1 else ""
            summary = (f"{every}{counted(len(jobs), 'plane')} of {layer.name!r}; "
                       f"{_plane_text(indices[shown])}: {text}")
            said = _plane_notes(blank, [(indices[i], job.outside) for i, job in enumerate(jobs)
                                        if getattr(job, "outside", "") and i != shown])
            summary += "".join(f"; {note}" for note in said)
            return (stack_outputs(per_plane, indices, layer),
                    _with_plane(messages[shown], None, summary))

        all_planes.stages = len(jobs)
        return all_planes

    def reset_choices(self, *_args):
        for box in (self._body, self._advanced, self._export_box):
            _names_now(box)  # renamed layers under their new names, before matching them
            box.reset_choices()

    def _refresh_choices(self, event=None):
        # a ComboBox keeps its value while that layer is there: others come and go freely
        self.reset_choices()
        if self._unit_fields and self._unit_layer is not self._source():
            # its last layer deleted, the box empties without an event: the fields said
            # µm² of a layer gone, their numbers now pixels
            self._watch_units()

    def _source(self):
        """The input layer the outputs of a run belong to."""
        return getattr(self, self._input_field).value

    def _side_inputs(self) -> tuple:
        """The other layers a run reads (the watershed's seeds, the Lattice's image for
        bounds): changed or deleted during a run, the status line says so."""
        return ()

    # --- to be provided by subclasses
    def _prepare(self) -> Callable[[], Any]:
        """Read inputs on the UI thread; return a job to run off it.

        The job returns ``(outputs, message)`` where ``outputs`` is a list of
        ``(role, (data, meta, layer_type))``; it may be a generator that yields a short
        message at each stage (shown on the progress bar; Cancel stops it between stages).
        """
        raise NotImplementedError

    # --- running
    def __call__(self) -> list[LayerDataTuple] | None:
        """Run synchronously (scripts, tests); returns the LayerDataTuples written."""
        try:
            source = self._source()
            self._prepared = (source, getattr(source, "name", None))
            job = self._job()
            outputs, message = _drain(job)
        except _USER_ERRORS as err:
            self._report_error(err)
            return None
        try:
            return self._apply(outputs, message, source)
        except Exception as err:  # napari refused a layer: a message, not a traceback
            self._drawing_failed(err)
            return None

    def _start(self, *_args, prepare=None, done=None):
        """Run off the UI thread with a progress bar and a Cancel button (the Run button);
        ``prepare`` (UI thread, returns the job) and ``done`` (given the job's result) run
        another job than Run's the same way, e.g. Estimate diameter."""
        from napari.qt.threading import create_worker

        if self._worker is not None:
            return  # a run is already going; the button is disabled meanwhile
        try:
            source = self._source()
            self._prepared = (source, getattr(source, "name", None))
            job = (prepare or self._job)()
            self._started_with = self._fields() if done is None else None
            watch = done is None and source is not None
            done = done or (lambda result: self._apply_stepwise(*result, source))
        except _USER_ERRORS as err:
            self._report_error(err)
            return
        # the input replaced, edited or moved while the job runs on its copy: said at the end
        self._input_watch = _InputWatch(source) if watch else None
        # and the other layers it reads (seeds, the image for bounds)
        self._side_watches = [_InputWatch(layer) for layer in self._side_inputs()
                              if layer is not None and layer is not source] if watch else []
        self._run_button.enabled = False
        self._cancel_button.enabled = True
        self._late.start(self._progress_text, getattr(job, "stages", 0))
        # at once, not when the bar appears: the last run's result must not read as this one's
        self._status.value = "running…"
        # errors reach _report_error through `errored`: a notification, not a traceback
        worker = create_worker(job, _ignore_errors=True)

        def alive(slot):  # the viewer closed during the run: its widgets are gone
            return lambda *args: None if self._closed() else slot(*args)

        worker.returned.connect(alive(lambda result: self._returned(result, done)))
        if inspect.isgeneratorfunction(job):
            worker.yielded.connect(alive(self._stage))
        worker.errored.connect(alive(self._report_error))
        worker.aborted.connect(alive(self._aborted))
        worker.finished.connect(alive(self._finished))
        self._worker = worker
        worker.start()

    def _fields(self) -> dict | None:
        """The parameters the fields say now (None for a widget without parameters)."""
        try:
            return self.parameters()
        except (NotImplementedError, AttributeError, *_USER_ERRORS):  # no image chosen
            return None

    def _closed(self) -> bool:
        try:
            self._status.native.isVisible()
        except RuntimeError:  # "wrapped C/C++ object … has been deleted"
            return True
        return False

    def _returned(self, result, done):
        if getattr(self, "_cancelling", False):
            self._aborted()  # finished before it saw Cancel: still, nothing is written
        else:  # writing the outputs: past the point where Cancel can leave nothing written
            self._cancel_button.enabled = False
            done(result)

    def _stage(self, text: str):
        if getattr(self, "_cancelling", False):
            return  # a stage reported just before the worker saw the request
        self._late.stage(f"{self._progress_text}: {text}…")

    def cancel(self, *_args):
        """Stop the running job at its next stage; nothing is written."""
        if self._worker is not None and self._cancel_button.enabled:  # off while writing
            self._cancelling = True
            self._late.stop()
            self._worker.quit()
            self._status.value = "cancelling…"

    def _aborted(self):
        self._status.value = "cancelled: nothing was written"

    def _finished(self):
        if getattr(self, "_stepping", False):
            return  # still writing the outputs, turn by turn: it calls back when done
        if getattr(self, "_cancelling", False):
            # a job that is not a generator emits neither `returned` nor `aborted` once
            # Cancel was asked: only `finished` says it stopped
            self._aborted()
        self._late.stop(hide=True)
        if getattr(self, "_input_watch", None) is not None:
            self._input_watch.close()
            self._input_watch = None
        for side in getattr(self, "_side_watches", ()):
            side.close()
        self._side_watches = []
        self._worker = None
        self._cancelling = False
        self._run_button.enabled = True
        self._cancel_button.enabled = False
        _tell_if_unseen(self)  # a dock closed during the run: where its outputs went

    def _report_error(self, err: BaseException):
        from napari.utils.notifications import show_error

        if isinstance(err, LengthError):  # its lengths in the field's units and words
            err = ValueError(_in_field_units(err, self._source(), self._lengths))
        self._late.stop()  # the stage's text would hide the error
        text = (in_viewer_words(err) if isinstance(err, _USER_ERRORS)
                else f"{type(err).__name__}: {err}")
        for word, field in self._words:  # the core's keywords as the fields say
            text = text.replace(word, field)
        text = _said_now(text, getattr(self, "_prepared", None))  # renamed during the run
        self._status.value = f"⚠ {text}"
        show_error(f"{self.label or 'tessella'}: {text}")
