"""The seeded watershed of an image too large for memory, chunk by chunk.

The global quantities (diameter, threshold) come from the whole image first; then every
chunk is segmented with a margin of a few diameters, and the views of a nucleus in
neighbouring chunks are matched by centroid and given one global id. What one chunk's
task does (its window, its segmentation and summary, its output) is :mod:`._chunk_task`'s.
"""

from __future__ import annotations

import numpy as np

from .._lazy import _as_float_dask, _client, _compute, _lazy_stage, _settle_all
from .._outside import frame_part_lazy, seeds_in_box
from .._validation import as_points, flag, shape_of
from ..threshold import LI_BINS, _global_threshold, _hist_edges, threshold_spec
from ._background import _cell_top, _dense_share, _level_and_noise, _shoulder_gate, _tile_noise
from ._chunk_task import _RING, _watershed_output, _watershed_segment, _watershed_summary
from ._chunked_fills import filled_watershed
from ._chunked_territories import far_territories
from ._deblur import _central, _measured, _sharpened_lazy, _wide_blur
from ._foreground import (
    _background_size,
    _dim_level,
    _log_offset,
    _log_otsu,
    _significant_cut,
)
from ._orient import (
    IDENTITY,
    from_canonical,
    points_from_canonical,
    points_to_canonical,
    to_canonical,
)
from ._params import _check_watershed_params
from ._reach import NO_SIDE, widen
from ._recipe import WatershedResult, _plan
from ._resample import _full_resolution, _reduce_lazy
from ._stitch import _watershed_tables
from ._windows import (
    _output_chunks,
    _parts,
    lazy_working,
    raw_blocks,
    summed_counts,
    work_plan,
)
from .diameter import _clean_pass, _estimate_diameter

__all__ = ["CACHE_PIXELS", "WATERSHED_MARGIN", "WATERSHED_MARGIN_MAX", "seeded_watershed_chunked"]

#: Margin of each chunk in the chunked watershed, in object diameters: what every chunk
#: sees around its core ...
WATERSHED_MARGIN = 2.0

#: ... grown, where a foreground blob within that margin of the core reaches farther (a
#: bright cell and its glow, nuclei joined by blur), to that blob and the margin around
#: it, up to this many diameters (the chunk is read with it; see
#: :func:`._chunk_task._needed_window`; wider where the window cuts a network of trimmed
#: halos near the core, :mod:`._reach`).
WATERSHED_MARGIN_MAX = 6.0

#: Each chunk is segmented once: what its output needs (its labels with the margin,
#: zlib-compressed) is kept from the
#: pass that stitches the ids to the one that writes them — on a cluster by the workers
#: (persisted), on a local scheduler in memory for working images of up to this many
#: pixels; above, each chunk is segmented again for its output (the same labels).
CACHE_PIXELS = 2**28

#: Side, in working pixels, above which a chunk is segmented in parts (each with its own
#: margin): the segmentation's working arrays take ~70 bytes a pixel of the window, so
#: a 2048² chunk (the default) would hold ~0.3 GB per thread. The output keeps the
#: chunks of the working image (parts are joined again).
SEGMENT_SIDE = 1024

def _working_chunks(raw, factor: int, s: float, d: float, auto: bool):
    """The chunks of the working image: those the lazy stages (block mean, smoothing with
    margins, flattening with margins) would give it, each rechunking as they would (only
    the layout is taken: the graph is never computed; the tasks make their own windows,
    :mod:`._windows`)."""
    from dask.array.overlap import ensure_minimum_chunksize

    smooth = _lazy_stage(_reduce_lazy(raw, factor), s)
    if not auto:
        return smooth.chunks
    depth = _background_size(d) + 1  # the flattening's margin: chunks at least as large
    # a chunk below it (the partial block of the reduction, a short last chunk) is merged
    # into its neighbours; the rest keep their size (a uniform rechunk to the smallest
    # made every chunk that small: 30-px chunks on a 144² field, 130 on a U2OS image)
    return tuple(ensure_minimum_chunksize(depth, c) if len(c) > 1 else c
                 for c in smooth.chunks)


def _auto_params_from_hist(c256, e256, cfine, efine, lo, hi, spread=None,
                           known_flanks=False):
    """``nuclei._auto_params`` from histograms of the smoothed image (see the docstring of
    :func:`seeded_watershed_chunked`), with the noise ``spread`` of the tiles
    (``_background._tile_noise``). The log is taken in the image's dtype, as in memory;
    its last value is the field's share above the cut (``_background._dense_share``).
    ``known_flanks``: the pixels below Otsu are flanks (the sharpened run, as in memory)."""
    from skimage.filters import threshold_otsu

    otsu = float(threshold_otsu(hist=(c256, e256[:-1] / 2 + e256[1:] / 2)))
    centres = efine[:-1] / 2 + efine[1:] / 2
    width = float(efine[1] - efine[0])
    level, noise, flanked = _level_and_noise(cfine, centres, width, otsu, spread, False,
                                             with_flanked=True, known_flanks=known_flanks)
    eps = _log_offset(noise, hi, level)
    cut = _significant_cut(_log_otsu(cfine, centres, lo, hi, level, eps, efine.dtype),
                           noise if spread is None else spread, eps,
                           lambda v: _cell_top(cfine, centres, width, level + v) - level,
                           None if spread is None else max(spread, noise))
    return level, eps, cut, _dense_share(cfine, centres, flanked, level, eps, cut)


def seeded_watershed_chunked(image, *, object_diameter=None, sigma=None, seeds=None,
                             landscape="distance", threshold="auto",
                             exclude_border=False, min_size=None, chunks=None,
                             scheduler=None):
    """Seeded watershed of an image too large for memory, chunk by chunk.

    Same recipe, parameters and defaults as :func:`napari_tessella.nuclei.seeded_watershed`.
    The quantities that depend on the whole image are computed first, from the whole
    image: the object diameter (the in-memory estimate, from the same reduced images), the
    threshold — for "auto", the background level and noise (``nuclei._background``: from
    the same 65,536-bin histogram as in memory) and the log-Otsu cut, from a 256-bin and
    that histogram of the smoothed working image (the cut's histogram can differ from the
    in-memory Otsu by about one fine bin, ``range / 65536``) — and, for a method name, the
    global histogram threshold as in :func:`threshold_label_chunked`.

    Then every chunk (at the working resolution) is segmented with a margin of
    :data:`WATERSHED_MARGIN` object diameters read from its neighbours, grown to hold
    whole every foreground blob that comes within a diameter of the chunk (with a
    diameter around the blob), up to :data:`WATERSHED_MARGIN_MAX` diameters; the labels
    of its core are kept. A chunk whose window cuts, within that reach of its core, a
    part of what the recipe's trim removed (the halos of touching nuclei, which join into
    networks of any length in dense fields) is segmented again from a window twice as wide
    on those sides, until none is cut, up to ``nuclei._reach.WIDEST`` diameters
    (:mod:`._reach`). An object that crosses a chunk border is seen by both chunks; the
    views are matched by their centroids (within a quarter of a diameter) and given one
    global id. Objects are numbered in raster order of their centroid (in memory: in the
    order of their seeds), so compare results up to label numbering. No step keeps the
    working image: each task makes the part it needs from the input in its stored dtype,
    with the reach of the smoothing and of the local background around it
    (:mod:`._windows`). An image near the largest float or subnormal is divided by a
    power of two first, as in memory.

    A constant black frame around the field (whole edge rows or columns at the image's
    minimum) is read as outside the image, as in memory (``_outside.frame_part_lazy``: the
    four edge lines are read, and one pass more only when one of them is constant).

    Differences from the in-memory result: none where every foreground blob (the
    8-connected pixels above the global threshold: a nucleus, or nuclei and a glow joined)
    that comes within a diameter of a chunk, with a diameter around it, fits within
    :data:`WATERSHED_MARGIN_MAX` diameters of the chunk — every step of the recipe then
    reads what it reads in memory, but for cues that reach farther than a diameter from
    an object. A blob larger than that (a confluent sheet of nuclei) is seen in part, and
    the nuclei near the chunk border on it can come out differently, ``min_size``
    applying to the chunk's view; in a dense field, where the foreground is one such blob,
    the trimmed halos joined over 6.7 d made 2 of 72 chunkings of 512² fields differ (3
    objects each; docs/nuclei-history.md, round 28) before the windows were widened along them,
    none since (rounds 29-30). The "auto" threshold's log-Otsu cut is taken from histograms and can
    differ from the in-memory one by about a fine bin (``range / 65536``; it changed no
    pixel on the fields below).
    Measured with ``benchmarks/chunked_agreement.py`` (chunks of the array's default,
    512², 256², 128 × 160): identical pixel for pixel, up to numbering, on the 35 cell-line
    fields of ``benchmarks/nuclei_cellline.py`` (tuned and held-out seeds and kinds; 1,189
    nuclei) and on 12 blurred dense fields of ``benchmarks/nuclei_dense_blur.py`` (1,143
    nuclei); with the fixed 2-d margin 1-18 nuclei per chunk size differed on the former
    and 54-104 on the latter. Territories are the whole image's nearest nucleus, as in
    memory: a pixel whose nearest nucleus may lie beyond its chunk's window takes it from
    the chunks' kept segmentations, read where they lie (round 59,
    :mod:`._chunked_territories`; the same on a cluster as in one process); above
    ``CACHE_PIXELS`` on a local scheduler, where they are not kept, the nearest one the
    chunk and its margin hold (0 if none). ``benchmarks/mosaic.py --watershed`` measures
    the agreement on a mosaic.

    Parameters
    ----------
    image : (M, N) dask array, Zarr array or array_like
    object_diameter, sigma, seeds, landscape, threshold, exclude_border, min_size
        As in :func:`napari_tessella.nuclei.seeded_watershed`; ``seeds`` may be None,
        "regional_maxima" or (K, 2) points (a label image of seeds is not supported here).
    chunks : int or (int, int), optional
        Chunk shape at full resolution; default the array's own chunks (or 2048²).
    scheduler : optional
        As in :func:`threshold_label_chunked`.

    Returns
    -------
    WatershedResult
        ``labels`` and ``territories`` are lazy (M, N) int32 dask arrays; ``seeds`` holds
        the seeds of the kept nuclei (all the user's points when they were given).
    """
    return _chunked_watershed(image, object_diameter=object_diameter, sigma=sigma,
                              seeds=seeds, landscape=landscape, threshold=threshold,
                              exclude_border=exclude_border, min_size=min_size,
                              chunks=chunks, scheduler=scheduler, sharpen=True)


def _chunked_watershed(image, *, object_diameter, sigma, seeds, landscape, threshold,
                       exclude_border, min_size, chunks, scheduler, sharpen, dense=False,
                       look=True):
    """:func:`seeded_watershed_chunked`; with ``sharpen``, a dense field under a wide
    PSF is segmented again sharpened (:mod:`._deblur`, as in memory; ``dense``: the
    image as given met the dense gate); ``look``: for a frame and fills (not in a box
    inside them)."""
    import dask
    import dask.array as da

    user_points = seeds is not None and not isinstance(seeds, str)
    again = {"object_diameter": object_diameter, "sigma": sigma, "seeds": seeds,
             "landscape": landscape, "threshold": threshold, "min_size": min_size,
             "exclude_border": exclude_border, "chunks": chunks, "scheduler": scheduler}
    exclude_border = flag(exclude_border, "exclude_border")
    seeds_shape = shape_of(seeds, "seeds", "(K, 2) (row, column) points") if user_points else ()
    if len(seeds_shape) == 2 and seeds_shape[1] != 2:
        raise ValueError("a label image of seeds is not supported for a chunked image; "
                         "give the seeds as (row, column) points.")
    stored = _as_float_dask(image, chunks, convert=False)  # the input's own dtype
    raw = stored if stored.dtype in (np.float32, np.float64) else stored.astype(np.float64)
    # every parameter checked as in memory, against the image's shape, before any work
    auto = _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold,
                                   shape=raw.shape, min_size=min_size)
    if user_points:
        seeds = given = as_points(seeds, name="seeds")
    # pass 1: the value checks (NaN/inf, constant), the sums choosing the orientation
    # (._orient), the diameter's reduced images (made again if they overflowed), the edge
    # lines a frame is looked for in; as in memory, an image near the largest float or
    # subnormal is divided by a power of two (exactly), a threshold given as a number too;
    # with ``sharpen``, of the image with its spikes read as their neighbours, as in memory
    # (._spikes: the sample of their levels read in it, pass 1 made again when they are)
    given_stored = stored
    stored, as_given, (raw, orient, overviews, exponent, lines) = _clean_pass(
        stored, scheduler, not object_diameter, lines=True, despike=sharpen)
    given_shape = raw.shape  # (the blur is measured on the image as given: ``as_given``)
    if look and sharpen and (got := filled_watershed(given_stored, stored, lines, seeds,
                                                     again, _chunked_watershed, scheduler)):
        return got  # (a fill in the corners, with a frame or not: read as in memory)
    part = frame_part_lazy(stored, scheduler, lines) if sharpen and look else None
    if part is not None:  # a constant frame (stitching, registration): outside, as in memory
        inner, _ = seeds_in_box(seeds, part)  # (seeds on the frame: left out)
        return part.result_in_whole(_chunked_watershed(part.image, **{**again, "seeds": inner},
                                                       sharpen=True))
    if orient != IDENTITY:
        stored, raw = (to_canonical(a, orient) for a in (stored, raw))
        if user_points:
            seeds = points_to_canonical(seeds, orient, given_shape)
    full_shape = raw.shape

    if object_diameter:
        diameter = float(object_diameter)
    else:
        diameter = _estimate_diameter(raw, scheduler, overviews)
    small = min_size is None  # the default minimum size keeps whole small nuclei
    factor, sigma, min_size = _plan(full_shape, diameter, sigma, seeds, min_size)
    d, s = diameter / factor, sigma / factor
    # the working image's chunks, parts of at most SEGMENT_SIDE (the working arrays of a
    # window are ~70 bytes a pixel, 0.3 GB for a 2048² chunk with its margin); no task
    # keeps a float working image: each makes its own from the stored input (._windows)
    work_chunks = _working_chunks(raw, factor, s, d, auto)
    out_chunks = _output_chunks(work_chunks, factor, full_shape)
    work_chunks = tuple(tuple(p for c in axis for p in _parts(c, SEGMENT_SIDE))
                        for axis in work_chunks)
    edges = tuple(np.cumsum((0, *axis)) for axis in work_chunks)
    plan = work_plan(stored, factor=factor, s=s, d=d, auto=auto, exponent=exponent)
    smooth = lazy_working(stored, edges, plan)

    # pass 2: the global threshold, from histograms of the smoothed working image
    s_lo, s_hi = (float(v) for v in _compute(smooth.min(), smooth.max(), scheduler=scheduler))
    params = {"auto": auto, "d": d, "min_size_work": min_size / factor**2, "shoulders": False,
              "landscape": landscape, "seeds": seeds, "work": plan, "small": small,
              "sharpened": not sharpen}  # (the second run is the sharpened one)
    if auto:
        e256 = _hist_edges(s_lo, s_hi, 256, smooth.dtype)
        efine = _hist_edges(s_lo, s_hi, LI_BINS, smooth.dtype)
        counts = summed_counts(stored, edges, plan, (s_lo, s_hi, smooth.dtype), scheduler)
        n = 256 + LI_BINS  # then the tiles' counts: their noise (as in memory)
        unit = _tile_noise(counts[n:], s)
        level, eps, cut, share = _auto_params_from_hist(  # the sharpened run: flanked
            counts[:256], e256, counts[256:n], efine, s_lo, s_hi, unit, not sharpen)
        params["shoulders"] = _shoulder_gate(share) or dense
        value = float(level + np.exp(cut) - eps)
        params.update(level=level, eps=eps, cut=cut, low=_dim_level(
            level, eps, cut, unit if params["shoulders"] else None))
        wide = (_wide_blur(_compute(as_given[_central(given_shape)], scheduler=scheduler)[0],
                           diameter) if sharpen and _measured(share) else None)
        if wide is not None:  # a dense field under a wide PSF: all again, sharpened
            return _chunked_watershed(_sharpened_lazy(as_given, wide, diameter), **again,
                                      sharpen=False, dense=params["shoulders"])
    else:
        method = threshold_spec(threshold)
        value = (_global_threshold(smooth, method, s_lo, s_hi, scheduler)
                 if not isinstance(method, float) else float(np.ldexp(method, -exponent)))
    params["value"] = value
    if landscape == "intensity":
        params["h_intensity"] = 0.1 * (s_hi - value)

    # pass 3: every chunk with its margin; summaries of the objects touching its core
    # (read with the largest margin; each chunk is segmented with what it needs of it)
    rows, cols = int(edges[0][-1]), int(edges[1][-1])
    params.update(margin=int(np.ceil(WATERSHED_MARGIN * d)) + 1, shape=(rows, cols))
    margin = int(np.ceil(WATERSHED_MARGIN_MAX * d)) + 1
    windows = raw_blocks(stored, edges, margin, plan)
    jobs = []
    for i in range(len(edges[0]) - 1):
        for j in range(len(edges[1]) - 1):
            lo_ = (int(edges[0][i]), int(edges[1][j]))
            hi_ = (int(edges[0][i + 1]), int(edges[1][j + 1]))
            block, at, box = windows[i][j]
            jobs.append((block, at, box, lo_, hi_, NO_SIDE))
    # the parameters (with any seeds given as points) once in the graph, not in every task
    shared = dask.delayed(params, pure=True)
    # each chunk segmented once: its packed labels kept for the output (see CACHE_PIXELS)
    cache = _client(scheduler) is not None or rows * cols <= CACHE_PIXELS
    step = dask.delayed(_watershed_segment if cache else _watershed_summary, pure=True,
                        nout=2 if cache else None)

    def segment(*job):
        return step(*job, shared) if cache else (step(*job, shared), None)

    pairs = [segment(*job) for job in jobs]
    # computed (on a cluster they stay there, see _settle); a chunk whose window cuts a
    # network of trimmed halos near its core is segmented again, wider (._reach)
    summaries, states, _ = widen(jobs, [p[0] for p in pairs],
                                 [p[1] for p in pairs] if cache else [], segment,
                                 stored, edges, plan, margin, d, scheduler)
    (tables,) = _settle_all([dask.delayed(_watershed_tables, pure=True)(
        summaries, max(1.0, 0.25 * d), exclude_border)], scheduler)
    states = states or [None] * len(jobs)
    luts = tables[0]
    if not user_points:
        pts = tables[1]
        if not isinstance(pts, np.ndarray):
            (pts,) = _compute(pts, scheduler=scheduler)
    # where a pixel's nearest nucleus may lie beyond its chunk's window: the whole
    # image's, read where the segmentations lie (round 59)
    nears = far_territories(states, luts, edges, scheduler)
    out_rows = []
    output = dask.delayed(_watershed_output, pure=True)
    # the chunk's labels kept: its output reads no margin, only one working pixel around
    # the core for the full-resolution outlines (nothing at all when factor is 1)
    rings = (raw_blocks(stored, edges, _RING, plan) if factor > 1 and states[0] is not None
             else None)
    k = 0
    for i in range(len(edges[0]) - 1):
        row = []
        for j in range(len(edges[1]) - 1):
            block, at, box, lo_, hi_, wide = jobs[k]
            shape = (min(hi_[0] * factor, full_shape[0]) - lo_[0] * factor,
                     min(hi_[1] * factor, full_shape[1]) - lo_[1] * factor)
            if states[k] is not None:
                block, at, box = rings[i][j] if rings is not None else (None, None, box)
            task = output(block, at, box, lo_, hi_, wide, shared, luts[k], factor, shape,
                          full_shape, states[k], nears[k])
            row.append(da.from_delayed(task, shape=(2, *shape), dtype=np.int32))
            k += 1
        out_rows.append(row)
    both = da.block(out_rows)
    if both.chunks[1:] != out_chunks:  # the parts of a chunk back together
        both = both.rechunk(((2,), *out_chunks))
    labels, territories = (from_canonical(both[k], orient) for k in (0, 1))

    if user_points:
        seed_points = given
    elif len(pts):
        seed_points = _full_resolution(pts, factor, full_shape)
        seed_points = points_from_canonical(seed_points, orient, given_shape)
    else:
        seed_points = np.empty((0, 2))
    return WatershedResult(labels=labels, territories=territories, seeds=seed_points,
                           object_diameter=diameter, sigma=float(sigma),
                           threshold=float(np.ldexp(value, exponent)),
                           min_size=int(min_size))
