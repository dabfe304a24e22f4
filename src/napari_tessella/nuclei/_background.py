"""The background level and noise of the "auto" threshold, from a histogram.

Both watershed paths measure them from the same 65,536-bin histogram of the smoothed
working image (the chunked one sums it over its chunks), so they find the same level and
noise from the same image.
"""

from __future__ import annotations

import numpy as np

from ..threshold import LI_BINS, _hist_edges, compute_threshold

_SPLIT = 1.8  # a cut fewer noise deviations than this above the background cuts the noise
_FLANKS = 5.0  # the pixels below Otsu are flanks: their median this x the noise above the mode
_DENSEST = 0.01  # the background's peak is looked for from the densest 1 % of the pixels
_HWHM = float(np.sqrt(2 * np.log(2)))  # half width at half maximum of a unit Gaussian


def _robust_level(values: np.ndarray) -> tuple[float, float]:
    """Median and robust standard deviation (1.4826 x the median absolute deviation)."""
    level = float(np.median(values))
    return level, 1.4826 * float(np.median(np.abs(values - level)))


def _hist_median(counts, centres, width) -> float:
    """Median of the values behind a histogram, interpolated inside the median bin."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    cum = np.cumsum(counts)
    k = (total - 1) / 2.0  # rank of the median, 0-based
    i = int(np.searchsorted(cum, k, side="right"))
    before = cum[i - 1] if i else 0.0
    return float(centres[i] - width / 2 + (k - before + 0.5) / counts[i] * width)


def _hist_robust(counts, centres, width) -> tuple[float, float]:
    """:func:`_robust_level` of the values behind a histogram."""
    level = _hist_median(counts, centres, width)
    dev = np.abs(centres.astype(np.float64) - level)
    order = np.argsort(dev, kind="stable")
    return level, 1.4826 * _hist_median(counts[order], dev[order], 0.0)


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
    lo = np.arange(values.size) + pad - size // 2
    return cum[lo + size] - cum[lo]


def _densest(counts, share) -> int:
    """Length, in bins, of the shortest run of bins that holds ``share`` of the counts:
    the scale of the histogram's sharpest peak (where :func:`_hist_mode` starts)."""
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    ends = np.searchsorted(cum, cum[:-1] + share * cum[-1], side="left")
    ok = ends < cum.size
    return max(1, int(np.min(ends[ok] - np.arange(counts.size)[ok]))) if ok.any() else 1


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


def _level_and_noise(counts, centres, width, otsu, spread=None) -> tuple[float, float]:
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
    n = int(np.flatnonzero(lower)[-1]) + 1 if lower.any() else 1  # zeros above (a 10x cost)
    mode, peak = _hist_mode(lower[:n], centres[:n], width,
                            _densest(lower[:n], _DENSEST) * width)
    if spread is not None:  # a peak narrower than the known noise is the opening's floor
        peak = max(peak, spread)
    if level - mode > _FLANKS * peak:
        noise = float(np.sqrt(peak) * np.sqrt(noise))  # (their product may overflow)
        split = otsu - mode < _SPLIT * (peak if spread is None else spread)
    else:
        split = otsu - level < _SPLIT * (noise if spread is None else spread)
    if split:
        level, noise = _hist_robust(counts, centres, width)
    return level, noise


def _fine_histogram(smooth: np.ndarray):
    """The 65,536-bin histogram of ``smooth`` over its range (the chunked path's), its
    bin centres and width."""
    lo, hi = float(smooth.min()), float(smooth.max())
    edges = _hist_edges(lo, hi, LI_BINS, smooth.dtype)
    counts = np.histogram(smooth, bins=edges)[0]
    return counts, edges[:-1] / 2 + edges[1:] / 2, float(edges[1] - edges[0])


def _background_and_noise(smooth: np.ndarray, spread=None) -> tuple[float, float, float]:
    """Background level and noise of the smoothed image (:func:`_level_and_noise`), and
    the noise deviation the foreground's cut is judged by (``spread`` if given).

    On an image of background alone (an empty field), Otsu's threshold cuts the noise
    within a deviation of the background's level; on images of nuclei it lies many
    deviations above it.
    """
    otsu = compute_threshold(smooth, "otsu")
    level, noise = _level_and_noise(*_fine_histogram(smooth), otsu, spread)
    return level, noise, noise if spread is None else spread
