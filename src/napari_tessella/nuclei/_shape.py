"""Shape cues of the default nuclei recipe for dense fields of touching nuclei (issue 14).

Kept apart from :mod:`._recipe`, which calls them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids

#: holes of the foreground are filled up to this share of a nucleus's area (pi d^2 / 4)
_HOLE = 0.25


def _fill_small_holes(mask: np.ndarray, d: float) -> np.ndarray:
    """``mask`` with its holes (background not 4-connected to the array's edge) filled,
    up to ``_HOLE`` times the area of a disc of diameter ``d``.

    A dark nucleolus or a dim patch inside a nucleus is a small hole; the background
    enclosed by a ring of touching nuclei in a dense field is not one. Filled, such a gap
    joined the ring into one blob whose distance transform has no neck (its maximum at
    the gap's centre, the radius of the whole ring), and the nuclei around it were merged
    or split through the gap. Per hole: a hole larger than that is never filled, so a
    chunk with a margin of a few diameters decides every hole as the whole image does.
    """
    background, n = ndi.label(~mask)
    if n == 0:
        return mask.copy()
    fill = np.bincount(background.ravel(), minlength=n + 1) <= _HOLE * np.pi * d * d / 4
    fill[_edge_ids(background)] = False
    fill[0] = False
    return mask | fill[background]
