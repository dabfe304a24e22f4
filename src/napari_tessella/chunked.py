"""Larger-than-memory versions of the core functions, chunk by chunk with dask.

The functions here take a :class:`dask.array.Array`, a Zarr array, or any array-like, and
never hold the whole image (or label image) in memory: every step works on one chunk plus
a margin ("overlap") wide enough that the chunk's pixels come out exactly as they would
from the in-memory function.

How the in-memory recipe is split up
------------------------------------
``threshold_label_chunked``

1. One pass over the image: minimum, maximum and the number of NaN/inf pixels (the same
   checks :func:`napari_tessella._validation.as_float_image` makes), and the minimum and
   maximum of the smoothed image.
2. Threshold by method name: a *global* histogram of the smoothed image (per-chunk
   ``numpy.histogram`` with the bin edges numpy would use for the whole image, summed),
   passed to the scikit-image function with ``hist=``. For ``otsu``, ``yen``,
   ``isodata`` and ``minimum`` these are the very counts scikit-image computes in memory,
   so the threshold is identical. ``triangle`` is computed from the same 256-bin
   histogram (identical too); ``mean`` is a global mean (identical up to floating-point
   summation order); ``li`` iterates on a 65,536-bin histogram instead of the pixels, so
   it can differ from the in-memory value by about one bin width,
   ``(max - min) / 65536``.
3. Each chunk is read together with a margin of ``int(4 σ + 0.5)`` (scipy's Gaussian
   kernel radius) + ``opening`` pixels taken from its neighbours
   (:func:`dask.array.overlap.overlap`, no padding at the image border), then smoothed,
   thresholded and opened in one task, and the margin is cropped. On the image border
   scipy's own border modes apply, as in memory (``reflect`` for the Gaussian,
   background outside the image for the opening); inside the image the margin absorbs
   the errors they make at the margin's edge. The mask is therefore bit-identical. The
   margins travel in the stored dtype (e.g. uint8) and nothing but the raw data is
   shared between tasks, which keeps memory low.
4. Connected components across chunk borders: every chunk is labelled on its own, and a
   small summary is kept per chunk (its labels on its four edges, and per label the
   pixel count, the first pixel in raster order and whether it touches the image
   border). Labels that touch across a chunk border (edge neighbours, plus corner
   neighbours for ``connectivity=2``) are merged with a sparse connected-components
   search. Small and border objects are then dropped, and the survivors are numbered in
   raster order of their first pixel, which is how :func:`scipy.ndimage.label` numbers
   them. The result is therefore **identical** to the in-memory labels, numbering
   included (the tests still compare up to a bijection of label ids, which is what
   matters).
5. The returned label image is lazy: each chunk re-runs steps 3-4 for its own pixels and
   maps its local labels to the global ones with a look-up table. Unlike
   ``dask_image.ndmeasure.label``, nothing needs every chunk's labels in memory at the
   same time, which is what keeps a gigapixel image under a few GB.

``measure_objects_chunked``
    Per chunk, per label partial sums (area, sum of rows/columns, of intensity, of
    intensity × row/column) and extrema with their raster positions; the partial tables
    are concatenated and combined with pandas. Sums are added in a different order than
    in memory, so the centres and means agree to floating-point rounding (~1e-12
    relative), not bit for bit; areas and min/max values are identical. When several
    pixels of an object share its minimum (or maximum) value, the chunked table reports
    the first of them in raster order, whereas :func:`scipy.ndimage.extrema` (used in
    memory) reports an arbitrary one (it depends on an unstable sort of the whole image);
    ``min_row``/``min_col``/``max_row``/``max_col`` can then name a different pixel with
    the same value. Without ties they are identical.

Scheduling
----------
Without ``scheduler=`` dask's default (local threads) runs the computations. Any value
accepted by :func:`dask.compute` (``"threads"``, ``"synchronous"``, ``"processes"``, a
``distributed.Client``) works, and a string address such as ``"tcp://10.0.0.5:8786"``
connects a :class:`distributed.Client` (imported only then). The label images returned
are lazy: compute or store them with whichever scheduler you like.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

# segmentation is imported inside the functions: it may itself import is_lazy from here.

__all__ = [
    "DEFAULT_CHUNKS",
    "estimate_object_diameter_chunked",
    "find_atoms_chunked",
    "is_lazy",
    "measure_objects_chunked",
    "seeded_watershed_chunked",
    "threshold_label_chunked",
]

#: Chunk shape, (rows, columns), used when a NumPy array is given without ``chunks=``.
DEFAULT_CHUNKS = (2048, 2048)

# ITU-R BT.709 luma weights, as in _validation.as_float_image.
_LUMA = np.array([0.2125, 0.7154, 0.0721])

#: Histogram bins for ``threshold="li"`` (Li iterates on the histogram, not the pixels).
LI_BINS = 65536

_LAZY_MODULES = ("dask", "zarr", "xarray", "h5py", "tensorstore")


def is_lazy(x) -> bool:
    """Tell whether ``x`` is a lazy or on-disk array that should be processed in chunks.

    Parameters
    ----------
    x : object
        Anything passed as an image or label image.

    Returns
    -------
    bool
        True for dask arrays, Zarr arrays and similar chunked/on-disk arrays (anything
        whose type comes from dask, zarr, xarray, h5py or tensorstore and has ``shape``
        and ``dtype``); False for NumPy arrays, lists and everything else. Cheap: imports
        nothing.

    Examples
    --------
    >>> import numpy as np
    >>> is_lazy(np.zeros((4, 4)))
    False
    """
    if isinstance(x, np.ndarray):
        return False
    root = type(x).__module__.split(".", 1)[0]
    return root in _LAZY_MODULES and hasattr(x, "shape") and hasattr(x, "dtype")


# --------------------------------------------------------------------------------------
# input handling


def _as_dask(x, chunks, *, name: str):
    """Wrap ``x`` as a dask array (no data is read)."""
    import dask.array as da

    if isinstance(x, da.Array):
        arr = x
    elif hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.ndarray):
        # zarr / h5py / xarray: read lazily, in the storage chunks unless told otherwise
        native = getattr(x, "chunks", None)
        if chunks is None and isinstance(native, tuple) and all(
            isinstance(c, Integral) for c in native
        ):
            use = native
        else:
            use = chunks if chunks is not None else _default_chunks(x.shape)
        arr = da.from_array(x, chunks=use)
    else:
        x = np.asarray(x)
        arr = da.from_array(x, chunks=_default_chunks(x.shape))
    if chunks is not None:
        arr = arr.rechunk(_check_chunks(chunks, arr.ndim))
    dtype = arr.dtype
    if dtype != np.bool_ and not (
        np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    ):
        raise TypeError(f"{name} must hold real numbers (integers or floats); got dtype {dtype}.")
    return arr


def _default_chunks(shape):
    return tuple(DEFAULT_CHUNKS[: len(shape)]) + tuple(shape[2:])


def _check_chunks(chunks, ndim):
    if isinstance(chunks, Integral):
        return chunks
    if isinstance(chunks, str) and chunks == "auto":
        return chunks
    try:
        chunks = tuple(chunks)
    except TypeError:
        raise TypeError(
            f"chunks must be an int or a (rows, columns) tuple; got {chunks!r}."
        ) from None
    if len(chunks) == 2 and ndim == 3:
        chunks = (*chunks, -1)
    for c in chunks:
        if isinstance(c, Integral) and c != -1 and c < 1:
            raise ValueError(f"chunk sizes must be >= 1 pixel; got chunks={chunks}.")
    return chunks


def _as_float_dask(image, chunks, *, name: str = "image", convert: bool = True):
    """Lazy counterpart of ``as_float_image``: shape and dtype checks, RGB → luminance.

    With ``convert=False`` a grey-level image keeps its dtype (the chunk pipeline converts
    after reading, so the overlap margins are exchanged in the compact stored dtype).
    """
    arr = _as_dask(image, chunks, name=name)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4) and arr.shape[0] > 4:
        ftype = np.float32 if arr.dtype == np.float32 else np.float64
        luma = _LUMA.astype(ftype)
        arr = arr.rechunk({2: -1}).map_blocks(
            lambda b: b[..., :3].astype(ftype) @ luma, drop_axis=2, dtype=ftype
        )
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (row, column) image or an RGB(A) image; got shape "
            f"{arr.shape}. Pass one plane of a stack, e.g. image[0]."
        )
    if arr.size == 0 or min(arr.shape) < 2:
        raise ValueError(f"{name} is too small to segment: shape {arr.shape}.")
    if convert and arr.dtype != np.float32 and arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    return arr


def _float_type(dtype):
    """float32 stays float32, every other dtype is processed as float64 (as in memory)."""
    return np.float32 if dtype == np.float32 else np.float64


def _check_values(lo, hi, n_bad, *, name="image", allow_constant=False):
    if n_bad:
        raise ValueError(
            f"{name} contains {int(n_bad)} NaN or infinite pixel(s); replace them (e.g. with "
            "np.nan_to_num) before segmenting."
        )
    if not allow_constant and lo == hi:
        raise ValueError(
            f"{name} is constant (all values {float(lo):g}): no threshold can separate objects."
        )


def _check_threshold(threshold):
    # the same rules as the in-memory path
    from .segmentation import threshold_spec

    return threshold_spec(threshold)


# --------------------------------------------------------------------------------------
# scheduling

_CLIENTS: dict = {}
#: How long to wait for a dask.distributed scheduler before giving up.
CONNECT_TIMEOUT = "10s"


def _resolve_scheduler(scheduler):
    """Turn a distributed address into a Client; pass everything else to dask.compute."""
    is_address = isinstance(scheduler, str) and (
        "://" in scheduler or (":" in scheduler and scheduler.rsplit(":", 1)[1].isdigit())
    )
    if is_address:
        if scheduler not in _CLIENTS:
            try:
                from distributed import Client
            except ImportError:
                raise ValueError(
                    f"scheduler address {scheduler!r} needs dask.distributed; install it with "
                    "`pip install distributed`."
                ) from None
            try:
                _CLIENTS[scheduler] = Client(scheduler, set_as_default=False,
                                             timeout=CONNECT_TIMEOUT)
            except OSError as err:
                raise ValueError(
                    f"cannot connect to the dask scheduler at {scheduler!r}: {err}"
                ) from None
        return _CLIENTS[scheduler]
    return scheduler


def _compute(*objects, scheduler=None):
    import dask

    sched = _resolve_scheduler(scheduler)
    if sched is None:
        return dask.compute(*objects)
    return dask.compute(*objects, scheduler=sched)


# --------------------------------------------------------------------------------------
# thresholds from a global histogram


def _hist_edges(lo, hi, nbins, dtype):
    """The bin edges numpy.histogram(image, nbins) uses for an image with this min/max."""
    return np.histogram_bin_edges(np.array([lo, hi], dtype=dtype), bins=nbins)


def _block_histogram(block, edges):
    return np.histogram(block, bins=edges)[0][None, None, :]


def _global_histogram(smoothed, edges, scheduler):
    nb = len(edges) - 1
    per_block = smoothed.map_blocks(
        _block_histogram, edges, new_axis=2, chunks=(1, 1, nb), dtype=np.int64
    )
    (counts,) = _compute(per_block.sum(axis=(0, 1)), scheduler=scheduler)
    centres = (edges[:-1] + edges[1:]) / 2.0
    return counts, centres


def _triangle_from_hist(counts, centres):
    """Triangle (Zack) threshold from a histogram; same steps as skimage's, on counts."""
    counts = np.asarray(counts)
    nbins = counts.size
    peak = int(np.argmax(counts))
    nonzero = np.flatnonzero(counts)
    low, high = int(nonzero[0]), int(nonzero[-1])
    if low == high:
        return float(centres[low])
    # work on the longer tail; mirror the histogram when it is on the right
    flip = peak - low < high - peak
    if flip:
        counts = counts[::-1]
        low = nbins - high - 1
        peak = nbins - peak - 1
    height = float(counts[peak])
    width = float(peak - low)
    norm = math.hypot(height, width)
    x = np.arange(peak - low)
    distance = (height / norm) * x - (width / norm) * counts[x + low]
    level = int(np.argmax(distance)) + low
    if flip:
        level = nbins - level - 1
    return float(centres[level])


def _li_from_hist(counts, centres):
    """Li's minimum cross-entropy threshold iterated on histogram bins."""
    counts = np.asarray(counts, dtype=np.float64)
    lo = float(centres[0])
    x = centres.astype(np.float64) - lo  # non-negative, as skimage shifts the image
    total = counts.sum()
    t_next = float((counts * x).sum() / total)
    tolerance = 0.5 * float(centres[1] - centres[0]) if len(centres) > 1 else 0.0
    t_curr = -2.0 * tolerance - 1.0
    for _ in range(10000):
        if abs(t_next - t_curr) <= tolerance:
            break
        t_curr = t_next
        fore = x > t_curr
        w_f, w_b = counts[fore].sum(), counts[~fore].sum()
        if w_f == 0 or w_b == 0:
            break
        mean_f = (counts[fore] * x[fore]).sum() / w_f
        mean_b = (counts[~fore] * x[~fore]).sum() / w_b
        if mean_b == 0.0:
            break
        t_next = (mean_b - mean_f) / (math.log(mean_b) - math.log(mean_f))
    return t_next + lo


def _global_threshold(smoothed, method, lo, hi, scheduler) -> float:
    """Threshold of the whole (lazy) image by method name, from a global histogram."""
    import skimage.filters

    if method == "mean":
        (value,) = _compute(smoothed.mean(dtype=np.float64), scheduler=scheduler)
        return float(value)
    nbins = LI_BINS if method == "li" else 256
    edges = _hist_edges(lo, hi, nbins, smoothed.dtype)
    counts, centres = _global_histogram(smoothed, edges, scheduler)
    if method == "li":
        return float(_li_from_hist(counts, centres))
    if method == "triangle":
        return _triangle_from_hist(counts, centres)
    func = getattr(skimage.filters, f"threshold_{method}")
    try:
        return float(func(hist=(counts, centres)))
    except RuntimeError as err:
        raise ValueError(f"threshold method {method!r} failed on this image: {err}") from None


# --------------------------------------------------------------------------------------
# threshold_label


def _gaussian_radius(sigma: float) -> int:
    return int(4.0 * float(sigma) + 0.5)  # scipy.ndimage.gaussian_filter, truncate=4.0


def _chunk_pipeline(block, block_id=None, *, grid, depth, ftype, sigma, value, dark,
                    opening):
    """Smooth (and threshold and open) one chunk read with its margins, then crop them.

    Chunks on the image border have no margin on that side, so there scipy's own border
    handling applies, exactly as in memory: ``reflect`` for the Gaussian, background
    outside the image for the opening. Inside the image the margin (Gaussian radius +
    opening size) absorbs the errors those border modes make at the margin's edge.
    """
    img = block.astype(ftype, copy=False)
    if sigma > 0:
        img = ndi.gaussian_filter(img, sigma)
    if value is None:
        out = img
    else:
        out = img < value if dark else img > value
        if opening > 1:
            out = ndi.binary_opening(out, structure=np.ones((opening, opening), dtype=bool))
    i, j = block_id
    top = depth if i > 0 else 0
    bottom = depth if i < grid[0] - 1 else 0
    left = depth if j > 0 else 0
    right = depth if j < grid[1] - 1 else 0
    return out[top : out.shape[0] - bottom, left : out.shape[1] - right]


def _lazy_stage(raw, sigma, value=None, dark_objects=False, opening=0):
    """Lazy smoothed image (``value=None``) or object mask, one fused task per chunk."""
    import dask.array as da
    from dask.array.overlap import ensure_minimum_chunksize

    opening = int(opening) if value is not None and opening > 1 else 0
    depth = (_gaussian_radius(sigma) if sigma > 0 else 0) + opening
    if depth:
        chunks = tuple(ensure_minimum_chunksize(depth, c) for c in raw.chunks)
        if chunks != raw.chunks:
            raw = raw.rechunk(chunks)
        padded = da.overlap.overlap(raw, depth={0: depth, 1: depth},
                                    boundary={0: "none", 1: "none"})
    else:
        padded = raw
    ftype = _float_type(raw.dtype)
    return padded.map_blocks(
        _chunk_pipeline, chunks=raw.chunks, dtype=ftype if value is None else bool,
        grid=raw.numblocks, depth=depth, ftype=ftype, sigma=float(sigma), value=value,
        dark=bool(dark_objects), opening=opening,
    )


def _block_summary(mask, structure, r0, c0, shape):
    """Label one chunk; return its edges and per-label statistics (small)."""
    lab, n = ndi.label(mask, structure=structure, output=np.int32)
    rows, cols = shape
    h, w = lab.shape
    count = np.bincount(lab.ravel(), minlength=n + 1)
    flat = lab.ravel()
    where = np.flatnonzero(flat)
    first = np.full(n + 1, np.iinfo(np.int64).max, dtype=np.int64)
    # global raster index of each pixel: (r0 + r) * cols + (c0 + c)
    gidx = (r0 + where // w) * np.int64(cols) + (c0 + where % w)
    np.minimum.at(first, flat[where], gidx)
    border = np.zeros(n + 1, dtype=bool)
    if r0 == 0:
        border[lab[0]] = True
    if r0 + h == rows:
        border[lab[-1]] = True
    if c0 == 0:
        border[lab[:, 0]] = True
    if c0 + w == cols:
        border[lab[:, -1]] = True
    border[0] = False
    return {
        "n": n,
        "count": count[1:],
        "first": first[1:],
        "border": border[1:],
        "top": lab[0].copy(),
        "bottom": lab[-1].copy(),
        "left": lab[:, 0].copy(),
        "right": lab[:, -1].copy(),
    }


def _touching_pairs(a, b, connectivity):
    """Label pairs facing each other across a border (a, b: the two 1-D edge strips)."""
    pairs = []
    shifts = (0,) if connectivity == 1 else (-1, 0, 1)
    size = a.size
    for s in shifts:
        if s >= 0:
            aa, bb = a[: size - s], b[s:]
        else:
            aa, bb = a[-s:], b[: size + s]
        both = (aa > 0) & (bb > 0)
        if both.any():
            pairs.append(np.stack([aa[both], bb[both]], axis=1))
    return pairs


def _stitch(summaries, numblocks, connectivity, min_size, exclude_border):
    """Global look-up table: (chunk label + chunk offset) → final label (raster order)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nr, nc = numblocks
    ns = np.array([[summaries[i][j]["n"] for j in range(nc)] for i in range(nr)], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(ns.ravel())[:-1]]).reshape(nr, nc)
    total = int(ns.sum())
    if total == 0:
        return offsets, np.zeros(1, dtype=np.int32)

    def shifted(strip, off):
        out = strip.astype(np.int64)
        out[out > 0] += off
        return out

    pairs = []
    # horizontal borders between chunk rows i and i+1, across the whole image width
    for i in range(nr - 1):
        above = np.concatenate(
            [shifted(summaries[i][j]["bottom"], offsets[i, j]) for j in range(nc)]
        )
        below = np.concatenate(
            [shifted(summaries[i + 1][j]["top"], offsets[i + 1, j]) for j in range(nc)]
        )
        pairs += _touching_pairs(above, below, connectivity)
    # vertical borders between chunk columns j and j+1, across the whole image height
    for j in range(nc - 1):
        left = np.concatenate(
            [shifted(summaries[i][j]["right"], offsets[i, j]) for i in range(nr)]
        )
        right = np.concatenate(
            [shifted(summaries[i][j + 1]["left"], offsets[i, j + 1]) for i in range(nr)]
        )
        pairs += _touching_pairs(left, right, connectivity)

    count = np.concatenate([s["count"] for row in summaries for s in row]).astype(np.int64)
    first = np.concatenate([s["first"] for row in summaries for s in row])
    border = np.concatenate([s["border"] for row in summaries for s in row])
    if pairs:
        p = np.concatenate(pairs) - 1  # provisional labels are 1..total
        graph = coo_matrix(
            (np.ones(len(p), dtype=np.int8), (p[:, 0], p[:, 1])), shape=(total, total)
        )
        ncomp, comp = connected_components(graph, directed=False)
    else:
        ncomp, comp = total, np.arange(total)
    c_count = np.bincount(comp, weights=count, minlength=ncomp)
    c_first = np.full(ncomp, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(c_first, comp, first)
    c_border = np.bincount(comp, weights=border, minlength=ncomp) > 0
    keep = np.ones(ncomp, dtype=bool)
    if min_size > 1:
        keep &= c_count >= min_size
    if exclude_border:
        keep &= ~c_border
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(c_first[kept], kind="stable")]
    final = np.zeros(ncomp, dtype=np.int32)
    final[order] = np.arange(1, order.size + 1, dtype=np.int32)
    lut = np.concatenate([[0], final[comp]]).astype(np.int32)
    return offsets, lut


def _relabel_block(mask, structure, block_lut):
    lab, _ = ndi.label(mask, structure=structure, output=np.int32)
    return block_lut[lab]


def _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size):
    # one set of rules for the in-memory and the chunked path
    from .segmentation import _validate_segmentation_params as check

    check(smooth_sigma, opening, connectivity, min_size)


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
    import dask.array as da

    _validate_segmentation_params(smooth_sigma, opening, connectivity, min_size)
    method = _check_threshold(threshold)
    raw = _as_float_dask(image, chunks, convert=False)
    smoothed = _lazy_stage(raw, smooth_sigma)

    # pass 1: the in-memory value checks, and the smoothed range for the histogram
    n_bad = (~da.isfinite(raw)).sum() if np.issubdtype(raw.dtype, np.floating) else 0
    by_name = not isinstance(method, float)
    extra = (smoothed.min(), smoothed.max()) if by_name else ()
    lo, hi, n_bad, *s_range = _compute(raw.min(), raw.max(), n_bad, *extra,
                                       scheduler=scheduler)
    _check_values(lo, hi, n_bad)
    # pass 2: the global threshold
    value = _global_threshold(smoothed, method, *s_range, scheduler) if by_name else method

    mask = _lazy_stage(raw, smooth_sigma, value, dark_objects, int(opening))
    structure = ndi.generate_binary_structure(2, connectivity)
    return _label_mask(mask, structure, connectivity, min_size, exclude_border, scheduler)


def _label_mask(mask, structure, connectivity, min_size, exclude_border, scheduler):
    """Stitched, raster-ordered labels of a lazy boolean mask (passes 3 and lazy 4)."""
    import dask
    import dask.array as da

    row_starts = np.concatenate([[0], np.cumsum(mask.chunks[0])[:-1]])
    col_starts = np.concatenate([[0], np.cumsum(mask.chunks[1])[:-1]])
    blocks = mask.to_delayed()
    summary = dask.delayed(_block_summary, pure=True)
    tasks = [
        [summary(blocks[i, j], structure, int(row_starts[i]), int(col_starts[j]), mask.shape)
         for j in range(mask.numblocks[1])]
        for i in range(mask.numblocks[0])
    ]
    (summaries,) = _compute(tasks, scheduler=scheduler)
    offsets, lut = _stitch(summaries, mask.numblocks, connectivity, min_size, exclude_border)

    relabel = dask.delayed(_relabel_block, pure=True)
    out_rows = []
    for i in range(mask.numblocks[0]):
        row = []
        for j in range(mask.numblocks[1]):
            off, n = int(offsets[i, j]), int(summaries[i][j]["n"])
            block_lut = np.concatenate([[0], lut[off + 1 : off + n + 1]]).astype(np.int32)
            shape = (mask.chunks[0][i], mask.chunks[1][j])
            row.append(da.from_delayed(relabel(blocks[i, j], structure, block_lut),
                                       shape=shape, dtype=np.int32))
        out_rows.append(row)
    return da.block(out_rows)


# --------------------------------------------------------------------------------------
# measure_objects


def _block_measure(lab, img, r0, c0, cols, labels_out=None):
    """Per-label partial sums and extrema of one chunk, as a dict of 1-D arrays."""
    lab = np.asarray(lab)
    img = np.asarray(img)
    if labels_out is not None:
        labels_out[r0 : r0 + lab.shape[0], c0 : c0 + lab.shape[1]] = lab
    n_bad = int((~np.isfinite(img)).sum())
    n_neg = int((lab < 0).sum()) if np.issubdtype(lab.dtype, np.signedinteger) else 0
    present = lab[lab > 0]
    if present.size == 0 or n_bad or n_neg:
        return {"n_bad": n_bad, "n_neg": n_neg, "label": np.empty(0, np.int64)}
    first = int(present.min())
    last = int(present.max())
    # compact ids: bincount over [first, last] instead of the whole label range
    local = np.where(lab > 0, lab.astype(np.int64) - (first - 1), 0).ravel()
    nb = last - first + 2
    h, w = lab.shape
    rows, cols_ = np.indices((h, w), dtype=np.float64)
    rows += r0
    cols_ += c0
    weights = img.astype(np.float64).ravel()
    area = np.bincount(local, minlength=nb)
    ids = np.flatnonzero(area)
    ids = ids[ids != 0]
    out = {
        "n_bad": 0,
        "n_neg": 0,
        "label": ids + (first - 1),
        "area": area[ids].astype(np.float64),
        "sum_r": np.bincount(local, rows.ravel(), nb)[ids],
        "sum_c": np.bincount(local, cols_.ravel(), nb)[ids],
        "sum_w": np.bincount(local, weights, nb)[ids],
        "sum_wr": np.bincount(local, weights * rows.ravel(), nb)[ids],
        "sum_wc": np.bincount(local, weights * cols_.ravel(), nb)[ids],
    }
    for kind, reduce, start in (("min", np.minimum, np.inf), ("max", np.maximum, -np.inf)):
        value = np.full(nb, start)
        reduce.at(value, local, weights)
        # first pixel (in raster order) of each label that holds the extreme value
        hit = np.flatnonzero((weights == value[local]) & (local > 0))
        hit_ids, first = np.unique(local[hit], return_index=True)
        pos = hit[first[np.searchsorted(hit_ids, ids)]]
        out[kind] = value[ids]
        out[f"{kind}_idx"] = (r0 + pos // w) * np.int64(cols) + (c0 + pos % w)
    return out


def _combine_measurements(parts, cols) -> pd.DataFrame:
    from .segmentation import MEASURE_COLUMNS

    parts = [p for p in parts if p["label"].size]
    if not parts:
        return pd.DataFrame({c: np.empty(0, dtype=np.int64 if c == "label" else np.float64)
                             for c in MEASURE_COLUMNS})
    df = pd.DataFrame({k: np.concatenate([p[k] for p in parts])
                       for k in parts[0] if k not in ("n_bad", "n_neg")})
    sums = df.groupby("label", sort=True)[["area", "sum_r", "sum_c", "sum_w", "sum_wr",
                                            "sum_wc"]].sum()
    # extrema: smallest value, ties to the first pixel in raster order (as ndi.extrema)
    mins = df.sort_values(["min", "min_idx"], kind="stable").groupby("label", sort=True).first()
    maxs = df.sort_values(["max", "max_idx"], ascending=[False, True], kind="stable").groupby(
        "label", sort=True).first()
    area = sums["area"].to_numpy()
    centroid_r = sums["sum_r"].to_numpy() / area
    centroid_c = sums["sum_c"].to_numpy() / area
    sum_w = sums["sum_w"].to_numpy()
    positive = sum_w > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(positive, sum_w, 1)
        com_r = np.where(positive, sums["sum_wr"].to_numpy() / safe, centroid_r)
        com_c = np.where(positive, sums["sum_wc"].to_numpy() / safe, centroid_c)
    min_idx = mins["min_idx"].to_numpy()
    max_idx = maxs["max_idx"].to_numpy()
    return pd.DataFrame(
        {
            "label": sums.index.to_numpy().astype(np.int64),
            "centroid_row": centroid_r,
            "centroid_col": centroid_c,
            "com_row": com_r,
            "com_col": com_c,
            "area": area,
            "mean": sum_w / area,
            "min": mins["min"].to_numpy(),
            "max": maxs["max"].to_numpy(),
            "min_row": (min_idx // cols).astype(np.float64),
            "min_col": (min_idx % cols).astype(np.float64),
            "max_row": (max_idx // cols).astype(np.float64),
            "max_col": (max_idx % cols).astype(np.float64),
        }
    )


def measure_objects_chunked(
    labels, image, *, chunks=None, scheduler=None, labels_out=None
) -> pd.DataFrame:
    """Measure every labelled object of a large label image, chunk by chunk.

    Same table as :func:`napari_tessella.measure_objects`, computed from per-chunk partial
    sums that are then combined, so neither the label image nor the intensity image is
    ever in memory as a whole (only the table is).

    Parameters
    ----------
    labels : (M, N) dask array, Zarr array or array_like of int
        Label image, 0 = background (e.g. from :func:`threshold_label_chunked`).
    image : (M, N) or (M, N, 3|4) dask array, Zarr array or array_like
        Intensity image of the same (row, column) shape; RGB is converted to luminance.
    chunks : int or (int, int), optional
        Chunk shape to process; default: the chunks of ``labels``.
    scheduler : str or distributed.Client, optional
        As in :func:`threshold_label_chunked`.
    labels_out : Zarr array, optional
        Writable array of the labels' shape whose chunks coincide with the processing
        chunks (e.g. ``zarr.open_array(path, mode="w", chunks=labels.chunksize, ...)``):
        each chunk of ``labels`` is also written there as it is measured, so a lazy label
        image is computed once for both the table and the file.

    Returns
    -------
    table : pandas.DataFrame
        One row per object (ascending label) with the columns of
        :data:`napari_tessella.segmentation.MEASURE_COLUMNS`. Sums are added in a
        different order than in memory: centres and means agree to rounding
        (about 1e-12 relative); areas and extrema are identical. Of several pixels
        sharing an object's extreme value, the first in raster order is reported (the
        in-memory function may report another of them).

    Raises
    ------
    ValueError
        If the shapes differ or an input is not 2-D; and, after the pass over the data,
        if the image contains NaN/inf or the labels are negative.
    TypeError
        If ``labels`` is not an integer image or ``image`` does not hold real numbers.

    See Also
    --------
    napari_tessella.measure_objects : the in-memory version.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((5, 5), int); labels[1:3, 1:4] = 1
    >>> image = np.arange(25.0).reshape(5, 5)
    >>> measure_objects_chunked(labels, image, chunks=2)[["label", "area", "max"]].values.tolist()
    [[1.0, 6.0, 13.0]]
    """
    import dask

    lab = _as_dask(labels, chunks, name="labels")
    if lab.dtype == bool:
        lab = lab.astype(np.int32)
    if not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must be an integer label image; got dtype {lab.dtype}.")
    if lab.ndim != 2:
        raise ValueError(f"labels must be a 2-D (row, column) label image; got shape {lab.shape}.")
    img = _as_float_dask(image, None)
    if lab.shape != img.shape:
        raise ValueError(
            f"labels and image must have the same (row, column) shape; got {lab.shape} and "
            f"{img.shape}."
        )
    if img.chunks != lab.chunks:
        img = img.rechunk(lab.chunks)
    if labels_out is not None:
        if tuple(labels_out.shape) != lab.shape:
            raise ValueError(f"labels_out has shape {tuple(labels_out.shape)}; the labels have "
                             f"shape {lab.shape}.")
        out_chunks = tuple(getattr(labels_out, "chunks", ()) or ())
        regular = all(len(set(c[:-1])) <= 1 for c in lab.chunks)
        if not regular or (out_chunks and out_chunks != lab.chunksize):
            # concurrent writes must not share a storage chunk
            step = out_chunks if out_chunks else lab.chunksize
            lab = lab.rechunk(step)
            img = img.rechunk(step)
    row_starts = np.concatenate([[0], np.cumsum(lab.chunks[0])[:-1]])
    col_starts = np.concatenate([[0], np.cumsum(lab.chunks[1])[:-1]])
    lb, ib = lab.to_delayed(), img.to_delayed()
    measure = dask.delayed(_block_measure, pure=True)
    cols = lab.shape[1]
    tasks = [
        measure(lb[i, j], ib[i, j], int(row_starts[i]), int(col_starts[j]), cols, labels_out)
        for i in range(lab.numblocks[0])
        for j in range(lab.numblocks[1])
    ]
    (parts,) = _compute(tasks, scheduler=scheduler)
    n_bad = sum(p["n_bad"] for p in parts)
    if n_bad:
        raise ValueError(
            f"image contains {n_bad} NaN or infinite pixel(s); replace them (e.g. with "
            "np.nan_to_num) before measuring."
        )
    if any(p["n_neg"] for p in parts):
        raise ValueError("labels has negative values; labels must be 0 (background) or positive.")
    return _combine_measurements(parts, cols)


# --------------------------------------------------------------------------------------
# atom columns, chunk by chunk
def _atoms_in_block(block, origin, core_lo, core_hi, kwargs):
    """find_atoms on one overlapped block; keep the columns whose centre is in its core."""
    from .atoms import find_atoms

    result = find_atoms(np.asarray(block), **kwargs)
    table = result.table
    if len(table) == 0:
        return table
    table = table.assign(row=table["row"] + origin[0], col=table["col"] + origin[1])
    # the core regions tile the image exactly, so each column is kept by one block
    keep = ((np.floor(table["row"]) >= core_lo[0]) & (np.floor(table["row"]) < core_hi[0])
            & (np.floor(table["col"]) >= core_lo[1]) & (np.floor(table["col"]) < core_hi[1]))
    return table[keep.to_numpy()]


def find_atoms_chunked(image, *, separation=None, threshold=None, refine="com", dark=False,
                       chunks=None, scheduler=None):
    """Find atom columns in an image too large for memory, chunk by chunk.

    Same method and parameters as :func:`napari_tessella.find_atoms`. The column spacing
    and the detection threshold, when not given, are measured once on a central crop of at
    most 1024² pixels, so that every chunk uses the same values. Each chunk is processed
    with a margin of three spacings (the reach of the detection filter and of the
    neighbour-aware Gaussian fit), and a column is kept by the chunk whose core holds its
    refined centre: with an explicit ``separation`` and ``threshold`` the columns equal
    those of the in-memory function (the dark-column inversion uses each chunk's own
    maximum, a constant offset every step of the method ignores).

    Returns
    -------
    AtomsResult
        Positions and table as in memory, sorted by (row, column).
    """
    import dask

    from .atoms import AtomsResult, _default_threshold, find_atoms

    arr = _as_float_dask(image, chunks, name="image")
    rows, cols = arr.shape
    side = 1024
    r0, c0 = max(0, rows // 2 - side // 2), max(0, cols // 2 - side // 2)
    if separation is None or threshold is None:
        sample = np.asarray(arr[r0:r0 + side, c0:c0 + side].compute())
        if dark:
            sample = sample.max() - sample
        if separation is None:
            separation = find_atoms(sample, refine=None).separation
        if threshold is None:
            threshold = _default_threshold(sample, separation)
    kwargs = {"separation": float(separation), "threshold": float(threshold),
              "refine": refine, "dark": dark}
    depth = int(np.ceil(3 * separation))
    row_edges = np.cumsum((0, *arr.chunks[0]))
    col_edges = np.cumsum((0, *arr.chunks[1]))
    tasks = []
    for i in range(len(row_edges) - 1):
        for j in range(len(col_edges) - 1):
            lo = (row_edges[i], col_edges[j])
            hi = (row_edges[i + 1], col_edges[j + 1])
            o = (max(0, lo[0] - depth), max(0, lo[1] - depth))
            block = arr[o[0]:min(rows, hi[0] + depth), o[1]:min(cols, hi[1] + depth)]
            tasks.append(dask.delayed(_atoms_in_block)(block, o, lo, hi, kwargs))
    parts = _compute(*tasks, scheduler=scheduler)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if len(table):
        table = table.sort_values(["row", "col"], ignore_index=True)
    positions = table[["row", "col"]].to_numpy() if len(table) else np.empty((0, 2))
    return AtomsResult(positions=positions, table=table, separation=float(separation))


# --------------------------------------------------------------------------------------
# seeded watershed, chunk by chunk

#: Margin of each chunk in the chunked watershed, in object diameters.
WATERSHED_MARGIN = 2.0


def _reduce_lazy(arr, factor: int, *, trim: bool = False):
    """Lazy block mean by ``factor``: padded with edge values (``nuclei._block_mean``) or
    with the last partial rows/columns dropped (``nuclei._downsample``, ``trim=True``)."""
    import dask.array as da

    if factor <= 1:
        return arr
    rows, cols = arr.shape
    if trim:
        arr = arr[: rows // factor * factor, : cols // factor * factor]
    else:
        pad = ((0, -rows % factor), (0, -cols % factor))
        if any(p for _, p in pad):
            arr = da.pad(arr, pad, mode="edge")
    size = tuple(max(factor, c // factor * factor) for c in arr.chunksize)
    if any(c % factor for cs in arr.chunks for c in cs):
        arr = arr.rechunk(size)
    return da.coarsen(np.mean, arr, {0: factor, 1: factor})


def _hist_median(counts, centres, width) -> float:
    """Median of the values behind a histogram, interpolated inside the median bin."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    cum = np.cumsum(counts)
    k = (total - 1) / 2.0  # rank of the median, 0-based
    i = int(np.searchsorted(cum, k, side="right"))
    before = cum[i - 1] if i else 0.0
    return float(centres[i] - width / 2 + (k - before + 0.5) / counts[i] * width)


def _auto_params_from_hist(c256, e256, cfine, efine, lo, hi):
    """``nuclei._auto_params`` from histograms of the smoothed image (see the docstring of
    :func:`seeded_watershed_chunked`). The log is taken in the image's dtype, as in memory."""
    from skimage.filters import threshold_otsu

    from .nuclei import _log_offset

    dtype = efine.dtype
    otsu = float(threshold_otsu(hist=(c256, (e256[:-1] + e256[1:]) / 2)))
    centres = (efine[:-1] + efine[1:]) / 2
    width = float(efine[1] - efine[0])
    below = centres <= otsu
    level = _hist_median(cfine[below], centres[below], width)
    dev = np.abs(centres[below].astype(np.float64) - level)
    order = np.argsort(dev, kind="stable")
    noise = 1.4826 * _hist_median(cfine[below][order], dev[order], 0.0)
    eps = _log_offset(noise, hi, level)

    def log(x):
        return np.log(np.maximum(np.asarray(x, dtype=dtype) - level, 0) + eps)

    logged = log(centres)
    l_edges = _hist_edges(*log([lo, hi]), 256, dtype)
    l_counts = np.histogram(logged, bins=l_edges, weights=cfine)[0]
    cut = float(threshold_otsu(hist=(l_counts, (l_edges[:-1] + l_edges[1:]) / 2)))
    return level, eps, cut


def _block_two_histograms(block, e256, efine):
    return np.concatenate([np.histogram(block, bins=e256)[0],
                           np.histogram(block, bins=efine)[0]])[None, None, :]


def _watershed_block(smooth, origin, core_lo, core_hi, border, params, summarize=True):
    """``nuclei._segment_work`` on one chunk read with its margin.

    Returns the chunk's labels (with margin) and a summary of the objects and seeds that
    touch its core: local id, centroid in global working pixels, image-border contact.
    """
    from .nuclei import _auto_mask, _edge_ids, _segment_work

    smooth = np.asarray(smooth)
    if params["auto"]:
        mask = _auto_mask(smooth, params["level"], params["eps"], params["cut"])
    else:
        mask = smooth > params["value"]
    seeds = params["seeds"]
    if seeds is not None and not isinstance(seeds, str):
        seeds = seeds - np.asarray(origin, dtype=float)
        inside = np.all((seeds > -0.5) & (seeds < np.asarray(smooth.shape) - 0.5), axis=1)
        seeds = seeds[inside]
    labels, markers, peak = _segment_work(
        smooth, mask, d=params["d"], min_size_work=params["min_size_work"],
        auto=params["auto"], level=params.get("level"), landscape=params["landscape"],
        seeds=seeds, h_intensity=params.get("h_intensity"), border=border)
    if not summarize:  # the output pass needs the labels and their peaks only
        return labels, peak
    r0, c0 = core_lo[0] - origin[0], core_lo[1] - origin[1]
    r1, c1 = core_hi[0] - origin[0], core_hi[1] - origin[1]
    ids = np.unique(labels[r0:r1, c0:c1])
    ids = ids[ids != 0]
    n = int(labels.max())
    on_border = np.zeros(n + 1, dtype=bool)
    on_border[_edge_ids(labels, border)] = True
    all_ids = np.arange(1, n + 1)
    present = np.bincount(labels.ravel(), minlength=n + 1)[1:] > 0
    all_ids = all_ids[present]
    all_centres = (np.array(ndi.center_of_mass(np.ones(labels.shape), labels, all_ids))
                   .reshape(-1, 2) + np.asarray(origin, dtype=float))
    in_core = np.isin(all_ids, ids)
    m_ids = np.unique(markers)
    m_ids = m_ids[m_ids != 0]
    seed_pts = (np.array(ndi.center_of_mass(np.ones(labels.shape), markers, m_ids))
                .reshape(-1, 2) if m_ids.size else np.empty((0, 2)))
    at = np.rint(seed_pts).astype(np.int64)
    seed_lab = labels[at[:, 0], at[:, 1]] if len(at) else np.empty(0, np.int32)
    seed_in_core = ((at[:, 0] >= r0) & (at[:, 0] < r1) & (at[:, 1] >= c0) & (at[:, 1] < c1)
                    & (seed_lab > 0))
    summary = {
        # objects with pixels in the core: each is one view of a global object
        "ids": all_ids[in_core].astype(np.int64),
        "centres": all_centres[in_core],
        "border": on_border[all_ids[in_core]],
        # objects only in the margin: matched to a global object (for the territories)
        "margin_ids": all_ids[~in_core].astype(np.int64),
        "margin_centres": all_centres[~in_core],
        "seeds": seed_pts[seed_in_core] + np.asarray(origin, dtype=float),
        "seed_ids": seed_lab[seed_in_core].astype(np.int64),
        "n": n,
    }
    return labels, summary


def _watershed_summary(*args):
    return _watershed_block(*args)[1]


def _watershed_output(smooth, origin, core_lo, core_hi, border, params, lut, factor,
                      out_shape, full_shape):
    """Labels and territories of one chunk's core, at full resolution, global ids."""
    from .lattice import _nearest_label
    from .nuclei import _cuts, _refine_outlines

    smooth = np.asarray(smooth)
    local, peak = _watershed_block(smooth, origin, core_lo, core_hi, border, params,
                                   summarize=False)
    labels = lut[local]
    territories = _nearest_label(labels) if labels.any() else labels
    r0, c0 = core_lo[0] - origin[0], core_lo[1] - origin[1]
    if factor > 1:
        # full-resolution outlines (as in memory), drawn on the whole chunk with its margin
        cuts = np.zeros(int(lut.max()) + 1)
        kept = np.flatnonzero(lut)
        cuts[lut[kept]] = _cuts(peak, params.get("level"), params.get("value"),
                                int(local.max()))[kept]
        dropped = (local > 0) & (labels == 0)
        padded = tuple(min((o + n) * factor, full) - o * factor
                       for o, n, full in zip(origin, labels.shape, full_shape, strict=True))
        labels, territories = _refine_outlines(labels, smooth, cuts, factor, padded,
                                               territories, frozen=dropped)
        r0, c0 = r0 * factor, c0 * factor
    rows, cols = out_shape
    return np.stack([labels[r0:r0 + rows, c0:c0 + cols],
                     territories[r0:r0 + rows, c0:c0 + cols]])


def _match_objects(summaries, tol):
    """One global object per group of chunk views whose centroids lie within ``tol``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    centres = np.concatenate([s["centres"] for s in summaries])
    owner = np.concatenate([np.full(len(s["ids"]), k) for k, s in enumerate(summaries)])
    total = len(centres)
    if total == 0:
        return 0, np.empty(0, np.int64), centres
    pairs = cKDTree(centres).query_pairs(tol, output_type="ndarray")
    if len(pairs):  # two objects of the same chunk view are never the same object
        pairs = pairs[owner[pairs[:, 0]] != owner[pairs[:, 1]]]
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(total, total))
    ncomp, comp = connected_components(graph, directed=False)
    return ncomp, comp, centres


def _estimate_diameter(raw, scheduler) -> float:
    """The in-memory estimate, from the same reduced images, computed in one pass."""
    from .nuclei import _diameter_factors, _diameter_from

    coarse, fine = _diameter_factors(raw.shape)
    factors = sorted({coarse, fine})
    images = _compute(*[_reduce_lazy(raw, f, trim=True) for f in factors], scheduler=scheduler)
    overviews = dict(zip(factors, images, strict=True))

    def reduced(factor, box):
        if box is None:
            return np.asarray(overviews[factor])
        r0, c0, rows, cols = box
        window = _reduce_lazy(raw[r0:r0 + rows, c0:c0 + cols], factor, trim=True)
        return np.asarray(_compute(window, scheduler=scheduler)[0])

    return _diameter_from(reduced, raw.shape, coarse, fine)


def estimate_object_diameter_chunked(image, *, chunks=None, scheduler=None) -> float:
    """:func:`napari_tessella.nuclei.estimate_object_diameter` of a dask/Zarr image.

    The estimate only looks at the image reduced to about 256 and 512 pixels on its long
    side; those block means are computed chunk by chunk (one pass over the data), so the
    result is the in-memory one (up to floating-point summation order).
    """
    import dask.array as da

    raw = _as_float_dask(image, chunks)
    n_bad = (~da.isfinite(raw)).sum()
    lo, hi, n_bad = _compute(raw.min(), raw.max(), n_bad, scheduler=scheduler)
    _check_values(lo, hi, n_bad)
    return _estimate_diameter(raw, scheduler)


def seeded_watershed_chunked(image, *, object_diameter=None, sigma=None, seeds=None,
                             landscape="distance", threshold="auto",
                             exclude_border=False, min_size=None, chunks=None,
                             scheduler=None):
    """Seeded watershed of an image too large for memory, chunk by chunk.

    Same recipe, parameters and defaults as :func:`napari_tessella.nuclei.seeded_watershed`.
    The quantities that depend on the whole image are computed first, from the whole
    image: the object diameter (the in-memory estimate, from the same reduced images), the
    threshold — for "auto", the background level and noise (median and MAD of the pixels
    below Otsu) and the log-Otsu cut, from a 256-bin and a 65,536-bin histogram of the
    smoothed working image, so they can differ from the in-memory values by about one fine
    bin, ``range / 65536`` — and, for a method name, the global histogram threshold as in
    :func:`threshold_label_chunked`.

    Then every chunk (at the working resolution) is segmented with a margin of
    :data:`WATERSHED_MARGIN` object diameters read from its neighbours, and the labels of
    its core are kept. An object that crosses a chunk border is seen by both chunks; the
    views are matched by their centroids (within a quarter of a diameter) and given one
    global id. Objects are numbered in raster order of their centroid (in memory: in the
    order of their seeds), so compare results up to label numbering.

    Differences from the in-memory result, all near chunk borders: an object longer than
    the margin, a hole in the foreground wider than the margin (not filled), or a flooding
    that depends on pixels beyond the margin can come out differently; ``min_size``
    applies to each chunk's view. Territories are the nearest nucleus *within the chunk
    and its margin*: a pixel farther than the margin from every nucleus gets the nearest
    one the chunk sees, or 0 if it sees none. ``benchmarks/mosaic.py --watershed``
    measures the agreement.

    Parameters
    ----------
    image : (M, N) dask array, Zarr array or array_like
    object_diameter, sigma, seeds, landscape, threshold, exclude_border, min_size
        As in :func:`napari_tessella.nuclei.seeded_watershed`; ``seeds`` may be None,
        "regional_maxima" or (K, 2) points (a label image of seeds is not supported here).
    chunks : int or (int, int), optional
        Chunk shape at full resolution; default the array's own chunks (or 2048²).
    scheduler : optional
        As in :func:`threshold_label_chunked`.

    Returns
    -------
    WatershedResult
        ``labels`` and ``territories`` are lazy (M, N) int32 dask arrays; ``seeds`` holds
        the seeds of the kept nuclei (all the user's points when they were given).
    """
    import dask
    import dask.array as da

    from .nuclei import (
        WatershedResult,
        _check_watershed_params,
        _plan,
    )

    auto = _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold)
    user_points = seeds is not None and not isinstance(seeds, str)
    if user_points:
        if np.ndim(seeds) == 2 and np.shape(seeds)[1] != 2:
            raise ValueError("a label image of seeds is not supported for a chunked image; "
                             "give the seeds as (row, column) points.")
        from ._validation import as_points

        seeds = as_points(seeds, name="seeds")
    if min_size is not None and min_size < 0:
        raise ValueError(f"min_size must be >= 0; got {min_size}.")
    raw = _as_float_dask(image, chunks)
    full_shape = raw.shape

    # pass 1: the in-memory value checks (NaN/inf, constant)
    n_bad = (~da.isfinite(raw)).sum()
    lo, hi, n_bad = _compute(raw.min(), raw.max(), n_bad, scheduler=scheduler)
    _check_values(lo, hi, n_bad)

    if object_diameter:
        diameter = float(object_diameter)
    else:
        diameter = _estimate_diameter(raw, scheduler)
    factor, sigma, min_size = _plan(full_shape, diameter, sigma, seeds, min_size)
    d, s = diameter / factor, sigma / factor
    smooth = _lazy_stage(_reduce_lazy(raw, factor), s)

    # pass 2: the global threshold, from histograms of the smoothed working image
    s_lo, s_hi = (float(v) for v in _compute(smooth.min(), smooth.max(), scheduler=scheduler))
    params = {"auto": auto, "d": d, "min_size_work": min_size / factor**2,
              "landscape": landscape, "seeds": seeds}
    if auto:
        e256 = _hist_edges(s_lo, s_hi, 256, smooth.dtype)
        efine = _hist_edges(s_lo, s_hi, LI_BINS, smooth.dtype)
        hists = smooth.map_blocks(_block_two_histograms, e256, efine, new_axis=2,
                                  chunks=(1, 1, 256 + LI_BINS), dtype=np.int64)
        (counts,) = _compute(hists.sum(axis=(0, 1)), scheduler=scheduler)
        level, eps, cut = _auto_params_from_hist(counts[:256], e256, counts[256:], efine,
                                                 s_lo, s_hi)
        value = float(level + np.exp(cut) - eps)
        params.update(level=level, eps=eps, cut=cut)
    else:
        method = _check_threshold(threshold)
        value = (_global_threshold(smooth, method, s_lo, s_hi, scheduler)
                 if not isinstance(method, float) else method)
    params["value"] = value
    if landscape == "intensity":
        params["h_intensity"] = 0.1 * (s_hi - value)

    # pass 3: every chunk with its margin; summaries of the objects touching its core
    rows, cols = smooth.shape
    margin = int(np.ceil(WATERSHED_MARGIN * d)) + 1
    row_edges = np.cumsum((0, *smooth.chunks[0]))
    col_edges = np.cumsum((0, *smooth.chunks[1]))
    jobs = []
    for i in range(len(row_edges) - 1):
        for j in range(len(col_edges) - 1):
            lo_ = (int(row_edges[i]), int(col_edges[j]))
            hi_ = (int(row_edges[i + 1]), int(col_edges[j + 1]))
            o = (max(0, lo_[0] - margin), max(0, lo_[1] - margin))
            e = (min(rows, hi_[0] + margin), min(cols, hi_[1] + margin))
            border = (o[0] == 0, e[0] == rows, o[1] == 0, e[1] == cols)
            jobs.append((smooth[o[0]:e[0], o[1]:e[1]], o, lo_, hi_, border))
    summary = dask.delayed(_watershed_summary, pure=True)
    summaries = _compute(*[summary(*job, params) for job in jobs], scheduler=scheduler)

    # global ids: one per group of matching views, raster order of the centroid
    tol = max(1.0, 0.25 * d)  # views of one nucleus: centroids this close
    ncomp, comp, centres = _match_objects(summaries, tol)
    c_row = np.bincount(comp, weights=centres[:, 0], minlength=ncomp) if ncomp else comp
    c_col = np.bincount(comp, weights=centres[:, 1], minlength=ncomp) if ncomp else comp
    n_views = np.bincount(comp, minlength=ncomp) if ncomp else comp
    keep = np.ones(ncomp, dtype=bool)
    if exclude_border and ncomp:
        flags = np.concatenate([s["border"] for s in summaries])
        keep &= np.bincount(comp, weights=flags, minlength=ncomp) == 0
    final = np.zeros(ncomp, dtype=np.int32)
    tree = None
    if ncomp:
        from scipy.spatial import cKDTree

        mean_r, mean_c = c_row / n_views, c_col / n_views
        kept = np.flatnonzero(keep)
        order = kept[np.lexsort((np.floor(mean_c[kept]), np.floor(mean_r[kept])))]
        final[order] = np.arange(1, order.size + 1, dtype=np.int32)
        tree = cKDTree(np.column_stack([mean_r, mean_c]))

    # the lazy result: each chunk re-runs its segmentation and maps its ids
    out_rows, seed_parts, start = [], [], 0
    output = dask.delayed(_watershed_output, pure=True)
    k = 0
    for _i in range(len(row_edges) - 1):
        row = []
        for _j in range(len(col_edges) - 1):
            smry = summaries[k]
            lut = np.zeros(smry["n"] + 1, dtype=np.int32)
            n_ids = len(smry["ids"])
            lut[smry["ids"]] = final[comp[start:start + n_ids]]
            start += n_ids
            if tree is not None and len(smry["margin_ids"]):
                dist, nearest = tree.query(smry["margin_centres"])
                lut[smry["margin_ids"]] = np.where(dist <= tol, final[nearest], 0)
            if len(smry["seed_ids"]):
                kept_seed = lut[smry["seed_ids"]] > 0
                seed_parts.append(smry["seeds"][kept_seed])
            lo_, hi_ = jobs[k][2], jobs[k][3]
            shape = (min(hi_[0] * factor, full_shape[0]) - lo_[0] * factor,
                     min(hi_[1] * factor, full_shape[1]) - lo_[1] * factor)
            task = output(*jobs[k], params, lut, factor, shape, full_shape)
            row.append(da.from_delayed(task, shape=(2, *shape), dtype=np.int32))
            k += 1
        out_rows.append(row)
    both = da.block(out_rows)
    labels, territories = both[0], both[1]

    if user_points:
        seed_points = seeds
    elif seed_parts:
        pts = np.concatenate(seed_parts)
        seed_points = (pts + 0.5) * factor - 0.5 if factor > 1 else pts
    else:
        seed_points = np.empty((0, 2))
    return WatershedResult(labels=labels, territories=territories, seeds=seed_points,
                           object_diameter=diameter, sigma=float(sigma), threshold=value,
                           min_size=int(min_size))
