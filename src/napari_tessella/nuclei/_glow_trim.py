"""Labels beside a saturated cell trimmed to their excess over the modelled glow (round 59).

A dim nucleus beside a saturated cell sits on the cell's glow, and its label often holds a
piece of that glow too (round 58: such a label looks like two nuclei to the cues read over
its ring); other labels there are a piece of glow alone. Over the glow the package models
(:func:`._glow_model._glow_of`) a nucleus stands out and the glow does not: each label
within the glow's reach, not the saturated cell's own, is read on its pixels' excess over
the model (smoothed by ``_SMOOTH`` d). A label of which at least ``_SHARE`` lies under
``_MARGIN`` times the dim search's level ``low`` holds a glow piece: it keeps the largest
4-connected part over the margin (its holes filled), or is dropped when that part is under
``_LEAST`` nucleus areas (a piece that is only glow).

Everything is read within the glow model's reach (:func:`._glow_model._model_reach`), which
a chunk's window holds (:func:`._glow_model._glow_window`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _mask_box
from ._glow_model import _CELL_SHARE, _glow_of, _model_reach

#: a label pixel stands over the glow: its excess over the model above this times ``low``
_MARGIN = 1.0
#: a label holds a glow piece when at least this share of its modelled pixels is under it
_SHARE = 0.25
#: what is left over the margin, in nucleus areas (pi d^2 / 4): under it, the label goes
_LEAST = 0.15
#: a label with less than that left over the margin is dropped (else left as it was)
_DROP = True
#: a label is trimmed only to a part of at least this many nucleus areas; between
#: ``_LEAST`` and this it is left as it was (a dim nucleus barely over the glow)
_TRIM_LEAST = 0.65
#: the excess is smoothed by this times d before it is read
_SMOOTH = 1 / 16
#: a label is read when at least this share of its pixels lies within the model's reach
_MODELLED = 0.5


def _trimmed_to_glow(labels, raw, bright, low, d, least):
    """``labels`` with each label near the saturated cells ``bright`` that holds a piece of
    their modelled glow trimmed to its part over the glow, or dropped when that part is
    smaller than ``_LEAST`` nucleus areas or ``least`` pixels; and whether any changed.
    ``raw``: the working image before its flattening (the glow model's image)."""
    if raw is None or bright is None or not bright.any() or not labels.any():
        return labels, False
    crop = _mask_box(bright, _model_reach(d))
    lab, img, br = labels[crop], raw[crop], bright[crop]
    own = np.unique(lab[br])
    nall = np.bincount(lab.ravel(), minlength=int(lab.max()) + 1)
    nsat = np.bincount(lab[br], minlength=nall.size)
    cells = np.zeros(nall.size, bool)
    cells[own[nsat[own] >= _CELL_SHARE * np.maximum(nall[own], 1)]] = True
    cells[0] = True
    model, _ = _glow_of(img, br, d, cells[lab])
    known = ~np.isnan(model)
    if not known.any():
        return labels, False
    excess = ndi.gaussian_filter(np.where(known, img - model, 0.0), max(d * _SMOOTH, 0.5))
    over = ~known | (excess > _MARGIN * low)
    whole = np.bincount(labels.ravel(), minlength=nall.size)
    area = np.pi * d * d / 4
    out, changed = None, False
    for i, box in enumerate(ndi.find_objects(lab), start=1):
        if box is None or cells[i]:
            continue
        sel = lab[box] == i
        on = known[box] & sel
        n_on = int(np.count_nonzero(on))
        if n_on < _MODELLED * whole[i]:
            continue  # mostly beyond the reach (or beyond the crop): not read
        up = over[box] & sel
        if np.count_nonzero(on & ~up) < _SHARE * n_on:
            continue
        part, m = ndi.label(up)
        if m:
            sizes = np.bincount(part.ravel())
            sizes[0] = 0
            keep = ndi.binary_fill_holes(part == int(np.argmax(sizes))) & sel
        else:
            keep = np.zeros_like(sel)
        kept = np.count_nonzero(keep)
        small = kept < max(_LEAST * area, least)
        if (small and not _DROP) or (not small and kept < _TRIM_LEAST * area):
            continue
        if out is None:
            out = labels.copy()
        view = out[crop][box]
        if small:
            view[sel] = 0
        else:
            view[sel & ~keep] = 0
        changed = True
    return (labels, False) if out is None else (out, changed)
