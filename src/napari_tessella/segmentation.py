"""Threshold → opening → connected components, and per-object measurements.

This is the first recipe of the project (atoms in a HAADF-STEM micrograph), written so it
works on any 2-D image: bright atoms, dark channels ("chambers"), or fluorescent nuclei.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from ._validation import as_float_image, as_label_image
from .chunked import is_lazy

__all__ = ["THRESHOLD_METHODS", "compute_threshold", "measure_objects", "threshold_label"]

#: Names accepted by ``threshold=``; each maps to ``skimage.filters.threshold_<name>``.
THRESHOLD_METHODS = ("otsu", "li", "yen", "triangle", "isodata", "mean", "minimum")


def threshold_spec(method) -> str | float:
    """Validate a ``threshold=`` argument: a known method name (normalised) or a number.

    Raises
    ------
    TypeError, ValueError
        For a bool, another type, or an unknown method name.
    """
    if isinstance(method, bool):
        raise TypeError("threshold must be a method name or a number, not a bool.")
    if isinstance(method, Real):
        return float(method)
    if not isinstance(method, str):
        raise TypeError(
            f"threshold must be a method name or a number; got {type(method).__name__}."
        )
    name = method.strip().lower()
    if name not in THRESHOLD_METHODS:
        raise ValueError(
            f"unknown threshold method {method!r}; choose one of {', '.join(THRESHOLD_METHODS)} "
            "or give a number in image units."
        )
    return name


def compute_threshold(image, method="otsu") -> float:
    """Compute a global threshold for ``image`` by name, or pass a number through.

    Parameters
    ----------
    image : (M, N) ndarray
        Image, any real dtype.
    method : str or float
        One of :data:`THRESHOLD_METHODS` or a number in image units.

    Returns
    -------
    float
        The threshold, in image units.

    Raises
    ------
    ValueError
        If ``method`` is an unknown name, or the image is constant.
    """
    name = threshold_spec(method)
    if not isinstance(name, str):
        return name
    import skimage.filters

    arr = np.asarray(image)
    try:
        value = getattr(skimage.filters, f"threshold_{name}")(arr)
    except RuntimeError as err:  # threshold_minimum on a histogram it cannot split
        raise ValueError(f"threshold method {name!r} failed on this image: {err}") from None
    return float(value)


def _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size):
    if connectivity not in (1, 2) or isinstance(connectivity, bool):
        raise ValueError(
            f"connectivity must be 1 (edge neighbours) or 2 (edge and corner neighbours); "
            f"got {connectivity!r}."
        )
    if not isinstance(smooth_sigma, Real) or smooth_sigma < 0:
        raise ValueError(f"smooth_sigma must be >= 0 pixels; got {smooth_sigma}.")
    if not isinstance(opening, Real) or opening < 0 or int(opening) != opening:
        raise ValueError(f"opening must be a whole number of pixels >= 0; got {opening}.")
    if not isinstance(min_size, Real) or min_size < 0:
        raise ValueError(f"min_size must be >= 0 pixels; got {min_size}.")


def _square(side: int) -> np.ndarray:
    return np.ones((side, side), dtype=bool)


def _relabel_sequential(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep the label ids where ``keep[id]`` is True and renumber them 1..n in order."""
    keep = keep.copy()
    keep[0] = False
    lut = np.zeros(keep.shape[0], dtype=np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lut[labels]


def threshold_label(
    image,
    threshold="otsu",
    *,
    smooth_sigma: float = 0.0,
    opening: int = 0,
    connectivity: int = 1,
    min_size: int = 0,
    exclude_border: bool = False,
    dark_objects: bool = False,
) -> np.ndarray:
    """Segment bright (or dark) objects by a global threshold and label them.

    The recipe: optional Gaussian smoothing → threshold → binary opening with a square →
    connected-component labelling → optional removal of small objects and of objects that
    touch the image border.

    Parameters
    ----------
    image : (M, N) or (M, N, 3|4) ndarray
        Image, any real dtype. RGB(A) is converted to its luminance.
    threshold : str or float, optional
        A method name from :data:`THRESHOLD_METHODS` (computed on the smoothed image), or a
        number in image units. Objects are the pixels strictly above it (below it with
        ``dark_objects``).
    smooth_sigma : float, optional
        Standard deviation, in pixels, of a Gaussian applied before thresholding (0 = none).
    opening : int, optional
        Side, in pixels, of the square structuring element of a binary opening that
        detaches touching objects and removes specks (0 or 1 = none).
    connectivity : {1, 2}, optional
        1: pixels that share an edge belong together (4-connectivity);
        2: pixels that share an edge or a corner (8-connectivity).
    min_size : int, optional
        Objects with fewer pixels are removed.
    exclude_border : bool, optional
        Remove objects that touch the image border.
    dark_objects : bool, optional
        Segment dark objects (e.g. the channels between atom columns) instead of bright ones.

    Returns
    -------
    labels : (M, N) ndarray of int32
        0 is background, objects are numbered 1..n in raster order. All zeros when nothing
        passes the threshold (that is a valid answer, not an error). For a dask or Zarr
        ``image`` the work is done chunk by chunk (see
        :func:`napari_tessella.chunked.threshold_label_chunked`) and a lazy dask array with
        the same labels is returned.

    Raises
    ------
    ValueError
        If the image is not 2-D (or RGB), contains NaN/inf, is constant, or a parameter is
        out of range.

    See Also
    --------
    measure_objects : per-object centres and intensity statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_tessella import threshold_label
    >>> image = np.zeros((8, 8)); image[1:3, 1:3] = 1; image[5:7, 4:7] = 1
    >>> labels = threshold_label(image, 0.5)
    >>> int(labels.max())
    2
    """
    if is_lazy(image):  # dask/Zarr: chunk by chunk, never the whole image in memory
        from .chunked import threshold_label_chunked

        return threshold_label_chunked(
            image, threshold, smooth_sigma=smooth_sigma, opening=opening,
            connectivity=connectivity, min_size=min_size, exclude_border=exclude_border,
            dark_objects=dark_objects,
        )
    img = as_float_image(image)
    _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size)

    if smooth_sigma > 0:
        img = ndi.gaussian_filter(img, smooth_sigma)
    value = compute_threshold(img, threshold)
    mask = img < value if dark_objects else img > value
    if opening > 1:
        mask = ndi.binary_opening(mask, structure=_square(int(opening)))
    structure = ndi.generate_binary_structure(2, connectivity)
    labels, n = ndi.label(mask, structure=structure, output=np.int32)
    if n == 0 or not (min_size > 1 or exclude_border):
        return labels

    keep = np.ones(n + 1, dtype=bool)
    if min_size > 1:
        keep &= np.bincount(labels.ravel(), minlength=n + 1) >= min_size
    if exclude_border:
        border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        keep[np.unique(border)] = False
    return _relabel_sequential(labels, keep)


#: Columns of the table returned by :func:`measure_objects`, in order.
MEASURE_COLUMNS = (
    "label",
    "centroid_row",
    "centroid_col",
    "com_row",
    "com_col",
    "area",
    "mean",
    "min",
    "max",
    "min_row",
    "min_col",
    "max_row",
    "max_col",
)


def measure_objects(labels, image) -> pd.DataFrame:
    """Measure centres and intensity statistics of every labelled object.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Label image, 0 = background.
    image : (M, N) or (M, N, 3|4) ndarray
        Intensity image of the same (row, column) shape; RGB is converted to luminance.

    Returns
    -------
    table : pandas.DataFrame
        One row per object present in ``labels`` (ascending label), with columns
        ``label``; ``centroid_row``, ``centroid_col`` (geometric centre);
        ``com_row``, ``com_col`` (intensity-weighted centre of mass, sub-pixel — the
        lattice points; falls back to the centroid where the summed intensity is not
        positive); ``area`` (pixels); ``mean``, ``min``, ``max`` (intensity);
        ``min_row``, ``min_col``, ``max_row``, ``max_col`` (pixel positions of the minimum
        and maximum). Coordinates are in pixels, (row, column); multiply by the image
        scale for physical units.

    Raises
    ------
    ValueError
        If the shapes differ or an input is not a valid image.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_tessella import measure_objects
    >>> labels = np.zeros((5, 5), int); labels[1:3, 1:4] = 1
    >>> image = np.arange(25.0).reshape(5, 5)
    >>> measure_objects(labels, image)[["label", "area", "max"]].values.tolist()
    [[1.0, 6.0, 13.0]]
    """
    if is_lazy(labels) or is_lazy(image):
        from .chunked import measure_objects_chunked

        return measure_objects_chunked(labels, image)
    lab = as_label_image(labels)
    img = as_float_image(image, allow_constant=True)
    if lab.shape != img.shape:
        raise ValueError(
            f"labels and image must have the same (row, column) shape; got {lab.shape} and "
            f"{img.shape}."
        )
    ids = np.unique(lab)
    ids = ids[ids != 0]
    if ids.size == 0:
        return pd.DataFrame({c: np.empty(0, dtype=np.int64 if c == "label" else np.float64)
                             for c in MEASURE_COLUMNS})

    flat_lab = lab.ravel()
    nbins = int(ids[-1]) + 1
    rows, cols = np.indices(lab.shape, dtype=np.float64)
    w = img.ravel().astype(np.float64)
    area = np.bincount(flat_lab, minlength=nbins)[ids].astype(np.float64)
    sum_r = np.bincount(flat_lab, rows.ravel(), nbins)[ids]
    sum_c = np.bincount(flat_lab, cols.ravel(), nbins)[ids]
    sum_w = np.bincount(flat_lab, w, nbins)[ids]
    sum_wr = np.bincount(flat_lab, w * rows.ravel(), nbins)[ids]
    sum_wc = np.bincount(flat_lab, w * cols.ravel(), nbins)[ids]
    centroid_r, centroid_c = sum_r / area, sum_c / area
    positive = sum_w > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        com_r = np.where(positive, sum_wr / np.where(positive, sum_w, 1), centroid_r)
        com_c = np.where(positive, sum_wc / np.where(positive, sum_w, 1), centroid_c)

    mins, maxs, min_pos, max_pos = ndi.extrema(img, lab, ids)
    min_pos = np.asarray(min_pos, dtype=np.float64).reshape(-1, 2)
    max_pos = np.asarray(max_pos, dtype=np.float64).reshape(-1, 2)
    return pd.DataFrame(
        {
            "label": ids.astype(np.int64),
            "centroid_row": centroid_r,
            "centroid_col": centroid_c,
            "com_row": com_r,
            "com_col": com_c,
            "area": area,
            "mean": sum_w / area,
            "min": np.asarray(mins, dtype=np.float64),
            "max": np.asarray(maxs, dtype=np.float64),
            "min_row": min_pos[:, 0],
            "min_col": min_pos[:, 1],
            "max_row": max_pos[:, 0],
            "max_col": max_pos[:, 1],
        }
    )
