"""Nuclei with foci judged unsharp at the trim's cut: their edge read at their body's cut.

The trim cuts each nucleus at a fraction of its own peak, the peak capped at twice its
core's median contrast (:func:`._cues._unless_foci`): a nucleus with bright foci is cut at
0.6 of its body's contrast where one without is cut at about 0.35. That cut passes inside
the nucleus's blurred edge, so the ring :func:`._cues._edge_sharpness` reads lies on the
nucleus's own flank, and the nucleus measures as unsharp as a glow (round 38: on the
``fibroblast`` cell-line fields, nuclei with foci at 0.25-0.40 that measure 0.36-0.81
with the same foci left out). Exempting nuclei with foci from the edge cue kept glare
with a speck on it (issue 14, first round); so their edge is read again where the final
outlines put it, at the body's cut (``_FOCI_BODY`` times the body's median contrast, the
trim's fraction of it, :mod:`._outlines`): the label grown out to that cut, at most
``_REACH`` d, into the background. A nucleus then shows its blurred step; glare, a smooth
bump, is as unsharp cut lower as higher.

Only the label's own pixels and those within ``_REACH`` d plus its ring are read, in
whole pixels: a chunk's window that holds the label with that margin gives the in-memory
answer.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _binary_dilation, _widened
from ._cues import _disc, _edge_sharpness
from ._outlines import _FOCI_BODY, _FOCI_CAP, _TRIM

#: a label's own foci: its maximum above the trim's cap times its median contrast (a
#: nucleus without foci peaks at 1.1-1.3 times it); its edge is read again at this
#: fraction of that median contrast (where the final outline of a nucleus with foci is)
_CAP = _FOCI_CAP
_BODY_CUT = _TRIM * _FOCI_BODY
#: ... the label grown out to that cut by at most this much (x d) into the background
_REACH = 0.2
#: foci lie inside a nucleus: the label's maximum at least this many pixels (4-steps)
#: inside its outline. A piece of a saturated cell's glow is brightest on the side that
#: rises into the cell, at its rim (round 38: 3 of the 5 glow pieces the edge kept)
_INSIDE = 2
#: ... and foci, not a speck: the label's upper tenth at least this times its median
#: contrast. The nuclei with foci the edge cue dropped on the tuning fields read
#: 1.44-1.94; a dim smudge holding one bright speck on a real U2OS image 1.25 (round 38)
_FOCI_TENTH = 1.35


def _sharp_at_body(labels, ids, *, smooth, level, d, sharp: float) -> np.ndarray:
    """Of the labels ``ids`` (unsharp at their trimmed outline), which hold foci of their
    own (their maximum over ``_CAP`` times their median contrast over ``level``,
    ``_INSIDE`` pixels inside their outline, their 90th percentile at least
    ``_FOCI_TENTH`` times that contrast) and
    stand out of their ring with at least ``sharp`` (:func:`._cues._edge_sharpness`)
    once grown, through background pixels above ``_BODY_CUT`` of that contrast, by at
    most ``_REACH`` d. A boolean per label 0..n."""
    n = int(labels.max())
    out = np.zeros(n + 1, bool)
    if ids.size == 0:
        return out
    boxes = ndi.find_objects(labels, max_label=n)
    reach = max(1.0, _REACH * d)
    pad = int(np.ceil(reach + max(1.0, d / 10))) + 2
    grow = _disc(reach)
    for i in ids:
        if boxes[i - 1] is None:
            continue
        box = _widened(boxes[i - 1], pad, labels.shape)
        lab, img = labels[box], smooth[box]
        own = lab == i
        values = img[own]
        median, tenth = np.quantile(values, (0.5, 0.9))
        top = values.max()
        if not (median > level and top > level + _CAP * (median - level)
                and tenth >= level + _FOCI_TENTH * (median - level)):
            continue
        inner = ndi.binary_erosion(own, iterations=_INSIDE)
        if not (inner.any() and img[inner].max() >= top):  # its rim rises into a glow
            continue
        above = (lab == 0) & (img > level + _BODY_CUT * (median - level))
        near = _binary_dilation(own, grow)
        parts, _ = ndi.label(own | (above & near))
        grown = np.isin(parts, np.unique(parts[own]))
        if not (grown & ~own).any():
            continue
        local = np.where(lab == i, 0, lab)
        local[grown] = i
        out[i] = _edge_sharpness(local, img, level, d)[i] >= sharp
    return out
