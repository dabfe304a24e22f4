"""Dim nuclei outlined on one side only, grown over their own flattened ring (issue 14, round 28).

On a background that rises across a nucleus (a saturated cell's glow, uneven light), the
foreground's one cut holds only the side of a dim nucleus nearer the brighter background:
its label is a half disc, under half the nucleus (round 28's measurement on the tuning
seeds of ``benchmarks/nuclei_cellline.py``: 12 of the `dim` and 8 of the `uneven d32`
nuclei missing at IoU 0.5 had a label 80-100 % on them holding 0.34-0.66 of their working
pixels after the glow steps, the rest background). Over a plane fitted to the ring
around it, the nucleus's rest stands out as the label does.

:func:`_grow_halves` measures, for each label under ``_SMALL`` nucleus areas (not on the
image border), the plane through the label-free pixels ``_RING`` d from its centroid
(robust: pixels above 2.5 deviations left out, three times), the label's contrast ``c`` (its
median over the plane) and the part above ``max(_HALF * c, _K * deviation)`` joined to the
label, taken within ``_CLIP`` d of the centroid. That part is given to the label when it
is at least ``_GAIN`` x the label, at most ``_MOST`` nucleus areas, and **lies to one side**:
its centroid at least ``_SHIFT`` d from the label's. The last is the cue that tells a half
nucleus from a whole one in a glow: a saturated cell's glow, above a tenth of its contrast
all round, grows it by a ring whose centroid is its own (0.000-0.007 d on the tuning seeds,
where 23 such rings took saturated cells under IoU 0.5); the half nuclei grown lie at
0.04-0.14 d. ``_SHIFT_MOST`` (0.15 d) was set on one object (a glow label 0.3 on a dim
nucleus, `dim` 0, at 0.185 d); ``_FREE`` keeps it out of crowds (dense fields: the rings
of the labels it grew there were 0.13-0.49 free). A pixel two labels claim is left to
neither.

Chunk-exact: every quantity is read within ``_RING[1]`` d of the label's centroid, and a
label whose window crosses a side of the array that is not the image border is left
alone (the chunk whose core holds it reads it whole).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids

_SMALL = 1.0  # labels under this many nucleus areas are looked at
_LEAST = 0.25  # ... and over this many
_RING = (0.9, 1.25)  # the plane is fitted to label-free pixels this far (x d) from the centroid
_HALF = 0.15  # the part above this fraction of the label's contrast over the plane ...
_K = 4.0  # ... and this many robust deviations of the ring
_FREE = 0.5  # ... when at least this share of the ring is free of labels (not in a crowd)
_CLIP = 0.7  # ... within this many d of the label's centroid
_GAIN = 1.1  # grown when the part is at least this x the label
_MOST = 1.6  # ... at most this many nucleus areas
_SHIFT = 0.04  # ... and its centroid at least this far (x d) from the label's
_CROSS = ndi.generate_binary_structure(2, 1)
_SQUARE = np.ones((3, 3), bool)
_SHIFT_MOST = 0.15  # ... and at most this far (a glow label half on a nucleus moved off it)


def _plane(rr, cc, v):
    """Coefficients of the plane through ``v`` at ``(rr, cc)`` and the robust deviation of
    the pixels kept, bright outliers (other objects) left out; None with too few pixels."""
    a = np.stack([np.ones_like(rr), rr, cc], 1)
    keep = np.ones(v.size, bool)
    coef = mad = None
    for _ in range(3):
        if keep.sum() < 9:
            return None
        ak = a[keep]
        try:  # the normal equations: 3 x 3
            coef = np.linalg.solve(ak.T @ ak, ak.T @ v[keep])
        except np.linalg.LinAlgError:
            return None
        res = v - a @ coef
        mad = float(np.median(np.abs(res[keep]))) * 1.4826 + 1e-12
        keep = res < 2.5 * mad
    return coef, mad


def _half_part(lab, sm, i, r0, c0, origin, d):
    """The pixels (window coordinates) label ``i`` grows into, or None (see the module).
    ``(r0, c0)``: its centroid in its box, ``origin``: the window's first pixel there."""
    gr, gc = np.indices(lab.shape, dtype=np.float64)
    gr = (gr + origin[0] - r0) / d
    gc = (gc + origin[1] - c0) / d
    dist = np.hypot(gr, gc)
    free = ~ndi.binary_dilation(lab > 0, _CROSS, iterations=2)
    ring = free & (dist >= _RING[0]) & (dist <= _RING[1])
    around = (dist >= _RING[0]) & (dist <= _RING[1])
    fit = (_plane(gr[ring], gc[ring], sm[ring])
           if ring.sum() >= max(20, _FREE * around.sum()) else None)
    if fit is None:
        return None
    coef, mad = fit
    res = sm - (coef[0] + coef[1] * gr + coef[2] * gc)
    own = lab == i
    c = float(np.median(res[own]))
    if c <= 0:
        return None
    up = (res > max(_HALF * c, _K * mad)) & ((lab == 0) | own) & (dist < _CLIP)
    up |= own
    comp, m = ndi.label(up, _SQUARE)
    keep = np.zeros(m + 1, bool)
    keep[comp[own]] = True
    region = keep[comp]
    grown = int(region.sum())
    size = int(own.sum())
    if grown < _GAIN * size or grown > _MOST * np.pi * d * d / 4:
        return None
    rg, cg = np.nonzero(region)
    ro, co = np.nonzero(own)
    shift = np.hypot(rg.mean() - ro.mean(), cg.mean() - co.mean())
    if shift < _SHIFT * d or shift > _SHIFT_MOST * d:
        return None
    return region & (lab == 0)


def _grow_halves(labels, smooth, d, border=(True, True, True, True)):
    """``labels`` with the dim nuclei outlined on one side only grown over their rest (see
    the module); and whether any pixel was added. ``border``: which sides of the array are
    the image's (top, bottom, left, right)."""
    n = int(labels.max())
    if n == 0:
        return labels, False
    nucleus = np.pi * d * d / 4
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    edge = np.zeros(n + 1, bool)
    edge[_edge_ids(labels, border)] = True
    look = (sizes < _SMALL * nucleus) & (sizes >= _LEAST * nucleus) & ~edge
    look[0] = False
    if not look.any():
        return labels, False
    boxes = ndi.find_objects(labels)
    h, w = labels.shape
    reach = int(np.ceil(_RING[1] * d))
    adds = []
    for i in np.flatnonzero(look):
        box = boxes[i - 1]
        rr, cc = np.nonzero(labels[box] == i)
        mr, mc = rr.mean(), cc.mean()  # the centroid in the label's box: exact in a chunk
        lo_r = int(np.floor(mr)) + box[0].start - reach
        lo_c = int(np.floor(mc)) + box[1].start - reach
        hi_r, hi_c = lo_r + 2 * reach + 2, lo_c + 2 * reach + 2
        # a window cut by a chunk's inner edge: left (the chunk holding it whole decides)
        if ((lo_r < 0 and not border[0]) or (hi_r > h and not border[1])
                or (lo_c < 0 and not border[2]) or (hi_c > w and not border[3])):
            continue
        win = (slice(max(lo_r, 0), min(hi_r, h)), slice(max(lo_c, 0), min(hi_c, w)))
        add = _half_part(labels[win], smooth[win].astype(np.float64), i, mr, mc,
                         (win[0].start - box[0].start, win[1].start - box[1].start), d)
        if add is not None and add.any():
            adds.append((i, win, add))
    if not adds:
        return labels, False
    claim = np.zeros(labels.shape, np.int32)
    who = np.zeros(labels.shape, labels.dtype)
    for i, win, add in adds:
        claim[win] += add
        who[win][add] = i
    take = (claim == 1) & (labels == 0)  # a pixel two labels claim goes to neither
    out = labels.copy()
    out[take] = who[take]
    return out, bool(take.any())
