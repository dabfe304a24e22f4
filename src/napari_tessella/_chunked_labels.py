"""Connected components of a lazy mask, chunk by chunk, stitched across chunk borders.

Every chunk is labelled on its own, and a small summary is kept per chunk (its labels on
its four edges, and per label the pixel count, the first pixel in raster order and whether
it touches the image border). Labels that touch across a chunk border (edge neighbours,
plus corner neighbours for ``connectivity=2``) are merged with a sparse connected-components
search; small and border objects are dropped, and the survivors are numbered in raster
order of their first pixel, as :func:`scipy.ndimage.label` numbers them. The returned
labels are lazy: each chunk re-runs its labelling and maps its local labels to the global
ones with a look-up table, so no step needs every chunk's labels in memory at once.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._label_image import _edge_ids
from ._lazy import _settle


def _block_summary(mask, structure, r0, c0, shape):
    """Label one chunk; return its edges and per-label statistics (small)."""
    lab, n = ndi.label(mask, structure=structure, output=np.int32)
    rows, cols = shape
    h, w = lab.shape
    count = np.bincount(lab.ravel(), minlength=n + 1)
    flat = lab.ravel()
    where = np.flatnonzero(flat)
    first = np.full(n + 1, np.iinfo(np.int64).max, dtype=np.int64)
    # global raster index of each pixel: (r0 + r) * cols + (c0 + c)
    gidx = (r0 + where // w) * np.int64(cols) + (c0 + where % w)
    np.minimum.at(first, flat[where], gidx)
    border = np.zeros(n + 1, dtype=bool)
    border[_edge_ids(lab, (r0 == 0, r0 + h == rows, c0 == 0, c0 + w == cols))] = True
    border[0] = False
    return {
        "n": n,
        "count": count[1:],
        "first": first[1:],
        "border": border[1:],
        "top": lab[0].copy(),
        "bottom": lab[-1].copy(),
        "left": lab[:, 0].copy(),
        "right": lab[:, -1].copy(),
    }


def _touching_pairs(a, b, connectivity):
    """Label pairs facing each other across a border (a, b: the two 1-D edge strips)."""
    pairs = []
    shifts = (0,) if connectivity == 1 else (-1, 0, 1)
    size = a.size
    for s in shifts:
        if s >= 0:
            aa, bb = a[: size - s], b[s:]
        else:
            aa, bb = a[-s:], b[: size + s]
        both = (aa > 0) & (bb > 0)
        if both.any():
            pairs.append(np.stack([aa[both], bb[both]], axis=1))
    return pairs


def _stitch(summaries, numblocks, connectivity, min_size, exclude_border):
    """Global look-up table: (chunk label + chunk offset) → final label (raster order)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nr, nc = numblocks
    ns = np.array([[summaries[i][j]["n"] for j in range(nc)] for i in range(nr)], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(ns.ravel())[:-1]]).reshape(nr, nc)
    total = int(ns.sum())
    if total == 0:
        return offsets, np.zeros(1, dtype=np.int32)

    def shifted(strip, off):
        out = strip.astype(np.int64)
        out[out > 0] += off
        return out

    pairs = []
    # horizontal borders between chunk rows i and i+1, across the whole image width
    for i in range(nr - 1):
        above = np.concatenate(
            [shifted(summaries[i][j]["bottom"], offsets[i, j]) for j in range(nc)]
        )
        below = np.concatenate(
            [shifted(summaries[i + 1][j]["top"], offsets[i + 1, j]) for j in range(nc)]
        )
        pairs += _touching_pairs(above, below, connectivity)
    # vertical borders between chunk columns j and j+1, across the whole image height
    for j in range(nc - 1):
        left = np.concatenate(
            [shifted(summaries[i][j]["right"], offsets[i, j]) for i in range(nr)]
        )
        right = np.concatenate(
            [shifted(summaries[i][j + 1]["left"], offsets[i, j + 1]) for i in range(nr)]
        )
        pairs += _touching_pairs(left, right, connectivity)

    count = np.concatenate([s["count"] for row in summaries for s in row]).astype(np.int64)
    first = np.concatenate([s["first"] for row in summaries for s in row])
    border = np.concatenate([s["border"] for row in summaries for s in row])
    if pairs:
        p = np.concatenate(pairs) - 1  # provisional labels are 1..total
        graph = coo_matrix(
            (np.ones(len(p), dtype=np.int8), (p[:, 0], p[:, 1])), shape=(total, total)
        )
        ncomp, comp = connected_components(graph, directed=False)
    else:
        ncomp, comp = total, np.arange(total)
    c_count = np.bincount(comp, weights=count, minlength=ncomp)
    c_first = np.full(ncomp, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(c_first, comp, first)
    c_border = np.bincount(comp, weights=border, minlength=ncomp) > 0
    keep = np.ones(ncomp, dtype=bool)
    if min_size > 1:
        keep &= c_count >= min_size
    if exclude_border:
        keep &= ~c_border
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(c_first[kept], kind="stable")]
    final = np.zeros(ncomp, dtype=np.int32)
    final[order] = np.arange(1, order.size + 1, dtype=np.int32)
    lut = np.concatenate([[0], final[comp]]).astype(np.int32)
    return offsets, lut


def _block_luts(summaries, numblocks, connectivity, min_size, exclude_border):
    """Each chunk's look-up table (its labels → final labels), in raster order of chunks."""
    offsets, lut = _stitch(summaries, numblocks, connectivity, min_size, exclude_border)
    return [np.concatenate([[0], lut[off + 1: off + s["n"] + 1]]).astype(np.int32)
            for off, s in zip(offsets.ravel(), (s for row in summaries for s in row),
                              strict=True)]


def _relabel_block(mask, structure, block_lut):
    lab, _ = ndi.label(mask, structure=structure, output=np.int32)
    return block_lut[lab]


def _label_mask(mask, structure, connectivity, min_size, exclude_border, scheduler):
    """Stitched, raster-ordered labels of a lazy boolean mask (passes 3 and lazy 4)."""
    import dask
    import dask.array as da

    row_starts = np.concatenate([[0], np.cumsum(mask.chunks[0])[:-1]])
    col_starts = np.concatenate([[0], np.cumsum(mask.chunks[1])[:-1]])
    blocks = mask.to_delayed()
    summary = dask.delayed(_block_summary, pure=True)
    tasks = [
        [summary(blocks[i, j], structure, int(row_starts[i]), int(col_starts[j]), mask.shape)
         for j in range(mask.numblocks[1])]
        for i in range(mask.numblocks[0])
    ]
    # the tables stay on a cluster (see _settle): computed there, named by the graph
    luts = _settle(dask.delayed(_block_luts, pure=True)(
        tasks, mask.numblocks, connectivity, min_size, exclude_border), scheduler)
    nr, nc = mask.numblocks
    relabel = dask.delayed(_relabel_block, pure=True)
    out_rows = []
    for i in range(nr):
        row = []
        for j in range(nc):
            shape = (mask.chunks[0][i], mask.chunks[1][j])
            row.append(da.from_delayed(relabel(blocks[i, j], structure, luts[i * nc + j]),
                                       shape=shape, dtype=np.int32))
        out_rows.append(row)
    return da.block(out_rows)
