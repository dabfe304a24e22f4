"""Dim nuclei of a dense blurred field grown out to their own cut (issue 14, round 27).

The foreground is one log-Otsu cut for the whole field. In a dense field blurred by a
wide PSF it sits at about a quarter of the bright nuclei's contrast, where a dim nucleus
(a third of their brightness) shows only its top: its label is a small disc inside it
(round 27's measurement: of the nuclei the scorer calls *missing* on the challenge-like
fields at PSF x2, 9.7 a field, the foreground held a median half of each, and those with
a label of their own were outlined at a median 0.48 of their area, IoU under 0.5).
Everywhere else a nucleus's outline follows its own cut, ``_TRIM`` of its own peak over
the background (:func:`._outlines._cuts`, which also refines the outlines at full
resolution, but only inside the foreground): the dim nuclei's cut lies below the
foreground's.

:func:`_grow_to_own_cut` gives each label the background pixels within ``_REACH`` d of
it that are above its own cut, when no other label is that near (a pixel between two
labels is left: no tie is settled by raster order), and that are joined to the label
through such pixels. A bright label's cut lies above the foreground's, so it does not
grow; a dim one grows out to where its edge is. It runs on dense blurred fields only
(:func:`._background._shoulder_gate`, as :mod:`._shoulders`, :mod:`._pairs` and
:mod:`._bisect`), after the boundaries between touching labels were placed. Per label,
within a fraction of d of it: the chunked path's windows give the in-memory labels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._cues import _disc
from ._outlines import _cuts

#: how far (x d) a label may grow past the foreground's edge
_REACH = 0.15


def _grow_to_own_cut(labels, smooth, level, low, peak, d):
    """``labels`` grown into the background to each label's own cut (see the module's
    docstring); and whether any pixel was added. ``peak``: each label's own peak (ids
    beyond its end do not grow); ``low``: the cuts' floor (the dim nuclei's level, or the
    background ``level`` when None)."""
    n = int(labels.max())
    if n == 0 or peak is None:
        return labels, False
    foot = _disc(_REACH * d)
    top = np.iinfo(labels.dtype).max
    # the largest and least label id within reach: one label there when they agree
    hi = ndi.grey_dilation(labels, footprint=foot, mode="constant", cval=0)
    lo = ndi.grey_erosion(np.where(labels > 0, labels, top), footprint=foot,
                          mode="constant", cval=top)
    peak = np.asarray(peak, dtype=float)[:n + 1]
    if peak.size < n + 1:
        peak = np.append(peak, np.full(n + 1 - peak.size, np.inf))
    cut = _cuts(peak, level, level if low is None else low, n)
    cut[0] = np.inf
    grown = (labels == 0) & (hi > 0) & (hi == lo)
    grown &= smooth >= cut[hi]
    if not grown.any():
        return labels, False
    ids = np.where(grown, hi, 0).astype(labels.dtype, copy=False)
    # each piece of one label's new pixels, kept when it touches that label (8-neighbours)
    pieces = _pieces(ids)
    h, w = labels.shape
    pad = np.pad(labels, 1)
    touch = np.zeros(labels.shape, bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr or dc:
                touch |= pad[1 + dr:1 + dr + h, 1 + dc:1 + dc + w] == ids
    keep = np.zeros(int(pieces.max()) + 1, bool)
    keep[pieces[touch & grown]] = True
    keep[0] = False
    add = keep[pieces]
    if not add.any():
        return labels, False
    out = labels.copy()
    out[add] = ids[add]
    return out, True


def _pieces(ids):
    """Connected pieces (8-neighbours) of the pixels of each id of ``ids`` (0: none)."""
    from skimage.measure import label

    return label(ids, background=0, connectivity=2)
