"""One elliptical dome against two: a dense field's label that holds two nuclei (round 50).

On dense blurred fields (:func:`._background._shoulder_gate`) many labels that hold two
touching nuclei never had a second seed: neither their outline (size, solidity, axes) nor
a second brightness top tells them from a large single nucleus (``docs/nuclei-history.md``, round
49). Each nucleus there is an elliptical dome of its own level blurred by the optics, so a
label is fitted once with one such dome and once with two, by least squares on its pixels
and the background ring around it (the pixels of other labels left out), and it is split
where the two domes explain its light much better than one.

The dome (:func:`_dome`): ``A (1 + c (1 - r)) erfc((r - 1) R / (√2 w)) / 2`` with ``r``
the elliptical radius (centre, semi-axes ``a`` and ``b``, angle), ``R = √(ab)``, ``c`` its
rise to the centre and ``w`` the blur; two domes share the background and ``w``, and their
light adds. The two domes start from the label's halves across its major axis. A
candidate label is at least ``_AREA`` nucleus areas (π d²/4), or ``_LONG_AREA`` of one
with axes of ``_LONG_AXES`` : 1 or more. It is split (each pixel to the dome that gives
it more light) when the fit's gain per pixel ``log(rss₁ / rss₂) - 7 log(n) / n`` is over
``_GAIN``, the smaller part holds at least ``_PART`` of the label, the dimmer dome's
level is at least ``_LEVEL`` of the brighter's, and each part is one piece.
The fit reads every other pixel (a checkerboard) and at most ``_STEPS`` evaluations; the
one dome is fitted only for a label whose two domes pass the other gates (round 51).
A label too large for its inscribed disc (:func:`_too_large`, round 52's cue) is fitted
again after that step with looser gates (``_FAT_GATES``) and cut along the boundary of its
two domes' parts (:func:`_split_fat_by_domes`, round 53, switched by ``_recipe._FAT_DOMES``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy.special import erfc

from .._label_image import _crosses_dilated, _labelled_pixels

_AREA = 1.65  # candidates: at least this many nucleus areas (pi d^2 / 4) ...
_LONG_AREA = 0.77  # ... or at least this many with axes of _LONG_AXES : 1 or more
_LONG_AXES = 1.8
_GAIN = 1.1  # split when log(rss1 / rss2) - 7 log(n) / n is over this
_PART = 0.3  # ... the smaller part holds at least this share of the label
_LEVEL = 0.65  # ... the dimmer dome's level is at least this share of the brighter's
_PAD = 3  # the background ring fitted around the label, px
_STEPS = 20  # most evaluations of each fit
_W0 = 1.5  # the blur's start, px
_SQ2 = np.sqrt(2.0)


def _dome(p, y, x, w):
    """The light of elliptical domes ``p`` (7 rows: y0, x0, log a, log b, angle, A, c;
    each a scalar or a column of a batch) at the points ``y``, ``x``, blur ``w``."""
    y0, x0, la, lb, t, amp, c = np.asarray(p)[..., None]
    a, b = np.exp(la), np.exp(lb)
    dy, dx = y - y0, x - x0
    cos, sin = np.cos(t), np.sin(t)
    u = dy * cos + dx * sin
    v = dx * cos - dy * sin
    r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return amp * (1 + c * np.maximum(1 - r, 0)) * 0.5 * erfc((r - 1) * np.sqrt(a * b)
                                                             / (_SQ2 * w))


def _ellipse(y, x):
    """Centre, semi-axes (those of a uniform ellipse of these second moments, at least
    1.5 px), angle of the major axis and its direction, of the points ``y``, ``x``."""
    cy, cx = y.mean(), x.mean()
    cov = np.cov(np.stack([y - cy, x - cx]), bias=True)
    ev, vec = np.linalg.eigh(cov)
    ev = np.maximum(ev, 0.5625)
    return cy, cx, 2 * np.sqrt(ev[1]), 2 * np.sqrt(ev[0]), np.arctan2(vec[1, 1], vec[0, 1]), \
        vec[:, 1]


def _fit(yy, xx, z, k, p0, lo, hi):
    """The least-squares fit of ``k`` domes to ``z``: its parameters (the background, the
    blur's log, then seven per dome as :func:`_dome` reads them) and residual sum.

    The Jacobian is by forward differences, every column in one batch per dome: a column
    moves the background, the blur or one dome, so each dome is evaluated only on the
    rows that move it (the blur's and its own), the others' light and the model at ``p``
    taken from the last residual (the optimiser asks for the Jacobian where it last
    evaluated the residual). Element by element the same operations as evaluating every
    dome on the whole batch of columns, so the same numbers: only fewer of them."""
    from scipy.optimize import least_squares

    last = {}
    rows = [np.r_[1, 2 + 7 * j: 9 + 7 * j] for j in range(k)]  # the rows that move dome j

    def terms(p):
        q = np.asarray(p, float)
        w = np.exp(q[1])[..., None]
        return [_dome(q[2 + 7 * j: 9 + 7 * j], yy, xx, w) for j in range(k)]

    def res(p):
        domes = terms(p)
        out = p[0] + np.zeros_like(yy)
        for d in domes:
            out = out + d
        last["p"], last["domes"], last["model"] = p.copy(), domes, out
        return out - z

    def jac(p):
        if "p" not in last or not np.array_equal(last["p"], p):
            res(p)
        h = 1e-6 * np.maximum(1.0, np.abs(p))
        q = p[None, :] + np.diag(h)
        w = np.exp(q[:, 1])
        out = q[:, 0][:, None] + np.zeros((q.shape[0], yy.size))
        for j, base in enumerate(last["domes"]):
            dome = np.empty_like(out)
            dome[:] = base
            dome[rows[j]] = _dome(q[rows[j], 2 + 7 * j: 9 + 7 * j].T, yy, xx,
                                  w[rows[j]][:, None])
            out = out + dome
        return ((out - last["model"]) / h[:, None]).T

    p0 = np.clip(p0, lo + 1e-9, hi - 1e-9)
    r = least_squares(res, p0, jac=jac, bounds=(lo, hi), max_nfev=_STEPS)
    return r.x, float(r.fun @ r.fun)


def _two_domes(image, own, ring, gates=None):
    """Whether the label ``own`` (a boolean box; ``ring`` its background ring) is two
    domes by the gates above (or ``gates``: gain, part, level), and if so the pixels of
    its first part (a boolean box)."""
    gain, share, least = (_GAIN, _PART, _LEVEL) if gates is None else gates
    fit = _two_dome_fit(image, own, ring, share, least)
    return None if fit is None or fit[1] <= gain else fit[0]


def _two_dome_fit(image, own, ring, share, least):
    """(first part, gain of two domes over one, level ratio, smaller part's share) of the
    label ``own``, or None when it fails the part's ``share`` or the domes' level ratio
    ``least`` (read before the one dome is fitted: the same labels, fewer fits) or does
    not fit in two connected parts."""
    use = own | ring
    grid = np.indices(use.shape).sum(0) % 2 == 0  # every other pixel: the fit's cost
    yy, xx = (c.astype(np.float64) for c in np.nonzero(use & grid))
    oy, ox = (c.astype(np.float64) for c in np.nonzero(own))
    zo = image[own].astype(np.float64)
    bg = float(np.percentile(image[ring], 10)) if ring.any() else float(zo.min())
    scale = float(np.percentile(zo, 90)) - bg
    if scale <= 0 or zo.size < 8:
        return None
    z = (image[use & grid].astype(np.float64) - bg) / scale
    zo = (zo - bg) / scale
    cy, cx, a, b, t, axis = _ellipse(oy, ox)
    lo = np.array([-np.inf, np.log(0.3)] + [-np.inf, -np.inf, 0.0, 0.0, -np.inf, 0.0, 0.0] * 2)
    hi = np.array([np.inf, np.log(6.0)] + [np.inf, np.inf, np.log(60.0), np.log(60.0),
                                            np.inf, 10.0, 3.0] * 2)
    side = (oy - cy) * axis[0] + (ox - cx) * axis[1] > 0
    p0 = [0.0, np.log(_W0)]
    for half in (side, ~side):
        if np.count_nonzero(half) < 3:
            return None
        hy, hx, ha, hb, ht, _ = _ellipse(oy[half], ox[half])
        p0 += [hy, hx, np.log(ha), np.log(hb), ht, float(np.percentile(zo[half], 90)), 0.3]
    two, rss2 = _fit(yy, xx, z, 2, np.array(p0), lo, hi)
    # the gates that read the two domes alone first: the one dome is fitted only for a
    # label that passes them (the same labels, fewer fits)
    if rss2 <= 0 or min(two[7], two[14]) < least * max(two[7], two[14]):
        return None
    level = min(two[7], two[14]) / max(two[7], two[14], 1e-12)
    w = np.exp(two[1])
    first = _dome(two[2:9], oy, ox, w) >= _dome(two[9:16], oy, ox, w)
    smaller = min(np.count_nonzero(first), np.count_nonzero(~first))
    if smaller < share * first.size:
        return None
    part = np.zeros_like(own)
    part[oy[first].astype(int), ox[first].astype(int)] = True
    if ndi.label(part)[1] != 1 or ndi.label(own & ~part)[1] != 1:
        return None
    _, rss1 = _fit(yy, xx, z, 1, np.array(
        [0.0, np.log(_W0), cy, cx, np.log(a), np.log(b), t, 1.0, 0.3]), lo[:9], hi[:9])
    n = z.size
    return (part, float(np.log(rss1 / rss2) - 7 * np.log(n) / n), float(level),
            smaller / first.size)


def _candidates(labels, d):
    """The ids of the labels large or long enough to be fitted (see above). The second
    moments of the long ones are summed over their own pixels
    (``_label_image._labelled_pixels``; round 51: whole-image index grids before), by
    label in row-major order as ``ndi.sum_labels`` summed them: the same candidates, bit
    for bit."""
    n = int(labels.max())
    sizes = np.bincount(labels.ravel(), minlength=n + 1).astype(np.float64)
    unit = np.pi * d * d / 4
    ids = np.flatnonzero(sizes >= _LONG_AREA * unit)
    ids = ids[ids > 0]
    if not ids.size:
        return ids
    big = sizes[ids] >= _AREA * unit
    long = ids[~big]
    if long.size:  # the axes of the others, from their second moments
        lab, rr, cc = _labelled_pixels(labels, n, long)
        rr, cc = rr.astype(np.float64), cc.astype(np.float64)
        m = [np.bincount(lab, v, n + 1)[long] / sizes[long] for v in (rr, cc, rr * rr,
                                                                     cc * cc, rr * cc)]
        vr, vc, vrc = m[2] - m[0] ** 2, m[3] - m[1] ** 2, m[4] - m[0] * m[1]
        root = np.sqrt(((vr - vc) / 2) ** 2 + vrc ** 2)
        big[~big] = ((vr + vc) / 2 + root) >= _LONG_AXES ** 2 * np.maximum(
            (vr + vc) / 2 - root, 1e-9)
    return ids[big]


def _split_by_domes(labels, smooth, level, d, first, image=None, ids=None, gates=None):
    """``labels`` with each label that two domes fit much better than one split in two
    (the second part a new label, ids ``first``, ``first`` + 1, ...), and one point per
    new label (its largest distance to its outline), for :func:`._small._with_new_labels`.
    The domes are fitted to ``image`` (the working image before its smoothing, its noise
    the fit's scale), else to ``smooth``; ``level`` is not read. Each label is fitted in its
    own box, widened by ``_PAD``: the same in a chunk's window."""
    image = smooth if image is None else image
    ids = _candidates(labels, d) if ids is None else ids
    points = []
    if not ids.size:
        return labels, np.empty((0, 2), np.int64)
    out = labels
    boxes = ndi.find_objects(labels)
    for i in ids.tolist():
        box = boxes[i - 1]
        box = tuple(slice(max(0, s.start - _PAD), min(m, s.stop + _PAD))
                    for s, m in zip(box, labels.shape, strict=True))
        sub = labels[box]
        own = sub == i
        ring = _crosses_dilated(own, _PAD) & (sub == 0)
        part = _two_domes(image[box], own, ring, gates)
        if part is None:
            continue
        if out is labels:
            out = labels.copy()
        new = own & ~part
        out[box][new] = first + len(points)
        dist = ndi.distance_transform_edt(new)
        at = np.unravel_index(int(np.argmax(dist)), dist.shape)
        points.append((at[0] + box[0].start, at[1] + box[1].start))
    return out, np.array(points, np.int64).reshape(-1, 2)


_FAT_AREA = 1.4  # too large for its inscribed disc: at least this many nucleus areas and
_FAT_SLOPE = 2.4  # ... areas >= _FAT_SLOPE * (inscribed radius / (d / 2)) - _FAT_OFF
_FAT_OFF = 0.2
_FAT_GATES = (0.6, 0.25, 0.5)  # the two-dome gates for such a label: gain, part, level


def _too_large(labels, d):
    """The ids of the labels too large for their inscribed disc (round 52): at least
    ``_FAT_AREA`` nucleus areas and ``_FAT_SLOPE`` × (inscribed radius / (d / 2)) −
    ``_FAT_OFF`` of them. Each distance map in the label's own box."""
    n = int(labels.max())
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    unit = np.pi * d * d / 4
    ids = np.flatnonzero(sizes >= _FAT_AREA * unit)
    ids = ids[ids > 0]
    boxes = ndi.find_objects(labels)
    out = []
    for i in ids.tolist():
        own = labels[boxes[i - 1]] == i
        dt = ndi.distance_transform_edt(np.pad(own, 1))
        if sizes[i] / unit >= _FAT_SLOPE * dt.max() / (d / 2) - _FAT_OFF:
            out.append(i)
    return np.array(out, np.int64)


def _split_fat_by_domes(labels, smooth, level, d, first, image=None):
    """:func:`_split_by_domes` for the labels too large for their inscribed disc
    (:func:`_too_large`), with the gates ``_FAT_GATES``: such a label is cut along the
    boundary of its two domes' parts (each pixel to the dome that gives it more light)."""
    return _split_by_domes(labels, smooth, level, d, first, image=image,
                           ids=_too_large(labels, d), gates=_FAT_GATES)
