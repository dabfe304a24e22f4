"""Per-object outlines and glows of the default nuclei recipe (issue 14, round 5).

Nuclei whose body thins towards the rim (textured nuclei with chromocenters, domes) are
outlined where their edge against the local background is, not inside it. Kept apart from
:mod:`._recipe` and :mod:`._cues`, which call it; everything here is per object and local
(a few tenths of the diameter around each outline), so chunks with their margin agree.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._cues import _label_quantile

_REACH = 0.3  # outlines move out by at most this times d
_BODY = 0.3  # ... to the edge measured below this quantile of the nucleus's pixels
_LOWEST = 0.4  # ... a cut being lowered to no less than this fraction of its contrast
_FOCI = 1.6  # ... for nuclei whose maximum contrast exceeds this times their median one


def _edge_outlines(labels, smooth, level, d, peak, *, trim: float, reach: float = _REACH,
                   body: float = _BODY, lowest: float = _LOWEST, foci: float = _FOCI):
    """Move each outline out to the level of its edge against the local background.

    The outlines of :func:`._cues._rim_outlines` are cut half-way between the body a
    little inside the rim and the background. A nucleus whose body rises steeply inwards
    from its rim (the projected thickness of an ellipsoid, chromocenters on a textured
    nucleoplasm) is then cut inside its edge, and where its texture dips, the outline
    follows the dip: ragged, too tight outlines (textured nuclei: 0.83 of the area).

    Here the edge is found from the image's gradient: in a band of ``reach * d`` on either
    side of each outline (its pixels, and the background pixels nearest to it), the mean
    of the image weighted by its gradient magnitude, over the pixels between the
    background and the label's ``body`` quantile (its foci and its centre left out). For
    a blurred step that is its half height, where the outline already is; a body that
    thins towards its rim gives a lower level, at the foot of its steep part. A label's
    cut is only lowered, to no less than ``lowest`` of its contrast, and the label grows
    into the pixels above its new cut within ``reach * d`` of it (a watershed of the
    image from the labels: touching nuclei share the pixels between them as their
    flooding meets).

    Returns the labels, the peaks such that ``level + trim * (peak - level)`` is the new
    cut (for the full-resolution outlines), and whether the labels changed.
    """
    from skimage.segmentation import watershed

    n = peak.size - 1
    if not labels.any():
        return labels, peak, False
    median = _label_quantile(smooth, labels, n, 0.5)
    high = np.full(n + 1, -np.inf)
    np.maximum.at(high, labels.ravel(), smooth.ravel())
    textured = (median > level) & (high - level > foci * (median - level))
    if not textured.any():
        return labels, peak, False
    cut = level + trim * (peak - level)
    inside = labels > 0
    band = reach * d
    outside, (ri, ci) = ndi.distance_transform_edt(~inside, return_indices=True)
    nearest = labels[ri, ci]
    near = np.where(inside, ndi.distance_transform_edt(inside), outside) <= band
    top = _label_quantile(smooth, labels, n, body)
    gy, gx = np.gradient(smooth)
    weight = np.hypot(gy, gx)
    used = near & (smooth > level) & (smooth < top[nearest]) & textured[nearest]
    owner = np.where(used, nearest, 0).ravel()
    total = np.bincount(owner, weight.ravel(), minlength=n + 1)
    moment = np.bincount(owner, (weight * smooth).ravel(), minlength=n + 1)
    edge = np.divide(moment, total, out=np.full(n + 1, np.inf), where=total > 0)
    new = np.minimum(cut, np.maximum(edge, level + lowest * (cut - level)))
    new[0] = np.inf
    peak = np.where(new < cut, level + (new - level) / trim, peak)
    grow = ~inside & (outside <= band) & (smooth > new[nearest]) & (new < cut)[nearest]
    if not grow.any():
        return labels, peak, False
    grown = watershed(-smooth, labels, mask=inside | grow).astype(np.int32)
    return grown, peak, True
