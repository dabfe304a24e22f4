"""Each intensity basin of a dense field's label cut at its own peak (issue 14, round 40).

The recipe cuts every label at 30 % of its own peak over the background
(:func:`._recipe._trim_to_own_peak`). On a dense blurred field a dim nucleus with no seed
of its own is flooded from a brighter neighbour's, and that neighbour's cut takes it:
its top stays in the neighbour's label, the rest is cut off as a crescent too narrow for
the trim's rescue. Where a label holds two intensity maxima apart by a saddle, the dimmer
one's basin is its own: cut at 30 % of *its* peak, it is a label of its own when it holds
the core of a nucleus (the rescue's inscribed disc of radius d/4). Only the dense fields
(the recipe's shoulder gate) run it: a nucleus's foci are basins too.

Everything is read inside one label's box (its pixels only): a window that holds the
label gives the same basins.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: a basin: a maximum whose dynamic is at least this share of its label's contrast
_DYNAMIC = 0.02
#: only basins whose peak is below this share of their label's contrast (not its own top)
_DIMMER = 0.9
#: a basin's own cut: this share of its own contrast (the recipe's ``_TRIM``)
_OWN = 0.3
#: a basin is a nucleus when its cut holds a disc of this radius times d (``_PEAK_R``)
_CORE_R = 0.25
#: ... and when the label's own cut took at least this share of it (a dim nucleus trimmed
#: away, not a brighter nucleus's texture, all above its cut)
_TAKEN = 0.25


def _cut_by_basins(flooded, trimmed, smooth, level, d):
    """``trimmed`` with the dimmer intensity basins of each label of ``flooded`` (its
    labels before the trim) cut at their own peak and labelled on their own.

    Parameters
    ----------
    flooded : (M, N) ndarray of int
        The flooded labels, before the trim.
    trimmed : (M, N) ndarray of int
        The same labels trimmed at their own peak (ids at most those of ``flooded`` or
        above, new ones are put above both).
    smooth : (M, N) ndarray of float
        The smoothed working image.
    level : float
        The background level.
    d : float
        The typical diameter, working pixels.

    Returns
    -------
    (M, N) ndarray of int32
        ``trimmed`` (a copy when anything was added) with the basins that hold a
        nucleus's core as new labels.
    """
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    out = trimmed
    top = int(max(trimmed.max(), flooded.max()))
    for i, box in enumerate(ndi.find_objects(flooded), start=1):
        if box is None:
            continue
        own = flooded[box] == i
        sub = smooth[box]
        peak = float(sub[own].max())
        if peak <= level:
            continue
        tops = h_maxima(np.where(own, sub - level, 0), _DYNAMIC * (peak - level)) & own
        seeds, k = ndi.label(tops, np.ones((3, 3)))
        if k < 2:
            continue
        basins = watershed(-sub, seeds, mask=own)
        for b in range(1, k + 1):
            basin = basins == b
            mine = float(sub[basin].max())
            if mine - level >= _DIMMER * (peak - level):
                continue
            kept = basin & (sub > level + _OWN * (mine - level))
            if np.count_nonzero(kept & (trimmed[box] == 0)) < _TAKEN * np.count_nonzero(kept):
                continue
            if ndi.distance_transform_edt(np.pad(kept, 1)).max() < d * _CORE_R:
                continue
            if out is trimmed:
                out = trimmed.copy()
            top += 1
            out[box][kept] = top
    return out.astype(np.int32, copy=False)
