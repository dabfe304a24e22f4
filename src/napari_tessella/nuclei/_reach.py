"""Chunks whose window cuts a network of trimmed halos near their core, read again wider.

:func:`._recipe._trim_to_own_peak` looks again at what its cut took off the labels: a
removed part that holds a disc of radius d/4 is a nucleus of its own, cut at its own peak.
In a dense field the halos of touching nuclei join into networks of such parts, and a
network has no bound: one reached over 6.7 d (docs/nuclei-history.md, round 28), farther than the
6 d window the chunked path reads around a chunk (``_chunked.WATERSHED_MARGIN_MAX``). A
window that cuts such a part sees only some of it, and its rescue can differ from memory's
(a nucleus more or less), and with it the nuclei of the core near it.

So after a chunk is segmented, the parts the rescue looked at that come within
:data:`EDGE` of a side of the window inside the image and within :data:`REACH` of the
core are looked for (:func:`cut_sides`). Within a diameter of the side rather than on
it: the labels the trim starts from differ from memory's there (up to 1.1 d in, on the
field traced), so a part that stops short of the side can still be joined to more
beyond it. The chunk is then
segmented again from a window twice as wide on those sides (:func:`widen`), read from
the input, until no such part is left, the side reaches the image border, or the margin
would exceed :data:`WIDEST` diameters. The chunks that need it are few; the others, and
the in-memory path, are unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._lazy import _compute, _settle_all
from ._windows import some_blocks

__all__: list[str] = []

#: The widest margin a chunk is read with when its window cuts a network of trimmed halos
#: near its core, in object diameters (the window's working arrays, ~70 bytes a working
#: pixel, stay below ~0.3 GB for a 1024-pixel part with d = 20; ``_chunked.SEGMENT_SIDE``).
WIDEST = 24.0

#: A part within this many diameters of a side of the window (not the image border) may
#: be joined to more beyond it in memory (see :func:`cut_sides`)
EDGE = 1.0

#: ... and within this many diameters of the core, on a blob that comes within the blob
#: reach of the core (one the window holds in part): a nucleus beside such a part, and its
#: neighbours within d/2 (the crowd splits' median areas), reach a core nucleus from up to
#: ~3 d. (Round 29 took the blob reach alone, 1 d without shoulders: on a PSF x2 tiled
#: field a part 1.32 d from the core changed a neighbour there, and a core nucleus was not
#: split; 3 d on every blob named the halos of lone nuclei cut by sparse windows, most
#: chunks of the cell-line fields read again; round 30.)
REACH = 3.0

NO_SIDE = (False, False, False, False)


def cut_sides(parts, core, border, reach: float, d: float, far=None, mask=None) -> tuple:
    """The sides (top, bottom, left, right) of a window where a part of ``parts`` (the
    trim's removed parts, labelled: ``_trim_to_own_peak``'s ``removed``) that comes within
    :data:`EDGE` diameters ``d`` of that side also comes within ``reach`` diameters of the
    core (((row0, row1), (col0, col1)) in the window's pixels); never a side on the image
    border (``border``). With ``far`` (diameters) and the window's foreground ``mask``:
    also a part within ``far`` of the core on a blob (8-connected, of ``mask`` and the
    parts) that comes within ``reach`` of it (a blob the window holds in part)."""
    if parts is None or all(border):
        return NO_SIDE
    e = max(1, min(int(np.ceil(EDGE * d)), *parts.shape))
    on_edge = [np.unique(s) for s in (parts[:e], parts[-e:], parts[:, :e], parts[:, -e:])]
    cut = np.zeros(int(parts.max()) + 1, bool)
    for ids, on_border in zip(on_edge, border, strict=True):
        cut[ids] |= not on_border
    cut[0] = False
    if not cut.any():
        return NO_SIDE
    (r0, r1), (c0, c1) = core
    rows, cols = np.arange(parts.shape[0]), np.arange(parts.shape[1])
    dr = np.maximum(np.maximum(r0 - rows, rows - (r1 - 1)), 0)
    dc = np.maximum(np.maximum(c0 - cols, cols - (c1 - 1)), 0)
    gap = dr[:, None] ** 2 + dc[None, :] ** 2
    within = gap <= (reach * d) ** 2
    near = np.zeros(cut.size, bool)
    near[parts[within]] = True
    if far is not None and far > reach and mask is not None:
        blobs, n = ndi.label(mask | (parts > 0), structure=np.ones((3, 3), bool))
        held = np.zeros(n + 1, bool)  # the blobs within reach of the core
        held[blobs[within]] = True
        held[0] = False
        wide = (gap <= (far * d) ** 2) & held[blobs]
        near[parts[wide]] = True
    near &= cut
    return tuple(not on_border and bool(near[ids].any())
                 for ids, on_border in zip(on_edge, border, strict=True))


def _sides(summary):
    return summary["wider"]


def widen(jobs, summaries, states, segment, stored, edges, plan, margin, d, scheduler):
    """The chunks' summaries and states (computed: ``_settle_all``) after every chunk
    whose summary names sides to widen (``"wider"``, :func:`cut_sides`) was segmented
    again with its window doubled on those sides (``segment(block, at, box, core_lo,
    core_hi, wide)``: a Delayed pair of summary and state, ``wide`` the sides taken
    whole), over and over, from the read ``margin`` (working pixels) up to :data:`WIDEST`
    diameters. ``jobs`` (block, at, box, core_lo, core_hi, wide) are updated in place.
    Returns the summaries, the states and the number of chunks segmented again.
    """
    settled = _settle_all([*summaries, *states], scheduler)
    summaries, states = settled[:len(summaries)], settled[len(summaries):]
    ncols = len(edges[1]) - 1
    most = int(np.ceil(WIDEST * d)) + 1
    margins = [(margin,) * 4] * len(jobs)
    pending, redone = range(len(jobs)), 0
    while pending:
        # the sides named (small): read where the summaries are (a cluster's workers)
        if all(isinstance(summaries[k], dict) for k in pending):
            flags = [_sides(summaries[k]) for k in pending]
        else:
            import dask

            flags = _compute(*[dask.delayed(_sides)(summaries[k]) for k in pending],
                             scheduler=scheduler)
        redo = []
        for k, sides in zip(pending, flags, strict=True):
            grow = [s and m < most for s, m in zip(sides, margins[k], strict=True)]
            if any(grow):
                margins[k] = tuple(min(most, 2 * m) if g else m
                                   for g, m in zip(grow, margins[k], strict=True))
                jobs[k] = (*jobs[k][:5], tuple(a or g for a, g in zip(jobs[k][5], grow,
                                                                       strict=True)))
                redo.append(k)
        if not redo:
            break
        blocks = some_blocks(stored, edges, [(k // ncols, k % ncols, margins[k])
                                             for k in redo], plan)
        tasks = []
        for k, (block, at, box) in zip(redo, blocks, strict=True):
            jobs[k] = (block, at, box, *jobs[k][3:])
            tasks.append(segment(*jobs[k]))
        new = _settle_all([t[0] for t in tasks] + ([t[1] for t in tasks] if states else []),
                          scheduler)
        for n, k in enumerate(redo):
            summaries[k] = new[n]
            if states:
                states[k] = new[len(redo) + n]
        pending, redone = redo, redone + len(redo)
    return summaries, states, redone
