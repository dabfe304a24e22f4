"""One chunk's task in the chunked seeded watershed (split from :mod:`._chunked`, round
57): the part of its window that its core needs (:func:`_needed_window`: the core with
its margin, grown to hold the foreground blobs near it), its segmentation there and the
summary of the objects and seeds touching its core (:func:`_watershed_block`, for the
stitching), and its output: the core's labels and territories at full resolution with
global ids (:func:`_watershed_output`), from its segmentation kept packed
(:func:`_pack`) or made again. :mod:`._chunked` plans the passes over the whole image
and runs these tasks.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids, _nearest_label
from ._flat import _flatness
from ._foreground import _auto_mask
from ._glow_model import _glow_window
from ._outlines import _cuts, _refine_outlines
from ._reach import NO_SIDE, REACH, cut_sides
from ._recipe import _segment_work
from ._windows import working_image

# the blobs that come within this many diameters of the core, with as much around them
# (what the recipe's cues read around an object; with shoulders cut, nuclei._shoulders:
# the curvature 1.5 d beyond a label, read 1 d around, round 23), are seen whole
_BLOB_REACH = (1.0, 3.0)

# working pixels around a chunk's core that the full-resolution outlines of its pixels
# depend on (3 × 3 neighbourhoods: see nuclei._outlines._refine_outlines)
_RING = 1


def _needed_window(smooth, origin, core_lo, core_hi, params, wide=NO_SIDE):
    """The part of the window ``smooth`` (from global working pixel ``origin``) that a
    chunk's core is segmented from: the core with :data:`._chunked.WATERSHED_MARGIN` diameters
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
    read around the chunk bounds the growth (``_chunked.WATERSHED_MARGIN_MAX``): a blob larger
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
                      out_shape, full_shape, state=None, near=None):
    """Labels and territories of one chunk's core, at full resolution, global ids.

    ``state``: the chunk's segmentation from the summary pass (:func:`_pack`); without it
    the chunk is segmented again from its window, ``box``. Otherwise ``box`` need only
    cover the core and one working pixel around it (the full-resolution outlines of a
    working pixel depend on its 3 × 3 neighbours), and ``block`` be None when ``factor``
    is 1. ``block`` is the stored input from full-resolution pixel ``at`` the working
    image over ``box`` is made of. ``near``: the territories of the core and its ring
    (``_chunked_territories._ringed``, working resolution), the whole image's nearest
    nucleus, where the window's may not be (round 59, :mod:`._chunked_territories`).
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
    if near is not None:
        territories = territories.copy()
        territories[tuple(slice(max(c - _RING, 0) - o, max(c - _RING, 0) - o + n)
                          for c, o, n in zip(core_lo, origin, near.shape, strict=True))] = near
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
