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
(1.05 and 1.26), read so, lost two nuclei to the glow step.

Round 42: the reach of the glow step is each cell's own (:func:`_cell_limits`), not the box
of every saturated pixel in the array, which a chunk's window holds in part (round 41's
rule lost a nucleus on ``mixed d28`` 3100 in every chunk shape so); and a chunk's window
holds whole every component above ``_SMALL_CELL`` times the low level within reach of its
core (round 48: :func:`._glow_model._glow_window`, the one grower of the steps that read
around a saturated cell), so the chunked path reads the same cells.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _widened

#: a saturated cell: the flattened image above this times the dim search's low level
#: (U2OS's brightest nuclei reach it on 15 of 48 images, where nothing is added) ...
_GLOW_CELL = 100.0
#: ... or above this times it, over this range of a nucleus's area (pi d^2 / 4): a
#: condensed cell, under a nucleus's size (mitotic cells of the cell-line fields: 0.6 d)
_SMALL_CELL = 70.0
_SMALL_AREA = (0.2, 0.9)
#: dim nuclei on its glow are looked for within this many d of its pixels
_GLOW_REACH = 2.5


def _saturated(smooth, low, d) -> np.ndarray:
    """The pixels of saturated cells in the flattened working image ``smooth``: above
    ``_GLOW_CELL * low``, or above ``_SMALL_CELL * low`` in a component (8-connected) of
    ``_SMALL_AREA`` nucleus areas of diameter ``d`` with no pixel above the first
    (round 42: a cell over it is its pixels over it, as before round 41; with its
    shoulder of 70-100 times, U2OS dna-26's one cell of 208 times lost a dim nucleus's
    candidate, whose disc then held a saturated pixel)."""
    bright = smooth > _GLOW_CELL * low
    small = smooth > _SMALL_CELL * low
    if not (small & ~bright).any():
        return bright
    comp, n = ndi.label(small, np.ones((3, 3), bool))
    area = np.bincount(comp.ravel(), minlength=n + 1) / (np.pi * d * d / 4)
    big = (area >= _SMALL_AREA[0]) & (area <= _SMALL_AREA[1])
    big[0] = False
    big[comp[bright]] = False
    return bright | big[comp]


def _reach_box(near, r, shape, border, R):
    """(top, bottom, left, right): the box ``near`` (slices) widened by ``r`` within
    ``shape``, each side that is the image border (``border``) and that the box reaches
    moved ``R`` past it (a candidate's window there is read on its pixels inside)."""
    box = _widened(near, r, shape)
    ends = [box[0].start, box[0].stop, box[1].start, box[1].stop]
    at = (ends[0] == 0, ends[1] == shape[0], ends[2] == 0, ends[3] == shape[1])
    step = (-R, R, -R, R)
    return [e + st if on and a else e for e, st, on, a in zip(ends, step, border, at, strict=True)]


def _cell_limits(bright, near, r, border, R, at) -> np.ndarray:
    """Per saturated cell (8-connected component of ``bright`` within its box ``near``),
    the :func:`_reach_box` of its own box widened by ``r`` + ``R``, as rows (top, bottom,
    left, right) from pixel ``at`` (round 42).

    A dim nucleus on a glow is read when its window (``R`` around it) lies within that
    box: it lies within ``r`` of one cell's box. Of the box of every saturated pixel in
    the array (rounds 23-41: its window within ``r`` of that box) a chunk's window holds
    only the cells it sees: with several small cells spread over a field (``mixed d28``),
    a candidate 2 d from one cell was read in memory because the box of all of them
    reached past it, and skipped in the chunks that held fewer (3100, every chunk shape).
    A cell is whole in every window whose core its reach touches
    (:func:`._glow_model._glow_window`), so
    its box is. Its window within ``r`` of the one cell's box, as before, lost those the
    box of all had reached (round 42's tuning: 5 more errors on ``mixed d28``, 2 on ``uneven
    d32``); U2OS's labels are the same either way."""
    comp, _ = ndi.label(bright[near], np.ones((3, 3), bool))
    off = (near[0].start, near[1].start)
    lims = [_reach_box(tuple(slice(s.start + o, s.stop + o) for s, o in zip(b, off, strict=True)),
                       r + R, bright.shape, border, R) for b in ndi.find_objects(comp)]
    return np.asarray(lims, np.int64).reshape(-1, 4) - np.repeat(np.asarray(at), 2)

