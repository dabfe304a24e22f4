"""Glare streaks told from elongated nuclei by their ridge (issue 14, round 31).

A glare streak is a blurred line: across it a bump, along it the same height from one end
to the other. Wide streaks (blurred by a quarter of a diameter) and the pieces a nucleus
cuts them into are as wide as an elongated nucleus (0.5-1 d), so their width does not tell
them apart (round 30: a rule on shape alone dropped an elongated nucleus). Their ridge
does: along a nucleus's middle the chromatin's texture and foci rise and fall, along a
streak's only the noise; and across, a nucleus is a plateau out to its blurred rim, a
streak a bump whose sides stand well below its ridge. Measured per label in its own box
(the box :func:`._edges._streaks` reads), so a chunk that holds the label gives its
in-memory value.
"""

from __future__ import annotations

import numpy as np

#: a label elongated at least ``[0]`` (square root of its inertia moments' ratio) and long
#: at least ``[1]`` x d (four standard deviations along its long axis) is glare when its
#: :func:`_ridge_score` is below ``[2]``; its ridge: the pixels at least ``[3]`` of its
#: largest inner distance from its outline, its sides those at most ``[4]`` of it.
#: Measured on the tuning fields at elongation >= 2.3 and length >= 1.5 d (cell-line tuned
#: and round-13 seeds, elongated seeds 0-5): glare 0.08-0.28, nuclei 0.31 and more
RIDGE = (2.3, 1.5, 0.27, 0.6, 0.35)


def _ridge_score(img, own, dist, level, ridge: float = RIDGE[3],
                 sides: float = RIDGE[4]) -> float:
    """How much ``img`` varies along the ridge of the boolean ``own`` (the 10th to 90th
    percentile of its ridge pixels, those whose ``dist``, a distance from its outline, is
    at least ``ridge`` of its largest; over its median contrast above ``level``), times how
    high its sides stand (the median contrast of its pixels within ``sides`` of the largest
    distance from the outline over its ridge's median contrast; 1 without such pixels).
    Low for a streak (flat along, a bump across); infinite without a contrast or ridge."""
    top = float(dist.max())
    if top <= 0:
        return np.inf
    along = img[dist >= ridge * top]
    contrast = float(np.median(img[own])) - level
    crest = float(np.median(along)) - level if along.size else 0.0
    if along.size < 2 or not contrast > 0 or not crest > 0:
        return np.inf
    low, high = np.quantile(along, (0.1, 0.9))
    side = img[(dist > 0) & (dist <= sides * top)]
    dome = (float(np.median(side)) - level) / crest if side.size else 1.0
    return float(high - low) / contrast * max(dome, 0.0)


def _long_candidates(big, small, d, shape=RIDGE) -> np.ndarray:
    """Per label, whether its inertia moments (``big`` >= ``small``) make it elongated and
    long enough for the ridge test."""
    return (big >= (shape[1] * d / 4) ** 2) & (big >= shape[0] ** 2 * small) & (big > 0)
