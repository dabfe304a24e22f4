"""Dim nuclei left wholly outside every label (issue 14, round 31).

On dense fields the pixels below the log-Otsu cut are mostly dim nuclei and the flanks
of bright ones: their median (the level) lies well above the true background and their
spread (the noise, the log's offset) is theirs, not the camera's. The foreground cut
and the dim search's level (:func:`._foreground._dim_level`) then both lie above nuclei
that stand 10x the noise over the dark background around them. :func:`_with_missing`
looks for them where no label is: the pixels above the level, away from every label,
cut at half their own contrast over their own ring, kept when they have a nucleus's
area and compactness and an edge of their own (a steep rim, sharp against the ring) --
what an out-of-focus glow, fading slowly into its ring, has not.

Round 52, on sparse fields (:func:`_with_free_dim`): a dim nucleus whose piece the
global cut dropped, lying in a wide region over the level that no label is near (a
saturated cell's glow, the flanks of bright neighbours), where the glow search
(:func:`._dim._glow_dim`) drew nothing: that region's LoG maxima, each read over a
surface fitted to its ring's pixels off every label, kept with a nucleus's size, solidity
and steep edge (the outline at a fifth of its contrast not much wider than its part over
half: a smooth fall-off's is 2.3 times).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _binary_dilation
from ._cues import _disc, _edge_sharpness, _label_quantile, _rim_gradient
from ._dim import (
    _GLOW_DEVS,
    _GLOW_RING,
    _elongation,
    _hull_area,
    _log_peaks,
    _own_half_cut,
    _ring_surface,
)
from ._markers import _split_at_necks_of
from ._small import _compact, _with_new_peaks

_DISTANCE_SMOOTHING = 0.1  # as the recipe's seeding of touching nuclei
_H = 0.05

#: candidates: the pixels above the level farther than this times d from every label
_GAP = 0.1
#: kept: at least this share of a nucleus's area (pi d^2 / 4) ...
_LEAST = 0.4
#: ... at most this many nucleus areas
_MOST = 3.0
#: ... a rim this steep (gradient x d over the contrast over its own ring)
_STEEP = 2.5
#: ... and this sharp against its ring, the contrast taken over its own ring
_SHARP = 0.5
#: ... and at most this share of it in the foreground (the global cut's)
_INSIDE = 0.5
def _with_missing(labels, markers, peak, smooth, level, d, least, mask):
    """``labels`` with the dim nuclei no label covers added as labels of their own, with
    markers and peaks. Returns the labels, markers, peaks and whether anything was added."""
    near = _binary_dilation(labels > 0, _disc(max(1.0, _GAP * d)))
    comp, n = ndi.label((smooth > level) & ~near)
    if n == 0:
        return labels, markers, peak, False
    nucleus = np.pi * d * d / 4
    area = np.bincount(comp.ravel(), minlength=n + 1)
    cand = (area >= max(least, _LEAST * nucleus)) & (area <= 4 * _MOST * nucleus)
    cand[0] = False
    if not cand.any():
        return labels, markers, peak, False
    base, part = _own_half_cut(comp, cand, smooth, level, d, n)
    # touching dim nuclei split along their necks, as the recipe seeds them
    piece, _, _ = _split_at_necks_of(part > 0, d * _DISTANCE_SMOOTHING, d * _H, smooth.dtype)
    m = int(piece.max()) + 1
    if m == 1:
        return labels, markers, peak, False
    base = _per_label_from(piece, part, base, m)
    size = np.bincount(piece.ravel(), minlength=m)
    ok = (size >= max(least, _LEAST * nucleus)) & (size <= _MOST * nucleus)
    ok[0] = False
    ids = np.flatnonzero(ok)
    if ids.size:
        ids = ids[_compact(piece, ids, size)]
    if not ids.size:
        return labels, markers, peak, False
    keep = np.zeros(m, bool)
    keep[ids] = True
    # the edge against its own ring: rim gradient and sharpness over the contrast above base
    low = float(np.min(base[ids]))
    med = _label_quantile(smooth, piece, m - 1, 0.5)
    grad = _rim_gradient(piece, smooth, low, d, ids)  # x d / (median - low)
    steep = grad * (med - low) / np.maximum(med - base, 1e-12)
    inner = []
    sharp = _edge_sharpness(piece, smooth, low, d, inner=inner)
    rim = inner[0]
    with np.errstate(invalid="ignore"):
        outer = rim - sharp * (rim - low)
        sharp = (rim - outer) / np.maximum(rim - base, 1e-12)
    share = np.bincount(piece.ravel(), weights=mask.ravel(), minlength=m) / np.maximum(size, 1)
    keep &= share <= _INSIDE
    keep &= (steep >= _STEEP) & ((sharp >= _SHARP) | ~np.isfinite(sharp)) & (med > base)
    keep[0] = False
    if not keep.any():
        return labels, markers, peak, False
    part = piece
    ids = np.flatnonzero(keep)
    first = max(peak.size, int(labels.max()) + 1)
    table = np.zeros(m, np.int64)
    table[ids] = first + np.arange(ids.size)
    on = keep[part]
    out = labels.copy()
    out[on] = table[part[on]]
    markers = markers.copy()
    top = int(markers.max())
    markers[on] = top + part[on]
    peak = _with_new_peaks(peak, first, smooth, out, table[ids])
    return out.astype(np.int32), markers, peak, True


def _per_label_from(piece, part, values, m) -> np.ndarray:
    """``values`` (per label of ``part``) per label 0..m-1 of ``piece``, whose labels each
    lie inside one label of ``part``."""
    out = np.zeros(m)
    at = piece > 0
    out[piece[at]] = values[part[at]]
    return out



#: round 52: a dim nucleus in a wide unlabelled region over the level (a glow's fall-off,
#: the flanks of bright neighbours): the region's components of at least this many
#: nucleus areas are searched ...
_FREE_REGION = 0.5
#: ... at LoG maxima at least this times d from every label ...
_FREE_GAP = 0.4
#: ... over a quadratic surface fitted to their ring off the labels (``_dim._GLOW_RING``),
#: at least this share of the ring in use ...
_FREE_RING = 0.5
#: ... found as the part over the second share of its contrast, outlined at the first:
#: ``_FREE_CUTS`` (outline, found) ...
_FREE_CUTS = (0.2, 0.5)
#: ... kept when the part found is this many nucleus areas ...
_FREE_AREA = (0.3, 1.6)
#: ... this solid (area over its hull's) ...
_FREE_SOLID = 0.85
#: ... and its edge is steep: the outline at most this many times the part found (a flat
#: nucleus blurred at its rim: near 1; a smooth bump, a Gaussian: ln 5 / ln 2 = 2.3)
_FREE_STEEP = 1.5
#: its contrast: the median over this disc (x d; the glow search's body)
_FREE_BODY = 0.25


def _free_dim(labels, smooth, level, low, d, bright):
    """Outlines (a boolean image, or None) and points of dim nuclei in the wide regions
    over ``level`` that no label is near: the LoG maxima there, each read over a surface
    fitted to its ring's pixels off the labels and the saturated pixels ``bright``, the
    tests of :func:`._dim._glow_dim` (contrast, size, touch, elongation) with a solid,
    steep-edged part (``_FREE_SOLID``, ``_FREE_STEEP``)."""

    busy = _binary_dilation((labels > 0) | bright, _disc(max(1.0, 0.1 * d)))
    comp, n = ndi.label((smooth > level) & ~busy)
    if n == 0:
        return None, None
    nucleus = np.pi * d * d / 4
    area = np.bincount(comp.ravel(), minlength=n + 1)
    big = area >= _FREE_REGION * nucleus
    big[0] = False
    if not big.any():
        return None, None
    R = int(np.ceil(_GLOW_RING[1] * d))
    sigma = d / (2 * np.sqrt(2))
    w = 2 * max(1, round(0.3 * d)) + 1
    yy, xx = (q.astype(np.float64) for q in np.mgrid[-R:R + 1, -R:R + 1])
    rr = np.hypot(yy, xx)
    ring = (rr >= _GLOW_RING[0] * d) & (rr <= _GLOW_RING[1] * d)
    body = rr <= _FREE_BODY * d
    disc = rr <= _GLOW_RING[1] * d
    edge = disc & (rr > 0.85 * d)
    terms = (yy, xx, np.ones_like(yy), yy * yy, xx * xx, yy * xx)
    pad = R + int(2.5 * sigma + 0.5) + w
    s = np.pad(smooth.astype(np.float64), pad, mode="reflect")
    free = np.pad(~busy, pad)
    region = np.pad(big[comp], pad)
    far = np.pad(ndi.distance_transform_edt(~((labels > 0) | bright)) >= _FREE_GAP * d, pad)
    flat = np.where(free, s, level)  # the labels' pixels out of the Laplacian
    out = np.zeros(s.shape, bool)
    points = np.zeros(s.shape, bool)
    for sl in ndi.find_objects(np.pad(np.where(big[comp], comp, 0), pad)):
        if sl is None:
            continue
        box = tuple(slice(q.start - R - w, q.stop + R + w) for q in sl)
        at = _log_peaks(flat[box], sigma, w) & region[box] & far[box]
        for y, x in zip(*np.nonzero(at), strict=True):
            y, x = y + box[0].start, x + box[1].start
            if y - R < pad or x - R < pad or y + R >= s.shape[0] - pad or (
                    x + R >= s.shape[1] - pad):
                continue  # (on the image border: not read here)
            win = (slice(y - R, y + R + 1), slice(x - R, x + R + 1))
            use = ring & free[win]
            if use.sum() < _FREE_RING * ring.sum():
                continue
            a = np.column_stack([q[use] for q in terms])
            sw = s[win]
            coef, dev = _ring_surface(a, sw[use])
            over = sw - sum(c * q for c, q in zip(coef, terms, strict=True))
            over[~free[win]] = -np.inf
            contrast = float(np.median(over[body]))
            if contrast <= _GLOW_DEVS * dev or contrast <= low - level:
                continue
            lab = ndi.label((over > _FREE_CUTS[1] * contrast) & disc)[0]
            if not lab[R, R]:
                continue
            part = lab == lab[R, R]
            lab = ndi.label((over > _FREE_CUTS[0] * contrast) & disc)[0]
            size, wide = part.sum(), lab == lab[R, R]
            if not (_FREE_AREA[0] * nucleus <= size <= _FREE_AREA[1] * nucleus
                    and (wide & edge).sum() <= 0.1 * edge.sum()
                    and _elongation(yy[part], xx[part]) <= 2.5
                    and wide.sum() <= _FREE_STEEP * size
                    and size >= _FREE_SOLID * _hull_area(part)):
                continue
            out[win] |= ndi.binary_dilation(wide, np.ones((3, 3), bool)) & disc & free[win]
            points[y, x] = True
    inner = (slice(pad, s.shape[0] - pad), slice(pad, s.shape[1] - pad))
    if not points.any():
        return None, None
    return out[inner], points[inner]


def _with_free_dim(labels, markers, peak, smooth, level, low, d, least, bright):
    """``labels`` with the dim nuclei of :func:`_free_dim` added as labels of their own
    (outlines of ``least`` pixels), with markers and peaks; and whether any was added.
    Only in a field with saturated cells (``bright``, :func:`._saturated._saturated`):
    the dim nuclei never proposed lie mostly near them (53 of 67 within 2.5 d on the
    tuning seeds), U2OS's faint unlabelled smudges in fields with none."""
    if not bright.any():  # (U2OS's faint smudges lie in fields with no saturated cell)
        return labels, markers, peak, False
    found, points = _free_dim(labels, smooth, level, low, d, bright)
    if found is None:
        return labels, markers, peak, False
    comp, k = ndi.label(found & (labels == 0))
    size = np.bincount(comp.ravel(), minlength=k + 1)
    has = np.bincount(comp[points], minlength=k + 1) > 0
    keep = (size >= least) & has
    keep[0] = False
    if not keep.any():
        return labels, markers, peak, False
    ids = np.flatnonzero(keep)
    first = max(peak.size, int(labels.max()) + 1)
    table = np.zeros(k + 1, np.int64)
    table[ids] = first + np.arange(ids.size)
    on = keep[comp]
    out = labels.copy()
    out[on] = table[comp[on]]
    markers = markers.copy()
    markers[on] = int(markers.max()) + comp[on]
    peak = _with_new_peaks(peak, first, smooth, out, table[ids])
    return out.astype(np.int32), markers, peak, True
