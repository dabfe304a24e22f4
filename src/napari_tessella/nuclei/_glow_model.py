"""Dim nuclei read over a saturated cell's modelled glow (round 47; round 46's candidate).

A dim nucleus placed beside a saturated cell sits on the cell's glow: the flattening
leaves the glow, the trim cuts the nucleus away with it, or no cut ever gives it a label
of its own (round 46's trace: two thirds of the missing nuclei of the synthetic cell-line
kinds). Here the glow is modelled and the nuclei are read over it
(:func:`_over_glow_pieces`): per saturated cell, the ``_FIT_Q`` quantile of the image at
each whole-pixel distance from its saturated pixels (made non-increasing outward), then
scaled and offset per sector of ``_SECTORS`` round the cell's centroid by a straight-line
fit of the sector's own band quantiles (the vignetting and the background's ramp tilt a
glow), blended between sector centres by angle. The model is fitted on the background and
on the labels that are the cell's own (at least ``_CELL_SHARE`` of them saturated: a
nucleus whose foci pass the saturated bar is not the cell). The excess over the model is
split into LoG bumps, each cut at half its height, kept when nucleus-sized, standing over
its ring, textured (``_texture``, round 42's measure) and incoherent (``_glare``'s
gradient coherence: glare streaks cross a glow) (:func:`_with_over_glow`).

Everything is read within ``_saturated._GLOW_REACH`` d of a saturated cell and the LoG's
reach around it; a chunk's window holds that whole (:func:`_glow_window`, which holds what
the dim search on the glow reads as well).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _crosses_dilated, _mask_box, _nonzero, _square_filter, _widened
from .._quantiles import _group_quantiles
from ._basins import _watershed as watershed  # (skimage's, bit for bit)
from ._cues import _label_quantiles
from ._glare import _gradient_coherence
from ._saturated import _GLOW_REACH, _SMALL_CELL, _saturated
from ._small import _with_new_peaks
from ._texture import _texture

#: the glow's level at a distance from the cell: this quantile of the band's pixels
_FIT_Q = 0.25
#: sectors round a cell's centroid, each scaling and offsetting the cell's glow profile
_SECTORS = 8
#: pixels within this many d of the saturated pixels are the cell's rim: not fitted, not read
_GAP = 0.3
#: a label is the saturated cell's own when at least this share of it is saturated
_CELL_SHARE = 0.25
#: a pixel over the glow: its excess over the model above this times the dim search's low level
_OVER = 1.5
#: a piece's area, in nucleus areas (pi d^2 / 4)
_AREA = (0.3, 1.6)
#: a piece stands over its ring: the ring's median excess at most this share of its own
_RING = 0.5
#: a nucleus is textured (``_texture`` at least this) and its gradient incoherent (under
#: this): the smooth glow and the glare streaks crossing it are not (round 46's pieces)
_TEXTURE = 0.4
_COHERENCE = 0.5


_EPS = np.finfo(np.float64).eps  # the machine epsilon, as ``np.polyfit``'s rcond uses it


def _median(v):
    """``np.median`` of the finite 1-d ``v``, the same value without its checks (the two
    middle values' mean as ``np.mean`` takes it)."""
    v = np.sort(v)
    m = v.size // 2
    return v[m] if v.size % 2 else (v[m - 1] + v[m]) / 2


def _polyfit1(x, y):
    """``np.polyfit(x, y, 1)`` as numpy computes it (the same columns, scale and least
    squares, to the bit), without its checks and its rank warning."""
    lhs = np.empty((x.size, 2))
    lhs[:, 0], lhs[:, 1] = x + 0.0, 1.0
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    c = np.linalg.lstsq(lhs, y + 0.0, x.size * _EPS)[0]
    return c / scale


def _sector_line(x, y):
    """(scale, offset) of ``y`` ~ offset + scale * ``x``: a straight line fitted three times,
    each leaving out the points over the median residual plus two median absolute
    deviations (a nucleus lifts its bands)."""
    if x.size < 4 or np.ptp(x) <= 0:
        return 1.0, (float(np.nanmedian(y - x)) if x.size else 0.0)
    keep, xk, yk = None, x, y  # all points first
    for _ in range(3):
        a, b = _polyfit1(xk, yk)
        r = y - (a * x + b)
        rk = r if keep is None else r[keep]
        mid = _median(rk)
        kept = r <= mid + 2 * (_median(np.abs(rk - mid)) + 1e-9)
        if np.count_nonzero(kept) < 4 or (kept.all() if keep is None else (kept == keep).all()):
            break  # (the same points: the same line)
        if not x[kept].any():  # all 0 (a black frame's bands): no line through them, and
            break  # the fit divided by 0 ("SVD did not converge": the image refused)
        keep, xk, yk = kept, x[kept], y[kept]
    return a, b


def _glow_of(img, bright, d, fit):
    """The modelled glow of the saturated cells ``bright`` (nan beyond ``_GLOW_REACH`` d of
    them), fitted on the pixels ``fit`` of ``img``; and the distance to them, in ``d``.
    Everything per pixel is read on the pixels within the reach only (in raster order)."""
    dd, (iy, ix) = ndi.distance_transform_edt(~bright, return_indices=True)
    comp, n = ndi.label(bright, np.ones((3, 3), bool))
    near = dd <= _GLOW_REACH * d
    at = np.flatnonzero(near)
    owner = comp.ravel()[iy.ravel()[at] * img.shape[1] + ix.ravel()[at]].astype(np.int64)
    nb = int(_GLOW_REACH * d) + 2
    dn = dd.ravel()[at]
    band = np.floor(dn).astype(np.int64)
    vals = img.ravel()[at].astype(np.float64)
    on = fit.ravel()[at]
    # the radial profile: per cell and band, non-increasing outward
    key = owner * nb + band
    (prof,), _ = _group_quantiles(vals[on], key[on], (n + 1) * nb, (_FIT_Q,))
    prof = np.minimum.accumulate(np.where(np.isnan(prof), np.inf, prof).reshape(n + 1, nb),
                                 axis=1)
    prof[~np.isfinite(prof)] = np.nan
    # per sector: the band quantiles from _GAP d out as a line of the profile
    ids = np.arange(1, n + 1)
    by, bx = _nonzero(bright)  # the centroids as ``ndi.mean`` sums them, in raster order
    num = np.bincount(comp[by, bx], minlength=n + 1).astype(np.float64)
    num[0] = 1.0
    cy = np.bincount(comp[by, bx], by, minlength=n + 1) / num
    cx = np.bincount(comp[by, bx], bx, minlength=n + 1) / num
    cy[0] = cx[0] = 0.0
    t = (np.arctan2(at // img.shape[1] - cy[owner], at % img.shape[1] - cx[owner]) + np.pi) \
        / (2 * np.pi) * _SECTORS - 0.5
    s0 = np.floor(t).astype(np.int64) % _SECTORS
    w = t - np.floor(t)
    sector = np.floor(t + 0.5).astype(np.int64) % _SECTORS
    sel = on & (dn >= _GAP * d)
    (q,), cnt = _group_quantiles(vals[sel], ((owner * _SECTORS + sector) * nb + band)[sel],
                                 (n + 1) * _SECTORS * nb, (_FIT_Q,))
    q, cnt = q.reshape(n + 1, _SECTORS, nb), cnt.reshape(n + 1, _SECTORS, nb)
    scale, offset = np.ones((n + 1, _SECTORS)), np.zeros((n + 1, _SECTORS))
    for c in ids:
        for s in range(_SECTORS):
            ok = (cnt[c, s] >= 3) & np.isfinite(q[c, s]) & np.isfinite(prof[c])
            scale[c, s], offset[c, s] = _sector_line(prof[c][ok], q[c, s][ok])
    s1 = (s0 + 1) % _SECTORS
    a = (1 - w) * scale[owner, s0] + w * scale[owner, s1]
    b = (1 - w) * offset[owner, s0] + w * offset[owner, s1]
    model = np.full(img.shape, np.nan)
    model[near] = b + a * prof[owner, band]
    return model, dd / d


def _glow_pad(d) -> int:
    """Pixels the bumps read around the glow's reach: the LoG's and the top's window."""
    return int(4 * d / (2 * np.sqrt(2)) + 0.5) + max(1, round(0.3 * d)) + 2


def _model_reach(d) -> int:
    """Pixels the glow model reads beyond its saturated pixels' box: the glow's reach
    (``_GLOW_REACH`` d in whole pixels, and one) and the bumps' around it
    (:func:`_glow_pad`). :func:`_over_glow_pieces` crops by it and :func:`_glow_window`
    holds it, one quantity (round 49: the review's mend, the two wrote it apart)."""
    return int(np.ceil(_GLOW_REACH * d)) + 1 + _glow_pad(d)


def _over_glow_pieces(labels, img, bright, low, d, least):
    """Pieces of ``img`` over the modelled glow of the saturated cells ``bright``, on the
    background or the cells' own labels of ``labels``, numbered 1..n (int32): LoG bumps of
    the excess over ``_OVER * low``, each cut at half its height (the 0.9 quantile of the
    excess smoothed by d / 8), of ``_AREA`` nucleus areas and ``least`` pixels, its ring's
    median at most ``_RING`` of its own. Returns them in ``crop`` (slices of ``labels``:
    the saturated pixels' box with the glow's reach and the bumps' around it, where every
    one of them is read) and ``crop``."""
    crop = _mask_box(bright, _model_reach(d))
    lab, img, bright = labels[crop], img[crop], bright[crop]
    out = np.zeros(lab.shape, np.int32)
    own = np.unique(lab[bright])
    nsat = np.bincount(lab[bright], minlength=own.max() + 1)[own]
    nall = np.bincount(labels.ravel(), minlength=own.max() + 1)[own]
    cells = np.zeros(int(labels.max()) + 1, bool)
    cells[own[nsat >= _CELL_SHARE * np.maximum(nall, 1)]] = True
    cells[0] = True
    mine = cells[lab]
    model, dist = _glow_of(img, bright, d, mine)
    excess = np.where(np.isnan(model), 0.0, img - model)
    free = mine & (dist >= _GAP) & ~bright
    over = (excess > _OVER * low) & free & ~np.isnan(model)
    area = np.pi * d * d / 4
    # every piece is a 4-connected part of ``over``: none passes when no part is that large
    parts, m = ndi.label(over)
    if not m or np.bincount(parts.ravel())[1:].max() < max(_AREA[0] * area, least):
        return out, crop
    # the bumps are read round ``over``'s pixels only: the filters' and the ring's reach of
    # them, so every value read is as over the whole crop
    sub = _mask_box(over, _glow_pad(d) + int(4 * d / 8 + 0.5) + max(1, round(0.25 * d)))
    excess, over, view = excess[sub], over[sub], out[sub]
    soft = ndi.gaussian_filter(excess, d / 8)
    blob = -ndi.gaussian_laplace(excess, d / (2 * np.sqrt(2)))
    w = 2 * max(1, round(0.3 * d)) + 1
    seeds, k = ndi.label(over & (blob == _square_filter(blob, w, True)) & (blob > 0),
                         np.ones((3, 3), bool))
    if not k:
        return out, crop
    basins = watershed(-blob, seeds, mask=over)
    (height,) = _label_quantiles(soft, basins, k, (0.9,), "linear")  # np.quantile's bits
    n = 0
    for c, box in enumerate(ndi.find_objects(basins), start=1):
        if box is None:
            continue
        box = _widened(box, max(1, round(0.25 * d)), basins.shape)
        part, m = ndi.label((basins[box] == c) & (soft[box] > height[c] / 2))
        sel = part == 1 + int(np.argmax(np.bincount(part.ravel())[1:])) if m > 1 else part > 0
        size = int(sel.sum())
        if not _AREA[0] * area <= size <= _AREA[1] * area or size < least:
            continue
        ring = _crosses_dilated(sel, max(1, round(0.25 * d))) & ~sel
        if np.median(soft[box][ring]) > _RING * np.median(soft[box][sel]):
            continue
        n += 1
        view[box][sel] = n
    return out, crop


def _with_over_glow(labels, markers, peak, smooth, low, d, least, raw, work, bright=None):
    """``labels`` with the nuclei over a saturated cell's modelled glow added as labels of
    their own: the pieces of :func:`_over_glow_pieces` (on ``raw``, the working image
    before its flattening) with ``_texture`` (of ``work``) at least ``_TEXTURE`` and the
    gradient coherence of ``smooth`` under ``_COHERENCE``; with markers and peaks, and
    whether any was added. ``bright``: the saturated pixels (:func:`._saturated._saturated`
    of ``smooth``, ``low`` and ``d``), when the caller has them (round 48: the recipe
    passes those :func:`._dim._with_glow_dim` reads, found once)."""
    if raw is None or work is None:
        return labels, markers, peak, False
    if bright is None:
        bright = _saturated(smooth, low, d)
    if not bright.any():
        return labels, markers, peak, False
    pieces, crop = _over_glow_pieces(labels, raw, bright, low, d, least)
    k = int(pieces.max())
    if not k:
        return labels, markers, peak, False
    new = np.zeros(labels.shape, np.int32)
    new[crop] = pieces
    ids = list(range(1, k + 1))
    tex, coh = _texture(work, new, ids), _gradient_coherence(pieces, smooth[crop])
    keep = np.zeros(k + 1, bool)
    for i in ids:
        keep[i] = tex.get(i, np.nan) >= _TEXTURE and coh[i] < _COHERENCE
    new, k = ndi.label(keep[new])
    if not k:
        return labels, markers, peak, False
    first = max(peak.size, int(labels.max()) + 1)
    out = np.where(new > 0, new + first - 1, labels).astype(np.int32)
    markers = markers.copy()
    markers[new > 0] = int(markers.max()) + new[new > 0]
    peak = _with_new_peaks(peak, first, smooth, out, np.arange(first, first + k))
    return out, markers, peak, True


def _glow_window(smooth, low, d, core, lo, hi, margin):
    """The part of a chunk's window (``lo``, ``hi``: its first and past-last pixels per
    axis, of ``smooth``) grown for the steps that read around a saturated cell: each
    component (8-connected) above ``_SMALL_CELL * low`` (where the saturated cells lie,
    :func:`._saturated._saturated`) whose reach comes to the chunk's core (``core``: its
    slices in the window) is held whole with that reach and ``margin`` pixels around it,
    and every component within twice the reach of it is held whole (it owns the pixels
    nearer to it). The reach is the largest any step reads beyond a cell's box: the dim
    search's on its glow (a candidate within ``_GLOW_REACH`` d and its window of 0.9 d,
    :func:`._dim._glow_dim`; whether a component is a saturated cell, and its box, hang on
    its whole size) and the glow model's (its reach and the bumps' filters around it; the
    model is fitted on the labels there, drawn as in the whole image).

    Round 48: one grower for both; round 42's ``_saturated._held_cells`` held each cell
    within the dim search's reach whole and a pixel around it, which this window always
    holds (the model's reach is the larger)."""
    over = smooth > _SMALL_CELL * low
    if not over.any():
        return lo, hi
    comp, _ = ndi.label(over, np.ones((3, 3), bool))
    reach = max(int(np.ceil((_GLOW_REACH + 1) * d)),  # the dim search's
                _model_reach(d))  # the model's
    boxes = ndi.find_objects(comp)
    cells = np.unique(comp[_widened(core, reach, smooth.shape)])
    lo, hi = list(lo), list(hi)
    for i in cells[cells > 0]:
        box = boxes[i - 1]
        others = np.unique(comp[_widened(box, 2 * reach, smooth.shape)])
        for j, grow in [(i, reach + margin), *((j, 1) for j in others[others > 0])]:
            for axis, sl in enumerate(_widened(boxes[j - 1], grow, smooth.shape)):
                lo[axis], hi[axis] = min(lo[axis], sl.start), max(hi[axis], sl.stop)
    return lo, hi
