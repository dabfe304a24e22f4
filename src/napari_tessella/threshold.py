"""Thresholds: by method name or a number, in memory and from a global histogram.

A number is a threshold **in image units** (the values napari shows for the layer), for
every dtype: ``158`` on an 8-bit image, ``0.62`` on the same image scaled to [0, 1]. A
method name is computed from the image. For a lazy (dask/Zarr) image the methods are
computed from a global histogram of all chunks (see :func:`_global_threshold`).
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ._lazy import _compute
from ._validation import as_float_image, finite_number, size_in_image

__all__ = ["LI_BINS", "THRESHOLD_METHODS", "compute_threshold", "threshold_spec"]

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
        return finite_number(method, "threshold", unit="image units")
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
        If ``method`` is an unknown name or a NaN/infinite number, or (for a method name)
        the image is empty, not 2-D (or RGB), holds NaN/inf or is constant.
    TypeError
        If ``method`` or the image has the wrong type.

    Notes
    -----
    Methods are computed in float64 whatever the image dtype (an integer image is never
    histogrammed value by value: a uint32 image costs no 32 GiB histogram), and images
    whose values are extremely large or small (beyond 1e100 or a range under 1e-100, e.g.
    float32 1e30 or 1e-30) are first scaled to [0, 1], so the result does not depend on
    the units (scale invariance), then mapped back.
    """
    name = threshold_spec(method)
    if not isinstance(name, str):
        return name
    import skimage.filters

    arr = as_float_image(image).astype(np.float64, copy=False)  # checks first
    lo, hi = float(arr.min()), float(arr.max())
    scale = max(abs(lo), abs(hi)) > 1e100 or (hi - lo) < 1e-100
    if scale:  # squares of such values overflow or underflow: work on [0, 1]
        span = hi - lo
        arr = (arr - lo) / span if np.isfinite(span) else arr / max(abs(lo), abs(hi))
    try:
        with np.errstate(all="ignore"):
            value = float(getattr(skimage.filters, f"threshold_{name}")(arr))
    except (RuntimeError, ValueError, IndexError) as err:  # e.g. minimum: no two peaks
        raise ValueError(f"threshold method {name!r} failed on this image: {err}") from None
    if scale:
        span = hi - lo
        value = lo + value * span if np.isfinite(span) else value * max(abs(lo), abs(hi))
    if not np.isfinite(value):
        raise ValueError(f"threshold method {name!r} gave no finite threshold on this image.")
    return value


def smoothed_threshold(image, method="otsu", *, smooth_sigma: float = 0.0) -> float:
    """The threshold :func:`napari_tessella.threshold_label` uses: ``method`` computed on the
    image smoothed with a Gaussian of ``smooth_sigma`` pixels (RGB as luminance).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((8, 8)); image[2:5, 2:5] = 1.0
    >>> 0 < smoothed_threshold(image, "otsu", smooth_sigma=1.0) < 1
    True
    """
    from scipy import ndimage as ndi

    img = as_float_image(image)
    smooth_sigma = size_in_image(smooth_sigma, "smooth_sigma", img.shape)
    if smooth_sigma > 0:
        img = ndi.gaussian_filter(img, float(smooth_sigma))
    return compute_threshold(img, method)


# --------------------------------------------------------------------------------------
# thresholds of a lazy image, from a global histogram

#: Histogram bins for ``threshold="li"`` (Li iterates on the histogram, not the pixels).
LI_BINS = 65536


def _hist_edges(lo, hi, nbins, dtype):
    """The bin edges numpy.histogram(image, nbins) uses for an image with this min/max.

    A range wider than the largest float (-1.8e308 to 1e292) overflows numpy's span: the
    edges are then made from half the span, added twice. A range too narrow for ``nbins``
    distinct edges in ``dtype`` (float32 noise of deviation 1.5 around 510 has ~1e5 values
    in it: numpy refused to make 65,536 bins) gets float64 edges."""
    pair = np.array([lo, hi], dtype=dtype)
    with np.errstate(over="ignore"):
        span = pair[1] - pair[0]
    if np.isfinite(span):
        try:
            return np.histogram_bin_edges(pair, bins=nbins)
        except ValueError:  # too many bins for the range in this dtype
            return np.histogram_bin_edges(pair.astype(np.float64), bins=nbins)
    half = pair[1] / 2 - pair[0] / 2
    step = np.linspace(0, 1, nbins + 1)
    edges = (pair[0] + step * half) + step * half
    edges[-1] = pair[1]
    return edges.astype(pair.dtype)


def _histogram(values, edges) -> np.ndarray:
    """``np.histogram(values, bins=edges)[0]`` for edges of :func:`_hist_edges`, by numpy's
    path for equal bins (an index computed per value, then checked against the edges) when
    its own edges over that range are these, bit for bit: the same counts, without a sort
    and a binary search among 65,537 edges."""
    with np.errstate(over="ignore", invalid="ignore"):
        span = edges[-1] - edges[0]
    if np.isfinite(span):
        counts, own = np.histogram(values, bins=edges.size - 1, range=(edges[0], edges[-1]))
        if np.array_equal(own, edges):
            return counts
    return np.histogram(values, bins=edges)[0]


def _block_histogram(block, lo, hi, nbins, dtype):
    # the edges are made here from four numbers: 65,537 of them in every task made the
    # graph sent to a cluster 0.27 MB larger
    return _histogram(block, _hist_edges(lo, hi, nbins, dtype))[None, None, :]


def _global_histogram(smoothed, lo, hi, nbins, dtype, scheduler, extra=()):
    """Counts and bin centres of ``numpy.histogram(smoothed, _hist_edges(lo, hi, ...))``
    (values off ``[lo, hi]``, -inf, are not counted; ``extra``: values counted too)."""
    edges = _hist_edges(lo, hi, nbins, dtype)
    per_block = smoothed.map_blocks(
        _block_histogram, lo, hi, nbins, dtype, new_axis=2, chunks=(1, 1, nbins),
        dtype=np.int64
    )
    (counts,) = _compute(per_block.sum(axis=(0, 1)), scheduler=scheduler)
    if len(extra):
        counts = counts + _histogram(np.asarray(extra, dtype=np.float64), edges)
    centres = edges[:-1] / 2.0 + edges[1:] / 2.0  # no overflow near the float maximum
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


def _global_threshold(smoothed, method, lo, hi, scheduler, extra=()) -> float:
    """Threshold of the whole (lazy) image by method name, from a global histogram
    (``extra``: values of the histogram's beside the image's; the "mean" of the image's
    alone)."""
    import skimage.filters

    if method == "mean":
        (value,) = _compute(smoothed.mean(dtype=np.float64), scheduler=scheduler)
        return float(value)
    nbins = LI_BINS if method == "li" else 256
    # float64 edges whatever the dtype, as compute_threshold works in float64 in memory
    counts, centres = _global_histogram(smoothed, lo, hi, nbins, np.float64, scheduler,
                                        extra)
    if method == "li":
        return float(_li_from_hist(counts, centres))
    if method == "triangle":
        return _triangle_from_hist(counts, centres)
    func = getattr(skimage.filters, f"threshold_{method}")
    lo, hi = float(lo), float(hi)
    scale = max(abs(lo), abs(hi)) > 1e100 or (hi - lo) < 1e-100
    half = hi / 2 - lo / 2  # the span may exceed the largest float
    if scale:  # as in compute_threshold: on [0, 1], then mapped back
        centres = (centres / 2 - lo / 2) / half
    try:
        with np.errstate(all="ignore"):
            value = float(func(hist=(counts, centres)))
    except (RuntimeError, ValueError, IndexError) as err:
        raise ValueError(f"threshold method {method!r} failed on this image: {err}") from None
    return (lo + value * half) + value * half if scale else value
