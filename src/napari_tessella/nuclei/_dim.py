"""Dim nuclei the global foreground cut missed (issue 14, rounds 10 and 18b).

Saturated cells and bright nuclei pull the log-Otsu cut up to the contrast of nuclei only
1.3-2x over their local background: :func:`_dim_nuclei` adds them from a lower level,
each cut at half its own contrast, and :func:`_dim_kept` gives the outline it found back
to the nucleus after the per-nucleus trim. Kept apart from :mod:`._cues` (its rim and
sharpness cues), which :mod:`._recipe` calls too.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _only, _per_label, _widened
from ._cues import _edge_sharpness, _label_quantile, _rim_gradient

#: a dim part's own ring: the pixels within this many d outside it
_RING = 0.25


def _own_ring(sel, smooth, d, n) -> np.ndarray:
    """Per label 0..n of ``sel``, the median of ``smooth`` over the pixels outside every
    label within ``_RING * d`` (a square, symmetric under flips and turns) of it and of no
    other label (-inf where there are none, and for 0).

    A ring pixel near two labels belongs to neither: giving it to one (the larger id, as a
    maximum filter does) would settle the tie by the labels' raster order, which a flip
    of the image changes."""
    r = max(1, round(_RING * d))
    rows, cols = np.flatnonzero(sel.any(axis=1)), np.flatnonzero(sel.any(axis=0))
    box = _widened((slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)), r,
                   sel.shape)  # the candidates and their rings
    sel = sel[box].astype(np.uint16 if n < 2**16 - 1 else np.int64)  # a faster filter
    top = ndi.maximum_filter(sel, 2 * r + 1, mode="constant", cval=0)
    bottom = ndi.minimum_filter(np.where(sel > 0, sel, n + 1).astype(sel.dtype), 2 * r + 1,
                                mode="constant", cval=n + 1)
    ring = (sel == 0) & (top > 0) & (top == bottom)
    return _label_quantile(smooth[box], np.where(ring, top, 0), n, 0.5)


def _dim_nuclei(smooth, mask, level, low, d, min_area, *, most: float, steep: float,
                sharp: float, parts: bool = False):
    """``mask`` with the dim nuclei the global cut missed: each connected part of ``smooth
    > low`` of ``min_area`` to ``most`` nucleus areas adds its pixels above half its median
    contrast, when they hold ``min_area``, some of them outside the foreground, and their
    edge is a nucleus's: its rim as steep (:func:`_rim_gradient` at least ``steep``) and
    as sharp against its ring (:func:`_edge_sharpness` at least ``sharp``). With
    ``parts``, also the pixels it added, labelled by part (0 elsewhere).

    The log-Otsu cut is one level for the whole field; saturated cells and bright nuclei
    pull it up to the contrast of nuclei only 1.3-2x over their local background, which
    then never enter the foreground or enter it by a sliver below the minimum size
    (``benchmarks/nuclei_cellline.py``, ``dim``: 12 of the 28 missing nuclei of the tuned
    and held-out seeds). Cut at half its own contrast, such a part is where its edge is;
    the rim test leaves out the slopes of glows and the flattening's residue (rim gradient
    1.0-2.3 x contrast / d; nuclei 3.4-6.5); the sharpness, set well above the cut of
    :func:`_drop_unsharp`, the faint out-of-focus smudges of U2OS that no annotator drew
    (0.41-0.78; the dim nuclei found: 0.80-1.12). Parts are bounded in size (a few nuclei), so
    the test is local and chunks with their margin see the same parts.

    Its contrast is measured from its own ring (:func:`_own_ring`) where that lies below
    the global ``level`` (round 18b): beside a saturated cell the flattened image around a
    textured dim nucleus is 0 while the level is 3-5, and half-way from the level cut it
    into pieces below the minimum size. The cut is never raised above the level's.
    """
    comp, n = ndi.label(smooth > low)
    none = np.zeros(smooth.shape, np.int32) if parts else None
    if n == 0:
        return (mask, none) if parts else mask
    area = np.bincount(comp.ravel(), minlength=n + 1)
    inside = np.bincount(comp.ravel(), weights=mask.ravel(), minlength=n + 1)
    nucleus = np.pi * d * d / 4
    cand = (area >= min_area) & (area <= most * nucleus) & (inside < area)
    cand[0] = False
    if not cand.any():
        return (mask, none) if parts else mask
    sel = _only(comp, _per_label(cand, comp))
    median = _label_quantile(smooth, sel, n, 0.5)
    ring = _own_ring(sel, smooth, d, n)
    base = np.where(np.isfinite(ring) & (ring < level), ring, level)
    half = base + 0.5 * (median - base)
    half[0] = np.inf
    part = _only(sel, smooth > half[sel])
    big = np.bincount(part.ravel(), minlength=n + 1) >= min_area
    big &= np.bincount(part[~mask], minlength=n + 1) > 0  # something to add
    big[0] = False
    if not big.any():
        return (mask, none) if parts else mask
    ids = np.flatnonzero(big)
    part = _only(part, big[part])
    keep = _rim_gradient(part, smooth, level, d, ids) >= steep
    keep &= _edge_sharpness(part, smooth, level, d) >= sharp
    keep[0] = False
    if not parts:
        return mask | keep[part]
    return mask | keep[part], np.where(keep[part], part, 0)


def _dim_kept(trimmed, first, kept, least) -> np.ndarray:
    """``trimmed`` with the pixels of each part of ``kept`` (labels, from
    :func:`_dim_nuclei`) that the trim took off the first-pass label ``first`` covering
    more than half of the part given back to it, when the trim left that label at least
    ``least`` pixels (the minimum size, also at the border: a sliver left there is no
    nucleus's body) and no other label holds as many of the part.

    The part is the dim nucleus's outline, cut at half its own contrast; the trim's cut at
    a fraction of its foci-capped peak passes inside its edge. A label the trim removed is
    not brought back (U2OS dna-37: a bright, sharp, textured object no annotator drew).
    Every choice is by pixel counts, a majority: no tie is settled by label ids.
    """
    on = kept > 0
    p = kept[on].astype(np.int64)
    m = int(p.max(initial=0)) + 1
    # the first-pass label covering most of each part, and how much of it
    w = int(first.max()) + 1
    pairs, counts = np.unique(p * w + first[on], return_counts=True)
    part_of, label_of = np.divmod(pairs, w)
    area = np.bincount(p, minlength=m)
    major = (label_of > 0) & (2 * counts > area[part_of])
    owner = np.zeros(m, np.int64)
    owner[part_of[major]] = label_of[major]
    # ... which the trim left whole enough, holding more of the part than any other label
    t = int(trimmed.max()) + 1
    sizes = np.bincount(trimmed.ravel(), minlength=max(t, w))
    ok = (owner > 0) & (sizes[owner] >= least)
    pairs, counts = np.unique(p * t + trimmed[on], return_counts=True)
    part_of, label_of = np.divmod(pairs, t)
    held = label_of > 0
    own = held & (label_of == owner[part_of])
    mine = np.zeros(m, np.int64)
    mine[part_of[own]] = counts[own]
    rival = np.zeros(m, np.int64)
    np.maximum.at(rival, part_of[held & ~own], counts[held & ~own])
    ok &= mine > rival
    ok[0] = False
    if not ok.any():
        return trimmed
    give = on & (trimmed == 0)
    give[on] &= ok[p] & (first[on] == owner[p])
    out = trimmed.copy()
    out[give] = first[give]
    return out
