"""Per-object outlines and glows of the default nuclei recipe (issue 14, round 5).

Nuclei with bright foci whose body thins towards the rim are outlined where their edge
against the local background is, not inside it; dim nuclei sitting on the glow of a much
brighter cell are told from that glow. Kept apart from :mod:`._recipe`, which calls
:func:`_edges_and_glows`; everything here is computed per object in its own box (a
diameter or less around it), so chunks with their margin give the same labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .._label_image import (
    _edge_ids,
    _label_moments,
    _mask_box,
    _per_label,
    _square_dilated,
    _square_filter,
    _structure,
    _widened,
)
from .._quantiles import _quantile
from ._cues import _edge_sharpness, _fill_holes, _label_max, _label_quantile, _rim_gradient
from ._glare import _streak_chains
from ._in_box import _box_around, _in_box_of
from ._ridge import _is_glare, _long_candidates

_REACH = 0.3  # outlines move out by at most this times d
_BODY = 0.3  # ... to the edge measured below this quantile of the nucleus's pixels
_LOWEST = 0.4  # ... a cut being lowered to no less than this fraction of its contrast
_FOCI = 1.6  # ... for nuclei whose maximum contrast exceeds this times their median one
_BRIGHT = 3.0  # an object whose maximum contrast exceeds this times its median one, and
_GLOW_Q = 0.3  # ... whose part above half its maximum is a nucleus, glows: the glow is
# this quantile of the image at each distance from that part; dim nuclei stand above it
_NEAR = 0.15  # ... (not within this times d of the bright part, its blurred edge)
_GLOW_STEEP = 2.5  # ... whose rim's gradient is at least this x their median contrast / d
_GLOW_FALL = (3.5, 0.8)  # ... or (round 14) whose rim's gradient is at least this x the
# glow's own fall per d at the rim's distances, and this fraction of the bound above
_CELL = 6.0  # a label whose maximum contrast exceeds this times its median one, whose rim
# is lost in a glow, and whose part above half its maximum holds a nucleus's core, is a
# saturated cell in its glow (8-60x a nucleus; chromocenters are 2-4x their nucleus's body)
_STREAK = (3.0, 0.26, 1.5)  # glare: elongation at least, inscribed radius below (x d), and
# length at least (x d)
_LONG = (4.0, 0.4, 2.0)  # ... or, that elongated, long and thin, however wide (round 11)
_PIECE = (2.3, 0.26, 0.85, 0.25)  # a piece of glare cut short by the nucleus it crosses: elongated
# and thin as these, touching another label beyond this fraction of its half-length, along
# less than this fraction of its outline's length


def _edges_and_glows(labels, smooth, level, d, peak, min_area, trim: float,
                     border=(True, True, True, True)):
    """:func:`_edge_outlines` then :func:`_glow_nuclei`, from the same per-label median
    and maximum, then :func:`_streaks` (``border``: which sides are the image's); returns
    the labels, the peaks (``level + trim * (peak - level)`` is each label's cut) and
    whether the labels changed."""
    n = peak.size - 1
    if not labels.any():
        return labels, peak, False
    median = _label_quantile(smooth, labels, n, 0.5)
    high = _label_max(smooth, labels, n)
    body = np.where(median > level, median - level, np.inf)  # no ratio: 1e300 overflows
    body[0] = np.inf
    out, peak, grown = _edge_outlines(labels, smooth, level, d, peak,
                                      high - level > _FOCI * body, trim=trim)
    out, peak, split = _glow_nuclei(out, smooth, level, d, peak, high,
                                    high - level > _BRIGHT * body, min_area, trim=trim)
    streaks = _streaks(out, d, border=border, smooth=smooth, level=level)
    if streaks.any():
        out = np.where(streaks[out], 0, out)
    return out, peak, grown or split or bool(streaks.any())


def _streaks(labels, d, shape=_STREAK, long=_LONG, piece=_PIECE,
             border=(True, True, True, True), smooth=None, level=None) -> np.ndarray:
    """Per label 0..n, whether it is a glare streak: elongated (the square root of the
    ratio of its inertia moments at least ``shape[0]``), thin (the largest disc inside it
    of radius below ``shape[1] * d``) and long (four standard deviations along its long
    axis at least ``shape[2] * d``).

    Measured on the cell-line fields (``benchmarks/nuclei_cellline.py``, tuned seeds): the
    streaks kept as objects have elongation 3.2-12, radius 0.19-0.25 d, length 1.6-4.5 d;
    of the nuclei, none is elongated more than 2.7 but the small pieces cut by the image
    border (length below 0.9 d). The margin on the radius is thin: a U2OS nucleus (dna-44)
    has elongation 3.26, length 2.0 d and radius 0.28 d (dropped with a bound of 0.3 d).
    Moments by bincounts (:func:`_label_moments`), the radius from one distance transform
    in which touching labels are parted.

    Round 11: also a streak, what is elongated ``long[0]``, long ``long[2] * d`` and thinner
    than ``long[1] * d`` (wide streaks 4.4-9 x elongated, radius 0.31-0.38 d; no nucleus, nor
    piece of one cut by the border, is elongated 4x and 2 d long); and a *piece* of glare
    cut short by a nucleus it crosses: elongated ``piece[0]``, thinner than ``piece[1] *
    d``, and touching another label at an end of its long axis (beyond ``piece[2]`` of its
    half-length, taken as two standard deviations): 2.3-3.1 x elongated, radius 0.21-0.26 d.
    Nuclei that thin and elongated (2.2-3.5 x, on the cell-line fields and U2OS) touched no
    other label at their ends, except the pieces of nuclei cut by the image border: shallow
    caps that end on their neighbours (U2OS dna-5, dna-33). So the piece rule leaves the
    labels on the image border alone (``border``: which sides of ``labels`` are the image's).

    Round 31 (``smooth`` and ``level`` given): also a streak, what is elongated and long
    (:data:`._ridge.RIDGE`), flat along its ridge and shallow at its rim
    (:func:`._ridge._is_glare`), however wide: wide streaks and their pieces, 0.5-1 d
    across like an elongated nucleus. And a streak cut across into pieces: thin pieces
    chained end to end into a long band (:func:`._glare._streak_chains`); a short piece
    ending on such a streak is not thereby a piece (it must end on a label not a streak).
    The ridge verdicts are added last: the chains and the piece rule do not count them as
    streaks (each of the three rules was tuned without the others).
    """
    n = int(labels.max())
    out = np.zeros(n + 1, bool)
    if n == 0:
        return out
    moments = _label_moments(labels, n)
    _, mean_r, mean_c, srr, scc, src = moments
    half = np.sqrt(0.25 * (srr - scc) ** 2 + src**2)
    big, small = 0.5 * (srr + scc) + half, 0.5 * (srr + scc) - half
    streak = (big >= (shape[2] * d / 4) ** 2) & (big >= shape[0] ** 2 * small)
    wide = (big >= (long[2] * d / 4) ** 2) & (big >= long[0] ** 2 * small)
    short = big >= piece[0] ** 2 * small
    short[_edge_ids(labels, border)] = False
    ridged = _long_candidates(big, small, d) if smooth is not None else np.zeros_like(short)
    candidates = (streak | wide | short | ridged) & (big > 0)  # absent labels: no moments
    candidates[0] = False
    boxes = ndi.find_objects(labels) if candidates.any() else []
    angle = 0.5 * np.arctan2(2 * src, srr - scc)  # the long axis, (rows, cols) = (cos, sin)
    pieces, ridge = [], np.zeros_like(out)
    for i in np.flatnonzero(candidates):  # the radius in their own boxes (most have none)
        box = _widened(boxes[i - 1], 1, labels.shape)
        lab = labels[box]
        own = lab == i
        parted = own & (ndi.maximum_filter(lab, 3) == ndi.minimum_filter(lab, 3))
        dist = ndi.distance_transform_edt(parted)
        radius = dist.max() + 1.0
        if (radius < shape[1] * d and streak[i]) or (radius < long[1] * d and wide[i]):
            out[i] = True
        elif radius < piece[1] * d:
            pieces.append((i, box, lab, own))
        if ridged[i] and not out[i]:  # flat along its ridge, shallow rim (round 31)
            ridge[i] = _is_glare(labels, smooth, level, d, i, box, boxes[i - 1], dist)
    out |= _streak_chains(labels, d, moments, out)  # a streak cut across (round 31)
    for i, box, lab, own in pieces:  # a short piece: does it end on a label not a streak?
        touch = _square_dilated(own) & ~out[lab] & (lab > 0) & ~own
        r, c = np.nonzero(touch)
        along = ((r + box[0].start - mean_r[i]) * np.cos(angle[i])
                 + (c + box[1].start - mean_c[i]) * np.sin(angle[i]))
        rim = own & ~ndi.binary_erosion(own)
        out[i] = (r.size > 0 and np.abs(along).max() >= piece[2] * 2 * np.sqrt(big[i])
                  and r.size < piece[3] * rim.sum()) or out[i]  # not a sliver between nuclei
    return out | ridge


def _own_distance(own, own_box, box) -> np.ndarray:
    """``ndi.distance_transform_edt(own)`` for ``own``, one label's pixels in the window
    ``box`` of the image (slices), all of them inside ``own_box`` (the label's box, image
    coordinates), computed over ``own_box`` widened by one pixel only.

    Exact (round 22; the window reaches two bands and two pixels past it): the nearest
    0 of a pixel of a 4-connected piece of ``own`` lies in that piece's box widened by one
    pixel (see ``_label_image._mask_distance``), inside the widened ``own_box``; the
    transform over it finds an offset of the same length, so the same float. Pixels
    outside ``own`` are 0 either way."""
    sub = tuple(slice(max(o.start - w.start - 1, 0), min(o.stop - w.start + 1, w.stop - w.start))
                for o, w in zip(own_box, box, strict=True))
    out = np.zeros(own.shape)
    out[sub] = ndi.distance_transform_edt(own[sub])
    return out


def _gradient_at(img, used) -> np.ndarray:
    """``np.hypot(*np.gradient(img))[used]``, bit for bit, from the pixels next to the
    ``used`` ones only (round 50: a label's band is a few hundred of its box's thousands):
    numpy's differences, central ones halved inside, one-sided ones at the sides."""
    if min(img.shape) < 2:  # (numpy's error)
        return np.hypot(*np.gradient(img))[used]
    at = np.nonzero(used)
    steps = []
    for axis in (0, 1):
        k, size = at[axis], img.shape[axis]
        lo, hi = list(at), list(at)
        lo[axis], hi[axis] = np.maximum(k - 1, 0), np.minimum(k + 1, size - 1)
        diff = img[tuple(hi)] - img[tuple(lo)]
        steps.append(np.where((k > 0) & (k < size - 1), diff / 2.0, diff))
    return np.hypot(*steps)


def _edge_outlines(labels, smooth, level, d, peak, textured, *, trim: float,
                   reach: float = _REACH, body: float = _BODY, lowest: float = _LOWEST):
    """Move the outline of each ``textured`` label out to the level of its edge.

    The outlines of :func:`._cues._rim_outlines` are cut half-way between the body a
    little inside the rim and the background. A nucleus with bright foci on a nucleoplasm
    that thins towards its rim (the projected thickness of an ellipsoid) rises steeply
    inwards from its edge, so that cut lies inside the edge, and where the texture dips
    the outline follows the dip: ragged, too tight outlines (0.84 of the true area on the
    synthetic textured fields).

    For such a label (``textured``: its maximum contrast is far above its median one), the
    level of its edge is the mean of the image weighted by its gradient magnitude over a
    band of ``reach * d`` on either side of its outline (its pixels, and the background
    pixels nearest to it), counting only the pixels between the background and the
    label's ``body`` quantile (its foci and its centre left out): the foot of its steep
    part. Its cut is only lowered, to no less than ``lowest`` of its contrast, and it
    grows into the background pixels nearest to it, within ``reach * d``, above its new
    cut and connected to it. Labels without foci are left as they are.
    """
    ids = np.flatnonzero(textured)
    if ids.size == 0:
        return labels, peak, False
    band = reach * d
    pad = int(np.ceil(2 * band)) + 2  # a band pixel's nearest label lies within 2 bands
    boxes = ndi.find_objects(labels)
    out, peak = labels.copy(), peak.copy()
    changed = False
    for i in ids:
        if i > len(boxes) or boxes[i - 1] is None:
            continue
        box = _widened(boxes[i - 1], pad, labels.shape)
        lab, img = labels[box], smooth[box]
        inside = lab > 0
        outside, (ri, ci) = ndi.distance_transform_edt(~inside, return_indices=True)
        own = lab == i
        mine = own | (~inside & (lab[ri, ci] == i))  # its pixels and the nearest to it
        near = mine & (np.where(own, _own_distance(own, boxes[i - 1], box), outside) <= band)
        cut = level + trim * (peak[i] - level)
        top = _quantile(img[own], body)  # (np.quantile's, bit for bit)
        used = near & (img > level) & (img < top)
        if not used.any():
            continue
        weight = _gradient_at(img, used)
        if not weight.max() > 0:
            continue
        weight /= weight.max()  # products stay finite on images of 1e300
        edge = level + float(np.sum(weight * (img[used] - level)) / weight.sum())
        new = min(cut, max(edge, level + lowest * (cut - level)))
        if new >= cut:
            continue
        peak[i] = level + (new - level) / trim
        grow = near & ~inside & (img > new)
        if grow.any():
            parts, m = ndi.label(grow | own, _structure(own.ndim))
            joined = np.zeros(m + 1, dtype=bool)  # the parts holding its pixels (a table:
            joined[parts[own]] = True  # np.isin of np.unique's, without the sorts)
            keep = _per_label(joined, parts) & grow & (out[box] == 0)
            out[box][keep] = i
            changed = True
    return out, peak, changed


def _glow_nuclei(labels, smooth, level, d, peak, high, bright, min_area, *, trim: float,
                 quantile: float = _GLOW_Q, core_area=None, rescued=None, necks=None):
    """Split the dim nuclei off a ``bright`` label's glow; the glow becomes background.

    A saturated mitotic or apoptotic cell shines far above the typical nucleus and its
    out-of-focus glow reaches the dim nuclei around it: one object holds the bright cell,
    its glow, and the dim nuclei on it, which are shoulders on the glow's slope, with no
    cut of their own (a cut per region was tried: docs/nuclei-history.md). The glow falls off
    with the distance from the bright cell alike in every direction, a nucleus on it
    only over the angle it covers. So for a label whose part above half its maximum is a
    nucleus (at least ``min_area``; foci are far smaller) and whose maximum contrast is
    far above its median one (``bright``), the glow at each whole-pixel distance from that
    part is the ``quantile`` of the image there (over the background and the label's own
    pixels in its box). Where the label's other pixels stand above the glow, each part
    cut at half its own height over the glow, if at least ``min_area``, becomes a nucleus
    (holes filled), outlined at its lowest level; the rest of the label's dim pixels, if
    any part was found, is background. The bright part keeps the label.

    Before the trim (``core_area`` given: saturated cells of :func:`_bright_cells`), a
    part's height is the highest point of the glow's excess within ``d / 2`` of it, foci
    opened away and the bright part's blurred edge (``_NEAR * d``) left out: the highest
    point of a whole connected part was that edge, and the dim nuclei on the glow, whose
    foci are 2-4x their body, fell below half of it or came out in shreds. Such a part is
    a nucleus only with a rim as steep as a nucleus's (``_GLOW_STEEP``, see
    :func:`._cues._rim_gradient`): pieces of the glow's slope are not. After the trim the
    first rule stays (with the second, a glow without a saturated cell in it was cut into
    a nucleus-sized piece of glow and the dim nuclei it holds: tests/test_nuclei.py
    ``test_combined_hard_field``, F1 0.923 -> 0.911).

    Round 14: a dim nucleus whose contrast over the background is mostly the glow under it
    falls short of that bound (rims 0.86-0.88 of it), as do the glow's pieces (0.44-1.08).
    But its rim is steeper than the glow's own fall at those distances from the bright
    part (the difference of the glow's quantile between consecutive distances, x d): the
    nuclei's rims 3.9-27 x that fall, the pieces of glow 0.7-3.0 (one at 4.9, and rim 0.76
    of the bound) on the round-13 seeds. So a part whose rim is ``_GLOW_FALL[0]`` x the
    glow's fall and at least ``_GLOW_FALL[1]`` of the bound is a nucleus too; its pixels
    are marked in ``rescued`` (a boolean image, if given): it fades into the glow around
    it, and :func:`._cues._drop_unsharp` would drop it.

    Round 17: a part kept that holds two dim nuclei side by side (and the glow between
    them) is cut at the necks of its distance transform, as the recipe seeds touching
    nuclei (``necks``, see :func:`_at_necks`): a pair stayed one object, which no later
    split divides (measured: tuned `fibroblast` seed 1, one nucleus more found; the stress
    test's saturated fields of seed 0, one spurious piece of glow fewer).

    Round 21: before the trim the part is cut at its necks *before* the rim test, and each
    piece is tested on its own outline (without the cut between the pieces): a part
    holding a dim nucleus and a stretch of glow (or two nuclei and the glow between) failed
    the test as a whole, and its nuclei were lost with the glow (tuned `dim` 1 nucleus 16,
    round-13 `halo` 30 nucleus 6).

    Round 39: before the trim each part is first cut again at half its height over the
    glow's excess on its own ring (:func:`_over_own_ring`): where the illumination is
    uneven the quantile at each distance is the glow's dark side, and the half cut took in
    the glow round a dim nucleus on its bright side. Those pieces are tested instead of the
    part; the part itself only when none passes and they hold ``_OWN_KEEP`` of it (the rim
    read at the higher cut is shallower: a nucleus found whole before stays found).
    """
    ids = np.flatnonzero(bright)
    if ids.size == 0:
        return labels, peak, False
    boxes = ndi.find_objects(labels)
    out = labels.copy()
    pad = int(np.ceil(d))
    top, added = int(peak.size - 1), []
    for i in ids:
        if i > len(boxes) or boxes[i - 1] is None:
            continue
        box = _widened(boxes[i - 1], pad, labels.shape)
        img, region = smooth[box], out[box]
        rest, pieces = _glow_pieces(labels[box], img, i, high[i], level, d, min_area,
                                    quantile=quantile, core_area=core_area, necks=necks)
        for piece, faint in pieces:
            top += 1
            region[piece] = top
            if faint and rescued is not None:
                rescued[box][piece] = True
            added.append(level + (float(img[piece].min()) - level) / trim)
        if pieces:  # the label's dim pixels are the glow, the bright part keeps the label
            region[rest & (region == i)] = 0
    if not added:
        return labels, peak, False
    return out, np.concatenate([peak, added]), True


def _glow_pieces(lab, img, i, high, level, d, min_area, *, quantile, core_area, necks):
    """:func:`_glow_nuclei` for one bright label ``i`` in its box (``lab``, ``img``; its
    maximum ``high``): its dim pixels (boolean) and the pieces split off them that are
    nuclei, in order, each with whether it is faint (see :func:`_nucleus_pieces`); no
    piece when its part above half its maximum is smaller than a nucleus (``min_area``,
    or ``core_area`` before the trim) or is the whole label."""
    obj = lab == i
    core = obj & (img > level + 0.5 * (high - level))
    rest = obj & ~core
    if core.sum() < (min_area if core_area is None else core_area) or not rest.any():
        return rest, []
    dist = np.rint(ndi.distance_transform_edt(~core)).astype(np.int64)
    ring = np.where(((lab == 0) | obj) & ~core, dist, 0)
    glow = _label_quantile(img, ring, int(dist.max()), quantile)
    glow[0] = np.inf
    above = img - glow[dist]
    if core_area is None:  # after the trim: each part cut at half its highest point
        parts, k = ndi.label(rest & (above > 0))
        if k == 0:
            return rest, []
        height = _label_max(above, parts, k)  # (ndi.maximum's, without its sort)
        height[0] = np.inf
        found, m = ndi.label(rest & (above > 0.5 * height[parts]))
        test = _RimTest(img, level, min_area, necks, None, None, dist)
        sizes = np.bincount(found.ravel(), minlength=m + 1)
        wholes = [_fill_holes(found == j) & obj for j in np.flatnonzero(sizes[1:] >= min_area) + 1]
        return rest, [hit for whole in wholes for hit in _nucleus_pieces(whole, test)]
    seen = _GlowBox(lab, img, obj, core, rest, dist, glow, above)
    groups, test = _groups_before_trim(seen, level, d, min_area, necks)
    kept = []
    for tries in groups:  # per part: its tighter pieces first, then the part itself
        for group in tries:
            got = [hit for part in group for hit in _nucleus_pieces(part, test)]
            if got:
                kept += got
                break
    return rest, kept


@dataclass(frozen=True)
class _GlowBox:
    """One bright label's box as :func:`_glow_pieces` reads it before the trim: the labels
    ``lab`` and the smoothed image ``img`` there, the label ``obj``, its bright ``core`` and
    dim ``rest`` (booleans), each pixel's whole distance from the core (``dist``), the
    glow's quantile at each distance (``glow``) and each pixel's excess over it
    (``above``)."""

    lab: np.ndarray
    img: np.ndarray
    obj: np.ndarray
    core: np.ndarray
    rest: np.ndarray
    dist: np.ndarray
    glow: np.ndarray
    above: np.ndarray


def _groups_before_trim(g: _GlowBox, level, d, min_area, necks):
    """Before the trim, :func:`_glow_pieces`'s parts (see :func:`_glow_nuclei`) of the
    label's box ``g`` with the pieces to test for each, in order (a list of lists of
    boolean parts: round 39's pieces over its own ring, then the part itself if they hold
    ``_OWN_KEEP`` of it), and the :class:`_RimTest` they are tested with. Each part is cut
    at half its own height over the glow: the highest point within d/2 of it, away from
    the core's steep blurred edge (a part's maximum was that edge, and the nuclei on the
    glow fell below half of it), foci (0.05-0.1 d) opened away."""
    away = g.rest & (g.above > 0) & (g.dist > _NEAR * d)
    size = 2 * max(1, round(d / 2)) + 1
    foci = 2 * max(1, round(d / 10)) + 1  # (ndi.grey_opening and maximum_filter, exactly)
    body = _square_filter(_square_filter(np.where(away, g.above, 0), foci, False), foci, True)
    local = _square_filter(body, size, True)
    found, m = ndi.label(away & (g.above > 0.5 * local))
    sizes = np.bincount(found.ravel(), minlength=m + 1)
    grad = ndi.gaussian_gradient_magnitude(g.img, 1.0) * d
    # the glow's fall from each distance to the next, x d
    falls = np.abs(np.diff(np.where(np.isfinite(g.glow), g.glow, np.nan), prepend=np.nan))
    falls = np.nan_to_num(falls, nan=0.0) * d
    free = ((g.lab == 0) | g.obj) & ~g.core & (found == 0)
    groups = []
    for j in np.flatnonzero(sizes[1:] >= min_area) + 1:
        whole = _fill_holes(found == j) & g.obj
        # round 39: the part cut again at half its height over the glow's excess on its
        # own ring, where that excess is above 0 (not another part)
        tries = _over_own_ring(whole, g.above, local, free, d, min_area,
                               g.obj & ((found == j) | (found == 0)))
        if tries is None:
            groups.append([[whole]])
        elif sum(int(t.sum()) for t in tries) >= _OWN_KEEP * whole.sum():
            groups.append([tries, [whole]])  # trimmed little: the part if none passes
        else:
            groups.append([tries])
    return groups, _RimTest(g.img, level, min_area, necks, grad, falls, g.dist)


@dataclass(frozen=True)
class _RimTest:
    """What :func:`_nucleus_pieces` reads in one bright label's box of
    :func:`_glow_nuclei`: the smoothed image and the background ``level``, the minimum
    size and ``necks`` of the cut at necks, each pixel's whole distance from the bright
    core (``dist``) and, before the trim only, the image's gradient x d (``grad``) and
    the glow's fall from each whole distance to the next x d (``falls``); after the trim
    those two are None and no piece is rim-tested."""

    img: np.ndarray
    level: float
    min_area: int
    necks: object
    grad: np.ndarray | None
    falls: np.ndarray | None
    dist: np.ndarray


def _nucleus_pieces(part, test: _RimTest) -> list:
    """:func:`_glow_nuclei`'s test of one part (boolean, in the label's box): its pieces,
    cut at their necks before the trim, that are nuclei, each with whether it is faint
    (it passed on its rim's steepness over the glow's own fall, not on the bound: it fades
    into the glow around it and is marked in ``rescued``)."""
    out = []
    # before the trim, two dim nuclei in one part, or one beside a stretch of the glow,
    # are cut at their necks first and each piece is tested on its own
    pieces = _at_necks(part, test.min_area, test.necks)  # itself without ``necks``
    for piece in pieces:
        faint = False
        if test.grad is not None:  # before the trim
            edge = piece & ~ndi.binary_erosion(piece)
            if len(pieces) > 1:  # its outline, not the cut between the pieces
                outer = edge & ~ndi.binary_dilation(part & ~piece)
                edge = outer if outer.any() else edge
            rim = float(np.median(test.grad[edge]))
            bound = _GLOW_STEEP * float(np.median(test.img[piece]) - test.level)
            if rim < bound:  # a nucleus on the glow is still steeper than the glow
                falls = test.falls
                fall = float(np.median(falls[np.clip(test.dist[edge], 1, falls.size - 1)]))
                if not (0 < fall * _GLOW_FALL[0] <= rim and rim >= _GLOW_FALL[1] * bound):
                    continue  # a piece of the glow's slope, not a nucleus's edge
                faint = True
        out.append((piece, faint))
    return out


#: round 39: a glow-split part's own ring, the pixels within this many d outside it
_OWN_RING = 0.25
#: ... and the part itself tested when none of its pieces passes and they hold at least
#: this share of it
_OWN_KEEP = 0.75


def _over_own_ring(part, above, local, free, d, min_area, obj):
    """The pieces (each at least ``min_area``, holes filled, within ``obj``: the bright
    label less the other parts, which a part's filled holes may hold) of a part of the
    glow split (``part``, boolean) cut again at half its own height over the glow's
    excess on its ring: its pixels where ``above`` (the image over the glow's quantile
    at each distance) exceeds half-way from the median of ``above`` over its ring (the
    ``free`` pixels within ``_OWN_RING`` d of it: background or the bright label's, not
    its core nor another part) to its height ``local``. None when the ring is empty or
    its median is not above 0 (the cut would be the part's own); an empty list when no
    piece holds ``min_area`` (the part was the glow round a nucleus too dim to stand out
    of it, or the glow alone: it is not split off).

    The glow's quantile at each whole distance from the saturated cell is the same all
    round it, but the glow is not where the illumination is uneven (``uneven d32``: 2-3x
    across the field) or two glows overlap: on its bright side the excess around a dim
    nucleus is a good part of its height, and the half cut took in the glow round it
    (a piece 1.5-3x the nucleus whose rim is the glow's, then lost at the rim test, or
    kept with its apron). Over its ring, the cut sits at half the nucleus's own contrast
    above what the glow adds there. Everything is read in the part's box widened by the
    ring (a square: symmetric under flips and turns), inside the bright label's box."""
    r = max(1, round(_OWN_RING * d))
    box = _mask_box(part, r)
    own = part[box] & obj[box]
    ring = _square_dilated(own, 2 * r + 1) & ~own & free[box]
    if not ring.any():
        return None
    base = float(np.median(above[box][ring]))
    if not base > 0:
        return None
    pieces, k = ndi.label(own & (above[box] > 0.5 * (local[box] + base)))
    sizes = np.bincount(pieces.ravel(), minlength=k + 1)
    out = []
    for t in np.flatnonzero(sizes[1:] >= min_area) + 1:
        piece = np.zeros(part.shape, bool)
        piece[box] = _fill_holes(pieces == t) & obj[box]
        out.append(piece)
    return out


def _at_necks(part, min_area, necks):
    """The pieces of a boolean ``part``: itself, or, when ``necks`` = (area, sigma, h) is
    given and it holds more than ``area`` pixels, its pieces split at their necks as the
    recipe splits touching nuclei (:func:`._markers._split_at_necks_of`, distance smoothed
    by ``sigma``, h-maxima of height ``h``) that hold ``min_area``; itself if fewer than
    two do."""
    if necks is None or np.count_nonzero(part) <= necks[0]:
        return [part]
    from ._markers import _split_at_necks_of

    basins, markers, _ = _split_at_necks_of(part, necks[1], necks[2])
    if markers.max() < 2:
        return [part]
    pieces = [basins == k for k in range(1, int(basins.max()) + 1)]
    pieces = [p for p in pieces if np.count_nonzero(p) >= min_area]
    return pieces if len(pieces) > 1 else [part]


def _bright_cells(labels, smooth, level, peak, d, core_area, *, sharp: float,
                  ratio: float = _CELL, steep: float = _GLOW_STEEP,
                  cluster: float = np.inf) -> np.ndarray:
    """Per label 0..n, whether it is a saturated cell in its out-of-focus glow.

    Three measured cues, all needed: its maximum contrast (``peak``) exceeds ``ratio``
    times its median one; its rim is lost in the glow (:func:`._cues._edge_sharpness`
    below ``sharp``, or its rim's gradient below ``steep`` times its median contrast / d,
    :func:`._cues._rim_gradient`, for a glow whose ring the local background's box left
    dark: a nucleus holding or touching a bright body has its own edge, U2OS dna-11); and
    its part above half its maximum holds a piece of at least ``core_area``
    (a nucleus's core; chromocenters are far smaller, and far dimmer). The 30 % cut of such
    a label takes its own peak, not the foci cap of :func:`._cues._unless_foci`, under
    which the glow around a condensed mitotic cell (smaller than a nucleus) was kept as
    one object two to four nuclei wide, with the dim nuclei on it.

    Round 17: a label larger than ``cluster`` pixels (the recipe's clusters, three
    nucleus areas) needs no lost rim. Its rim is not the bright body's edge but that of
    the dim nuclei the glow joined to it, all around it (cell-line `dim` and `uneven d32`
    fields: seven such labels, 3.1-13 nucleus areas, rims 2.6-4.3 x their contrast / d,
    each a saturated cell with one to four dim nuclei); a nucleus holding a bright body
    (U2OS dna-11) is about one nucleus area.
    """
    out = np.zeros(peak.size, bool)
    median = _label_quantile(smooth, labels, peak.size - 1, 0.5)
    far = (peak - level) > ratio * np.maximum(median - level, 0)
    far[0] = False
    if not far.any():
        return out
    ids = np.flatnonzero(far)  # (read for those labels only, in their box: ``_in_box``)
    at = _box_around(labels, ids)
    lost = _in_box_of(ids, d / 10, _edge_sharpness, labels, smooth, level, d, around=at) < sharp
    if steep > 0:  # (the gradient's Gaussian reaches 4 px)
        lost |= _in_box_of(ids, 4, _rim_gradient, labels, smooth, level, d, ids,
                           around=at) < steep
    if np.isfinite(cluster):  # the rim of a cluster is its dim nuclei's (round 17)
        lost |= np.bincount(labels.ravel(), minlength=peak.size) > cluster
    far &= lost
    if not far.any():
        return out
    top = np.where(_per_label(far, labels),
                   smooth > _per_label(level + 0.5 * (peak - level), labels), False)
    pieces, k = ndi.label(top)
    if k == 0:
        return out
    area = np.bincount(pieces.ravel(), minlength=k + 1)
    owner = np.zeros(k + 1, np.int64)
    owner[pieces.ravel()] = labels.ravel()
    out[owner[np.flatnonzero(area[1:] >= core_area) + 1]] = True
    out[0] = False
    return out
