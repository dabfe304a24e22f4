"""Holes of the diameter estimate's mask (the objects cut at half their own contrast) that
belong to one nucleus: wide dark nucleoli, and at full resolution the small holes of a
textured nucleus (see :mod:`.diameter`)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _enclosed, _label_moments, _square_dilated, _widened
from ._cues import _label_max

#: A region counts as one nucleus when it fills at least ``_ELLIPSE`` of the ellipse of its
#: second moments (a filled ellipse: 1; two touching discs: 0.89; a field of touching
#: nuclei far less)
_ELLIPSE = 0.9


def _nucleoli_filled(mask, foreground, enclosed=None, dist=None):
    """``mask`` (the objects cut at half their own contrast) with the holes filled that
    are dark nucleoli: enclosed by one object's brighter rim, in the ``foreground`` (or
    the object filled is one ellipse-like nucleus), and at least as wide as that rim.

    A nucleus with a nucleolus much darker than its chromatin (a DNA stain of HeLa,
    fibroblasts, tumour lines) is a ring at half its maximum: its inscribed disc is half
    the rim's width, and fields of such nuclei were estimated at half their diameter (20 px
    nuclei at 10-11 px with nucleoli of radius 0.2-0.3 d); every length of the recipe
    followed, and the nuclei were cut in two along their nucleoli. Where the dark part is
    the wider of the two, the rim is not a nucleus of its own width. A small nucleolus
    in a broad nucleus (U2OS) stays a hole: the estimate the recipe's lengths were set on.
    The gap enclosed by a ring of touching nuclei is background (below the foreground's
    cut) and the ring filled is not one ellipse; a lattice of touching nuclei filled at its
    gaps is far wider than its rims and holes: they stay holes. ``enclosed``: the caller's
    ``_enclosed(~mask)``, when it has it; ``dist``: ``ndi.distance_transform_edt(mask)``,
    when it has it (see :func:`_piece_radius`).
    """
    holes, inner = _enclosed(~mask) if enclosed is None else enclosed
    if not inner.any():
        return mask
    eight = np.ones((3, 3), dtype=bool)
    pieces = ndi.label(mask, structure=eight)[0]
    piece_boxes = ndi.find_objects(pieces)
    radius = {}  # each piece's inscribed radius, in its own box (see _region_distances)

    def piece_radius(j):
        if j not in radius:
            box = _widened(piece_boxes[j - 1], 1, mask.shape)
            radius[j] = _piece_radius(pieces[box] == j, None if dist is None else dist[box])
        return radius[j]

    wide = []  # (hole id, its box, the piece around it, the rim's and its radius)
    for i, box in enumerate(ndi.find_objects(holes), start=1):
        if box is None or not inner[i]:
            continue
        # a pixel of the hole lies at most half its box's shorter side (rounded up) from a
        # pixel outside it along a row or column: a bound of its radius (round 30)
        bound = (min(s.stop - s.start for s in box) + 1) // 2
        box = _widened(box, 1, mask.shape)  # an enclosed hole: its nearest rim is here
        hole = holes[box] == i
        rim = np.unique(pieces[box][_square_dilated(hole) & ~hole])
        j = max((int(j) for j in rim[rim > 0]), key=piece_radius)
        if 2 * bound < piece_radius(j):  # narrower than the rim whatever its transform
            continue
        hole_r = float(ndi.distance_transform_edt(hole).max())
        if 2 * hole_r >= piece_radius(j):  # not narrower than the rim: no small nucleolus
            wide.append((i, box, j, piece_radius(j), hole_r))
    if not wide:
        return mask
    candidate = np.zeros(inner.size, dtype=bool)
    candidate[[w[0] for w in wide]] = True
    candidate = candidate[holes]
    out = mask.copy()
    for i, box, j, rim_r, hole_r in wide:
        own_box = _widened(piece_boxes[j - 1], 1, mask.shape)
        own = (pieces[own_box] == j) | candidate[own_box]
        # one nucleus: filled, it is no wider than its rim on both sides and the hole
        # across (a lattice of touching nuclei around its gaps is far wider)
        if float(ndi.distance_transform_edt(own).max()) > 2 * rim_r + hole_r + 1:
            continue
        hole = holes[box] == i
        if foreground[box][hole].all():
            out[box] |= hole
            continue
        # below the foreground's cut: only where the piece filled is one ellipse-like nucleus
        own = own.astype(np.int32)
        area = np.array([0.0, float(own.sum())])
        if _ellipse_share(own, 1, area, np.array([1]))[1] >= _ELLIPSE:
            out[box] |= hole
    return out


def _piece_radius(own, dist=None) -> float:
    """The inscribed radius of a piece of the mask, ``own`` (its pixels in its box widened
    by one pixel): ``ndi.distance_transform_edt(own).max()``, read from ``dist``, the
    transform of the whole mask over the same box, when given (round 49: the estimate
    makes that transform anyway; one transform fewer per rim).

    The same float: a pixel of the piece at distance ``D`` from the mask's nearest 0 has
    every pixel nearer than ``D`` in the mask and 4-connected to it (a digital disc), so in
    its 8-connected piece, and that 0 in the widened box (see
    ``_label_image._mask_distance``); the other pieces' pixels, 0 in ``own``, are no
    nearer than it."""
    if dist is None:
        return float(ndi.distance_transform_edt(own).max())
    return float(dist[own].max())


def _ellipse_share(regions, m, area, ids) -> np.ndarray:
    """Per label 0..m of ``regions``, its area over that of the ellipse of its second
    moments (``4 pi sqrt(det cov)``, each pixel a unit square): about 1 for a filled
    ellipse of any aspect, less for a region with necks or bays; for the labels ``ids``
    only (0 for the others)."""
    pick = np.zeros(m + 1, dtype=bool)
    pick[ids] = True
    _, _, _, vr, vc, cov = _label_moments(regions, m, ids)
    det = np.clip((vr + 1 / 12) * (vc + 1 / 12) - cov * cov, 1e-12, None)
    return np.where(pick, area / (4 * np.pi * np.sqrt(det)), 0.0)


def _holes_of_one_filled(mask, foreground, parts, enclosed=None, compact=1.5):
    """``mask``, its pieces and their distance transform (``parts``: ``(pieces, k)`` and
    the transform) with the holes filled of each piece far above its inscribed disc (area
    over ``compact`` times it, the estimate's ``_COMPACT``) that it alone encloses, in the
    ``foreground`` (no pixel of another piece or of the background inside), when the
    piece so filled is compact.

    Used where the estimate works at full resolution (no block mean): a nucleus's dark
    nucleoli and notches, averaged away at a reduction by 2 or more, cut into its
    inscribed disc there (U2OS rescaled by 0.33, nuclei ~30 px: pieces 3-4x their disc,
    the estimate 80 instead of 91 full-resolution px). A hole between two pieces (touching
    nuclei around a gap) is never filled: no two pieces are joined. Only where the
    estimate is not reduced: at a reduction by 5 (full-resolution U2OS) filling raised the
    estimate 90.9 -> 92.2-92.5 and (every foreground hole of one piece filled) the U2OS
    errors 3.40 -> 3.52 per image: the recipe's lengths were set on the holes the block
    mean leaves there.
    """
    (pieces, k), dist = parts
    # the holes of the mask lying in the foreground (``enclosed``: ``_enclosed(~mask)``)
    holes, inner = _enclosed(~mask) if enclosed is None else enclosed
    if k == 0 or not inner.any():
        return mask, parts
    inner = inner & (np.bincount(holes[~foreground], minlength=inner.size) == 0)
    if not inner.any():
        return mask, parts
    radius = _label_max(dist, pieces, k)[1:]
    area = np.bincount(pieces.ravel(), minlength=k + 1)[1:]
    ids = np.flatnonzero(area > compact * np.pi * (radius + 0.5) ** 2) + 1
    if ids.size == 0:
        return mask, parts
    candidate = inner[holes]  # a piece's holes lie in its box
    rank = np.zeros(k + 1, dtype=np.intp)
    rank[ids] = np.arange(1, ids.size + 1)
    out = None
    for j, box in zip(ids.tolist(), ndi.find_objects(rank[pieces], max_label=ids.size),
                      strict=True):
        box = _widened(box, 1, mask.shape)
        if not candidate[box].any():
            continue
        own = pieces[box] == j
        holes, inner = _enclosed(~own)  # the components of the rest enclosed by it
        if not inner.any():
            continue
        inner[np.unique(holes[mask[box] | ~foreground[box]])] = False
        added = inner[holes]
        if not added.any():
            continue
        filled = own | added
        filled_dist = ndi.distance_transform_edt(filled)
        if filled.sum() > compact * np.pi * (filled_dist.max() + 0.5) ** 2:
            continue
        if out is None:
            out, pieces, dist = mask.copy(), pieces.copy(), dist.copy()
        out[box] |= added
        pieces[box][added] = j
        dist[box][filled] = filled_dist[filled]
    if out is None:
        return mask, parts
    return out, ((pieces, k), dist)
