"""Which output layer a run writes into: the widget's records of the layers it made, for
which input, and whether each is still the widget's own (not renamed, edited or locked
by the user) or has become the user's."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._lazy import LARGE_PIXELS
from ..export import halved, pyramid_shapes


class _Ledger:
    """One widget kind's output records in one viewer, and whether its widget is writing
    (its own writes are not the user's edits). Kept with the viewer: napari destroys a
    plugin dock when its × is clicked, and the Plugins menu then makes a new widget, which
    takes the ledger of the one taken out of its dock and updates the layers it made
    (a re-run added "dna labels [1]" and "dna centers [1]" beside them)."""

    def __init__(self, owner):
        self.outputs: dict = {}
        self.writing = False
        self.owner = weakref.ref(owner)
        self.undocked = False  # its owner was docked, and napari took it out


_LEDGERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ledger_for(widget, viewer) -> _Ledger:
    """The ledger of ``widget``'s kind in ``viewer`` when its owner is gone or out of its
    dock; a ledger of its own when another widget of its kind is still docked (scripts
    may make several) or the viewer keeps none."""
    kind = type(widget).__name__
    try:
        books = _LEDGERS.setdefault(viewer, {})
    except TypeError:  # a viewer that cannot be weakly referenced (a stand-in)
        return _Ledger(widget)
    ledger = books.get(kind)
    if ledger is None:
        books[kind] = ledger = _Ledger(widget)
    elif ledger.owner() is None or ledger.undocked:
        ledger.owner, ledger.undocked = weakref.ref(widget), False
    else:
        ledger = _Ledger(widget)
    return ledger


@dataclass
class _Output:
    """One layer this widget wrote: for which input, and under which name."""

    layer: Any
    name: str  # the name the widget gave it: another name means the user renamed it
    edited: bool = False  # the user painted, added, moved or deleted something in it
    meta: Any = None  # the layer options it was last written with
    placed: Any = None  # its input's placement (:func:`_placement`) at that run
    pixels: Any = None  # its input image's :func:`_fingerprint` at that run
    written: Any = None  # its data's exact :func:`_fingerprint` as last written
    retabled: Any = None  # its table's digest as Export measured it again (not the user's)


def _fingerprint(layer, *, exact: bool):
    """What tells a layer's data from other data: shape, dtype and a digest. ``exact``
    (outputs, edited in place without an event: :func:`_edited`): a CRC-32 of every byte of
    an in-memory Labels, Points or Vectors layer's data (1.5 ms for 1349 × 1030 labels)
    and its features (:func:`_features_digest`); a Shapes layer's features only; None for
    other layers, pyramids and lazy data. Not ``exact`` (inputs: :func:`_adopt_orphan`):
    a SHA-1 of at most ~65,000 pixels of an Image layer, evenly spaced (level 0 of a
    pyramid; a lazy array: its name instead of a digest), cheap at any size; None for
    other layers: Points and Labels made again by an upstream widget's re-run are that
    widget's new results, whose outputs are updated."""
    if exact and layer is not None and layer._type_string == "shapes":
        return "shapes", _features_digest(layer)  # its data: napari's events (_watch)
    kinds = ("labels", "points", "vectors") if exact else ("image",)
    if layer is None or layer._type_string not in kinds:
        return None
    data = layer.data
    if getattr(layer, "multiscale", False):
        if exact:  # napari paints no pyramid: its edits are napari's events (_watch)
            return None
        data = data[0]
    if exact and not isinstance(data, np.ndarray):
        return None
    shape, dtype = tuple(int(n) for n in data.shape), str(data.dtype)
    if exact:
        import zlib

        return shape, dtype, zlib.crc32(np.ascontiguousarray(data)), _features_digest(layer)
    if not isinstance(data, np.ndarray):
        return shape, dtype, getattr(data, "name", None)
    import hashlib

    at = np.linspace(0, data.size - 1, min(data.size, 65536)).astype(np.int64)
    sample = np.ascontiguousarray(data[np.unravel_index(at, shape)]) if data.size else data
    return shape, dtype, hashlib.sha1(sample.tobytes()).hexdigest()


def _features_digest(layer):
    """The layer's features table as a digest of its columns, types and values: napari's
    Features table widget edits a value in place (``layer.features.iloc[r, c] = v``, no
    event), as does a user's console; a column corrected by hand (a column's
    ``sublattice``, a nucleus's class) was lost at the next run. A CRC-32 of each numeric
    column's bytes, pandas' hash of the others (0.2 s for 466,000 rows of 17 columns
    on a loaded machine, against some 13 s to write such a run's layers)."""
    import zlib

    import pandas as pd

    table = getattr(layer, "features", None)
    if not isinstance(table, pd.DataFrame) or not len(table.columns):
        return None
    digest = 0
    for _name, column in table.items():
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biufc":
            values = column.to_numpy()
        else:
            try:
                values = pd.util.hash_pandas_object(column, index=False).to_numpy()
            except TypeError:  # cells pandas cannot hash (lists, arrays): by their text
                values = np.frombuffer(column.to_csv(index=False).encode(), np.uint8)
        digest = zlib.crc32(np.ascontiguousarray(values), digest)
    return tuple(map(str, table.columns)), tuple(map(str, table.dtypes)), digest


def _edited(record: _Output) -> bool:
    """Whether the user edited the record's layer. For an in-memory Labels, Points or Vectors
    layer its data decide, both ways: changed since the widget wrote them (painted, filled,
    moved, deleted, or ``layer.data[labels == 3] = 0`` in napari's console or a notebook,
    which emits no event: a re-run overwrote such an edit without a word), or the same
    again (every paint stroke undone: the layer is the widget's again, where a re-run
    made "… labels [1]" beside it and said "edited by hand"). Other layers: napari's
    events (:func:`_watch`)."""
    return _edit_check(record)[0]


def _data_edited(record: _Output) -> bool:
    """Whether the user edited the record's layer's data, not only its features table (a
    class column added, a value corrected): Export measures painted labels again, and a
    table so made would replace the user's own columns. One fingerprint of the layer
    answers both (:func:`_edit_check`): a run's labels hold some 466,000 rows whose
    features digest alone takes 0.2 s."""
    edited, now = _edit_check(record)
    if not edited:
        return False
    if now is None or record.written is None or record.layer._type_string == "shapes":
        return True
    return now[:3] != record.written[:3]


def _edit_check(record: _Output) -> tuple[bool, Any]:
    """(:func:`_edited`, the layer's exact :func:`_fingerprint` read to tell it, or None
    where napari's events tell it)."""
    now = None
    if record.written is not None and record.layer is not None:
        now = _fingerprint(record.layer, exact=True)
        if now is not None and record.layer._type_string == "shapes":
            record.edited = record.edited or now != record.written  # (events: its data)
        elif now is not None:
            # a table Export measured again on painted labels is not an edit of the user:
            # every stroke then undone, the layer is the widget's again
            table = now[3] in (record.written[3], record.retabled)
            record.edited = now[:3] != record.written[:3] or not table
    return record.edited, now


def _still_mine(record: _Output | None, layers) -> bool:
    """Whether the record's layer is in the viewer as the widget left it: not deleted,
    renamed, edited or locked by the user (then it is theirs: never overwritten, never
    reused)."""
    if record is None:
        return False
    layer = record.layer
    return (layer in layers and layer.name == record.name and not _edited(record)
            and not getattr(layer, "locked", False))


def _follow_input_name(record: _Output, name: str | None) -> None:
    """Give a layer that is still the widget's own the name a run gives it now: after the
    user renamed the input ("cells" → "dapi"), "cells labels" becomes "dapi labels" (the
    same layer, updated in place, not a second one beside it). napari makes the name
    unique ("dapi labels [1]") when another layer has it; the record keeps what napari
    gave, so the layer stays the widget's own."""
    if name is not None and record.layer.name != name:
        record.layer.name = name
        record.name = record.layer.name


def _named_now(meta: dict, source, prepared) -> dict:
    """``meta`` with the name the output takes now: the input renamed during the run
    ("big" → "dapi" while the watershed ran) gives "dapi nuclei", not "big nuclei", the
    name the job built from the input's name when the run started. ``prepared``: (the
    input, its name then) of the last run started."""
    name = meta.get("name")
    if prepared is None or source is None or prepared[0] is not source:
        return meta
    then = prepared[1]
    if (not isinstance(name, str) or not isinstance(then, str) or source.name == then
            or not name.startswith(f"{then} ")):
        return meta
    return {**meta, "name": source.name + name[len(then):]}


def _said_now(text: str, prepared) -> str:
    """``text`` with the input's name as it is now: a message built while the input was
    "cols" ("plane 1 of 'cols'") says "plane 1 of 'dapi'" when the user renamed it during
    the run, as the outputs do (:func:`_named_now`). ``prepared``: (the input, its name
    when the run started)."""
    if prepared is None or not isinstance(text, str):
        return text
    source, then = prepared
    now = getattr(source, "name", None)
    if not isinstance(then, str) or not isinstance(now, str) or now == then:
        return text
    return text.replace(repr(then), repr(now))


def _adopt_orphan(outputs: dict, key, name, layers, pixels=None):
    """The output record of a deleted input whose layer still bears ``name`` (made by the
    widget, unedited), re-keyed to ``key``: a run on the input made again (an upstream
    widget re-run after the user deleted its output) updates that layer instead of adding
    "name [1]" beside it. None when there is no such record. An image input is the same
    one only with the same pixels (``pixels``, :func:`_fingerprint`): no widget makes
    images, so another image of the deleted one's name is another field (each well's
    "DAPI.tif"), and its run overwrote the deleted field's labels, unexported."""
    from ._layers import _layer_key

    alive = {_layer_key(layer) for layer in layers}
    for old, record in list(outputs.items()):
        if (old[1] == key[1] and old[0] not in alive and record.name == name
                and not _edited(record) and record.layer in layers
                and record.pixels == pixels):
            del outputs[old]
            outputs[key] = record
            return record
    return None


def _watch(record: _Output, widget) -> None:
    """Notice the user's edits of an output layer: the widget then leaves it alone (its
    own writes, made while ``widget._writing``, are not the user's)."""
    layer = record.layer

    def edited(event=None):
        if not widget._writing:
            record.edited = True

    if layer._type_string == "labels":
        layer.events.paint.connect(edited)
    # labels: data replaced; vectors (bonds, ridges, dumbbells): napari draws no tool to
    # edit them, but a user's console or script may (a re-run overwrote such a layer)
    if layer._type_string in ("labels", "points", "shapes", "vectors"):
        layer.events.data.connect(edited)
    if layer._type_string in ("points", "shapes"):
        _blank_added_rows(layer, widget)


def _blank_added_rows(layer, widget) -> None:
    """Points or shapes the user adds to an output get no measurements: napari gives a new
    one the features of the one last selected (its "current properties"), and a point
    clicked into "dna centers" was exported as a copy of another object (its label, area,
    mean…) at another place. Their rows are left missing (NaN, an empty CSV cell); the
    rows of the objects, moved or not, stay."""
    count = [len(layer.data)]

    def changed(event):
        action = str(getattr(event, "action", ""))
        if action in ("adding", "changing", "removing"):  # before: how many there were
            count[0] = len(layer.data)
            return
        before, count[0] = count[0], len(layer.data)
        if widget._writing or action not in ("added", "changed") or count[0] <= before:
            return
        rows = np.arange(before, count[0])
        features = layer.features
        if len(features) != count[0] or not len(features.columns):
            return
        layer.features = _with_rows_missing(features, rows)

    layer.events.data.connect(changed)


def _with_rows_missing(table, rows: np.ndarray):
    """``table`` with every value of ``rows`` missing: NaN in float columns; integer and
    bool columns become pandas' nullable types (a label is missing, not 0); others NA."""
    import pandas as pd

    table = table.copy()
    for name in table.columns:
        column = table[name]
        kind = column.dtype.kind
        if kind in "iu":
            column = column.astype("Int64")
        elif kind == "b":
            column = column.astype("boolean")
        elif kind != "f":
            column = column.astype(object)
        column.iloc[rows] = pd.NA if kind != "f" else np.nan
        table[name] = column
    return table


def _tell_if_unseen(widget) -> None:
    """A run ended in a dock the user closed (or hid) meanwhile: its outputs are written
    all the same (the work is not lost, and the layers can be deleted), but its status
    line is seen by no one, so say in a notification what it did and where the layers
    are. Not for a widget never docked (scripts, tests) nor after an error (already a
    notification) or a Cancel (nothing written)."""
    from napari.utils.notifications import show_info

    from ._layers import _layer_key

    if not getattr(widget, "_balanced", False) or widget._closed():
        return
    status = widget._status.value
    if widget.native.isVisible() or not status or status.startswith(("⚠", "cancel")):
        return
    source = (getattr(widget, "_prepared", None) or (None,))[0]
    key = _layer_key(source) if source is not None else None
    layers = widget._viewer.layers
    names = [record.layer.name for (k, _role), record in widget._outputs.items()
             if k == key and record.layer in layers]
    where = (f"; its layers are in the layer list: {', '.join(map(repr, names))}"
             if names else "")
    show_info(f"{widget.label or 'tessella'} (its dock was closed during the run): "
              f"{status}{where}.")


#: the parts of a layer's placement a run's outputs take from it, as said to the user
_PLACEMENT = ("scale", "translate", "rotate", "shear", "affine", "units")


def _placement(layer) -> dict:
    def value(name):
        v = getattr(layer, name, None)
        if name == "affine":
            v = getattr(v, "affine_matrix", v)
        return tuple(map(str, v)) if name == "units" else np.array(v, dtype=float)
    return {name: value(name) for name in _PLACEMENT if hasattr(layer, name)}


def _moved(then: dict, layer) -> list[str]:
    """The parts of ``layer``'s placement that differ from ``then`` (a :func:`_placement`)."""
    now = _placement(layer)
    return [name for name, value in then.items() if name in now and (
        np.shape(value) != np.shape(now[name]) or not np.array_equal(value, now[name]))]


def _placed_since(outputs: dict, layers, written) -> list[str]:
    """Notes for Export: inputs moved or given another pixel size (scale, units, affine…)
    since the outputs in ``written`` were made of them. The outputs keep the placement
    they were made with, their tables the lengths of the pixels then: exported as they
    are, but said, once per input."""
    from ._layers import _layer_key

    inputs = {_layer_key(layer): layer for layer in layers}
    notes = {}
    for (key, _role), record in outputs.items():
        layer = inputs.get(key)
        if layer is None or record.placed is None or record.layer not in written:
            continue
        moved = _moved(record.placed, layer)
        if moved and key not in notes:
            notes[key] = (f"{layer.name!r} has another {' and '.join(moved)} since its "
                          "outputs were made: they are exported as made (run again to "
                          "measure it as it is now)")
    return list(notes.values())


class _InputWatch:
    """What happened to a run's input while the run went: its data replaced or edited
    (data set, points moved, labels painted) or its placement changed (scale, translate,
    units, rotate, shear, affine). The outputs are still written (the work is not lost),
    placed and measured as the input was at Run, and the status line says so."""

    def __init__(self, layer):
        self.layer = layer
        self.data_changed = False
        self.placement = _placement(layer)
        self._events = [getattr(layer.events, name) for name in ("data", "paint")
                        if hasattr(layer.events, name)]
        for event in self._events:
            event.connect(self._changed)

    def _changed(self, event=None):
        self.data_changed = True

    def close(self) -> None:
        for event in self._events:
            event.disconnect(self._changed)
        self._events = []

    def note(self) -> str:
        """'' when nothing changed, else what changed, to add to the status line."""
        what = (["its data"] if self.data_changed else []) + [
            f"its {name}" for name in _moved(self.placement, self.layer)]
        if not what:
            return ""
        return (f" ({self.layer.name!r} changed during the run: {' and '.join(what)}; "
                "these outputs are of it as it was at Run: press Run again)")


#: Labels outputs of more pixels than this go into the viewer as a pyramid (napari's
#: multiscale), built in the worker: napari then colours and uploads only the part of the
#: level the screen shows, not every pixel (at 8192 × 8192 a flat layer blocked the viewer
#: 4 s when first drawn). Level 0 is the labels. napari cannot paint on a pyramid, so the
#: limit is the project's one "large" (``_lazy.LARGE_PIXELS``, where runs go chunk by chunk
#: and their labels were never paintable): smaller labels stay flat, for corrections by hand.
PYRAMID_PIXELS = LARGE_PIXELS
#: The largest side of the smallest level of the viewer's pyramid. Made in memory on every
#: run for the viewer alone, it stops lower than the Zarr pyramids of files and chunked runs
#: (``export.ZARR_PYRAMID_TOP``, 2048, which says why); both follow one level rule
#: (``export.pyramid_shapes``). Tests lower it (a small image, the same code path).
PYRAMID_TOP = 1024
#: Points outputs of more points than this go into the viewer hidden (napari neither slices
#: nor draws a hidden layer): napari draws every point of a layer at every frame, in or out
#: of the view (466,489 centres: 10 s to appear, 5 s per frame under software OpenGL), and
#: its ``shown`` does not thin out the points of a 2-D layer. Their data, features and
#: exports are all there; the user's tick of the eye shows them, and re-runs keep it.
SHOWN_POINTS = 50_000


def _pyramid(labels: np.ndarray) -> list:
    """``labels`` and smaller copies of it, each half the last one's size (its every other
    row and column: nearest, so every value is an object's id), down to a side of at most
    :data:`PYRAMID_TOP` (:func:`napari_tessella.export.pyramid_shapes`)."""
    levels = [labels]
    for _ in pyramid_shapes(labels.shape, PYRAMID_TOP)[1:]:
        levels.append(np.ascontiguousarray(halved(levels[-1])))
    return levels


def _for_the_viewer(outputs: list) -> list:
    """A run's outputs as the viewer draws them cheaply, made in the worker: a 2-D labels
    image over :data:`PYRAMID_PIXELS` as a pyramid; over :data:`SHOWN_POINTS` points,
    hidden (a new layer; a re-run keeps the layer's own visibility). Their values,
    features and names are the same."""
    out = []
    for role, (data, meta, kind) in outputs:
        if (kind == "labels" and isinstance(data, np.ndarray) and data.ndim == 2
                and data.size > PYRAMID_PIXELS and not meta.get("multiscale")):
            data, meta = _pyramid(data), {**meta, "multiscale": True}
        elif kind == "points" and len(data) > SHOWN_POINTS and "visible" not in meta:
            meta = {**meta, "visible": False}
        out.append((role, (data, meta, kind)))
    return out


def _hidden_note(layer, new: bool) -> str:
    """What to say of a Points output of many points that is hidden (see
    :func:`_for_the_viewer`), or ''. ``new``: it was added hidden by this run."""
    n = len(layer.data)
    if n <= SHOWN_POINTS or (layer.visible and not new):
        return ""
    return (f"{layer.name!r}, {n:,} points, is hidden: napari draws every point at every "
            "frame; tick its eye to show them")


def _viewer_ready(job):
    """``job`` whose outputs are then made cheap for the viewer to draw (large labels as a
    pyramid, many points hidden: :func:`_for_the_viewer`), in
    the worker that runs it, not on the UI thread; a generator job stays one."""
    import inspect

    from ._stacks import _stages

    if inspect.isgeneratorfunction(job):
        def ready():
            outputs, message = yield from _stages(job)
            return _for_the_viewer(outputs), message
    else:
        def ready():
            outputs, message = job()
            return _for_the_viewer(outputs), message
    ready.stages = getattr(job, "stages", 0)
    return ready
