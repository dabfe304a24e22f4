"""Flat pieces at the image border: debris, not nuclei cut by the border (issue 14, round 22).

On unevenly lit fields, bright debris cut by the image border became objects: its part
inside the field is the size and shape of a nucleus's cap (rounds 11 and 21 found no
shape, contrast or edge cue that tells the two apart on the real U2OS images). What the
debris lacks is the nuclei's texture: measured on the working image, the spread of its
inner pixels (10th to 90th percentile, over its median contrast) was 0.14-0.20 times the
median spread of the whole nuclei of its field (cell-line `uneven d32`, round-13 seeds),
where the caps of real nuclei cut by the border had 0.42 and more (U2OS, 48 images, every
cap of 0.4 nucleus areas or less that a hand-labelled nucleus matches). A nucleus's cap
shows its field's chromatin; a speck of dust or precipitate does not.

So the decision is made against the field's own nuclei (:func:`_flat_pieces`, like the
small nuclei's population in :mod:`._small`): each label gets its spread and a role
(:func:`_flatness`) in the window it was segmented in, and the pieces are dropped once
all the labels are known (in memory; the chunked path from its chunks' summaries).
"""

from __future__ import annotations

import numpy as np

from .._label_image import _edge_ids
from ._cues import _label_quantiles

# a piece: a label on the image border of at most _PIECE nucleus areas (pi d^2 / 4), with
# at least _INNER d^2 pixels 2 px or more inside its outline (fewer give no spread); a
# reference: a label off the border of at least _WHOLE nucleus areas
_PIECE = 0.4
_INNER = 0.05
_WHOLE = 0.5
# a piece is flat, and dropped, when its spread is below _FLAT times the median spread of
# the references, of which there are at least _LEAST
_FLAT = 0.3
_LEAST = 5
_BRIGHTER = 4.0

NONE, REFERENCE, PIECE = 0, 1, 2


def _flatness(labels, smooth, level, d, border=(True, True, True, True)):
    """(spread, role, contrast) per label 0..n of the working ``labels``.

    The spread of a label's inner pixels (at least 2 px from another label or the
    background, the image border not counting) is (90th - 10th percentile) / (median -
    ``level``), its contrast that median - ``level``; its role REFERENCE (a whole nucleus),
    PIECE (on the image border; ``border``: which sides of ``labels`` are the image's) or
    NONE (no spread measured; every label when ``level`` is None, a threshold not "auto").
    Only a label's own pixels and their 2-px neighbourhood are read: a chunk that holds a
    label whole gives its in-memory values."""
    n = int(labels.max())
    spread, contrast = np.zeros(n + 1), np.zeros(n + 1)
    role = np.zeros(n + 1, np.int8)
    if n == 0 or level is None:
        return spread, role, contrast
    padded = np.pad(labels, 2, mode="edge")  # the image border: more of the same label
    rows, cols = labels.shape
    inner = np.ones(labels.shape, bool)
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            if 0 < dr * dr + dc * dc <= 4:
                inner &= padded[2 + dr:2 + dr + rows, 2 + dc:2 + dc + cols] == labels
    core = np.where(inner, labels, 0)
    area = np.bincount(labels.ravel(), minlength=n + 1)
    count = np.bincount(core.ravel(), minlength=n + 1)
    on_border = np.zeros(n + 1, bool)
    on_border[_edge_ids(labels, border)] = True
    nucleus = np.pi * d * d / 4
    role[(~on_border) & (area >= _WHOLE * nucleus) & (count > 0)] = REFERENCE
    role[on_border & (area <= _PIECE * nucleus) & (count >= _INNER * d * d)] = PIECE
    role[0] = NONE
    if not (role > 0).any():
        return spread, role, contrast
    core = np.where(role[core] > 0, core, 0)
    low, mid, high = _label_quantiles(smooth, core, n, (0.1, 0.5, 0.9))  # one sort
    contrast = np.where(role > 0, mid - level, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(role > 0, (high - low) / np.maximum(contrast, 1e-12), 0.0)
    return spread, role, contrast


def _flat_pieces(spread, role, contrast) -> np.ndarray:
    """Per label, whether it is a PIECE flatter than ``_FLAT`` times the median spread of
    the REFERENCE labels and not brighter than ``_BRIGHTER`` times their median contrast
    (a saturated cell is flat too); none when there are fewer than ``_LEAST`` references."""
    spread, role, contrast = (np.asarray(v) for v in (spread, role, contrast))
    ref = role == REFERENCE
    if np.count_nonzero(ref) < _LEAST:
        return np.zeros(role.shape, bool)
    return ((role == PIECE) & (spread < _FLAT * float(np.median(spread[ref])))
            & (contrast <= _BRIGHTER * float(np.median(contrast[ref]))))


def _flat_of_views(views, comp, ncomp: int) -> np.ndarray:
    """:func:`_flat_pieces` of the chunked path, per global object 0..ncomp-1: ``views``
    holds each chunk's (spread, role, contrast) of its objects, ``comp`` the global object
    of each of those views in turn (the views of one object have the same values)."""
    spread, role, contrast = (np.concatenate(values) for values in zip(*views, strict=True))
    n_views = np.maximum(np.bincount(comp, minlength=ncomp), 1)
    most = np.zeros(ncomp, role.dtype)
    np.maximum.at(most, comp, role)
    return _flat_pieces(np.bincount(comp, weights=spread, minlength=ncomp) / n_views, most,
                        np.bincount(comp, weights=contrast, minlength=ncomp) / n_views)
