"""The typical object diameter of an image, the one number the nuclei recipe derives every
length from; in memory or from a lazy image (the same reduced images, one pass)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import (
    _enclosed,
    _mask_box,
    _mask_distance,
    _only,
    _square_filter,
    _structure,
)
from .._lazy import _as_float_dask, _compute, _first_pass, is_lazy
from .._validation import as_float_image
from ._background import _SPLIT, _robust_level, _tile_counts, _tile_noise, _weighted_median
from ._bodies import FirstCut, lowered_cut, reads_foci, wider
from ._cues import _label_max, _label_quantile
from ._foreground import _SIGNIFICANT, _auto_params, _auto_threshold
from ._glows import _smooth_carrier, _without_glows
from ._holes import _ELLIPSE, _ellipse_share, _holes_of_one_filled, _nucleoli_filled
from ._orient import (
    canonical_overviews,
    lazy_sums,
    of_image,
    orientation,
    overview_variants,
    to_canonical,
)
from ._outlines import _above_own_fraction
from ._region_distances import _grown_distances, _region_radius
from ._resample import _block_mean, _downsample, _reduce_lazy
from ._spikes import _despiked, _despiked_lazy, _sample_lazy
from ._windows import _extreme_exponent

__all__ = ["estimate_object_diameter", "estimate_object_diameter_chunked"]

#: A nucleus whose foci alone pass half its maximum holds at least ``_MIN_PIECES`` pieces
#: in a compact region: of area at most ``_COMPACT`` times pi r_inscribed^2
_MIN_PIECES = 3
_COMPACT = 1.5
#: A textured nucleus is measured by its cut at this fraction of its core's median contrast
#: (its nucleoplasm thins towards the rim: half the median lies inside the nucleus's edge)
_BODY_CUT = 0.3
#: ... recognised when its foci (the cut at half its maximum) hold three pieces or more, or
#: cover less than this share of that region (one or two bright foci in a dimmer nucleus)
_FOCI_SHARE = 0.5
#: The objects are clusters when weighing each as its inscribed disc at most lowers the
#: median radius below this share of the area-weighted one (see _diameter_of_reduced)
_CLUSTERED = 0.9
#: Local background of the estimate: grey opening by a square of half-side the larger of
#: this share of the image's shorter side and ``_LOCAL_D`` times a first radius estimate
_LOCAL = 0.125
_LOCAL_D = 4.0
#: An elongated nucleus (not compact: area up to ``_LONG`` times its inscribed disc) still
#: counts as one when it fills at least ``_ELLIPSE`` (in ``._holes``) of the ellipse of its
#: second moments
_LONG = 4.0
#: ... and its distance transform above this share of its maximum is one piece
_CORE = 0.8
#: A foreground cut up to this times the significance floor may be that floor, moved to the
#: top of a discrete level's cell (see _at_floor)
_NEAR_FLOOR = 1.05


def _lag_noise(img: np.ndarray, lag: int = 3) -> float:
    """Noise (robust standard deviation) of ``img`` from the differences of pixels ``lag``
    apart along its rows, by which the estimate's foreground cut is judged (see
    ``_foreground._significant_cut``): a ramp or uneven background, which the image here still
    carries (it is not flattened: its scale is what is being estimated), barely changes
    them, unlike the spread of the pixels below Otsu (a cut 1.2 of those above the
    background on a strongly vignetted field with a ramp; 16 of these). At 3 pixels, the
    smoothing by a Gaussian of 1 pixel leaves the noise of the two pixels nearly
    independent."""
    diffs = (img[:, lag:] - img[:, :-lag]).ravel()  # along rows (one axis is enough)
    if diffs.size == 0:
        return 0.0
    return _robust_level(diffs)[1] / np.sqrt(2)


def _diameter_of_reduced(reduced: np.ndarray, factor: int) -> float:
    """Diameter estimate from the image already reduced by ``factor`` (block mean)."""
    small = ndi.gaussian_filter(reduced, 1.0)
    tiles = []  # the noise of the tiles of ``reduced``, once, when asked (_structure_free)

    def tile_noise():
        if not tiles:
            tiles.append(_tile_noise(_tile_counts(reduced), 1.0))
        return tiles[0]

    boxes = {}  # the per-box distance transforms of both passes, by content (_box_squares)
    # the first measurement and its components, judged only when the window is too wide
    first, widest = _radius_of(small, tile_noise, factor == 1, boxes, again=False,
                               widest=True)
    side = 2 * int(max(_LOCAL * min(small.shape), _LOCAL_D * first)) + 1
    if side >= min(small.shape) and _smooth_carrier(*widest):  # a broad bump measured alone
        side = 2 * int(_LOCAL * min(small.shape)) + 1
    if side < min(small.shape):
        flat = small - _square_filter(_square_filter(small, side, False), side, True)
        try:
            first = _radius_of(flat, tile_noise, factor == 1, boxes)
        except ValueError:
            pass
    # the distance to the nearest background pixel centre underestimates by half a pixel
    return float(2 * (first + 0.5) * factor)


def _radius_of(small: np.ndarray, tile_noise=None, fill: bool = False,
               boxes: dict | None = None, below: FirstCut | None = None, again: bool = True,
               widest: bool = False):
    """Typical inscribed radius of the objects of ``small`` (reduced pixels);
    ``tile_noise()``: the noise of its tiles (see :func:`_structure_free`); ``fill``: the
    image is not reduced, the holes of one piece are filled (:func:`_holes_of_one_filled`);
    ``boxes``: the per-box distance transforms already made (``_label_image._box_squares``'s
    cache; the same distances, none made twice); ``below``: the cut of the measurement of
    ``small`` that read foci (:class:`._bodies.FirstCut`), measured again below it;
    ``again``: so measured again when it reads foci (``._bodies``; not the first estimate,
    which only sizes the local background's window); ``widest`` (the first estimate):
    return ``(radius, components)``, ``components`` the arguments of
    :func:`._glows._smooth_carrier` (whether the widest one is a smooth bump), taken
    before the glows are left out."""
    # the foreground of the "auto" threshold, each object then cut at half its own
    # contrast over the background, where the edge of a blurred object lies (a global
    # Otsu keeps only the brightest objects when a few are much brighter than the rest,
    # and the estimate would be theirs)
    if below is not None:  # the bodies of textured nuclei whose foci alone were measured,
        # below that measurement's cut: its noise, cut and background, not found again
        spread, cut, level = below
        mask = small > lowered_cut(level, cut, spread)
    else:
        spread = _lag_noise(small)
        mask, cut, level = _auto_threshold(small, spread=spread)
        if tile_noise is not None and _at_floor(small, cut - level, spread):
            quieter = _structure_free(spread, tile_noise())
            if quieter < spread:
                mask, cut, level = _auto_threshold(small, spread=quieter)
        if not mask.any():  # objects a few pixels wide vary over 3 px themselves (a lattice)
            mask, _, level = _auto_threshold(small)
        if not mask.any():
            # too few pixels to tell signal from noise (a 2-row strip): the estimate takes
            # Otsu's cut as it is; the segmentation still applies the rule with its own image
            mask, _, level = _auto_threshold(small, significant=False)
    labels, n = ndi.label(mask, _structure(mask.ndim), output=np.intp)
    if n == 0:
        raise ValueError("no foreground found: cannot estimate an object diameter.")
    peak = _label_max(small, labels, n)
    peak[0] = np.inf
    mask = _above_own_fraction(small, labels, level, 0.5, peak) > 0
    enclosed = _enclosed(~mask)
    # its components and distance transform, which the nucleoli's rims and _whole_textured
    # read too: made again only where they add pixels to the mask
    pieces = ndi.label(mask, _structure(mask.ndim), output=np.intp)
    parts = pieces, _mask_distance(mask, pieces[0], boxes)
    filled = _nucleoli_filled(mask, labels > 0, enclosed, parts[1])
    if filled is not mask:  # holes filled: those left are found again when asked
        pieces = ndi.label(filled, _structure(filled.ndim), output=np.intp)
        parts = pieces, _grown_distances(parts[1], mask, filled, *pieces, boxes)
        mask, enclosed = filled, None
    if fill:  # at full resolution (see _holes_of_one_filled)
        mask, parts = _holes_of_one_filled(mask, labels > 0, parts, enclosed, _COMPACT)
    whole = _whole_textured(mask, small, labels, n, level, parts, boxes)
    pieces = parts[0]
    if whole is not mask:
        regions = ndi.label(whole, _structure(whole.ndim), output=np.intp)
        parts = regions, _grown_distances(parts[1], mask, whole, *regions, boxes)
    foci = again and below is None and reads_foci(labels, n, *pieces, *parts[0])
    (labels, n), dist = parts
    radius = _label_max(dist, labels, n)[1:]
    area = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(float)
    radius = _elongated_radius(labels, n, radius, area, dist)
    components = radius, area, small, level, labels, dist
    # out-of-focus glows of saturated cells are no objects (._glows)
    radius, area = _without_glows(radius, area, small, level, labels, dist)
    median_radius = _weighted_median(radius, area)
    # a component weighing as its inscribed disc at most: clusters of touching nuclei
    disc = _weighted_median(radius, np.minimum(area, np.pi * (radius + 0.5) ** 2))
    if disc < _CLUSTERED * median_radius:
        median_radius = disc
    if foci:  # measured again below the cut (._bodies)
        first = FirstCut(spread, cut, level)
        return wider(median_radius, lambda: _radius_of(small, tile_noise, fill, boxes, first))
    return (median_radius, components) if widest else median_radius


def _at_floor(small, contrast: float, spread: float) -> bool:
    """Whether the foreground's cut of ``small`` (``contrast`` over the background) was
    raised to the significance floor (``_foreground._significant_cut``: ``_SIGNIFICANT``
    deviations ``spread`` over the background, moved to the top of a discrete level's
    cell; Otsu's cut judged a split of the noise). Only a cut at or just above the floor
    can be; Otsu's own cut is then looked at (a second histogram, on those images only)."""
    floor = _SIGNIFICANT * spread
    if not (spread > 0 and floor * (1 - 1e-9) <= contrast <= floor * _NEAR_FLOOR):
        return False
    _, eps, cut = _auto_params(small, spread, significant=False)
    return bool(np.exp(cut) - eps < _SPLIT * spread)


def _structure_free(spread: float, tiles) -> float:
    """The noise by which a cut at the significance floor is judged again: the tiles'
    noise (``_background._tile_noise`` of the reduced image, the least variance common
    among its 4x4 tiles, as the watershed paths take it) when lower than ``spread``.

    The differences of pixels 3 apart are the noise where most of the image is flat at
    that scale, the background of a sparse field. In a crop of a packed tissue (nuclei
    of 12-16 px, gaps of 1-3 px, every pixel within a few of an edge) they are the edges:
    0.08-0.18 against a noise of 0.006-0.018 (6-28x), Otsu's split between the dimmer and
    the brighter nuclei was read as a split of that "noise", the cut raised to 4 of its
    deviations over the median, a handful of pixels passed it, and the estimate fell to
    its floor (3 px; no nucleus found). The tiles flat at the scale of 4 pixels (nuclei
    interiors) still read the noise. On a field of noise alone the two agree, and the cut
    is raised again."""
    return spread if tiles is None else min(spread, float(tiles))


def _elongated_radius(labels, n, radius, area, dist) -> np.ndarray:
    """The components' radii with each elongated nucleus (area above ``_COMPACT`` times
    its inscribed disc, filling ``_ELLIPSE`` of the ellipse of its moments: one nucleus,
    not touching ones) measured as the disc of ``1 / _COMPACT`` of its area.

    The inscribed disc is a nucleus's short axis: 11-15 % below its equivalent diameter
    for the compact nuclei the recipe's lengths were set on (U2OS: 0.82 of it), but 0.6 of
    it at aspect 3; fibroblast-like fields were estimated at 0.5-0.8 of their nuclei, and
    the sharpness ring, minimum size and neck tests followed. Taken as the compact nucleus
    of the same area, the estimate is unchanged up to the compact limit and continuous
    beyond it (the full equivalent disc put U2OS 7 % higher than main's estimate)."""
    long = np.flatnonzero(area > _COMPACT * np.pi * (radius + 0.5) ** 2) + 1
    if long.size == 0:
        return radius
    share = _ellipse_share(labels, n, np.concatenate([[0.0], area]), long)[1:]
    one = share >= _ELLIPSE
    if one.any():
        # ... and has one core: the distance transform of a convex nucleus is concave, its
        # part above _CORE of its maximum one piece; two overlapping nuclei (an ellipse-like
        # pair, 0.97-0.98 of their ellipse when 0.65-0.75 d apart) have two
        ids = np.flatnonzero(one) + 1
        pick = np.zeros(n + 1, dtype=bool)
        pick[ids] = True
        top = np.concatenate([[np.inf], _CORE * radius])
        core = pick[labels] & (dist >= top[labels])
        # labelled in the box of its pixels, a few nuclei's (round 30: the same pieces;
        # only their count per label is read)
        box = _mask_box(core)  # (never empty)
        core, owner = core[box], labels[box]
        cores, k = ndi.label(core, _structure(core.ndim))
        pairs = np.unique(owner[core].astype(np.int64) * (k + 1) + cores[core])
        one &= np.bincount(pairs // (k + 1), minlength=n + 1)[1:] == 1
    own = np.sqrt(area / (_COMPACT * np.pi)) - 0.5  # the caller adds the half pixel back
    return np.where(one, np.maximum(radius, own), radius)


def _diameter_factors(shape) -> tuple[int, int]:
    """Reduction factors of the coarse (~256 px) and fine (~512 px) diameter estimates,
    at most half the shorter side: a 2 × 5120 strip reduced by 20 kept no rows, and the
    threshold needs two."""
    longest, cap = int(max(shape)), max(1, int(min(shape)) // 2)
    return max(1, min(longest // 256, cap)), max(1, min(longest // 512, cap))


#: The estimate is trusted once the objects span at least this many reduced pixels.
_MIN_SPAN = 12


#: Side, in reduced pixels, of the window used to look closer at a large image.
_WINDOW = 1024


def _busiest_window(overview: np.ndarray, factor: int, side: int, shape):
    """(row, col, rows, cols) of a ``side``² window of the image, full-resolution pixels,
    centred where the overview (reduced by ``factor``) varies most: where the objects are."""
    rows, cols = min(side, shape[0]), min(side, shape[1])
    w = max(1, side // factor)
    img = overview.astype(np.float64)
    mean = ndi.uniform_filter(img, w, mode="nearest")
    var = ndi.uniform_filter(img * img, w, mode="nearest") - mean * mean
    r, c = np.unravel_index(int(np.argmax(var)), var.shape)
    r0 = int(np.clip(r * factor + factor // 2 - rows // 2, 0, shape[0] - rows))
    c0 = int(np.clip(c * factor + factor // 2 - cols // 2, 0, shape[1] - cols))
    return r0, c0, rows, cols


def _whole_textured(mask, small, labels, n, level, parts=None, boxes=None):
    """``mask`` (objects cut at half their maximum contrast) with the nuclei whose bright
    foci alone pass that cut replaced by their cut at ``_BODY_CUT`` of their *median*
    contrast (``parts``: ``(ndi.label(mask), ndi.distance_transform_edt(mask))`` when the
    caller has them).

    Chromocenters 2-4x brighter than the nucleoplasm put half the maximum above the rest
    of the nucleus: the cut keeps the foci, and the estimate would be theirs (a field of
    30-px textured nuclei was estimated at 10-11 px). Such a nucleus is recognised by its
    cut at ``_BODY_CUT`` of its median (over its core, see :func:`_core_peak`; the
    nucleoplasm thins towards the rim, so half the median would fall inside the edge): one
    compact region (area at most ``_COMPACT`` = 1.5 times its largest inscribed disc) that
    holds ``_MIN_PIECES`` pieces or more of the cut at half the maximum, or whose pieces
    cover less than ``_FOCI_SHARE`` of it (one or two foci much brighter than the rest),
    and is at most 4x as wide as the typical piece outside it (:func:`_typical_outside`:
    never its own reference). A field of touching nuclei is not
    compact, a bright band of uneven background is far wider than the nuclei on it, and a
    nucleus without foci is one piece covering most of the region: they keep the cut at
    half the maximum. ``boxes``: see :func:`_radius_of`.
    """
    median = _label_quantile(small, _only(labels, (
        dist := _mask_distance(labels > 0, labels, boxes))
        >= 0.5 * _label_max(dist, labels, n)[labels]), n, 0.5)
    median[0] = np.inf
    low = _above_own_fraction(small, labels, level, _BODY_CUT, median) > 0
    regions, m = ndi.label(low, _structure(low.ndim), output=np.intp)
    if m == 0:
        return mask
    pieces, k = parts[0] if parts is not None else ndi.label(mask, _structure(2), output=np.intp)
    # pieces of the max cut per region of the median cut
    both = (regions > 0) & (pieces > 0)
    in_region = regions[both]
    pairs = _present(in_region.astype(np.int64) * (k + 1) + pieces[both], (m + 1) * (k + 1))
    count = np.bincount(pairs // (k + 1), minlength=m + 1)
    area = np.bincount(regions.ravel(), minlength=m + 1)
    covered = np.bincount(in_region, minlength=m + 1)
    whole = (count >= _MIN_PIECES) | (covered < _FOCI_SHARE * area)
    whole[0] = False
    if not whole.any():  # no nucleus with foci: the two distance transforms are not needed
        return mask
    radius = _region_radius(low, regions, np.flatnonzero(whole), boxes) + 0.5
    disc = np.pi * radius**2
    compact = area <= _COMPACT * disc
    if (whole & ~compact).any():  # elongated candidates: one nucleus if ellipse-like
        long = np.flatnonzero(whole & ~compact & (area <= _LONG * disc))
        compact |= _ellipse_share(regions, m, area, long) >= _ELLIPSE
    whole &= compact
    whole[0] = False
    if not whole.any():
        return mask
    # ... and not much wider than the pieces of the max cut outside it are: foci are a
    # sizeable part of their nucleus (a bright band of background holding nuclei is far
    # wider than they)
    mask_dist = ndi.distance_transform_edt(mask) if parts is None else parts[1]
    piece_r = _label_max(mask_dist, pieces, k)[1:] + 0.5
    piece_a = np.bincount(pieces.ravel(), minlength=k + 1)[1:].astype(float)
    # each piece lies in one region (half the maximum is above _BODY_CUT of the median)
    piece_region = np.zeros(k, dtype=np.int64)
    piece_region[pairs % (k + 1) - 1] = pairs // (k + 1)
    for i in np.flatnonzero(whole).tolist():
        whole[i] = radius[i] <= 4 * _typical_outside(piece_r, piece_a, piece_region, i)
    if not whole.any():
        return mask
    return mask | whole[regions]


def _present(keys: np.ndarray, size: int) -> np.ndarray:
    """``np.unique(keys)`` for non-negative ``keys`` below ``size``, by a count of each key
    when the counts are no longer than a few times the keys: one pass, where np.unique
    sorts (on U2OS, ~11 000 pairs of ids below ~2 000-3 000: 0.02 against 0.4 ms)."""
    if size > 4 * keys.size + 1024:
        return np.unique(keys)
    return np.flatnonzero(np.bincount(keys, minlength=size))


def _typical_outside(piece_r, piece_a, piece_region, region) -> float:
    """Area-weighted median radius of the pieces lying outside ``region`` (of all of them
    when every piece lies inside it).

    A region is never its own reference: a saturated cell's glow, taken at a low cut for
    one textured nucleus, holds the cell, the widest piece of the field; weighted by area,
    the two saturated cells of the held-out u2os-like field 12 *were* the typical piece
    (11.3 reduced px), and their glows, 32 and 42 px wide, passed as nuclei 4x that at
    most (the estimate went to 321 px for ~108-px nuclei). Without its own pieces, each
    glow's reference is 3.3 px (the other pieces); over every estimate of the benchmark
    fields (cell-line, U2OS, dense blur) no other region's verdict changes.
    """
    keep = piece_region != region
    if not keep.any():
        keep[:] = True
    return _weighted_median(piece_r[keep], piece_a[keep])


def _diameter_from(reduced, shape, coarse: int, fine: int) -> float:
    """The estimate of :func:`estimate_object_diameter`.

    ``reduced(factor, box)`` gives the block mean by ``factor`` of the whole image
    (``box=None``) or of the window ``box = (row, col, rows, cols)``.
    """
    # a blurred object in a tiny image (3 × 4) can measure wider than the image: no
    # diameter the other functions accept (at most the longest side)
    return min(_measured_diameter(reduced, shape, coarse, fine), float(max(shape)))


def _measured_diameter(reduced, shape, coarse: int, fine: int) -> float:
    """:func:`_diameter_from` before it is clamped to the image's longest side."""
    if coarse > fine:
        try:
            d = _diameter_of_reduced(reduced(coarse, None), coarse)
        except ValueError:
            d = 0.0
        if d / coarse >= _MIN_SPAN:
            return d
    overview = reduced(fine, None)
    d = _diameter_of_reduced(overview, fine)
    factor = fine
    # objects still too small to measure at ~512 px (a large image of small objects):
    # look closer, 4x finer each time, in a window where the objects are
    while d / factor < _MIN_SPAN and factor > 1:
        factor = max(1, factor // 4)
        box = _busiest_window(overview, fine, _WINDOW * factor, shape)
        try:
            d = _diameter_of_reduced(reduced(factor, box), factor)
        except ValueError:
            break
    return d


def estimate_object_diameter(image) -> float:
    """Estimate the typical diameter of the bright objects in an image, in pixels.

    Granulometry on the distance transform: the foreground of the lightly smoothed image
    (the "auto" threshold of :func:`seeded_watershed`, so dim objects count as much as
    bright ones; then each object cut at half its own contrast over the background, where
    the edge of a blurred object lies) is split into connected components, and each
    component's largest inscribed disc (the maximum of its Euclidean distance transform)
    measures the radius of its largest object — touching objects do not inflate it, unlike
    the component's area. The estimate is twice the area-weighted median of those radii, so
    specks of noise (tiny area) do not pull it down. It is measured twice: once as said,
    then against the local background (the image minus its grey opening by a square of
    half-side the larger of 1/8 of its shorter side and twice that first estimate), which
    is the one returned: glows of saturated cells, vignetting and ramps otherwise lift the
    cut above ordinary nuclei, and only their bright foci were measured. It needs no length
    scale of its own: the image is first reduced so that it has about 256 pixels on its
    long side; if the objects then span fewer than 12 pixels, the estimate is redone at
    about 512 pixels. If they are still smaller (a large image of small objects, e.g. a
    whole slide), it looks closer, 4× finer each time, within a window of 1024² reduced
    pixels placed where the image varies most, until the objects span 12 pixels or the
    full resolution is reached. The image is measured in the orientation its content
    gives (as :func:`seeded_watershed`, whose own estimate this is): its flips and quarter
    turns give the same estimate. Dask/Zarr images are read chunk by chunk (same result).

    Parameters
    ----------
    image : (M, N) ndarray
        Image with bright objects on a darker background.

    Returns
    -------
    float
        Diameter in pixels of ``image``, at most its longest side.

    Raises
    ------
    ValueError
        If the image is constant, not 2-D, or has no foreground.

    Examples
    --------
    >>> from napari_tessella.synthetic import synthetic_nuclei
    >>> nuc = synthetic_nuclei(diameter=30, seed=0)
    >>> 24 < estimate_object_diameter(nuc.image) < 36
    True
    """
    if is_lazy(image):  # dask/Zarr: the reduced images are computed chunk by chunk
        return estimate_object_diameter_chunked(image)
    img = _despiked(image, as_float_image(image))[1]  # hot pixels (._spikes)
    # as in seeded_watershed: a subnormal image (or one near the largest float) divided by
    # a power of two, exactly; subnormal ones gave another estimate, or numpy's error
    exponent = _extreme_exponent(img)
    if exponent:
        img = np.ldexp(img, -exponent)
    # in the orientation seeded_watershed works in (._orient): its own estimate, and the
    # same for every flip and quarter turn of the image
    orient = of_image(img)
    return _estimate_in_memory(np.ascontiguousarray(to_canonical(img, orient)))


def _estimate_in_memory(img: np.ndarray, whole=None) -> float:
    """:func:`estimate_object_diameter` of an image already checked by ``as_float_image``.

    ``whole`` (a dict, or None): the block means of the whole image it reduced are left
    there, ``{factor: _block_mean(img, factor)}``, the last partial blocks completed (the
    working image of :func:`seeded_watershed` when its factor is one of them); the
    estimate reads their whole blocks, ``_downsample(img, factor)`` bit for bit (each
    block summed in the same order, the partial ones apart)."""

    def reduced(factor, box):
        if box is not None:
            r0, c0, rows, cols = box
            return _downsample(img[r0:r0 + rows, c0:c0 + cols], factor)
        if whole is None:
            return _downsample(img, factor)
        whole[factor] = _block_mean(img, factor)
        rows, cols = (s // factor for s in img.shape)
        return whole[factor][:rows, :cols].copy()  # (the working image is not shared)

    return _diameter_from(reduced, img.shape, *_diameter_factors(img.shape))


def _estimate_diameter(raw, scheduler, overviews=None) -> float:
    """The in-memory estimate, from the same reduced images, computed in one pass (or
    given: ``overviews``, {factor: the reduced image}, computed with another pass)."""
    coarse, fine = _diameter_factors(raw.shape)
    if overviews is None:
        lazy = {f: _reduce_lazy(raw, f, trim=True) for f in sorted({coarse, fine})}
        overviews = dict(zip(lazy, _compute(*lazy.values(), scheduler=scheduler), strict=True))

    def reduced(factor, box):
        if box is None:
            return np.asarray(overviews[factor])
        r0, c0, rows, cols = box
        window = _reduce_lazy(raw[r0:r0 + rows, c0:c0 + cols], factor, trim=True)
        return np.asarray(_compute(window, scheduler=scheduler)[0])

    return _diameter_from(reduced, raw.shape, coarse, fine)


def estimate_object_diameter_chunked(image, *, chunks=None, scheduler=None) -> float:
    """:func:`napari_tessella.nuclei.estimate_object_diameter` of a dask/Zarr image.

    The estimate only looks at the image reduced to about 256 and 512 pixels on its long
    side; those block means are computed chunk by chunk (one pass over the data, with the
    sample of its spikes' levels, then one that counts its spikes, ._spikes, and the first
    again when it holds some), so the result is the in-memory one (up to floating-point
    summation order).
    """
    _, _, (raw, orient, overviews, *_) = _clean_pass(  # (rounded as in memory)
        _as_float_dask(image, chunks), scheduler,
        integral=image.ndim == 2 and np.dtype(image.dtype).kind in "iu")
    return _estimate_diameter(to_canonical(raw, orient), scheduler, overviews)


def _clean_pass(stored, scheduler, overviews: bool = True, *, lines: bool = False,
                despike: bool = True, integral=None):
    """The lazy image ``stored`` with its spikes read as their neighbours' median
    (``despike``: :func:`._spikes._despiked_lazy`, ``integral`` as there), that image as
    float (``raw``: ``stored``, or its float64), and :func:`_oriented_pass` of ``raw``
    (with its four edge lines when ``lines``), as ``(stored, raw, pass 1)``. The spikes'
    sample is computed in pass 1 of the image as given, which serves when it holds no
    spike: a clean image's chunks are read once for both (the sample took a read of its
    own before, round 56); a spiky one's pass 1 is made again of the image cleaned."""
    sample = _sample_lazy(stored) if despike else None
    while True:
        raw = stored if stored.dtype in (np.float32, np.float64) else stored.astype(np.float64)
        edges = (raw[0], raw[-1], raw[:, 0], raw[:, -1]) if lines else ()
        first = _oriented_pass(raw, scheduler, overviews,
                               edges if sample is None else (*edges, sample))
        if sample is None:
            return stored, raw, first
        clean = _despiked_lazy(stored, scheduler, integral=integral, sample=first[4][-1])
        if clean is stored:
            return stored, raw, (*first[:4], first[4][:-1])
        stored, sample = clean, None


def _oriented_pass(raw, scheduler, overviews: bool = True, extra=()):
    """Pass 1 over a lazy image (one read): value checks, the sums giving its orientation
    and (``overviews``) the estimate's reduced images for every turn. Returns ``raw``
    (divided by a power of two if extreme), its orientation, its reduced images so turned
    (None after that division: made again), the exponent and the lazy values ``extra``
    computed in the same pass (the edge lines a frame is looked for in, ._outside)."""
    variants = overview_variants(raw, _diameter_factors) if overviews else {}
    lo, hi, *sums = _first_pass(raw, *lazy_sums(raw), *variants.values(), *extra,
                                scheduler=scheduler)
    sums, extra = sums[:len(sums) - len(extra)], tuple(sums[len(sums) - len(extra):])
    if exponent := _extreme_exponent(np.array([lo, hi]), raw.dtype):
        raw = raw.map_blocks(np.ldexp, -exponent, dtype=raw.dtype)
        sums[:2] = _compute(*lazy_sums(raw), scheduler=scheduler)
    orient = orientation(*sums[:2])
    turned = canonical_overviews(dict(zip(variants, sums[2:], strict=True)), orient, raw.shape)
    return raw, orient, None if exponent else turned, exponent, extra
