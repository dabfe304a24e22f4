"""The chunked watershed's working image, built inside each task from the stored input.

No stage of :func:`nuclei._chunked.seeded_watershed_chunked` keeps a float working image
between tasks: every task that needs the working image over a box (a chunk, a chunk with
its margin, a chunk with one ring) reads the *input* (in its stored dtype: uint8 for most
mosaics) over that box plus the reach of the smoothing and of the local background's
opening, and reduces, smooths and flattens it there. The halo makes the box's values
those of the whole image (the filters are local; at the image's own border they use
their border modes, as in memory), so the nuclei are the same as when the stages were
dask arrays; only the memory differs (8192² float64 images were 0.54 GB per stage).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._lazy import _compute, _float_type, _gaussian_radius
from .._validation import intensity_exponent
from ..threshold import LI_BINS, _hist_edges, _histogram
from ._background import _TILE, _tile_counts
from ._foreground import _background_size, _flatten

__all__: list[str] = []

#: Images whose largest magnitude is above 2**100 or below 2**-100 are divided by a power
#: of two first (``_validation.intensity_exponent``), in memory and chunk by chunk.
EXTREME_EXPONENT = 100
#: The same for a float32 image, worked in float32: its squares (a gradient's magnitude)
#: overflow above 2**64 and are lost below 2**-75 (other nuclei, silently), so its bound
#: is 2**±32.
EXTREME_EXPONENT_FLOAT32 = 32


def _extreme_exponent(values: np.ndarray, dtype=None) -> int:
    """The power of two an image of ``values`` (or its least and largest values, and
    then the image's ``dtype``) is divided by (``np.ldexp(img, -exponent)``, exact): its
    ``intensity_exponent`` when that is beyond ``EXTREME_EXPONENT`` (for float32,
    ``EXTREME_EXPONENT_FLOAT32``), else 0 (the image is left as it is)."""
    exponent = intensity_exponent(values)
    single = np.dtype(dtype if dtype is not None else values.dtype) == np.float32
    return exponent if abs(exponent) > (EXTREME_EXPONENT_FLOAT32 if single
                                        else EXTREME_EXPONENT) else 0


def _parts(n: int, side: int):
    k = -(-n // side)
    return [n // k + (i < n % k) for i in range(k)]


def _output_chunks(chunks, factor: int, full_shape):
    """The full-resolution chunks of an output whose working chunks are ``chunks``."""
    out = []
    for axis, full in zip(chunks, full_shape, strict=True):
        edges = [min(e * factor, full) for e in np.cumsum((0, *axis))]
        out.append(tuple(int(n) for n in np.diff(edges)))
    return tuple(out)


def work_plan(stored, *, factor, s, d, auto, exponent):
    """What a task needs to make the working image from the stored input (a small dict:
    it travels in the graph): the reduction, smoothing and flattening, the float type and
    the power of two the image is divided by (``exponent``, 0 for none)."""
    return {"factor": int(factor), "s": float(s), "d": float(d), "flatten": bool(auto),
            "ftype": np.dtype(_float_type(stored.dtype)).str, "exponent": int(exponent),
            "full_shape": tuple(int(n) for n in stored.shape)}


def halo(plan) -> int:
    """Working pixels around a box that its working image depends on: the Gaussian's
    radius plus, for the "auto" threshold, the opening's reach (as the lazy stages read)."""
    reach = _gaussian_radius(plan["s"]) if plan["s"] > 0 else 0
    return reach + (_background_size(plan["d"]) + 1 if plan["flatten"] else 0)


def working_image(block, at, box, plan, raw=False):
    """The working image over ``box`` ((row0, row1), (col0, col1)), in working pixels.

    ``block`` is the stored input from full-resolution pixel ``at`` (a multiple of the
    factor), covering the box and :func:`halo` working pixels around it (less at the image's
    border). Converted to the float type, divided by the plan's power of two (exactly),
    reduced by the block mean (the last partial block completed with copies of the last
    row/column, as the lazy path's edge padding), smoothed and flattened, then cropped.
    With ``raw``, also the same crop before the flattening and before the smoothing (None
    and None without a flattening).
    """
    f = plan["factor"]
    img = np.asarray(block).astype(plan["ftype"], copy=False)
    if plan["exponent"]:
        img = np.ldexp(img, -plan["exponent"]).astype(plan["ftype"], copy=False)
    if f > 1:
        pad = [(0, -n % f) for n in img.shape]
        if any(p for _, p in pad):
            img = np.pad(img, pad, mode="edge")
        rows, cols = img.shape
        # the lazy reduction's own arithmetic (dask's coarsen with np.mean)
        img = np.mean(img.reshape(rows // f, f, cols // f, f), axis=(1, 3))
    unsmoothed = img
    if plan["s"] > 0:
        img = ndi.gaussian_filter(img, plan["s"])
    before = None
    if plan["flatten"]:
        before, img = img, _flatten(img, plan["d"])
    r0, c0 = at[0] // f, at[1] // f
    (a, b), (c, e) = box
    if raw:  # (and before its smoothing, with the flattening: ._texture)
        return tuple(None if x is None else x[a - r0:b - r0, c - c0:e - c0]
                     for x in (img, before, unsmoothed if before is not None else None))
    return img[a - r0:b - r0, c - c0:e - c0]


def raw_blocks(stored, edges, margin: int, plan):
    """For every chunk of the working grid ``edges`` (row and column edges, working
    pixels): its box (the chunk with ``margin`` working pixels of its neighbours, inside
    the image), and a Delayed of the stored input over that box and its :func:`halo`,
    with the full-resolution pixel it starts at.

    Each block is put together from the pieces of the stored chunks it covers, cut in
    tasks of their own (as dask's overlap does, but for any depth: a margin wider than a
    neighbouring chunk reads the chunk beyond). Each stored chunk is read once per
    computation, and only the pieces travel: the graph names the chunks (a few tasks per
    block; slicing each block out of the array put the slicing graph of every block in a
    cluster's graph, 85 kB per chunk).
    """
    cells = [(i, j, (margin,) * 4) for i in range(len(edges[0]) - 1)
             for j in range(len(edges[1]) - 1)]
    blocks = iter(some_blocks(stored, edges, cells, plan))
    return [[next(blocks) for _ in range(len(edges[1]) - 1)] for _ in range(len(edges[0]) - 1)]


def some_blocks(stored, edges, cells, plan):
    """:func:`raw_blocks` of the chunks ``cells`` only ((i, j, margins) each: the margins
    on the top, bottom, left and right side), as a list."""
    import dask

    f, full = plan["factor"], plan["full_shape"]
    work = (int(edges[0][-1]), int(edges[1][-1]))
    chunks = stored.to_delayed()
    starts = [np.cumsum((0, *axis)) for axis in stored.chunks]
    cut = dask.delayed(_piece, pure=True)
    join = dask.delayed(np.block, pure=True)
    out = []
    for i, j, margins in cells:
        lo = (int(edges[0][i]), int(edges[1][j]))
        hi = (int(edges[0][i + 1]), int(edges[1][j + 1]))
        before, after = margins[0::2], margins[1::2]
        box = tuple((max(0, a - m), min(n, b + e))
                    for a, b, n, m, e in zip(lo, hi, work, before, after, strict=True))
        at = tuple(max(0, a * f - (m + halo(plan)) * f) for a, m in zip(lo, before, strict=True))
        end = tuple(min(n, b * f + (m + halo(plan)) * f)
                    for b, n, m in zip(hi, full, after, strict=True))
        ks = [range(int(np.searchsorted(st, a, "right")) - 1,
                    int(np.searchsorted(st, e, "left")))
              for st, a, e in zip(starts, at, end, strict=True)]
        pieces = []
        for k in ks[0]:
            line = []
            for m in ks[1]:
                sl = tuple(slice(max(a, st[x]) - st[x], min(e, st[x + 1]) - st[x])
                           for st, a, e, x in zip(starts, at, end, (k, m), strict=True))
                whole = all(s.start == 0 and s.stop == st[x + 1] - st[x]
                            for s, st, x in zip(sl, starts, (k, m), strict=True))
                line.append(chunks[k, m] if whole else cut(chunks[k, m], sl))
            pieces.append(line)
        block = pieces[0][0] if len(pieces) == len(pieces[0]) == 1 else join(pieces)
        out.append((block, at, box))
    return out


def _piece(chunk, where):
    """A copy of part of a stored chunk (a view would keep the whole chunk in memory)."""
    return np.array(chunk[where])


def lazy_working(stored, edges, plan):
    """The working image as a lazy array in the chunks ``edges``, each chunk made from
    the stored input in its own task (for the passes that read it whole: range,
    histograms, a threshold method)."""
    import dask
    import dask.array as da

    make = dask.delayed(working_image, pure=True)
    ftype = np.dtype(plan["ftype"])
    rows = []
    for row in raw_blocks(stored, edges, 0, plan):
        rows.append([da.from_delayed(make(block, at, box, plan),
                                     shape=(box[0][1] - box[0][0], box[1][1] - box[1][0]),
                                     dtype=ftype) for block, at, box in row])
    return da.block(rows)


def two_histograms(image, lo, hi, dtype) -> np.ndarray:
    """Counts of ``image`` in the 256 and the ``LI_BINS`` bins of [lo, hi] (edges made
    here: see ``threshold._block_histogram``)."""
    return np.concatenate([_histogram(image, _hist_edges(lo, hi, 256, dtype)),
                           _histogram(image, _hist_edges(lo, hi, LI_BINS, dtype))])


def core_counts(block, at, box, core, plan, span):
    """What the chunked "auto" threshold sums over the chunks, from one chunk read with
    ``_TILE + 1`` working pixels around its ``core`` (``box``): :func:`two_histograms` of
    the core's working image over ``span`` (lo, hi, dtype), then
    ``_background._tile_counts`` of the tiles whose origin lies in the core (made from the
    working image before its smoothing)."""
    raw = {**plan, "s": 0.0, "flatten": False}
    tiles = _tile_counts(working_image(block, at, box, raw), (box[0][0], box[1][0]), core)
    return np.concatenate([two_histograms(working_image(block, at, core, plan), *span), tiles])


def summed_counts(stored, edges, plan, span, scheduler=None) -> np.ndarray:
    """:func:`core_counts` summed over the chunks of the working grid ``edges`` (one read
    of the input)."""
    import dask

    task = dask.delayed(core_counts, pure=True)
    jobs = []
    for i, row in enumerate(raw_blocks(stored, edges, _TILE + 1, plan)):
        for j, (block, at, box) in enumerate(row):
            core = ((int(edges[0][i]), int(edges[0][i + 1])),
                    (int(edges[1][j]), int(edges[1][j + 1])))
            jobs.append(task(block, at, box, core, plan, span))
    (counts,) = _compute(dask.delayed(sum)(jobs), scheduler=scheduler)
    return counts
