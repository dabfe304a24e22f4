"""Stacks (T or Z, Y, X): one job per plane, and their outputs stacked back into layers with
the input's leading axes."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from .._validation import counted
from ._in_place import _equal
from ._layers import _transforms

THIS_PLANE, ALL_PLANES = "this plane", "all planes"


def _lead_shape(layer) -> tuple[int, ...]:
    """Sizes of the leading (T, Z, …) axes of an Image layer; () for a single plane."""
    shape = layer.level_shapes[0] if getattr(layer, "multiscale", False) else layer.data.shape
    lead = layer.ndim - 2
    return tuple(int(s) for s in shape[:lead]) if lead > 0 else ()


def _plane_text(index: tuple[int, ...]) -> str:
    return "plane " + ", ".join(str(i) for i in index)


def _plane_columns(index: tuple[int, ...], n: int) -> dict:
    names = ["plane"] if len(index) == 1 else [f"axis{k}" for k in range(len(index))]
    return {name: np.full(n, i, dtype=np.int64) for name, i in zip(names, index, strict=True)}


def _full_geometry(layer) -> dict:
    geo = {"scale": tuple(float(s) for s in layer.scale),
           "translate": tuple(float(t) for t in layer.translate)}
    units = getattr(layer, "units", None)
    if units:
        geo["units"] = tuple(str(u) for u in units)
    geo.update(_transforms(layer))  # a rotated stack's outputs: rotated as it is
    return geo


def stack_outputs(per_plane: list[list], indices: list[tuple[int, ...]], layer) -> list:
    """One output per role from the 2-D outputs of every plane.

    Labels are stacked, numbered on from plane to plane (ids are unique in the stack, so
    their ``features`` rows stay one per object); Points, Vectors and Shapes get the plane
    coordinate in front and a ``plane`` column in their features.
    """
    geo = _full_geometry(layer)
    # every role of any plane (dumbbells may be found on some planes only), in order
    roles = list(dict.fromkeys(role for outputs in per_plane for role, _ in outputs))
    by_role = {role: [] for role in roles}
    offset = 0
    for outputs, index in zip(per_plane, indices, strict=True):
        top = 0
        for role, (data, meta, kind) in outputs:
            if kind == "labels":
                if meta.get("multiscale") or not isinstance(data, np.ndarray):
                    raise ValueError("'all planes' works on stacks whose planes fit in memory;"
                                     " choose 'this plane' for a large image.")
                top = max(top, int(data.max()) if data.size else 0)
            by_role[role].append((data, meta, kind, index, offset))
        offset += top
    stacked = []
    for role in roles:
        planes = by_role[role]
        _data0, meta0, kind = planes[0][:3]
        meta = {k: v for k, v in meta0.items()
                if k not in ("scale", "translate", "units", "features", "multiscale")}
        meta.update(geo)
        tables = []
        if kind == "labels":
            dtype = np.int32 if offset < 2**31 else np.int64
            data = np.stack([np.where(d > 0, d.astype(dtype) + off, 0)
                             for d, _m, _k, _i, off in planes])
            # every leading axis back (T, Z, …): the planes came in np.ndindex order
            data = data.reshape(*_lead_shape(layer), *data.shape[1:])
            if not isinstance(meta.get("colormap", ""), str):
                meta.pop("colormap")  # per-id colours of one plane do not fit the stack
            for _d, m, _k, index, off in planes:
                table = pd.DataFrame(m.get("features", {}))
                if "index" in table and len(table):
                    table = table[table["index"] != 0] if (table["index"] == 0).any() else table
                    table = table.assign(index=table["index"].to_numpy() + off,
                                         **_plane_columns(index, len(table)))
                    tables.append(table)
        else:
            parts, counts = [], []
            for d, m, _k, index, _off in planes:
                lead = np.asarray(index, dtype=float)
                if kind == "points":
                    d = np.asarray(d, dtype=float).reshape(-1, 2)
                    parts.append(np.c_[np.tile(lead, (len(d), 1)), d])
                    n = len(d)
                elif kind == "vectors":
                    d = np.asarray(d, dtype=float).reshape(-1, 2, 2)
                    pos = np.c_[np.tile(lead, (len(d), 1)), d[:, 0]]
                    vec = np.c_[np.zeros((len(d), len(lead))), d[:, 1]]
                    parts.append(np.stack([pos, vec], axis=1))
                    n = len(d)
                else:  # shapes: a list of polygons
                    polys = [np.c_[np.tile(lead, (len(p), 1)), p] for p in d]
                    parts.append(polys)
                    n = len(polys)
                counts.append(n)
                table = pd.DataFrame(m.get("features", {}))
                if len(table.columns) or kind == "points":
                    table = table.reset_index(drop=True) if len(table) == n else pd.DataFrame(
                        index=range(n))
                    tables.append(table.assign(**_plane_columns(index, n)))
            if kind == "shapes":
                data = [p for part in parts for p in part]
            else:
                width = len(indices[0]) + 2
                empty = np.empty((0, 2, width)) if kind == "vectors" else np.empty((0, width))
                data = np.concatenate(parts) if parts else empty
            meta.update(_per_element_style([m for _d, m, *_ in planes], counts))
        if tables:
            meta["features"] = pd.concat(tables, ignore_index=True)
        stacked.append((role, (data, meta, kind)))
    return stacked


#: style options that may be given per point (or per vector, per shape)
_STYLE = ("face_color", "border_color", "edge_color", "border_width", "size")


def _per_element_style(metas: list[dict], counts: list[int]) -> dict:
    """The planes' style options for the stack: where a plane gives one per element (the
    hollow, ringed points of fits that did not converge) or planes differ (a point size
    from each plane's spacing), one value per element of the stack, plane after plane;
    else the first plane's (napari would otherwise get plane 0's list for the whole stack
    and fall back to white)."""
    from napari.utils.colormaps.standardize_color import transform_color

    out = {}
    for key in _STYLE:
        values = [m.get(key) for m in metas]
        if values[0] is None or any(v is None for v in values):
            continue
        per_element = [isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == n
                       and not (key.endswith("color") and v.ndim == 1)
                       for v, n in zip(values, counts, strict=True)]
        if not any(per_element) and all(_equal(v, values[0]) for v in values):
            continue
        parts = []
        for v, n, each in zip(values, counts, per_element, strict=True):
            if key.endswith("color"):
                rgba = np.asarray(v, dtype=float) if each else transform_color(v)[0]
                parts.append(rgba if each else np.tile(rgba, (n, 1)))
            else:
                parts.append(np.asarray(v, dtype=float) if each else np.full(n, float(v)))
        out[key] = np.concatenate(parts) if parts else values[0]
    return out


def _drain(job):
    """Run a job to its end: a plain function, or a generator of stage messages."""
    result = job()
    if not inspect.isgenerator(result):
        return result
    while True:
        try:
            next(result)
        except StopIteration as stop:
            return stop.value


def _stages(job):
    """``yield from`` a job: its stage messages pass on, its result is returned."""
    result = job()
    if inspect.isgenerator(result):
        return (yield from result)
    return result


def _plane_notes(blank: list, outside: list) -> list[str]:
    """What a stack run says of its other planes: those found blank (a dropped frame, "the
    plane is constant (all values 0)"), three at most, and those with NaN or infinite
    pixels read as outside the sample, two at most (else a NaN plane 1 went unsaid behind
    plane 0). Both lists hold (index, note) pairs."""
    said = [f"{_plane_text(index)}: {note}" for index, note in blank[:3]]
    if len(blank) > 3:
        said.append(f"{counted(len(blank) - 3, 'other blank plane')}")
    said += [f"{_plane_text(index)}: {note}" for index, note in outside[:2]]
    if len(outside) > 2:
        said.append(f"{counted(len(outside) - 2, 'other plane')} with NaN or infinite pixels")
    return said


def _message_text(message) -> str:
    return message[0] if isinstance(message, tuple) else message


def _with_plane(message, plane: str | None, text: str | None = None):
    """A job's message naming the plane(s) it used (a tuple message keeps its extras)."""
    new = text if text is not None else f"{_message_text(message)} ({plane})"
    return (new, *message[1:]) if isinstance(message, tuple) else new


def _planes_with_points(layer, most: int = 5) -> str:
    """' Plane 3 (12 points), … hold 3 or more: move the slider there.' for a stack of
    Points (what the planes hold when none has 3), or '' when it holds no point."""
    data = np.asarray(layer.data, dtype=float)
    lead = data[:, :layer.ndim - 2] if data.ndim == 2 and len(data) else np.empty((0, 0))
    lead = lead[np.isfinite(lead).all(axis=1)]
    if not len(lead):
        return ""
    planes, counts = np.unique(np.round(lead).astype(np.int64), axis=0, return_counts=True)
    enough = np.flatnonzero(counts >= 3)
    order = enough[np.argsort(-counts[enough], kind="stable")][:most]
    if not len(order):
        return f" No plane holds 3 points (at most {counts.max()})."
    listed = ", ".join(f"{_plane_text(tuple(int(i) for i in planes[k]))} "
                       f"({counted(counts[k], 'point')})" for k in order)
    more = (f" and {counted(len(enough) - len(order), 'more plane')}"
            if len(enough) > most else "")
    return f" Planes with enough: {listed}{more}; move the slider there."


def _placed_on_plane(outputs: list, message, index: tuple[int, ...], layer):
    """(outputs, message) of plane ``index`` of the stack ``layer`` as drawn: on that
    plane (:func:`_on_plane`), the message naming it, and saying when they stand on
    every plane instead. Run's 'this plane' and the live preview both."""
    placed = _on_plane(outputs, index, layer)
    text = _plane_text(index)
    said = text if placed is not outputs else f"{text}, shown on every plane"
    return placed, _with_plane(message, said)


def _on_plane(outputs: list, index: tuple[int, ...], layer) -> list:
    """2-D outputs of one plane of the stack ``layer`` placed on that plane: the stack's
    leading (T, Z, …) axes in front, in its scale and units. Points, vectors, shapes and
    meshes get the plane's index as those coordinates, as the stack's own points and
    'all planes' have them (an exported table's ``axis0`` says the plane); labels are one
    plane deep, moved there by the translate (a whole stack of zeros would cost memory).
    napari draws them on that plane only: made 2-D, the Lattice of plane 2's points was
    drawn over every plane as the user stepped through them. A rotated, sheared or affine
    stack's outputs take its transform, labels moved to their plane through it (a rotated
    stack's outputs were drawn unrotated); outputs with a 2-D transform of their own stay
    2-D."""
    lead = len(index)
    if not lead or any(kind == "labels" and (meta.get("multiscale")
                                             or not isinstance(data, np.ndarray))
                       for _role, (data, meta, kind) in outputs):
        return outputs  # a large plane's labels (Zarr levels) stay 2-D, as all its outputs
    scale = [float(s) for s in layer.scale[:lead]]
    stack_origin = [float(t) for t in layer.translate[:lead]]
    at = np.asarray(index, dtype=float)
    full = _transforms(layer)
    # where the plane's data origin (index, 0, 0) lies from the stack's (0, 0, 0), through
    # its scale, rotate and shear: a one-plane-deep labels layer is moved by that much
    shift = np.asarray(layer._transforms["data2physical"].linear_matrix) @ np.r_[at, 0, 0]
    units = [str(u) for u in (getattr(layer, "units", None) or ())][:lead]
    placed = []
    for role, (data, meta, kind) in outputs:
        if any(key in meta for key in ("rotate", "shear", "affine")):
            placed.append((role, (data, meta, kind)))
            continue
        translate = np.r_[stack_origin, meta.get("translate", (0.0, 0.0))]
        if kind == "labels":
            translate = translate + shift
        meta = {**meta, "scale": (*scale, *meta.get("scale", (1.0, 1.0))),
                "translate": tuple(float(t) for t in translate), **full}
        if "units" in meta and len(units) == lead:
            meta["units"] = (*units, *meta["units"])
        elif "units" in meta:
            meta.pop("units")
        if kind == "labels":
            data = data[(np.newaxis,) * lead]
        elif kind == "surface":
            vertices, faces, values = data
            vertices = np.asfortranarray(np.c_[np.tile(at.astype(vertices.dtype),
                                                       (len(vertices), 1)), vertices])
            data = (vertices, faces, values)
        elif kind == "shapes":
            data = [np.c_[np.tile(at, (len(p), 1)), p] for p in data]
        elif kind == "vectors":  # (start, direction): the plane in the start, 0 across
            front = np.zeros((*data.shape[:2], lead), data.dtype)
            front[:, 0] = at
            data = np.asfortranarray(np.concatenate([front, data], axis=2))
        else:  # points
            data = np.c_[np.tile(at, (len(data), 1)), data]
        placed.append((role, (data, meta, kind)))
    return placed
