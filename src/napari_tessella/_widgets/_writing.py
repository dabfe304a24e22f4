"""Writing a run's outputs into the viewer: into the input's own output layers, in place,
when they are still as the widget left them, into new layers otherwise (see
:class:`._base._DockWidget`, which runs the jobs whose outputs these are)."""

from __future__ import annotations

import numpy as np

from ._in_place import _unchanged_output, _update_in_place
from ._layers import _layer_key, _series_note
from ._outputs import (
    _adopt_orphan,
    _fingerprint,
    _follow_input_name,
    _hidden_note,
    _named_now,
    _Output,
    _placement,
    _said_now,
    _still_mine,
    _watch,
)
from ._qt import _hold_canvas
from ._qt import _wireframe_on_demand as _light_mesh
from ._stacks import _plane_text

LayerDataTuple = tuple  # (data, meta, layer_type)


class _WritesOutputs:
    """The writing half of a dock widget: it needs the widget's ``_viewer``, ``_outputs``
    (input, role) -> :class:`._outputs._Output`, ``_status``, ``_writing``, and its
    ``_report_error``, ``_fields``, ``_closed`` and ``_finished``."""

    # the records and the writing flag live in the viewer's ledger for this kind of widget
    # (:class:`._outputs._Ledger`): a widget made again after its dock was closed takes them
    @property
    def _outputs(self) -> dict:
        return self._ledger.outputs

    @property
    def _writing(self) -> bool:
        return self._ledger.writing

    @_writing.setter
    def _writing(self, value: bool) -> None:
        self._ledger.writing = value

    def _reparented(self, parent) -> None:
        """Out of its dock (napari's × on it): its ledger goes to the next widget made."""
        if parent is not None:
            self._docked = True
        elif getattr(self, "_docked", False) and self._ledger.owner() is self:
            self._ledger.undocked = True

    def _drawing_failed(self, err: BaseException):
        self._writing = False
        self._report_error(ValueError(  # shown as it is
            f"the results could not be drawn in the viewer ({type(err).__name__}: {err}); "
            "the input layers are unchanged."))

    def _message(self, message) -> str:
        """The status text of a job's message (subclasses may show more from it)."""
        return message

    def _apply(self, outputs: list[tuple[str, LayerDataTuple]], message, source=None):
        """Write the outputs of a run on ``source``: into that input's own output layers
        when they are still as the widget left them, into new layers otherwise."""
        message = self._message(message)
        self._kept_stacks, self._kept_own = [], []
        written, to_show = [], []
        for output in outputs:
            data, new, _changed = self._write_one(output, source)
            written.append(data)
            if new is not None:
                to_show.append(new)
        for layer, visible in to_show:
            layer.visible = visible
        # the status line only: a toast on every run is noise (and 2 more canvas redraws)
        self._status.value = _said_now(message, getattr(self, "_prepared", None)) + _kept(self)
        return written

    def _apply_stepwise(self, outputs, message, source=None):
        """:meth:`_apply` spread over turns of the event loop (the Run button): each layer
        written, then shown, in a turn of its own, so the UI answers between them."""
        from qtpy.QtCore import QTimer

        message = self._message(message)
        self._kept_stacks, self._kept_own = [], []
        steps = [("write", output) for output in outputs]
        self._stepping = True
        held = []  # once a layer changed, the canvas: held until all are in (one paint)

        def let_go():
            while held:
                held.pop()()

        def step():
            if self._viewer.window is None or self._closed():  # closed meanwhile
                let_go()
                return
            if steps:
                kind, item = steps.pop(0)
                try:
                    if kind == "write":
                        _, new, changed = self._write_one(item, source)
                        if new is not None:  # shown in a later turn: held until then too
                            steps.append(("show", new))
                        if changed and steps and not held:
                            held.append(_hold_canvas(self._viewer))
                    else:
                        layer, visible = item
                        layer.visible = visible
                except Exception as err:  # in a timer: it would reach the excepthook
                    let_go()
                    self._drawing_failed(err)
                    self._stepping = False
                    self._finished()
                    return
                QTimer.singleShot(0, step)
                return
            let_go()
            said = _said_now(message, getattr(self, "_prepared", None)) + _kept(self)
            started = getattr(self, "_started_with", None)
            # the input deleted during the run: said (its outputs are kept, the work is not
            # lost), and no "press Run again" (its field emptied with it: not a user's edit)
            gone = source is not None and source not in self._viewer.layers
            if started is not None and self._fields() != started and not gone:
                said += " (made with the fields as they were at Run: press Run again)"
            watch = getattr(self, "_input_watch", None)
            if gone:
                said += (f" ({source.name!r} was deleted during the run: these outputs are "
                         "of it as it was at Run)")
            elif watch is not None:  # the input changed during the run
                said += watch.note()
            for side in getattr(self, "_side_watches", ()):  # seeds, the image for bounds
                gone = side.layer not in self._viewer.layers
                said += (f" ({side.layer.name!r} was deleted during the run: these outputs are "
                         "of it as it was at Run)") if gone else side.note()
            self._status.value = said
            self._stepping = False
            self._finished()

        step()

    def _write_one(self, output, source):
        """Write one ``(role, LayerDataTuple)``; returns (tuple, (new layer, visible) or
        None when an existing layer was kept, whether a layer changed)."""
        from napari.layers import Layer

        role, (data, meta, layer_type) = output
        meta = _named_now(meta, source, getattr(self, "_prepared", None))
        watch = getattr(self, "_input_watch", None)  # the input's placement at Run
        placed = watch.placement if watch is not None else (
            _placement(source) if source is not None else None)
        self._writing = True
        try:
            key = (_layer_key(source), role)
            layers = self._viewer.layers
            pixels = _fingerprint(source, exact=False)
            record = self._outputs.get(key) or _adopt_orphan(self._outputs, key,
                                                              meta.get("name"), layers, pixels)
            layer = record.layer if record is not None else None
            mine = _still_mine(record, layers)
            held = _planes_held(layer.data, layer._type_string) if mine else 0
            if held > 1 and _planes_held(data, layer_type) <= 1:
                # an 'all planes' result, and this run is one plane ('this plane', a
                # preview): it replaced the whole stack's work with one plane. Kept as
                # the user's; this run's outputs are new layers beside it
                mine = False
                getattr(self, "_kept_stacks", []).append(
                    f"{layer.name!r} holds all {held} planes of an earlier run: kept as it is")
            elif (mine and layer_type == "labels" and held == 1
                  and not getattr(self, "_previewing", False)
                  and _planes_held(data, layer_type) == 1 and _other_plane(record.meta, meta)):
                # 'this plane' moved on through a stack: the plane run before lost its
                # nuclei without a word (the user stepping plane by plane took them kept)
                note = (f"{_plane_of(record.meta, source)}'s outputs replaced; 'all "
                        "planes' keeps every plane's")
                own = getattr(self, "_kept_own", [])
                if note not in own:
                    own.append(note)
            if mine:  # the input renamed since: its outputs follow
                _follow_input_name(record, meta.get("name"))
            multiscale = bool(meta.get("multiscale")) or getattr(layer, "multiscale", False)
            same_ndim = layer is not None and len(meta.get("scale", ())) in (0, layer.ndim)
            if mine and same_ndim and layer._type_string == layer_type and not multiscale:
                # in place: keeps the user's display settings, and other widgets that use
                # this layer as input keep pointing at it; not at all when nothing changed
                record.placed, record.pixels = placed, pixels
                if _unchanged_output(layer, data, meta, record.meta):
                    return (data, meta, layer_type), None, False
                if layer_type != "shapes":
                    _update_in_place(layer, data, meta)  # (its visibility as it is)
                    if layer_type == "points":
                        _said_hidden(self, _hidden_note(layer, new=False))
                    record.meta, record.written = meta, _fingerprint(layer, exact=True)
                    record.retabled = None
                    return (data, meta, layer_type), None, True
            # Shapes take per-shape colours and features only at creation: replaced at the
            # same place, same visibility and opacity. New layers go in hidden, shown once
            # all are in: napari builds each visual once (a third faster for 60,000 bonds).
            new = Layer.create(data, {**meta, "visible": False}, layer_type)
            visible = meta.get("visible", True)
            if mine:
                index = self._viewer.layers.index(layer)
                visible, new.opacity = layer.visible, layer.opacity
                self._viewer.layers.remove(layer)
                self._viewer.layers.insert(index, new)
            else:
                self._viewer.add_layer(new)
                why = _why_not_mine(record, layers)
                if why:  # the user's: kept, and where this run's result went is said
                    getattr(self, "_kept_own", []).append(
                        f"{layer.name!r} was {why}: kept as it is, this run's result is "
                        f"{new.name!r}")
            if layer_type == "surface":  # built at the first paint: no wireframe data
                _light_mesh(self._viewer, new)
            if layer_type == "points" and not visible:  # many points: left hidden
                _said_hidden(self, _hidden_note(new, new=True))
            # napari adds " [1]" when the name is taken (by the user's edited layer)
            record = _Output(new, new.name, meta=meta, placed=placed, pixels=pixels,
                             written=_fingerprint(new, exact=True))
            self._outputs[key] = record
            _watch(record, self)
            return (data, meta, layer_type), (new, visible), True
        finally:
            self._writing = False


def _said_hidden(widget, note: str) -> None:
    """Keep the note of a Points output of many points left hidden, for the status line."""
    if note:
        getattr(widget, "_kept_own", []).append(note)


def _kept(widget) -> str:
    """The status line's note of the stacks a one-plane run left alone, of the output
    layers the user made theirs (edited, renamed, locked) that a run wrote beside, of
    the many points left hidden, and of an input that is not its TIFF's main image
    (:func:`._layers._series_note`), or ''."""
    kept, own = getattr(widget, "_kept_stacks", []), getattr(widget, "_kept_own", [])
    said = f" ({'; '.join(kept)}: this plane's outputs are new layers)" if kept else ""
    source = (getattr(widget, "_prepared", None) or (None,))[0]
    note = _series_note(source) if source is not None else ""
    return said + (f" ({'; '.join(own)})" if own else "") + (f" (⚠ {note})" if note else "")


def _other_plane(then: dict | None, now: dict) -> bool:
    """Whether two one-plane-deep outputs of a stack (their layer options ``then`` and
    ``now``) lie on different planes: their translates differ on the leading axes."""
    if not then:
        return False
    lead = len(now.get("scale", ())) - 2
    before, after = then.get("translate", ()), now.get("translate", ())
    if lead < 1 or len(before) != len(after) or len(after) < lead + 2:
        return False
    return not np.allclose(before[:lead], after[:lead])


def _plane_of(meta: dict, stack) -> str:
    """'plane 2' (or 'plane 1, 0'): the plane of ``stack`` a one-plane-deep output of it
    (its layer options ``meta``) lies on, when the stack is only scaled and translated;
    else 'the plane run before'."""
    lead = len(meta.get("scale", ())) - 2
    try:
        at = ((np.asarray(meta["translate"][:lead], float) - stack.translate[:lead])
              / stack.scale[:lead])
        if not np.allclose(at, np.round(at)) or any(k in meta for k in ("rotate", "shear",
                                                                          "affine")):
            raise ValueError
    except (KeyError, ValueError, TypeError, AttributeError):
        return "the plane run before"
    return _plane_text(tuple(int(i) for i in np.round(at)))


def _why_not_mine(record, layers) -> str:
    """Why an output layer still in the viewer is no longer the widget's own (edited by
    hand, renamed, locked), or '' (none, deleted, or the widget's own)."""
    if record is None or record.layer not in layers:
        return ""
    layer = record.layer
    return ("edited by hand" if record.edited else f"renamed by you (from {record.name!r})"
            if layer.name != record.name else "locked" if getattr(layer, "locked", False)
            else "")


def _planes_held(data, layer_type: str) -> int:
    """How many planes of a stack an output holds: a labels stack's planes, the distinct
    plane coordinates of points or vectors; 1 for a 2-D output or one plane deep, and
    for kinds not read (shapes)."""
    import numpy as np

    if layer_type == "labels":
        shape = tuple((data[0] if isinstance(data, list) else data).shape)
        return int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    if layer_type not in ("points", "vectors"):
        return 1
    arr = np.asarray(data)
    if arr.ndim != (2 if layer_type == "points" else 3) or arr.shape[-1] <= 2 or not len(arr):
        return 1
    lead = arr[:, :-2] if layer_type == "points" else arr[:, 0, :-2]
    return len(np.unique(lead, axis=0))
