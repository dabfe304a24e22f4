"""A saturated cell's glow taken off by its own radial profile (round 37).

A saturated cell's out-of-focus glow is close to radially symmetric about the cell. The
flattening's square opening (:func:`._foreground._flatten`) cannot follow its dome, and
the glow search's ring surface (:func:`._dim._glow_dim`) follows it only over a
nucleus's ring: dim nuclei on the dome were lost (on `uneven d32` fields, most of those
within 2.5 d of a saturated cell that were lost never had a glow-search outline).
:func:`_radial_rest` subtracts, around each saturated cell, a low quantile of the image at
each whole distance from the cell's pixels: what is left is the illumination's slow
change and the nuclei on the glow, which the glow search then reads as it reads the
other images (its third pass).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the quantile of the pixels at one distance from a cell taken as its glow (a low one:
#: dim nuclei take up part of each circle round the cell)
_QUANTILE = 0.25


def _radial_rest(img, cells, reach) -> np.ndarray:
    """``img`` less, at each pixel, the ``_QUANTILE`` of ``img`` over the pixels at the
    same whole distance (Euclidean, rounded, to the nearest pixel of ``cells``, a boolean
    image of the saturated cells' pixels) from the same cell (the 8-connected part of
    ``cells`` nearest to it); pixels farther than ``reach`` take the level at ``reach``.

    Whole-pixel distances and quantiles over the pixels within ``reach`` of the cells
    only (NaN, outside the image, left out): the same values in any window that holds
    the cells and ``reach`` around them."""
    parts = ndi.label(cells, np.ones((3, 3), bool))[0]
    dist, (iy, ix) = ndi.distance_transform_edt(~cells, return_indices=True)
    ring = np.rint(dist).astype(np.int64)
    key = parts[iy, ix].astype(np.int64) * (int(reach) + 1) + np.minimum(ring, reach)
    use = ((ring <= reach) & ~np.isnan(img)).ravel()
    keys, vals = key.ravel()[use], img.ravel()[use]
    order = np.lexsort((vals, keys))
    keys, vals = keys[order], vals[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    counts = np.diff(np.r_[starts, keys.size])
    level = np.zeros(int(key.max()) + 1)
    level[keys[starts]] = vals[starts + np.floor(_QUANTILE * (counts - 1)).astype(np.int64)]
    return img - level[key]


def _whole_reach(near, reach, shape, border) -> bool:
    """Whether the box ``near`` (slices: the saturated cells' pixels) widened by ``reach``
    lies within ``shape`` on every side that is not the image border (``border``: top,
    bottom, left, right). A chunk's window that cuts the circles round a cell reads
    another quantile than the whole image: there the third pass is not run."""
    ends = (near[0].start - reach >= 0, near[0].stop + reach <= shape[0],
            near[1].start - reach >= 0, near[1].stop + reach <= shape[1])
    return all(inside or edge for inside, edge in zip(ends, border, strict=True))


def _third(img, cells, near, reach, shape, border):
    """:func:`_radial_rest` of ``img`` (the glow search's box of an array of ``shape``;
    ``cells``, its saturated pixels, whose box in the array is ``near``) when
    :func:`_whole_reach` holds, else None: the glow search's third pass (round 37)."""
    return _radial_rest(img, cells, reach) if _whole_reach(near, reach, shape, border) else None
