"""The chunked watershed's territories beyond a chunk's window: the whole image's nearest
nucleus where the window's may not be, read where the chunks' segmentations lie.

Each chunk's output gives its pixels the nearest nucleus its window holds
(:func:`._chunk_task._watershed_output`); in memory it is the whole image's. A pixel
deep in an empty region (a filled corner, a wide empty band) can lie nearer a side of
the window than any nucleus the window holds, and then a nucleus beyond the window may
be nearer. Two maps over the chunks' kept segmentations (round 59), each task reading
the packed labels where they lie (on a cluster the workers' persisted states, named by
key in the graph, never gathered to the client):

1. per chunk, the cells of a coarse grid (:func:`.._nearest_chunked._cell_side`) that
   its core's kept nuclei touch, and whether a pixel of its core (with the ring its
   output reads, :func:`_ringed`) may have its nearest nucleus outside its window
   (:func:`_territory_summary`); both small, gathered;
2. per chunk so flagged, its core and ring's nearest nucleus over the global labels
   within a margin the coarse grid bounds (:func:`.._nearest_chunked._cell_bounds`, as
   :func:`.._nearest_chunked.nearest_label_lazy` does), made from the cores of the chunks
   that margin reaches (:func:`_near_territories`).

The graph of the second map names one task per flagged chunk with the keys of the
states it reads: a few hundred bytes a chunk, on every scheduler the same result.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edt_squares
from .._nearest_chunked import _block_nearest, _cell_bounds, _cell_side, _cells_of
from ._chunk_task import _RING, _unpack


def _ringed(core_lo, core_hi, shape) -> tuple:
    """The slices (global working pixels) of a chunk's core with the :data:`_RING` around
    it that its output reads territories on, clipped to the working image's ``shape``."""
    return tuple(slice(max(a - _RING, 0), min(b + _RING, n))
                 for a, b, n in zip(core_lo, core_hi, shape, strict=True))


def _far(labels, origin, region, shape) -> bool:
    """Whether a pixel of ``region`` (global slices) may have its nearest nucleus outside
    the window ``labels`` (global ids, from global pixel ``origin``): the nearest label
    the window holds lies farther than the pixel's distance to a side of the window
    that is not the image's (a label beyond could be as near, or nearer)."""
    if not labels.any():
        return True
    # the squares of the distances (whole numbers, the faster transform when they are
    # within its reach; scipy's squared else): compared with the rooms squared
    squares = _edt_squares(labels == 0)
    if squares is None:
        squares = ndi.distance_transform_edt(labels == 0) ** 2
    room = np.inf
    for axis, (sl, o, n) in enumerate(zip(region, origin, labels.shape, strict=True)):
        at = np.arange(sl.start, sl.stop)
        before = at - o if o > 0 else np.full(at.size, np.inf)
        after = (o + n - 1 - at) if o + n < shape[axis] else np.full(at.size, np.inf)
        side = np.minimum(before, after)
        room = np.minimum(room, side[:, None] if axis == 0 else side[None, :])
    local = tuple(slice(sl.start - o, sl.stop - o) for sl, o in zip(region, origin,
                                                                 strict=True))
    return bool((squares[local].astype(np.float64) > room * room).any())


def _territory_summary(state, lut, core_lo, core_hi, shape, side, columns):
    """One chunk's part of the first map: the coarse cells (flat indices) its core's
    kept nuclei touch, and :func:`_far` of its core and ring. ``state``: its
    segmentation kept (``_chunk_task._pack``); ``lut``: its global ids."""
    local, _, origin = _unpack(state)
    labels = lut[local]
    core = labels[core_lo[0] - origin[0]:core_hi[0] - origin[0],
                  core_lo[1] - origin[1]:core_hi[1] - origin[1]]
    cells = _cells_of(core, np.zeros(core.shape, bool), core_lo, side, columns)[0]
    return cells, _far(labels, origin, _ringed(core_lo, core_hi, shape), shape)


def _near_territories(region, box, cores, *parts):
    """The whole image's nearest nucleus (working resolution, global ids) on ``region``
    (global slices), from the global labels over ``box`` (global slices holding every
    nucleus as near as any to a pixel of ``region``) made of the chunks whose cores meet
    ``box``: per chunk its core's (first, last + 1) pixels in ``cores``, its state and
    lut in ``parts``, one after the other (flat: a persisted Delayed inside a tuple
    lost its future from the graph on a cluster)."""
    labels = np.zeros(tuple(sl.stop - sl.start for sl in box), np.int32)
    for state, lut, (lo, hi) in zip(parts[0::2], parts[1::2], cores, strict=True):
        local, _, origin = _unpack(state)
        a = [max(lo_, sl.start) for lo_, sl in zip(lo, box, strict=True)]
        b = [min(hi_, sl.stop) for hi_, sl in zip(hi, box, strict=True)]
        labels[a[0] - box[0].start:b[0] - box[0].start,
               a[1] - box[1].start:b[1] - box[1].start] = lut[
            local[a[0] - origin[0]:b[0] - origin[0], a[1] - origin[1]:b[1] - origin[1]]]
    at = np.zeros(labels.shape, bool)
    inner = tuple(slice(r.start - b.start, r.stop - b.start) for r, b in zip(region, box,
                                                                          strict=True))
    at[inner] = True
    return _block_nearest(labels, at, np.inf)[inner].astype(np.int32)


def far_territories(states, luts, edges, scheduler) -> list:
    """Per chunk (in the order of ``states``, row by row over ``edges``), None where its
    window's nearest nucleus is the whole image's on its core and ring, else a Delayed
    of that ring's territories (:func:`_near_territories`) for
    ``_chunk_task._watershed_output``. Without the segmentations kept (``states`` None:
    above ``_chunked.CACHE_PIXELS`` on a local scheduler) all None: each chunk's window's
    nearest nucleus, as before round 59 (the check would segment every chunk again)."""
    import dask

    from .._lazy import _compute

    if not states or states[0] is None:
        return [None] * len(states)
    n_rows, n_cols = len(edges[0]) - 1, len(edges[1]) - 1
    shape = (int(edges[0][-1]), int(edges[1][-1]))
    side = _cell_side(shape)
    grid = (-(-shape[0] // side), -(-shape[1] // side))
    cores = [((int(edges[0][i]), int(edges[1][j])), (int(edges[0][i + 1]), int(edges[1][j + 1])))
             for i in range(n_rows) for j in range(n_cols)]
    summary = dask.delayed(_territory_summary, pure=True)
    # (``luts``: on a cluster one Delayed, indexed, not iterated)
    found = _compute(*[summary(states[k], luts[k], lo, hi, shape, side, grid[1])
                       for k, (lo, hi) in enumerate(cores)], scheduler=scheduler)
    if not any(far for _, far in found):
        return [None] * len(states)
    labelled = np.zeros(grid[0] * grid[1], bool)
    for cells, _ in found:
        labelled[cells] = True
    if not labelled.any():  # no nucleus: every territory 0, as every window gives
        return [None] * len(states)
    bound = _cell_bounds(labelled.reshape(grid), shape, side)
    near = dask.delayed(_near_territories, pure=True)
    out = []
    for (lo, hi), (_, far) in zip(cores, found, strict=True):
        if not far:
            out.append(None)
            continue
        region = _ringed(lo, hi, shape)
        m = int(np.ceil(bound[region[0].start // side:(region[0].stop - 1) // side + 1,
                              region[1].start // side:(region[1].stop - 1) // side + 1].max()))
        box = tuple(slice(max(sl.start - m, 0), min(sl.stop + m, n))
                    for sl, n in zip(region, shape, strict=True))
        # the chunks whose cores meet the box (the edges are sorted)
        rows = range(np.searchsorted(edges[0], box[0].start, "right") - 1,
                     np.searchsorted(edges[0], box[0].stop, "left"))
        cols = range(np.searchsorted(edges[1], box[1].start, "right") - 1,
                     np.searchsorted(edges[1], box[1].stop, "left"))
        ks = [i * n_cols + j for i in rows for j in cols]
        out.append(near(region, box, [cores[k] for k in ks],
                        *[x for k in ks for x in (states[k], luts[k])]))
    return out
