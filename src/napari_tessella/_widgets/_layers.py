"""Reading napari layers for the widgets: the displayed plane, geometry, units, choices."""

from __future__ import annotations

import functools
import math
import os
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .._lazy import is_large, is_lazy
from .._validation import _in_pixels, rgb_luminance
from ..export import column_unit, physical_columns
from ..reading import _is_pixel_unit
from ._physical import _pixel, _unit_factor, _unit_name


def _plane(layer, viewer, *, lazy: bool = False, index: tuple | None = None):
    """The 2-D (row, column) plane of ``layer`` the viewer currently shows, as an ndarray.

    RGB(A) layers keep their channel axis (the core turns it into luminance); multiscale
    layers give their full-resolution level; lazy (dask) data is computed for this plane only.
    ``index`` (leading-axis indices) picks another plane than the displayed one.
    With ``lazy=True`` a large lazy plane (:func:`napari_tessella._lazy.is_large`) is
    returned as a dask array instead (the core then works chunk by chunk).
    """
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    spatial = layer.ndim
    lead = spatial - 2
    if is_lazy(data) and type(data).__module__.split(".")[0] != "dask":
        import dask.array as da

        native = getattr(data, "chunks", None)
        data = da.from_array(data, chunks=native if isinstance(native, tuple) else "auto")
    if lead > 0:
        data = data[tuple(index) if index is not None else _current_plane(layer, viewer)]
    if lazy and is_lazy(data):
        if is_large(data.shape[:2]):
            return data
    # A private copy (dask/Zarr data is read here, for this plane only): nothing downstream
    # may write into the user's layer.
    plane = np.array(data, copy=True)
    if getattr(layer, "rgb", False) and plane.ndim == 3 and plane.shape[0] <= 4:
        # colour, as the layer says, where the core cannot tell it from a stack of 2-4
        # planes by its shape (it refused a 3-row RGB strip as "not a 2-D image")
        return rgb_luminance(plane)
    return plane


def _layer_data(levels: list):
    """(data, multiscale) for a Labels layer from pyramid levels (napari needs two or more
    levels for a multiscale layer; a single Zarr array is shown lazily as it is)."""
    return (levels, True) if len(levels) > 1 else (levels[0], False)


#: a stem's longest, in UTF-8 bytes: room left within a file name's 255 for " (12)",
#: "_2", ".zarr" and a chunked run's "-20261202-031500-a1b2c3.zarr"
STEM_BYTES = 180


def _file_stem(name: str) -> str:
    """A layer name made safe as a file name (letters, digits, '-', '_', '.'), not hidden
    (a leading '.' is '_') and short enough for one: a longer name (a layer named after
    a long file, plus " Voronoi map") keeps its first 180 bytes and a hash of the whole
    name, so Export and a chunked run's Zarr store are not refused "file name too long"
    (one such input stopped every later Export of the widget)."""
    import hashlib

    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    if stem.startswith("."):
        stem = "_" + stem[1:]
    if len(stem.encode("utf-8")) > STEM_BYTES:
        digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        head = stem.encode("utf-8")[:STEM_BYTES - 9].decode("utf-8", "ignore")
        stem = f"{head}-{digest}"
    return stem


def _geometry(layer) -> dict[str, Any]:
    """Scale, translate and units of the displayed plane, for the output layers to inherit."""
    geo = {
        "scale": tuple(float(s) for s in layer.scale[-2:]),
        "translate": tuple(float(t) for t in layer.translate[-2:]),
    }
    units = getattr(layer, "units", None)
    if units:
        geo["units"] = tuple(str(u) for u in units[-2:])
    if layer.ndim == 2:  # a rotated, sheared or affine image: its outputs lie on it too
        geo.update(_transforms(layer))  # (a stack's: _stacks._on_plane, stack_outputs)
    return geo


def _transforms(layer) -> dict[str, np.ndarray]:
    """The rotate, shear and affine of ``layer`` that are not the identity, over all its
    axes: outputs given them (and its scale and translate) are drawn as it is."""
    n = layer.ndim
    out = {}
    for key, value, identity in (("rotate", layer.rotate, np.eye(n)),
                                 ("shear", layer.shear, np.zeros(1)),
                                 ("affine", layer.affine.affine_matrix, np.eye(n + 1))):
        if not np.allclose(value, identity):
            out[key] = np.array(value, dtype=float)
    return out


def _axis_factors(theirs, mine) -> list[float | None]:
    """Per pair of units (an axis of two layers, or of the viewer and a layer), the factor
    taking a length in ``theirs`` into ``mine``: 1 where either is in pixels (napari then
    takes the axis as it is), None where they do not convert (seconds and nm)."""
    return [1.0 if _is_pixel_unit(str(a)) or _is_pixel_unit(str(b)) else _unit_factor(a, b)
            for a, b in zip(theirs, mine, strict=True)]


def _world_factors(other, layer) -> np.ndarray:
    """Per-axis factors taking world coordinates of ``other`` into those of ``layer``, for
    their shared trailing axes: napari draws a layer in nm beside one in µm converted
    (500 nm is 0.5 µm). An axis in pixels on either side is taken as it is, as napari does.
    ``ValueError`` naming both layers when two units do not convert (seconds and nm)."""
    n = min(other.ndim, layer.ndim)
    theirs = tuple(getattr(other, "units", None) or ("pixel",) * other.ndim)[-n:]
    mine = tuple(getattr(layer, "units", None) or ("pixel",) * layer.ndim)[-n:]
    factors = _axis_factors(theirs, mine)
    for a, b, factor in zip(theirs, mine, factors, strict=True):
        if factor is None:
            raise ValueError(
                f"the layer {other.name!r} is in {_unit_name((str(a),))} where "
                f"{layer.name!r} is in {_unit_name((str(b),))}: they do not convert into "
                "each other, so one cannot be placed on the other. Set the layers' units "
                "alike, e.g. layer.units = ('nm', 'nm').")
    return np.asarray(factors, dtype=float)


#: What lengths are in for a layer with a scale but no unit: the tables' columns say
#: ``_scaled`` (``export.physical_columns``), fields, legends and messages say this.
SCALE_UNITS = "scale units"


def _unit(layer) -> str:
    """' nm'-style suffix for lengths in the layer's world units: '' for plain pixels (a
    scale of 1, no unit), ' scale units' for a scale without a unit (lengths and areas are
    then in the scale's units, not pixels)."""
    name = _unit_name(getattr(layer, "units", None))
    if name:
        return f" {name}"
    try:
        size = _pixel(layer).size
    except ValueError:  # units that do not convert: said when a length is measured
        return ""
    return "" if size == (1.0, 1.0) else f" {SCALE_UNITS}"


def _field_unit(layer) -> tuple[str, float | None]:
    """The unit a field of ``layer``'s lengths is labelled in ('nm', 'scale units', 'px'),
    and the length of one of its pixels in it (None when its units do not convert)."""
    unit = _unit(layer).strip() or "px"
    try:
        return unit, _pixel(layer).length
    except ValueError:
        return unit, None


def _relabelled(before: tuple, after: tuple) -> float | None:
    """The factor a length a field holds is multiplied by when its layer's geometry goes
    from ``before`` to ``after`` (two :func:`_field_unit`): 1 while the label's unit stays
    (the number means what the label says, and still does); under another unit, the
    pixels it gave are kept (23 px on a plane given pixels of 0.5 µm is 11.5 µm, not
    23 µm); None when a length of either cannot be measured."""
    if before[0] == after[0]:
        return 1.0
    if not (before[1] and after[1]) or not np.isfinite([before[1], after[1]]).all():
        return None
    return after[1] / before[1]


def _area_text(pixels: float, pixel_area: float, unit: str) -> str:
    """An area of ``pixels`` pixels as the area fields give it: '12 px²' for plain
    pixels, else in the layer's units² with the pixels after it ('3 µm² = 12 px')."""
    if not unit:
        return f"{pixels:g} px²"
    return f"{pixels * pixel_area:.4g}{unit}² = {pixels:g} px"


def _in_field_units(err, layer, lengths) -> str:
    """A core :class:`~napari_tessella._validation.LengthError` (its lengths kept in
    pixels) in the units of ``layer`` and the words of the field that gave the length,
    when ``lengths`` (a widget's ``_lengths``) names its keyword: "separation=40 pixels …
    at most 32 pixels" → "a column spacing of 20 nm … at most 16 nm". In pixels for a
    layer without a unit, or with units that do not convert; as it is for a length the
    widget gives in pixels (an opening)."""
    words = {keyword: (named, the) for keyword, named, the in lengths}
    if err.name not in words:
        return str(err)
    unit = _unit(layer) if layer is not None else ""
    try:
        length = _pixel(layer).length if unit else 1.0
    except ValueError:
        unit = ""
    named, the = words[err.name]
    say = (lambda v: f"{v * length:.4g}{unit}") if unit else _in_pixels
    return err.in_units(say, the=the, named=named)


def _value_range(layer) -> tuple[float, float]:
    """(lowest, highest) value of an Image layer's data as it is now.

    napari computes ``contrast_limits_range`` once, when the layer is made, and keeps it
    when ``layer.data`` is replaced; in-memory data is measured again here (as napari
    measures it: the dtype's range for 8-bit data, samples of very large arrays). Lazy and
    multiscale data keep napari's range, which reading them would cost.
    """
    from napari.layers.utils.layer_utils import calc_data_range

    data = layer.data
    if getattr(layer, "multiscale", False) or not isinstance(data, np.ndarray):
        return tuple(float(v) for v in layer.contrast_limits_range)
    with np.errstate(all="ignore"):
        lo, hi = calc_data_range(data, rgb=layer.rgb)
    return float(lo), float(hi)


def _layer_choices(viewer, *types) -> Callable:
    """Choices for a layer ComboBox, bound to ``viewer`` so undocked widgets work too."""
    return lambda _widget=None: [lyr for lyr in viewer.layers if isinstance(lyr, types)]


def _current_plane(layer, viewer) -> tuple[int, ...]:
    """Index of the leading (T, Z, …) axes of ``layer`` at the viewer's current position.

    For an Image or Labels layer, within its planes: the viewer may stand beyond them (at
    a longer stack's plane 8 when this one has 3), and napari then shows its nearest
    plane, which is the one read and named. Points are not clamped: beyond their planes
    there are none.
    """
    lead = layer.ndim - 2
    if lead <= 0:
        return ()
    _plane_on_view(layer, viewer)
    point = None
    if viewer is not None:  # the slider's position in the layer's units, as napari draws
        point = layer.world_to_data(np.asarray(viewer.dims.point, dtype=float)
                                    * _units_factors(viewer.dims, layer))
    index = [0 if point is None else round(float(point[axis])) for axis in range(lead)]
    if layer._type_string in ("image", "labels"):
        shape = layer.level_shapes[0] if getattr(layer, "multiscale", False) else \
            layer.data.shape
        index = [min(max(i, 0), int(shape[axis]) - 1) for axis, i in enumerate(index)]
    return tuple(index)


def _plane_on_view(layer, viewer) -> None:
    """``ValueError`` when the viewer shows no (row, column) plane of the stack ``layer``:
    a 3-D view (its slider hidden) or axes rolled so that the canvas shows a leading axis
    (Z × X). 'This plane' would be a plane at a slider nobody sees; the transpose button
    (columns × rows) shows the same plane and is fine."""
    if viewer is None:
        return
    dims = viewer.dims
    shown = {dims.ndim - layer.ndim + axis for axis in (layer.ndim - 2, layer.ndim - 1)}
    if dims.ndisplay == 3:
        raise ValueError(f"the viewer shows {layer.name!r} in 3-D, so no one plane of it is "
                         "shown: switch to the 2-D view with the slider on the plane to use.")
    if set(dims.displayed) != shown:
        axes = " and ".join(str(axis - (dims.ndim - layer.ndim)) for axis in dims.displayed)
        raise ValueError(f"the viewer shows {layer.name!r} along its axes {axes}, not its rows "
                         "and columns (the last two): roll the axes back (the viewer's "
                         "'roll dimensions' button) with the slider on the plane to use.")


def _units_factors(dims, layer) -> np.ndarray | float:
    """Per axis of the viewer's ``dims``, the factor taking its world units into those of
    ``layer`` (:func:`_axis_factors` on the last axes; 1 where they do not convert), as
    napari converts the slider's position when it draws a layer in other units."""
    units = getattr(dims, "units", None)
    mine = getattr(layer, "units", None)
    if not units or not mine:
        return 1.0
    n = min(len(units), len(mine))
    factors = np.ones(len(units))
    factors[len(units) - n:] = [f or 1.0 for f in _axis_factors(units[-n:], mine[-n:])]
    return factors


def _points_in_pixels(points_layer, image_layer=None, plane=None) -> np.ndarray:
    """(row, column) of the points in ``image_layer``'s pixel grid (or their own data grid).

    Layers are related as napari places them in world coordinates: through their whole
    transform (scale, translate, rotate, shear, affine) when both have the same number of
    dimensions, else through the scale and translate of the last two axes; their units
    converted (:func:`_world_factors`).
    With ``plane`` (leading-axis indices of a stack), only the points of that plane.
    """
    pts = np.asarray(points_layer.data, dtype=np.float64)
    if plane and pts.ndim == 2 and pts.shape[1] > 2:
        keep = np.all(np.round(pts[:, :len(plane)]) == np.asarray(plane), axis=1)
        pts = pts[keep]
    if pts.ndim != 2:
        pts = pts.reshape(0, 2)
    if image_layer is None:
        return pts[:, -2:]
    factors = _world_factors(points_layer, image_layer)  # points in nm on an image in µm
    if points_layer.ndim == image_layer.ndim == pts.shape[1] and len(pts):
        # points drawn on a rotated image are stored unrotated, in world coordinates
        world = np.asarray(points_layer._data_to_world(pts)) * factors
        return np.asarray(image_layer._data_to_world.inverse(world))[:, -2:]
    pts = pts[:, -2:]
    world = pts * np.asarray(points_layer.scale[-2:]) + np.asarray(points_layer.translate[-2:])
    world = world * factors[-2:]
    return (world - np.asarray(image_layer.translate[-2:])) / np.asarray(image_layer.scale[-2:])


def _plane_matrix(layer):
    """The 3 × 3 homogeneous matrix taking (row, column) of ``layer``'s planes to world
    (row, column); None when its leading (T, Z, …) axes mix into the plane's (a rotation
    out of the plane), which no pixel-to-pixel mapping of two planes can follow."""
    full = np.asarray(layer._data_to_world.affine_matrix, dtype=float)
    n = full.shape[0] - 1
    keep = [n - 2, n - 1, n]
    block = full[np.ix_(keep, keep)]
    mixed = np.delete(full[[n - 2, n - 1]], keep, axis=1)
    return None if np.any(mixed != 0) else block


def _matching_plane(other, layer, index: tuple[int, ...] | None):
    """Leading-axis index of ``other``'s plane at the place of ``layer``'s plane ``index``
    in world coordinates (a seeds layer placed on plane 3 of an image as its own plane 0;
    units converted, :func:`_world_factors`), not clamped to ``other``'s planes; None when
    the two do not have the same leading axes (then ``other``'s plane shown is the one to
    read)."""
    lead = other.ndim - 2
    if not index or lead != len(index) or layer.ndim != other.ndim:
        return None
    point = np.r_[np.asarray(index, dtype=float), 0.0, 0.0]
    world = np.asarray(layer._data_to_world(point)) / _world_factors(other, layer)
    return tuple(round(float(v)) for v in other._data_to_world.inverse(world)[:lead])


def _image_shape(layer) -> tuple[int, int]:
    shape = layer.level_shapes[0] if layer.multiscale else layer.data.shape
    return tuple(int(s) for s in (shape[-3:-1] if layer.rgb else shape[-2:]))


def _layer_key(layer):
    """What tells input layers apart for good: napari's ``unique_id``. Python's ``id()``
    is reused once a deleted layer is freed, and a new image then got the outputs of a
    deleted one (its results written into "<old name> labels")."""
    return getattr(layer, "unique_id", None) or id(layer)


def _with_physical(table, geo: dict):
    """``table`` with physical-unit columns from a :func:`_geometry`: the same rule and
    the same names as the CSV files (:func:`napari_tessella.export.physical_columns`), in
    one unit for both axes, from the pixel's world steps (:func:`._physical._pixel`)."""
    pixel = _pixel(geo)
    return physical_columns(table, pixel.steps, pixel.translate, pixel.unit)


def _column_unit(geo: dict) -> str:
    """The unit word physical columns of a :func:`_geometry` are named with, as Export
    names them (``um``, ``nm``; ``scaled`` for a scale without a unit); '' for plain
    pixels, which get no physical column."""
    pixel = _pixel(geo)
    return column_unit(pixel.scale, pixel.translate, pixel.unit)


def _labels_features(table, label_column: str = "label"):
    """A per-object table as a Labels layer's ``features``: napari matches the rows to
    label values through an ``index`` column (hovering an object shows its row)."""
    table = table.copy()
    if "index" not in table:
        table.insert(0, "index", table[label_column].to_numpy())
    return table


def _set_field(field, value: float):
    """Set a number field, widening its range when a layer's scale takes it beyond."""
    field.max = max(field.max, value)
    field.value = value


def _fit_decimals(field, unit_size: float) -> None:
    """Give a number field the decimals of ``unit_size`` (a tenth of a pixel, a pixel's
    area) in the layer's units, and a step of ten of them (at most 1): with two decimals
    a layer in mm cut a 0.0013 mm smoothing to 0 (off) and one in metres held no length."""
    if np.isfinite(unit_size) and unit_size > 0:
        field.native.setDecimals(max(2, math.ceil(-math.log10(unit_size))))
        field.step = min(1.0, 10 * unit_size)


def _image_of(points, images: list):
    """The image ``points`` were made on, among ``images``: one placed as they are (the
    widgets' points take their image's scale, translate, units and transform), preferring
    the one whose name theirs starts with ("lat columns" of "lat"); the newest of those.
    None when no image is placed as they are."""
    mine = _geometry(points)
    placed = [img for img in images if _same_placement(_geometry(img), mine)]
    named = [img for img in placed if points.name.startswith(f"{img.name} ")]
    return (named or placed or [None])[-1]


def _same_placement(a: dict, b: dict) -> bool:
    """Whether two :func:`_geometry` dicts place a plane alike."""
    if a.keys() != b.keys():
        return False
    return all(tuple(a[k]) == tuple(b[k]) if k == "units" else
               np.allclose(a[k], b[k], rtol=1e-9, atol=0) for k in a)


def _series_note(layer) -> str:
    """What the user must know of an Image ``layer`` read from a TIFF of several images
    (``layer.source.path``) when it is not the file's main image: napari's own reader
    opens a file's first image, a slide's thumbnail or one position of a multi-position
    OME-TIFF, without a word (:func:`napari_tessella._tiff.shown_series`); which image the
    main one is and how to open it, or ''. Read once for a file as it is (its header)."""
    source = getattr(layer, "source", None)
    path = getattr(source, "path", None)
    if path is None or getattr(layer, "_type_string", "") != "image":
        return ""
    data = layer.data[0] if getattr(layer, "multiscale", False) else layer.data
    try:
        stamp = os.stat(path).st_mtime_ns
    except (OSError, TypeError, ValueError):  # a URL, a file gone since
        return ""
    found = _shown_series(os.fspath(path), stamp, tuple(data.shape))
    if found is None:
        return ""
    name = os.path.basename(path)
    opening = ("open it in napari's console (the >_ button): from napari_tessella.reading "
               f"import open_image; viewer.add_image(open_image({os.fspath(path)!r}, series=")
    if found.main is not None:
        return (f"{layer.name!r} is {found.shown} of {name}, which holds {found.count} "
                f"images: its main image is {found.said}, not this one. To segment that, "
                f"{opening}{found.main}))")
    return (f"{layer.name!r} is {found.shown} of {name}, which holds {found.count} images "
            f"({found.said}): napari opened the first only. To segment another, {opening}"
            f"N)), N its number (0 to {found.last}) or its name")


#: the layers whose file's other images a notification has named (once a layer)
_TOLD: weakref.WeakSet = weakref.WeakSet()


def _tell_series(widget) -> None:
    """A dock ``widget``'s chosen image not its TIFF's main image (napari's reader opens
    a file's first: a slide's thumbnail, one position of several): said in its status
    line, and once for a layer in a notification (:func:`_series_note`)."""
    from napari.utils.notifications import show_warning

    layer = widget._source()
    note = _series_note(layer) if layer is not None else ""
    if not note:
        return
    widget._status.value = f"⚠ {note}"
    if layer not in _TOLD:
        _TOLD.add(layer)
        show_warning(f"{widget.label or 'tessella'}: {note}")


def _watch_series(widget) -> None:
    """:func:`_tell_series` for a dock ``widget`` now and whenever its image is chosen."""
    getattr(widget, widget._input_field).changed.connect(lambda *_: _tell_series(widget))
    _tell_series(widget)


@functools.lru_cache(maxsize=64)
def _shown_series(path: str, _stamp: int, shape: tuple):
    from .._tiff import shown_series

    return shown_series(path, shape)
