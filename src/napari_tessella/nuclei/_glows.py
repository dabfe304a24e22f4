"""Out-of-focus glows left out of the diameter estimate (issue 14, round 34).

The estimate is the area-weighted median of its components' inscribed radii
(:func:`.diameter._radius_of`). A saturated cell's out-of-focus glow can be measured as one
wide disc holding the nuclei that lie on it: above half the cell's clipped maximum, or
taken whole as a textured nucleus whose "foci" are those nuclei (``_whole_textured``). One
or two such glows can outweigh every nucleus of the field. On fields of uneven
illumination with saturated cells (``uneven d32``: 6 of 60 new fields) the estimate went to
2-5x the nuclei's diameter, no flattening followed (its window is set by the first
estimate), and the segmentation found almost nothing (F1 0.0 on four of the six).

What gives such a component away is its edge, not its size alone: a nucleus's edge is as
wide as the microscope's blur, the same for every nucleus of the field, large or small; a
glow's edge is as wide as the glow (its profile falls from the top to the background over
its whole radius). A component is a glow when it is one of the ``_CARRIERS`` widest, which
move the median (of all the components, ``_MOVED`` times the others'), is at least
``_GLOW_SIZE`` times the typical radius of the others, and its edge is at least
``_GLOW_EDGE`` times as wide as theirs, or at least as wide as their typical diameter
(``_EDGE_OVER_D``, round 44: nuclei on a broad bump's slope read wide rims over the
global background, and the bump's rim was not twice theirs); when the ``_CARRIERS``
widest hold none, the widest three, four, ... are looked at together while the last of
them is itself ``_GLOW_SIZE`` times the typical radius of the narrower ones (round 43: a
third glow was the others' typical radius). The edge's width is read where the cut lies,
on the component's own rim: its contrast there over the background divided by the
gradient's magnitude there (medians over the rim's pixels: a nucleus crossing the rim
moves them little). A real large nucleus among fragments has an
edge as sharp as theirs and is kept.
"""

from __future__ import annotations

import functools

import numpy as np

from .._label_image import _only
from ._background import _weighted_median
from ._cues import _label_quantile

#: A glow carries the estimate's median with at most one other component ...
_CARRIERS = 2
#: ... is at least this many times the others' area-weighted median radius ...
_GLOW_SIZE = 2.5
#: ... and its rim at least this many times as wide as theirs (their area-weighted median)
_GLOW_EDGE = 2.0
#: ... or its rim at least this many times as wide as the others' typical diameter (twice
#: their area-weighted median radius): a nucleus's edge is the microscope's blur, narrower
#: than the nucleus itself; a broad smooth bump's edge is as wide as the bump
_EDGE_OVER_D = 1.0
#: The others must be this many at least to be a reference
_MIN_OTHERS = 3
#: The glows are looked for only when the median of all the components is at least this
#: many times the others' (round 38: a third glow can carry it; round 39: the earlier gate,
#: the two widest holding half the area, is left out: where they hold half and do not move
#: the median, leaving them out moves the estimate little, and on 320 fields and the 103
#: label-dump images no estimate and no label changed)
_MOVED = 1.25
#: A component carrying the estimate alone (half the area at least) is a smooth bump when
#: its rim is at least this share of its own radius (round 44: a broad illumination bump
#: measured alone reads 0.49-0.7; a sharp large nucleus, 0.03-0.09 on 256-px U2OS crops,
#: 0.22 at most)
_SMOOTH_SHARE = 0.4
#: ... or when its profile still rises inside it: the mean slope toward its inscribed centre
#: over its middle ring (a quarter to three quarters of its radius from its edge) at least
#: this share of its rim's slope (round 45: a Gaussian bump cut low, its rim 0.21-0.33 of
#: its radius, reads 0.67-1.38; a sharp nucleus, a plateau with a blurred edge, 0.17 at
#: most on 256-px U2OS crops, most of them under 0.06)
_INNER_RISE = 0.4


def _rim_widths(small, level, labels, n, dist) -> np.ndarray:
    """Per label 1..n, the width of its edge in pixels: the median contrast over
    ``level`` of its rim (its pixels at distance 1 from the background, ``dist``) over the
    median magnitude of the image's gradient there (inf where it is flat)."""
    rim = _only(labels, dist <= 1.0)
    rows, cols = np.gradient(small)
    slope = _label_quantile(np.hypot(rows, cols), rim, n, 0.5)[1:]
    height = _label_quantile(small - level, rim, n, 0.5)[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(slope > 0, height / slope, np.inf)


def _without_glows(radius, area, small, level, labels, dist):
    """``(radius, area)`` of the components (labels 1..n of ``labels``) less the glows
    (see the module): the arrays unchanged when none is found."""
    @functools.cache
    def widths():  # the rims' widths, read once and only when a glow's size is met
        return _rim_widths(small, level, labels, radius.size, dist)

    keep = np.ones(radius.size, dtype=bool)
    while True:
        # the _CARRIERS widest components, when the median is moved (looked at together:
        # a second glow among the others would be their typical radius), or more
        # (_more_carriers: a third glow would be)
        ids = np.flatnonzero(keep)
        order = ids[np.argsort(radius[ids], kind="stable")[::-1]]
        median = _weighted_median(radius[ids], area[ids])
        glow = None
        for count in range(_CARRIERS, ids.size - _MIN_OTHERS + 1):
            rest = order[count:]
            typical = _weighted_median(radius[rest], area[rest])
            if count > _CARRIERS and not _more_carriers(radius[order[count - 1]], typical):
                break
            glow = _glows_among(radius, area, order[:count], rest, typical, median, widths)
            if glow is not None:
                break
        if glow is None:
            break
        keep &= ~glow
    if keep.all():
        return radius, area
    return radius[keep], area[keep]


def _glows_among(radius, area, top, rest, typical, median, widths):
    """The glows (a boolean per component) among the carriers ``top`` (the widest of the
    components kept), judged against the others ``rest`` (their area-weighted median
    radius ``typical``; ``median``: that of all the kept ones); None when there is none.
    ``widths()``: the rims' widths (read once, by the caller)."""
    if median < _MOVED * typical:
        return None
    big = np.zeros(radius.size, dtype=bool)
    big[top] = radius[top] >= _GLOW_SIZE * typical
    if not big.any():
        return None
    rims = widths()
    sharp = rest[np.isfinite(rims[rest])]
    if not sharp.size:
        return None
    wide = rims >= _GLOW_EDGE * _weighted_median(rims[sharp], area[sharp])
    glow = big & (wide | (rims >= _EDGE_OVER_D * 2 * (typical + 0.5)))
    return glow if glow.any() else None


def _more_carriers(radius, typical) -> bool:
    """Whether one more of the widest components (its ``radius``) is looked at with the
    wider ones when they found no glow: it is itself at least ``_GLOW_SIZE`` times
    ``typical``, the area-weighted median radius of the components narrower than it.

    Three saturated cells' glows (``uneven d32`` 4238: 78, 65 and 55 reduced px for nuclei
    of 14-16) hold 90 % of the area: with two set aside the third *is* the others' typical
    radius and their typical rim, and no glow was found (the estimate 130 px for nuclei of
    32). A component that wide beside the rest is one more candidate; the glow test itself
    (the median moved, the size, the rim) is unchanged.
    """
    return bool(radius >= _GLOW_SIZE * typical)


def _smooth_carrier(radius, area, small, level, labels, dist) -> bool:
    """Whether the widest of the components (labels 1..n of ``labels``; ``radius`` and
    ``area`` per label) holds half their area or more and has a rim at least
    ``_SMOOTH_SHARE`` times its own radius (plus the half pixel), or a profile still rising
    inside it (:func:`_inner_rise` at least ``_INNER_RISE``): a broad smooth bump that
    the first measurement saw alone (round 44: the auto cut above every nucleus off the
    bump), so there are no others to judge it by (:func:`_without_glows`).

    The local background's window is then the narrowest (``diameter._LOCAL``) instead of
    four times the bump's radius, wider than the field, which skipped the flattening.
    Where the cut lies low on a Gaussian bump (at a share ``f`` of its height), its rim
    over its radius, ``1 / (2 ln(1/f))``, falls to 0.21-0.33 (round 45), under the share
    kept for the margin to large sharp nuclei; its slope inside stays as steep as at its
    rim, where a nucleus is a plateau.
    """
    if not radius.size:
        return False
    top = int(np.argmax(radius))
    if area[top] < 0.5 * area.sum():
        return False
    own = (labels == top + 1).astype(np.intp)  # the widest one's rim alone is read
    rim = _rim_widths(small, level, own, 1, dist)[0]
    if rim >= _SMOOTH_SHARE * (radius[top] + 0.5):
        return True
    return _inner_rise(small, own > 0, dist, radius[top]) >= _INNER_RISE


def _inner_rise(small, own, dist, radius) -> float:
    """How steeply ``small`` still rises inside the component ``own`` (a mask; ``dist``:
    the distance to the background, ``radius``: its largest): the mean of the gradient's
    component toward its inscribed centre (the pixel of the largest distance) over its
    middle ring, ``radius / 4`` to ``3 radius / 4`` from its edge, divided by the median
    gradient magnitude on its rim (0 where that is flat or there is no ring).

    A nucleus is a plateau with a blurred edge: inside, its texture's slopes point every
    way and their mean toward the centre is near 0. A smooth bump's profile rises to its
    top all the way in (a Gaussian's slope at half the cut's radius is ``2 f**-0.75`` times
    half its slope at the cut, ``f`` the cut's share of its height).
    """
    rows, cols = np.gradient(small)
    rim = own & (dist <= 1.0)
    slope = np.median(np.hypot(rows[rim], cols[rim])) if rim.any() else 0.0
    ring = own & (dist >= radius / 4) & (dist <= 3 * radius / 4)
    if not (slope > 0 and ring.any()):
        return 0.0
    centre = np.unravel_index(np.argmax(np.where(own, dist, -1.0)), dist.shape)
    yy, xx = np.nonzero(ring)
    dy, dx = centre[0] - yy, centre[1] - xx
    norm = np.maximum(np.hypot(dy, dx), 1.0)
    toward = (rows[yy, xx] * dy + cols[yy, xx] * dx) / norm
    return float(np.mean(toward) / slope)
