"""The checks of a parameter that is a number, a size or a shape (split from
:mod:`napari_tessella._validation`, which re-exports every name here): one helper per
concept, each naming the argument and its value in a microscopist's words, and
:class:`LengthError`, a length refused against a bound of the image with both kept as
numbers of pixels (so that a widget or the command line can say them in its own units).
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np

__all__ = ["PIXEL_SIZE_RANGE", "LengthError", "as_float", "as_shape", "finite_number", "flag",
           "number_pair", "paren_unit", "pixel_size_reason", "size_in_image", "unit_name",
           "whole_number"]


class LengthError(ValueError):
    """A length refused against a bound of the image, both kept as numbers of pixels.

    ``lengths`` maps the message's placeholders (``{value}``, ``{limit}``) to pixels;
    the template names the length through two slots, so that a caller can put its own
    words there without touching the text: ``{the}`` (the length itself: "separation" by
    default, "the column spacing" in a widget) and ``{named}`` (the length with its value:
    "separation=40 pixels", "a column spacing of 20 nm"). ``str(err)`` says the lengths in
    pixels and names them by ``name``; :meth:`in_units` in a caller's own units and words.
    """

    def __init__(self, template: str, name: str, **lengths: float):
        self.template, self.name, self.lengths = template, name, lengths
        super().__init__(self.in_units(_in_pixels))

    def in_units(self, say, *, the: str | None = None, named: str | None = None) -> str:
        """The message with every length given by ``say(pixels) -> str``; ``the`` names
        the length ("the column spacing"), ``named`` is what comes before its value ("a
        column spacing of "); by default its keyword, and ``name=``."""
        text = {k: say(v) for k, v in self.lengths.items()}
        prefix = f"{self.name}=" if named is None else named
        return self.template.format(**text, the=self.name if the is None else the,
                                    named=prefix + text.get("value", ""))


def _in_pixels(value: float) -> str:
    """'12 pixels', '12.5 pixels', '1e+09 pixels'."""
    value = float(value)
    whole = value.is_integer() and abs(value) < 1e15
    return f"{int(value) if whole else f'{value:g}'} pixels"


def _is_real(value) -> bool:
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def paren_unit(unit: str) -> str:
    return f" ({unit})" if unit else ""


def finite_number(value, name: str, *, minimum=None, maximum=None, strict: bool = False,
                  unit: str = "") -> float:
    """``value`` as a float, or a clear error: a real number (not a bool), finite, and
    ``>= minimum`` (``> minimum`` with ``strict``) and ``<= maximum`` when given. A zero
    comes back without its sign: -0.0 passes ``>= 0``, but NumPy reads the sign (its
    normal refused ``scale=-0.0``), so no caller sees one.

    >>> finite_number(2, "sigma", minimum=0), finite_number(-0.0, "noise", minimum=0)
    (2.0, 0.0)
    """
    units = f" {unit}" if unit else ""
    paren = paren_unit(unit)
    if not _is_real(value):
        raise TypeError(f"{name} must be a number{paren}; got {value!r} "
                        f"({type(value).__name__}).")
    x, shown = as_float(value), reprlib.repr(value)  # (an int of 400 digits: shortened)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number{paren}; got {shown}.")
    if minimum is not None and (x <= minimum if strict else x < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}{units}; "
                         f"got {shown}.")
    if maximum is not None and x > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}{units}; got {shown}.")
    return x + 0.0  # -0.0 + 0.0 is +0.0; every other number is itself


def as_float(value) -> float:
    """float(value); ±inf for an int beyond the floats (a JSON number of 400 digits)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def whole_number(value, name: str, *, minimum=None, maximum=None, unit: str = "") -> int:
    """``value`` as an int, or a clear error: a whole number (``3`` or ``3.0``, not a bool,
    not NaN) within ``[minimum, maximum]`` when given.

    >>> whole_number(3.0, "opening", minimum=0)
    3
    """
    lo = f" >= {minimum}" if minimum is not None else ""
    hi = f" <= {maximum}" if maximum is not None else ""
    what = f"{name} must be a whole number{lo}{' and' if lo and hi else ''}{hi}{paren_unit(unit)}"
    if not _is_real(value):
        raise TypeError(f"{what}; got {value!r} ({type(value).__name__}).")
    x = as_float(value)
    if (not np.isfinite(x) or x != int(x) or (minimum is not None and x < minimum)
            or (maximum is not None and x > maximum)):
        raise ValueError(f"{what}; got {reprlib.repr(value)}.")
    return int(x)


def flag(value, name: str) -> bool:
    """``value`` as a bool, or a TypeError: True or False (NumPy's too, and the integers
    1 and 0 that scripts often write for them), so that a string such as "no" or "False"
    is not taken for True.

    >>> flag(False, "exclude_border"), flag(1, "exclude_border")
    (False, True)
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (numbers.Integral, np.integer)) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {value!r} "
                    f"({type(value).__name__}).")


def number_pair(value, name: str, *, nonzero: bool = False) -> tuple[float, float]:
    """``value`` as a (row, column) pair of finite numbers (non-zero with ``nonzero``: a
    pixel size), or a clear error.

    >>> number_pair((0.5, 0.25), "scale", nonzero=True)
    (0.5, 0.25)
    """
    if isinstance(value, (str, bytes)) or not np.iterable(value):
        raise TypeError(f"{name} must be (row, column), two numbers; got {value!r}.")
    items = tuple(value)
    if len(items) != 2:
        raise ValueError(f"{name} must be (row, column), two numbers; got {value!r}.")
    pair = tuple(finite_number(v, f"{name}[{i}]") for i, v in enumerate(items))
    if nonzero and 0.0 in pair:
        raise ValueError(f"{name} must be non-zero (a pixel size); got {value!r}.")
    if nonzero and (why := pixel_size_reason(*pair)):
        raise ValueError(f"{name} {value!r}: {why}.")
    return pair


#: pixel sizes (absolute) whose areas and lengths stay numbers: 1e-320 gave areas of 0
PIXEL_SIZE_RANGE = (1e-100, 1e100)


def pixel_size_reason(*sizes: float) -> str:
    """'' for non-zero pixel sizes within :data:`PIXEL_SIZE_RANGE`, else why not."""
    lo, hi = PIXEL_SIZE_RANGE
    if all(lo <= abs(s) <= hi for s in sizes):
        return ""
    return (f"a pixel size must be {lo:g} to {hi:g} (beyond, its areas come out as 0 or "
            "infinite): give it in other units")


def unit_name(unit, name: str = "unit") -> str:
    """``unit`` as a string ("" for None), or a TypeError."""
    if unit is None:
        return ""
    if not isinstance(unit, str):
        raise TypeError(f"{name} must be a string such as 'nm' or 'um'; got {unit!r} "
                        f"({type(unit).__name__}).")
    return unit


def size_in_image(value, name: str, shape, *, minimum=0.0, strict=False, side="longest",
                  unit: str = "pixels") -> float:
    """A length in pixels (sigma, diameter, opening …) bounded by the image: at most its
    ``side`` ("longest" or "shortest") side. Larger lengths only smooth, open or seed the
    whole image away and would cost time and memory out of proportion (a Gaussian of 1e6
    pixels, a 10**6-pixel square), so they are refused before any work.
    """
    x = finite_number(value, name, minimum=minimum, strict=strict, unit=unit)
    limit = max(shape[:2]) if side == "longest" else min(shape[:2])
    if x > limit:
        if unit == "pixels":
            raise LengthError(f"{{named}} is larger than the image ({side} side "
                              f"{{limit}}, shape {tuple(int(n) for n in shape[:2])}); give at "
                              "most {limit}.", name, value=x, limit=limit)
        raise ValueError(f"{name}={value!r} {unit} is larger than the image ({side} side "
                         f"{limit} {unit}, shape {tuple(shape[:2])}); give at most {limit}.")
    return x


def as_shape(shape, name: str = "shape", *, maximum: int = 1 << 20) -> tuple[int, int]:
    """``shape`` as a (rows, columns) pair of whole numbers in ``1..maximum``.

    >>> as_shape((64.0, 32))
    (64, 32)
    """
    try:
        items = tuple(shape)
    except TypeError:
        raise TypeError(f"{name} must be (rows, columns); got {shape!r}.") from None
    if len(items) != 2:
        raise ValueError(f"{name} must be (rows, columns), two whole numbers; got {shape!r}.")
    return tuple(whole_number(s, f"{name}[{i}]", minimum=1, maximum=maximum)
                 for i, s in enumerate(items))
