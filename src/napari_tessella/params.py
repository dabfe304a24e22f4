"""Save and load the parameters of an operation, shared by the widgets and the command line.

A parameters file is a small JSON document::

    {
      "napari-tessella": "0.1.0",
      "operation": "threshold_label",
      "parameters": {"threshold": "otsu", "smooth_sigma": 1.0, "opening": 3}
    }

``operation`` names a core function (see :data:`OPERATIONS`); ``parameters`` holds any of
its keyword parameters (the data arguments, such as the image, are never stored).
Parameters left out take the function's defaults. Names are checked against the function
signature (:func:`inspect.signature`) both when saving and when loading, so a typo is
reported instead of silently ignored.
"""

from __future__ import annotations

import inspect
import json
import math
import reprlib
from numbers import Integral, Real
from pathlib import Path

from ._validation import as_float, as_path
from ._version import __version__
from .atoms import _check_atoms_params
from .nuclei._params import _check_watershed_params
from .recipes import RECIPES
from .segmentation import _validate_segmentation_params
from .threshold import threshold_spec

__all__ = ["OPERATIONS", "check_values", "load_parameters", "operation_defaults",
           "save_parameters"]

OPERATIONS = tuple(RECIPES)

_FORMAT_KEY = "napari-tessella"


def _recipe(operation: str):
    if not isinstance(operation, str):
        raise TypeError(f"operation must be a string; got {type(operation).__name__}.")
    if operation not in RECIPES:
        raise ValueError(
            f"unknown operation {operation!r}; parameters files describe one of "
            f"{', '.join(OPERATIONS)}."
        )
    return RECIPES[operation]


def operation_defaults(operation: str) -> dict:
    """Return the parameter names of an operation and their default values.

    Parameters
    ----------
    operation : str
        One of :data:`OPERATIONS`.

    Returns
    -------
    dict
        ``{name: default}`` for every keyword parameter of the operation's core function
        (data arguments excluded), in signature order.

    Raises
    ------
    ValueError
        If the operation is unknown or its module is not installed.

    Examples
    --------
    >>> operation_defaults("threshold_label")["connectivity"]
    1
    """
    recipe = _recipe(operation)
    out = {}
    for name, p in inspect.signature(recipe.function).parameters.items():
        if name in recipe.data_args or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = None if p.default is inspect.Parameter.empty else p.default
    out.update(recipe.extra)
    return out


def _check_parameters(operation: str, params, source: str) -> dict:
    if not isinstance(params, dict):
        raise TypeError(f"{source}: parameters must be a mapping of name to value; got "
                        f"{type(params).__name__}.")
    defaults = operation_defaults(operation)
    unknown = [k for k in params if k not in defaults]
    if unknown:
        raise ValueError(
            f"{source}: unknown parameter(s) {', '.join(map(repr, unknown))} for "
            f"{operation}; valid names are {', '.join(defaults)}."
        )
    clean = {}
    for name, value in params.items():
        default = defaults[name]
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(default, bool):
            if type(value).__name__ == "bool_":  # numpy.bool_ from a widget or array
                value = bool(value)
            if not isinstance(value, bool):
                raise TypeError(f"{source}: {name} must be true or false; got {value!r}.")
        elif isinstance(default, Integral) and value is not None:
            if (isinstance(value, bool) or not isinstance(value, Real)
                    or not math.isfinite(as_float(value)) or int(value) != value):
                raise TypeError(f"{source}: {name} must be a whole number; got "
                                f"{reprlib.repr(value)}.")
            value = int(value)
        elif isinstance(default, Real) and value is not None:
            if isinstance(value, bool) or not isinstance(value, Real):
                raise TypeError(f"{source}: {name} must be a number; got {value!r}.")
            value = as_float(value)  # (a JSON number of 400 digits: inf, refused below)
        elif isinstance(default, str):
            if isinstance(value, bool) or not isinstance(value, (str, Real)):
                raise TypeError(f"{source}: {name} must be a name or a number; got {value!r}.")
        clean[name] = _jsonable(value, f"{source}: {name}")
    return clean


def _jsonable(value, where):
    if hasattr(value, "tolist"):  # numpy scalars and small arrays
        value = value.tolist()
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where} cannot be stored in a parameters file (value {value!r} is not a "
            "number, string, boolean, list or null)."
        ) from None
    return value


def save_parameters(path, operation: str, params: dict) -> Path:
    """Write the parameters of an operation to a JSON file.

    Parameters
    ----------
    path : str or Path
        Output file, conventionally ``*.json``.
    operation : str
        One of :data:`OPERATIONS`, e.g. ``"threshold_label"``.
    params : dict
        Keyword parameters of the operation's core function (data arguments excluded);
        missing ones keep their defaults when loaded.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        Unknown operation or parameter name, or ``path`` is a folder (a missing folder
        is made).
    TypeError
        A value of the wrong kind (e.g. a string for ``opening``) or one JSON cannot hold.

    See Also
    --------
    load_parameters

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "p.json")
    >>> _ = save_parameters(path, "threshold_label", {"threshold": "li", "opening": 3})
    >>> load_parameters(path)
    ('threshold_label', {'threshold': 'li', 'opening': 3})
    """
    clean = _check_parameters(operation, params, "parameters")
    check_values(operation, clean)  # a file every reader would refuse (NaN, 'big') is not written
    doc = {_FORMAT_KEY: __version__, "operation": operation, "parameters": clean}
    path = as_path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder: give a file name, e.g. "
                         f"{path / (operation + '.json')}")
    path.parent.mkdir(parents=True, exist_ok=True)  # as Export makes its folder
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def load_parameters(path) -> tuple[str, dict]:
    """Read an operation and its parameters from a JSON parameters file.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_parameters` (or by hand, in the same format).

    Returns
    -------
    operation : str
        The operation name, one of :data:`OPERATIONS`.
    params : dict
        The stored keyword parameters, checked against the operation's signature.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not JSON, not a napari-tessella parameters file, or names an unknown
        operation or parameter.
    TypeError
        If a value has the wrong kind.

    See Also
    --------
    save_parameters
    """
    path = as_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"parameters file not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a valid JSON parameters file: {err}") from None
    if not isinstance(doc, dict) or _FORMAT_KEY not in doc:
        raise ValueError(
            f"{path} is not a napari-tessella parameters file (no {_FORMAT_KEY!r} key)."
        )
    operation = doc.get("operation")
    if operation is None:
        raise ValueError(f"{path}: no 'operation' given.")
    _recipe(operation)  # known?
    params = _check_parameters(operation, doc.get("parameters", {}), str(path))
    return operation, params


def check_values(operation: str, params: dict, *, spell=None) -> None:
    """Reject out-of-range parameter values before any work, with the core's own checks:
    what the command line does before reading a file and the widgets before loading a
    parameters file into their fields. Checks that need the image's shape are left to
    the core function.

    ``spell(name)`` gives how the caller's user knows a parameter (the command line: its
    option, ``--refine``); by default its keyword, as in a parameters file and on the
    widgets' fields.

    Raises
    ------
    ValueError, TypeError
        Naming the parameter and the value.
    """
    spell = spell or str
    p = {**operation_defaults(operation), **params}
    if operation in ("threshold_label", "lattice"):
        _validate_segmentation_params(p["smooth_sigma"], p["opening"], p["connectivity"],
                                      p["min_size"])
        threshold_spec(p["threshold"])
    elif operation == "seeded_watershed":
        _check_watershed_params(p["object_diameter"], p["sigma"], p.get("seeds"),
                                p["landscape"], p["threshold"], min_size=p["min_size"])
    elif operation == "find_atoms":
        if isinstance(p["threshold"], str):
            raise ValueError(
                f"{spell('threshold')} of find atoms must be a number (a minimum column "
                f"response in image units) or none; got {p['threshold']!r} (method names "
                "are for threshold and label)")
        # refine is checked here, as the caller spells None ('none'), not by the core
        if p["refine"] not in (None, "com", "gaussian"):
            raise ValueError(f"{spell('refine')} must be none, com or gaussian; got "
                             f"{p['refine']!r}")
        _check_atoms_params((), p["separation"], p["threshold"], None, p["dark"])
