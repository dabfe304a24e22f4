"""Glare streaks told from elongated nuclei by their ridge and rim (issue 14, round 31).

A glare streak is a blurred line: along its middle the same height from one end to the
other, across it a bump with shallow sides. Wide streaks (blurred by a quarter of a
diameter) and the pieces a nucleus cuts them into are as wide as an elongated nucleus
(0.5-1 d), so their width does not tell them apart (round 30: a rule on shape alone
dropped an elongated nucleus). Two cues together do: the ridge is flat (along a textured
nucleus's middle its chromatin rises and falls; the smooth nuclei of the U2OS images are
as flat as glare there) and the rim is shallow (an in-focus nucleus's rim is a blurred
step, its gradient several times its contrast per diameter; a streak's sides fall over
its blur). Measured per label in its own box (widened by a few pixels for the gradient),
so a chunk that holds the label gives its in-memory value.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _square_dilated, _widened

#: a label elongated at least ``[0]`` (square root of its inertia moments' ratio), long at
#: least ``[1]`` x d (four standard deviations along its long axis) and thinner than
#: ``[2]`` x d (its largest inscribed disc's radius) is glare when the spread along its
#: ridge (:func:`_ridge_spread`) is below ``[3]`` and its rim's steepness
#: (:func:`_rim_steepness`) below ``[4]``. Measured (docs/nuclei-history.md, round 31): wide glare
#: spread 0.16-0.23, steepness 1.8-3.3; textured nuclei spread 0.33 and more, steepness
#: 4.1 and more; U2OS nuclei that elongated spread from 0.15, steepness 3.4 and more (and
#: 3.2 at spread 0.37)
RIDGE = (2.3, 1.5, 0.5, 0.26, 3.5)
_CREST = 0.6  # the ridge: pixels at least this fraction of the largest inner distance
_PAD = 4  # the gradient's box: the label's, widened by this many pixels (sigma 1, 4 sd)


def _long_candidates(big, small, d, shape=RIDGE) -> np.ndarray:
    """Per label, whether its inertia moments (``big`` >= ``small``) make it elongated and
    long enough for the ridge test."""
    return (big >= (shape[1] * d / 4) ** 2) & (big >= shape[0] ** 2 * small) & (big > 0)


def _ridge_spread(img, own, dist, level, crest: float = _CREST) -> float:
    """Spread of ``img`` along the ridge of the boolean ``own`` (10th to 90th percentile
    over the pixels whose ``dist``, a distance from its outline, is at least ``crest`` of
    its largest), over the median of ``img`` on ``own`` above ``level``; infinite without
    a contrast or a ridge."""
    top = float(dist.max())
    along = img[dist >= crest * top] if top > 0 else img[:0]
    contrast = float(np.median(img[own])) - level
    if along.size < 2 or not contrast > 0:
        return np.inf
    low, high = np.quantile(along, (0.1, 0.9))
    return float(high - low) / contrast


def _rim_steepness(labels, smooth, level, d, i, box, pad: int = _PAD) -> float:
    """The median gradient magnitude (Gaussian of 1 px) of ``smooth`` over the outermost
    pixels of label ``i`` that touch no other label, times ``d``, over its median contrast
    above ``level``; ``box`` is its box (slices). Infinite without such pixels or contrast."""
    wide = _widened(box, pad, labels.shape)
    lab, img = labels[wide], smooth[wide]
    own = lab == i
    other = _square_dilated((lab > 0) & ~own)
    rim = own & ~ndi.binary_erosion(own) & ~other
    contrast = float(np.median(img[own])) - level
    if not rim.any() or not contrast > 0:
        return np.inf
    grad = ndi.gaussian_gradient_magnitude(img, 1.0)
    return float(np.median(grad[rim])) * d / contrast


def _is_glare(labels, smooth, level, d, i, box, own_box, dist, shape=RIDGE) -> bool:
    """Whether label ``i`` (a :func:`_long_candidates` one) is a wide glare streak or a
    piece of one: thinner than ``shape[2] * d``, flat along its ridge and shallow at its
    rim; ``box`` is its box widened by a pixel, ``own_box`` its box, ``dist`` the distance
    from its outline in ``box``."""
    if dist.max() + 1.0 >= shape[2] * d:
        return False
    own = labels[box] == i
    if _ridge_spread(smooth[box], own, dist, level) >= shape[3]:
        return False
    return _rim_steepness(labels, smooth, level, d, i, own_box) < shape[4]
