"""Whether a merge split's parts are nuclei: a peak of the distance map of their own.

``._merges._split_merges`` shares a crowded object's pixels among ``k = round(area /
typical)`` parts by k-means. In a dense field of nuclei of mixed sizes that count runs
high: a large nucleus among small neighbours is twice their area and is cut in two (round
43: 38-48 % of the dense fields' split nuclei at the end were cut there and never joined).
A part that is a nucleus has a dome of the object's distance map of its own; a part that
k-means carved out of one nucleus does not: its deepest pixels lie on the cut, against the
other part's dome. Measured on round 44's dense tuning fields (5720-5759, PSF x1-x2, in the
recipe's working frame): of the two-part splits of one nucleus 146 of 192 had no part with
a peak of its own, of the two-part splits of two nuclei 58 of 281. See ``docs/nuclei-history.md``,
round 44 (the pair branch).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the distance map is smoothed by this many pixels (Gaussian sigma) before its peaks are
#: read: the pixel grid's ridges are not peaks
_PEAK_SMOOTHING = 1.0
#: a part's own peak lies at least this many pixels inside it, away from its cut
_PEAK_INSET = 2
#: ... and at least this many pixels from the object's outline
_PEAK_DEPTH = 2.0


def _own_peak_flags(obj, split, k, dist):
    """For each part 1..k of ``split`` (an image over the object ``obj``), in turn, whether
    it holds a local maximum of the object's distance to its outline ``dist`` (smoothed by
    ``_PEAK_SMOOTHING``, at least ``_PEAK_DEPTH`` deep) at least ``_PEAK_INSET`` pixels
    from the other parts. A generator: a caller asking whether any part has one stops at
    the first."""
    smooth = ndi.gaussian_filter(dist, _PEAK_SMOOTHING)
    peaks = (smooth == ndi.maximum_filter(smooth, 3)) & obj & (dist >= _PEAK_DEPTH)
    cross = np.ones((3, 3), bool)
    for j in range(1, k + 1):
        part = split == j
        inner = part & ~ndi.binary_dilation(obj & ~part, cross, iterations=_PEAK_INSET)
        yield bool((peaks & inner).any())


def _parts_with_own_peak(obj, split, k, dist) -> int:
    """How many of the ``k`` parts of ``split`` have a peak of ``dist`` of their own
    (:func:`_own_peak_flags`)."""
    return sum(_own_peak_flags(obj, split, k, dist))


def _no_part_own_peak(obj, split, k, dist) -> bool:
    """Whether none of the ``k`` parts of ``split`` has a peak of ``dist`` of its own
    (:func:`_own_peak_flags`): the object is one dome cut by the count, left whole."""
    return not any(_own_peak_flags(obj, split, k, dist))
