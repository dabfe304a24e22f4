"""Dim nuclei on a glow carved out of a label (issue 14, rounds 26-27).

:func:`._dim._with_glow_dim` finds dim nuclei on a saturated cell's glow; an outline that
lies on the background becomes a label of its own, and one that lies on a large label (a
glow's, or the glow's and a nucleus's) is carved out of it when what the label keeps is
the glow's rest (:func:`_add_or_carve`). Outlines joined into one part are cut between
the points they were found from first (:func:`_split_at_points`). Kept apart from
:mod:`._dim`, which finds the outlines.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _per_label
from ._small import _with_new_peaks

#: round 26: a dim nucleus on a glow whose outline lies on one large label (a glow's, or
#: the glow's and a nucleus's) is carved out of it when the label is at least this many
#: nucleus areas and the outline holds at most this share of it
_CARVE_AREA = 2.0
_CARVE_SHARE = 0.65
#: ... and all the outlines carved out of one label at most this share of it (two LoG
#: maxima on one large U2OS nucleus: 0.95 and more; two dim nuclei under a glow's label,
#: tuning `dim` 61: 0.71)
_CARVE_ALL = 0.8


#: round 52: the pieces of joined outlines, once cut between their points, each tested
#: again for a label of its own (the whole was refused when one piece touched a label)
_SPLIT_NEW = 1


def _add_or_carve(labels, markers, peak, smooth, d, least, found, points, in_blob):
    """:func:`._dim._with_glow_dim`'s outlines ``found`` (from ``points``) added or carved,
    a label carved only where ``in_blob(host, comp, points, labels)`` says it lies in the
    blob of a saturated cell (:func:`._dim._cell_in_blob`)."""
    if found is None:
        return labels, markers, peak, False
    comp, k = ndi.label(found)
    size = np.bincount(comp.ravel(), minlength=k + 1)
    free = np.bincount(comp[labels == 0], minlength=k + 1)
    new = (free >= least) & (10 * (size - free) <= size)
    new[0] = False
    before = k
    comp, k = _split_at_points(comp, k, points, new)
    new = np.append(new, np.zeros(k + 1 - new.size, bool))
    if _SPLIT_NEW and k > before:  # the pieces of joined outlines tested again, each
        size = np.bincount(comp.ravel(), minlength=k + 1)
        free = np.bincount(comp[labels == 0], minlength=k + 1)
        again = (free >= least) & (10 * (size - free) <= size)
        again[:before + 1] = False
        new |= again
    host = _carve_hosts(comp, k, labels, least, d)
    host[new] = 0
    host[~in_blob(host, comp, points, labels)] = 0
    hosts = _glow_rest(host, comp, labels, smooth, least)
    host[~np.isin(host, hosts)] = 0
    new |= host > 0
    if not new.any():
        return labels, markers, peak, False
    ids = np.flatnonzero(new)
    first = max(peak.size, int(labels.max()) + 1)
    table = np.zeros(k + 1, np.int64)
    table[ids] = first + np.arange(ids.size)
    on = _per_label(new, comp) & ((labels == 0) | (labels == host[comp]))
    out = labels.copy()
    out[on] = table[comp[on]]
    out[np.isin(out, hosts)] = 0  # the glow's rest of the carved labels
    markers = markers.copy()
    at = points & on
    markers[at] = int(markers.max()) + comp[at]
    peak = _with_new_peaks(peak, first, smooth, out, table[ids])
    peak[hosts] = np.inf  # gone
    return out.astype(np.int32), markers, peak, True


def _glow_rest(host, comp, labels, smooth, least) -> np.ndarray:
    """The labels ``host`` names (per part of ``comp``) that are a glow's: what they keep
    once the parts are carved out is under ``least`` pixels or dimmer (median of
    ``smooth``) than the brightest part carved out of them, and the parts hold at most
    ``_CARVE_ALL`` of the label. Any other is left whole: a rest brighter than the dim
    outline may be the brighter side of one large nucleus, and outlines covering a label
    are its own LoG maxima (augmented U2OS `ramp` dna-3: one large nucleus split in two
    when they were carved)."""
    hosts = np.unique(host[host > 0])
    if not hosts.size:
        return hosts
    cut = (comp > 0) & (labels == host[comp]) & (host[comp] > 0)
    rest = np.where(cut, 0, labels)
    left = np.bincount(rest.ravel(), minlength=int(hosts.max()) + 1)[hosts]
    carved = np.flatnonzero(host)
    brightest = np.full(hosts.size, -np.inf)
    on = _per_label(host > 0, comp) & ((labels == 0) | cut)
    np.maximum.at(brightest, np.searchsorted(hosts, host[carved]),
                  ndi.median(smooth, np.where(on, comp, 0), carved))
    dimmer = np.asarray(ndi.median(smooth, rest, hosts)) < brightest
    whole = np.bincount(labels.ravel(), minlength=int(hosts.max()) + 1)[hosts]
    return hosts[((left < least) | dimmer) & (whole - left <= _CARVE_ALL * whole)]


def _split_at_points(comp, k, points, keep):
    """``comp`` (labels 0..``k``) with each part that holds two or more of ``points`` and
    is not kept (``keep``) cut between them: each pixel to its nearest point, a pixel as
    near to two of them to neither (symmetric under flips and turns, no order between the
    points). Returns the labels and their new count."""
    py, px = np.nonzero(points & (comp > 0))
    owner = comp[py, px]
    many = (np.bincount(owner, minlength=k + 1) >= 2) & ~keep
    if not many.any():
        return comp, k
    comp = comp.copy()
    for c in np.flatnonzero(many):
        qy, qx = py[owner == c], px[owner == c]
        ys, xs = np.nonzero(comp == c)
        dist = (ys[:, None] - qy[None, :]) ** 2 + (xs[:, None] - qx[None, :]) ** 2
        near = np.argmin(dist, axis=1)
        tie = (dist == dist[np.arange(ys.size), near][:, None]).sum(axis=1) > 1
        comp[ys, xs] = np.where(tie, 0, k + 1 + near)
        k += qy.size
    return comp, k


def _carve_hosts(comp, k, labels, least, d) -> np.ndarray:
    """Per outline 0..``k`` of ``comp``, the label it is carved out of (0: none): the one
    label holding more of it than any other (a tie: none), of at least ``_CARVE_AREA``
    nucleus areas, of which it holds at most ``_CARVE_SHARE``, with at most a tenth of the
    outline on other labels and ``least`` pixels on that label and the background."""
    host = np.zeros(k + 1, np.int64)
    on = (comp > 0) & (labels > 0)
    if not on.any():
        return host
    size = np.bincount(comp.ravel(), minlength=k + 1)
    w = int(labels.max()) + 1
    pairs, counts = np.unique(comp[on].astype(np.int64) * w + labels[on], return_counts=True)
    c_of, l_of = np.divmod(pairs, w)
    top = np.zeros(k + 1, np.int64)
    np.maximum.at(top, c_of, counts)
    win = counts == top[c_of]
    best = np.zeros(k + 1, np.int64)
    best[c_of[win]] = l_of[win]
    held = np.bincount(c_of, weights=counts, minlength=k + 1)  # on any label
    areas = np.bincount(labels.ravel(), minlength=w)
    ok = (np.bincount(c_of[win], minlength=k + 1) == 1) & (best > 0)
    ok &= 10 * (held - top) <= size
    ok &= size - held + top >= least
    ok &= areas[best] >= _CARVE_AREA * np.pi * d * d / 4
    ok &= top <= _CARVE_SHARE * areas[best]
    ok[0] = False
    host[ok] = best[ok]
    return host
