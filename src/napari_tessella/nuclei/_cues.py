"""Per-object cues of the default nuclei recipe for harder images (issue 14).

Bright foci (chromocenters) inside a nucleus, clusters of nuclei pressed together, and objects
that fade into their ring (glare, glow): each decided per object from its own intensities,
at the working resolution. Kept apart from :mod:`._recipe`, which calls them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .._label_image import (
    _binary_dilation,
    _binary_erosion,
    _crosses_dilated,
    _enclosed,
    _nearest_near,
    _only,
    _opened,
    _per_label,
    _relabel_sequential,
    _square_filter,
    _structure,
    _widened,
)
from .._quantiles import _group_quantiles
from ._in_box import _box_around, _in_box_of
from ._touching import _held_in

#: an object fading into its ring is kept when its rim is at least this steep (x its
#: median contrast / d, :func:`_rim_gradient`): the 5 % quantile of the nuclei's edges on
#: the cell-line fields (3.4-6.5); glows measure 1.0-2.3 (round 13, docs/nuclei-history.md)
_EDGE_STEEP = 3.4
#: ... or, among at least ``_STEEP_AMONG`` sharp labels within ``_STEEP_REACH`` d whose
#: median rim gradient is itself below that bar, at least this share of that median: a
#: blurred field's nuclei all have shallow rims (round 14, :func:`_near_steep`)
_NEAR_STEEP = 0.6
_STEEP_AMONG = 3
_STEEP_REACH = 1.0  # x d
#: ... the unsharp labels that bar keeps count among the sharp ones for their neighbours,
#: up to this many rounds more: most of a blurred field's nuclei are unsharp, and a nucleus
#: amid kept ones had fewer than ``_STEEP_AMONG`` sharp neighbours (round 20)
_VOUCH = 3
#: ... or, among at least one kept label within ``_STEEP_REACH`` d (with the same bar),
#: when the label stands out of its ring taken ``_WIDE_RING`` d outside it (sharpness at
#: least ``_WIDE_SHARP``): a blurred nucleus's edge is wider than the d/10 ring, a glow
#: still bright there; a blurred field's nucleus had one or two neighbours (round 21)
_WIDE_RING = (0.15, 0.3)
_WIDE_SHARP = 0.9


#: the holes a rim cut opens are filled back up to this share of a nucleus's area (pi
#: d^2 / 4): a nucleolus below the cut. A larger one is the gap amid a ring of nuclei,
#: whether it is enclosed depends on the whole ring, wider than a chunk's window
_RIM_HOLE = 0.25


def _fill_holes(mask: np.ndarray, most: float | None = None) -> np.ndarray:
    """``ndi.binary_fill_holes(mask)``: background not 4-connected to the array's edge;
    with ``most``, only the holes of at most that many pixels.

    One labelling of the background instead of scipy's iterated dilation (several times
    faster on the working images).
    """
    holes, inner = _enclosed(~mask)
    if most is not None:
        inner &= np.bincount(holes.ravel(), minlength=inner.size) <= most
    return mask | _per_label(inner, holes)


def _label_max(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Maximum of ``values`` per label 0..n (float64; -inf where a label is absent).

    ``np.maximum.at`` (linear in the pixels; ``ndi.maximum`` sorts them) in the values' own
    float type, its fast path (same maxima): casting float32 to float64 took 25x longer.
    Integer values (a label image's ids) are converted to float64 first, for the same
    reason."""
    ftype = values.dtype if np.issubdtype(values.dtype, np.floating) else np.float64
    out = np.full(n + 1, -np.inf, dtype=ftype)
    np.maximum.at(out, labels.ravel(), values.ravel().astype(ftype, copy=False))
    return out.astype(np.float64, copy=False)


def _label_quantile(values: np.ndarray, labels: np.ndarray, n: int, q: float) -> np.ndarray:
    """Quantile ``q`` of ``values`` per label 0..n (-inf where a label is absent): numpy's
    "lower" one, from one sort of the labelled pixels (:func:`_label_quantiles`)."""
    return _label_quantiles(values, labels, n, (q,))[0]


def _label_quantiles(values, labels, n: int, qs, method: str = "lower") -> list:
    """:func:`_label_quantile` for each quantile of ``qs``, from one sort of the pixels
    (``_quantiles._group_quantiles`` of the labelled ones, its ``method``; round 49)."""
    lab = labels.ravel()
    inside = np.flatnonzero(lab > 0)  # the labelled pixels, found once for both (2x faster)
    return _group_quantiles(values.ravel()[inside], lab[inside], n + 1, qs, -np.inf,
                            method)[0]


def _unless_foci(labels, smooth, level, peak, core, cap: float, body: float = 0.0
                 ) -> np.ndarray:
    """``peak`` per label, but at most ``cap`` times the contrast of the median of
    ``smooth`` over the label's ``core`` (a label image).

    Bright foci (chromocenters 2-4x brighter than the nucleoplasm) would otherwise set the
    peak, and a cut at a fraction of it would keep the foci and lose the rest of the nucleus
    (ragged fragments, or a nucleus too small to be kept). A nucleus without foci has its
    maximum within the cap (its centre is a little brighter than its median). With
    ``body`` > 0, a label whose peak exceeds the cap (it has foci) gets ``body`` times that
    median contrast instead: a cut at a fraction of it then follows the nucleoplasm's
    edge, which thins towards the rim, rather than passing inside it.
    """
    n = int(labels.max())
    median = _label_quantile(smooth, core, n, 0.5)
    limit = level + cap * (median - level)
    out = np.where(median > level, np.minimum(peak, limit), peak)
    if body > 0:
        out = np.where((median > level) & (peak > limit), level + body * (median - level), out)
    return out


def _split_clusters(labels, markers, smooth, height, d, min_size_work, *, big: float,
                    checked: float, ratio: float, level: float, valley: float, step: float,
                    gradient: float):
    """Split objects too large to be one nucleus along the intensity steps between nuclei.

    An object of more than ``big`` times the area of a disc of diameter ``d`` holds
    several nuclei pressed together (a dense field): the distance transform sees no neck
    there, since the nuclei fill each other's gaps. Each nucleus's own core is where the
    image is within ``ratio`` of its local maximum (over a box of about ``d/2``): seams
    and the steps between nuclei of different brightness fall below it. If the object has
    two cores or more of at least a quarter of the minimum size, they seed a watershed of
    the distance landscape inside it. Objects from ``checked`` to ``big`` times that area
    (a pair of small round nuclei, or one large or elongated nucleus) are split too, but
    their parts stay apart only where two nuclei show (:func:`_join_unless_parted`:
    a seam or a brightness step between them, ``valley`` and ``step``), and are then
    divided by a watershed of the image's gradient magnitude (smoothed by ``gradient * d``)
    from their cores.

    Returns the labels and the markers, where a split object's markers are replaced by
    one pixel per part (its highest ``height``).
    """
    from ._basins import _watershed as watershed  # (skimage's, bit for bit)

    n = int(labels.max())
    if n == 0:
        return labels, markers
    area = np.bincount(labels.ravel(), minlength=n + 1)
    unit = np.pi * d * d / 4
    big_ids = np.flatnonzero(area > min(big, checked) * unit)
    big_ids = big_ids[big_ids > 0]
    if big_ids.size == 0:
        return labels, markers
    size = 2 * max(1, round(d / 4)) + 1
    rank = np.zeros(n + 1, dtype=np.int32)
    rank[big_ids] = np.arange(1, big_ids.size + 1)
    boxes = ndi.find_objects(_per_label(rank, labels), max_label=big_ids.size)
    out = labels.copy()
    markers = markers.copy()
    next_id, next_marker = n + 1, int(markers.max()) + 1
    for k, i in enumerate(big_ids):
        box = _widened(boxes[k], size, labels.shape)
        obj = labels[box] == i
        img = np.where(obj, smooth[box], -np.inf)
        local = _square_filter(img, size, True)  # (ndi.maximum_filter's, exactly)
        core = obj & (img >= ratio * local)
        core = _opened(core)
        parts, m = ndi.label(core, _structure(core.ndim))
        if m < 2:
            continue
        sizes = np.bincount(parts.ravel(), minlength=m + 1)
        ok = sizes >= 0.25 * min_size_work
        ok[0] = False
        if ok.sum() < 2:
            continue
        seeds = _only(parts, ok[parts])
        split = watershed(-height[box], seeds, mask=obj)
        if area[i] <= big * unit:
            split = _join_unless_parted(split, smooth[box] - level, valley, step)
            if np.unique(split[obj]).size > 1:
                # the nuclei that stay apart are divided where the image changes most
                # between them (the seam, the step), not along the distance's neck, which
                # gives a dim nucleus's flank to its bright neighbour
                grad = ndi.gaussian_gradient_magnitude(smooth[box], d * gradient)
                split = watershed(grad, _only(split, seeds > 0), mask=obj)
        ids = np.unique(split[split > 0])
        if ids.size < 2:
            continue
        region, seeds_at = out[box], markers[box]
        seeds_at[obj] = 0
        for j in ids:
            part = split == j
            region[part] = next_id
            next_id += 1
            top = np.argmax(np.where(part, height[box], -np.inf))
            seeds_at.flat[top] = next_marker
            next_marker += 1
    keep = np.bincount(out.ravel(), minlength=next_id) > 0  # the ids present (no sort)
    return _relabel_sequential(out, keep), markers  # int32 ids 1..n


def _join_unless_parted(split, contrast, valley: float, step: float) -> np.ndarray:
    """Join adjacent parts of ``split`` (labels 1..m) unless the line between them is a
    valley (its mean ``contrast`` below ``valley`` times the dimmer part's median) or a
    step (the dimmer part's median below ``step`` times the brighter one's).

    Two nuclei pressed together show one or the other: the envelopes' seam, or different
    brightness. The chromatin texture of one nucleus makes shallow valleys only, at a
    similar brightness on both sides.
    """
    m = int(split.max())
    if m < 2:
        return split
    median = _label_quantile(contrast, split, m, 0.5)
    key_list, val_list = [], []
    for a, b, va, vb in ((split[1:], split[:-1], contrast[1:], contrast[:-1]),
                         (split[:, 1:], split[:, :-1], contrast[:, 1:], contrast[:, :-1])):
        touch = (a != b) & (a > 0) & (b > 0)
        lo = np.minimum(a[touch], b[touch]).astype(np.int64)
        hi = np.maximum(a[touch], b[touch]).astype(np.int64)
        key_list.append(lo * (m + 1) + hi)
        val_list.append(0.5 * (va[touch] + vb[touch]))
    key, val = np.concatenate(key_list), np.concatenate(val_list)
    if key.size == 0:
        return split
    pairs, inverse = np.unique(key, return_inverse=True)
    line = np.bincount(inverse, val) / np.bincount(inverse)
    a, b = np.divmod(pairs, m + 1)
    dim, bright = np.minimum(median[a], median[b]), np.maximum(median[a], median[b])
    # parted (two nuclei): a valley or a step between them
    joined = ~(bright <= 0) & ~((line < valley * dim) | (dim < step * bright))
    graph = coo_matrix((np.ones(int(joined.sum())), (a[joined], b[joined])),
                       shape=(m + 1, m + 1))
    # the background (0) touches no part: it is component 0, every part's is above
    _, component = connected_components(graph, directed=False)
    return component[split]


def _disc(radius: float) -> np.ndarray:
    """The pixel offsets at a Euclidean distance of at most ``radius`` (as the distance
    transform computes it: the square root of the summed squares, in float64)."""
    r = int(np.floor(radius))
    i, j = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
    return np.sqrt(i * i + j * j) <= radius


def _farther_than(mask: np.ndarray, radius: float, *, or_at: bool = False) -> np.ndarray:
    """``ndi.distance_transform_edt(mask) > radius`` (``or_at``: ``>=``), by an erosion
    with the offsets at a distance of at most (``or_at``: under) ``radius``, computed as
    the transform computes distances (2-3x faster for the small radii of the recipe; the
    erosion by shifted copies, ``_label_image._binary_erosion``, 5-9x faster again). A
    mask without background has no distances of its own: the transform then."""
    if not radius > 0 or mask.all():
        dist = ndi.distance_transform_edt(mask)
        return dist >= radius if or_at else dist > radius
    r = int(np.ceil(radius))
    i, j = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
    dist = np.sqrt(i * i + j * j)
    return _binary_erosion(mask, dist < radius if or_at else dist <= radius, 1)


def _edge_sharpness(labels, smooth, level, d, nearest=None, ring=None, inner=None
                    ) -> np.ndarray:
    """Per label 0..n, how sharply it stands out of its ring: ``(inner - outer) / (inner -
    level)``, where ``inner`` is the median of ``smooth`` over its pixels within ``d/10``
    of its outline and ``outer`` the lower quartile over the background pixels within
    ``d/10`` outside (inf for a label with no background around, e.g. one surrounded by
    other nuclei, and for the background, 0).

    A nucleus's edge is a blurred step: its rim is well above the background next to it
    (near 1), even when the rim is dimmer than its centre. Out-of-focus glare and the
    glow around a saturated cell fade slowly: just outside their outline the image is
    still most of what it is just inside (about 0.5). The lower quartile of the ring
    keeps a dim nucleus next to a glowing cell: part of its ring is dark. A ring pixel
    belongs to the nearest label, ``nearest`` (``_nearest_label(labels)``, computed when
    not given). ``ring`` (a pair of fractions of ``d``): the outer ring is taken from that
    far to that far outside instead (:data:`_WIDE_RING`). ``inner``: a list, the rim's
    medians per label left there (empty) or read from it (the same labels, image and ``d``).
    """
    n = int(labels.max())
    out = np.full(n + 1, np.inf)
    if n == 0:
        return out
    k = max(1.0, d / 10)
    fg = labels > 0
    # within k of the background / of the foreground: an erosion / a dilation by the disc
    # of radius k (the distances the Euclidean distance transform would give, without it)
    disc = _disc(k)
    if inner:  # the rim's medians already taken (the ring alone differs)
        medians = inner[0][:n + 1]  # (read in a box: its own labels' ids, _in_box)
    else:
        rim = fg & ~_binary_erosion(fg, disc, 1)
        medians = _label_quantile(smooth, _only(labels, rim), n, 0.5)
        if inner is not None:
            inner.append(medians)
    if ring is None:
        ring, reach = ~fg & _binary_dilation(fg, disc), k
    else:
        reach = max(1.0, ring[1] * d)
        ring = (~_binary_dilation(fg, _disc(max(1.0, ring[0] * d)))
                & _binary_dilation(fg, _disc(reach)))
    # the ring's pixels lie within ``reach`` of a label: their nearest labels looked up
    # there (round 30: the whole image's feature transform for them alone was ~4 % of a
    # U2OS image's time)
    near = _nearest_near(labels, ring, reach) if nearest is None else _only(nearest, ring)
    outer = _label_quantile(smooth, near, n, 0.25)
    has = np.isfinite(medians) & np.isfinite(outer) & (medians > level)
    out[has] = (medians[has] - outer[has]) / (medians[has] - level)
    return out  # inf for the background: its inner quantile is -inf, never in ``has``


def _drop_unsharp(labels, smooth, level, d, peak, needed, *, sharp: float, recut: float,
                  trim: float, steep: float = _EDGE_STEEP, kept=None, again=None,
                  held=False):
    """Drop the labels that fade into their ring (:func:`_edge_sharpness` below ``sharp``)
    and whose rim is less steep than a nucleus's edge (:func:`_rim_gradient` below
    ``steep``; 0: not looked at), unless their cut at ``recut`` of their own contrast
    (``peak``) is sharp and at least ``needed`` (per label) in area.

    Sharpness alone sat on the decision boundary: nuclei outlined inside their own edge
    (their 30 % cut taken from their foci, or over a glow) have their ring on their own
    flank and measure 0.35-0.39, among glows and smudges at 0.11-0.40 (round 13). Their rim
    is steep (2.2-3.9 x contrast / d; kept from ``steep``), the glows' is not (0.9-2.3).

    A nucleus is a blurred step, glare a smooth bump: cut higher, a bump is still a bump,
    whereas a bright (saturated) nucleus whose 30 % cut took in its out-of-focus glow shows
    its own steep edge. Its ``peak`` is then set so that the outlines (``trim`` of it) follow
    that higher cut. Returns the labels and the peaks.

    ``kept`` (a boolean image, or None): the labels mostly on it are never dropped (dim
    nuclei split off a glow by their steep rim, round 14: they fade into the glow).
    ``again`` (or None): ``again(labels, ids)`` says which unsharp ``ids`` are kept all the
    same (nuclei with foci cut inside their edge, :mod:`._body_edge`). ``held``: an
    unsharp label amid kept ones is kept (a dense field's, :mod:`._touching`).

    The rim bar of :func:`_near_steep` is taken again, up to ``_VOUCH`` times, with the
    labels it kept counted as sharp: in a blurred dense field most nuclei are unsharp, and
    a nucleus whose neighbours were kept by their own sharp neighbours had too few sharp
    ones itself (round 20: 52 of the 72 labels dropped on six fields had fewer than 3).
    """
    medians = []  # the rim's medians, for the wide ring's sharpness below (same labels)
    # (never 0: the background's sharpness is inf)
    unsharp = _edge_sharpness(labels, smooth, level, d, inner=medians) < sharp
    if kept is not None and unsharp.any():
        on = np.bincount(labels.ravel(), weights=kept.ravel(), minlength=unsharp.size)
        area = np.bincount(labels.ravel(), minlength=unsharp.size)
        unsharp &= ~(on[:unsharp.size] > 0.5 * area[:unsharp.size])
    boxes = None  # (the labels' boxes, found once for the steps below: ``_in_box``)
    if steep > 0 and unsharp.any():  # ... and whose rim is not as steep as a nucleus's
        grad, ids = ndi.gaussian_gradient_magnitude(smooth, 1.0), np.flatnonzero(unsharp)
        boxes = ndi.find_objects(labels)
        rims = _rim_gradient(labels, smooth, level, d, ids, grad)
        wide = _in_box_of(ids, _WIDE_RING[1] * d, _edge_sharpness, labels, smooth, level, d,
                          None, _WIDE_RING, medians, around=_box_around(labels, ids, 0, boxes))
        among = np.where(wide >= _WIDE_SHARP, 1, _STEEP_AMONG)
        for _ in range(1 + _VOUCH):  # those the bar keeps vouch for their neighbours next
            ids = np.flatnonzero(unsharp)
            low = unsharp & (rims < _near_steep(labels, smooth, level, d, ids, grad, steep,
                                                ~unsharp, among, boxes))
            unsharp, same = low, np.array_equal(low, unsharp)
            if same or not unsharp.any():
                break
        if held:  # a dense field's dim nucleus amid kept ones (round 41)
            unsharp &= ~_held_in(labels, unsharp, wide)
    if again is not None and unsharp.any():
        unsharp &= ~again(labels, np.flatnonzero(unsharp))
    if not unsharp.any():
        return labels, peak
    if recut <= 0:
        labels[unsharp[labels]] = 0
        return labels, peak
    low = _per_label(unsharp, labels)
    cut = np.where(low & (smooth <= (level + recut * (peak - level))[labels]), 0, labels)
    n = unsharp.size - 1
    sizes = np.bincount(cut.ravel(), minlength=n + 1)
    after = np.full(n + 1, np.inf)
    ids = np.flatnonzero(unsharp)  # (in the box of their uncut labels)
    found = _in_box_of(ids, d / 10, _edge_sharpness, cut, smooth, level, d,
                       around=_box_around(labels, ids, 0, boxes))
    after[:found.size] = found
    keep = unsharp & (after >= sharp) & (sizes >= needed[:n + 1])
    cut[(unsharp & ~keep)[cut]] = 0
    peak = peak.copy()
    peak[keep] = level + (recut / trim) * (peak[keep] - level)
    return cut, peak


def _rim_outlines(labels, smooth, level, d, peak, needed, *, trim: float, shell, half: float,
                  thick_part: float):
    """Outline each label half-way between its body at the rim and the background.

    The per-nucleus cut at ``trim`` of the peak finds the nuclei; an annotator draws a
    nucleus's outline on its edge, where the blurred step from its body to the background
    is steepest: half-way between the two (a blurred step is half its height at the
    step). The body at the rim is the median of ``smooth`` over the label's pixels at a
    distance of ``shell`` (a pair of fractions of ``d``) from the background, past the
    blur of the edge; a body that dims towards its rim (textured nuclei, domes) is cut
    lower than a flat one. The cut is at most ``half`` of the peak contrast.

    Labels are shrunk to their new cut at this resolution (holes filled back; a label
    that would fall below ``needed``, or lose a part thicker than ``thick_part * d``,
    keeps its pixels and cut). Returns the labels and the peaks such that ``level + trim *
    (peak - level)`` is the new cut (for the outlines at full resolution).
    """
    n = peak.size - 1  # ids of labels dropped on the way may still have a peak
    if not labels.any():
        return labels, peak
    fg = labels > 0
    ring = _farther_than(fg, shell[0] * d) & ~_farther_than(fg, shell[1] * d)
    rim = _label_quantile(smooth, _only(labels, ring), n, 0.5)
    old = level + trim * (peak - level)
    new = np.minimum(level + 0.5 * (rim - level), level + half * (peak - level))
    new = np.where(np.isfinite(rim) & (rim > level), new, old)
    new[0] = np.inf
    cut = _only(labels, smooth > _per_label(new, labels))
    if not (cut != labels).any():
        return labels, level + (new - level) / trim
    holes = _fill_holes(cut > 0, most=_RIM_HOLE * np.pi * d * d / 4) & (cut == 0)
    cut[holes] = labels[holes]
    sizes = np.bincount(cut.ravel(), minlength=n + 1)
    small = sizes[:n + 1] < needed[:n + 1]
    # a cut that takes off a thick part, not a thin ring, is not moving an edge: the label
    # holds a dimmer nucleus merged with a bright one, whose rim set the cut
    removed = (labels > 0) & (cut == 0)
    thick = _farther_than(removed, thick_part * d, or_at=True)
    small[np.unique(labels[thick])] = True
    small[0] = False
    if small.any():
        back = _per_label(small, labels)
        cut[back] = labels[back]
        new[small] = old[small]
    return cut, level + (new - level) / trim


def _near_steep(labels, smooth, level, d, ids, grad, steep, sharp, among=_STEEP_AMONG,
                boxes=None) -> np.ndarray:
    """Per label 0..n, the rim gradient a nucleus is expected to reach: ``steep``, or for
    the labels ``ids`` with at least ``among`` (a number, or one per label 0..n) ``sharp``
    labels (a boolean per label: sharp against their ring, surely nuclei) within
    ``_STEEP_REACH`` d of their outline whose median :func:`_rim_gradient` is below
    ``steep``, ``_NEAR_STEEP`` times that median.

    A glow or a smudge is shallower than the nuclei around it; in a field blurred by
    0.1-0.2 d every nucleus's rim is below the sharp fields' 3.4 x contrast / d (challenge-
    like fields with the PSF widened x2: median 2.8, round 14), so the fixed bar took a
    fifth of them for glows. Only sharp neighbours count: around a saturated cell the glow's
    pieces and dim objects are shallow too and lowered the bar for smudges; and only where
    the sharp nuclei are shallower than ``steep``: on the cell-line ``halo`` and ``dim``
    fields they measure 3.4-3.9 around smudges of 2.2-3.0 (blurred challenge-like fields:
    median 3.0, 90 % below 3.42). Local (neighbours within a diameter, what the chunks'
    windows see whole), as the crowded splits."""
    n = int(labels.max())
    bar = np.full(n + 1, float(steep))
    reach = max(1, round(_STEEP_REACH * d))
    boxes = ndi.find_objects(labels) if boxes is None else boxes  # (given: the caller's)
    near_of, leasts = {}, np.broadcast_to(among, sharp.shape)
    for i in ids.tolist():
        box = _widened(boxes[i - 1], reach, labels.shape)
        obj = labels[box] == i
        ring = _crosses_dilated(obj, reach) & ~obj
        near = np.unique(labels[box][ring])
        near = near[(near > 0) & (near != i)]
        near = near[sharp[near]]
        if near.size >= (least := int(leasts[i])):
            near_of[i] = near, least
    if near_of:
        rims = _rim_gradient(labels, smooth, level, d, None, grad)
        for i, (near, least) in near_of.items():
            g = rims[near]
            g = g[np.isfinite(g)]
            if g.size >= least and (m := float(np.median(g))) < bar[i]:
                bar[i] = _NEAR_STEEP * m  # the nuclei around are themselves shallower
    return bar


def _rim_gradient(labels, smooth, level, d, ids=None, grad=None) -> np.ndarray:
    """Per label 0..n, the median gradient magnitude of ``smooth`` over its outermost
    pixels times ``d``, over its median contrast (``inf`` where it has none, and for 0).

    A nucleus's edge is a blurred step as high as its body: its rim's gradient is about its
    contrast over the blur (3.4-6.5 x contrast / d on the cell-line fields, 5 % and 95 %).
    The glow of a saturated cell decays over one to two diameters: its rim's gradient is
    1.0-2.3 x its median contrast / d, even where the local background's box cuts it off
    so that its ring is dark (:func:`_edge_sharpness` 0.42-0.64 there). With ``ids``, only
    those labels are measured (the others: inf).
    """
    n = int(labels.max())
    out = np.full(n + 1, np.inf)
    if n == 0:
        return out
    sel = labels if ids is None else _only(labels, np.isin(labels, ids))
    fg = sel > 0
    rim = fg & ~_binary_erosion(fg, ndi.generate_binary_structure(2, 1), 1)
    if not rim.any():
        return out
    if grad is None:
        grad = ndi.gaussian_gradient_magnitude(smooth, 1.0)
    edge = _label_quantile(grad, _only(sel, rim), n, 0.5)
    median = _label_quantile(smooth, sel, n, 0.5)
    has = np.isfinite(edge) & (median > level)
    has[0] = False
    out[has] = edge[has] * d / (median[has] - level)
    return out


def _split_at_steps(labels, markers, smooth, d, min_size_work, level, ids, *, step: float,
                    depth: float, body: float, bright_cell: float, gradient: float):
    """Split each label of ``ids`` where it holds a dimmer and a brighter nucleus.

    Its pixels are parted at Otsu's threshold of their contrast (``smooth`` over the
    background ``level``); the object holds two nuclei of different brightness if the
    dimmer class's median contrast is below ``step`` times the brighter's and each class
    has a core of its own: pixels at least ``depth * d`` from any pixel not in their class
    (inside the object) or outside it. One nucleus whose body dims towards its rim (a
    dome) has its dim class in a ring along its outline, thinner than that. Each nucleus
    has a body: the largest core of each class holds at least ``body`` times
    ``min_size_work`` pixels (a textured nucleus's foci or brighter side, or slivers of
    dim neighbours joined to a bright nucleus, barely reach that depth). An object whose
    maximum contrast exceeds ``bright_cell`` times its median is left alone (a saturated
    cell in its glow, which ``_edges._glow_nuclei`` takes apart). The largest core of each
    class seeds a watershed of the image's gradient magnitude (smoothed by
    ``gradient * d``), so the parts meet at the step; the object stays whole unless every
    part is one piece of at least ``min_size_work`` pixels. Per object, in its box: the
    chunked path gives the same. Returns the labels and the markers, a split object's
    markers replaced by one pixel per part (its largest distance to the object's outline);
    the arrays given, themselves, when no object was split.
    """
    from skimage.filters import threshold_otsu

    from ._basins import _watershed as watershed  # (skimage's, bit for bit)

    ids = np.asarray(ids, dtype=np.intp)
    if ids.size == 0:
        return labels, markers
    given = markers
    out, markers = labels.copy(), markers.copy()
    next_id, next_marker = int(labels.max()) + 1, int(markers.max()) + 1
    first_id = next_id
    boxes = ndi.find_objects(labels)
    rho = depth * d
    for i in ids.tolist():
        box = _widened(boxes[i - 1], 1, labels.shape)
        obj = labels[box] == i
        contrast = smooth[box] - level
        values = contrast[obj]
        if values.size < 2 or values.min() == values.max():
            continue
        bright = obj & (contrast > threshold_otsu(values))
        dim = obj & ~bright
        if not bright.any() or not dim.any():
            continue
        if np.median(contrast[dim]) >= step * np.median(contrast[bright]):
            continue
        if values.max() > bright_cell * np.median(values):
            continue  # a bright (saturated) cell in its glow: _edges parts those
        seeds = np.zeros(obj.shape, np.int32)
        count = 0
        for cls in (bright, dim):  # the largest core of each
            comp, m = ndi.label(ndi.distance_transform_edt(cls) >= rho)  # box: a rim of 0
            if m == 0:
                break
            sizes = np.bincount(comp.ravel(), minlength=m + 1)
            sizes[0] = 0
            if sizes.max() < body * min_size_work:
                break  # no body: foci, a textured nucleus's side, neighbours' slivers
            count += 1
            seeds[comp == int(np.argmax(sizes))] = count
        if count < 2:
            continue
        grad = ndi.gaussian_gradient_magnitude(smooth[box], d * gradient)
        split = watershed(grad, seeds, mask=obj)
        sizes = np.bincount(split[obj], minlength=count + 1)[1:]
        if sizes.min() < min_size_work or any(
                ndi.label(split == j)[1] != 1 for j in range(1, count + 1)):
            continue
        region, seeds_at = out[box], markers[box]
        dist = ndi.distance_transform_edt(obj)
        seeds_at[obj] = 0
        for j in range(1, count + 1):
            part = split == j
            if j > 1:
                region[part] = next_id
                next_id += 1
            seeds_at.flat[np.argmax(np.where(part, dist, -np.inf))] = next_marker
            next_marker += 1
    return (out, markers) if next_id > first_id else (labels, given)
