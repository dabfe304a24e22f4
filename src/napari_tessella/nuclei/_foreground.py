"""The foreground of the nuclei recipe's "auto" threshold: the local background taken off
(:func:`_flatten`), then Otsu on the log of the background-corrected image, held above the
noise, and the lower level at which dim nuclei are looked for."""

from __future__ import annotations

import numpy as np

from .._label_image import _square_filter
from ..threshold import _hist_edges
from ._background import (
    _SPLIT,
    _background_and_noise,
    _cell_top,
    _dense_share,
    _image_otsu,
)

# Fractions of the object diameter d, or of the background's noise:
_BG_R = 1.0  # local background: grey opening by a square of half-side this times d
# the log-Otsu cut is held above the noise: when it lies within _SPLIT (nuclei._background)
_SIGNIFICANT = 4.0  # ... noise deviations of the background, it is this many above it
_DIM_LOW = 0.3  # dim nuclei: parts above this fraction of the log-Otsu cut's contrast (and
# the log offset, ~3 noise deviations) are looked at again (see _cues._dim_nuclei)
_DIM_NOISE = 3.0  # ... on dense blurred fields: this many of the tiles' noise (round 32)


def _background_size(d: float) -> int:
    """Side of the square of the local background's opening (:func:`_flatten`)."""
    return 2 * max(1, round(_BG_R * d)) + 1


def _flatten(smooth: np.ndarray, d: float) -> np.ndarray:
    """``smooth`` minus its local background: its grey opening by a square of half-side
    ``_BG_R d`` (a rolling box too large to fit in a nucleus).

    What the box fits in is background: a ramp or uneven illumination, and the glow of
    out-of-focus or saturated cells farther than about ``d`` from their centre, so a dim
    nucleus on such a glow stands out by its own contrast. Separable min/max filters:
    a few ms on a working image. Local (a margin of ``2 _BG_R d``), so chunks with their
    margin give the same values.
    """
    size = _background_size(d)
    bg = _square_filter(_square_filter(smooth, size, False), size, True)  # (exact, faster)
    return smooth - bg


def _auto_params(smooth: np.ndarray, spread=None, *, significant=True, floor=True,
                 binned=False) -> tuple:
    """Background level, log offset and log-Otsu cut of the "auto" threshold (see below);
    ``significant=False``: the cut as Otsu puts it, even within the noise (``spread`` and
    ``floor``: see ``_background._level_and_noise``); ``binned``: Otsu on the log of the
    fine histogram's bins (:func:`_log_otsu`), as the chunked path finds it."""
    return _auto_params_logged(smooth, spread, significant=significant, floor=floor,
                               binned=binned)[:3]


def _auto_params_logged(smooth, spread=None, *, significant=True, floor=True,
                        binned=False, known_flanks=False) -> tuple:
    """:func:`_auto_params` and the logged image Otsu was taken on (None when
    ``binned``): :func:`_auto_mask`'s image, the same expression of the same pixels; and
    the field's share above the cut when it is flanked (:func:`._background._dense_share`;
    the dense gate, :func:`._background._shoulder_gate`, reads it). ``known_flanks``: the
    pixels below Otsu are known to be flanks (a dense field sharpened, :mod:`._deblur`)."""
    level, noise, unit, hist, flanked = _background_and_noise(smooth, spread, floor,
                                                              known_flanks)
    hi = float(smooth.max())
    eps = _log_offset(noise, hi, level)
    logged = None
    if binned:
        cut = _log_otsu(hist[0], hist[1], float(smooth.min()), hi, level, eps, smooth.dtype)
    else:
        logged = _logged(smooth, level, eps)
        cut = _image_otsu(logged)  # compute_threshold(logged, "otsu"), bit for bit
    if significant:
        cut = _significant_cut(cut, unit, eps, lambda v: _cell_top(*hist, level + v) - level,
                               None if floor else max(unit, noise))
    return level, eps, cut, logged, _dense_share(hist[0], hist[1], flanked, level, eps, cut)


def _logged(smooth: np.ndarray, level: float, eps: float) -> np.ndarray:
    """The log of the background-corrected image, flattened below ``eps`` over ``level``."""
    return np.log(np.maximum(smooth - level, 0) + eps)


def _log_otsu(counts, centres, lo: float, hi: float, level: float, eps: float,
              dtype) -> float:
    """Otsu's cut of the log of the background-corrected image, ``log(max(v - level, 0) +
    eps)``, from the fine histogram of the smoothed image (``counts`` at bin ``centres``,
    values from ``lo`` to ``hi``): each bin's count at the log of its centre (the log in
    the image's ``dtype``), in 256 bins. The watershed paths both take it so: the chunked
    path has only the histogram, and Otsu on the image's own logged pixels fell 0.6 %
    apart from it on a blurred dense field (9 of 111 nuclei outlined otherwise)."""
    from skimage.filters import threshold_otsu

    def log(x):
        return np.log(np.maximum(np.asarray(x, dtype=dtype) - level, 0) + eps)

    edges = _hist_edges(*log([lo, hi]), 256, dtype)
    binned = _ordered_histogram(log(centres), edges, np.asarray(counts))
    return float(threshold_otsu(hist=(binned, edges[:-1] / 2 + edges[1:] / 2)))


def _ordered_histogram(values, edges, weights) -> np.ndarray:
    """``np.histogram(values, bins=edges, weights=weights)[0]`` for whole-number weights
    and values already in order (the logs of the fine histogram's bin centres), exactly,
    without numpy's sort of the values (round 48): numpy sorts them, sums the weights in
    that order and reads the sums where each edge falls in the sorted values; whole
    numbers sum exactly in any order, so the sums in the values' own order, read at the
    same places, are its counts. Values out of order (the log is not promised monotone
    to the last bit), other weights or edges numpy refuses: numpy's histogram."""
    if (weights.dtype.kind not in "iu" or values.ndim != 1 or values.shape != weights.shape
            or np.any(edges[:-1] > edges[1:]) or not np.all(values[1:] >= values[:-1])):
        return np.histogram(values, bins=edges, weights=weights)[0]
    at = np.concatenate((values.searchsorted(edges[:-1], "left"),
                         values.searchsorted(edges[-1:], "right")))
    summed = np.concatenate((np.zeros(1, weights.dtype), np.cumsum(weights)))
    return np.diff(summed[at])


def _significant_cut(cut: float, noise: float, eps: float, top=None, by=None) -> float:
    """The log-Otsu ``cut``, unless it lies within ``_SPLIT`` noise deviations of the
    background: then ``_SIGNIFICANT`` deviations above it, of ``by`` if given (the
    watershed paths: the larger of the tiles' noise and the histogram's, which holds the
    unevenness of the local background's opening too: Gaussian noise of deviation 1 reads
    1.00 and 1.04, and at 4.00 a speck passed), moved by ``top`` (a function
    of the contrast: to the top of a discrete level's cell, ``_background._cell_top``: a
    level 3.3 deviations above a nearly constant 16-bit field, 1001 among 1000s, passed
    a cut inside its cell; 101 specks on an empty 512² field).

    Otsu on the log needs nuclei on more than ~0.2 % of the pixels: with fewer (a few
    small nuclei in a large image) it cuts the background's noise, 0.6-1.3 deviations
    above its level, and every speck of noise became a nucleus. On images of nuclei the
    cut lies 2.3 deviations above it or more (measured on the synthetic fields down to
    ~5 photons per pixel above the background, and on U2OS: 9 or more).
    """
    if np.exp(cut) - eps < _SPLIT * noise:
        raised = _SIGNIFICANT * (noise if by is None else by)
        return float(np.log((raised if top is None else top(raised)) + eps))
    return cut


def _log_offset(noise: float, peak: float, level: float) -> float:
    # the floor only keeps log() finite: a float32 floor (1e-38) swamped images of 1e-300
    return max(3 * noise, 1e-3 * (peak - level), float(np.finfo(np.float64).tiny))


def _dim_level(level: float, eps: float, cut: float, noise=None) -> float:
    """The level at which :func:`._cues._dim_nuclei` looks for nuclei the log-Otsu ``cut``
    missed: ``_DIM_LOW`` of its contrast, at least ``eps`` (~3 noise deviations) over it.

    ``noise``: on a dense blurred field (the shoulder gate, :func:`._background._shoulder_gate`)
    the camera's noise (the tiles', :func:`._background._tile_noise`), and 3 of it take the
    place of ``eps``: there ``eps`` is 3 x the flanks' spread, not the noise's, and reached
    or passed the cut's own contrast on the fields that lost dim nuclei (round 32: a level
    above the foreground's cut left the outlines' floor and the dim search above the dim
    nuclei of 7 of 40 challenge-like fields)."""
    floor = eps if noise is None else _DIM_NOISE * noise
    return float(level + max(_DIM_LOW * (np.exp(cut) - eps), floor))


def _auto_mask(smooth: np.ndarray, level: float, eps: float, cut: float) -> np.ndarray:
    return _logged(smooth, level, eps) > cut


def _auto_threshold(smooth: np.ndarray, spread=None, *, significant=True) -> tuple:
    """Foreground of the "auto" threshold: Otsu on the log of the background-corrected image.

    The log makes the threshold depend on brightness *ratios*, so a nucleus ten times
    dimmer than its neighbour is separated from the background as well as the bright one
    (a global Otsu on raw intensities sits between the bright nuclei and everything else).
    Below a few noise standard deviations the log is flattened (``+ 3 noise``), so that
    the noise of the background is not stretched into structure. Returns the mask, the
    threshold back in image units, and the background level.
    """
    # the mask from the logged image Otsu was taken on: ``_auto_mask(smooth, level, eps,
    # cut)`` without computing that image again (round 22: exact, the same array)
    level, eps, cut, logged = _auto_params_logged(smooth, spread, significant=significant)[:4]
    return logged > cut, float(level + np.exp(cut) - eps), level
