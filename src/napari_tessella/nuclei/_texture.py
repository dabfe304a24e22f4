"""Smooth pieces: a glow or a glare streak cut into objects has no texture (issue 14, round 42).

A nucleus carries chromatin: texture and foci a few pixels across, on top of the camera's
noise. A piece cut from an out-of-focus glow or from a glare streak is smooth at that
scale; inside it the image varies by the noise alone. On the cell-line ``uneven d32``
fields (round 42) these pieces were the largest class of errors left: of the 74 spurious
objects on 24 tuning fields, 25 were pieces of a saturated cell's glow and 19 glare, each
with a rim that passes the glow-slope test (:mod:`._flux`) and the unsharp drop.

Read per label on the working image *before* its smoothing (the smoothing takes the
noise away, and with it the measure's unit), on the label's pixels at least
``_INSET`` pixels inside its outline (its own edge left out): the median absolute
deviation of a band-pass (Gaussian of 1 pixel less Gaussian of 3) over that of the noise
(the pixel less its 3 x 3 mean). For white noise of any level, Poisson counts on a bright
glow as on the background, the ratio is 0.25; nuclei read 0.5-4 (dim ones on a glow
0.5-1, blurred ones 0.3-0.6), the glow and glare pieces 0.2-0.35. A label under
``_SMOOTH`` is dropped, when its median is at least ``_COUNTS`` times its noise: at fewer
counts a nucleus's texture is lost in the noise (a field of 14-px nuclei at ~40 photons,
``tests/test_nuclei_dense.py``, read as noise and lost 7-13 nuclei a field without it).

Only labels whose rim does not rise inwards all round are read (the glow-slope test's
share under 1, or no say: under 8 rim pixels on the background, a label among others):
pieces of a slope, streaks and pieces wedged between labels; a nucleus's rim rises into it
all round (on the real U2OS images 88 % of the labels, which are not read: the cost stays
about 1 % of the recipe's). The pieces on a glow's top, which rise all round too, are left
(round 42: 6 of the 16 spurious objects the reading drops ungated on the tuning fields).
Each label is read in its own box widened by the filters' reach, with integer bounds: the
values are those of the whole image (a chunk's window holds the box of every label of its
core).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: a label whose texture over its noise is under this is a smooth piece (white noise 0.25;
#: glow and glare pieces 0.2-0.35, nuclei 0.5-4 and blurred nuclei from 0.3)
_SMOOTH = 0.28
#: the texture is read this many pixels inside a label's outline (its edge is no texture)
_INSET = 2
#: ... on at least this many pixels (fewer say nothing: kept)
_LEAST = 20
#: ... and only where the label's median is this many times its noise: with fewer counts
#: the noise hides a nucleus's texture (14-px nuclei at ~40 photons read as noise, at
#: 6-14 times it; the glow and glare pieces on `uneven d32` 18-89 times)
_COUNTS = 16.0
#: the band-pass's Gaussians (pixels) and their reach (scipy's default truncation, 4)
_FINE, _COARSE = 1.0, 3.0
_REACH = int(4 * _COARSE + 0.5) + 1


def _mad(values: np.ndarray) -> float:
    """The median absolute deviation of ``values`` (unscaled)."""
    return float(np.median(np.abs(values - np.median(values))))


def _texture(work: np.ndarray, labels: np.ndarray, ids) -> dict:
    """Per label id in ``ids``: the band-pass's median absolute deviation over the noise's
    (see the module); nan where fewer than ``_LEAST`` pixels lie ``_INSET`` inside it, where
    it has no noise, or where its median is under ``_COUNTS`` times the noise."""
    boxes = ndi.find_objects(labels, max_label=int(max(ids)))
    rows, cols = labels.shape
    size = 2 * _INSET + 1
    out = {}
    for i in ids:
        box = boxes[i - 1]
        if box is None:
            continue
        r0, r1 = max(box[0].start - _REACH, 0), min(box[0].stop + _REACH, rows)
        c0, c1 = max(box[1].start - _REACH, 0), min(box[1].stop + _REACH, cols)
        inside = ndi.binary_erosion(labels[r0:r1, c0:c1] == i,
                                    structure=np.ones((size, size), bool))
        if np.count_nonzero(inside) < _LEAST:
            out[i] = np.nan
            continue
        x = np.asarray(work[r0:r1, c0:c1], dtype=np.float64)
        noise = x - ndi.correlate(x, np.full((3, 3), 1.0 / 9.0))
        band = ndi.gaussian_filter(x, _FINE) - ndi.gaussian_filter(x, _COARSE)
        unit = _mad(noise[inside])
        if not unit > 0:  # no noise (a flat or quantised piece): nothing said
            out[i] = np.nan
        elif np.median(x[inside]) < _COUNTS * unit:  # too few counts to show texture
            out[i] = np.nan
        else:
            out[i] = _mad(band[inside]) / unit
    return out


def _smooth_pieces(labels: np.ndarray, work, read: np.ndarray,
                   smooth: float = _SMOOTH) -> np.ndarray:
    """Per label 0..n of ``labels``: whether it is a smooth piece of glow or glare, read on
    ``work`` (the working image before its smoothing; None: no label is) for the labels
    ``read`` says (a boolean per label 0..n)."""
    drop = np.zeros(read.size, bool)
    ids = np.flatnonzero(read)
    ids = ids[ids > 0]
    if work is None or not ids.size:
        return drop
    for i, value in _texture(work, labels, ids).items():
        drop[i] = value < smooth
    return drop
