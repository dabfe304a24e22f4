"""The seeded watershed of an image too large for memory, chunk by chunk.

The global quantities (diameter, threshold) come from the whole image first; then every
chunk is segmented with a margin of a few diameters, and the views of a nucleus in
neighbouring chunks are matched by centroid and given one global id.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids, _nearest_label
from .._lazy import _as_float_dask, _client, _compute, _lazy_stage, _settle_all
from .._outside import frame_part_lazy, seeds_in_box
from .._validation import as_points, flag, shape_of
from ..threshold import LI_BINS, _global_threshold, _hist_edges, threshold_spec
from ._background import _cell_top, _dense_share, _level_and_noise, _shoulder_gate, _tile_noise
from ._chunked_fills import filled_watershed
from ._deblur import _central, _measured, _sharpened_lazy, _wide_blur
from ._flat import _flatness
from ._foreground import (
    _auto_mask,
    _background_size,
    _dim_level,
    _log_offset,
    _log_otsu,
    _significant_cut,
)
from ._glow_model import _glow_window
from ._orient import (
    IDENTITY,
    from_canonical,
    points_from_canonical,
    points_to_canonical,
    to_canonical,
)
from ._outlines import _cuts, _refine_outlines
from ._params import _check_watershed_params
from ._reach import NO_SIDE, REACH, cut_sides, widen
from ._recipe import WatershedResult, _plan, _segment_work
from ._resample import _full_resolution, _reduce_lazy
from ._stitch import _watershed_tables
from ._windows import (
    _output_chunks,
    _parts,
    lazy_working,
    raw_blocks,
    summed_counts,
    work_plan,
    working_image,
)
from .diameter import _clean_pass, _estimate_diameter

__all__ = ["CACHE_PIXELS", "WATERSHED_MARGIN", "WATERSHED_MARGIN_MAX", "seeded_watershed_chunked"]

#: Margin of each chunk in the chunked watershed, in object diameters: what every chunk
#: sees around its core ...
WATERSHED_MARGIN = 2.0

#: ... grown, where a foreground blob within that margin of the core reaches farther (a
#: bright cell and its glow, nuclei joined by blur), to that blob and the margin around
#: it, up to this many diameters (the chunk is read with it; see :func:`_needed_window`;
#: wider where the window cuts a network of trimmed halos near the core, :mod:`._reach`).
WATERSHED_MARGIN_MAX = 6.0

# the blobs that come within this many diameters of the core, with as much around them
# (what the recipe's cues read around an object; with shoulders cut, nuclei._shoulders:
# the curvature 1.5 d beyond a label, read 1 d around, round 23), are seen whole
_BLOB_REACH = (1.0, 3.0)

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

# working pixels around a chunk's core that the full-resolution outlines of its pixels
# depend on (3 × 3 neighbourhoods: see nuclei._outlines._refine_outlines)
_RING = 1


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


def _needed_window(smooth, origin, core_lo, core_hi, params, wide=NO_SIDE):
    """The part of the window ``smooth`` (from global working pixel ``origin``) that a
    chunk's core is segmented from: the core with :data:`WATERSHED_MARGIN` diameters
    around it, grown to hold every foreground blob (8-connected, above the global
    threshold or the lower level dim nuclei are looked for from) that comes within a
    diameter (``_BLOB_REACH``) of the core, with a diameter around each blob. (A blob
    farther out only borders the core's nuclei; with the full 2-d margin as the reach
    and around each blob, the window of an ordinary chunk of a nuclei mosaic grew to the
    largest, for the same labels on every field measured.)

    Every step of ``nuclei._segment_work`` reads a nucleus's own blob and what lies
    within about a diameter of it (its box in the glow and outline cues, its neighbours'
    sizes), so a blob seen whole gives the labels of the whole image. A blob cut by the
    fixed margin (a saturated cell with its glow, blurred nuclei joined in a dense field)
    did not: its peak, median and size were those of the part the chunk saw. The window
    read around the chunk bounds the growth (``WATERSHED_MARGIN_MAX``): a blob larger
    than that is still seen in part.

    Returns the part (slices of ``smooth``) and the window's foreground mask (the global
    cut's, without the lower level), which :func:`_watershed_block` segments from. On the
    sides ``wide`` (top, bottom, left, right) the part is the whole window (:mod:`._reach`).
    """
    foreground = _foreground_mask(smooth, params)
    mask = foreground
    if params["auto"] and params.get("low") is not None:
        # the dim nuclei below the cut are looked for from a lower level
        mask = foreground | (smooth > params["low"])
    m, reach = params["margin"], int(np.ceil(_BLOB_REACH[params["shoulders"]] * params["d"])) + 1
    lo = [max(0, c - o - m) for c, o in zip(core_lo, origin, strict=True)]
    hi = [min(n, c - o + m) for c, o, n in zip(core_hi, origin, smooth.shape, strict=True)]
    lo, hi = [0 if w else a for a, w in zip(lo, wide[0::2], strict=True)], [
        n if w else b for b, w, n in zip(hi, wide[1::2], smooth.shape, strict=True)]
    blobs, n = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n:
        near = np.unique(blobs[tuple(slice(max(0, a - o - reach), b - o + reach)
                                     for a, b, o in zip(core_lo, core_hi, origin,
                                                        strict=True))])
        boxes = ndi.find_objects(blobs)
        for i in near[near > 0]:
            for axis, sl in enumerate(boxes[i - 1]):
                lo[axis] = max(0, min(lo[axis], sl.start - reach))
                hi[axis] = min(smooth.shape[axis], max(hi[axis], sl.stop + reach))
    if params["auto"] and params.get("low") is not None:  # round 42: saturated cells in reach
        core = tuple(slice(a - o, b - o) for a, b, o in zip(core_lo, core_hi, origin, strict=True))
        lo, hi = _glow_window(smooth, params["low"], params["d"], core, lo, hi, m)  # r47-48
    return tuple(slice(a, b) for a, b in zip(lo, hi, strict=True)), foreground


def _foreground_mask(smooth, params):
    """The foreground of the global cut (pixelwise: a crop's mask is the mask's crop)."""
    if params["auto"]:
        return _auto_mask(smooth, params["level"], params["eps"], params["cut"])
    return smooth > params["value"]


def _segment_window(pair, origin, core_lo, core_hi, wide, params, summarize=True):
    """:func:`_watershed_block` on the part of the window that the core needs
    (:func:`_needed_window`), ``pair`` the window's working image, the same before its
    flattening and before its smoothing (or None); also returns that part's first pixel."""
    sub, mask = _needed_window(pair[0], origin, core_lo, core_hi, params, wide)
    origin = tuple(o + sl.start for o, sl in zip(origin, sub, strict=True))
    smooth, raw, work = (None if a is None else a[sub] for a in pair)
    (rows, cols), top, left = params["shape"], origin[0] == 0, origin[1] == 0
    border = (top, origin[0] + smooth.shape[0] == rows, left, origin[1] + smooth.shape[1] == cols)
    return (*_watershed_block(smooth, origin, core_lo, core_hi, border, params, summarize,
                              mask=mask[sub], raw=raw, work=work), origin)


def _watershed_block(smooth, origin, core_lo, core_hi, border, params, summarize=True,
                     mask=None, raw=None, work=None):
    """``nuclei._segment_work`` on one chunk read with its margin (``mask``: its
    foreground when already computed, see :func:`_needed_window`).

    Returns the chunk's labels (with margin) and a summary of the objects and seeds that
    touch its core: local id, centroid in global working pixels, image-border contact.
    """
    smooth = np.asarray(smooth)
    if mask is None:
        mask = _foreground_mask(smooth, params)
    seeds = params["seeds"]
    if seeds is not None and not isinstance(seeds, str):
        seeds = seeds - np.asarray(origin, dtype=float)
        inside = np.all((seeds > -0.5) & (seeds < np.asarray(smooth.shape) - 0.5), axis=1)
        seeds = seeds[inside]
    removed = []  # the trim's removed parts: any cut by the window near the core (._reach)
    labels, markers, peak, small = _segment_work(
        smooth, mask, d=params["d"], min_size_work=params["min_size_work"],
        auto=params["auto"], level=params.get("level"), landscape=params["landscape"],
        seeds=seeds, h_intensity=params.get("h_intensity"), border=border,
        low=params.get("low"), small=params.get("small", False), origin=origin,
        shoulders=params.get("shoulders", False), removed=removed, raw=raw,
        sharpened=params.get("sharpened", False), work=work)
    if not summarize:  # the output pass: the labels and their peaks
        return labels, peak, None
    r0, c0 = core_lo[0] - origin[0], core_lo[1] - origin[1]
    r1, c1 = core_hi[0] - origin[0], core_hi[1] - origin[1]
    ids = np.unique(labels[r0:r1, c0:c1])
    ids = ids[ids != 0]
    n = int(labels.max())
    on_border = np.zeros(n + 1, dtype=bool)
    on_border[_edge_ids(labels, border)] = True
    all_ids = np.arange(1, n + 1)
    present = np.bincount(labels.ravel(), minlength=n + 1)[1:] > 0
    all_ids = all_ids[present]
    all_centres = (np.array(ndi.center_of_mass(np.ones(labels.shape), labels, all_ids))
                   .reshape(-1, 2) + np.asarray(origin, dtype=float))
    in_core = np.isin(all_ids, ids)
    m_ids = np.unique(markers)
    m_ids = m_ids[m_ids != 0]
    seed_pts = (np.array(ndi.center_of_mass(np.ones(labels.shape), markers, m_ids))
                .reshape(-1, 2) if m_ids.size else np.empty((0, 2)))
    at = np.rint(seed_pts).astype(np.int64)
    seed_lab = labels[at[:, 0], at[:, 1]] if len(at) else np.empty(0, np.int32)
    seed_in_core = ((at[:, 0] >= r0) & (at[:, 0] < r1) & (at[:, 1] >= c0) & (at[:, 1] < c1)
                    & (seed_lab > 0))
    summary = {
        # objects with pixels in the core: each is one view of a global object
        "ids": all_ids[in_core].astype(np.int64),
        "centres": all_centres[in_core],
        "border": on_border[all_ids[in_core]],
        # whole small nuclei (kept only as a population of the whole image)
        "small": (np.zeros(int(in_core.sum()), bool) if small is None
                  else small[all_ids[in_core]]),
        "flat": tuple(v[all_ids[in_core]] for v in  # :mod:`._flat`; decided as "small"
                      _flatness(labels, smooth, params.get("level"), params["d"], border)),
        # objects only in the margin: matched to a global object (for the territories)
        "margin_ids": all_ids[~in_core].astype(np.int64),
        "margin_centres": all_centres[~in_core],
        "seeds": seed_pts[seed_in_core] + np.asarray(origin, dtype=float),
        "seed_ids": seed_lab[seed_in_core].astype(np.int64),
        "n": n,
        "wider": cut_sides(removed[0] if removed else None, ((r0, r1), (c0, c1)),
                           border, _BLOB_REACH[params["shoulders"]], params["d"], REACH,
                           mask if params.get("low") is None else mask | (smooth > params["low"])),
    }
    return labels, peak, summary


def _watershed_summary(block, at, box, *args):
    """The summary of the chunk whose window (``box``) is made from the stored ``block``
    (see :func:`._windows.working_image`)."""
    pair = working_image(block, at, box, args[-1]["work"], raw=True)
    return _segment_window(pair, (box[0][0], box[1][0]), *args)[2]


def _watershed_segment(block, at, box, *args):
    """The chunk's summary, and its segmentation packed for :func:`_watershed_output`."""
    pair = working_image(block, at, box, args[-1]["work"], raw=True)
    labels, peak, summary, origin = _segment_window(pair, (box[0][0], box[1][0]), *args)
    return summary, _pack(labels, peak, origin)


def _pack(labels, peak, origin):
    """A chunk's label image zlib-compressed (level 1: ~30x smaller, a few ms), and the
    global working pixel it starts at."""
    import zlib

    packed = zlib.compress(np.ascontiguousarray(labels), 1), labels.dtype.str
    return labels.shape, packed, peak, origin


def _unpack(state):
    import zlib

    shape, (labels, dtype), peak, origin = state
    return np.frombuffer(zlib.decompress(labels), dtype).reshape(shape), peak, origin


def _watershed_output(block, at, box, core_lo, core_hi, wide, params, lut, factor,
                      out_shape, full_shape, state=None):
    """Labels and territories of one chunk's core, at full resolution, global ids.

    ``state``: the chunk's segmentation from the summary pass (:func:`_pack`); without it
    the chunk is segmented again from its window, ``box``. Otherwise ``box`` need only
    cover the core and one working pixel around it (the full-resolution outlines of a
    working pixel depend on its 3 × 3 neighbours), and ``block`` be None when ``factor``
    is 1. ``block`` is the stored input from full-resolution pixel ``at`` the working
    image over ``box`` is made of.
    """
    pair = None if block is None else working_image(block, at, box, params["work"], raw=True)
    smooth, smooth_at = None if pair is None else pair[0], (box[0][0], box[1][0])
    if state is None:
        local, peak, _, origin = _segment_window(
            pair, smooth_at, core_lo, core_hi, wide, params, summarize=False)
    else:
        local, peak, origin = _unpack(state)
    labels = lut[local]
    dropped = (local > 0) & (labels == 0)  # margin objects no chunk keeps
    territories = _nearest_label(labels) if labels.any() else labels
    r0, c0 = core_lo[0] - origin[0], core_lo[1] - origin[1]
    if factor > 1:
        # full-resolution outlines (as in memory), drawn on the core and one working
        # pixel around it (all its pixels depend on)
        lo = [max(at, c - _RING) for at, c in zip(smooth_at, core_lo, strict=True)]
        hi = [min(at + n, c + _RING)
              for at, n, c in zip(smooth_at, smooth.shape, core_hi, strict=True)]
        box = tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin, strict=True))
        cuts = np.zeros(int(lut.max()) + 1)
        kept = np.flatnonzero(lut)
        floor = params.get("low", params.get("value"))  # as in nuclei.seeded_watershed
        cuts[lut[kept]] = _cuts(peak, params.get("level"), floor,
                                int(local.max()))[kept]
        padded = tuple(min(b * factor, full) - a * factor
                       for a, b, full in zip(lo, hi, full_shape, strict=True))
        labels, territories = _refine_outlines(
            labels[box], smooth[lo[0] - smooth_at[0]:hi[0] - smooth_at[0],
                                lo[1] - smooth_at[1]:hi[1] - smooth_at[1]],
            cuts, factor, padded, territories[box], frozen=dropped[box])
        r0, c0 = (core_lo[0] - lo[0]) * factor, (core_lo[1] - lo[1]) * factor
    rows, cols = out_shape
    return np.stack([labels[r0:r0 + rows, c0:c0 + cols],
                     territories[r0:r0 + rows, c0:c0 + cols]])


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
    and 54-104 on the latter. Territories are the nearest nucleus *within the chunk and
    its margin*: a pixel farther than the margin from every nucleus gets the nearest one
    the chunk sees, or 0 if it sees none. ``benchmarks/mosaic.py --watershed`` measures
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
                          full_shape, states[k])
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
