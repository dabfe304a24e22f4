"""Pixel noise of atom-column fits: the variance as a function of the signal, measured on
the residuals, and whether residuals are noise or misfit. Used by
:mod:`napari_tessella._atoms_fit` (weighted fits) and ``_atoms_detect`` (the split's
misfit check).
"""

from __future__ import annotations

import numpy as np

from ._quantiles import _sorted_quantile


def _patches(img: np.ndarray, centres: np.ndarray, half: int):
    """Stack (2h+1)² patches around rounded centres; out-of-image pixels are masked."""
    offs = np.arange(-half, half + 1)
    base = np.rint(centres).astype(np.int64)
    rows = base[:, 0, None, None] + offs[None, :, None]
    cols = base[:, 1, None, None] + offs[None, None, :]
    inside = ((rows >= 0) & (rows < img.shape[0])) & ((cols >= 0) & (cols < img.shape[1]))
    values = img[np.clip(rows, 0, img.shape[0] - 1), np.clip(cols, 0, img.shape[1] - 1)]
    shape = inside.shape
    # row and column coordinates as read-only broadcast views: no copies
    return (values.astype(np.float64, copy=False), np.broadcast_to(rows.astype(np.float64), shape),
            np.broadcast_to(cols.astype(np.float64), shape), inside)


#: neighbouring pixels' residuals correlated beyond this: misfit, not noise
MISFIT_CORRELATION = 0.5


def _neighbour_correlation(res, mask, per_window=False):
    """Correlation of horizontally neighbouring residuals within ``mask``.

    Noise is uncorrelated from pixel to pixel, misfit (a model that does not describe
    the data) is not. ``res`` and ``mask`` are stacks of (K, h, w) patches; pooled over
    all of them, or one value per patch with ``per_window`` (0 where the mask is empty).
    """
    both = mask[:, :, 1:] & mask[:, :, :-1]
    a = np.where(both, res[:, :, 1:], 0.0)
    b = np.where(both, res[:, :, :-1], 0.0)
    axes = (1, 2) if per_window else None
    norm = np.sqrt(np.sum(a * a, axis=axes) * np.sum(b * b, axis=axes))
    return np.sum(a * b, axis=axes) / np.maximum(norm, 1e-300)


def _sorted_quantiles(values, q):
    """Quantiles ``q`` of sorted ``values``, interpolated linearly between the two nearest
    (``np.quantile``'s default, to the bit, without its copy and partition of the data:
    ``_quantiles._sorted_quantile``, shared with the per-group quantiles)."""
    return _sorted_quantile(values.__getitem__, 0, values.size - 1, np.asarray(q), "linear")


def _noise_model(img, model, params, radius, use=None):
    """Pixel noise variance as a function of the signal, from the fit residuals.

    Returns a function of the model level giving the variance, a + b·level (shot noise
    plus detector noise), floored at the variance measured at the darkest level; or
    None when the variance does not grow with the signal (one level of noise) or the
    residuals are misfit rather than noise (neighbouring pixels' residuals correlated).
    """
    half = int(np.ceil(radius))
    # converged fits whose window lies wholly inside the image (at the border, a column
    # cut in half leaves misfit, not noise, in its residuals)
    whole = np.all((params[:, :2] >= half) & (params[:, :2] <= np.array(img.shape) - 1 - half),
                   axis=1)
    use = whole if use is None else whole & use
    if use.sum() < 10:
        return None
    params = params[use]
    # 400 windows (~30 000 pixels) measure twenty variances well enough (a sample of
    # 20 000 of their pixels: a thousand a level, each variance to 4.5 %)
    if len(params) > 400:
        params = params[np.linspace(0, len(params) - 1, 400).astype(np.int64)]
    values, rows, cols, inside = _patches(img, params[:, :2], half)
    level, _, _, _ = _patches(model, params[:, :2], half)
    level = level + params[:, 4, None, None]
    d2 = (rows - params[:, 0, None, None]) ** 2 + (cols - params[:, 1, None, None]) ** 2
    disc = inside & (d2 <= radius**2)
    # a degenerate fit (a wide Gaussian on a deep background) holds misfit, not noise:
    # windows whose background lies further than half a typical peak from the typical
    # background are left out
    bg = params[:, 4]
    typical = np.abs(bg - np.median(bg)) <= 0.5 * np.median(np.abs(params[:, 2]))
    disc &= typical[:, None, None]
    # noise is uncorrelated from pixel to pixel, misfit is not (real columns that are no
    # Gaussians): where neighbouring residuals go together, the variance measures misfit
    res = values - level
    # (NbW-STEM: 0.92; Gaussian columns with shot noise: -0.15 to 0.08)
    if _neighbour_correlation(res, disc) > MISFIT_CORRELATION:
        return None
    mu, res = level[disc], res[disc]
    if mu.size < 200:
        return None
    if mu.size > 20_000:  # a fixed sample
        pick = np.random.default_rng(0).choice(mu.size, 20_000, replace=False)
        mu, res = mu[pick], res[pick]
    # twenty levels of equal counts (between the 5 % quantiles of the level): one sort of
    # the levels makes each a contiguous run, its median the run's middle (a third of
    # the work of binning, then a median per bin; the same groups and values)
    order = np.argsort(mu)
    mu, res = mu[order], res[order]
    cuts = np.searchsorted(mu, _sorted_quantiles(mu, np.linspace(0, 1, 21))[1:20])
    lo, size = np.r_[0, cuts], np.diff(np.r_[0, cuts, mu.size])
    middle = (mu[np.clip(lo + (size - 1) // 2, 0, mu.size - 1)]
              + mu[np.clip(lo + size // 2, 0, mu.size - 1)]) / 2
    centre = np.where(size > 0, middle, np.nan)
    # the mean square, not a median: shot noise at a few counts is skewed, and a median
    # of its deviations underestimates its variance (the largest 1 % left out: misfit)
    def mean_square(r):
        sq = np.sort(r**2)
        return float(np.mean(sq[: max(1, int(np.ceil(0.99 * sq.size)))]))

    var = np.array([mean_square(r) if r.size else np.nan for r in np.split(res, cuts)])
    ok = np.isfinite(var) & np.isfinite(centre)
    if ok.sum() < 5:
        return None
    b, a = np.polyfit(centre[ok], var[ok], 1)
    spread = np.ptp(centre[ok])
    # with shot noise b is the signal of one count: a pixel is never trusted more than
    # one count's variance allows (else a lone count far out in a tail would dominate)
    floor = max(float(np.min(var[ok])), b * b, 1e-12)
    # equal weights unless the variance at least doubles from the darkest to the
    # brightest level (below that, weights would change the fit little)
    low = max(a + b * float(np.min(centre[ok])), floor)
    if b <= 0 or b * spread < low:
        return None

    def variance(x):
        return np.maximum(a + b * x, floor)

    return variance
