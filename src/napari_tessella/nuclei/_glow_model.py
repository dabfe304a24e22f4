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
reach around it; a chunk's window holds that whole (:func:`_glow_window`).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from .._label_image import _widened
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


def _group_quantile(values, groups, q, size):
    """Per group 0..size-1: the ``q`` quantile of ``values`` (lower, nan where empty) and
    the count."""
    order = np.lexsort((values, groups))
    ks, vs = groups[order], values[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    counts = np.diff(np.r_[starts, ks.size])
    out = np.full(size, np.nan)
    cnt = np.zeros(size, np.int64)
    out[ks[starts]] = vs[starts + np.floor(q * (counts - 1)).astype(np.int64)]
    cnt[ks[starts]] = counts
    return out, cnt


def _sector_line(x, y):
    """(scale, offset) of ``y`` ~ offset + scale * ``x``: a straight line fitted three times,
    each leaving out the points over the median residual plus two median absolute
    deviations (a nucleus lifts its bands)."""
    if x.size < 4 or np.ptp(x) <= 0:
        return 1.0, (float(np.nanmedian(y - x)) if x.size else 0.0)
    keep = np.ones(x.size, bool)
    for _ in range(3):
        with warnings.catch_warnings():  # bands of one profile level: the fit as it comes
            warnings.simplefilter("ignore", np.exceptions.RankWarning)
            a, b = np.polyfit(x[keep], y[keep], 1)
        r = y - (a * x + b)
        mid = np.median(r[keep])
        keep = r <= mid + 2 * (np.median(np.abs(r[keep] - mid)) + 1e-9)
        if keep.sum() < 4:
            break
    return a, b


def _glow_of(img, bright, d, fit):
    """The modelled glow of the saturated cells ``bright`` (nan beyond ``_GLOW_REACH`` d of
    them), fitted on the pixels ``fit`` of ``img``; and the distance to them, in ``d``."""
    dd, (iy, ix) = ndi.distance_transform_edt(~bright, return_indices=True)
    comp, n = ndi.label(bright, np.ones((3, 3), bool))
    owner = comp[iy, ix].astype(np.int64)
    near = dd <= _GLOW_REACH * d
    nb = int(_GLOW_REACH * d) + 2
    band = np.floor(dd).astype(np.int64)
    # the radial profile: per cell and band, non-increasing outward
    key = owner * nb + band
    prof, _ = _group_quantile(img[near & fit].astype(np.float64), key[near & fit], _FIT_Q,
                              (n + 1) * nb)
    prof = np.minimum.accumulate(np.where(np.isnan(prof), np.inf, prof).reshape(n + 1, nb),
                                 axis=1)
    prof[~np.isfinite(prof)] = np.nan
    # per sector: the band quantiles from _GAP d out as a line of the profile
    rr, cc = np.indices(img.shape)
    ids = np.arange(1, n + 1)
    cy = np.r_[0, ndi.mean(rr, comp, ids)] if n else np.zeros(1)
    cx = np.r_[0, ndi.mean(cc, comp, ids)] if n else np.zeros(1)
    t = (np.arctan2(rr - cy[owner], cc - cx[owner]) + np.pi) / (2 * np.pi) * _SECTORS - 0.5
    s0 = np.floor(t).astype(np.int64) % _SECTORS
    w = t - np.floor(t)
    sector = np.floor(t + 0.5).astype(np.int64) % _SECTORS
    sel = near & fit & (dd >= _GAP * d)
    q, cnt = _group_quantile(img[sel].astype(np.float64),
                             ((owner * _SECTORS + sector) * nb + band)[sel], _FIT_Q,
                             (n + 1) * _SECTORS * nb)
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
    model[near] = b[near] + a[near] * prof[owner[near], band[near]]
    return model, dd / d


def _glow_pad(d) -> int:
    """Pixels the bumps read around the glow's reach: the LoG's and the top's window."""
    return int(4 * d / (2 * np.sqrt(2)) + 0.5) + max(1, round(0.3 * d)) + 2


def _over_glow_pieces(labels, img, bright, low, d, least):
    """Pieces of ``img`` over the modelled glow of the saturated cells ``bright``, on the
    background or the cells' own labels of ``labels``, numbered 1..n (int32): LoG bumps of
    the excess over ``_OVER * low``, each cut at half its height (the 0.9 quantile of the
    excess smoothed by d / 8), of ``_AREA`` nucleus areas and ``least`` pixels, its ring's
    median at most ``_RING`` of its own. Returns them in ``crop`` (slices of ``labels``:
    the saturated pixels' box with the glow's reach and the bumps' around it, where every
    one of them is read) and ``crop``."""
    rows, cols = np.nonzero(bright)
    pad = int(np.ceil(_GLOW_REACH * d)) + 1 + _glow_pad(d)
    crop = _widened((slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1)),
                    pad, labels.shape)
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
    if not over.any():
        return out, crop
    soft = ndi.gaussian_filter(excess, d / 8)
    blob = -ndi.gaussian_laplace(excess, d / (2 * np.sqrt(2)))
    w = 2 * max(1, round(0.3 * d)) + 1
    seeds, k = ndi.label(over & (blob == ndi.maximum_filter(blob, w)) & (blob > 0),
                         np.ones((3, 3), bool))
    if not k:
        return out, crop
    basins = watershed(-blob, seeds, mask=over)
    height = np.asarray(ndi.labeled_comprehension(soft, basins, np.arange(1, k + 1),
                                                  lambda v: np.quantile(v, 0.9), float, 0))
    area, n = np.pi * d * d / 4, 0
    for c, box in enumerate(ndi.find_objects(basins), start=1):
        if box is None:
            continue
        box = _widened(box, max(1, round(0.25 * d)), basins.shape)
        part, m = ndi.label((basins[box] == c) & (soft[box] > height[c - 1] / 2))
        sel = part == 1 + int(np.argmax(np.bincount(part.ravel())[1:])) if m > 1 else part > 0
        size = int(sel.sum())
        if not _AREA[0] * area <= size <= _AREA[1] * area or size < least:
            continue
        ring = ndi.binary_dilation(sel, iterations=max(1, round(0.25 * d))) & ~sel
        if np.median(soft[box][ring]) > _RING * np.median(soft[box][sel]):
            continue
        n += 1
        out[box][sel] = n
    return out, crop


def _with_over_glow(labels, markers, peak, smooth, low, d, least, raw, work):
    """``labels`` with the nuclei over a saturated cell's modelled glow added as labels of
    their own: the pieces of :func:`_over_glow_pieces` (on ``raw``, the working image
    before its flattening) with ``_texture`` (of ``work``) at least ``_TEXTURE`` and the
    gradient coherence of ``smooth`` under ``_COHERENCE``; with markers and peaks, and
    whether any was added."""
    if raw is None or work is None or not smooth.max() > _SMALL_CELL * low:
        return labels, markers, peak, False  # no saturated cell (its pixels pass that)
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
    axis, of ``smooth``) grown for :func:`_with_over_glow`: each component (8-connected)
    above ``_SMALL_CELL * low`` (where the saturated cells lie, :func:`._saturated._saturated`)
    whose glow's reach and the bumps' around it come to the chunk's core (``core``: its
    slices in the window) is held with that reach and ``margin`` pixels around it (its
    model is fitted on the labels there, drawn as in the whole image), and every component
    within twice the reach of it is held whole (it owns the pixels nearer to it)."""
    over = smooth > _SMALL_CELL * low
    if not over.any():
        return lo, hi
    comp, _ = ndi.label(over, np.ones((3, 3), bool))
    reach = int(np.ceil(_GLOW_REACH * d)) + 1 + _glow_pad(d)
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
