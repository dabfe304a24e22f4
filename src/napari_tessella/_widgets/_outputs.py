"""Which output layer a run writes into: the widget's records of the layers it made, for
which input, and whether each is still the widget's own (not renamed, edited or locked
by the user) or has become the user's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class _Output:
    """One layer this widget wrote: for which input, and under which name."""

    layer: Any
    name: str  # the name the widget gave it: another name means the user renamed it
    edited: bool = False  # the user painted, added, moved or deleted something in it
    meta: Any = None  # the layer options it was last written with


def _still_mine(record: _Output | None, layers) -> bool:
    """Whether the record's layer is in the viewer as the widget left it: not deleted,
    renamed, edited or locked by the user (then it is theirs: never overwritten, never
    reused)."""
    if record is None:
        return False
    layer = record.layer
    return (layer in layers and layer.name == record.name and not record.edited
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


def _adopt_orphan(outputs: dict, key, name, layers):
    """The output record of a deleted input whose layer still bears ``name`` (made by the
    widget, unedited), re-keyed to ``key``: a run on the input made again (an upstream
    widget re-run after the user deleted its output) updates that layer instead of adding
    "name [1]" beside it. None when there is no such record."""
    from ._layers import _layer_key

    alive = {_layer_key(layer) for layer in layers}
    for old, record in list(outputs.items()):
        if (old[1] == key[1] and old[0] not in alive and record.name == name
                and not record.edited and record.layer in layers):
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
    if layer._type_string in ("labels", "points", "shapes"):  # labels: data replaced
        layer.events.data.connect(edited)
