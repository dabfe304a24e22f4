"""Each pixel's nearest label chunk by chunk, exactly as in memory
(:func:`._label_image._nearest_label`, whose ties the windows break the same way), each
chunk read with the margin it needs and no more.

A first pass lists, per chunk, the cells of a coarse grid (side :func:`_cell_side`)
that hold a labelled pixel and those that hold a pixel asked for. For each cell asked
for, the farthest distance between it and its nearest labelled cell bounds the
distance from any of its pixels to its nearest label (that cell holds one); a chunk is
then read with a margin of the largest bound over its cells asked for (round 58).
Every label as near as a pixel's nearest, ties included, lies in that window, so its
feature transform gives the pixel the whole image's nearest label. A chunk with no
pixel asked for reads nothing. Before round 58 every chunk was read with a margin of
:data:`NEAREST_REACH`, four times wider while a pixel's nearest label could lie beyond
it, then the whole image in one chunk: a large empty region of a mosaic put the whole
image in memory.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the cells of the coarse grid are at most about this many (their side grows with the
#: image: 8 pixels up to 2**26 pixels, 31 on a gigapixel mosaic)
GRID_CELLS = 2**20


def _cell_side(shape) -> int:
    """The side of the coarse grid's cells: 8 pixels, more where the grid would hold
    more than :data:`GRID_CELLS` cells."""
    return max(8, int(np.ceil(np.sqrt(float(np.prod(shape)) / GRID_CELLS))))


def _block_nearest(labels: np.ndarray, at: np.ndarray, reach: float) -> np.ndarray:
    """:func:`._label_image._nearest_label` of the window ``labels`` on the pixels ``at``
    (0 off them), -1 where no label lies within ``reach`` (a nearer one may lie beyond
    the window)."""
    out = np.zeros(labels.shape, np.int64)
    if not at.any():
        return out
    seeded = labels != 0
    if not seeded.any():
        out[at] = -1 if np.isfinite(reach) else 0
        return out
    dist, (rows, cols) = ndi.distance_transform_edt(~seeded, return_indices=True)
    out[at] = np.where(dist[at] <= reach, labels[rows[at], cols[at]], -1)
    return out


def _cells_of(labels: np.ndarray, at: np.ndarray, origin, side: int, columns: int):
    """The coarse cells (flat indices, sorted) holding a labelled pixel of the chunk
    ``labels`` and those holding a pixel of ``at``; ``origin``: its first pixel."""
    out = []
    for mask in (np.asarray(labels) != 0, np.asarray(at, dtype=bool)):
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            out.append(np.empty(0, np.int64))
            continue
        # per band of rows of a cell, the cells' columns it holds (a chunk's pixels are
        # many; its cells few)
        cells = []
        band = (rows + origin[0]) // side
        for b in np.unique(band).tolist():
            lo = b * side - origin[0]
            part = mask[max(lo, 0):lo + side, cols]
            hit = cols[part.any(axis=0)]
            cells.append(b * columns + np.unique((hit + origin[1]) // side))
        out.append(np.concatenate(cells).astype(np.int64))
    return tuple(out)


def _cell_bounds(labelled: np.ndarray, shape, side: int) -> np.ndarray:
    """Per coarse cell, a bound on the distance from any of its pixels to the nearest
    labelled pixel of the image: the farthest distance between its pixels and those of
    the labelled cell nearest to it on the grid (``labelled``: the grid, True where a
    cell holds a labelled pixel; at least one)."""
    near = ndi.distance_transform_edt(~labelled, return_distances=False, return_indices=True)
    spans = []
    for axis, n in enumerate(shape):
        k = np.arange(labelled.shape[axis])
        first, last = k * side, np.minimum((k + 1) * side, n) - 1  # each cell's pixels
        other = near[axis]
        index = k[:, None] if axis == 0 else k[None, :]
        spans.append(np.maximum(last[index] - first[other], last[other] - first[index]))
    return np.sqrt(spans[0].astype(np.float64) ** 2 + spans[1].astype(np.float64) ** 2)


def _window_nearest(window, at, core, reach):
    """The nearest label of the pixels ``at`` of a chunk, ``core``: its slices in the
    ``window`` read around it."""
    block = np.zeros(window.shape, bool)
    block[core] = at
    return _block_nearest(window, block, reach)[core]


def nearest_label_lazy(labels, at, scheduler=None):
    """``np.where(at, _nearest_label(labels), 0)`` of the 2-d dask arrays ``labels``
    (integer) and ``at`` (bool), exactly, chunk by chunk (lazy, ``labels``' dtype; the
    chunks of ``labels``).

    One pass reads both to list the coarse cells holding a labelled pixel and a pixel
    of ``at`` (no label: 0 everywhere); then each chunk holding a pixel of ``at`` is read
    with the margin its cells' bounds give it (:func:`_cell_bounds`; a few cells'
    sides more than its farthest pixel's distance to its nearest label), and its
    pixels take the nearest label in that window: every label as near, ties included,
    lies in it. The rest of the chunks are 0 without reading anything. The memory a
    chunk takes grows with the largest empty region near it, never with the image."""
    import dask
    import dask.array as da

    from ._lazy import _compute

    at = at.rechunk(labels.chunks)
    rows, cols = labels.shape
    side = _cell_side(labels.shape)
    grid = (-(-rows // side), -(-cols // side))
    edges = [np.cumsum((0, *c)).tolist() for c in labels.chunks]
    lab_blocks, at_blocks = labels.to_delayed(), at.to_delayed()
    cells = dask.delayed(_cells_of, pure=True, nout=2)
    found = [[cells(lab_blocks[i, j], at_blocks[i, j], (edges[0][i], edges[1][j]), side,
                    grid[1]) for j in range(len(edges[1]) - 1)]
             for i in range(len(edges[0]) - 1)]
    (found,) = _compute(found, scheduler=scheduler)
    labelled = np.zeros(grid[0] * grid[1], bool)
    for row in found:
        for seeded, _ in row:
            labelled[seeded] = True
    if not labelled.any():
        return da.zeros_like(labels)
    bound = _cell_bounds(labelled.reshape(grid), labels.shape, side).ravel()
    window = dask.delayed(_window_nearest, pure=True)
    out = []
    for i, row in enumerate(found):
        out_row = []
        for j, (_, asked) in enumerate(row):
            (r0, r1), (c0, c1) = edges[0][i:i + 2], edges[1][j:j + 2]
            if asked.size == 0:
                out_row.append(da.zeros((r1 - r0, c1 - c0), dtype=labels.dtype,
                                        chunks=(r1 - r0, c1 - c0)))
                continue
            reach = float(bound[asked].max())
            m = int(np.ceil(reach))
            box = (slice(max(r0 - m, 0), min(r1 + m, rows)),
                   slice(max(c0 - m, 0), min(c1 + m, cols)))
            core = (slice(r0 - box[0].start, r1 - box[0].start),
                    slice(c0 - box[1].start, c1 - box[1].start))
            task = window(labels[box], at_blocks[i, j], core, reach)
            out_row.append(da.from_delayed(task, shape=(r1 - r0, c1 - c0), dtype=np.int64)
                           .astype(labels.dtype))
        out.append(out_row)
    return da.block(out)
