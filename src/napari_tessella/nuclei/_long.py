"""The least part a neck cut may leave of a long object (issue 14, round 45).

A long wavy nucleus (aspect 2-3) is measured by its short axis: the inscribed disc ``d``
that sets the shape steps' lengths is its width, and the area of a disc of diameter ``d``
is a third to a half of its own. Its wavy outline pinches it here and there, and a neck
cut then takes off an end of 0.4-0.6 disc areas, enough for :func:`._shape._cut`'s
``_NECK_PART`` (0.4). Touching round nuclei are cut with each side a nucleus of its own,
most often about a disc area or more. So a long object's cut must leave a larger least
part than a round one's.
"""

from __future__ import annotations

import numpy as np

#: an object whose second moments' axes are at least this ratio (long to short) is long ...
_LONG_AXES = 2.5
#: ... and a neck cut of it leaves on each side at least this many nucleus areas
_LONG_PART = 0.6


def _least_neck_part(obj: np.ndarray, unit: float, part: float) -> float:
    """The least area (pixels) each side of a neck cut of the object ``obj`` (a boolean
    mask) must hold: ``part`` nucleus areas ``unit``, or ``_LONG_PART`` of them when the
    object is long (its pixels' second moments' axes at least ``_LONG_AXES`` : 1)."""
    rows, cols = np.nonzero(obj)
    if rows.size < 3:
        return part * unit
    cov = np.cov(np.stack([rows, cols]).astype(np.float64))
    small, large = np.linalg.eigvalsh(cov)
    long = large >= _LONG_AXES**2 * max(small, 1e-12)
    return (max(part, _LONG_PART) if long else part) * unit


def _part_too_small(obj: np.ndarray, smaller: int, unit: float, part: float) -> bool:
    """Whether ``smaller`` pixels, the lesser side of a neck cut of ``obj``, is under the
    least part :func:`_least_neck_part` asks. The object's moments are read only when the
    answer depends on them: a side under ``part`` areas is too small, and one of
    ``_LONG_PART`` areas or more is large enough, whatever the object's shape."""
    if smaller < part * unit:
        return True
    if smaller >= max(part, _LONG_PART) * unit:
        return False
    return smaller < _least_neck_part(obj, unit, part)
