"""Per-object cues of the default nuclei recipe for harder images (issue 14).

Bright foci (chromocenters) inside a nucleus, and clusters of nuclei pressed together: both
decided per object from its own intensities, at the working resolution. Kept apart from
:mod:`._recipe`, which calls them.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _relabel_sequential


def _label_quantile(values: np.ndarray, labels: np.ndarray, n: int, q: float) -> np.ndarray:
    """Quantile ``q`` of ``values`` per label 0..n (-inf where a label is absent); one sort."""
    lab = labels.ravel()
    inside = lab > 0
    lab, val = lab[inside], values.ravel()[inside]
    out = np.full(n + 1, -np.inf)
    if lab.size == 0:
        return out
    order = np.lexsort((val, lab))
    lab, val = lab[order], val[order]
    counts = np.bincount(lab, minlength=n + 1)
    start = np.cumsum(counts) - counts
    present = np.flatnonzero(counts)
    present = present[present > 0]
    at = start[present] + np.floor(q * (counts[present] - 1)).astype(np.int64)
    out[present] = val[at]
    return out


def _unless_foci(labels, smooth, level, peak, core, cap: float) -> np.ndarray:
    """``peak`` per label, but at most ``cap`` times the contrast of the median of
    ``smooth`` over the label's ``core`` (a label image).

    Bright foci (chromocenters 2-4x brighter than the nucleoplasm) would otherwise set the
    peak, and a cut at a fraction of it would keep the foci and lose the rest of the nucleus
    (ragged fragments, or a nucleus too small to be kept). A nucleus without foci has its
    maximum within the cap (its centre is a little brighter than its median).
    """
    n = int(labels.max())
    median = _label_quantile(smooth, core, n, 0.5)
    return np.where(median > level, np.minimum(peak, level + cap * (median - level)),
                    peak)


def _split_clusters(labels, markers, smooth, height, d, min_size_work, big: float,
                    ratio: float):
    """Split objects too large to be one nucleus along the intensity steps between nuclei.

    An object of more than ``big`` times the area of a disc of diameter ``d`` holds
    several nuclei pressed together (a dense field): the distance transform sees no neck
    there, since the nuclei fill each other's gaps. Each nucleus's own core is where the
    image is within ``ratio`` of its local maximum (over a box of about ``d/2``): seams
    and the steps between nuclei of different brightness fall below it. If the object has
    two cores or more of at least a quarter of the minimum size, they seed a watershed of
    the distance landscape inside it.
    """
    from skimage.segmentation import watershed

    n = int(labels.max())
    if n == 0:
        return labels, markers
    area = np.bincount(labels.ravel(), minlength=n + 1)
    big = np.flatnonzero(area > big * np.pi * d * d / 4)
    big = big[big > 0]
    if big.size == 0:
        return labels, markers
    size = 2 * max(1, round(d / 4)) + 1
    rank = np.zeros(n + 1, dtype=np.int32)
    rank[big] = np.arange(1, big.size + 1)
    boxes = ndi.find_objects(rank[labels], max_label=big.size)
    out = labels.copy()
    next_id = n + 1
    for k, i in enumerate(big):
        box = tuple(slice(max(s.start - size, 0), s.stop + size) for s in boxes[k])
        obj = labels[box] == i
        img = np.where(obj, smooth[box], -np.inf)
        local = ndi.maximum_filter(img, size)
        core = obj & (img >= ratio * local)
        core = ndi.binary_opening(core)
        parts, m = ndi.label(core)
        if m < 2:
            continue
        sizes = np.bincount(parts.ravel(), minlength=m + 1)
        ok = sizes >= 0.25 * min_size_work
        ok[0] = False
        if ok.sum() < 2:
            continue
        seeds = np.where(ok[parts], parts, 0)
        split = watershed(-height[box], seeds, mask=obj)
        ids = np.unique(split[split > 0])
        region = out[box]
        for j in ids:
            region[split == j] = next_id
            next_id += 1
    keep = np.zeros(next_id, dtype=bool)
    keep[np.unique(out)] = True
    out = _relabel_sequential(np.arange(next_id), keep)[out].astype(np.int32)
    return out, markers
