"""A layer's pixel in the world: its (row, column) sizes, its area and its units, as
napari draws it (scale, then rotate, shear and affine), for the widgets' lengths and areas."""

from __future__ import annotations

import math

import numpy as np

from ..reading import _is_pixel_unit


def _physical(source) -> tuple[tuple[float, float], tuple[float, float], str]:
    """(row, column) pixel size and origin of a layer (or of a :func:`_geometry`) in one
    unit, that of its columns, and that unit's name ('' for plain pixels).

    The one reading of a layer's scale for lengths, areas and physical-unit columns.
    napari lets each axis have its own unit: rows in µm and columns in nm are converted
    into nm (a bond across both axes is then a length). Units that do not convert into
    each other (seconds and nm, pixels and nm) raise ``ValueError``: no length or area
    can be measured across them. ``None`` gives pixels: ((1, 1), (0, 0), '').

    A size is the world length of one step along the axis, as napari draws it (scale,
    then rotate, shear and affine): on a layer sheared by s a column step is
    sx·√(1 + s²) long. A pixel's area is :func:`_pixel_area` (not row × column size when
    the axes are not at right angles).
    """
    return _physical_area(source)[0]


def _physical_area(source):
    """(:func:`_physical`, the world area of one pixel in its unit²)."""
    if source is None:
        return ((1.0, 1.0), (0.0, 0.0), ""), 1.0
    scale, translate, units, affine, rotate, shear, what = _placement(source)
    (sy, sx), (ty, tx) = (float(v) for v in scale[-2:]), (float(v) for v in translate[-2:])
    if affine is not None:  # a pixel size some readers give as an affine, not a scale
        (sy, sx), (ty, tx) = _with_affine((sy, sx), (ty, tx), np.asarray(affine, float))
    linear = _oblique_linear(scale, rotate, shear, affine)
    if linear is not None:  # axes not at right angles: sizes are the steps' world lengths
        ny, nx = np.hypot(linear[0], linear[1])
        sy, sx = math.copysign(float(ny), sy), math.copysign(float(nx), sx)
    factor = 1.0
    if units is not None and len(units) >= 2:
        factor = _conversion(units[-2], units[-1], what)
    size = (sy * factor, sx)
    # a right-angled pixel's area is row × column size, as it always was (bit for bit);
    # a sheared or skewed one's is |det| of the plane's linear map (a shear keeps it)
    area = abs(size[0]) * abs(size[1]) if linear is None else \
        float(abs(np.linalg.det(linear))) * factor
    return (size, (ty * factor, tx), _unit_name(units)), area


def _placement(source):
    """(scale, translate, units, affine, rotate, shear, its name in a message) of a
    layer or a :func:`_geometry` (None for a transform a geometry does not hold)."""
    if isinstance(source, dict):
        return (source["scale"], source["translate"], source.get("units"),
                source.get("affine"), source.get("rotate"), source.get("shear"), "the layer")
    return (source.scale, source.translate, getattr(source, "units", None),
            source.affine.affine_matrix, source.rotate, source.shear,
            f"the layer {source.name!r}")


def _oblique_map(source) -> np.ndarray | None:
    """The 2 × 2 map taking a (row, column) step of a sheared or skewed layer (or
    :func:`_geometry`) to its world step, both axes in the unit of its columns
    (:func:`_physical`): a bond's world length is the length of its image. None for a
    layer whose axes stay at right angles (its sizes say it all), and for no geometry."""
    if source is None or (isinstance(source, dict) and "scale" not in source):
        return None
    scale, _translate, units, affine, rotate, shear, what = _placement(source)
    linear = _oblique_linear(scale, rotate, shear, affine)
    if linear is not None and units is not None and len(units) >= 2:
        linear = linear * np.array([[_conversion(units[-2], units[-1], what)], [1.0]])
    return linear


def _oblique_linear(scale, rotate, shear, affine) -> np.ndarray | None:
    """The 2 × 2 linear part of data → world on the (row, column) plane (napari's
    affine · rotate · shear · scale, the layer's own ``_data_to_world``), when it may turn
    the axes away from right angles: a shear, or an affine that is not a plain scaling
    or comes after a rotation. None otherwise: the axes stay at right angles and each
    size is the scale (times the affine's), as :func:`_with_affine` gives it."""
    n = len(scale)
    sheared = shear is not None and np.any(np.asarray(shear, float) != 0)
    a = None if affine is None else np.asarray(affine, float)
    turned = rotate is not None and not np.allclose(rotate, np.eye(n))
    skew = a is not None and not np.allclose(a, np.eye(n + 1)) and (
        turned or not np.allclose(a[:n, :n], np.diag(np.diag(a[:n, :n]))))
    if not (sheared or skew):
        return None
    from napari.utils.transforms import CompositeAffine

    linear = CompositeAffine(scale=np.asarray(scale, float), rotate=rotate,
                             shear=shear if sheared else None, ndim=n).linear_matrix
    if a is not None:
        linear = a[:n, :n] @ linear
    return np.asarray(linear, dtype=float)[-2:, -2:]


def _with_affine(size, origin, affine: np.ndarray):
    """Pixel size and origin of the rows and columns with the layer's affine applied
    after its scale (as napari draws it): each axis's size times the length its affine
    column gives a unit step (a rotation leaves it, a scaling multiplies it); the origin
    mapped by an axis-aligned affine, and only scaled by one that turns the axes (the
    columns stay along the layer's own axes, as for its ``rotate``)."""
    n = affine.shape[0] - 1
    linear, offset = affine[n - 2:n, n - 2:n], affine[n - 2:n, n]
    if np.allclose(linear, np.diag(np.diag(linear))):  # scaling (and a flip), no turn
        a, b = linear[0, 0], linear[1, 1]
        return ((size[0] * a, size[1] * b),
                (origin[0] * a + offset[0], origin[1] * b + offset[1]))
    stretch = np.hypot(linear[0], linear[1])  # per column: the step of one row, one column
    return ((size[0] * stretch[0], size[1] * stretch[1]),
            (origin[0] * stretch[0], origin[1] * stretch[1]))


def _conversion(row_unit, col_unit, what: str) -> float:
    """The factor giving a length in ``row_unit`` in ``col_unit`` (1 when they are the same
    or both plain pixels); ``ValueError`` naming both when there is none."""
    factor = _unit_factor(row_unit, col_unit)
    if factor is None:
        raise ValueError(
            f"{what} has rows in {_unit_name((str(row_unit),)) or 'pixels'} and columns in "
            f"{_unit_name((str(col_unit),)) or 'pixels'}: lengths and areas need one length "
            "unit on both axes (or two that convert, such as µm and nm). Set the layer's "
            "units, e.g. layer.units = ('nm', 'nm').")
    return factor


def _unit_factor(unit, target) -> float | None:
    """The factor giving a length in ``unit`` in ``target`` (1 when they are the same or
    both plain pixels); None when they do not convert (seconds and nm, pixels and nm)."""
    a, b = str(unit), str(target)
    if a == b or (_is_pixel_unit(a) and _is_pixel_unit(b)):
        return 1.0
    import pint  # napari's units are pint units

    registry = pint.get_application_registry()
    try:
        factor = float((1 * registry(a)).to(registry(b)).magnitude)
    except Exception:  # not convertible (DimensionalityError), or not a unit pint knows
        return None
    if not np.isfinite(factor) or factor <= 0:
        return None
    return float(f"{factor:.12g}")  # µm → nm is 1000, not 999.9999999999999


def _pixel_size(source) -> tuple[float, float]:
    """(row, column) size of a pixel of a layer (or a :func:`_geometry`), both in the unit
    of its columns (:func:`_physical`); (1, 1) without a layer.

    Sizes, not directions: a negative scale (a flipped axis) gives a positive size.
    """
    (sy, sx), _, _ = _physical(source)
    return abs(sy), abs(sx)


def _pixel_area(source) -> float:
    """World area of one pixel of a layer (or a :func:`_geometry`) in its unit²
    (:func:`_physical`); 1 without a layer. Row size × column size for right-angled
    axes; |det| of the plane's data → world map for sheared or skewed ones (a shear
    moves the pixel's corners, not its area: sy·sx, not sy·sx·√(1 + s²))."""
    return _physical_area(source)[1]


def _length_per_pixel(layer) -> float:
    """World length of one pixel for lengths given as one number (a σ, a diameter, a
    spacing): the square root of a pixel's area (:func:`_pixel_area`), the geometric
    mean of the row and column sizes for right-angled axes, so that a length² is an area
    for anisotropic, sheared and skewed pixels too (a disc of that diameter covers the
    pixels it says)."""
    return float(np.sqrt(_pixel_area(layer)))


def _unit_name(units) -> str:
    """'nm'-style name of the last axis's unit of napari ``units`` (pint units or strings);
    '' for plain pixels."""
    if not units:
        return ""
    unit = units[-1]
    if isinstance(unit, str):
        import pint  # napari's units are pint units

        try:
            unit = pint.get_application_registry()(unit).units
        except Exception:
            pass
    name = unit if isinstance(unit, str) else format(unit, "~")
    if name in ("µ", "μ"):  # pint's symbol of the micron, a prefix alone: the micrometre
        name = "µm"
    return "" if _is_pixel_unit(name) else name
