"""Atom columns in HAADF-STEM images: detection and sub-pixel refinement.

``find_atoms`` finds every column as a local maximum of the lightly smoothed image that
stands out from its surroundings by more than the noise, then refines the positions either
by a masked centre of mass or by fitting a 2-D Gaussian to every column *at once*: all
patches are stacked into one array and a damped Gauss-Newton (Levenberg-Marquardt) step is
solved for all columns together with batched 5×5 linear solves, so the cost per column is a
few microseconds of numpy work instead of a separate optimiser call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from ._lazy import _as_float_dask, _compute, is_lazy
from ._validation import as_float_image

__all__ = ["AtomsResult", "estimate_separation", "find_atoms"]


@dataclass(frozen=True, repr=False)
class AtomsResult:
    """Result of :func:`find_atoms`.

    Attributes
    ----------
    positions : (N, 2) ndarray of float64
        Sub-pixel (row, column) of every column found.
    table : pandas.DataFrame
        One row per column: ``row``, ``col``, ``peak`` (height of the smoothed maximum
        above its surroundings), ``intensity`` (background-subtracted sum within half a
        separation) and, with ``refine="gaussian"``, ``amplitude``, ``sigma``,
        ``background``, ``converged``.
    separation : float
        Nearest-neighbour column distance used, in pixels.
    pair_distance : float
        Median distance between the two columns of a close pair (mutual nearest
        neighbours much closer than their next neighbours, such as dumbbells); NaN when
        fewer than a tenth of the columns are in one. The table's ``partner`` column gives
        each column's partner (-1: none); :func:`~napari_tessella.lattice_analysis.find_dumbbells`
        measures the pairs.
    lattice_spacing : float
        The second scale: the median distance from a paired column to its nearest
        column outside the pair; without pairs, the period of the autocorrelation (or
        ``separation`` when it was given).
    column_sigma : float
        Gaussian width of a column: the median fitted ``sigma`` with
        ``refine="gaussian"``, else measured on the first detections (NaN when
        ``separation`` was given). With elongated peaks, the detection is repeated with a
        filter this narrow so that both columns of a close pair are found.
    """

    positions: np.ndarray
    table: pd.DataFrame
    separation: float
    pair_distance: float = np.nan
    lattice_spacing: float = np.nan
    column_sigma: float = np.nan

    def __repr__(self) -> str:
        text = f"AtomsResult({len(self.positions)} columns, separation={self.separation:.2f} px"
        if np.isfinite(self.pair_distance):
            text += (f", close pairs {self.pair_distance:.2f} px apart, lattice spacing "
                     f"{self.lattice_spacing:.2f} px")
        return text + ")"


def estimate_separation(image) -> float:
    """Estimate the nearest-neighbour distance between columns from the autocorrelation.

    The autocorrelation of a periodic image repeats the lattice: its highest off-centre
    maximum nearest to the centre lies one nearest-neighbour vector away. It is computed
    with FFTs of the (mean-subtracted, Hann-windowed) image and located to sub-pixel
    precision by a parabola through the peak.

    Parameters
    ----------
    image : (M, N) ndarray
        Image of a lattice with at least a few periods across.

    Returns
    -------
    float
        Column separation in pixels.

    Raises
    ------
    ValueError
        If no periodicity is found (e.g. a constant or random image).

    Examples
    --------
    >>> from napari_tessella.synthetic import synthetic_lattice
    >>> round(estimate_separation(synthetic_lattice((128, 128), spacing=8).image))
    8
    """
    img = as_float_image(image)
    img = img - img.mean()
    window = np.outer(np.hanning(img.shape[0]), np.hanning(img.shape[1]))
    f = np.fft.rfft2(img * window)
    ac = np.fft.fftshift(np.fft.irfft2(np.abs(f) ** 2, s=img.shape))
    ac /= ac.max()
    centre = np.array(img.shape) // 2
    rr, cc = np.indices(img.shape)
    radius = np.hypot(rr - centre[0], cc - centre[1])
    # local maxima of the autocorrelation, away from the central peak
    peaks = (ac == ndi.maximum_filter(ac, size=3)) & (radius >= 2)
    peaks &= radius <= min(img.shape) / 3
    peaks &= ac > 0.1
    if not peaks.any():
        raise ValueError("no periodic lattice found in the image: give separation= instead.")
    r = radius[peaks]
    strength = ac[peaks]
    # the nearest maxima that are nearly as strong as the strongest ones
    strong = strength >= 0.2 * strength.max()
    d = float(np.min(r[strong]))
    if d < 2:
        raise ValueError("the lattice period is under 2 pixels: give separation= instead.")
    return d


def _noise_sigma(img: np.ndarray) -> float:
    """Robust standard deviation of pixel noise (MAD of a second difference)."""
    d = img[1:-1, 1:-1] * 4 - img[:-2, 1:-1] - img[2:, 1:-1] - img[1:-1, :-2] - img[1:-1, 2:]
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(20))


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


def _refine_com(img, positions, radius, background, width, iterations=10):
    """Gaussian-weighted, background-subtracted centre of mass, iterated.

    Weighting each pixel by a Gaussian of about the column's width, centred on the current
    estimate, lets far pixels (noise, neighbours' tails) count little; a weighted centroid
    moves part of the way to the true centre at each step, so it is iterated. With a hard
    disc of half a spacing instead, RMS errors are about 1.2-1.8 times larger.
    """
    half = int(np.ceil(radius))
    pos = positions.copy()
    for _ in range(iterations):
        values, rows, cols, inside = _patches(img, pos, half)
        d2 = (rows - pos[:, 0, None, None]) ** 2 + (cols - pos[:, 1, None, None]) ** 2
        signal = np.clip(values - background[:, None, None], 0, None)
        w = np.where(inside & (d2 <= radius**2), signal * np.exp(-d2 / (2 * width**2)), 0.0)
        total = w.sum(axis=(1, 2))
        ok = total > 0
        new = pos.copy()
        new[ok, 0] = (w * rows).sum(axis=(1, 2))[ok] / total[ok]
        new[ok, 1] = (w * cols).sum(axis=(1, 2))[ok] / total[ok]
        # a centre of mass can only move within its own window
        shift = np.hypot(*(new - positions).T)
        new[shift > radius] = pos[shift > radius]
        pos = new
    return pos


def _compress(mask, *arrays):
    """Keep, per row, only the pixels inside the fit window (padded to the longest row).

    A window is a disc (or two) inside a square patch: fitting on the square wastes
    about half the work on pixels whose weight is zero.
    """
    order = np.argsort(~mask, axis=1, kind="stable")
    keep = int(mask.sum(axis=1).max()) if mask.size else 0
    order = order[:, :keep]
    return [np.take_along_axis(a, order, axis=1) for a in (mask, *arrays)]


def _render(shape, params, half):
    """Sum of the fitted Gaussians (without background), rendered into an image.

    Each Gaussian is cut to a (2·half+1)² box around its rounded centre and computed as
    the outer product of its row and column profiles (it is separable).
    """
    offs = np.arange(-half, half + 1)
    base = np.rint(params[:, :2]).astype(np.int64)
    rr = base[:, 0, None] + offs
    cc = base[:, 1, None] + offs
    s2 = 2 * params[:, 3, None] ** 2
    gr = np.exp(-((rr - params[:, 0, None]) ** 2) / s2) * params[:, 2, None]
    gc = np.exp(-((cc - params[:, 1, None]) ** 2) / s2)
    gr[(rr < 0) | (rr >= shape[0])] = 0
    gc[(cc < 0) | (cc >= shape[1])] = 0
    flat = (np.clip(rr, 0, shape[0] - 1)[:, :, None] * shape[1]
            + np.clip(cc, 0, shape[1] - 1)[:, None, :])
    g = gr[:, :, None] * gc[:, None, :]
    return np.bincount(flat.ravel(), weights=g.ravel(),
                       minlength=shape[0] * shape[1]).reshape(shape)


def _own_patch(params, rows, cols, half_render):
    """Each column's own Gaussian on its patch grid, cut as :func:`_render` cuts it."""
    base = np.rint(params[:, :2])
    rows, cols = rows[:, :, :1], cols[:, :1, :]  # the grids are outer products
    gr = np.exp(-((rows - params[:, 0, None, None]) ** 2) / (2 * params[:, 3, None, None] ** 2))
    gc = np.exp(-((cols - params[:, 1, None, None]) ** 2) / (2 * params[:, 3, None, None] ** 2))
    gr = np.where(np.abs(rows - base[:, 0, None, None]) <= half_render, gr, 0.0)
    gc = np.where(np.abs(cols - base[:, 1, None, None]) <= half_render, gc, 0.0)
    return params[:, 2, None, None] * gr * gc


def _fit_all(img, positions, radius, sigma0, rounds=2, pairs=None, pair_radius=None,
             weighted=False):
    """Gaussian fits of all columns, with the neighbours' fitted tails removed.

    A column's window also holds the tails of its neighbours, which pull a lone fit off
    centre. Each round renders every fitted column, subtracts all but the column itself
    from its window and fits again (the first round has nothing to subtract). Columns in
    ``pairs`` (index pairs of columns whose Gaussians overlap strongly, such as dumbbells)
    are fitted *jointly* from the second round on: two Gaussians and one background on
    the union of their windows (radius ``pair_radius``), because subtracting a partner
    that overlaps this much converges too slowly.
    """
    half = int(np.ceil(radius))
    params, converged = _refine_gaussian(img, positions, radius, sigma0)
    paired = np.zeros(len(positions), dtype=bool)
    if pairs is not None and len(pairs):
        paired[pairs.ravel()] = True
    # a pair's window: out to three column widths (beyond, a Gaussian tells nothing of
    # its position) and at most halfway to the next columns
    pr = min(pair_radius or radius, 3 * float(np.median(params[:, 3])))
    pr = max(pr, radius)
    render_half = 2 * half
    # the pairs' windows are wider: render the tails that reach them
    pair_half = max(render_half, int(np.ceil(pr + 4 * np.median(params[:, 3]))))

    def refit_pairs(params, model=None, noise=None):
        if model is None:
            model = _render(img.shape, params, pair_half)
        # a lone fit of one column of an overlapping pair can end far off (a needle or a
        # blob); the joint fit starts such a column from the typical width instead
        width = float(np.median(params[:, 3]))
        starts = []
        for q in (params[pairs[:, 0]].copy(), params[pairs[:, 1]].copy()):
            off = (q[:, 3] < width / 2) | (q[:, 3] > 2 * width) | (q[:, 2] <= 0)
            q[off, 3] = width
            q[:, 2] = np.abs(q[:, 2])
            starts.append(q)
        fit, ok, _, _, _ = _refine_pairs(img, model, *starts, pr, pair_half,
                                         in_model=[params[pairs[:, 0]], params[pairs[:, 1]]],
                                         noise=noise)
        return fit, ok[:, None]

    # Shot noise grows with the signal: where it does, the rounds after the first are
    # weighted fits (weights 1/variance at the model's level, the variance measured on
    # the first round's residuals), which reach the Cramér-Rao bound where equal weights
    # lose up to a third. With noise of one level everywhere all pixels count alike.
    noise = None
    for k in range(rounds - 1):
        model = _render(img.shape, params, render_half)
        if weighted and k == 0 and not paired.any():
            noise = _noise_model(img, model, params, radius, use=converged)
            if noise is not None:
                # with shot noise the tails carry a fifth of the position information
                # beyond 2.5 sigma: widen the windows to 3.5 sigma (the neighbours' tails
                # are subtracted anyway)
                width = float(np.median(params[:, 3]))
                radius = max(radius, min(3.5 * width, 2 * radius))
                half = int(np.ceil(radius))
                pr = max(pr, radius)
                render_half = max(render_half, 2 * half)
                pair_half = max(pair_half, render_half)
        single = np.flatnonzero(~paired)
        values, rows, cols, _ = _patches(img, params[single, :2], half)
        others, _, _, _ = _patches(model, params[single, :2], half)
        own = _own_patch(params[single], rows, cols, render_half)
        target = values - (others - own)
        weights = None if noise is None else 1 / noise(others + params[single, 4, None, None])
        new, conv = params.copy(), converged.copy()
        if single.size:
            new[single], conv[single] = _refine_gaussian(
                img, params[single, :2], radius, sigma0=params[single, 3], values=target,
                weights=weights)
            if noise is not None:
                # where the weighted fit fails (a shape the model does not describe, as
                # on real images), the equal-weight fit stands
                fail = np.flatnonzero(~conv[single] & converged[single])
                if fail.size:
                    idx = single[fail]
                    new[idx], conv[idx] = _refine_gaussian(
                        img, params[idx, :2], radius, sigma0=params[idx, 3],
                        values=target[fail])
        if paired.any():
            new[pairs], conv[pairs] = refit_pairs(
                params, model if pair_half == render_half else None, noise=noise)
        params, converged = new, conv
    if paired.any():  # once more, with the neighbours' tails from the pairs' own fits
        if weighted:  # the lone fits of overlapping columns are no measure of the noise
            noise = _noise_model(img, _render(img.shape, params, pair_half), params, pr,
                                 use=converged)
            if noise is not None:
                pr = max(pr, min(3.5 * float(np.median(params[:, 3])), 2 * pr))
        params[pairs], converged[pairs] = refit_pairs(params, noise=noise)
    return params, converged


def _noise_model(img, model, params, radius, use=None):
    """Pixel noise variance as a function of the signal, from the fit residuals.

    Returns a function of the model level giving the variance, a + b·level (shot noise
    plus detector noise), floored at the variance measured at the darkest level; or
    None when the variance does not grow with the signal (one level of noise).
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
    values, rows, cols, inside = _patches(img, params[:, :2], half)
    level, _, _, _ = _patches(model, params[:, :2], half)
    level = level + params[:, 4, None, None]
    d2 = (rows - params[:, 0, None, None]) ** 2 + (cols - params[:, 1, None, None]) ** 2
    disc = inside & (d2 <= radius**2)
    mu, res = level[disc], (values - level)[disc]
    if mu.size < 200:
        return None
    if mu.size > 50_000:  # a fixed sample measures twenty variances well enough
        pick = np.random.default_rng(0).choice(mu.size, 50_000, replace=False)
        mu, res = mu[pick], res[pick]
    edges = np.quantile(mu, np.linspace(0, 1, 21))
    which = np.clip(np.searchsorted(edges, mu, side="right") - 1, 0, 19)
    order = np.argsort(which, kind="stable")
    groups = np.split(order, np.searchsorted(which[order], np.arange(1, 20)))
    centre = np.array([np.median(mu[g]) if g.size else np.nan for g in groups])
    # the mean square, not a median: shot noise at a few counts is skewed, and a median
    # of its deviations underestimates its variance (the largest 1 % left out: misfit)
    def mean_square(r):
        sq = np.sort(r**2)
        return float(np.mean(sq[: max(1, int(np.ceil(0.99 * sq.size)))]))

    var = np.array([mean_square(res[g]) if g.size else np.nan for g in groups])
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


def _refine_pairs(img, model, p1, p2, radius, render_half, in_model=None, iterations=30,
                  noise=None):
    """Fit two Gaussians and a shared background to every close pair at once.

    Batched Levenberg-Marquardt over all pairs (9 parameters each), started from the
    (row, col, amplitude, sigma, background) rows ``p1`` and ``p2``; the window is the
    union of discs of ``radius`` around both starts, with every other column's fitted
    Gaussian subtracted (``model`` holds all fitted columns; ``in_model`` lists the
    parameter rows of this pair's own columns in it, by default ``p1`` and ``p2``).

    Returns the fitted rows (K, 2, 5), whether each fit is trusted, and the residual sum
    of squares of the fit, of the starting ``in_model`` columns on the same window, and
    the number of pixels fitted.
    """
    k = len(p1)
    in_model = [p1, p2] if in_model is None else in_model
    centre = (p1[:, :2] + p2[:, :2]) / 2
    reach = np.hypot(*(p1[:, :2] - p2[:, :2]).T) / 2
    # the patch holds the pairs' windows (a rare far-apart start gets a cut window)
    half = int(np.ceil(radius + np.percentile(reach, 99))) + 1
    values, rows, cols, inside = _patches(img, centre, half)
    others, _, _, _ = _patches(model, centre, half)
    own = sum(_own_patch(q, rows, cols, render_half) for q in in_model)
    target = values - (others - own)
    near = np.zeros_like(inside)
    for q in (p1, p2):
        near |= (rows - q[:, 0, None, None]) ** 2 + (cols - q[:, 1, None, None]) ** 2 <= radius**2
    # inverse noise variance at the model's level (``noise``), or equal weights
    w = (np.ones(target.shape) if noise is None
         else 1 / noise(others + in_model[0][:, 4, None, None]))
    mask, y, r, c, own, w = _compress((inside & near).reshape(k, -1), target.reshape(k, -1),
                                      rows.reshape(k, -1), cols.reshape(k, -1),
                                      own.reshape(k, -1), w.reshape(k, -1))
    mask = mask.astype(np.float64)
    if noise is not None:
        mask = mask * np.sqrt(w)
    before = ((y - (own + in_model[0][:, 4, None])) ** 2 * mask).sum(axis=1)
    bg = np.min(np.where(mask > 0, y, np.inf), axis=1)
    bg = np.minimum(bg, np.minimum(p1[:, 4], p2[:, 4]))
    # parameters: (row, col, amplitude, sigma) of each column, then the background
    p = np.column_stack([p1[:, :4], p2[:, :4], bg])
    p[:, 2] = np.maximum(p[:, 2], 1e-6)
    p[:, 6] = np.maximum(p[:, 6], 1e-6)
    start = p.copy()
    lam = np.full(k, 1e-3)

    def residual_and_jacobian(p, idx):
        m = mask[idx]
        jac = np.empty((len(idx), m.shape[1], 9))
        res = (y[idx] - p[:, 8, None]) * m
        for o in (0, 4):
            dr, dc = r[idx] - p[:, o, None], c[idx] - p[:, o + 1, None]
            s2 = p[:, o + 3, None] ** 2
            d2 = dr**2 + dc**2
            g = np.exp(-d2 / (2 * s2)) * m  # pixels outside the window weigh nothing
            ag = p[:, o + 2, None] * g
            res -= ag
            ags = ag / s2
            jac[..., o] = ags * dr
            jac[..., o + 1] = ags * dc
            jac[..., o + 2] = g
            jac[..., o + 3] = ags * d2 / p[:, o + 3, None]
        jac[..., 8] = m
        return res, jac

    everyone = np.arange(k)
    res, jac = residual_and_jacobian(p, everyone)
    cost = (res**2).sum(axis=1)
    converged = np.zeros(k, dtype=bool)
    eye = np.eye(9)
    for _ in range(iterations):
        act = np.flatnonzero(~converged)
        if act.size == 0:
            break
        ja, ra = jac[act], res[act]
        jt = ja.transpose(0, 2, 1)
        jtj = np.matmul(jt, ja)
        jtr = np.matmul(jt, ra[..., None])[..., 0]
        diag = np.einsum("nii->ni", jtj)
        a = jtj + lam[act, None, None] * (diag[:, :, None] * eye + 1e-12 * eye)
        try:
            step = np.linalg.solve(a, jtr[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(ai, bi, rcond=None)[0] for ai, bi in
                             zip(a, jtr, strict=True)])
        trial = p[act] + step
        trial[:, 3] = np.clip(np.abs(trial[:, 3]), 0.3, radius)
        trial[:, 7] = np.clip(np.abs(trial[:, 7]), 0.3, radius)
        t_res, t_jac = residual_and_jacobian(trial, act)
        t_cost = (t_res**2).sum(axis=1)
        better = t_cost < cost[act]
        small = np.hypot(step[:, 0], step[:, 1]) + np.hypot(step[:, 4], step[:, 5]) < 1e-4
        converged[act[better & small]] = True
        b = act[better]
        p[b], res[b], jac[b], cost[b] = trial[better], t_res[better], t_jac[better], t_cost[better]
        lam[act] = np.where(better, lam[act] / 3, lam[act] * 4)
    out = np.stack([np.column_stack([p[:, 0:4], p[:, 8]]), np.column_stack([p[:, 4:8], p[:, 8]])],
                   axis=1)
    # a fit that swapped, merged or wandered off is not trusted: keep the starting rows
    moved = np.maximum(np.hypot(*(p[:, 0:2] - start[:, 0:2]).T),
                       np.hypot(*(p[:, 4:6] - start[:, 4:6]).T))
    apart = np.hypot(*(p[:, 0:2] - p[:, 4:6]).T)
    bad = ((moved > np.maximum(reach, radius / 2)) | (p[:, 2] <= 0) | (p[:, 6] <= 0)
           | (apart < 0.5 * reach))
    out[bad] = np.stack([p1, p2], axis=1)[bad]
    ok = (converged | (lam < 1e3)) & ~bad
    return out, ok, cost, before, mask.sum(axis=1)


def _refine_gaussian(img, positions, radius, sigma0, iterations=20, values=None,
                     weights=None):
    """Fit A·exp(-r²/2s²) + B to every column at once (batched Levenberg-Marquardt).

    ``weights`` (one per patch pixel: the inverse noise variance) makes it a weighted
    least-squares fit; by default all pixels count alike.
    """
    half = int(np.ceil(radius))
    n = len(positions)
    patch_values, rows, cols, inside = _patches(img, positions, half)
    values = patch_values if values is None else values
    d2 = (rows - positions[:, 0, None, None]) ** 2 + (cols - positions[:, 1, None, None]) ** 2
    w = np.ones(values.shape) if weights is None else weights
    mask, y, r, c, w = _compress((inside & (d2 <= radius**2)).reshape(n, -1),
                                 values.reshape(n, -1), rows.reshape(n, -1),
                                 cols.reshape(n, -1), w.reshape(n, -1))
    mask = mask.astype(np.float64)
    if weights is not None:  # residuals and derivatives scaled by 1/noise
        mask = mask * np.sqrt(w)
    bg = np.min(np.where(mask > 0, y, np.inf), axis=1)
    amp = np.max(np.where(mask > 0, y, -np.inf), axis=1) - bg
    # parameters: row, col, amplitude, sigma, background
    p = np.column_stack([positions[:, 0], positions[:, 1], amp, np.full(n, sigma0), bg])
    lam = np.full(n, 1e-2)

    def residual_and_jacobian(p, idx):
        m = mask[idx]
        dr, dc = r[idx] - p[:, 0, None], c[idx] - p[:, 1, None]
        s2 = p[:, 3, None] ** 2
        d2 = dr**2 + dc**2
        g = np.exp(-d2 / (2 * s2)) * m  # pixels outside the window weigh nothing
        ag = p[:, 2, None] * g
        res = (y[idx] - p[:, 4, None]) * m - ag
        ags = ag / s2
        jac = np.empty((len(idx), m.shape[1], 5))
        jac[..., 0] = ags * dr
        jac[..., 1] = ags * dc
        jac[..., 2] = g
        jac[..., 3] = ags * d2 / p[:, 3, None]
        jac[..., 4] = m
        return res, jac

    everyone = np.arange(n)
    res, jac = residual_and_jacobian(p, everyone)
    cost = (res**2).sum(axis=1)
    converged = np.zeros(n, dtype=bool)
    eye = np.eye(5)
    for _ in range(iterations):
        # only the columns still moving are worked on: most converge in a few steps
        act = np.flatnonzero(~converged)
        if act.size == 0:
            break
        ja, ra = jac[act], res[act]
        jt = ja.transpose(0, 2, 1)
        jtj = np.matmul(jt, ja)
        jtr = np.matmul(jt, ra[..., None])[..., 0]
        diag = np.einsum("nii->ni", jtj)
        a = jtj + lam[act, None, None] * (diag[:, :, None] * eye + 1e-12 * eye)
        try:
            step = np.linalg.solve(a, jtr[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(ai, bi, rcond=None)[0] for ai, bi in
                             zip(a, jtr, strict=True)])
        trial = p[act] + step
        trial[:, 3] = np.clip(np.abs(trial[:, 3]), 0.3, radius)
        t_res, t_jac = residual_and_jacobian(trial, act)
        t_cost = (t_res**2).sum(axis=1)
        better = t_cost < cost[act]
        small = np.hypot(step[:, 0], step[:, 1]) < 1e-4
        converged[act[better & small]] = True
        b = act[better]
        p[b], res[b], jac[b], cost[b] = trial[better], t_res[better], t_jac[better], t_cost[better]
        lam[act] = np.where(better, lam[act] / 3, lam[act] * 4)
    # a fit that wandered out of its window is not trusted: keep the starting point
    moved = np.hypot(*(p[:, :2] - positions).T)
    bad = (moved > radius / 2) | (p[:, 2] <= 0)
    p[bad, :2] = positions[bad]
    converged &= ~bad
    return p, converged | (~bad & (lam < 1e3))


def _moments(w, rows, cols):
    """Centroid, second moments and the two principal variances of weight patches."""
    total = w.sum(axis=(1, 2))
    total[total <= 0] = np.nan
    mr = (w * rows).sum(axis=(1, 2)) / total
    mc = (w * cols).sum(axis=(1, 2)) / total
    dr, dc = rows - mr[:, None, None], cols - mc[:, None, None]
    crr = (w * dr * dr).sum(axis=(1, 2)) / total
    ccc = (w * dc * dc).sum(axis=(1, 2)) / total
    crc = (w * dr * dc).sum(axis=(1, 2)) / total
    mean, diff = (crr + ccc) / 2, np.sqrt(((crr - ccc) / 2) ** 2 + crc**2)
    return mr, mc, crr, ccc, crc, np.clip(mean - diff, 1e-12, None), mean + diff


def _resolve_close_columns(img, coords, reach, elongated, period, sigma_col, threshold):
    """Look again at elongated peaks with a filter as narrow as a column.

    Maxima of the narrow filter (kept when a dip separates them from a stronger
    neighbour) replace each elongated peak within its window, and are added where no
    peak lies within two column widths; round peaks stay as they are. Returns the new peaks and which of them came from an elongated one or lie at
    the border (whose shape could not be judged): those may still hold two columns.
    """
    from scipy.spatial import cKDTree

    fine, fine_dog, fine_threshold = _detect(img, period, 1, threshold,
                                             s1=max(0.5, sigma_col / 2))
    fine = _prominent(fine_dog, fine, 4 * sigma_col, fine_threshold)
    whole = np.all((coords >= reach[:, None])
                   & (coords <= np.array(img.shape) - 1 - reach[:, None]), axis=1)
    if len(fine):
        d, owner = cKDTree(coords).query(fine)
        # a narrow maximum within an elongated peak's window replaces it; one far from
        # every peak (further than two column widths) is a column the wide filter missed
        take = (elongated[owner] & (d <= reach[owner])) | (d > 2 * sigma_col)
        replaced = elongated & np.isin(np.arange(len(coords)), owner[take])
    else:
        take, replaced = np.zeros(0, dtype=bool), np.zeros(len(coords), dtype=bool)
    new = np.concatenate([coords[~replaced], fine[take]])
    eligible = np.concatenate([(elongated | ~whole)[~replaced], np.ones(take.sum(), bool)])
    return new, eligible


def _split_unresolved(img, positions, radius, sigma_col, reach, eligible=None, ratio=0.75,
                      f_min=20.0):
    """Split peaks that hold two unresolved columns, by a two-Gaussian fit.

    Every peak is fitted with one Gaussian (neighbours' tails removed). What is left of a
    peak once its neighbours are subtracted is round for one column and elongated for two
    columns closer than the filter can resolve; an elongated one is refitted as two
    Gaussians started on its long axis (the second moments give the direction and the
    distance), and the two columns are kept when the fit is significantly better (F-test
    on the residuals, 4 more parameters) and both columns are real (positive, at least
    5 % of the other, not on top of each other).

    Returns the new positions (split peaks replaced by their two columns) and the number
    of peaks split. ``reach`` is how far from a peak an unresolved partner may lie (half
    the lattice period: beyond it, the partner would have been found as a peak);
    ``eligible`` marks the peaks that may be split (default: all).
    """
    from scipy.spatial import cKDTree

    from .lattice_analysis import _close_pairs

    def close_pairs(points):
        return _close_pairs(points)[0] if len(points) >= 3 else np.empty((0, 2), int)

    win = max(radius, 2.5 * sigma_col, reach)
    # a column of a resolved pair is not split again
    chosen = np.ones(len(positions), dtype=bool) if eligible is None else eligible.copy()
    chosen[close_pairs(positions).ravel()] = False
    if not chosen.any():
        return positions, 0
    # fit the chosen peaks and the neighbours whose tails reach into their windows
    near = cKDTree(positions).query_ball_point(positions[chosen], r=3 * win)
    sub = np.unique(np.concatenate([np.asarray(x, dtype=np.int64) for x in near]))
    chosen = chosen[sub]
    # pairs already resolved are fitted jointly, so that what is left of them is clean
    pairs = close_pairs(positions[sub])
    radius = max(radius, 2 * sigma_col)  # a window that holds a whole column
    params, _ = _fit_all(img, positions[sub], radius, sigma0=sigma_col, pairs=pairs,
                         pair_radius=win)
    render_half = int(np.ceil(win + 4 * np.max(params[:, 3])))
    model = _render(img.shape, params, render_half)
    half = int(np.ceil(win))
    values, rows, cols, inside = _patches(img, params[:, :2], half)
    others, _, _, _ = _patches(model, params[:, :2], half)
    own = _own_patch(params, rows, cols, render_half)
    t = values - (others - own)
    d2 = (rows - params[:, 0, None, None]) ** 2 + (cols - params[:, 1, None, None]) ** 2
    disc = inside & (d2 <= win**2)
    # the level around the peak (most of the window is between columns)
    level = np.nanmedian(np.where(disc, t, np.nan).reshape(len(t), -1), axis=1)
    mr, mc, crr, ccc, crc, small, large = _moments(
        np.where(disc, np.clip(t - level[:, None, None], 0, None), 0.0), rows, cols)
    # what one round column (the lone fit) looks like in the same window: the image
    # border cuts both alike, so only the peak's own elongation tells two columns apart
    # (a round Gaussian of the typical width, centred where the peak's light is: a lone
    # fit of two unresolved columns can be degenerate)
    ref = np.exp(-((rows - mr[:, None, None]) ** 2 + (cols - mc[:, None, None]) ** 2)
                 / (2 * sigma_col**2))
    _, _, m_rr, m_cc, m_rc, m_small, m_large = _moments(np.where(disc, ref, 0.0), rows, cols)
    chosen[pairs.ravel()] = False
    # elongation beyond the single column's: direction and spread of the two columns
    e_rr, e_cc, e_rc = crr - m_rr, ccc - m_cc, crc - m_rc
    extra = 2 * np.sqrt(((e_rr - e_cc) / 2) ** 2 + e_rc**2)
    cand = np.flatnonzero((np.sqrt(small / large) < ratio * np.sqrt(m_small / m_large))
                          & (extra > 0.25) & chosen)
    if cand.size == 0:
        return positions, 0
    # major axis; two equal columns d apart add (d/2)² to its variance
    angle = 0.5 * np.arctan2(2 * e_rc[cand], e_rr[cand] - e_cc[cand])
    u = np.column_stack([np.cos(angle), np.sin(angle)]) * np.sqrt(extra)[cand, None]
    centre = np.column_stack([mr[cand], mc[cand]])
    single = params[cand]
    # start from the data, not from the lone fit (which may be degenerate): the peak's
    # height above its surroundings, the typical width
    height = np.max(np.where(disc[cand], t[cand], -np.inf), axis=(1, 2)) - level[cand]
    start = np.column_stack([np.maximum(height, 1e-6), np.full(len(cand), sigma_col),
                             level[cand]])
    p1 = np.column_stack([centre - u, start])
    p2 = np.column_stack([centre + u, start])
    fit, ok, after, before, n = _refine_pairs(img, model, p1, p2, max(2.0, 3 * sigma_col),
                                              render_half, in_model=[single])
    f = ((before - after) / 4) / np.maximum(after / np.maximum(n - 9, 1), 1e-300)
    amp = fit[:, :, 2]
    apart = np.hypot(*(fit[:, 0, :2] - fit[:, 1, :2]).T)
    split = (ok & (f > f_min) & (amp.min(axis=1) >= 0.05 * amp.max(axis=1))
             & (apart >= 0.5 * fit[:, :, 3].mean(axis=1)))
    if not split.any():
        return positions, 0
    keep = np.ones(len(positions), dtype=bool)
    keep[sub[cand[split]]] = False
    new = np.concatenate([positions[keep], fit[split, 0, :2], fit[split, 1, :2]])
    return new, int(split.sum())


def _plausible(img, params, radius, start):
    """Whether each Gaussian fit describes a column and not a degenerate trade-off.

    In a small window a wide Gaussian on a deeply negative background can imitate a
    column (on NbW-STEM: amplitude 73 on a background of -70, for an image in [0, 1]).
    Such a fit is not trusted: its peak exceeds twice the image's range, its background
    lies more than the image's range below its darkest pixel, or it left its window.
    """
    span = float(np.ptp(img)) or 1.0
    lo = float(img.min())
    moved = np.hypot(*(params[:, :2] - start).T)
    return ((params[:, 2] > 0) & (params[:, 2] <= 2 * span) & (params[:, 4] >= lo - span)
            & (moved <= radius))


def _default_threshold(img, scale, s1=None) -> float:
    """Six times the response of the image's pixel noise to the detection filter."""
    s1 = scale / 8 if s1 is None else s1
    s2 = scale / 2
    # standard deviation of white noise after a difference of Gaussians (s1, s2)
    gain = np.sqrt(1 / (4 * np.pi * s1**2) + 1 / (4 * np.pi * s2**2)
                   - 1 / (np.pi * (s1**2 + s2**2)))
    return float(6 * _noise_sigma(img) * gain)


def _local_maxima(values, min_distance):
    """Pixels that are the maximum of their (2m+1)² neighbourhood, one per plateau.

    The same maxima as ``skimage.feature.peak_local_max`` (whose spacing check only acts on
    plateaus after the maximum filter), in work proportional to the image rather than a
    distance check per candidate.
    """
    size = 2 * max(1, int(min_distance)) + 1
    peaks = values == ndi.maximum_filter(values, size=size, mode="nearest")
    labels, n = ndi.label(peaks, structure=np.ones((3, 3)))
    if n == peaks.sum():  # the usual case: every maximum is a single pixel
        return np.argwhere(peaks)
    # a plateau (equal neighbours, as in noise-free or saturated images): its first pixel
    flat = np.flatnonzero(labels.ravel())
    _, first = np.unique(labels.ravel()[flat], return_index=True)
    return np.column_stack(np.unravel_index(flat[first], values.shape))


def _dog(img, s1, s2):
    work = img.astype(np.float64)
    return ndi.gaussian_filter(work, s1) - ndi.gaussian_filter(work, s2)


def _detect(img, scale, min_distance, threshold, s1=None):
    """Columns as maxima of a difference of Gaussians tuned to ``scale`` (a spacing).

    The narrow Gaussian (scale/8) averages noise within a column, the wide one (scale/2)
    removes the slowly varying background and the tails of neighbours, so a weak column
    between bright ones is still a clear maximum and a noise bump on a bright column's
    flank is not.
    """
    s1 = scale / 8 if s1 is None else s1
    s2 = scale / 2
    dog = _dog(img, s1, s2)
    if threshold is None:
        threshold = _default_threshold(img, scale, s1)
    coords = _local_maxima(dog, min_distance)
    coords = coords[dog[coords[:, 0], coords[:, 1]] > threshold]
    return coords, dog, threshold


def _shape_of_peaks(img, coords, radius):
    """Width and elongation of each detected peak from background-subtracted moments.

    Returns the square root of the smaller and larger eigenvalue of each peak's intensity
    covariance within ``radius`` (one value, or one per peak). A single round column gives two equal widths (about its
    Gaussian sigma); two unresolved columns side by side give an elongated peak whose
    smaller width is still that of one column.
    """
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(coords),))
    half = int(np.ceil(radius.max()))
    values, rows, cols, inside = _patches(img, coords.astype(np.float64), half)
    d2 = (rows - coords[:, 0, None, None]) ** 2 + (cols - coords[:, 1, None, None]) ** 2
    disc = inside & (d2 <= radius[:, None, None] ** 2)
    bg = np.min(np.where(disc, values, np.inf), axis=(1, 2))
    w = np.where(disc, np.clip(values - bg[:, None, None], 0, None), 0.0)
    total = w.sum(axis=(1, 2))
    total[total <= 0] = np.nan
    mr = (w * rows).sum(axis=(1, 2)) / total
    mc = (w * cols).sum(axis=(1, 2)) / total
    dr, dc = rows - mr[:, None, None], cols - mc[:, None, None]
    crr = (w * dr * dr).sum(axis=(1, 2)) / total
    ccc = (w * dc * dc).sum(axis=(1, 2)) / total
    crc = (w * dr * dc).sum(axis=(1, 2)) / total
    mean, diff = (crr + ccc) / 2, np.sqrt(((crr - ccc) / 2) ** 2 + crc**2)
    return np.sqrt(np.clip(mean - diff, 0, None)), np.sqrt(mean + diff)


def _prominent(dog, coords, reach, threshold, fraction=0.02):
    """Drop maxima that do not stand out from the saddle towards a stronger neighbour.

    Two true columns closer than the detection scale are separated by a dip in the
    filtered image; a noise bump on a column's flank is not. For every pair of maxima
    closer than ``reach`` the lowest filtered value on the segment between them is the
    saddle; the weaker maximum is kept when it rises above it by ``threshold`` and by
    ``fraction`` of its own height.
    """
    from scipy.spatial import cKDTree

    if len(coords) < 2:
        return coords
    pairs = cKDTree(coords).query_pairs(reach, output_type="ndarray")
    if len(pairs) == 0:
        return coords
    height = dog[coords[:, 0], coords[:, 1]]
    # order each pair (strong, weak)
    swap = height[pairs[:, 0]] < height[pairs[:, 1]]
    pairs[swap] = pairs[swap][:, ::-1]
    strong, weak = coords[pairs[:, 0]], coords[pairs[:, 1]]
    t = np.linspace(0, 1, 17)[1:-1]
    line = strong[:, None, :] + t[None, :, None] * (weak - strong)[:, None, :]
    along = ndi.map_coordinates(dog, line.reshape(-1, 2).T, order=1).reshape(len(pairs), -1)
    saddle = along.min(axis=1)
    hw = height[pairs[:, 1]]
    fails = (hw - saddle < threshold) | (hw - saddle < fraction * hw)
    keep = np.ones(len(coords), dtype=bool)
    keep[pairs[fails, 1]] = False
    return coords[keep]


def find_atoms(image, *, separation=None, threshold=None, refine="com", dark=False):
    """Find atom columns with sub-pixel precision.

    Parameters
    ----------
    image : (M, N) ndarray
        HAADF-STEM image (columns bright), any real dtype.
    separation : float, optional
        Nearest-neighbour column distance in pixels; estimated from the image's
        autocorrelation (:func:`estimate_separation`) when not given. Sets the smoothing
        (separation / 8), the minimum distance between columns (0.4 × separation) and the
        refinement window (radius separation / 2).
    threshold : float, optional
        Minimum response of a column to a difference of Gaussians (widths separation / 8
        and separation / 2), in image units. Default: 6 times the response of the pixel
        noise estimated from the image, so noise maxima are rejected whatever the
        brightness of the weakest sublattice.
    refine : {None, "com", "gaussian"}
        None: the pixel of the smoothed maximum. "com": background-subtracted centre of
        mass within half a separation, weighted by a Gaussian of separation / 5 around
        the current estimate, iterated ten times. "gaussian": a 2-D Gaussian
        plus background fitted to every column at once (vectorised Levenberg-Marquardt).
    dark : bool
        Find dark columns (the channels or "chambers" between atoms) instead.

    Returns
    -------
    AtomsResult

    Raises
    ------
    ValueError
        For an invalid image or parameter, or when no periodicity can be estimated.

    Examples
    --------
    >>> from napari_tessella.synthetic import synthetic_lattice
    >>> lat = synthetic_lattice((96, 96), spacing=8)
    >>> result = find_atoms(lat.image, refine="gaussian")
    >>> len(result.positions) == len(lat.positions)
    True
    """

    if is_lazy(image):  # dask/Zarr: chunk by chunk with margins, same columns

        return find_atoms_chunked(image, separation=separation, threshold=threshold,
                                  refine=refine, dark=dark)
    img = as_float_image(image)
    if refine not in (None, "com", "gaussian"):
        raise ValueError(f"refine must be None, 'com' or 'gaussian'; got {refine!r}.")
    if separation is not None and not separation >= 2:
        raise ValueError(f"separation must be >= 2 pixels; got {separation}.")
    if dark:
        img = img.max() - img
    from scipy.spatial import cKDTree

    from .lattice_analysis import _close_pairs

    period = np.nan
    start_positions = None
    if separation is not None:
        sep = float(separation)
        coords, dog, threshold = _detect(img, sep, 0.4 * sep, threshold)
        sigma_col = np.nan
    else:
        # The autocorrelation gives the period of the brightest sublattice; a second,
        # weaker sublattice can sit as close as period/√3 (honeycomb). Detect with room for
        # that, then measure the real nearest-neighbour distance on what was found.
        period = estimate_separation(img)
        given = threshold
        coords, dog, threshold = _detect(img, period, 0.4 * period / np.sqrt(3), given)
        if len(coords) < 3:
            raise ValueError("fewer than 3 columns found: give separation= or threshold=.")
        # A second, shorter scale: columns closer than the period can resolve (dumbbells)
        # show up as elongated peaks, whose narrow width is still that of one column.
        # Each peak is measured out to half the distance to the nearest other peak; the
        # image border cuts a window and elongates it, so border peaks are not judged.
        d, _ = cKDTree(coords).query(coords, k=2)
        reach = np.minimum(period, d[:, 1]) / 2
        narrow, wide = _shape_of_peaks(img, coords, reach)
        whole = np.all((coords >= reach[:, None])
                       & (coords <= np.array(img.shape) - 1 - reach[:, None]), axis=1)
        sigma_col = float(np.nanmedian(narrow[whole] if whole.any() else narrow))
        elongated = (narrow < 0.65 * wide) & whole
        if elongated.any() and period / 8 > sigma_col / 2:
            coords, eligible = _resolve_close_columns(img, coords, reach, elongated, period,
                                                      sigma_col, given)
            # pairs closer than even the narrow filter resolves: split by a fit
            d, _ = cKDTree(coords).query(coords, k=2)
            split, _ = _split_unresolved(img, coords.astype(np.float64),
                                         float(np.median(d[:, 1])) / 2, sigma_col,
                                         reach=period / 2, eligible=eligible)
            if len(split) > len(coords):
                # a column found both by the narrow filter and by a split is one column
                close = cKDTree(split).query_pairs(max(1.0, sigma_col), output_type="ndarray")
                start_positions = np.delete(split, np.unique(close[:, 1]), axis=0)
        d, _ = cKDTree(start_positions if start_positions is not None else coords).query(
            start_positions if start_positions is not None else coords, k=2)
        sep = float(np.median(d[:, 1]))
    if start_positions is None:
        positions = coords.astype(np.float64)
    else:  # sub-pixel already: the peaks' pixels for the table
        positions = np.clip(start_positions, 0, np.array(img.shape) - 1)
        coords = np.rint(positions).astype(np.int64)
    height = dog
    smooth = ndi.gaussian_filter(img.astype(np.float64), sep / 8)
    size = max(3, round(sep) | 1)
    local_bg = ndi.minimum_filter(smooth, size=size)
    radius = sep / 2
    background = local_bg[coords[:, 0], coords[:, 1]]

    # close pairs: mutual nearest neighbours much closer than their next neighbours
    pairs, pair_d, next_d = (_close_pairs(positions) if len(positions) >= 3
                             else (np.empty((0, 2), int), np.empty(0), np.empty(0)))

    extra = {}
    width = max(0.5, sep / 5)  # a typical column's Gaussian width
    if len(positions) and refine == "com":
        positions = _refine_com(img, positions, radius, background, width)
    elif len(positions) and refine == "gaussian":
        # a rough start is enough: the fit converges from within a fraction of a pixel
        start = _refine_com(img, positions, radius, background, width, iterations=3)
        # a pair is fitted on discs reaching halfway to the next columns
        pair_radius = max(radius, float(np.median(next_d)) / 2) if len(pairs) else radius
        params, converged = _fit_all(img, start, radius, sigma0=max(0.5, sep / 5), weighted=True,
                                     pairs=pairs, pair_radius=pair_radius)
        converged &= _plausible(img, params, radius, start)
        # a fit that did not converge gives way to the refined centre of mass (the same
        # as refine="com")
        bad = ~converged
        if bad.any():
            positions = positions.copy()
            positions[bad] = _refine_com(img, positions[bad], radius, background[bad], width)
        positions = np.where(converged[:, None], params[:, :2], positions)
        sigma_col = float(np.median(params[converged, 3])) if converged.any() else sigma_col
        extra = {"amplitude": params[:, 2], "sigma": params[:, 3],
                 "background": params[:, 4], "converged": converged}
    # a column centre is measured inside the image: a fit at the very edge that wandered
    # past it is put back on the border pixel
    positions = np.clip(positions, 0, np.array(img.shape) - 1)
    if len(positions) > 1:
        # two starting points that refined onto the same column are that one column
        same = cKDTree(positions).query_pairs(max(0.5, sep / 8), output_type="ndarray")
        if len(same):
            keep = np.ones(len(positions), dtype=bool)
            keep[same[:, 1]] = False
            positions, coords, background = positions[keep], coords[keep], background[keep]
            extra = {k: v[keep] for k, v in extra.items()}
    # integrated, background-subtracted intensity within half a separation
    if len(positions):
        values, rows, cols, inside = _patches(img, positions, int(np.ceil(radius)))
        d2 = (rows - positions[:, 0, None, None]) ** 2 + (cols - positions[:, 1, None, None]) ** 2
        disc = inside & (d2 <= radius**2)
        intensity = np.where(disc, values - background[:, None, None], 0).sum(axis=(1, 2))
    else:
        intensity = np.empty(0)
    # the scales, on the final positions: close pairs make a scale of the image when at
    # least a tenth of the columns are in one (a few odd pairs do not)
    pairs, pair_d, next_d = (_close_pairs(positions) if len(positions) >= 3
                             else (np.empty((0, 2), int), np.empty(0), np.empty(0)))
    partner = np.full(len(positions), -1)
    if len(pairs):
        partner[pairs[:, 0]], partner[pairs[:, 1]] = pairs[:, 1], pairs[:, 0]
    two_scales = 2 * len(pairs) >= 0.1 * len(positions) and len(pairs) > 0
    pair_distance = float(np.median(pair_d)) if two_scales else np.nan
    lattice_spacing = (float(np.median(next_d)) if two_scales else
                       (period if np.isfinite(period) else sep))
    table = pd.DataFrame({
        "row": positions[:, 0] if len(positions) else np.empty(0),
        "col": positions[:, 1] if len(positions) else np.empty(0),
        "peak": height[coords[:, 0], coords[:, 1]] if len(coords) else np.empty(0),
        "intensity": intensity,
        "partner": partner,
        **extra,
    })
    return AtomsResult(positions=positions.reshape(-1, 2), table=table, separation=sep,
                       pair_distance=pair_distance, lattice_spacing=lattice_spacing,
                       column_sigma=sigma_col)


# --------------------------------------------------------------------------------------
# chunk by chunk

# atom columns, chunk by chunk
def _atoms_in_block(block, origin, core_lo, core_hi, kwargs):
    """find_atoms on one overlapped block; keep the columns whose centre is in its core."""

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

