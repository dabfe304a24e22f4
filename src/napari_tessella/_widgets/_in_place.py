"""An output layer updated in place by a re-run: whether the re-run's output is what the
layer already shows (then it is left alone), and giving it new data and what depends on
it (colours, geometry, features) without the refreshes napari would do for nothing."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from ._layers import _transforms


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


def _equal(a, b) -> bool:
    """Whether two layer options (arrays, tables, dicts, sequences, scalars) are equal."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asanyarray(a), np.asanyarray(b)
        nan = a.dtype.kind in "fc"  # NaN (e.g. the area past the border) equals NaN
        return (a.shape == b.shape and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=nan))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "equals"):  # a table
        return type(a) is type(b) and bool(a.equals(b))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _unchanged_output(layer, data, meta: dict, last_meta) -> bool:
    """Whether a re-run's output equals what the layer shows: the same data as the layer's
    own (in memory), given with the same options as last time. Then it is left alone: napari
    would slice, mesh and draw it all again (1-2 s for 300,000 bonds and ridges)."""
    if last_meta is None or not _equal(_nameless(meta), _nameless(last_meta)):
        return False  # (a new name alone, after the input was renamed, is given apart)
    current = layer.data
    if layer._type_string == "surface":  # (vertices, faces, values), as napari keeps them
        return (isinstance(data, tuple) and len(data) == len(current) and all(
            isinstance(a, np.ndarray) and np.shape(a) == np.shape(b) and np.array_equal(a, b)
            for a, b in zip(data, current, strict=True)))
    if isinstance(data, list) and isinstance(current, list):  # shapes (kept in float32)
        return len(data) == len(current) and all(
            np.shape(a) == np.shape(b) and np.array_equal(np.asarray(a, np.asarray(b).dtype), b)
            for a, b in zip(data, current, strict=True))
    if not (isinstance(data, np.ndarray) and isinstance(current, np.ndarray)):
        return False  # lazy or multiscale: not compared
    return current.shape == data.shape and np.array_equal(current, data)


def _nameless(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "name"}


def _update_in_place(layer, data, meta: dict) -> None:
    """Give an output layer of the same type new data and what depends on it.

    Unchanged scale, translate and units are not set again: each costs napari a full
    refresh (0.2 s of a 0.6 s re-run with 60,000 bonds). Vectors whose colours follow are
    meshed once, on the colours, not also on the data (0.2 s each for 300,000 bonds).
    """
    quiet = layer._type_string == "vectors" and "edge_color" in meta
    with layer.events.set_data.blocker() if quiet else nullcontext():
        layer.data = data
        if not layer.visible:
            # napari does not slice hidden layers, but Vectors re-mesh on a colour change
            # all the same: with the old slice (IndexError if fewer bonds)
            layer.set_view_slice()
    if "features" in meta:
        layer.features = meta["features"]
    if "metadata" in meta:  # a mesh's table, one row per segment
        layer.metadata = meta["metadata"]
    # colours that depend on the new data (label kinds, per-bond colours) too
    for key in ("scale", "translate", "units", "rotate", "shear", "affine", "colormap",
                "contrast_limits", "size", "edge_colormap", "edge_contrast_limits",
                "edge_color", "face_color", "border_color", "border_width"):
        if key in meta and hasattr(layer, key) and not _unchanged(layer, key, meta[key]):
            setattr(layer, key, meta[key])
    # a transform the new outputs do not have is taken off (their image was un-rotated)
    for key, value in _transforms(layer).items():
        if key not in meta:
            setattr(layer, key, _identity(key, value))


def _identity(key: str, value: np.ndarray) -> np.ndarray:
    """The identity of a layer's ``rotate``, ``shear`` or ``affine`` shaped as ``value``."""
    return np.zeros_like(value) if key == "shear" else np.eye(len(value))
