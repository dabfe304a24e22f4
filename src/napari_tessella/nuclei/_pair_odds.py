"""Two blurred nuclei in one dense label, told by the odds of its cues (round 59).

In dense blurred fields most labels that hold two touching nuclei have one distance top
and one brightness top: no seed of their own by any cue (``docs/nuclei-history.md``,
round 59). The two-dome fit (:func:`._domes._two_dome_fit`) parts three in four of them
right, but the dome steps' fixed gates turn most down (the dimmer dome under
``_domes._LEVEL`` of the brighter), and no single gate tells them from single nuclei.
Here each label of at least ``_AREA`` nucleus areas (π d²/4) left by the dome steps is
fitted with two domes (loose gates ``_LOOSE``) and cut where a logistic model over the
cut's cues gives it odds over ``_CUT`` of gaining a match. The cues (:func:`_cues`): the
label's area in nucleus areas, the fit's gain, level ratio and smaller part, the neck (the
cut's length over the smaller part's inscribed diameter, at most 3), the solidity, the
valley between the two parts' brightest points over the lower one's height above the
label's ring, the distance maxima (d / 4 apart, d / 8 deep), the cut's depth in the
distance map, the brightness tops (d / 4 apart) and the inscribed radius in d / 2. The
weights were fitted on dense challenge fields of seeds 20600-20659 at PSF ×2 and read on
20800-20859 (``benchmarks/nuclei_dense_merged.py``). Every cue is measured in the label's
own box, in units of d: the same in a chunk's window.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _crosses_dilated
from ._domes import _two_dome_fit

_AREA = 0.8  # candidates: labels of at least this many nucleus areas (pi d^2 / 4)
_LOOSE = (0.15, 0.3)  # the two-dome fit's gates: smaller part, level ratio
_PAD = 6  # the label's box is widened by this (the fit's checkerboard starts there)
_RING = 3  # the background ring fitted around the label, px
_CUT = 0.55  # cut where the odds of gaining a match are over this
# the logistic model: the cues' means and spreads on the tuning fields, then the weights
# (the constant first) of the standardised cues, in the order :func:`_cues` gives them
_MEAN = np.array([1.4738, 0.6592, 0.6515, 0.3459, 1.7797, 0.9305, 0.0523, 1.1128, 1.0335,
                  1.8945, 0.9943])
_SPREAD = np.array([0.3924, 0.6462, 0.1944, 0.1005, 0.4638, 0.0319, 0.0985, 0.3607, 0.0613,
                    0.9379, 0.1465])
_WEIGHTS = np.array([-4.4739, 1.9379, 1.1014, 0.1058, 0.4056, -0.7538, -0.1967, -0.4197,
                     0.1209, 0.234, -0.0979, -1.3035])


def _tops(values, own, d):
    """Local maxima of ``values`` inside ``own``, at least d / 4 apart (row, col)."""
    from skimage.feature import peak_local_max

    v = np.where(own, values, values[own].min() - 1.0)
    return peak_local_max(v, min_distance=max(1, int(d / 4)), labels=own.astype(np.uint8),
                          exclude_border=False)


def _valley(smooth, own, part, bg):
    """The lowest point of ``smooth`` on the straight line between the brightest points
    of ``part`` and of the rest of ``own``, below the lower of the two, over its height
    above ``bg``."""
    a = np.unravel_index(int(np.argmax(np.where(part, smooth, -np.inf))), smooth.shape)
    b = np.unravel_index(int(np.argmax(np.where(own & ~part, smooth, -np.inf))), smooth.shape)
    n = int(np.ceil(np.hypot(a[0] - b[0], a[1] - b[1]))) + 1
    line = ndi.map_coordinates(smooth.astype(np.float64),
                               [np.linspace(a[0], b[0], n), np.linspace(a[1], b[1], n)],
                               order=1)
    low = min(line[0], line[-1])
    return float((low - line.min()) / max(low - bg, 1e-12))


def _cues(own, part, smooth, d, fit, bg):
    """The cut's cues in the order of ``_MEAN`` (see the module's docstring)."""
    from skimage.feature import peak_local_max
    from skimage.measure import regionprops

    _, gain, level, share = fit
    pad = np.pad(own, 2)
    dt = ndi.distance_transform_edt(pad)
    maxima = len(peak_local_max(dt, min_distance=max(1, int(d / 4)), threshold_abs=d / 8,
                                exclude_border=False))
    solidity = regionprops(pad.astype(np.uint8))[0].solidity
    a = np.pad(part, 2)
    b = pad & ~a
    cut = a & ndi.binary_dilation(b)  # the part's pixels on the cut
    da = ndi.distance_transform_edt(a).max()
    db = ndi.distance_transform_edt(b).max()
    width = int(np.count_nonzero(cut))
    depth = float(dt[cut].max() / min(dt[a].max(), dt[b].max())) if width else 1.0
    neck = width / max(2 * min(da, db), 1e-9)
    return np.array([np.count_nonzero(own) / (np.pi * d * d / 4), gain, level, share,
                     min(neck, 3.0), solidity, _valley(smooth, own, part, bg), maxima, depth,
                     len(_tops(smooth, own, d)), dt.max() / (d / 2)])


def _odds(cues):
    """The model's odds that the cut gains a match."""
    z = (cues - _MEAN) / _SPREAD
    return 1.0 / (1.0 + np.exp(-(_WEIGHTS[0] + z @ _WEIGHTS[1:])))


def _split_by_odds(labels, smooth, level, d, first, image=None):
    """``labels`` with each label of at least ``_AREA`` nucleus areas whose two-dome cut
    has odds over ``_CUT`` split in two (the second part a new label, ids ``first``,
    ``first`` + 1, ...), and one point per new label (its largest distance to its
    outline), for :func:`._small._with_new_labels`. The domes are fitted to ``image``
    (else ``smooth``); the cues read ``smooth``; ``level`` is not read."""
    image = smooth if image is None else image
    sizes = np.bincount(labels.ravel())
    ids = np.flatnonzero(sizes >= _AREA * np.pi * d * d / 4)
    ids = ids[ids > 0]
    points = []
    if not ids.size:
        return labels, np.empty((0, 2), np.int64)
    out = labels
    boxes = ndi.find_objects(labels)
    for i in ids.tolist():
        box = tuple(slice(max(0, s.start - _PAD), min(m, s.stop + _PAD))
                    for s, m in zip(boxes[i - 1], labels.shape, strict=True))
        sub = labels[box]
        own = sub == i
        ring = _crosses_dilated(own, _RING) & (sub == 0)
        fit = _two_dome_fit(image[box], own, ring, *_LOOSE)
        if fit is None:
            continue
        sm = smooth[box]
        bg = float(np.median(sm[ring])) if ring.any() else float(sm[own].min())
        part = fit[0]
        if _odds(_cues(own, part, sm, d, fit, bg)) <= _CUT:
            continue
        if out is labels:
            out = labels.copy()
        new = own & ~part
        out[box][new] = first + len(points)
        dist = ndi.distance_transform_edt(new)
        at = np.unravel_index(int(np.argmax(dist)), dist.shape)
        points.append((at[0] + box[0].start, at[1] + box[1].start))
    return out, np.array(points, np.int64).reshape(-1, 2)
