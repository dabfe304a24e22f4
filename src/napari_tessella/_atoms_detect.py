"""Detecting atom columns, including both columns of close pairs (dumbbells).

Maxima of a difference of Gaussians tuned to the lattice period; where the peaks are
elongated (two columns closer than the period can resolve), a second look with a filter
as narrow as a column and, for what is still one elongated peak, a two-Gaussian split.
Used by :func:`napari_tessella.atoms.find_atoms`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy import stats
from scipy.spatial import cKDTree

from ._atoms_fit import _fit_all, _own_patch, _refine_pairs, _render
from ._atoms_noise import MISFIT_CORRELATION, _neighbour_correlation, _patches
from .lattice_analysis import _close_pairs


def _laplacian(img: np.ndarray) -> np.ndarray:
    """The 5-point second difference of the inner pixels (white noise σ: σ √20)."""
    return img[1:-1, 1:-1] * 4 - img[:-2, 1:-1] - img[2:, 1:-1] - img[1:-1, :-2] - img[1:-1, 2:]


def _mad_noise(d: np.ndarray) -> float:
    """The pixel noise σ from second differences ``d``, robustly (their MAD)."""
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(20))


def _noise_sigma(img: np.ndarray) -> float:
    """Robust standard deviation of pixel noise (MAD of a second difference)."""
    return _mad_noise(_laplacian(img))


def _background_noise(img: np.ndarray) -> float:
    """The pixel noise where the image is darkest (its darkest quarter, between columns).

    Shot noise vanishes on a dark background and additive noise does not; the shape of a
    peak measured from its darkest pixel is biased by the latter only.
    """
    img = np.asarray(img, dtype=np.float32)
    if min(img.shape) < 3:
        return 0.0
    level = ndi.uniform_filter(img, 3)[1:-1, 1:-1]
    sample = level[::3, ::3].ravel()  # the quarter's level from a ninth of the pixels
    dark = level <= np.partition(sample, len(sample) // 4)[len(sample) // 4]
    return _mad_noise(_laplacian(img)[dark])


def _default_threshold(img, scale, s1=None, noise=None) -> float:
    """Six times the response of the image's pixel noise to the detection filter."""
    s1 = scale / 8 if s1 is None else s1
    s2 = scale / 2
    # standard deviation of white noise after a difference of Gaussians (s1, s2)
    gain = np.sqrt(1 / (4 * np.pi * s1**2) + 1 / (4 * np.pi * s2**2)
                   - 1 / (np.pi * (s1**2 + s2**2)))
    return float(6 * (_noise_sigma(img) if noise is None else noise) * gain)


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


def _dog(img, s1, s2, cache=None):
    """Difference of Gaussians; ``cache`` (a dict) keeps the wide one and the noise level
    for a second detection on the same image."""
    work = img.astype(np.float64, copy=False)
    cache = {} if cache is None else cache
    if cache.get("s2") != s2:
        cache.update(s2=s2, wide=ndi.gaussian_filter(work, s2))
    return ndi.gaussian_filter(work, s1) - cache["wide"]


def _detect(img, scale, min_distance, threshold, s1=None, cache=None):
    """Columns as maxima of a difference of Gaussians tuned to ``scale`` (a spacing).

    The narrow Gaussian (scale/8) averages noise within a column, the wide one (scale/2)
    removes the slowly varying background and the tails of neighbours, so a weak column
    between bright ones is still a clear maximum and a noise bump on a bright column's
    flank is not.
    """
    cache = {} if cache is None else cache
    s1 = scale / 8 if s1 is None else s1
    s2 = scale / 2
    dog = _dog(img, s1, s2, cache)
    if threshold is None:
        if "noise" not in cache:
            cache["noise"] = _noise_sigma(img)
        threshold = _default_threshold(img, scale, s1, noise=cache["noise"])
    coords = _local_maxima(dog, min_distance)
    coords = coords[dog[coords[:, 0], coords[:, 1]] > threshold]
    return coords, dog, threshold


def _shape_of_peaks(img, coords, radius, noise=0.0):
    """Width and elongation of each detected peak from background-subtracted moments.

    Returns the square root of the smaller and larger eigenvalue of each peak's intensity
    covariance within ``radius`` (one value, or one per peak). A single round column gives
    two equal widths (about its Gaussian sigma); two unresolved columns side by side give
    an elongated peak whose smaller width is still that of one column.

    With pixel noise of standard deviation ``noise`` the darkest pixel of a window lies
    some 2.5 ``noise`` below the background, and every pixel above it would add a round
    pedestal that hides the elongation (1 % of a peak made a 0.3-spacing pair look round):
    the weights start 5 ``noise`` above the darkest pixel, and the variances are divided
    by what that cut leaves of a Gaussian's (weights (g - τ)⁺, τ the cut over the peak).
    """
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(coords),))
    half = int(np.ceil(radius.max()))
    values, rows, cols, inside = _patches(img, coords.astype(np.float64), half)
    d2 = (rows - coords[:, 0, None, None]) ** 2 + (cols - coords[:, 1, None, None]) ** 2
    disc = inside & (d2 <= radius[:, None, None] ** 2)
    lo = np.min(np.where(disc, values, np.inf), axis=(1, 2))
    top = np.max(np.where(disc, values, -np.inf), axis=(1, 2))
    # the cut above the background, as a share of the peak's height above it
    tau = np.clip(2.5 * noise / np.maximum(top - lo - 2.5 * noise, 1e-300), 1e-12, 0.5)
    log = np.log(1 / tau)
    kept = (1 - tau * (1 + log) - tau * log**2 / 2) / (1 - tau - tau * log)
    w = np.where(disc, np.clip(values - (lo + 5 * noise)[:, None, None], 0, None), 0.0)
    _, _, _, _, _, small, large = _moments(w, rows, cols)
    return np.sqrt(small / kept), np.sqrt(large / kept)


def _prominent(dog, coords, reach, threshold, fraction=0.02):
    """Drop maxima that do not stand out from the saddle towards a stronger neighbour.

    Two true columns closer than the detection scale are separated by a dip in the
    filtered image; a noise bump on a column's flank is not. For every pair of maxima
    closer than ``reach`` the lowest filtered value on the segment between them is the
    saddle; the weaker maximum is kept when it rises above it by ``threshold`` and by
    ``fraction`` of its own height.
    """
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


def _resolve_close_columns(img, coords, reach, elongated, period, sigma_col, threshold,
                           cache=None, suspect=None):
    """Look again at elongated peaks with a filter as narrow as a column.

    Maxima of the narrow filter (kept when a dip separates them from a stronger
    neighbour) replace each elongated peak within its window, and are added where no
    peak lies within two column widths; round peaks stay as they are. Returns the new
    peaks and which of them came from an elongated one, are ``suspect`` (a little
    elongated: a pair whose window is cut by a near neighbour) or lie at the border
    (whose shape could not be judged): those may still hold two columns.
    """
    fine, fine_dog, fine_threshold = _detect(img, period, 1, threshold,
                                             s1=max(0.5, sigma_col / 2), cache=cache)
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
    suspect = elongated if suspect is None else suspect | elongated
    eligible = np.concatenate([(suspect | ~whole)[~replaced], np.ones(take.sum(), bool)])
    return new, eligible


def _misfit_after_split(light, rows, cols, inside, fit, radius):
    """Neighbouring residuals' correlation after a two-Gaussian fit, one per peak.

    ``light`` holds each peak's own light (neighbours subtracted) on its patch grid,
    ``fit`` the two fitted columns (K, 2, 5: row, col, amplitude, sigma, background);
    the residuals are taken within ``radius`` of either column, along rows and columns.
    """
    model = fit[:, 0, 4, None, None]
    near = np.zeros(light.shape, dtype=bool)
    for j in (0, 1):
        d2 = (rows - fit[:, j, 0, None, None]) ** 2 + (cols - fit[:, j, 1, None, None]) ** 2
        model = model + fit[:, j, 2, None, None] * np.exp(
            -d2 / (2 * fit[:, j, 3, None, None] ** 2))
        near |= d2 <= radius**2
    res, near = light - model, near & inside
    return (_neighbour_correlation(res, near, per_window=True)
            + _neighbour_correlation(np.swapaxes(res, 1, 2), np.swapaxes(near, 1, 2),
                                     per_window=True)) / 2


def _row_median(values, mask):
    """Median of each row's values where ``mask`` holds (NaN for an empty row): one sort
    of the rows, the masked-out values last (five times faster than ``np.nanmedian``)."""
    s = np.sort(np.where(mask, values, np.inf), axis=1)
    n = mask.sum(axis=1)
    rows = np.arange(len(values))
    mid = (s[rows, np.maximum((n - 1) // 2, 0)] + s[rows, np.maximum(n // 2, 0)]) / 2
    return np.where(n > 0, mid, np.nan)


#: the fits behind a split only model the neighbours and the peak's lone column: steps to
#: 0.01 px (a hundredth of the tolerance of the final fits) change its decisions nowhere
SPLIT_TOL = 1e-2


def _split_unresolved(img, positions, radius, sigma_col, reach, eligible=None, ratio=0.75,
                      alpha=1e-4, gain_min=0.1, amp_min=0.05):
    """Split peaks that hold two unresolved columns, by a two-Gaussian fit.

    Every peak is fitted with one Gaussian (neighbours' tails removed). What is left of a
    peak once its neighbours are subtracted is round for one column and elongated for two
    columns closer than the filter can resolve; an elongated one is refitted as two
    Gaussians started on its long axis (the second moments give the direction and the
    distance), and the two columns are kept when the second column is both significant
    and substantial, whatever the dose: the F statistic of the residuals (4 more
    parameters) beyond its ``alpha`` critical value (noise alone: one split in 10⁴), and
    the fit's gain -- the drop in squared residual over the peak's own energy (height²
    π σ²) -- over ``gain_min`` (both F and that drop grow with the dose for a true pair
    and for a neighbour's light left over, their ratio to the peak's energy does not:
    true unresolved pairs 0.08-5 at 20 counts, 0.25-1.7 at 2000; left-over light at 100
    counts under 0.1). Both columns must also be real (positive, at least ``amp_min`` of
    the other, at least 1.5 column widths apart -- closer, noise makes a single column
    look like two -- and neither nearer to another peak than to its sibling).

    Returns the new positions (split peaks replaced by their two columns) and the number
    of peaks split. ``reach`` is how far from a peak an unresolved partner may lie (half
    the lattice period: beyond it, the partner would have been found as a peak);
    ``eligible`` marks the peaks that may be split (default: all).
    """
    def close_pairs(points):
        # a partner further than ``reach`` does not explain an elongated peak (at the end
        # of a chain of columns, a merged pair and the column beyond it look like a pair)
        if len(points) < 3:
            return np.empty((0, 2), int)
        pairs, distance, _ = _close_pairs(points)
        return pairs[distance <= reach]

    win = max(radius, 2.5 * sigma_col, reach)
    # a column of a resolved pair is not split again
    chosen = np.ones(len(positions), dtype=bool) if eligible is None else eligible.copy()
    resolved = close_pairs(positions)
    chosen[resolved.ravel()] = False
    if not chosen.any():
        return positions, 0
    # fit the chosen peaks and the neighbours whose tails reach into their windows
    tree = cKDTree(positions)
    # (every peak within 3 windows of a chosen one: its nearest chosen peak that close)
    d, _ = cKDTree(positions[chosen]).query(positions,
                                            distance_upper_bound=np.nextafter(3 * win, np.inf))
    sub = np.flatnonzero(d <= 3 * win)
    chosen = chosen[sub]
    # pairs already resolved are fitted jointly, so that what is left of them is clean
    pairs = close_pairs(positions[sub])
    radius = max(radius, 2 * sigma_col)  # a window that holds a whole column
    params, _ = _fit_all(img, positions[sub], radius, sigma0=sigma_col, pairs=pairs,
                         pair_radius=win, tol=SPLIT_TOL)
    # each Gaussian out to 5 widths (beyond, under 4e-6 of its peak): a box of half
    # a window more cost 40 % of the rendering and told nothing
    render_half = int(np.ceil(5 * np.max(params[:, 3])))
    model = _render(img.shape, params, render_half)
    # only the chosen peaks not fitted as a pair may be split: their windows alone are
    # looked at (the others were fitted to model the light around them)
    chosen[pairs.ravel()] = False
    look = np.flatnonzero(chosen)
    if look.size == 0:
        return positions, 0
    looked = params[look]
    half = int(np.ceil(win))
    values, rows, cols, inside = _patches(img, looked[:, :2], half)
    others, _, _, _ = _patches(model, looked[:, :2], half)
    own = _own_patch(looked, rows, cols, render_half)
    t = values - (others - own)
    d2 = (rows - looked[:, 0, None, None]) ** 2 + (cols - looked[:, 1, None, None]) ** 2
    disc = inside & (d2 <= win**2)
    # the level around the peak (most of the window is between columns)
    level = _row_median(t.reshape(len(t), -1), disc.reshape(len(t), -1))
    mr, mc, crr, ccc, crc, small, large = _moments(
        np.where(disc, np.clip(t - level[:, None, None], 0, None), 0.0), rows, cols)
    # what one round column (the lone fit) looks like in the same window: the image
    # border cuts both alike, so only the peak's own elongation tells two columns apart
    # (a round Gaussian of the typical width, centred where the peak's light is: a lone
    # fit of two unresolved columns can be degenerate)
    ref = np.exp(-((rows - mr[:, None, None]) ** 2 + (cols - mc[:, None, None]) ** 2)
                 / (2 * sigma_col**2))
    _, _, m_rr, m_cc, m_rc, m_small, m_large = _moments(np.where(disc, ref, 0.0), rows, cols)
    # elongation beyond the single column's: direction and spread of the two columns
    e_rr, e_cc, e_rc = crr - m_rr, ccc - m_cc, crc - m_rc
    extra = 2 * np.sqrt(((e_rr - e_cc) / 2) ** 2 + e_rc**2)
    sel = np.flatnonzero((np.sqrt(small / large) < ratio * np.sqrt(m_small / m_large))
                         & (extra > 0.25))
    if sel.size == 0:
        return positions, 0
    cand = look[sel]  # into ``sub``
    # major axis; two equal columns d apart add (d/2)² to its variance
    angle = 0.5 * np.arctan2(2 * e_rc[sel], e_rr[sel] - e_cc[sel])
    u = np.column_stack([np.cos(angle), np.sin(angle)]) * np.sqrt(extra)[sel, None]
    centre = np.column_stack([mr[sel], mc[sel]])
    single = params[cand]
    # start from the data, not from the lone fit (which may be degenerate): the peak's
    # height above its surroundings, the typical width
    height = np.max(np.where(disc[sel], t[sel], -np.inf), axis=(1, 2)) - level[sel]
    start = np.column_stack([np.maximum(height, 1e-6), np.full(len(cand), sigma_col),
                             level[sel]])
    p1 = np.column_stack([centre - u, start])
    p2 = np.column_stack([centre + u, start])
    fit, ok, after, before, n = _refine_pairs(img, model, p1, p2, max(2.0, 3 * sigma_col),
                                              render_half, in_model=[single])
    dof = np.maximum(n - 9, 1)
    f = ((before - after) / 4) / np.maximum(after / dof, 1e-300)
    # the share of the peak's light (its energy, height² π σ²) that the second column
    # explains: a property of the shape, whatever the dose
    gain = (before - after) / np.maximum(start[:, 0] ** 2 * np.pi * sigma_col**2, 1e-300)
    amp = fit[:, :, 2]
    apart = np.hypot(*(fit[:, 0, :2] - fit[:, 1, :2]).T)
    # a second column nearer to another peak than to its sibling (or within two widths of
    # one) is that peak's light left over, not a column: no split
    phantom = np.zeros(len(cand), dtype=bool)
    for j in (0, 1):
        d, idx = tree.query(fit[:, j, :2], k=2)
        # the nearest peak other than the one being split
        d = np.where(idx[:, 0] == sub[cand], d[:, 1], d[:, 0])
        phantom |= (d < apart) | (d < 2 * sigma_col)
    significant = ok & (f > stats.f.isf(alpha, 4, dof))
    if significant.sum() >= 0.25 * len(positions):
        # where most peaks split alike, half their typical gain is the floor: the gain of
        # a true pair shrinks with its distance (0.1 at 2 widths: half of such pairs were
        # kept as one column), while left-over light lies far below the gain of the pairs
        # in its image (at most 0.093 beside pairs of 0.25-5)
        gain_min = min(gain_min, 0.5 * float(np.median(gain[significant])))
    split = (significant & (gain > gain_min)
             & (amp.min(axis=1) >= amp_min * amp.max(axis=1)) & (apart >= 1.5 * sigma_col)
             & ~phantom)
    # The F test holds only where the two columns fit: what they leave is noise,
    # uncorrelated from pixel to pixel. Where it still correlates (columns that are no
    # Gaussians, as on NbW-STEM: 0.54-0.81 after the split, against -0.46 to 0.31 for
    # Gaussian pairs under any noise), a second Gaussian improves almost any fit and F
    # says nothing: such a split is kept only where close pairs are a main scale of
    # the image (a quarter of the peaks paired once the splits are made: well clear of
    # the 9 % that NbW's dark channels reach with their spurious splits, against 90-100 %
    # on dumbbell images). A noise-free image leaves correlated rounding: the scale
    # keeps it.
    paired = 2 * (len(resolved) + split.sum())
    if paired < 0.25 * len(positions) and split.any():
        split &= ~(_misfit_after_split(t[sel], rows[sel], cols[sel], inside[sel], fit,
                                       max(2.0, 3 * sigma_col)) > MISFIT_CORRELATION)
    if not split.any():
        return positions, 0
    keep = np.ones(len(positions), dtype=bool)
    keep[sub[cand[split]]] = False
    new = np.concatenate([positions[keep], fit[split, 0, :2], fit[split, 1, :2]])
    return new, int(split.sum())
