"""The background level and noise of the "auto" threshold, from a histogram.

Both watershed paths measure them from the same 65,536-bin histogram of the smoothed
working image (the chunked one sums it over its chunks), so they find the same level and
noise from the same image.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ..threshold import LI_BINS, _hist_edges, _histogram, compute_threshold

_SPLIT = 1.8  # a cut fewer noise deviations than this above the background cuts the noise
# shoulders (nuclei._shoulders) are cut on fields whose pixels below Otsu are the flanks
# of nuclei and at least this share of whose pixels is foreground (round 22, tuning:
# dense fields 0.508-0.590; a glow field with flanks 0.391, every other <= 0.341)
_DENSE = 0.45
_FLANKS = 4.0  # the pixels below Otsu are flanks: their median this x the noise above the mode
# ... or, on a crowded field (at least this share of its pixels above Otsu: dense fields
# 0.34-0.42, U2OS at most 0.30), their deviation this x the noise and their median above
# the background's peak (round 32)
_CROWDED = 1 / 3
_DENSEST = 0.01  # the background's peak is looked for from the densest 1 % of the pixels
_LEVEL_BINS = 4  # a discrete level fills at most this many adjacent bins (rounding errors)
_HWHM = float(np.sqrt(2 * np.log(2)))  # half width at half maximum of a unit Gaussian


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value of ``values`` at half the total of ``weights`` (sorted by value)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _robust_level(values: np.ndarray) -> tuple[float, float]:
    """Median and robust standard deviation (1.4826 x the median absolute deviation).

    ``np.median`` of the values, then of their distances to it, bit for bit, from two
    partitions, as numpy takes them: the median is the mean of the middle one or two
    values in order (the partition also puts the largest last, where a NaN would be), the
    deviation that of the middle one or two distances. (Round 48 read both from one sort
    and two sorted runs of distances; a partition puts the same values at those ranks,
    in about 0.4 of the sort's time on the estimate's ~55k differences: round 50.)
    Another type, no value or a NaN: ``np.median`` as it is."""
    flat = np.asarray(values).ravel()
    if flat.dtype != np.float64 or flat.size == 0:
        return _numpy_robust(values)
    half = flat.size // 2
    middle = slice(half, half + 1) if flat.size % 2 else slice(half - 1, half + 1)
    ranks = list(range(middle.start, middle.stop))
    ordered = np.partition(flat, [*ranks, flat.size - 1])
    if np.isnan(ordered[-1]):
        return _numpy_robust(values)
    level = float(np.mean(ordered[middle]))
    dist = np.abs(flat - level)
    mad = np.mean(np.partition(dist, ranks)[middle])
    return level, 1.4826 * float(mad)


def _numpy_robust(values) -> tuple[float, float]:
    """:func:`_robust_level` by ``np.median`` as it is."""
    level = float(np.median(values))
    return level, 1.4826 * float(np.median(np.abs(values - level)))


def _cells(counts, centres, width):
    """The occupied bins of a histogram as cells: their edges (one more than the cells)
    and counts. Each cell reaches half-way to the next occupied bin on either side (the
    first and the last as far out as inwards, at least half a bin).

    An image of a few discrete levels (low photon counts, 8-bit data smoothed little) fills
    a few bins far apart: each level stands for the values rounded to it, so its count is
    spread over the interval half-way to its neighbours. Read as narrow bins, the median
    and deviation of Poisson noise of mean 0.3-3 were those of a bin, ~0 (the noise read 0
    and every speck passed the cut); on continuous data the occupied bins touch and every
    cell is its bin.
    """
    counts = np.asarray(counts, dtype=np.float64)
    at = np.flatnonzero(counts > 0)
    c = np.asarray(centres, dtype=np.float64)[at]
    mid = c[:-1] / 2 + c[1:] / 2
    first = max(width / 2, mid[0] - c[0]) if c.size > 1 else width / 2
    last = max(width / 2, c[-1] - mid[-1]) if c.size > 1 else width / 2
    return np.concatenate([[c[0] - first], mid, [c[-1] + last]]), counts[at]


def _hist_median(counts, centres, width) -> float:
    """Median of the values behind a histogram, interpolated inside its cell (see
    :func:`_cells`)."""
    edges, n = _cells(counts, centres, width)
    return _cells_median(edges, np.concatenate([[0.0], np.cumsum(n)]))


def _cells_median(edges, cum) -> float:
    """:func:`_hist_median` from the cells' ``edges`` and the counts' cumulative sums
    from 0 (``cum``)."""
    return float(np.interp(cum[-1] / 2, cum, edges))


def _hist_robust(counts, centres, width) -> tuple[float, float]:
    """:func:`_robust_level` of the values behind a histogram, each occupied bin's count
    spread evenly over its cell (:func:`_cells`). Where the median's cell is its bin
    (continuous values), the deviation is read from the bins' centres as before."""
    edges, n = _cells(counts, centres, width)  # (once: the median's cells are these)
    cum = np.concatenate([[0.0], np.cumsum(n)])
    level = _cells_median(edges, cum)
    i = min(int(np.searchsorted(cum, cum[-1] / 2, side="left")), n.size) - 1
    if edges[i + 1] - edges[i] <= 2 * width:
        # the occupied bins only, in the stable order of their distances: an empty bin
        # adds 0 to every running count, so the median's bin and the counts before it
        # are those of all the bins so sorted (whole numbers: sums exact in any order);
        # a U2OS histogram below Otsu fills 3-7k of its bins
        at = np.flatnonzero(np.asarray(counts) > 0)
        dev = np.abs(centres[at].astype(np.float64) - level)
        order = np.argsort(dev, kind="stable")
        counts = np.asarray(counts, dtype=np.float64)[at]
        return level, 1.4826 * _bin_median(counts[order], dev[order], 0.0)
    # a discrete level: the share within t of the level, F(level + t) - F(level - t), is
    # linear in t between the distances of the cells' edges from the level
    t = np.unique(np.abs(np.concatenate([[level], edges]) - level))  # from 0
    inside = np.interp(level + t, edges, cum) - np.interp(level - t, edges, cum)
    return level, 1.4826 * float(np.interp(cum[-1] / 2, inside, t))


def _bin_median(counts, centres, width) -> float:
    """Median of the values behind a histogram, interpolated inside the median bin."""
    total = counts.sum()
    cum = np.cumsum(counts)
    k = (total - 1) / 2.0  # rank of the median, 0-based
    i = int(np.searchsorted(cum, k, side="right"))
    before = cum[i - 1] if i else 0.0
    return float(centres[i] - width / 2 + (k - before + 0.5) / counts[i] * width)


def _cell_top(counts, centres, width, value: float) -> float:
    """``value``, or the top of the cell holding it when that cell is a discrete level's
    (wider than two bins, see :func:`_cells`): the level stands for every value rounded to
    it, and passes a cut only when all of them do. A level may fill a few adjacent bins
    (values within a rounding error of it, 2 - 2e-9 and 2 + 1e-9): their cells are one."""
    counts = np.asarray(counts)
    at = np.flatnonzero(counts > 0)
    edges = _cells(counts, centres, width)[0]
    i = int(np.searchsorted(edges, value, side="right")) - 1
    if not (0 <= i < edges.size - 1 and edges[i + 1] - edges[i] > 2 * width):
        return float(value)
    j = i
    while j + 1 < at.size and at[j + 1] == at[j] + 1 and j - i < _LEVEL_BINS:
        j += 1
    return float(edges[j + 1])


def _box(values: np.ndarray, size: int) -> np.ndarray:
    """Running sum of ``size`` bins, centred; mirrored at the low end (the image's
    minimum: the local background's opening leaves no pixel below it, so a background
    peak there is a half peak), zeros beyond the high end. A cumulative sum: its cost does
    not grow with ``size``."""
    if size <= 1:
        return values
    pad = min(size, values.size)
    ext = np.concatenate([values[:pad][::-1], values, np.zeros(pad)])
    cum = np.concatenate([[0.0], np.cumsum(ext)])
    lo = pad - size // 2  # the first window's start: the rest follow one bin apart
    if lo >= 0 and lo + size + values.size <= cum.size:  # (as slices: no index arrays)
        return cum[lo + size:lo + size + values.size] - cum[lo:lo + values.size]
    lo = np.arange(values.size) + lo  # a box wider than the values (never in the recipe)
    return cum[lo + size] - cum[lo]


def _densest(counts, share) -> int:
    """Length, in bins, of the shortest run of bins that holds ``share`` of the counts:
    the scale of the histogram's sharpest peak (where :func:`_hist_mode` starts)."""
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    # runs starting at occupied bins only: a run from an empty bin ends where the one
    # from the next occupied bin does (the same counts before it), and is longer
    starts = np.flatnonzero(np.asarray(counts) > 0)
    ends = np.searchsorted(cum, cum[starts] + share * cum[-1], side="left")
    ok = ends < cum.size
    return max(1, int(np.min(ends[ok] - starts[ok]))) if ok.any() else 1


def _hist_mode(counts, centres, width, spread) -> tuple[float, float]:
    """The background's peak in a histogram: its mode and its spread (a standard
    deviation), from the half width at half maximum on its bright side.

    The histogram is smoothed (two running sums of ``spread`` wide: a triangle) before
    its maximum is taken, and that width is narrowed to the spread found, until it holds:
    ``spread``, the deviation of the pixels below Otsu, is far wider than the background's
    peak when those pixels are mostly the blurred flanks of nuclei (a dense field). Only
    the bright side is measured: the local background's opening leaves no pixel below its
    level, so the dark side of the peak is cut off. Its width is at least one bin.
    """
    counts = np.asarray(counts, dtype=np.float64)
    # in bins (values near the largest float would overflow when squared)
    spread = float(min(spread / width, counts.size)) if spread < np.inf else counts.size
    for _ in range(24):
        size = max(1, round(spread / 2))
        smooth = _box(_box(counts, size), size)
        top = int(np.argmax(smooth))
        below = np.flatnonzero(smooth[top:] < smooth[top] / 2)
        if below.size:
            j = top + int(below[0])  # first bin under half the peak: interpolate the crossing
            frac = (smooth[j - 1] - smooth[top] / 2) / (smooth[j - 1] - smooth[j])
            half = j - 1 - top + frac
        else:
            half = smooth.size - 1 - top
        # the triangle's own variance (two boxes of ``size`` bins) is taken off
        seen = (half / _HWHM) ** 2 - 2 * (size * size - 1) / 12
        found = max(float(np.sqrt(max(seen, 0.0))), 1.0)
        done = abs(found - spread) <= 0.1 * spread or size == 1
        spread = found
        if done:
            break
    return float(centres[top]), spread * width


def _level_and_noise(counts, centres, width, otsu, spread=None,
                     floor=True, with_flanked=False, known_flanks=False) -> tuple:
    """Background level and noise from the fine histogram of the smoothed image.

    The level and noise are the median and robust deviation of the pixels below Otsu:
    the background's when the nuclei are few. In a dense, blurred field most of those
    pixels are the blurred flanks of nuclei; they spread evenly from the background up
    to Otsu, so their median lies far above their mode (the background's peak, see
    :func:`_hist_mode`) and their deviation is the flanks' range, not the noise. When the
    median lies more than ``_FLANKS`` deviations above the mode, the noise is taken as the
    geometric mean of that deviation and the peak's width (the peak's width alone, often
    a bin of the opening's floor, put the foreground cut in the flanks' foot and merged
    the nuclei; the deviation alone put it above the dim nuclei), and Otsu is judged
    against the mode and the peak's width: the flanks' deviation made Otsu's cut look
    like a split of the noise. When Otsu lies within ``_SPLIT`` noise deviations (or
    ``spread``, if given) of the background it split the noise of an empty field: the
    whole histogram's median and deviation are taken.

    ``spread``, the noise measured apart from the histogram (the diameter estimate's, from
    pixel differences), is also the least width of the peak: narrower, the peak is the
    floor of the local background's opening, not the noise. In the estimate's overview
    (smoothed by 1 pixel only) vignetting and a ramp make the opening touch the image over
    wide areas, and the values just above it form a spike: 0.56 counts wide against a noise
    of 12.9 on a u2os-like field, whose noise then fell from 121 to 8.2, the log's offset
    with it, and the glows of its two saturated cells became "nuclei" 320 px wide.
    ``floor=False``: ``spread`` (the watershed paths' noise of the tiles,
    :func:`_tile_noise`) judges Otsu but bounds no peak: it holds the nuclei's noise too
    (brighter, more photons: 2.3 against the background peak's 1.25 on a challenge-like
    dense field), and as a floor it hid the flanks (held-out dense fields: 13.5 -> 16.5
    errors per image, nuclei missing under a log offset three times higher).
    ``with_flanked``: also return whether the pixels below Otsu were taken as flanks.
    ``known_flanks``: they are (round 39: a dense field sharpened, :mod:`._deblur`, whose image
    as given was read as flanked; its sharpened histogram, clipped at 0 and its flanks
    steepened, can look like a field of isolated nuclei, and its pixels below Otsu were
    then read as noise: a log offset above the cut's contrast, the dim nuclei under the
    outlines' floor and the dense recipe off, a quarter of the nuclei lost).
    """
    counts = np.asarray(counts, dtype=np.float64)
    keep = centres <= otsu
    if not counts[keep].any():
        keep = np.ones(counts.shape, dtype=bool)
    level, noise = _hist_robust(counts[keep], centres[keep], width)
    # the first bin holds the image's minimum: in the flattened image, every pixel where
    # the local background's opening touches it (a spike at 0, no noise in it)
    lower = np.where(keep, counts, 0.0)
    lower[0] = 0.0
    occupied = lower != 0  # zeros above the last occupied bin are left out (a 10x cost)
    n = lower.size - int(np.argmax(occupied[::-1])) if occupied.any() else 1
    mode, peak = _hist_mode(lower[:n], centres[:n], width,
                            _densest(lower[:n], _DENSEST) * width)
    if spread is not None and floor:  # narrower than the known noise: the opening's floor
        peak = max(peak, spread)
    # (round 32: or, on a crowded field, a deviation of flanks rising from the peak, their
    # median above it: a packed crop's "mode" at its nuclei's plateau lay above the median)
    flanked = known_flanks or bool(level - mode > _FLANKS * peak or (
        not floor and level - mode > peak and noise > _FLANKS * peak
        and _crowded(counts, keep)))
    if flanked:
        noise = float(np.sqrt(peak) * np.sqrt(noise))  # (their product may overflow)
        split = otsu - mode < _SPLIT * (peak if spread is None else spread)
    else:
        split = otsu - level < _SPLIT * (noise if spread is None else spread)
    if split:
        level, noise = _hist_robust(counts, centres, width)
    return (level, noise, flanked) if with_flanked else (level, noise)


def _crowded(counts, below) -> bool:
    """Whether at least ``_CROWDED`` of the pixels counted lie above Otsu (``below``:
    the bins at or below it)."""
    return bool(counts[~below].sum() >= _CROWDED * counts.sum())


def _dense_share(counts, centres, flanked: bool, level: float, eps: float,
                 cut: float) -> float:
    """The share of a field whose pixels below Otsu are the flanks of nuclei
    (``flanked``) that lies above the foreground's cut, counted in the fine histogram
    (the chunked path's too); 0 when not flanked (not counted then)."""
    if not flanked:
        return 0.0
    counts = np.asarray(counts, dtype=np.float64)
    above = counts[np.asarray(centres) > level + np.exp(cut) - eps].sum()
    return float(above / counts.sum())


def _shoulder_gate(share: float) -> bool:
    """Whether to cut shoulders (:mod:`._shoulders`): a flanked field at least ``_DENSE``
    of which lies above the foreground's cut (``share``, :func:`_dense_share`)."""
    return bool(share >= _DENSE)


def _fine_histogram(smooth: np.ndarray):
    """The 65,536-bin histogram of ``smooth`` over its range (the chunked path's), its
    bin centres and width; and Otsu's threshold of ``smooth`` (:func:`_otsu`)."""
    lo, hi = float(smooth.min()), float(smooth.max())
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi) or min(smooth.shape) < 2:
        compute_threshold(smooth, "otsu")  # its own error first, as before
    if smooth.dtype == np.float64 and np.isfinite(hi - lo):
        # numpy's equal bins over (lo, hi): the edges of _hist_edges, the same linspace of
        # the same two float64 ends, made once and not compared (as _histogram does)
        counts, edges = _equal_bins(smooth, LI_BINS, lo, hi)
    else:
        edges = _hist_edges(lo, hi, LI_BINS, smooth.dtype)
        counts = _histogram(smooth, edges)
    hist = counts, edges[:-1] / 2 + edges[1:] / 2, float(edges[1] - edges[0])
    return hist, _otsu(smooth, counts, edges, lo, hi)


def _otsu(smooth: np.ndarray, fine: np.ndarray, edges: np.ndarray, lo: float,
          hi: float) -> float:
    """``compute_threshold(smooth, "otsu")`` from ``fine``, the counts of ``smooth`` in
    the 65,536 bins of ``edges`` (over its range, ``lo`` to ``hi``), bit for bit.

    skimage's Otsu histograms a float64 image in 256 equal bins over its range, numpy's;
    when their edges are every 256th of ``edges`` (checked), each of its counts is the sum
    of 256 fine ones: both histograms put each value between the two edges around it
    (numpy checks the bin it computes against them, the last bin holding the maximum).
    Otsu then reads the same counts and bin centres, without the validation's and the
    histogram's passes over the image. Images the threshold would rescale or refuse
    (constant, too small), and float32 ones (its histogram is in float64), take it as it
    is."""
    if (smooth.dtype != np.float64 or smooth.ndim != 2 or min(smooth.shape) < 2
            or not lo < hi or max(abs(lo), abs(hi)) > 1e100 or hi - lo < 1e-100
            or fine.size != LI_BINS):
        return compute_threshold(smooth, "otsu")
    coarse = np.histogram_bin_edges(np.array([lo, hi]), bins=256)
    if not np.array_equal(coarse, edges[::LI_BINS // 256]):
        return compute_threshold(smooth, "otsu")
    from skimage.filters import threshold_otsu

    counts = np.asarray(fine).reshape(256, -1).sum(axis=1)
    with np.errstate(all="ignore"):
        return float(threshold_otsu(hist=(counts, (coarse[:-1] + coarse[1:]) / 2.0)))


def _image_otsu(img: np.ndarray) -> float:
    """``compute_threshold(img, "otsu")`` of a float64 plane, bit for bit: skimage's Otsu
    histograms the flattened image in 256 equal bins over its minimum and maximum
    (numpy's histogram) and reads the counts at the bins' centres; here the same
    histogram from the image as it is, without the validation's passes (finite, extremes
    twice), the flattened copy and the constant check (the image is not constant here).
    Images the threshold would rescale or refuse, and float32 ones, take it as it is."""
    if img.dtype != np.float64 or img.ndim != 2 or min(img.shape) < 2:
        return float(compute_threshold(img, "otsu"))
    lo, hi = float(img.min()), float(img.max())
    if (not (np.isfinite(lo) and np.isfinite(hi) and lo < hi)
            or max(abs(lo), abs(hi)) > 1e100 or hi - lo < 1e-100):
        return float(compute_threshold(img, "otsu"))
    from skimage.filters import threshold_otsu

    counts, edges = _equal_bins(img, 256, lo, hi)
    with np.errstate(all="ignore"):
        return float(threshold_otsu(hist=(counts, (edges[:-1] + edges[1:]) / 2.0)))


def _equal_bins(values: np.ndarray, bins: int, lo: float, hi: float):
    """``np.histogram(values, bins=bins, range=(lo, hi))`` of a float64 array whose least
    and largest values are ``lo`` and ``hi``, bit for bit, in about half its time for the
    65,536 bins of :func:`_fine_histogram` (round 48).

    numpy's steps for equal bins, less those that cannot change anything here: no value
    lies outside the range (its mask of them, and its copy), so none is dropped; a value's
    bin index ``floor((v - lo) / (hi - lo) * bins)`` is at most ``bins`` (``v - lo`` is at
    most ``hi - lo`` when rounded, their quotient at most 1), so its move of the index
    ``bins`` to the last bin is a ``minimum``; then, as numpy, each index is moved down
    where the value lies below its bin's left edge and up where it reaches the next edge
    (not past the last bin), and the counts are one bincount. Anything else (another type,
    no range, edges that do not increase: numpy's error) goes to numpy's histogram."""
    if not (values.dtype == np.float64 and lo < hi and np.isfinite(hi - lo)):
        return np.histogram(values, bins=bins, range=(lo, hi))
    edges = np.linspace(lo, hi, bins + 1, endpoint=True, dtype=np.float64)
    if np.any(edges[:-1] >= edges[1:]):
        return np.histogram(values, bins=bins, range=(lo, hi))
    v = values.ravel()
    at = v - lo
    at /= hi - lo
    at *= bins
    index = at.astype(np.intp)
    np.minimum(index, bins - 1, out=index)
    index[v < edges[index]] -= 1
    up = v >= edges[index + 1]
    up &= index != bins - 1
    index[up] += 1
    return np.bincount(index, minlength=bins), edges


def _background_and_noise(smooth: np.ndarray, spread=None, floor=True,
                          known_flanks=False) -> tuple:
    """Background level and noise of the smoothed image (:func:`_level_and_noise`), the
    noise deviation the foreground's cut is judged by (``spread`` if given; ``floor``:
    see :func:`_level_and_noise`), the fine histogram (counts, centres, width), and
    whether the pixels below Otsu were taken as the flanks of nuclei (``known_flanks``: they
    are, :func:`_level_and_noise`).

    On an image of background alone (an empty field), Otsu's threshold cuts the noise
    within a deviation of the background's level; on images of nuclei it lies many
    deviations above it.
    """
    hist, otsu = _fine_histogram(smooth)
    level, noise, flanked = _level_and_noise(*hist, otsu, spread, floor, with_flanked=True,
                                             known_flanks=known_flanks)
    return level, noise, noise if spread is None else spread, hist, flanked


# The noise measured apart from the histogram, from pixel differences (see _tile_noise)
_TILE = 4  # tiles of 4 x 4 pixels of the working image before its smoothing
_OCTAVE = 16  # the tiles' variances binned in 1/16 octave (log2), fixed bins:
_LOG_LOW = -1100 * _OCTAVE  # from below the least float64 ...
_LOG_BINS = 2200 * _OCTAVE  # ... to beyond the largest
_MODE_BOX = 8  # the histogram of log variances smoothed by two running sums of 8 bins
_LOW_PEAK = 0.25  # the noise's peak: the lowest of those at least this share of the highest
_NOISE_RANGE = 16.0  # ... and the tiles up to this times its variance (4x its deviation)


def _tile_counts(work: np.ndarray, offset=(0, 0), core=None) -> np.ndarray:
    """Histogram (``_LOG_BINS`` fixed bins of log2 variance) of the local noise variance of
    the unsmoothed working image: per tile of ``_TILE``² pixels, half the mean square of
    the differences of neighbouring pixels along rows and columns.

    ``work`` is a window of the working image from working pixel ``offset``; the tiles
    counted are those whose origin (a multiple of ``_TILE`` from the image's origin) lies in
    ``core`` ((row0, row1), (col0, col1); the whole window if None) and whose pixels (the
    tile and one more row and column) lie in the window: a chunk read with ``_TILE + 1``
    pixels around its core counts the tiles the whole image counts there. Each tile's sum
    is taken in the same order wherever it lies. Tiles of no variance go to bin 0.
    """
    t = _TILE
    r0, c0 = offset
    rows, cols = work.shape
    (a, b), (c, e) = core if core is not None else ((r0, r0 + rows), (c0, c0 + cols))
    ta, tc = -(-a // t) * t, -(-c // t) * t
    nr = min(-(-(b - ta) // t), (r0 + rows - t - 1 - ta) // t + 1)
    nc = min(-(-(e - tc) // t), (c0 + cols - t - 1 - tc) // t + 1)
    counts = np.zeros(_LOG_BINS, dtype=np.int64)
    if nr <= 0 or nc <= 0:
        return counts
    sub = np.asarray(work[ta - r0:ta - r0 + nr * t + 1, tc - c0:tc - c0 + nc * t + 1],
                     dtype=np.float64)
    along = sub[:nr * t, 1:] - sub[:nr * t, :-1]
    across = sub[1:, :nc * t] - sub[:-1, :nc * t]
    total = np.zeros((nr, nc))
    for i in range(t):
        for j in range(t):
            total += along[i::t, j::t] ** 2
            total += across[i::t, j::t] ** 2
    var = total.ravel() / (4 * t * t)
    idx = np.zeros(var.size, dtype=np.int64)  # bin 0: the tiles of no variance
    varies = var > 0
    idx[varies] = np.clip(np.floor(np.log2(var[varies]) * _OCTAVE).astype(np.int64)
                          - _LOG_LOW, 1, _LOG_BINS - 1)
    return np.bincount(idx, minlength=_LOG_BINS)


def _smoothing_gain(s: float) -> float:
    """Standard deviation of white noise of unit deviation after ``gaussian_filter`` of
    ``s`` (2-D; scipy's kernel, truncated at 4 s)."""
    if s <= 0:
        return 1.0
    r = int(4.0 * float(s) + 0.5)
    delta = np.zeros(2 * r + 1)
    delta[r] = 1.0
    w = ndi.gaussian_filter1d(delta, s, mode="constant")
    return float(np.sum(w * w))


def _tile_noise(counts: np.ndarray, s: float):
    """The noise of the smoothed working image from :func:`_tile_counts`: the mean variance
    of the tiles up to ``_NOISE_RANGE`` times the lowest peak of their log variances (a
    peak at least ``_LOW_PEAK`` of the highest), as a deviation, times the smoothing's
    gain on white noise. None when no tile varies.

    The histogram's own deviation of the pixels below Otsu is the background's noise only
    when those pixels are background: in a field tiled by nuclei they are the flanks of
    nuclei (a deviation 10-40 times the noise), and with a few discrete levels it reads 0.
    Differences of neighbouring pixels are the noise wherever the image is flat at the
    scale of a tile, inside nuclei as on the background; every structure in a tile adds to
    its variance, so the noise is the least variance common among the tiles. Not the
    highest peak: where sharp edges of one contrast cross most tiles (a field tiled by
    12-px discs) theirs is the highest. Not the lowest peak alone either: with a few
    photons per pixel most tiles hold one or two counts (variances of 1/64-4/64 for a mean
    of 0.1), so the mean variance of the tiles near it (those of no variance too) is taken:
    an edge adds 20-150 times the noise's variance to a tile.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not counts[1:].any():
        return None
    smooth = _box(_box(counts[1:], _MODE_BOX), _MODE_BOX)
    top = smooth >= _LOW_PEAK * smooth.max()
    rising = np.concatenate([[False], smooth[1:] > smooth[:-1]])
    falling = np.concatenate([smooth[:-1] >= smooth[1:], [True]])
    k = int(np.flatnonzero(top & rising & falling)[0]) + 1
    upto = min(k + int(np.log2(_NOISE_RANGE) * _OCTAVE) + 1, counts.size)
    at = np.flatnonzero(counts[1:upto]) + 1  # (the empty bins' variances are subnormal: slow)
    var = np.exp2((at + _LOG_LOW + 0.5) / _OCTAVE)
    mean = float(np.dot(var, counts[at]) / counts[:upto].sum())
    return float(np.sqrt(mean)) * _smoothing_gain(s)
