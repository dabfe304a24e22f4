"""Dim nuclei the global foreground cut missed (issue 14, rounds 10 and 18b).

Saturated cells and bright nuclei pull the log-Otsu cut up to the contrast of nuclei only
1.3-2x over their local background: :func:`_dim_nuclei` adds them from a lower level,
each cut at half its own contrast, and :func:`_dim_kept` gives the outline it found back
to the nucleus after the per-nucleus trim. Kept apart from :mod:`._cues` (its rim and
sharpness cues), which :mod:`._recipe` calls too.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import convex_hull_image

from .._label_image import (
    _mask_box,
    _only,
    _per_label,
    _square_dilated,
    _square_filter,
    _structure,
    _widened,
)
from ._background import _robust_level
from ._carve import _add_or_carve, _split_at_points
from ._cues import _edge_sharpness, _label_quantile, _rim_gradient
from ._in_box import _box_around, _in_box_of
from ._saturated import _GLOW_REACH, _cell_limits, _reach_box, _saturated
from ._slivers import _small_piece, _with_slivers
from ._unflat import _with_unflat

#: a dim part's own ring: the pixels within this many d outside it
_RING = 0.25


def _own_ring(sel, smooth, d, n) -> np.ndarray:
    """Per label 0..n of ``sel``, the median of ``smooth`` over the pixels outside every
    label within ``_RING * d`` (a square, symmetric under flips and turns) of it and of no
    other label (-inf where there are none, and for 0).

    A ring pixel near two labels belongs to neither: giving it to one (the larger id, as a
    maximum filter does) would settle the tie by the labels' raster order, which a flip
    of the image changes."""
    r = max(1, round(_RING * d))
    box = _mask_box(sel, r)  # the candidates and their rings (its ids > 0)
    sel = sel[box].astype(np.uint16 if n < 2**16 - 1 else np.int64)  # a faster filter
    top = _square_filter(sel, 2 * r + 1, True, mode="constant", cval=0)
    bottom = _square_filter(np.where(sel > 0, sel, n + 1).astype(sel.dtype), 2 * r + 1,
                            False, mode="constant", cval=n + 1)
    ring = (sel == 0) & (top > 0) & (top == bottom)
    return _label_quantile(smooth[box], np.where(ring, top, 0), n, 0.5)


def _own_half_cut(comp, cand, smooth, level, d, n):
    """(per label 0..n of ``comp`` its base, ``comp``'s candidate parts ``cand`` cut at half
    their own contrast): the base is the part's own ring (:func:`_own_ring`) where that
    lies below ``level``, else ``level``; the cut keeps each part's pixels above half-way
    from its base to its median."""
    sel = _only(comp, _per_label(cand, comp))
    median = _label_quantile(smooth, sel, n, 0.5)
    ring = _own_ring(sel, smooth, d, n)
    base = np.where(np.isfinite(ring) & (ring < level), ring, level)
    half = base + 0.5 * (median - base)
    half[0] = np.inf
    return base, _only(sel, smooth > half[sel])


def _dim_nuclei(smooth, mask, level, low, d, min_area, *, most: float, steep: float,
                sharp: float, parts: bool = False):
    """``mask`` with the dim nuclei the global cut missed: each connected part of ``smooth
    > low`` of ``min_area`` to ``most`` nucleus areas adds its pixels above half its median
    contrast, when they hold ``min_area``, some of them outside the foreground, and their
    edge is a nucleus's: its rim as steep (:func:`_rim_gradient` at least ``steep``) and
    as sharp against its ring (:func:`_edge_sharpness` at least ``sharp``). With
    ``parts``, also the pixels it added, labelled by part (0 elsewhere).

    The log-Otsu cut is one level for the whole field; saturated cells and bright nuclei
    pull it up to the contrast of nuclei only 1.3-2x over their local background, which
    then never enter the foreground or enter it by a sliver below the minimum size
    (``benchmarks/nuclei_cellline.py``, ``dim``: 12 of the 28 missing nuclei of the tuned
    and held-out seeds). Cut at half its own contrast, such a part is where its edge is;
    the rim test leaves out the slopes of glows and the flattening's residue (rim gradient
    1.0-2.3 x contrast / d; nuclei 3.4-6.5); the sharpness, set well above the cut of
    :func:`_drop_unsharp`, the faint out-of-focus smudges of U2OS that no annotator drew
    (0.41-0.78; the dim nuclei found: 0.80-1.12). Parts are bounded in size (a few nuclei), so
    the test is local and chunks with their margin see the same parts.

    Its contrast is measured from its own ring (:func:`_own_ring`) where that lies below
    the global ``level`` (round 18b): beside a saturated cell the flattened image around a
    textured dim nucleus is 0 while the level is 3-5, and half-way from the level cut it
    into pieces below the minimum size. The cut is never raised above the level's.
    """
    comp, n = ndi.label(smooth > low, _structure(smooth.ndim))
    none = np.zeros(smooth.shape, np.int32) if parts else None
    if n == 0:
        return (mask, none) if parts else mask
    area = np.bincount(comp.ravel(), minlength=n + 1)
    inside = np.bincount(comp.ravel(), weights=mask.ravel(), minlength=n + 1)
    nucleus = np.pi * d * d / 4
    cand = (area >= min_area) & (area <= most * nucleus) & (inside < area)
    cand[0] = False
    if not cand.any():
        return (mask, none) if parts else mask
    _, part = _own_half_cut(comp, cand, smooth, level, d, n)
    big = np.bincount(part.ravel(), minlength=n + 1) >= min_area
    big &= np.bincount(part[~mask], minlength=n + 1) > 0  # something to add
    big[0] = False
    if not big.any():
        return (mask, none) if parts else mask
    ids = np.flatnonzero(big)
    part = _only(part, big[part])
    # (in the box of those labels, found once: ``_in_box``; the gradient's Gaussian
    # reaches 4 px)
    at = _box_around(part, ids)
    keep = _in_box_of(ids, 4, _rim_gradient, part, smooth, level, d, ids, around=at) >= steep
    keep &= _in_box_of(ids, d / 10, _edge_sharpness, part, smooth, level, d, around=at) >= sharp
    keep[0] = False
    if not parts:
        return mask | keep[part]
    return mask | keep[part], np.where(keep[part], part, 0)


def _dim_kept(trimmed, first, kept, least) -> np.ndarray:
    """``trimmed`` with the pixels of each part of ``kept`` (labels, from
    :func:`_dim_nuclei`) that the trim took off the first-pass label ``first`` covering
    more than half of the part given back to it, when the trim left that label at least
    ``least`` pixels (the minimum size, also at the border: a sliver left there is no
    nucleus's body) and no other label holds as many of the part.

    The part is the dim nucleus's outline, cut at half its own contrast; the trim's cut at
    a fraction of its foci-capped peak passes inside its edge. A label the trim removed is
    not brought back (U2OS dna-37: a bright, sharp, textured object no annotator drew).
    Every choice is by pixel counts, a majority: no tie is settled by label ids.
    """
    on = kept > 0
    p = kept[on].astype(np.int64)
    m = int(p.max(initial=0)) + 1
    # the first-pass label covering most of each part, and how much of it
    w = int(first.max()) + 1
    pairs, counts = np.unique(p * w + first[on], return_counts=True)
    part_of, label_of = np.divmod(pairs, w)
    area = np.bincount(p, minlength=m)
    major = (label_of > 0) & (2 * counts > area[part_of])
    owner = np.zeros(m, np.int64)
    owner[part_of[major]] = label_of[major]
    # ... which the trim left whole enough, holding more of the part than any other label
    t = int(trimmed.max()) + 1
    sizes = np.bincount(trimmed.ravel(), minlength=max(t, w))
    ok = (owner > 0) & (sizes[owner] >= least)
    pairs, counts = np.unique(p * t + trimmed[on], return_counts=True)
    part_of, label_of = np.divmod(pairs, t)
    held = label_of > 0
    own = held & (label_of == owner[part_of])
    mine = np.zeros(m, np.int64)
    mine[part_of[own]] = counts[own]
    rival = np.zeros(m, np.int64)
    np.maximum.at(rival, part_of[held & ~own], counts[held & ~own])
    ok &= mine > rival
    ok[0] = False
    if not ok.any():
        return trimmed
    give = on & (trimmed == 0)
    give[on] &= ok[p] & (first[on] == owner[p])
    out = trimmed.copy()
    out[give] = first[give]
    return out


#: a candidate's contrast over the surface fitted to its ring, in robust deviations of
#: the ring around it
_GLOW_DEVS = 3.0
#: its ring (x d from its centre); its body, where its contrast is the median (x d)
_GLOW_RING = (0.6, 0.9)
_GLOW_BODY = 0.25
#: it is found at this fraction of its contrast ...
_GLOW_FOUND = 0.5
#: ... and outlined at this one, when the outline stays a nucleus, and a pixel wider (the
#: half-contrast part of the dim nuclei found was 0.5-1.1 of their drawn area)
_GLOW_OUTLINE = 0.2
#: beside the image border, the share of its ring that must lie in the image (round 25:
#: the dim nuclei found there 0.71-1.0; LoG maxima on the border row, debris centred on
#: it, 0.51, and one in a corner 0.46)
_GLOW_IN = 0.6
#: round 29: a candidate's contrast over the same surface fitted to its ring on the
#: working image before the flattening, at least this share of its contrast after it
_GLOW_RAW = 0.5
#: round 51: a candidate's outline grown again (at most this many times; 0: off) over a
#: plane fitted to a band (inner, outer) px outside it, where the ring of a candidate off
#: its nucleus's centre lay partly on the nucleus and lifted the surface ...
_GLOW_REGROW = 2
_GLOW_BAND = (2, 5)
#: ... cut at this fraction of the outline's median over that plane (its pixels over it
#: left out of the fit) ...
_GLOW_REFRAC = 0.3
#: ... and kept only at this solidity (area over its convex hull's: no neck to another
#: nucleus or into the glow)
_GLOW_SOLID = 0.75


def _glow_dim(smooth, level, low, d, *, reach=_GLOW_REACH,
              devs=_GLOW_DEVS, area=(0.3, 1.6), touch=0.1, elong=2.5,
              border=(False, False, False, False), raw=None, passes=False, bright=None):
    """Outlines of dim nuclei on a saturated cell's glow (a boolean image, or None), and
    the points they were found from (a boolean image, or None).

    Candidates are the local maxima (odd square windows: symmetric under flips and turns)
    of minus the scale-normalised Laplacian of Gaussian (σ = d/(2√2)) of the flattened
    ``smooth`` within ``reach`` d of a saturated cell's pixel (:func:`._saturated._saturated`)
    and not within 0.9 d of one. Around each, a quadratic surface is fitted to the
    ring ``_GLOW_RING`` (the glow's slope and curvature; the ring's pixels more than 2
    robust deviations above a first fit, a neighbour's flank, left out of the second);
    the candidate's contrast over it, the median within ``_GLOW_BODY`` d, must exceed
    ``devs`` robust deviations of the ring around the surface and the dim search's
    contrast ``low - level``. Its part above ``_GLOW_FOUND`` of that contrast, connected
    to it within 0.9 d, must be ``area`` nucleus areas, touch the 0.85 d circle for at
    most ``touch`` of it and be at most ``elong`` times as long as wide (glare streaks:
    3.2-4.6). The outline is the part above ``_GLOW_OUTLINE`` of the contrast when that
    passes the same tests, else the first, widened by a pixel (within 0.9 d). With
    ``raw``, the working image before its flattening, the candidate's contrast there over
    the surface fitted to its ring the same way must be ``_GLOW_RAW`` of the first
    (round 29): a bump the flattening made out of a glow's flank has none.

    With ``raw`` and ``passes`` (round 32), a second pass reads the same tests on ``raw``
    itself at its own LoG maxima whose body no outline of the first holds: the opening's
    box fits on the glow's side of a dim nucleus on a steep flank and takes most of its
    plateau off (unseen ``dim`` fields: 3-25 of 24-150 left, over the ring surface), where
    the unflattened image keeps it. It then returns a third value, the second pass's
    (outlines, points), or None.

    Beside the sides of the array that are the image border (``border``: top, bottom,
    left, right) a candidate's window may reach out of the image: it is read on its pixels
    inside, when at least ``_GLOW_IN`` of its ring is (round 25; the 0.85 d circle's
    share is still of the whole circle). Beside a chunk's inner window edge it is skipped,
    as before: what lies beyond is another chunk's. A candidate farther than ``reach`` d
    from every saturated cell's own box is skipped (round 42,
    :func:`._saturated._cell_limits`; before, one whose window reached past ``reach`` d of
    the box of all the array's cells, which a chunk's window held in part); the Laplacian
    is taken over a box wide enough that its values at every candidate are the whole
    image's.

    Every candidate is tested on its own and the outlines found are joined: no order
    between candidates, so no tie settled by raster order. Everything is read within
    ``reach`` d + 0.9 d of a saturated cell's pixels (the Laplacian's kernel truncated at
    0.88 d), so a chunk's window sees what the whole image does around its nuclei.
    ``bright``: the saturated pixels, :func:`._saturated._saturated` of the same ``smooth``,
    ``low`` and ``d``, when the caller has them.
    """
    if bright is None:
        bright = _saturated(smooth, low, d)  # (round 41: small ones too)
    if not bright.any():
        return (None, None, None) if passes else (None, None)
    r = int(np.ceil(reach * d))
    sigma = d / (2 * np.sqrt(2))
    w = 2 * max(1, round(0.3 * d)) + 1
    # read around the saturated pixels: ``r`` (where candidates are) and what a candidate
    # is read from, its window or the Laplacian (kernel radius int(2.5 sigma + 0.5)) over
    # its maximum filter's window. Round 27: the box was widened by ``r`` only, and the
    # Laplacian near its edge (reflected there) hung on how far the saturated pixels of
    # the whole array reached, which a chunk's window does not hold alike
    sees = r + max(int(np.ceil(_GLOW_RING[1] * d)), w // 2 + int(2.5 * sigma + 0.5))
    near = _mask_box(bright)
    box = _widened(near, sees, smooth.shape)
    s = smooth[box].astype(np.float64)
    rw = None if raw is None else raw[box].astype(np.float64)
    cut = bright[box]
    near_cell = _square_filter(cut, 2 * r + 1, True)  # (scipy's maximum filter, exactly)
    peaks = _log_peaks(s, sigma, w) & near_cell
    # round 32: and on the working image before its flattening, where a glow's flank is
    # no opening's residue
    again = _log_peaks(rw, sigma, w) & near_cell if passes and rw is not None else None
    if not peaks.any() and (again is None or not again.any()):
        return (None, None, None) if passes else (None, None)
    R = int(np.ceil(_GLOW_RING[1] * d))
    # on the sides that are the image border (top, bottom, left, right), a candidate's
    # window may reach out of the image: padded with NaN, read on the pixels inside
    pads = [R if on and at else 0 for on, at in zip(border, (
        box[0].start == 0, box[0].stop == smooth.shape[0],
        box[1].start == 0, box[1].stop == smooth.shape[1]), strict=True)]
    if any(pads):
        width = ((pads[0], pads[1]), (pads[2], pads[3]))
        s = np.pad(s, width, constant_values=np.nan)
        rw = None if rw is None else np.pad(rw, width, constant_values=np.nan)
        cut = np.pad(cut, width)
        peaks = np.pad(peaks, width)
        again = None if again is None else np.pad(again, width)
    # a candidate lies within ``r`` of a saturated cell's own box (round 42; before, its
    # window within ``r`` of the box of them all, or past it on an image border side)
    lim = _cell_limits(bright, near, r, border, R, (box[0].start - pads[0],
                                                    box[1].start - pads[2]))
    yy, xx = (q.astype(np.float64) for q in np.mgrid[-R:R + 1, -R:R + 1])
    rr = np.hypot(yy, xx)
    ring = (rr >= _GLOW_RING[0] * d) & (rr <= _GLOW_RING[1] * d)
    body = rr <= _GLOW_BODY * d
    disc = rr <= _GLOW_RING[1] * d
    edge = disc & (rr > 0.85 * d)
    terms = (yy, xx, np.ones_like(yy), yy * yy, xx * xx, yy * xx)
    a = np.column_stack([q[ring] for q in terms])
    nucleus = np.pi * d * d / 4

    def nucleus_like(part):
        return (area[0] * nucleus <= part.sum() <= area[1] * nucleus
                and (part & edge).sum() <= touch * edge.sum()
                and _elongation(yy[part], xx[part]) <= elong)

    added = np.zeros(s.shape, bool)
    points = np.zeros(s.shape, bool)

    def regrow(part, img, inside, hot):
        """``part`` grown again (round 51): a plane fitted to a band ``_GLOW_BAND`` px
        outside it on ``img`` (inside the image, off the saturated pixels ``hot``; the
        band's pixels over the cut left out, thrice), the part's connected piece over
        ``_GLOW_REFRAC`` of its median over the plane; kept when it is larger, still
        reads as a nucleus, keeps 0.9 of ``part`` and is ``_GLOW_SOLID`` solid."""
        for _ in range(_GLOW_REGROW):
            band = (_square_dilated(part, 2 * _GLOW_BAND[1] + 1)
                    & ~_square_dilated(part, 2 * _GLOW_BAND[0] + 1)
                    & inside & ~hot)
            if band.sum() < 12:
                return part
            aw = np.column_stack([q[band] for q in terms[:3]])
            vals = img[band]
            use = np.ones(vals.size, bool)
            for _ in range(3):  # the band's pixels on a nucleus (over the cut) left out
                coef = np.linalg.lstsq(aw[use], vals[use], rcond=None)[0]
                over = img - sum(c * q for c, q in zip(coef, terms[:3], strict=True))
                at = _GLOW_REFRAC * float(np.median(over[part]))
                use = over[band] <= at
                if use.sum() < 12:
                    return part
            over[~inside] = -np.inf
            if at <= 0:
                return part
            lab = ndi.label((over > at) & disc, _structure(2))[0]
            grown = lab == lab[R, R] if lab[R, R] else lab < 0
            if (not nucleus_like(grown) or (part & ~grown).sum() > 0.1 * part.sum()
                    or grown.sum() <= part.sum()
                    or grown.sum() < _GLOW_SOLID * _hull_area(grown)):
                return part
            part = grown
        return part

    def scan(img, check, at, skip, added, points):
        """Each candidate at ``at`` tested on ``img`` (with ``check``, the round-29 test
        on the image before the flattening), its outline put in ``added`` and its point
        in ``points``; those on a part ``skip`` holds are left."""
        for y, x in zip(*np.nonzero(at), strict=True):
            if not np.any((lim[:, 0] <= y - R) & (y + R < lim[:, 1]) & (lim[:, 2] <= x - R)
                          & (x + R < lim[:, 3])):
                continue
            win = (slice(y - R, y + R + 1), slice(x - R, x + R + 1))
            if cut[win][disc].any() or (skip is not None and skip[win][body].any()):
                continue
            sw = img[win]
            inside = ~np.isnan(sw)
            if inside.all():
                aw, vals = a, sw[ring]
            else:  # cut by the image border: most of its ring in the image (round 25)
                if (inside & ring).sum() < _GLOW_IN * ring.sum():
                    continue
                aw = np.column_stack([q[ring & inside] for q in terms])
                vals = sw[ring & inside]
            coef, dev = _ring_surface(aw, vals)
            over = sw - sum(c * q for c, q in zip(coef, terms, strict=True))
            over[~inside] = -np.inf
            contrast = float(np.median(over[body & inside]))
            if contrast <= devs * dev or contrast <= low - level:
                continue
            if check is not None:  # round 29: a bump of its own before the flattening too
                coef = _ring_surface(aw, check[win][ring & inside])[0]
                raw_over = check[win] - sum(c * q for c, q in zip(coef, terms, strict=True))
                if np.median(raw_over[body & inside]) < _GLOW_RAW * contrast:
                    continue
            lab = ndi.label((over > _GLOW_FOUND * contrast) & disc)[0]
            if not lab[R, R] or not nucleus_like(part := lab == lab[R, R]):
                continue
            lab = ndi.label((over > _GLOW_OUTLINE * contrast) & disc)[0]
            if nucleus_like(wide := lab == lab[R, R]):
                part = wide
            if _GLOW_REGROW:
                # round 51: grown over a plane fitted just outside it, on the image
                # before the flattening where there is one (the opening took part off)
                part = regrow(part, sw if check is None else check[win], inside, cut[win])
            part = _square_dilated(part) & disc  # blurred rim
            added[win] |= part
            points[y, x] = True

    scan(s, rw, peaks, None, added, points)
    more = np.zeros(s.shape, bool), np.zeros(s.shape, bool)
    if again is not None and again.any():
        # round 32: a dim nucleus on a glow's steep flank is half eaten by the opening
        # (the flattened image's box fits on the glow's side, over its plateau): read
        # where the first pass found nothing, on the image before the flattening, over
        # the same ring surface (the glow's slope and curvature)
        scan(rw, None, again, added, *more)
    inner = (slice(pads[0], s.shape[0] - pads[1]), slice(pads[2], s.shape[1] - pads[3]))
    second = None
    if passes and more[0].any():
        second = np.zeros(smooth.shape, bool), np.zeros(smooth.shape, bool)
        second[0][box], second[1][box] = more[0][inner], more[1][inner]
    if not passes:
        return _placed(added, points, inner, box, smooth.shape)
    return (*_placed(added, points, inner, box, smooth.shape), second)


def _placed(added, points, inner, box, shape):
    """(outlines, points) read in the padded box, placed in an image of ``shape`` (None,
    None when there are none)."""
    if not added.any():
        return None, None
    out, at = np.zeros(shape, bool), np.zeros(shape, bool)
    out[box], at[box] = added[inner], points[inner]
    return out, at


def _log_peaks(img, sigma, w) -> np.ndarray:
    """Local maxima (``w`` square windows) of minus the scale-normalised Laplacian of
    Gaussian of ``img`` where it is positive."""
    log = -ndi.gaussian_laplace(img, sigma, truncate=2.5) * sigma * sigma
    return (log == _square_filter(log, w, True)) & (log > 0)  # (ndi.maximum_filter's)


def _ring_surface(a, vals):
    """The surface fitted (least squares, design matrix ``a``) to a candidate's ring
    values ``vals``, fitted again without those more than 2 robust deviations above the
    first fit (a neighbour's flank), and the robust deviation of the ring around it."""
    coef = np.linalg.lstsq(a, vals, rcond=None)[0]
    res = vals - a @ coef
    use = res <= np.median(res) + 2 * _robust_level(res)[1]
    coef = np.linalg.lstsq(a[use], vals[use], rcond=None)[0]
    return coef, _robust_level(vals[use] - a[use] @ coef)[1]


def _hull_area(mask) -> float:
    """The area of the convex hull of the pixels of ``mask``, in pixels (those of
    skimage's ``convex_hull_image``)."""
    return float(convex_hull_image(mask).sum())


def _elongation(rows, cols) -> float:
    """The ratio of the principal axes of a set of pixels (1 for a disc, and for fewer
    than three pixels). :func:`._glare._contacts` reads it too."""
    if len(rows) < 3:
        return 1.0
    ev = np.linalg.eigvalsh(np.cov(np.vstack([rows, cols])))
    return float(np.sqrt(ev[1] / max(ev[0], 1e-12)))


def _with_glow_dim(labels, markers, peak, smooth, level, low, d, least,
                   border=(False, False, False, False), raw=None, bright=None):
    """``labels`` with the dim nuclei of :func:`_glow_dim` added as labels of their own,
    when they keep ``least`` pixels, with markers and peaks. Returns the labels, markers,
    peaks and whether anything was added.

    An outline that lies on the background (at most a tenth of its pixels on labels)
    takes its background pixels. A candidate on a label is mostly a piece of a nucleus (its
    foci, or the dimmer part of a bright nucleus: U2OS dna-27, split when such pieces were
    cut out of the saturated cells' labels) or already found, so that is all, but for one
    case (round 26): the dim nucleus a glow's label was drawn over. An outline on one
    label of at least ``_CARVE_AREA`` nucleus areas, holding at most ``_CARVE_SHARE`` of
    it (:func:`._carve._carve_hosts`; joined outlines cut between their points first,
    :func:`._carve._split_at_points`), takes its pixels on that label and the background
    when what the label keeps is the glow's rest (:func:`._carve._glow_rest`): that rest is
    then gone.
    Only a label on the glow is carved (round 27, :func:`_cell_in_blob`): one in the blob
    of a saturated cell within reach of the candidate, the candidate's window within
    reach of that blob's saturated pixels — what every chunk holding the label reads
    whole, so the chunked path carves as the whole image does. A label with
    ``_unflat._PIECE`` of it inside an outline is taken in (round 36,
    :func:`._slivers._with_slivers`) when it lies in such a blob, or (round 42) it holds at
    most ``_slivers._SMALL_PIECE`` of the outline. ``bright``: the saturated pixels
    (:func:`._saturated._saturated` of ``smooth``, ``low`` and ``d``), when the caller has
    them (round 48: the recipe finds them once for this step and the glow model's).
    """
    if bright is None:  # once: the search and both gates read it
        bright = _saturated(smooth, low, d)
    blobs = functools.cache(lambda: ndi.label(smooth > low, np.ones((3, 3), bool))[0])

    def in_blob(host, comp, points, labels):
        """:func:`_cell_in_blob` with this image's saturated pixels and blobs."""
        return _cell_in_blob(host, comp, points, labels, d, border, bright, blobs)

    found, points, second = _glow_dim(smooth, level, low, d, border=border, raw=raw,
                                      passes=True, bright=bright)
    labels, markers, peak, cut = _add_or_carve(labels, markers, peak, smooth, d, least,
                                               found, points, in_blob)
    if found is not None:  # round 36: an outline over a sliver of its nucleus takes it in
        comp, k = ndi.label(found, _structure(2))  # joined outlines cut between their points
        comp, k = _split_at_points(comp, k, points, np.zeros(k + 1, bool))
        labels, markers, peak, more = _with_slivers(  # (the gate reads the labels before)
            labels, markers, peak, smooth, least, comp, k, points, lambda host: in_blob(
                host, comp, points, labels) | _small_piece(
                    host, comp, labels))  # round 42: or a small piece, in any blob
        cut = cut or more
    if second is None:
        return labels, markers, peak, cut
    comp, k = ndi.label(second[0], _structure(2))  # joined outlines cut between their points
    comp, k = _split_at_points(comp, k, second[1], np.zeros(k + 1, bool))
    labels, markers, peak, more = _with_unflat(labels, markers, peak, smooth, least, comp, k,
                                               second[1])
    return labels, markers, peak, cut or more


def _cell_in_blob(host, comp, points, labels, d, border, bright, blobs) -> np.ndarray:
    """Per outline 0..k of ``comp`` carved out of label ``host`` (0: none), whether the
    saturated pixels within ``_GLOW_REACH`` d of its point (the square :func:`_glow_dim`
    looks in) include one of the host's blob — the 8-connected part of ``smooth > low``
    holding all of the host's pixels above ``low`` — and its window lies within that
    reach of the box of the blob's saturated pixels (or past it on an image border side,
    :func:`_reach_box`) (round 27). ``bright``: the saturated pixels
    (:func:`._saturated._saturated` of ``smooth``, ``low`` and ``d``) and ``blobs()`` (the
    labelled parts of ``smooth > low``, on demand) are taken once by the caller.

    A chunk whose core holds a pixel of the host reads that blob whole (and a diameter
    around it, ``_chunk_task._needed_window``), so it tests the same candidate (its box of
    saturated pixels holds this one) and carves the same label; a saturated cell in
    another blob it may not hold (held-out `u2os-like` 11 in 256² chunks: a cell ~9 d
    away let the whole image test a candidate a chunk skipped). It is also what "a
    glow's label" means: an elongated nucleus apart from the cell's blob, whose end the
    dim search outlines, is not carved (held-out `elongated`'s lost nucleus)."""
    ok = np.zeros(host.size, bool)
    carved = np.flatnonzero(host)
    if not carved.size:
        return ok
    blobs = blobs()
    r = int(np.ceil(_GLOW_REACH * d))
    py, px = np.nonzero(points & (comp > 0))
    R = int(np.ceil(_GLOW_RING[1] * d))
    for c in carved:
        under = blobs[(labels == host[c]) & (blobs > 0)]
        if not under.size or under.min() != under.max():
            continue  # none, or two blobs
        own = bright & (blobs == under[0])
        if not own.any():
            continue
        lim = _reach_box(_mask_box(own), r, bright.shape, border, R)
        for y, x in zip(py[comp[py, px] == c], px[comp[py, px] == c], strict=True):
            win = (slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1))
            inside = lim[0] <= y - R and y + R < lim[1] and lim[2] <= x - R and x + R < lim[3]
            if inside and own[win].any():
                ok[c] = True
    return ok
