"""A layer's pixel in the world: its (row, column) sizes, its area and its units, as
napari draws it (scale, then rotate, shear and affine), for the widgets' lengths and areas."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..export import _step_measures
from ..reading import _is_pixel_unit


class Pixel(NamedTuple):
    """A layer's pixel in the world (:func:`_pixel`), both axes in the unit of its columns.

    ``steps`` is the 2 × 2 linear part of the plane's data → world map: its first column
    the world step of one row, its second that of one column. ``scale`` (signed: a flip
    stays one), ``translate`` and ``unit`` are what
    :func:`napari_tessella.export.physical_columns` is given; ``scale`` and ``area`` come
    from ``steps`` by the formula of :func:`~napari_tessella.export.pixel_measures`, which
    the tables' area columns use too."""

    steps: np.ndarray
    translate: tuple[float, float]
    unit: str
    scale: tuple[float, float]
    area: float

    @property
    def size(self) -> tuple[float, float]:
        """(row, column) sizes, not directions: a flipped axis's is positive."""
        return abs(self.scale[0]), abs(self.scale[1])

    @property
    def length(self) -> float:
        """World length of one pixel for lengths given as one number (a σ, a diameter, a
        spacing): the square root of its area, the geometric mean of the row and column
        sizes for right-angled axes, so that a length² is an area for anisotropic,
        sheared and skewed pixels too (a disc of that diameter covers the pixels it says)."""
        return float(np.sqrt(self.area))

    @property
    def oblique(self) -> bool:
        """Whether the axes leave the world's (a shear, a skewing or turning affine): the
        sizes alone then do not place a bond's ends, ``steps`` does."""
        return bool(self.steps[0, 1] != 0 or self.steps[1, 0] != 0)


#: a pixel of no layer: plain pixels
_PIXELS = Pixel(np.eye(2), (0.0, 0.0), "", (1.0, 1.0), 1.0)
_PIXELS.steps.setflags(write=False)


def _pixel(source) -> Pixel:
    """The one reading of a layer's (or a :func:`~._layers._geometry`'s) pixel in the world:
    its sizes, area, origin and unit, for lengths, areas and physical-unit columns.
    ``None`` (or a geometry without a scale) gives plain pixels.

    The displayed plane's linear part is napari's own composition, affine · (rotate ·
    shear · scale) (the layer's ``_data_to_world``, rebuilt from the same parts with
    napari's transforms so a geometry reads as its layer), its last two axes of any
    number. A rotation napari applies last (no affine after it, no turn into a leading
    axis) turns the whole plane, moving no length, area or origin: it is left out of
    ``steps``, so a rotated layer reads its scale's own bits, as a plain one does. The
    sizes are the lengths of the steps and the area |det| (``export.pixel_measures``): on a
    layer sheared by s a column step is sx·√(1 + s²) long while the area stays sy·sx.

    napari lets each axis have its own unit: rows in µm and columns in nm are converted
    into nm (a bond across both axes is then a length). Units that do not convert into
    each other (seconds and nm, pixels and nm) raise ``ValueError``: no length or area
    can be measured across them.
    """
    if source is None or (isinstance(source, dict) and "scale" not in source):
        return _PIXELS
    scale, translate, units, affine, rotate, shear, what = _placement(source)
    steps, origin = _plane_map(scale, translate, rotate, shear, affine)
    if units is not None and len(units) >= 2:
        factor = _conversion(units[-2], units[-1], what)
        steps[0] *= factor
        origin[0] *= factor
    sizes, area = _step_measures(steps)  # the tables' formula (not their refusals)
    steps.setflags(write=False)
    return Pixel(steps, (float(origin[0]), float(origin[1])), _unit_name(units), sizes, area)


def _plane_map(scale, translate, rotate, shear, affine):
    """(2 × 2 linear part, origin) of data → world on the (row, column) plane, through
    napari's own transforms (:func:`_pixel`), a last rotation left out."""
    from napari.utils.transforms import Affine, CompositeAffine

    n = len(scale)
    a = np.eye(n + 1) if affine is None else np.asarray(affine, dtype=float)
    r = None if rotate is None else np.asarray(rotate, dtype=float)
    if r is not None and np.array_equal(a[:n, :n], np.eye(n)) and not (
            r[-2:, :-2].any() or r[:-2, -2:].any()):
        r = None  # turned last: no length, area or origin moved
    sheared = shear is not None and np.any(np.asarray(shear, dtype=float) != 0)
    # the layer's transforms[1:3].simplified: its affine composed after the rest
    world = Affine(affine_matrix=a).compose(CompositeAffine(
        scale=np.asarray(scale, dtype=float), translate=np.asarray(translate, dtype=float),
        rotate=r, shear=shear if sheared else None, ndim=n))
    return (np.array(world.linear_matrix[-2:, -2:], dtype=float),
            np.array(world.translate[-2:], dtype=float))


def _placement(source):
    """(scale, translate, units, affine, rotate, shear, its name in a message) of a
    layer or a :func:`~._layers._geometry` (None for a transform a geometry does not hold)."""
    if isinstance(source, dict):
        return (source["scale"], source["translate"], source.get("units"),
                source.get("affine"), source.get("rotate"), source.get("shear"), "the layer")
    return (source.scale, source.translate, getattr(source, "units", None),
            source.affine.affine_matrix, source.rotate, source.shear,
            f"the layer {source.name!r}")


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
