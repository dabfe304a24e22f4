"""Shoulders: dim nuclei on a brighter neighbour's blurred flank (issue 14, round 22).

In a dense, blurred field a dim nucleus beside a bright one has no intensity peak of its
own: it is a shoulder on the bright one's flank, and the bright one's label, cut at a
fraction of its own peak, keeps the dim nucleus's side. The curvature still shows it:
``L``, the scale-normalised negative Laplacian of Gaussian at ``_SCALE`` d, has a local
maximum on the shoulder, parted from the bright nucleus's own maximum by a valley.

:func:`_split_shoulders` finds those maxima (farther than ``_SEP`` d from every label's
own largest ``L``, and parted from the nearest one by ``L`` below ``_VALLEY`` times their
own) and cuts each from its *host* (the label it lies in, else the one whose own maximum
is nearest) by one watershed of ``-L`` per host, on the host's pixels and the background
pixels within ``_REACH`` d of its shoulders brighter than ``_HALF`` of a shoulder's
contrast; a shoulder's basin of ``_OWN`` nucleus areas or more is a new label. Maxima of
``L`` up to ``_NEAR`` d from a label count (round 23: a dim nucleus wholly beside its
bright neighbour lies farther out than the 0.7 d of round 22).
A host whose own maximum lies on its seam with another label (within ``_SEAM`` d) keeps its
shoulders when they hold about half of its light (round 42, :func:`_on_seams`): where two
nuclei overlap their light adds and the bright seam, not the host's body, has the largest
``L``.

It runs only on dense blurred fields (:func:`._background._shoulder_gate`): on glow
fields bright foci give shoulders of ``L`` inside real nuclei. Local: a label's whole
blob and three diameters around it give its in-memory result (the chunked path's
windows, ``_chunk_task._BLOB_REACH``: maxima 1.5 d out, ``L`` read 1 d around them).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

_SCALE = 0.25  # the LoG's sigma, times d
_APART = 0.3  # its maxima at least this times d apart
_NEAR = 1.5  # ... and within this times d of a label (round 22: 0.7)
_SEP = 0.5  # a shoulder lies farther than this times d from every label's own maximum
_VALLEY = 0.3  # ... and the least L between them is below this times its own L
_REACH = 0.7  # background pixels within this times d of a shoulder may join it ...
_HALF = 0.2  # ... when brighter than this share of its contrast over the level (r22: 0.5)
_OWN = 0.3  # a new label: at least this times a nucleus's area (pi d^2 / 4)
_SEAM = 0.1  # a host whose own maximum is this times d from another label ...
_SEAM_LIGHT = 0.45  # ... and its shoulders this bright (over the level, x its own): no cut


def _curvature(smooth, d):
    """``L``: the scale-normalised negative LoG of ``smooth`` at ``_SCALE d`` (truncated
    at 4 sigma: d)."""
    sigma = _SCALE * d
    return -sigma * sigma * ndi.gaussian_laplace(smooth.astype(np.float64), sigma)


def _valley(lap, a, b) -> float:
    """The least ``lap`` on the segment from point ``a`` to point ``b`` (bilinear)."""
    m = max(2, int(2 * np.hypot(*(b - a))))
    t = np.linspace(0.0, 1.0, m)
    return float(ndi.map_coordinates(lap, np.outer(b - a, t) + a[:, None], order=1).min())


def _claim(labels, smooth, level, d, p):
    """The background pixels within ``_REACH`` d of the shoulder ``p`` brighter than
    ``_HALF`` of its contrast over ``level``: their box (slices of ``labels``) and a
    boolean array of it."""
    reach = int(np.ceil(_REACH * d))
    box = tuple(slice(max(0, c - reach), min(c + reach + 1, size))
                for c, size in zip(p, labels.shape, strict=True))
    rr, cc = np.ogrid[box]
    mine = ((rr - p[0]) ** 2 + (cc - p[1]) ** 2 <= (_REACH * d) ** 2) & (labels[box] == 0)
    mine &= smooth[box] > level + _HALF * (smooth[tuple(p)] - level)
    return box, mine


def _union(a, b):
    """The box (slices) holding the boxes ``a`` and ``b`` (``a`` may be None)."""
    if a is None:
        return b
    return tuple(slice(min(x.start, y.start), max(x.stop, y.stop))
                 for x, y in zip(a, b, strict=True))


def _on_seams(labels, own, owner, hosts, d, smooth, level):
    """The hosts whose own maxima of ``L`` (``own``, of the labels ``owner``) all lie within
    ``_SEAM`` d of another label, on the seam where the host overlaps a neighbour, and whose
    shoulders (``hosts[host]``, points) all reach ``_SEAM_LIGHT`` of the brightest own
    maximum's contrast over ``level`` in ``smooth``.

    Where two nuclei overlap their light adds: the seam is a narrow band brighter than
    both, and ``L`` is largest on it, at the label's edge. The host's own body then looks
    like a shoulder and was cut off it: one nucleus in two, the seam's piece mixed over two
    nuclei (round 42: 49 of the 63 shoulder cuts that parted no two nuclei on the dense
    tuning fields at PSF x1, against 8 of the 59 that did). The seam holds the light of
    two nuclei, the host's body about half of it; a dim nucleus on the flank, less."""
    reach = _SEAM * d
    r = int(np.ceil(reach))

    def on_seam(p, host):  # another label within ``reach`` of the point ``p``
        box = tuple(slice(max(0, c - r), min(c + r + 1, size))
                    for c, size in zip(p, labels.shape, strict=True))
        rr, cc = np.ogrid[box]
        other = labels[box][(rr - p[0]) ** 2 + (cc - p[1]) ** 2 <= reach * reach]
        return bool(np.any((other > 0) & (other != host)))

    seams = []
    for host in sorted(hosts):
        tops = own[owner == host]
        if not all(on_seam(p, host) for p in tops):
            continue
        top = max(float(smooth[tuple(p)]) for p in tops) - level
        if all(float(smooth[tuple(p)]) - level >= _SEAM_LIGHT * top for p in hosts[host]):
            seams.append(host)
    return seams


def _split_shoulders(labels, smooth, level, d, first):
    """``labels`` with their shoulders cut off as new labels (ids ``first``, ``first`` +
    1, ...), and the shoulders' points (one row per new label, in its order).

    Each host's watershed runs in the box of its pixels and its shoulders' claims (round
    23; the whole image before, the same labels: the flood's mask is the same and the
    order of its pixels too)."""
    from scipy.spatial import cKDTree

    from ._basins import _watershed as watershed  # (skimage's, bit for bit)

    n = int(labels.max())
    none = (labels, np.empty((0, 2), np.int64))
    if n == 0 or level is None:
        return none
    lap = _curvature(smooth, d)
    # each label's own maximum: its largest L (every pixel of a tie)
    top = np.full(n + 1, -np.inf)
    np.maximum.at(top, labels.ravel(), lap.ravel())
    own = np.argwhere((labels > 0) & (lap == top[labels]))
    owner = labels[own[:, 0], own[:, 1]]
    # the maxima of L (plateaus whole: no tie is broken), in a label or near one
    side = 2 * max(1, int(_APART * d)) + 1
    near = ndi.distance_transform_edt(labels == 0) <= _NEAR * d
    peaks = np.argwhere((lap == ndi.maximum_filter(lap, side)) & (lap > 0) & near)
    # shoulders: far from every own maximum, a valley of L to the nearest (all as near);
    # the host: the label a shoulder lies in, else the one whose own maximum is nearest
    tree = cKDTree(own)
    hosts = {}
    for p in peaks:
        gap = tree.query(p)[0]
        if gap <= _SEP * d:
            continue
        nearest = tree.query_ball_point(p, gap * (1 + 1e-9))
        if any(_valley(lap, p.astype(float), own[i].astype(float)) >= _VALLEY * lap[tuple(p)]
               for i in nearest):
            continue
        hosts_near = np.unique(owner[nearest])
        host = int(labels[tuple(p)]) or (int(hosts_near[0]) if hosts_near.size == 1 else 0)
        if host:
            hosts.setdefault(host, []).append(p)
    for host in _on_seams(labels, own, owner, hosts, d, smooth, level):
        del hosts[host]
    if not hosts:
        return none
    # the background pixels that may join a shoulder: within reach of it, brighter than
    # ``_HALF`` of its contrast; those that two hosts' shoulders reach join neither
    claim = np.zeros(labels.shape, np.int64)
    boxes = ndi.find_objects(labels, max_label=max(hosts))
    span = {}
    for host, points in hosts.items():
        span[host] = boxes[host - 1]
        claims = [_claim(labels, smooth, level, d, p) for p in points]
        for box, _ in claims:
            span[host] = _union(span[host], box)
        mine = np.zeros([s.stop - s.start for s in span[host]], bool)
        for box, part in claims:
            mine[tuple(slice(b.start - s.start, b.stop - s.start)
                       for b, s in zip(box, span[host], strict=True))] |= part
        at = claim[span[host]]
        at[mine] = np.where(at[mine] == 0, host, -1)
    out = labels.copy()
    area = _OWN * np.pi * d * d / 4
    new_points = []
    next_id = first
    for host in sorted(hosts):
        points = hosts[host]
        outer = span[host]
        domain = (labels[outer] == host) | (claim[outer] == host)
        inner = ndi.find_objects(domain.astype(np.int8))[0]  # the domain's own box
        box = tuple(slice(o.start + i.start, o.start + i.stop)
                    for o, i in zip(outer, inner, strict=True))
        corner = np.array([b.start for b in box])
        markers = np.zeros(domain[inner].shape, np.int32)
        markers[tuple((own[owner == host] - corner).T)] = 1
        for k, p in enumerate(points):  # one outside the domain floods nothing
            at = p - corner
            if (at >= 0).all() and (at < markers.shape).all():
                markers[tuple(at)] = k + 2
        basins = watershed(-lap[box], markers, mask=domain[inner])
        for k, p in enumerate(points):
            part = basins == k + 2
            if np.count_nonzero(part) >= area:
                out[box][part] = next_id
                next_id += 1
                new_points.append(p)
    return out, np.array(new_points, np.int64).reshape(-1, 2)
