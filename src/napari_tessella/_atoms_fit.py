"""Gaussian fits of atom columns: every column, every close pair, all at once.

All windows are stacked into one array (only the pixels inside each window) and a damped
Gauss-Newton (Levenberg-Marquardt) step is solved for all columns together by batched
5×5 (one column) or 9×9 (a close pair) solves, so the cost per column is a few
microseconds of numpy work instead of a separate optimiser call. Used by
:func:`napari_tessella.atoms.find_atoms`.
"""

from __future__ import annotations

import functools

import numpy as np

from ._atoms_noise import _noise_model, _patches, _sorted_quantiles


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


def _window(shape, base, half, keep):
    """The pixels of each window, packed per row (padded to the longest row).

    A window is a disc (or two) inside a (2·half+1)² square around the pixel ``base``
    (K, 2); ``keep(rows, cols)`` says which of the square's pixels belong to it. Fitting
    on the square would waste about half the work on pixels whose weight is zero.
    Returns the rows and columns (K, P), which entries are pixels (the rest is padding,
    at (0, 0)) and their flat indices into an image of ``shape``.
    """
    offs = np.arange(-half, half + 1)
    side = offs.size
    rows = (base[:, 0, None, None] + offs[None, :, None]).astype(np.float64)
    cols = (base[:, 1, None, None] + offs[None, None, :]).astype(np.float64)
    inside = ((rows >= 0) & (rows < shape[0])) & ((cols >= 0) & (cols < shape[1]))
    mask = (inside & keep(rows, cols)).reshape(len(base), -1)
    counts = np.count_nonzero(mask, axis=1)
    width = int(counts.max()) if counts.size else 0
    # each window's pixels in order, by one flat search of the mask: the index (plus one)
    # of the square's pixel in every packed slot, then the rows, columns and flat indices
    # from it (one scatter instead of three; the padding stays at (0, 0))
    at = np.flatnonzero(mask)
    which = at // mask.shape[1]
    slot = np.arange(at.size) - np.repeat(np.cumsum(counts) - counts, counts)
    packed = np.zeros((len(base), width), dtype=np.int64)
    packed[which, slot] = at - which * mask.shape[1] + 1
    valid = packed > 0
    packed -= 1
    r = np.where(valid, base[:, 0, None] + offs[packed // side], 0).astype(np.float64)
    c = np.where(valid, base[:, 1, None] + offs[packed % side], 0).astype(np.float64)
    flat = (r * shape[1] + c).astype(np.int64)
    return r, c, valid, flat


def _disc_window(shape, positions, radius):
    """Packed pixels within ``radius`` of each position (see :func:`_window`)."""
    base = np.rint(positions).astype(np.int64)

    def keep(rows, cols):
        return ((rows - positions[:, 0, None, None]) ** 2
                + (cols - positions[:, 1, None, None]) ** 2 <= radius**2)

    return _window(shape, base, int(np.ceil(radius)), keep)


def _own_at(params, r, c, half_render):
    """Each column's own Gaussian at packed pixels, cut as :func:`_render` cuts it."""
    base = np.rint(params[:, :2])
    s2 = 2 * params[:, 3, None] ** 2
    g = np.exp(-((r - params[:, 0, None]) ** 2 + (c - params[:, 1, None]) ** 2) / s2)
    box = ((np.abs(r - base[:, 0, None]) <= half_render)
           & (np.abs(c - base[:, 1, None]) <= half_render))
    return np.where(box, params[:, 2, None] * g, 0.0)


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


#: Levenberg-Marquardt steps of the lone fit of a column in a close pair: only a start
#: for the pair's joint fit (a lone fit of overlapping columns ends as a needle or a blob
#: anyway; with 20 steps a fifteenth of them ran all 20)
LONE_STEPS_PAIRED = 5


def _fit_all(img, positions, radius, sigma0, pairs=None, pair_radius=None, weighted=False,
             tol=None):
    """Gaussian fits of all columns, each with every other column's fitted model removed.

    A column's window also holds the tails of its neighbours, which pull a lone fit off
    centre. After lone fits, a sweep renders every fitted column, subtracts all but the
    column itself from its window and fits again: a model-based refinement that, sweep
    after sweep, approaches the fit of all columns at once. Columns in ``pairs`` (index
    pairs of columns whose Gaussians overlap strongly, such as dumbbells) are fitted as
    one group: two Gaussians and one background on the union of their windows (radius
    ``pair_radius``), because subtracting a partner that overlaps this much converges too
    slowly; the pairs get a sweep of their own first.

    Shot noise grows with the signal: with ``weighted``, where it does, the sweeps are
    weighted fits (weights 1/variance at the model's level, the variance measured on the
    residuals of the fits before), which reach the Cramér-Rao bound where equal weights
    lose up to a third. With noise of one level everywhere all pixels count alike.
    ``tol`` (px) ends every fit's steps there instead (default: 1e-4 px without shot
    noise, 1e-3 with it), for fits that only model what surrounds a column.
    """
    half = int(np.ceil(radius))
    paired = np.zeros(len(positions), dtype=bool)
    if pairs is not None and len(pairs):
        paired[pairs.ravel()] = True
    single = np.flatnonzero(~paired)
    # (to 1e-4 px: on noise-free images the sweeps start from them and keep their error)
    params, converged = _refine_gaussian(img, positions, radius, sigma0, tol=tol or 1e-4,
                                         iterations=np.where(paired, LONE_STEPS_PAIRED, 20))
    # a lone fit of a column in a pair that overlaps this much is no start for its
    # position where it ran off (pairs 2 widths apart: by a width, and the joint fit,
    # not trusted once it moves over half their distance, was rejected): from over a
    # quarter of the pair's distance, the given position starts it
    if paired.any():
        apart = np.hypot(*(positions[pairs[:, 0]] - positions[pairs[:, 1]]).T)
        limit = np.zeros(len(positions))
        limit[pairs[:, 0]] = limit[pairs[:, 1]] = apart / 4
        off = paired & (np.hypot(*(params[:, :2] - positions).T) > limit)
        params[off, :2] = positions[off]
    width = float(np.median(params[:, 3]))
    # a pair's window: out to three column widths (beyond, a Gaussian tells nothing of
    # its position) and at most halfway to the next columns
    pr = max(min(pair_radius or radius, 3 * width), radius)
    # the Gaussians are rendered out to two window radii (at least four widths)
    render_half = 2 * half

    def sweep(params, converged, model, radius, pr, noise, pair_iterations=30, singles=True,
              tol=1e-3):
        new, conv = params.copy(), converged.copy()
        if singles and single.size:
            window = _disc_window(img.shape, params[single, :2], radius)
            r, c, _, flat = window
            level = model.ravel()[flat]
            target = img.ravel()[flat] - (level - _own_at(params[single], r, c, render_half))
            weights = None if noise is None else 1 / noise(level + params[single, 4, None])
            # a fit that ended as a wide Gaussian on a deep background, or a needle, starts
            # again from the typical width (from it, the next fit would wander further)
            # (with shot noise, where the columns are Gaussians, the width is kept within
            # twice the typical one: a wider one is that trade-off again)
            start = params[single].copy()
            off = ((start[:, 3] < width / 2) | (start[:, 3] > 2 * width) | (start[:, 2] <= 0)
                   | (np.abs(start[:, 4] - np.median(params[:, 4]))
                      > 0.5 * np.median(np.abs(params[:, 2]))))
            start[off, 2:] = np.nan
            new[single], conv[single] = _refine_gaussian(
                img, params[single, :2], radius, sigma0=np.where(off, width, start[:, 3]),
                values=target, weights=weights, start=start,
                max_sigma=None if noise is None else 2 * width, window=window, tol=tol)
            if noise is not None:
                # where the weighted fit fails (a shape the model does not describe, as
                # on real images), the equal-weight fit stands
                fail = np.flatnonzero(~conv[single] & converged[single])
                if fail.size:
                    idx = single[fail]
                    new[idx], conv[idx] = _refine_gaussian(
                        img, params[idx, :2], radius, sigma0=params[idx, 3],
                        values=target[fail], window=tuple(a[fail] for a in window), tol=tol)
        if paired.any():
            new[pairs], conv[pairs] = _refit_pairs(img, model, params, pairs, pr, render_half,
                                                   noise, pair_iterations, tol)
        return new, conv

    model = _render(img.shape, params, render_half)
    noise = None
    if paired.any():
        # the lone fits of overlapping columns are no measure of the noise (nor a good
        # start): the pairs are fitted with equal weights first (two steps will do)
        params, converged = sweep(params, converged, model, radius, pr, None,
                                  pair_iterations=2 if weighted else 30, singles=False,
                                  tol=tol or 1e-3)
        model = _render(img.shape, params, render_half)
        # the widths of the joint fits are the columns' own (lone fits of overlapping
        # columns come out as needles or blobs): the pairs' windows follow them
        width = float(np.median(params[:, 3]))
        pr = max(min(pair_radius or radius, 3 * width), radius)
    if weighted:
        # measured where most columns are: on the single ones when they are the most (a
        # pair at the edge of a chunk changes nothing), else on the pairs' windows
        most = (~paired).sum() >= paired.sum()
        noise = _noise_model(img, model, params, radius if most else pr,
                             use=converged & ~paired if most else converged)
        if noise is not None:
            # with shot noise the tails carry a fifth of the position information beyond
            # 2.5 sigma: windows of 3.5 sigma (the neighbours' model is subtracted anyway)
            w = float(np.median(params[:, 3]))
            radius, pr = max(radius, min(3.5 * w, 2 * radius)), max(pr, min(3.5 * w, 2 * pr))
    # the single columns get the same sweeps whatever else the image holds (so that a
    # chunk of the image gives its columns as the whole image does): one, and with shot
    # noise a second, in which neighbours that overlap settle together (on real images,
    # whose columns are not Gaussians, every further sweep widens their fits)
    # the last steps to 1e-3 px where shot noise makes the error a hundred times that, to
    # 1e-4 px without it (noise-free images, real ones)
    tol = tol or (1e-3 if noise is not None else 1e-4)
    params, converged = sweep(params, converged, model, radius, pr, noise, tol=tol)
    if noise is not None:
        model = _render(img.shape, params, render_half)
        # the noise measured again, on the residuals of the weighted fit: the first
        # measure was taken on fits not yet converged (the pairs after two steps), whose
        # misfit raised the variance of the faint levels (at 100 counts: 9 counts' worth
        # where there is none), so that the tails, which hold a fifth of the position
        # information, counted too little (1.12 -> 1.04-1.08 × the bound)
        again = _noise_model(img, model, params, radius if most else pr,
                             use=converged & ~paired if most else converged)
        noise = noise if again is None else again
        params, converged = sweep(params, converged, model, radius, pr, noise, tol=tol)
    return params, converged


def _refit_pairs(img, model, params, pairs, radius, render_half, noise, iterations, tol):
    """Refit every close pair as one group, the other columns' model removed."""
    # a lone fit of one column of an overlapping pair can end far off (a needle or a
    # blob); the joint fit starts such a column from the typical width instead
    width = float(np.median(params[:, 3]))
    starts = []
    for q in (params[pairs[:, 0]].copy(), params[pairs[:, 1]].copy()):
        off = (q[:, 3] < width / 2) | (q[:, 3] > 2 * width) | (q[:, 2] <= 0)
        q[off, 3] = width
        q[:, 2] = np.abs(q[:, 2])
        starts.append(q)
    in_model = [params[pairs[:, 0]], params[pairs[:, 1]]]
    fit, ok, cost, _, _ = _refine_pairs(img, model, *starts, radius, render_half,
                                        in_model=in_model, noise=noise,
                                        iterations=iterations, tol=tol)
    # a pair that ended as two wide Gaussians on a background far below the others' (a
    # trade-off of width against background: at 100 counts one such pair in a few
    # hundred, 9 x its bound off) starts again from the typical width and background;
    # the fit with the lower cost stands
    bg = fit[:, 0, 4]
    typical = float(np.median(bg))
    off = np.flatnonzero(np.abs(bg - typical) > 0.05 * float(np.median(fit[:, :, 2])))
    if off.size:
        again = []
        for q in starts:
            q = q[off].copy()
            q[:, 3], q[:, 4] = width, typical
            again.append(q)
        fit2, ok2, cost2, _, _ = _refine_pairs(
            img, model, *again, radius, render_half, in_model=[q[off] for q in in_model],
            noise=noise, iterations=iterations, tol=tol, background=typical)
        better = ok2 & (cost2 < cost[off])
        fit[off[better]], ok[off[better]] = fit2[better], True
    return fit, ok[:, None]


def _normal(res, jac):
    """Cost, JᵀJ and Jᵀr of batched residuals (K, P) and transposed Jacobians (K, M, P)."""
    return ((res**2).sum(axis=1), np.matmul(jac, jac.transpose(0, 2, 1)),
            np.matmul(jac, res[..., None])[..., 0])


def _single_precision(centres, r, c, *arrays):
    """Window pixels in single precision, their coordinates relative to each window's
    rounded centre (so that a position keeps its precision): the fit's steps are bound by
    memory traffic, and half of it halves their cost (the parameters, the steps and
    their solves stay in double precision)."""
    origin = np.rint(centres)
    return origin, [(r - origin[:, :1]).astype(np.float32),
                    (c - origin[:, 1:]).astype(np.float32),
                    *(a.astype(np.float32) for a in arrays)]


class _Rows:
    """The rows ``idx`` of the packed window arrays of a batched fit, gathered once for as
    long as the same problems are worked on (every step of the first steps asks for all
    of them, later ones for the same few until one converges): a gather per step cost
    more than a tenth of the steps."""

    def __init__(self, *arrays):
        self.arrays, self.idx, self.rows = arrays, None, arrays

    def __call__(self, idx):
        if len(idx) == len(self.arrays[0]):  # every problem (idx is sorted and unique)
            return self.arrays
        if self.idx is None or not np.array_equal(idx, self.idx):
            self.idx, self.rows = idx, [a[idx] for a in self.arrays]
        return self.rows


def _levenberg_marquardt(p, normal_equations, clip, positions, iterations, lam0, tol=1e-3):
    """Damped Gauss-Newton steps for many small least-squares problems at once.

    ``normal_equations(p, idx)`` gives the cost, JᵀJ and Jᵀr of the problems ``idx`` at
    their parameters ``p``; only those are kept between steps (not the residuals and
    Jacobians, whose copies cost more than the steps). A problem has converged when an
    accepted step moves its ``positions`` (pairs of parameter indices) by under ``tol``;
    only the problems still moving are worked on. ``iterations`` is the largest number of
    steps, one for all or one per problem. Returns the parameters, costs, whether each
    converged and the final damping.
    """
    n, m = p.shape
    cost, jtj, jtr = (a.astype(np.float64) for a in normal_equations(p, np.arange(n)))
    lam = np.full(n, lam0)
    converged = np.zeros(n, dtype=bool)
    diag = np.arange(m)
    limit = np.broadcast_to(np.asarray(iterations), (n,))
    for step_no in range(int(limit.max()) if n else 0):
        act = np.flatnonzero(~converged & (limit > step_no))
        if act.size == 0:
            break
        ja, ra = jtj[act], jtr[act]
        # damping on the diagonal only: JᵀJ + λ (diag JᵀJ + 1e-12), built in place
        a = ja.copy()
        a[:, diag, diag] += lam[act, None] * (ja[:, diag, diag] + 1e-12)
        try:
            step = np.linalg.solve(a, ra[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([np.linalg.lstsq(ai, bi, rcond=None)[0] for ai, bi in
                             zip(a, ra, strict=True)])
        small = sum(np.hypot(step[:, i], step[:, j]) for i, j in positions) < tol
        # a Gauss-Newton step (little damping) this short: there already, no need to try it
        done = small & (lam[act] < 1)
        converged[act[done]] = True
        act, step, small = act[~done], step[~done], small[~done]
        if act.size == 0:
            break
        trial = clip(p[act] + step)
        t_cost, t_jtj, t_jtr = normal_equations(trial, act)
        better = t_cost < cost[act]
        converged[act[better & small]] = True
        b = act[better]
        p[b], cost[b], jtj[b], jtr[b] = trial[better], t_cost[better], t_jtj[better], t_jtr[better]
        lam[act] = np.where(better, lam[act] / 3, lam[act] * 4)
    return p, cost, converged, lam


def _refine_pairs(img, model, p1, p2, radius, render_half, in_model=None, iterations=30,
                  noise=None, tol=1e-3, background=None):
    """Fit two Gaussians and a shared background to every close pair at once.

    Batched Levenberg-Marquardt over all pairs (9 parameters each), started from the
    (row, col, amplitude, sigma, background) rows ``p1`` and ``p2``; the window is the
    union of discs of ``radius`` around both starts, with every other column's fitted
    Gaussian subtracted (``model`` holds all fitted columns; ``in_model`` lists the
    parameter rows of this pair's own columns in it, by default ``p1`` and ``p2``);
    ``background`` starts every pair's background there.

    Returns the fitted rows (K, 2, 5), whether each fit is trusted, and the residual sum
    of squares of the fit, of the starting ``in_model`` columns on the same window, and
    the number of pixels fitted.
    """
    in_model = [p1, p2] if in_model is None else in_model
    centre = (p1[:, :2] + p2[:, :2]) / 2
    reach = np.hypot(*(p1[:, :2] - p2[:, :2]).T) / 2
    # the square holds the pairs' windows (a rare far-apart start gets a cut window); a
    # pixel of a window lies at most radius + reach + 1/2 (the centre's rounding) from
    # the square's centre along either axis: no larger square than that holds (the same
    # windows, a fifth fewer pixels tested)
    # (the 99th percentile as np.percentile gives it, from one sort: a tenth of its time)
    half = int(np.ceil(radius + _sorted_quantiles(np.sort(reach), 0.99))) + 1
    half = min(half, int(np.floor(radius + reach.max() + 0.5))) if len(reach) else half

    def keep(rows, cols):
        return functools.reduce(np.logical_or, [
            (rows - q[:, 0, None, None]) ** 2 + (cols - q[:, 1, None, None]) ** 2 <= radius**2
            for q in (p1, p2)])

    r, c, valid, flat = _window(img.shape, np.rint(centre).astype(np.int64), half, keep)
    level = model.ravel()[flat]
    own = sum(_own_at(q, r, c, render_half) for q in in_model)
    y = img.ravel()[flat] - (level - own)
    mask = valid.astype(np.float64)
    if noise is not None:  # inverse noise variance at the model's level
        mask = mask * np.sqrt(1 / noise(level + in_model[0][:, 4, None]))
    before = ((y - (own + in_model[0][:, 4, None])) ** 2 * mask).sum(axis=1)
    bg = np.min(np.where(mask > 0, y, np.inf), axis=1)
    bg = np.minimum(bg, np.minimum(p1[:, 4], p2[:, 4]))
    # a pair fitted jointly before shares its background: start from it
    bg = np.where(p1[:, 4] == p2[:, 4], p1[:, 4], bg)
    if background is not None:  # a given start
        bg = np.full(len(p1), background)
    # parameters: (row, col, amplitude, sigma) of each column, then the background
    p = np.column_stack([p1[:, :4], p2[:, :4], bg])
    p[:, 2] = np.maximum(p[:, 2], 1e-6)
    p[:, 6] = np.maximum(p[:, 6], 1e-6)
    start = p.copy()

    origin, packed = _single_precision(centre, r, c, y, mask)
    rows_of = _Rows(*packed)

    def normal_equations(p, idx):
        rows, cols, y32, m = rows_of(idx)  # once for both columns
        p = p.copy()
        p[:, [0, 4]] -= origin[idx, :1]
        p[:, [1, 5]] -= origin[idx, 1:]
        p = p.astype(np.float32)
        jac = np.empty((len(idx), 9, m.shape[1]), dtype=np.float32)
        res = (y32 - p[:, 8, None]) * m
        for o in (0, 4):
            dr, dc = rows - p[:, o, None], cols - p[:, o + 1, None]
            s2 = p[:, o + 3, None] ** 2
            d2 = dr**2 + dc**2
            g = np.exp(d2 / (-2 * s2)) * m  # pixels outside the window weigh nothing
            ag = p[:, o + 2, None] * g
            res -= ag
            ags = ag / s2
            jac[:, o] = ags * dr
            jac[:, o + 1] = ags * dc
            jac[:, o + 2] = g
            jac[:, o + 3] = ags * d2 / p[:, o + 3, None]
        jac[:, 8] = m
        return _normal(res, jac)

    def clip(trial):
        trial[:, 3] = np.clip(np.abs(trial[:, 3]), 0.3, radius)
        trial[:, 7] = np.clip(np.abs(trial[:, 7]), 0.3, radius)
        return trial

    p, cost, converged, lam = _levenberg_marquardt(p, normal_equations, clip, ((0, 1), (4, 5)),
                                                   iterations, lam0=1e-3, tol=tol)
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
                     weights=None, start=None, max_sigma=None, window=None, tol=1e-3):
    """Fit A·exp(-r²/2s²) + B to every column at once (batched Levenberg-Marquardt).

    The window is the disc of ``radius`` around each position (``window``: the packed
    pixels of :func:`_disc_window`, if already made); ``values`` replace the image's
    pixels there (packed alike) and ``weights`` (the inverse noise variance per pixel)
    make it a weighted least-squares fit; by default all pixels count alike. ``start``
    gives warm parameters (a NaN amplitude: start that column afresh) and ``max_sigma``
    a largest width.
    """
    n = len(positions)
    r, c, valid, flat = _disc_window(img.shape, positions, radius) if window is None else window
    y = img.ravel()[flat] if values is None else values
    mask = valid.astype(np.float64)
    if weights is not None:  # residuals and derivatives scaled by 1/noise
        mask = mask * np.sqrt(weights)
    bg = np.min(np.where(mask > 0, y, np.inf), axis=1)
    amp = np.max(np.where(mask > 0, y, -np.inf), axis=1) - bg
    # parameters: row, col, amplitude, sigma, background
    p = np.column_stack([positions[:, 0], positions[:, 1], amp, np.full(n, sigma0), bg])
    if start is not None:  # a fit before: all five parameters warm (unless NaN)
        warm = np.isfinite(start[:, 2])
        p[warm, 2:] = start[warm, 2:]

    origin, packed = _single_precision(positions, r, c, y, mask)
    rows_of = _Rows(*packed)

    def normal_equations(p, idx):
        r32, c32, y32, m = rows_of(idx)
        p = p.copy()
        p[:, :2] -= origin[idx]
        p = p.astype(np.float32)
        dr, dc = r32 - p[:, 0, None], c32 - p[:, 1, None]
        s2 = p[:, 3, None] ** 2
        d2 = dr**2 + dc**2
        g = np.exp(d2 / (-2 * s2)) * m  # pixels outside the window weigh nothing
        ag = p[:, 2, None] * g
        res = (y32 - p[:, 4, None]) * m - ag
        ags = ag / s2
        jac = np.empty((len(idx), 5, m.shape[1]), dtype=np.float32)
        jac[:, 0] = ags * dr
        jac[:, 1] = ags * dc
        jac[:, 2] = g
        jac[:, 3] = ags * d2 / p[:, 3, None]
        jac[:, 4] = m
        return _normal(res, jac)

    top = radius if max_sigma is None else min(radius, max_sigma)

    def clip(trial):
        trial[:, 3] = np.clip(np.abs(trial[:, 3]), 0.3, top)
        return trial

    p, _, converged, lam = _levenberg_marquardt(p, normal_equations, clip, ((0, 1),),
                                                iterations, lam0=1e-2, tol=tol)
    # a fit that wandered out of its window is not trusted: keep the starting point
    moved = np.hypot(*(p[:, :2] - positions).T)
    bad = (moved > radius / 2) | (p[:, 2] <= 0)
    p[bad, :2] = positions[bad]
    converged &= ~bad
    return p, converged | (~bad & (lam < 1e3))


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
