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
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _binary_dilation
from ._cues import _disc, _edge_sharpness, _label_quantile, _rim_gradient
from ._dim import _own_half_cut
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

