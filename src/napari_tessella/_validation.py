"""Input checks shared by the core functions.

Every public core function validates its inputs here *before* doing any work, so a bad
input is answered with one clear ``ValueError``/``TypeError`` that names the argument and
the problem in a microscopist's words. The checks of a number, a size or a shape (and
``LengthError``) live in :mod:`napari_tessella._numbers` (round 57) and are imported from
here as before.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._numbers import (  # noqa: F401  (re-exported: the callers import them from here)
    PIXEL_SIZE_RANGE,
    LengthError,
    _in_pixels,
    _is_real,
    as_float,
    as_shape,
    finite_number,
    flag,
    number_pair,
    paren_unit,
    pixel_size_reason,
    size_in_image,
    unit_name,
    whole_number,
)

# ITU-R BT.709 luma weights, the same ones skimage.color.rgb2gray uses.
LUMA = np.array([0.2125, 0.7154, 0.0721])


#: the topics of an :class:`AdvisedError`'s advice
NON_FINITE = "non-finite pixels"
DUPLICATE_POINTS = "duplicate points"
STACK = "a stack for a plane"
NO_LATTICE = "no lattice period"
FEW_COLUMNS = "too few columns"
SEVERAL_IMAGES = "several images in a file"


def advice_by_topic(*, non_finite: str, duplicate_points: str, stack: str, no_lattice: str,
                    few_columns: str, several_images: str) -> dict[str, str]:
    """One caller's advice for every topic of an :class:`AdvisedError`, keyed by the
    topics ("{doing}": a blank the error fills): the core's :data:`ADVICE` in a Python
    caller's words, the widgets' (``_widgets._errors._VIEWER_ADVICE``) and the command
    line's (``cli._CLI_ADVICE``) in their users' words. The one list of the topics: a
    table that leaves one out is a ``TypeError`` where it is written (round 54: the widgets
    and the command line each imported the topics one by one)."""
    return {NON_FINITE: non_finite, DUPLICATE_POINTS: duplicate_points, STACK: stack,
            NO_LATTICE: no_lattice, FEW_COLUMNS: few_columns, SEVERAL_IMAGES: several_images}


#: what an :class:`AdvisedError` asks of the caller, by topic, in a Python caller's words
ADVICE = advice_by_topic(
    non_finite="replace them (e.g. with np.nan_to_num) before {doing}.",
    duplicate_points="remove them first, e.g. with np.unique(points, axis=0). Results are "
                     "index-aligned with the points given, so duplicates are not merged "
                     "silently.",
    stack="pass one plane of a stack, e.g. image[0].",
    no_lattice="give separation= instead.",
    few_columns="give separation= or threshold=.",
    several_images="name the one to read: series= its number (0 to {last}) or its name.",
)


class AdvisedError(ValueError):
    """An input refused with advice on what to do, the advice kept apart from the refusal.

    ``what`` says what is wrong ("image contains 3 NaN or infinite pixel(s)"), ``topic``
    (a key of :data:`ADVICE`) what to do about it and ``words`` the advice's blanks.
    ``str(err)`` is ``what``, "; " and :attr:`advice`, the advice in a Python caller's
    words; a caller that does not write Python (the viewer's widgets) says the topic in
    its own words from ``what``, ``topic`` and ``words``, without reading the text (round
    51: the widgets rewrote the message by string replacement, so a change of the core's
    wording would have reached the viewer as Python advice)."""

    def __init__(self, what: str, topic: str, **words: str):
        self.what, self.topic, self.words = what, topic, words
        super().__init__(f"{what}; {self.advice}")

    @property
    def advice(self) -> str:
        """The advice in a Python caller's words."""
        return ADVICE[self.topic].format(**self.words)

    def prefixed(self, prefix: str) -> AdvisedError:
        """The same error with ``prefix`` before what it says ("plane 3: ")."""
        return type(self)(prefix + self.what, self.topic, **self.words)

    def __reduce__(self):  # (rebuilt from its parts, e.g. by a process scheduler)
        return _advised, (type(self), self.what, self.topic, self.words)


def _advised(cls, what: str, topic: str, words: dict) -> AdvisedError:
    return cls(what, topic, **words)


def non_finite_pixels(name: str, count, doing: str = "segmenting") -> AdvisedError:
    """The refusal of ``count`` NaN or infinite pixels of ``name``, advised by topic:
    the one sentence of :func:`as_float_image`, the lazy path's check and the chunked
    measurement (round 52: each wrote it).

    >>> err = non_finite_pixels("image", 2, "measuring")
    >>> err.what, err.words
    ('image contains 2 NaN or infinite pixel(s)', {'doing': 'measuring'})
    """
    return AdvisedError(f"{name} contains {int(count)} NaN or infinite pixel(s)", NON_FINITE,
                        doing=doing)


def first_line(message, default: str = "") -> str:
    """The first line of an exception's (or a text's) message, for a one-line answer: a
    library's own messages run to many lines (Qhull's to 40); ``default`` when it says
    nothing."""
    lines = str(message).strip().splitlines()
    return lines[0].strip() if lines else default


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun in agreement, for a message: ``counted(1, "nucleus", "nuclei")``
    is "1 nucleus", ``counted(3, "edge")`` "3 edges" (the plural is ``noun + "s"`` unless
    given). Messages said "1 objects", "1 nuclei", "1 triangles"."""
    n = int(n)
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def os_error_text(err: BaseException) -> str:
    """An OS error in words ("dna_labels.tif: is a directory", "permission denied"),
    without Python's "[Errno 21] Is a directory: '/the/whole/path'"; other errors as
    :func:`first_line` gives them."""
    if isinstance(err, OSError) and err.strerror:
        said = err.strerror[:1].lower() + err.strerror[1:]
        name = getattr(err, "filename", None)
        return f"{Path(str(name)).name}: {said}" if name else said
    return first_line(err)


def _read_array(data, name: str, what: str) -> np.ndarray:
    """``data`` as an ndarray (a dask or similar lazy array computed: this path is
    in-memory), or a TypeError saying that ``name`` must be ``what``."""
    if hasattr(data, "compute") and not isinstance(data, np.ndarray):
        data = data.compute()
    try:
        return np.asarray(data)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {what}; could not read {type(data).__name__} as "
                        "one.") from None


def shape_of(data, name: str = "image", what: str = "a rectangular array of numbers"
             ) -> tuple:
    """The shape of ``data`` (an array's own, or that of a nested list) without reading a
    lazy array, or a TypeError saying that ``name`` must be ``what`` (a ragged list)."""
    shape = getattr(data, "shape", None)
    if shape is not None:
        return tuple(shape)
    try:
        return np.shape(data)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {what}; could not read {type(data).__name__} as "
                        "one.") from None


def _check_plane_shape(shape, name: str) -> None:
    """A 2-D (row, column) image of at least 2 × 2 pixels (after RGB → luminance)."""
    if len(shape) != 2:
        raise AdvisedError(f"{name} must be a 2-D (row, column) image or an RGB(A) image; "
                           f"got shape {tuple(shape)}", STACK)
    if 0 in shape or min(shape) < 2:
        raise ValueError(f"{name} is too small to segment: shape {tuple(shape)}.")


def rgb_luminance(arr: np.ndarray) -> np.ndarray:
    """The luminance of an ``(M, N, 3|4)`` RGB(A) array (alpha ignored), as
    :func:`as_float_image` takes it: float32 stays float32, anything else is float64. For
    callers that know the array is colour where its shape cannot tell (M <= 4 rows: a
    napari layer with ``rgb=True``)."""
    rgb = arr[..., :3].astype(np.float32 if arr.dtype == np.float32 else np.float64)
    return rgb @ LUMA.astype(rgb.dtype)


def as_float_image(image, *, name: str = "image", allow_constant: bool = False) -> np.ndarray:
    """Return ``image`` as a 2-D floating-point array, or raise a clear error.

    - float32 stays float32, every other real dtype becomes float64 (values unchanged,
      so a threshold given "in image units" means the same thing before and after);
    - an RGB(A) image, shape ``(M, N, 3|4)``, becomes its luminance (alpha ignored);
    - anything that is not 2-D after that raises ``ValueError`` (widgets pass the
      currently displayed plane);
    - NaN or infinite values raise ``ValueError``.
    """
    if image is None or isinstance(image, (str, bytes)):
        raise TypeError(f"{name} must be an image array; got {type(image).__name__}.")
    arr = _read_array(image, name, "a rectangular array of numbers")
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(
            f"{name} must hold real numbers (integers or floats); got dtype {arr.dtype}."
        )
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] > 4:
        arr = rgb_luminance(arr)
    _check_plane_shape(arr.shape, name)
    floating = arr.dtype.kind == "f"  # integers are finite: no pass over them to check
    values = arr
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    if floating and not (finite := np.isfinite(arr)).all():
        raise non_finite_pixels(name, int((~finite).sum()))
    # integers: their extremes read from the integers (8 bits: 20x faster than the copy's)
    if not allow_constant and (why := constant_reason(values.min(), values.max())):
        raise ValueError(f"{name} is {why}: no threshold can separate objects.")
    return arr


def constant_reason(lo, hi) -> str:
    """"constant (all values 3)" when an image's extremes ``lo`` and ``hi`` are one value
    as floats, "" otherwise: the package's one decision that an image holds one value
    (:func:`as_float_image`, the lazy path's check of its extremes and
    :func:`blank_reason`, each of which said it in its own code before round 52). As
    floats, since the core segments the float64 copy: an int64 image of 2**60 and
    2**60 + 1 is one value there (the conversion rounds monotonically, so the copy's
    extremes are the extremes' floats).

    >>> constant_reason(np.uint8(7), np.uint8(7)), constant_reason(0, 1)
    ('constant (all values 7)', '')
    """
    lo, hi = float(lo), float(hi)
    return f"constant (all values {lo:g})" if lo == hi else ""


def blank_reason(values) -> str:
    """Why the pixel ``values`` (an array of any shape) hold nothing to segment, "" when
    they hold something: "no finite pixel (all NaN or infinite)", or their finite values
    are one value (:func:`constant_reason`). A plane of a stack that the core would refuse
    as an image (a dropped frame, a closed shutter); an empty array holds nothing to
    decide (""), nor does a complex one (the core refuses its dtype).

    >>> blank_reason(np.array([np.nan, 2.0, np.inf])), blank_reason(np.eye(2))
    ('constant (all values 2)', '')
    """
    arr = np.asarray(values)
    if arr.dtype.kind == "c":
        return ""
    if arr.dtype.kind == "f" and not (finite := np.isfinite(arr)).all():
        arr = arr[finite]
        if not arr.size:
            return "no finite pixel (all NaN or infinite)"
    return constant_reason(arr.min(), arr.max()) if arr.size else ""


def as_label_image(labels, *, name: str = "labels", plane: bool = True) -> np.ndarray:
    """Return ``labels`` as a 2-D non-negative integer array, or raise a clear error.

    With ``plane=False`` any number of axes (at least 2) is accepted, and an empty array
    is refused (a file to write)."""
    arr = _read_array(labels, name, "an integer label image")
    if arr.dtype == bool:
        arr = arr.astype(np.int32)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer label image (any integer dtype); got "
                        f"dtype {arr.dtype}. Label a mask first, e.g. "
                        "skimage.measure.label(mask).")
    if arr.ndim != 2 and plane:
        raise ValueError(f"{name} must be a 2-D (row, column) label image; got shape {arr.shape}.")
    if not plane and (arr.ndim < 2 or arr.size == 0):
        raise ValueError(f"{name} must be a label image of at least 2 axes, not empty; got "
                         f"shape {arr.shape}.")
    low = int(arr.min()) if arr.size else 0
    if low < 0:  # another tool's "ignore" value
        raise ValueError(f"{name} has negative labels (down to {low}): labels must be 0 "
                         "(background) or positive, with no negative values.")
    return arr


def as_points(points, *, name: str = "points", min_points: int = 0,
              duplicates: bool = True) -> np.ndarray:
    """Return ``points`` as an ``(N, 2)`` float64 array of (row, column) coordinates.

    With ``duplicates=False`` repeated points raise ``ValueError`` (see
    :func:`reject_duplicates`). A new array is always returned: the input is not changed.
    """
    if isinstance(points, str) or (hasattr(points, "dtype") and points.dtype == bool):
        raise TypeError(f"{name} must be (row, column) coordinates; got "
                        f"{type(points).__name__}"
                        f"{' of bools' if not isinstance(points, str) else ''}.")
    if np.dtype(getattr(points, "dtype", np.float64)).kind == "c":  # np.array: a warning
        raise TypeError(f"{name} must be real (row, column) coordinates; got complex "
                        "numbers.")
    try:
        arr = np.array(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an (N, 2) array of numbers (row, column); "
                        f"could not read {type(points).__name__} as numbers.") from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 2)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise ValueError(
            f"{name} must be an (N, 2) array of (row, column); got shape {arr.shape}."
        )
    if arr.shape[1] > 2:
        # napari points in an nD viewer: the last two axes are the displayed plane
        arr = arr[:, -2:]
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite coordinates.")
    if len(arr) < min_points:
        raise ValueError(f"{name} has {len(arr)} point(s); at least {min_points} are needed.")
    if not duplicates:
        reject_duplicates(arr, name)
    return arr


def as_table(table, name: str = "table"):
    """``table`` as a new pandas DataFrame (a DataFrame, a dict of equal-length columns or
    rows of numbers), or a clear error: None, a string or a single number is not a table."""
    import pandas as pd

    if table is None or isinstance(table, (str, bytes)) or np.isscalar(table):
        raise TypeError(f"{name} must be a pandas DataFrame or a dict of columns; got "
                        f"{type(table).__name__}.")
    try:
        return pd.DataFrame(table).copy()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} cannot be read as a table of columns: {err}") from None


def duplicate_points(pts: np.ndarray) -> np.ndarray:
    """Indices of the points that repeat an earlier point exactly (first copies kept)."""
    if len(pts) < 2:
        return np.empty(0, dtype=np.intp)
    _, first = np.unique(pts, axis=0, return_index=True)
    repeat = np.ones(len(pts), dtype=bool)
    repeat[first] = False
    return np.flatnonzero(repeat)


def reject_duplicates(pts: np.ndarray, name: str = "points") -> np.ndarray:
    """Raise a ValueError naming the count and the first repeated point, if any."""
    dup = duplicate_points(pts)
    if dup.size:
        i = int(dup[0])
        j = int(np.flatnonzero(np.all(pts[:i] == pts[i], axis=1))[0])
        raise AdvisedError(
            f"{name} has {dup.size} duplicate point(s) (e.g. point {i} repeats point {j} at "
            f"{tuple(float(v) for v in pts[i])})", DUPLICATE_POINTS)
    return pts


def seeds_kind(seeds, shape=None) -> str | None:
    """What ``seeds`` is: None, "name" ("regional_maxima"), "points" or "labels" — or a
    clear error. A label image is a 2-D *integer* array of the image's ``shape``; a bool
    or float array of that shape is refused (a mask is not a set of seeds: label it
    first), and any other 2-D array must be (K, 2) (row, column) points."""
    if seeds is None:
        return None
    if isinstance(seeds, str):
        return "name"
    try:
        arr = np.asarray(seeds)
    except (TypeError, ValueError):
        raise TypeError("seeds must be (K, 2) points or an integer label image.") from None
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"seeds of dtype {arr.dtype} are neither points nor a label image: give (K, 2) "
            "(row, column) points, or an integer label image of the image's shape (label a "
            "mask first, e.g. skimage.measure.label(mask))."
        )
    if shape is not None and arr.ndim == 2 and arr.shape == tuple(shape[:2]):
        if arr.dtype.kind == "f" and arr.shape[1] != 2:
            raise TypeError(
                f"seeds is a float image of the image's shape {arr.shape}: a seeds label "
                "image must hold integers (one id per seed region); convert it, e.g. "
                "seeds.astype(int), or give (K, 2) points."
            )
        if arr.dtype.kind in "iu":
            as_label_image(arr, name="seeds")
            return "labels"
    if arr.size == 0 and arr.ndim <= 2:
        return "points"
    if shape is None and arr.ndim == 2 and arr.dtype.kind in "iu" and arr.shape[1] != 2:
        return "labels"  # checked against the image's shape once it is known
    if arr.ndim != 2 or arr.shape[1] != 2:
        if shape is None:
            raise ValueError(f"seeds must be (K, 2) (row, column) points or an integer label "
                             f"image of the image's shape; got a {arr.dtype} array of shape "
                             f"{arr.shape}.")
        where = f" or a label image of shape {tuple(shape[:2])}" if shape is not None else ""
        raise ValueError(f"seeds must be (K, 2) (row, column) points{where}; got an array "
                         f"of shape {arr.shape}.")
    as_points(arr, name="seeds")
    return "points"


def intensity_exponent(img: np.ndarray) -> int:
    """The exponent of the least power of two above the image's largest magnitude (0 for
    zeros).

    Dividing by that power (``np.ldexp(img, -exponent)``) is exact and brings the largest
    to [1/2, 1), so the methods' sums and squares neither overflow nor vanish: in
    ``find_atoms`` (above ~1e20 no Gaussian fit converged, below ~1e-200 the least squares
    failed) and ``seeded_watershed`` (a finite 1e308 image smoothed into infinities, a
    subnormal one failed in Otsu); an image times a power of two gives the same result.
    The exponent, not the power: for values near the largest float (1e308 in float64,
    3e38 in float32) the power itself is infinite, and the image was divided into zeros.
    """
    peak = float(np.max(np.abs(img))) if img.size else 0.0
    if not np.isfinite(peak) or peak == 0.0:
        return 0
    return int(np.frexp(peak)[1])


def as_path(path) -> Path:
    """``path`` as a :class:`~pathlib.Path`, or a TypeError naming what it is instead.

    >>> as_path("cells.tif").name
    'cells.tif'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or pathlib.Path); got "
                        f"{type(path).__name__}.")
    return Path(path)
