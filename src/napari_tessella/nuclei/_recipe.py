"""The pipeline of the nuclei recipe's defaults, shared by the in-memory and the chunked
watershed: its plan, and the steps at the working resolution from
the foreground to the nuclei (seeds, watershed, trim, splits, outlines' levels). The
foreground's threshold is in :mod:`._foreground`, the seeds in :mod:`._markers`, the
per-nucleus cuts and full-resolution outlines in :mod:`._outlines`, the parameters'
checks in :mod:`._params`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import ndimage as ndi

from .._label_image import (
    _edge_ids,
    _enclosed,
    _mask_distance,
    _only,
    _per_label,
    _square_dilated,
    _structure,
    _widened,
)
from ._basins import _flood
from ._between import _drop_between
from ._bisect import _bisect_touching
from ._body_edge import _sharp_at_body
from ._condensed import _condensed
from ._crowd import _split_crowds
from ._cues import (
    _drop_unsharp,
    _label_max,
    _rim_outlines,
    _split_at_steps,
    _split_clusters,
    _unless_foci,
)
from ._dim import _dim_kept, _dim_nuclei, _with_glow_dim
from ._domes import _split_by_domes, _split_fat_by_domes
from ._edges import _BRIGHT, _GLOW_STEEP, _bright_cells, _edges_and_glows, _glow_nuclei
from ._flux import _drop_glow_pieces
from ._glare import _drop_ended, _drop_streaks
from ._glow_model import _with_over_glow
from ._grow import _grow_to_own_cut
from ._inscribed import _join_cut_through
from ._join import _halves_area, _join_split
from ._markers import _disc_maxima_markers, _h_maxima_markers, _seed_markers, _split_at_necks_of
from ._merges import _split_merges
from ._missing import _with_missing
from ._outlines import _FOCI_CAP, _TRIM, _above_own_fraction, _core_peak
from ._pairs import _with_pairs
from ._saturated import _saturated
from ._seams import _with_seam_pairs
from ._shape import (
    _PAIR_BODY,
    _PAIR_CORE,
    _Boxes,
    _crowded_pairs,
    _fill_small_holes,
    _split_at_necks,
    _split_at_waists,
)
from ._shoulders import _split_shoulders
from ._small import _SMALL_R, _padded, _small_blobs, _whole_small, _with_new_labels
from ._specks import _SKIRT, _border_specks, _without_border_specks


@dataclass(frozen=True, repr=False)
class WatershedResult:
    """Result of :func:`seeded_watershed`.

    Attributes
    ----------
    labels : (M, N) ndarray of int32
        Nuclei, 0 = background, numbered 1..n.
    territories : (M, N) ndarray of int32
        Generalized Voronoi diagram of the nuclei: every pixel of the plane carries the
        label of the nearest nucleus (exact Euclidean distance, computed at the working
        resolution when the image was reduced), same ids as ``labels``.
    seeds : (K, 2) ndarray of float64
        (row, column) of the seeds that started the watershed.
    object_diameter : float
        Typical object diameter used, in pixels (estimated or given).
    sigma : float
        Gaussian smoothing used, in pixels.
    threshold : float
        Foreground threshold used, in (smoothed) image units.
    min_size : int
        Minimum object size used, in pixels (given, or derived from the diameter).
    """

    labels: np.ndarray
    territories: np.ndarray
    seeds: np.ndarray
    object_diameter: float
    sigma: float
    threshold: float
    min_size: int = 0

    def __repr__(self) -> str:
        return (f"WatershedResult({int(self.labels.max())} objects, {len(self.seeds)} seeds, "
                f"diameter={self.object_diameter:.1f} px, sigma={self.sigma:.1f} px)")


#: working resolution of the default pipeline: the image is reduced so that the typical
#: object diameter spans about this many pixels (enough to draw a disc, few enough to be fast)
WORKING_DIAMETER = 20.0


# Every other length of the default pipeline is a fraction of the object diameter d:
_SIGMA = 0.05  # Gaussian smoothing of the image
_DISTANCE_SMOOTHING = 0.1  # Gaussian smoothing of the distance transform
_H = 0.05  # h-maxima height of the (smoothed) distance landscape: the depth of a real neck
_H_DENSE = 0.02  # ... its second seeding in dense blurred fields (shoulders; round 25)
_PEAK_R = 0.25  # first-pass seeds: maxima of the distance over a disc of this radius
_MIN_R = 1 / 3  # minimum size: a disc of radius d/3 (two thirds of the typical diameter)
# objects cut by the image border need only the area of a disc of radius d/8: this share
_BORDER_MIN = (0.125 / _MIN_R) ** 2
# ... and at least this many pixels (or the minimum size, if smaller): a border pixel of
# smoothed noise stands out more often than an inner one (the image is mirrored there), and
# on an empty field (d at its floor) single border pixels passed as nuclei
_BORDER_LEAST = 2.0
# ... but a piece on one side of the border at least as deep as half its chord shows at
# least half of its object (a disc's centre is then in the image): under this share of
# the minimum size, that object whole would be under half of it, a speck (round 24)
_BORDER_SPECK = 0.25

_DOMES = True  # split dense labels two domes fit better than one (:mod:`._domes`)
_FAT_DOMES = True  # ... and those too large for their inscribed disc, gates looser (r53)
_BIG = 3.0  # objects above this times pi d^2 / 4 are clusters, split at intensity steps
_RATIO = 0.85  # ... a nucleus's core is within this fraction of its local maximum
_CHECKED = 1.5  # objects from this to _BIG times pi d^2 / 4 are split where two nuclei show:
_VALLEY = 0.95  # ... the line between two parts is darker than this times the dimmer's median
_STEP = 0.8  # ... or the dimmer part's median contrast is below this times the other's
_SHARP = 0.4  # objects whose edge is less steep than this (see _edge_sharpness) are dropped
_RECUT = 0.5  # ... unless their cut at this fraction of their contrast is sharp
_RIM = (0.1, 0.2)  # outlines: the body at the rim is measured this far (x d) inside
_HALF = 0.5  # ... and each outline is cut half-way between it and the background
_THICK = 0.125  # ... unless that takes off a part this thick (x d): a dim merged nucleus
# dim nuclei (looked for below the log-Otsu cut, see _foreground._dim_level) are kept
_DIM_SHARP = 0.8  # ... with an edge at least this sharp (see _edge_sharpness)
# the outline cut _TRIM and the foci cap _FOCI_CAP: see _outlines


def default_min_size(diameter: float) -> int:
    """The default minimum nucleus size, in pixels, for a typical diameter in pixels.

    The area of a disc of two thirds of the diameter, ``π (d/3)²``: smaller objects are
    taken for fragments, debris or micronuclei (see ``docs/nuclei.md``).

    >>> default_min_size(90)
    2827
    """
    return int(np.pi * (diameter * _MIN_R) ** 2)


def _plan(shape, diameter: float, sigma, seeds, min_size):
    """Working-resolution factor and the lengths derived from the diameter."""
    factor = 1
    if sigma is None and seeds is None:
        factor = max(1, round(diameter / WORKING_DIAMETER))
        # never reduce an image to fewer than ~16 pixels on its short side
        factor = max(1, min(factor, min(shape) // 16))
    sigma = diameter * _SIGMA if sigma is None else float(sigma)
    if min_size is None:
        min_size = default_min_size(diameter)
    return factor, sigma, min_size


def _segment_work(smooth, mask, *, d, min_size_work, auto, level, landscape, seeds,
                  h_intensity=None, border=(True, True, True, True), low=None, small=False,
                  origin=(0, 0), shoulders=False, removed=None, raw=None, sharpened=False,
                  work=None):
    """From the smoothed working image and its foreground to nuclei labels and markers.

    Everything here is local (a few diameters): the chunked version runs it on chunks with
    margins. ``border`` tells which sides of the array are the image border; ``seeds`` as
    in :func:`seeded_watershed`, in this array's pixels; ``low``
    (:func:`._foreground._dim_level`) the level below the foreground's cut at which dim
    nuclei are looked for; ``small``: also segment the blobs below ``min_size_work`` that
    may be whole small nuclei (:mod:`._small`; with the default minimum size only).
    ``origin``: this array's first pixel in the whole working image (a chunk's window; 0
    in memory): the cues that measure pixel coordinates as floats (the necks' hulls) take
    them there, so that a window's last bits, and so its ties, are the whole image's.
    Returns the labels, the markers, for the "auto" threshold each label's own peak (see
    :func:`._outlines._cuts`), else None, and with
    ``small`` which labels are those small nuclei (a boolean per label 0..n; they are
    kept only as a population, :func:`._small._small_population`), else None.
    ``shoulders``: cut the dim nuclei on a brighter one's flank off it (:mod:`._shoulders`),
    two blurred nuclei kept as one (:mod:`._pairs`) and move the boundaries between touching
    labels half-way between their cores (:mod:`._bisect`), join a nucleus cut in two again
    (:mod:`._join`; its halves within a bound set by ``sharpened``) and grow dim nuclei out
    to their own cut (:mod:`._grow`; dense blurred fields, :func:`._background._shoulder_gate`).
    ``removed``: a list the trim's removed parts are put in (:func:`_trim_to_own_peak`).
    ``raw``: ``smooth`` before its flattening, for the dim nuclei on a glow (:mod:`._dim`).
    ``work``: the working image before its smoothing, for the smooth pieces (:mod:`._texture`).
    """
    dtype = smooth.dtype
    blobs = dim = None
    if auto:
        if low is not None:  # dim nuclei the global cut missed
            mask, dim = _dim_nuclei(smooth, mask, level, low, d, max(min_size_work, 1.0),
                                    most=_BIG, steep=_GLOW_STEEP, sharp=_DIM_SHARP,
                                    parts=True)
            dim = dim if dim.any() else None
        mask = _fill_small_holes(mask, d)
    # drop specks below the minimum size before seeding
    comp, n = ndi.label(mask, _structure(mask.ndim))
    whole = None
    if n:
        sizes = np.bincount(comp.ravel())
        least = max(min_size_work, 1.0)
        needed = np.full(n + 1, least)
        if auto:  # nuclei cut by the image border show only part of their area
            needed[_edge_ids(comp, border)] = _border_needed(least)
        keep = sizes >= needed
        if auto and small:  # blobs that may be whole small nuclei: segmented on their own
            blobs = _small_blobs(comp, sizes, ~keep, d)
            blobs = _per_label(blobs, comp) if blobs.any() else None
        mask &= _per_label(keep, comp)
        if auto and small:
            comp = _only(comp, mask)
            whole = (comp, np.bincount(comp.ravel(), minlength=n + 1))

    smooth_distance = landscape == "distance" and seeds is None
    parts = _only(comp, mask)  # mask's components (the flood's), the dropped ones 0
    if landscape == "distance":
        height = _mask_distance(mask, parts).astype(dtype, copy=False)
        if smooth_distance:
            height = ndi.gaussian_filter(height, d * _DISTANCE_SMOOTHING)
    else:
        height = smooth

    if seeds is None:
        if not mask.any():
            markers = np.zeros(smooth.shape, np.int32)
        else:
            if landscape == "distance":
                h = d * _H
            else:
                h = (0.1 * float(np.ptp(smooth[mask])) if h_intensity is None
                     else h_intensity)
            if auto and smooth_distance:
                # first pass, only to find each nucleus's own peak before trimming: the
                # cheaper disc maxima do (an extra seed in a nucleus does no harm here)
                markers = _disc_maxima_markers(height, d * _PEAK_R, mask)
            else:
                markers = _h_maxima_markers(height, h, mask)
    elif isinstance(seeds, str):
        from skimage.morphology import local_maxima

        peaks = local_maxima(smooth, connectivity=2) & mask
        markers, _ = ndi.label(peaks, structure=np.ones((3, 3)))
        markers = markers.astype(np.int32)
    else:
        markers = _seed_markers(seeds, smooth.shape, mask)

    labels = _flood(-height, markers, mask, parts=parts).astype(np.int32)
    if auto and blobs is not None and not labels.any():
        # no nucleus of the minimum size (a chunk's window beside the larger nuclei, a
        # field of small ones alone): the small blobs all the same, as the whole image
        labels, markers, peak, flags = _with_small_blobs(
            labels, markers, np.full(1, np.inf), None, smooth, blobs, d=d, level=level,
            landscape=landscape, border=border)
        return labels, markers, peak, _padded(flags, int(labels.max()) + 1, False)
    if auto and labels.any():
        first = labels.copy() if dim is not None else None
        labels, rescued = _trim_to_own_peak(labels, smooth, level, height, d, removed)
        if first is not None:  # the dim nuclei's outlines, inside which the trim cut
            labels = _dim_kept(labels, first, dim, max(min_size_work, 1.0))
        if smooth_distance:
            # the trimmed outlines show the necks between touching nuclei better: seed again
            # (dense blurred fields: shallower necks, a dim nucleus's own bump, seed too)
            labels, markers, height = _split_at_necks_of(
                labels > 0, d * _DISTANCE_SMOOTHING, d * (_H_DENSE if shoulders else _H), dtype)
            labels, markers = _split_clusters(
                labels, markers, smooth, height, d, min_size_work, big=_BIG, checked=_CHECKED,
                ratio=_RATIO, level=level, valley=_VALLEY, step=_STEP, gradient=_SIGMA)
            labels, markers = _split_at_necks(labels, markers, d, origin)
            find = _Boxes()  # the boxes of the labels, found again only when they changed
            labels, markers = _split_at_waists(labels, markers, d, find)
            labels, markers = _split_merges(labels, markers, d, smooth, level, find,
                                            domes=shoulders)
            pairs = _crowded_pairs(labels, d, find)  # (read again when nothing was split)
            stepped, markers = _split_at_steps(  # two nuclei of a crowd, by brightness
                labels, markers, smooth, d, min_size_work, level, pairs,
                step=_STEP, depth=_PAIR_CORE, body=_PAIR_BODY, bright_cell=_BRIGHT,
                gradient=_SIGMA)
            labels, markers = _split_crowds(stepped, markers, d, smooth, level, find,  # no disc
                                            pairs if stepped is labels else None)
        # the minimum size applies to the trimmed nuclei too (border ones: 9/64 of it)
        sizes = np.bincount(labels.ravel()).astype(float)
        least = max(min_size_work, 1.0)
        needed = np.full(sizes.shape, least)
        edge = _edge_ids(labels, border)
        needed[edge] = _border_needed(least)
        if whole is not None:  # whole small nuclei: their blobs, segmented on their own
            comp, ids = whole[0], np.flatnonzero(_whole_small(labels, sizes, *whole, needed, d))
            if ids.size:
                parts = np.zeros(whole[1].size, bool)
                parts[np.bincount(comp[np.isin(labels, ids)]).nonzero()[0]] = True
                parts[0] = False
                on = _per_label(parts, comp)
                blobs = on if blobs is None else blobs | on
        # specks on the border (after the small nuclei were looked for: no blob of theirs)
        deep = _border_specks(labels, sizes, border, _SKIRT * _BORDER_SPECK * least, edge)
        needed[deep[sizes[deep] < _BORDER_SPECK * least]] = np.inf
        needed[_condensed(labels, sizes, needed, smooth, level, d, edge)] = 0  # mitotic
        labels[_per_label(sizes < needed, labels)] = 0  # the background stays 0
        peak = _core_peak(labels, smooth, height, level)
        ended = []  # glare streaks that meet a nucleus at an end: dropped after the outlines
        if _SHARP > 0 and labels.any():
            # glare, glow and out-of-focus smudges fade slowly into their ring: dropped,
            # unless a higher cut finds a sharp nucleus inside (a bright cell in its glow)
            labels, peak = _drop_unsharp(labels, smooth, level, d, peak, needed, sharp=_SHARP,
                                         recut=_RECUT, trim=_TRIM, kept=rescued,
                                         held=shoulders, again=partial(
                                             _sharp_at_body, smooth=smooth, level=level,
                                             d=d, sharp=_SHARP))
            if not shoulders:  # glare streaks (round 45; not in dense blurred fields)
                labels, _ = _drop_streaks(labels, smooth, border, ended)
        if _HALF > 0 and labels.any():
            # outlines where the edge is: half-way between the body and the background
            labels, peak = _rim_outlines(labels, smooth, level, d, peak, needed, trim=_TRIM,
                                         shell=_RIM, half=_HALF, thick_part=_THICK)
            labels, peak, _ = _edges_and_glows(  # foci: out to the edge; dim on a glow
                labels, smooth, level, d, peak, min_size_work, _TRIM, border=border)
            # border debris deep enough above, under the speck size in its outline (r46)
            labels, _ = _without_border_specks(labels, deep, _BORDER_SPECK * least)
        labels, _ = _drop_ended(labels, ended)  # round 47: the nuclei keep their outlines
        labels = _fill_enclosed(labels)  # a nucleolus is part of its nucleus
        if low is not None:  # dim nuclei on a saturated cell's glow, on the background
            bright = _saturated(smooth, low, d)  # the saturated cells, found once (r48)
            labels, markers, peak, _ = _with_glow_dim(labels, markers, peak, smooth, level,
                                                      low, d, max(min_size_work, 1.0),
                                                      border, raw, bright)
            labels, markers, peak, _ = _with_over_glow(  # over a modelled glow (r47)
                labels, markers, peak, smooth, low, d, max(min_size_work, 1.0), raw, work,
                bright)
        if shoulders:
            labels, markers, peak, _ = _with_shoulders(labels, markers, peak, smooth, level, d)
            # two blurred nuclei with no neck, valley or curvature of their own
            labels, markers, peak, _ = _with_pairs(labels, markers, peak, smooth, d, border)
            labels, _ = _bisect_touching(labels)  # boundaries half-way between cores
            labels, _ = _join_split(  # one nucleus cut in two; its halves (round 41)
                labels, smooth, level, d, _halves_area(sharpened))
            labels, _ = _drop_between(labels, smooth, d)  # pieces between nuclei
            labels, _ = _grow_to_own_cut(labels, smooth, level, low, peak, d)  # dim ones
            labels, markers, peak, _ = _with_missing(  # dim nuclei outside every label
                labels, markers, peak, smooth, level, d, least, mask)
            if sharpened:  # a nucleus cut through its widest part (round 38)
                labels, _ = _join_cut_through(labels, smooth, level, d)
            labels, markers, peak, _ = _with_seam_pairs(  # a pair with a seam of its own
                labels, markers, peak, smooth, level, d)
            if _DOMES:  # two domes fitted better than one (round 50)
                labels, markers, peak, _ = _with_new_labels(
                    partial(_split_by_domes, image=work), labels, markers, peak, smooth,
                    level, d)
            if _FAT_DOMES:  # too large for its inscribed disc: two domes (round 53)
                labels, markers, peak, _ = _with_new_labels(
                    partial(_split_fat_by_domes, image=work), labels, markers, peak, smooth,
                    level, d)
        labels = _drop_glow_pieces(labels, smooth, raw, shoulders, work=work)  # glows
        flags = None
        if blobs is not None:  # apart, so that they change no other nucleus
            labels, markers, peak, flags = _with_small_blobs(
                labels, markers, peak, flags, smooth, blobs, d=d, level=level,
                landscape=landscape, border=border)
        if flags is not None:  # one flag per label 0..n
            flags = _padded(flags, int(labels.max()) + 1, False)
        return labels, markers, peak, flags
    return labels, markers, None, None


def _with_shoulders(labels, markers, peak, smooth, level, d):
    """:func:`._shoulders._split_shoulders` of ``labels``, with a marker at each new
    label's shoulder and its peak (its largest ``smooth``); and whether any was cut."""
    return _with_new_labels(_split_shoulders, labels, markers, peak, smooth, level, d)


def _border_needed(needed: float) -> float:
    """The least area of an object cut by the image border, for a minimum size ``needed``."""
    return max(needed * _BORDER_MIN, min(needed, _BORDER_LEAST))


def _fill_enclosed(labels):
    """``labels`` with each hole that one label alone encloses given to that label.

    A dark nucleolus (a DNA stain of HeLa, fibroblasts, tumour lines) below a nucleus's
    outline cut is a hole in it; it is part of the nucleus. Background whose 8-neighbours
    are all one label is such a hole; the gap enclosed by a ring of touching nuclei borders
    several labels and stays background, as does background reaching the array's edge
    (a chunk's window: its margins hold any nucleus of its core whole). The nearest label
    of a filled pixel was already that label.
    """
    holes, inner = _enclosed(labels == 0)
    if not inner.any():
        return labels
    out = labels
    for i, box in enumerate(ndi.find_objects(holes), start=1):
        if box is None or not inner[i]:
            continue
        box = _widened(box, 1, labels.shape)  # the hole and the pixels around it
        hole = holes[box] == i
        around = labels[box][_square_dilated(hole) & ~hole]
        if around.size and around.min() == around.max() > 0:
            if out is labels:
                out = labels.copy()
            out[box][hole] = around[0]
    return out


def _with_small_blobs(labels, markers, peak, flags, smooth, blobs, *, d, level,
                      landscape, border):
    """The nuclei of the small blobs (a boolean image: foreground components below the
    minimum size that may be whole small nuclei, :func:`_small_blobs`) added to the
    labels, markers and peaks of the others, with new ids, and flagged as small.

    Each blob goes through the same steps as the other nuclei (:func:`_segment_work`, with
    the small nucleus's least area as minimum size) on its own, in its box widened by a
    diameter (what those steps read around a nucleus; the chunked path's windows hold it):
    kept in the others' foreground, the blobs changed the crowd and ring cues of their
    neighbours (a nucleus more or less on 2 of 6 cell-line fields) even when they were
    dropped in the end. Where a blob's nucleus would overlap another, the first keeps it.
    """
    comp = ndi.label(blobs, _structure(blobs.ndim))[0]
    n = max(int(labels.max()), peak.size - 1)  # new ids above every id in use
    flags = _padded(flags, n + 1, False)
    top, peaks = n, [peak]
    pad = int(np.ceil(d))
    rows, cols = labels.shape
    for i, box in enumerate(ndi.find_objects(comp), start=1):
        box = _widened(box, pad, labels.shape)
        edge = (box[0].start == 0 and border[0], box[0].stop == rows and border[1],
                box[1].start == 0 and border[2], box[1].stop == cols and border[3])
        blob = comp[box] == i
        # the steps' lengths from the blob's own size (its rim, rings and cuts): the
        # typical diameter's drew outlines of nuclei of a third of it twice their area
        own = min(d, 2 * np.sqrt(np.count_nonzero(blob) / np.pi))
        sub, sub_markers, sub_peak, _ = _segment_work(
            smooth[box], blob, d=own, min_size_work=np.pi * (d * _SMALL_R) ** 2,
            auto=True, level=level, landscape=landscape, seeds=None, border=edge)
        free = (sub > 0) & (labels[box] == 0)
        if not free.any():
            continue
        m = int(sub.max())
        labels[box][free] = sub[free] + top
        at = (sub_markers > 0) & (markers[box] == 0)
        markers[box][at] = sub_markers[at] + int(markers.max())
        peaks.append(_padded(sub_peak[1:m + 1], m, np.inf))
        top += m
    peak = np.concatenate(peaks)
    flags = np.concatenate([flags, np.ones(top - n, bool)])
    return labels, markers, peak, flags


def _trim_to_own_peak(labels, smooth, level, height, d, removed=None):
    """Keep, in each nucleus, the pixels above ``_TRIM`` of its own peak over background.

    The log-Otsu foreground is generous (it must reach dim nuclei), so bright nuclei come
    out with their blurred halo. Cutting each one at a fraction of its own contrast gives
    outlines that do not depend on how bright the nucleus is, nor on its neighbours.

    A dim nucleus that touches a much brighter object may have been flooded from the bright
    one's seed; the cut would then erase it. So what the cut removes from a label is looked
    at again: a part wide enough to hold the core of a nucleus (an inscribed disc of
    diameter ``d / 2``, the first-pass seeds' radius) is a nucleus of its own and is cut at
    the same fraction of *its* peak. Holes the cuts open inside a nucleus are filled back
    from the remaining pixels.

    Returns the labels and, when a dim nucleus was split off a glow by its rim's steepness
    against the glow's fall (round 14, :func:`._edges._glow_nuclei`), a boolean image of
    its pixels, else None. ``removed``: a list the parts the rescue looks at are put in
    (the chunked path widens a window that cuts one near its core, ``_reach``).
    """
    n = int(labels.max())
    peak = _label_max(smooth, labels, n)
    peak[0] = np.inf
    # a saturated cell in its glow keeps its own peak; dim nuclei on the glow are split off
    core = np.pi * (d * _MIN_R / 2) ** 2  # the cores of _split_clusters
    rescued = None
    cluster = _BIG * np.pi * d * d / 4  # a cluster's rim is its dim nuclei's, not lost
    if (bright := _bright_cells(labels, smooth, level, peak, d, core, sharp=_SHARP,
                                cluster=cluster)).any():
        rescued = np.zeros(labels.shape, bool)
        labels = _glow_nuclei(labels, smooth, level, d, peak, peak, bright, 4 * core,
                              trim=_TRIM, core_area=core, rescued=rescued,
                              necks=(_CHECKED * np.pi * d * d / 4,  # as the recipe seeds
                                     d * _DISTANCE_SMOOTHING, d * _H))[0]
        rescued = rescued if rescued.any() else None
        peak = _label_max(smooth, labels, n := int(labels.max()))  # peak[0]: set below
        bright = np.append(bright, np.zeros(n + 1 - bright.size, bool))
    core = _only(labels, height >= _per_label(0.5 * _label_max(height, labels, n), labels))
    peak = np.where(bright, peak, _unless_foci(labels, smooth, level, peak, core, _FOCI_CAP))
    peak[0] = np.inf
    trimmed = _above_own_fraction(smooth, labels, level, _TRIM, peak)
    # what the cut takes off a bright cell is its glow (nuclei on it were split off above)
    parts, n = ndi.label((labels > 0) & (trimmed == 0) & ~_per_label(bright, labels),
                         _structure(labels.ndim))
    if removed is not None:
        removed.append(parts)
    # only parts with the area of that disc can hold it: their distance transforms are
    # computed in their own boxes (most removed parts are thin halos)
    big = np.flatnonzero(np.bincount(parts.ravel(), minlength=n + 1)[1:]
                         >= np.pi * (d * _PEAK_R) ** 2) + 1
    new = np.zeros_like(labels)
    # the big parts numbered 1..k first: find_objects costs a slice per label, and the
    # thin halo parts number thousands
    rank = np.zeros(n + 1, dtype=np.int32)
    rank[big] = np.arange(1, big.size + 1)
    boxes = ndi.find_objects(_per_label(rank, parts), max_label=big.size) if big.size else []
    top = int(labels.max())
    for k, i in enumerate(big):
        box = _widened(boxes[k], 1, parts.shape)
        part = (parts[box] == i).astype(np.int32)
        dist = ndi.distance_transform_edt(part)
        if dist.max() >= d * _PEAK_R:  # wide enough: a nucleus of its own
            own = _core_peak(part, smooth[box], dist)
            kept = _above_own_fraction(smooth[box], part, level, _TRIM, own) > 0
            new[box][kept] = top + 1 + i
    trimmed = np.where(new > 0, new, trimmed).astype(np.int32)
    filled = _fill_small_holes(trimmed > 0, d)
    if (filled & (trimmed == 0)).any():
        trimmed = _flood_holes(trimmed, filled, height)
    return trimmed, rescued


def _flood_holes(labels, filled, height):
    """``watershed(-height, labels, mask=filled)`` as int32, for ``filled`` = ``labels >
    0`` with enclosed holes added (background components whose 4-neighbours outside
    them are all labelled, :func:`._shape._fill_small_holes`).

    The flood reaches a hole's pixels only through its own pixels from the labelled
    pixels 4-adjacent to it: when those all carry one label, the hole takes that label
    whatever the landscape. Only when some hole lies between two labels or more (the
    landscape then decides) is the watershed run, over the whole image as before. The
    holes are mostly nucleoli inside one nucleus: one labelling instead of a flood of
    every labelled pixel.
    """
    added = filled & (labels == 0)
    holes, k = ndi.label(added, _structure(added.ndim))  # the flood's 4-connectivity
    hole_ids, around = [], []
    for a, b in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                 ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        for h, lab in ((holes[a], labels[b]), (holes[b], labels[a])):
            at = (h > 0) & (lab > 0)
            hole_ids.append(h[at])
            around.append(lab[at])
    hole_ids, around = np.concatenate(hole_ids), np.concatenate(around)
    own = np.zeros(k + 1, dtype=labels.dtype)
    own[hole_ids] = around  # one of each hole's labels around it
    if (own[1:] > 0).all() and np.array_equal(own[hole_ids], around):
        return np.where(added, own[holes], labels).astype(np.int32)
    from ._basins import _watershed as watershed  # (skimage's, bit for bit)

    return watershed(-height, labels, mask=filled).astype(np.int32)


