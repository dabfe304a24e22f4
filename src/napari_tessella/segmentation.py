"""Threshold → opening → connected components, and per-object measurements.

This is the first recipe of the project (atoms in a HAADF-STEM micrograph), written so it
works on any 2-D image: bright atoms, dark channels ("chambers"), or fluorescent nuclei.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._chunked_labels import _label_mask
from ._label_image import _edge_ids, _relabel_sequential
from ._lazy import _as_float_dask, _first_pass, _lazy_stage, is_lazy
from ._validation import as_float_image, finite_number, flag, size_in_image, whole_number
from .measure import MEASURE_COLUMNS, measure_objects
from .threshold import THRESHOLD_METHODS, _global_threshold, compute_threshold, threshold_spec

__all__ = [
    "MEASURE_COLUMNS",
    "THRESHOLD_METHODS",
    "compute_threshold",
    "measure_objects",
    "threshold_label",
    "threshold_label_chunked",
]

def _square_opening(mask: np.ndarray, side: int) -> np.ndarray:
    """``ndi.binary_opening`` with a ``side`` × ``side`` square, pixel for pixel (same
    origin for even sides, background outside the image), in O(pixels × side) instead of
    O(pixels × side²): a square is a row times a column, so each step is done as two 1-D
    steps. An opening as large as the image then takes a fraction of a second, not a
    MemoryError."""
    row, col = np.ones((1, side), dtype=bool), np.ones((side, 1), dtype=bool)
    eroded = ndi.binary_erosion(ndi.binary_erosion(mask, row), col)
    return ndi.binary_dilation(ndi.binary_dilation(eroded, row), col)


def _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size, shape=None,
                                  exclude_border=False, dark_objects=False):
    """Check the parameters of :func:`threshold_label` before any work; with the image
    ``shape``, lengths are also bounded by the image. Returns them normalised
    (smooth_sigma float, opening int, connectivity int, min_size float)."""
    flag(exclude_border, "exclude_border")
    flag(dark_objects, "dark_objects")
    if isinstance(connectivity, bool) or connectivity not in (1, 2):
        raise ValueError(
            f"connectivity must be 1 (edge neighbours) or 2 (edge and corner neighbours); "
            f"got {connectivity!r}."
        )
    if shape is None:
        smooth_sigma = finite_number(smooth_sigma, "smooth_sigma", minimum=0, unit="pixels")
        opening = whole_number(opening, "opening", minimum=0, unit="pixels")
    else:
        smooth_sigma = size_in_image(smooth_sigma, "smooth_sigma", shape)
        opening = int(size_in_image(whole_number(opening, "opening", minimum=0,
                                                 unit="pixels"),
                                    "opening", shape, side="shortest"))
    min_size = finite_number(min_size, "min_size", minimum=0, unit="pixels")
    return smooth_sigma, opening, int(connectivity), min_size


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
        out of range: NaN or infinite, negative, ``opening`` not a whole number, or a
        length larger than the image (``smooth_sigma`` above its longest side,
        ``opening`` above its shortest side). Parameters are checked before any work.
    TypeError
        If the image does not hold real numbers or a parameter is not a number.

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

        return threshold_label_chunked(
            image, threshold, smooth_sigma=smooth_sigma, opening=opening,
            connectivity=connectivity, min_size=min_size, exclude_border=exclude_border,
            dark_objects=dark_objects,
        )
    method = threshold_spec(threshold)  # parameters first, before any work on the image
    _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size,
                                  exclude_border=exclude_border, dark_objects=dark_objects)
    img = as_float_image(image)
    smooth_sigma, opening, connectivity, min_size = _validate_segmentation_params(
        smooth_sigma, opening, connectivity, min_size, img.shape)

    if smooth_sigma > 0:
        img = ndi.gaussian_filter(img, smooth_sigma)
    value = compute_threshold(img, method)
    mask = img < value if dark_objects else img > value
    if opening > 1:
        mask = _square_opening(mask, int(opening))
    structure = ndi.generate_binary_structure(2, connectivity)
    labels, n = ndi.label(mask, structure=structure, output=np.int32)
    if n == 0 or not (min_size > 1 or exclude_border):
        return labels

    keep = np.ones(n + 1, dtype=bool)
    if min_size > 1:
        keep &= np.bincount(labels.ravel(), minlength=n + 1) >= min_size
    if exclude_border:
        keep[_edge_ids(labels)] = False
    return _relabel_sequential(labels, keep)



# --------------------------------------------------------------------------------------
# chunk by chunk

def threshold_label_chunked(
    image,
    threshold="otsu",
    *,
    smooth_sigma: float = 0.0,
    opening: int = 0,
    connectivity: int = 1,
    min_size: int = 0,
    exclude_border: bool = False,
    dark_objects: bool = False,
    chunks=None,
    scheduler=None,
):
    """Segment and label objects of an image too large for memory, chunk by chunk.

    Same recipe and parameters as :func:`napari_tessella.threshold_label` (Gaussian
    smoothing → global threshold → binary opening → connected components → removal of
    small / border objects), computed with dask so that only a few chunks are in memory
    at once. The labels equal the in-memory ones, numbering included; see the module
    docstring for how, and for the ``li`` and ``mean`` thresholds, which can differ
    slightly.

    Parameters
    ----------
    image : (M, N) or (M, N, 3|4) dask array, Zarr array or array_like
        Image, any real dtype. RGB(A) is converted to its luminance.
    threshold : str or float, optional
        A method name from :data:`napari_tessella.THRESHOLD_METHODS` (computed from a
        global histogram of the smoothed image), or a number in image units.
    smooth_sigma, opening, connectivity, min_size, exclude_border, dark_objects
        As in :func:`napari_tessella.threshold_label`.
    chunks : int or (int, int), optional
        Chunk shape (rows, columns) to process. Default: the dask/Zarr array's own chunks,
        or ``DEFAULT_CHUNKS`` for a NumPy array. Chunks smaller than the overlap margin
        are merged by dask.
    scheduler : str or distributed.Client, optional
        Where to run the global passes (statistics, histogram, stitching): a dask
        scheduler name, a ``distributed.Client``, or a scheduler address such as
        ``"tcp://host:8786"``. Default: dask's local threads.

    Returns
    -------
    labels : (M, N) dask array of int32
        Lazy label image, 0 = background, objects numbered 1..n in raster order of their
        first pixel. Computing it (or a chunk of it) re-runs the per-chunk steps.

    Raises
    ------
    ValueError
        If the image is not 2-D (or RGB), a parameter is out of range, or (found in the
        first pass over the data) the image contains NaN/inf or is constant.
    TypeError
        If the image does not hold real numbers or ``threshold`` has the wrong type.

    See Also
    --------
    napari_tessella.threshold_label : the in-memory version.
    measure_objects_chunked : per-object measurements on the lazy labels.

    Notes
    -----
    The data are read three times before this function returns (value checks and range,
    histogram, per-chunk labelling for stitching) and once more when the labels are
    computed. With a number as ``threshold`` the histogram pass is skipped.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> image = np.zeros((64, 64)); image[10:20, 28:36] = 1; image[40:50, 5:60] = 1
    >>> labels = threshold_label_chunked(da.from_array(image, chunks=16), 0.5)
    >>> int(labels.max().compute())
    2
    """

    _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size,
                                  exclude_border=exclude_border, dark_objects=dark_objects)
    method = threshold_spec(threshold)
    raw = _as_float_dask(image, chunks, convert=False)
    smooth_sigma, opening, connectivity, min_size = _validate_segmentation_params(
        smooth_sigma, opening, connectivity, min_size, raw.shape)
    smoothed = _lazy_stage(raw, smooth_sigma)

    # pass 1: the in-memory value checks, and the smoothed range for the histogram
    by_name = not isinstance(method, float)
    extra = (smoothed.min(), smoothed.max()) if by_name else ()
    _lo, _hi, *s_range = _first_pass(raw, *extra, scheduler=scheduler)
    # pass 2: the global threshold
    value = _global_threshold(smoothed, method, *s_range, scheduler) if by_name else method

    mask = _lazy_stage(raw, smooth_sigma, value, dark_objects, int(opening))
    structure = ndi.generate_binary_structure(2, connectivity)
    return _label_mask(mask, structure, connectivity, min_size, exclude_border, scheduler)
