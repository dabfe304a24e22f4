"""Pieces cut from an out-of-focus glow's slope (issue 14, round 35).

A nucleus is a plateau: all around its outline the image rises into it, so the gradient
on its rim points inwards nearly everywhere (a nucleus on a glow's slope too, where its
own edge is steeper than the slope). A piece cut from a glow's slope (or a streak's
flank, or an outline that takes in part of a glow) has its gradients all pointing one way,
up the slope: inwards on its downhill side, outwards on its uphill side, about half of
its rim. A label is such a piece when under ``_INFLOW`` of its rim's pixels have the
image rising inwards.

"Inwards" at a rim pixel is the local normal into the label: the sum of the offsets to
the label's own pixels within ``_REACH`` pixels, whole integers, the same in a chunk's
window as in the whole image (the direction to the label's centroid was measured and
separated worse: a long or bent piece's centroid lies off its rim's normal). The rim is a
label's pixels with a background 4-neighbour inside the array (the image's border is no
rim: a nucleus cut by it says nothing there), so the share is that of the rim that faces
the background; the gradient there is the smoothed image's central difference (one-sided
on the array's edge). Only its sign along the normal is used.
"""

from __future__ import annotations

import numpy as np

from .._label_image import _nonzero
from ._texture import _smooth_pieces

#: a label is a glow's piece when under this share of its rim rises towards its centre
#: (nuclei 0.8-1.0, pieces of a glow's slope 0.3-0.6)
_INFLOW = 0.58
#: ... with at least this many rim pixels (fewer say nothing)
_LEAST_RIM = 8
#: inwards at a rim pixel: towards its label's own pixels within this many pixels
_REACH = 2


def _rim_inflow(labels: np.ndarray, image: np.ndarray, reach: int = _REACH) -> np.ndarray:
    """Per label 0..n of ``labels``: the share of its rim's pixels (see the module) where
    ``image`` rises inwards (nan for labels with under ``_LEAST_RIM`` rim pixels)."""
    n = int(labels.max())
    bg = np.pad(labels == 0, 1)  # beyond the array's edge: no background, no rim
    rim = (bg[:-2, 1:-1] | bg[2:, 1:-1] | bg[1:-1, :-2] | bg[1:-1, 2:]) & ~bg[1:-1, 1:-1]
    r, c = _nonzero(rim)
    lab = labels[r, c]
    # inwards: the sum of the offsets to the label's own pixels within ``reach``
    wide = np.pad(labels, reach, constant_values=-1)
    cols = wide.shape[1]
    flat = wide.ravel()
    at = (r + reach) * cols + (c + reach)
    in_r = np.zeros(r.size, np.int64)
    in_c = np.zeros(r.size, np.int64)
    for dr in range(-reach, reach + 1):
        for dc in range(-reach, reach + 1):
            if dr or dc:
                own = flat.take(at + (dr * cols + dc)) == lab
                if dr:
                    in_r += dr * own
                if dc:
                    in_c += dc * own
    img = np.pad(image, 1, mode="edge").ravel()  # central differences, one-sided on the edge
    at = (r + 1) * (image.shape[1] + 2) + (c + 1)
    step = image.shape[1] + 2
    rises = (img.take(at + step) - img.take(at - step)) * in_r + (
        img.take(at + 1) - img.take(at - 1)) * in_c > 0
    rising = np.bincount(lab, rises, n + 1)
    total = np.bincount(lab, minlength=n + 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total >= _LEAST_RIM, rising / total, np.nan)


def _drop_glow_pieces(labels: np.ndarray, smooth: np.ndarray, raw=None, dense: bool = False,
                      inflow: float = _INFLOW, work=None):
    """``labels`` less the pieces of a glow's slope (see the module), read on ``raw`` (the
    smoothed image before its flattening: the flattening takes part of a glow's slope
    away) or else ``smooth``; ``labels`` itself when none is dropped. Not on ``dense``
    blurred fields (the recipe's ``shoulders``): there a nucleus between brighter ones has
    the image falling outwards on much of the little rim it has on the background (10
    dense fields of the label dump lost 1-3 nuclei each). ``work``: the working image
    before its smoothing, on which the labels whose rim does not rise inwards all round
    are also dropped when they are smooth, pieces of glow or glare with no texture of
    their own (round 42, :mod:`._texture`); None: not."""
    if dense or not labels.any():
        return labels
    share = _rim_inflow(labels, smooth if raw is None else raw)
    drop = share < inflow  # nan (no rim, or the background): kept
    # a rim rising inwards all round is a nucleus's (or a glow's top, left alone: cost)
    drop |= _smooth_pieces(labels, work, ~(share >= 1.0) & ~drop)
    if not drop.any():
        return labels
    return np.where(drop[labels], 0, labels).astype(labels.dtype, copy=False)
