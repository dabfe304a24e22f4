"""Input checks shared by the core functions.

Every public core function validates its inputs here *before* doing any work, so a bad
input is answered with one clear ``ValueError``/``TypeError`` that names the argument and
the problem in a microscopist's words.
"""

from __future__ import annotations

import numpy as np

# ITU-R BT.709 luma weights, the same ones skimage.color.rgb2gray uses.
LUMA = np.array([0.2125, 0.7154, 0.0721])


def as_float_image(image, *, name: str = "image", allow_constant: bool = False) -> np.ndarray:
    """Return ``image`` as a 2-D floating-point array, or raise a clear error.

    - float32 stays float32, every other real dtype becomes float64 (values unchanged,
      so a threshold given "in image units" means the same thing before and after);
    - an RGB(A) image, shape ``(M, N, 3|4)``, becomes its luminance (alpha ignored);
    - anything that is not 2-D after that raises ``ValueError`` (widgets pass the
      currently displayed plane);
    - NaN or infinite values raise ``ValueError``.
    """
    if hasattr(image, "compute") and not isinstance(image, np.ndarray):
        image = image.compute()  # dask or similar lazy array: this path is in-memory
    arr = np.asarray(image)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(
            f"{name} must hold real numbers (integers or floats); got dtype {arr.dtype}."
        )
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] > 4:
        rgb = arr[..., :3].astype(np.float32 if arr.dtype == np.float32 else np.float64)
        arr = rgb @ LUMA.astype(rgb.dtype)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (row, column) image or an RGB(A) image; got shape "
            f"{arr.shape}. Pass one plane of a stack, e.g. image[0]."
        )
    if arr.size == 0 or min(arr.shape) < 2:
        raise ValueError(f"{name} is too small to segment: shape {arr.shape}.")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        n_bad = int((~finite).sum())
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite pixel(s); replace them (e.g. with "
            "np.nan_to_num) before segmenting."
        )
    if not allow_constant:
        lo, hi = float(arr.min()), float(arr.max())
        if lo == hi:
            raise ValueError(
                f"{name} is constant (all values {lo:g}): no threshold can separate objects."
            )
    return arr


def as_label_image(labels, *, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as a 2-D non-negative integer array, or raise a clear error."""
    if hasattr(labels, "compute") and not isinstance(labels, np.ndarray):
        labels = labels.compute()
    arr = np.asarray(labels)
    if arr.dtype == bool:
        arr = arr.astype(np.int32)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer label image; got dtype {arr.dtype}.")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (row, column) label image; got shape {arr.shape}.")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} has negative values; labels must be 0 (background) or positive.")
    return arr


def as_points(points, *, name: str = "points", min_points: int = 0) -> np.ndarray:
    """Return ``points`` as an ``(N, 2)`` float64 array of (row, column) coordinates."""
    arr = np.asarray(points, dtype=np.float64)
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
    return arr
