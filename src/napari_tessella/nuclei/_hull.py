"""A lower bound of an object's solidity without its convex hull (issue 14, round 54).

``._merges._solidity`` is a pixel count over ``V + P / 2 + 1``, ``V`` and ``P`` the area
and perimeter of the convex hull of the pixel centres (qhull's). Any convex polygon
holding that hull has at least its area and its perimeter, so the count over the same
sum for such a polygon is a lower bound of the solidity. The polygon here: the lines
touching the pixels in 96 directions (every 3.75 degrees), each through the pixel
farthest along its normal; each line touches the hull, so consecutive ones meet at the
vertices of the polygon they bound (~0.05 % more area than a disc's hull). When the
bound already exceeds a level, so does the solidity and the hull is not made: the merge
test (``._merges._split_merges``) skips it on the convex nuclei, most of its objects.
"""

from __future__ import annotations

import numpy as np

_ANGLES = np.arange(96) * np.pi / 48
_NORMALS = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)])
#: consecutive lines meet where ``[n_k; n_k+1] v = [h_k; h_k+1]``: the inverse's rows
_DET = np.sin(np.pi / 48)
_NEXT = np.roll(np.arange(96), -1)
#: the bound must pass the level by this share: qhull's area and perimeter and these are
#: sums of a few hundred rounded terms (relative errors ~1e-13)
_MARGIN = 1e-9


def _surely_solid(points: np.ndarray, level: float) -> bool:
    """True when the solidity of the pixels ``points`` (rows of (row, col), in the
    row-major order of ``np.argwhere``; ``._merges._solidity``) is certainly above
    ``level``; False says nothing (the hull decides)."""
    if len(points) < 3:
        return False
    # the hull of the pixels is that of each row's two ends (rows in ascending order)
    rows = points[:, 0]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    last = np.r_[first[1:] - 1, len(rows) - 1]
    ends = points[np.r_[first, last]]
    h = (ends @ _NORMALS).max(axis=0)  # each line's offset along its normal
    c, s = _NORMALS
    hn = h[_NEXT]
    vy = (h * s[_NEXT] - hn * s) / _DET
    vx = (hn * c - h * c[_NEXT]) / _DET
    area = 0.5 * abs(float(np.sum(vy * vx[_NEXT] - vx * vy[_NEXT])))
    perimeter = float(np.hypot(vy[_NEXT] - vy, vx[_NEXT] - vx).sum())
    bound = len(points) / (area + perimeter / 2 + 1)
    return bound > level * (1 + _MARGIN)
