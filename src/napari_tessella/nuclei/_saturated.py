"""The saturated cells whose glow the dim nuclei beside them are read on (round 41).

:func:`._dim._glow_dim` looks for dim nuclei within reach of a saturated cell: pixels of
the flattened image above ``_GLOW_CELL`` times the dim search's low level (round 23; the
cell-line fields' saturated cells reach 140-310). The smaller saturated cells of 28-px
fields (0.6 of a nucleus across, clipped at the camera's top) reach only 82-97 there,
so the dim nuclei placed beside them were left to no step (``mixed d28``: 16 of 69
missing nuclei lay in the glow's foreground, under the foreground's cut). Pixels from
``_SMALL_CELL`` times the low level count as well, but only as a component of the size of
a condensed cell, ``_SMALL_AREA`` of a nucleus's area: the chromocenters and bright tops
of textured nuclei that pass that level are specks of 0.01-0.07 of it (a synthetic field
with foci and two saturated cells gained three objects on the glow from them), the small
saturated cells measure 0.25-0.76, and that field's two nucleus-sized saturated cells
(1.05 and 1.26), read so, lost two nuclei to the glow step. A component of pixels above
a level is whole in a chunk's window (its margin holds a cell's reach), so the chunked
path reads the same cells.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: a saturated cell: the flattened image above this times the dim search's low level
#: (U2OS's brightest nuclei reach it on 15 of 48 images, where nothing is added) ...
_GLOW_CELL = 100.0
#: ... or above this times it, over this range of a nucleus's area (pi d^2 / 4): a
#: condensed cell, under a nucleus's size (mitotic cells of the cell-line fields: 0.6 d)
_SMALL_CELL = 70.0
_SMALL_AREA = (0.2, 0.9)


def _saturated(smooth, low, d) -> np.ndarray:
    """The pixels of saturated cells in the flattened working image ``smooth``: above
    ``_GLOW_CELL * low``, or above ``_SMALL_CELL * low`` in a component (8-connected) of
    ``_SMALL_AREA`` nucleus areas of diameter ``d``."""
    bright = smooth > _GLOW_CELL * low
    small = smooth > _SMALL_CELL * low
    if not (small & ~bright).any():
        return bright
    comp, n = ndi.label(small, np.ones((3, 3), bool))
    area = np.bincount(comp.ravel(), minlength=n + 1) / (np.pi * d * d / 4)
    big = (area >= _SMALL_AREA[0]) & (area <= _SMALL_AREA[1])
    big[0] = False
    return bright | big[comp]
