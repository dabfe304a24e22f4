"""Glow pieces the re-seeding joins to a nucleus, told from dim nuclei by a dome (round 48).

The trim (:func:`._recipe._trim_to_own_peak`) cuts every label of the first flood at a
fraction of its own peak; a flood label on a bright cell's out-of-focus glow keeps the part
of the glow above a fraction of *the glow's* peak. The re-seeding that follows
(:func:`._markers._split_at_necks_of`) labels the trimmed foreground again as one mask, and
where such a glow piece touches a nucleus's trimmed outline with no neck between them, the
two come out as one label: the nucleus's outline takes in the glow (round 47: 55 of 104
outlines too large on the cell-line fields).

A piece dimmer than the nucleus it was joined with is not enough to call it a glow: a dim
nucleus beside a bright one is dimmer too (round 47's rule lost one). What tells them apart
is a dome of its own: a dim nucleus rises above the saddle that joins it to its bright
neighbour, a glow piece falls away from it (or from the cell it comes from) with no rise
but the noise's. A piece is taken out of its label when its maximum contrast stays under
``_BODY_SHARE`` of the body of the label's brightest large piece, its peak stands less than
``_DOME`` of its contrast above that saddle, *and* it has little texture of its own
(:mod:`._texture`; a nucleus's part carries chromatin). A label the removal leaves in parts
(a glow piece held two nuclei together) is one label per part.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _only, _per_label
from ._cues import _label_max, _label_quantile
from ._texture import _texture

#: a piece joined to a brighter one whose maximum contrast stays under this share of the
#: brighter piece's core median contrast may be a glow (round 47, tuning 8720-8729: glow
#: pieces 0.11-11.7, a third under 0.6; the halves of one nucleus 3 of 35 under 0.6)
_BODY_SHARE = 0.6
#: ... and is one when its peak rises less than this share of its own maximum contrast
#: above the highest saddle joining it to the rest of its label (round 48, tuning
#: 9600-9611: glow pieces under 0.6 of the body, median 0.03, 90 % under 0.11; other
#: nuclei under 0.6 of the body, median 0.12)
_DOME = 0.1
#: ... and has little texture of its own: its band-pass over its noise (:mod:`._texture`)
#: under this (white noise 0.25; the pieces the two cues above take out of the tuning
#: fields 0.12-6.8, two thirds under 1.2; the real U2OS nuclei's parts they would take
#: out 1.30-5.4, so a bar under those keeps the U2OS labels as they were)
_GLOW_SMOOTH = 1.2
#: a label with a piece whose maximum contrast is over this many times the median body of
#: the image's large pieces holds a bright (saturated, condensed) cell: its pieces are
#: left, a dim nucleus on that cell's glow rising towards it as the glow does (the
#: cell-line test ``halo`` 30: its dim nucleus's dome 0.03 of its contrast, texture 0.35;
#: the cells 10-60 times a nucleus, a nucleus's foci 2-4 times its body)
_BRIGHT = 8.0
#: the piece whose body is the reference is at least this area (x d**2): a sliver of a
#: bright neighbour the trim left in a dim nucleus's label is no body to measure against
_BODY_AREA = 0.25


def _without_joined_glow(labels, pieces, smooth, level, height, d, work=None):
    """``labels`` (the re-seeded ones) without the trimmed ``pieces`` that are glow: their
    largest ``smooth`` contrast (over ``level``) under ``_BODY_SHARE`` of the body of the
    label's brightest piece of area at least ``_BODY_AREA * d**2`` (the median contrast of
    that piece's core: its pixels where ``height``, the distance the trim's cores were read
    on, is at least half its largest value in the piece), and no dome of their own (see
    :func:`_dome_depth`) and little texture on ``work``, the working image before its
    smoothing (:func:`_smooth_parts`); a label left in parts, one label per part
    (:func:`_parts_apart`); and whether any pixel was removed."""
    both = (labels > 0) & (pieces > 0)
    if not both.any():
        return labels, False
    n = int(pieces.max())
    m = n + 1
    pair, at, count = np.unique(labels[both].astype(np.int64) * m + pieces[both],
                                return_inverse=True, return_counts=True)
    owner, piece = pair // m, pair % m
    if np.unique(owner).size == pair.size:  # no label holds two pieces
        return labels, False
    core = _only(pieces, height >= _per_label(0.5 * _label_max(height, pieces, n), pieces))
    body = _label_quantile(smooth, core, n, 0.5) - level
    large = count >= _BODY_AREA * d * d
    if not large.any():  # no body to measure a piece against
        return labels, False
    highest = np.full(int(owner.max()) + 1, -np.inf)
    np.maximum.at(highest, owner[large], body[piece[large]])
    top = _label_max(smooth, pieces, n) - level
    under = top[piece] < _BODY_SHARE * highest[owner]
    # a bright cell's label: a dim nucleus on its glow's flank has no dome either
    peak = np.full(highest.size, -np.inf)
    np.maximum.at(peak, owner, top[piece])
    under &= peak[owner] <= _BRIGHT * np.median(body[np.unique(piece[large])])
    if not under.any():
        return labels, False
    glow = np.zeros(pair.size, bool)
    flat = np.flatnonzero(both)
    boxes = ndi.find_objects(labels)
    for k in np.flatnonzero(under):
        depth = _dome_depth(labels, pieces, smooth, boxes[owner[k] - 1], owner[k], piece[k],
                            flat[at == k])
        glow[k] = depth < _DOME * top[piece[k]]
    if not glow.any():
        return labels, False
    glow[glow] = _smooth_parts(labels.shape, work, [flat[at == k] for k in np.flatnonzero(glow)])
    if not glow.any():
        return labels, False
    out = labels.copy()
    out[both] = np.where(glow[at], 0, labels[both])
    return _parts_apart(out, np.unique(owner[glow]), boxes), True


def _parts_apart(labels, ids, boxes):
    """``labels`` (changed in place) with each label of ``ids`` (``boxes``, the slices of
    every label before the change) that is no longer in one piece kept as its largest part,
    its other parts each a new label: the nuclei a glow piece held together."""
    top = int(labels.max())
    for i in ids:
        box = boxes[i - 1]
        parts, count = ndi.label(labels[box] == i)
        if count < 2:
            continue
        sizes = np.bincount(parts.ravel())
        sizes[0] = 0
        largest = int(sizes.argmax())
        for k in range(1, count + 1):
            if k != largest:
                top += 1
                labels[box][parts == k] = top
    return labels


def _smooth_parts(shape, work, parts):
    """Per part of ``parts`` (the flat indices of each, in an image of ``shape``): whether
    it has little texture of its own on ``work`` (:func:`._texture._texture` under
    ``_GLOW_SMOOTH``); too small or too few counts to read, or no ``work``: no."""
    out = np.zeros(len(parts), bool)
    if work is None:
        return out
    read = np.zeros(shape, np.int32)
    for k, here in enumerate(parts, 1):
        read.ravel()[here] = k
    for k, value in _texture(work, read, np.arange(1, len(parts) + 1)).items():
        out[k - 1] = value < _GLOW_SMOOTH
    return out


def _dome_depth(labels, pieces, smooth, box, label, piece, here):
    """How far the highest ``smooth`` of the part of ``piece`` in ``label`` (its flat
    indices ``here``; ``box``, the label's slices) stands above the highest saddle joining
    it to the rest of ``label``: the largest ``smooth`` minus its reconstruction by
    dilation from the rest of the label, within the label's box."""
    from skimage.morphology import reconstruction

    rows, cols = np.unravel_index(here, labels.shape)
    inside = labels[box] == label
    sub = smooth[box].astype(np.float64)
    low = float(sub[inside].min())
    mask = np.where(inside, sub, low)
    rest = inside & (pieces[box] != piece)
    seed = np.where(rest, mask, low)
    filled = reconstruction(seed, mask, method="dilation")
    r0, c0 = box[0].start, box[1].start
    return float((mask - filled)[rows - r0, cols - c0].max())
