"""Seeds of the nuclei watershed: user seeds turned into markers, the h-maxima of a
landscape and the maxima over a disc (the default pipeline's first pass)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _mask_distance, _relabel_sequential, _structure
from .._validation import as_label_image, as_points
from ._basins import _flood
from ._cues import _disc


def _seed_markers(seeds, shape, mask) -> np.ndarray:
    """Turn user seeds (points or a label image) into a marker image inside ``mask``."""
    arr = np.asarray(seeds)
    if arr.ndim == 2 and arr.shape == shape and np.issubdtype(arr.dtype, np.integer):
        arr = as_label_image(arr, name="seeds")
        # numbered 1..n in the order of their ids: ids of any size (2**40 as int64) would
        # wrap to 0 or a negative as int32 and their seeds would be lost
        ids, markers = np.unique(arr, return_inverse=True)
        markers = (markers.reshape(shape) + int(ids[0] != 0)).astype(np.int32)
        markers[~mask] = 0
        return markers
    pts = as_points(arr, name="seeds")
    # halves rounded up: np.rint's halves to even put the seeds 1.5 and 2.5 (block centres
    # of a factor-2 working image, given back as seeds) on one pixel, and one was lost
    # (clipped first: a seed 1e20 pixels away cast to int64 warned; it stays outside)
    idx = np.floor(np.clip(pts, -1.0, np.asarray(shape)) + 0.5).astype(np.int64)
    inside = np.all((idx >= 0) & (idx < np.asarray(shape)), axis=1)
    idx = idx[inside]
    markers = np.zeros(shape, dtype=np.int32)
    keep = mask[idx[:, 0], idx[:, 1]]
    idx = idx[keep]
    markers[idx[:, 0], idx[:, 1]] = np.arange(1, len(idx) + 1, dtype=np.int32)
    return markers


def _h_maxima_markers(landscape: np.ndarray, h: float, mask: np.ndarray) -> np.ndarray:
    """The regional maxima of ``landscape`` in ``mask`` whose dynamic is at least ``h``.

    The h-maxima of morphology (Soille 2003, ch. 6), computed through the dynamics of the
    maxima: every regional maximum floods its basin (watershed inside ``mask``); the pass
    between two adjacent basins is the highest ``min(a, b)`` over their touching pixel pairs;
    joining basins from the highest pass down (a maximum spanning tree), a maximum dies
    when its set meets a higher one, with dynamic = its height - the pass. Each connected
    part of ``mask`` keeps its highest maximum. Same seeds as ``skimage.morphology.h_maxima``
    on the whole image (tested); in a mask, that one would also let the background connect
    separate parts. It does not sort every pixel: 1.5-2x faster on the smooth distance
    landscapes of the default pipeline; on a noisy landscape with thousands of maxima the
    loop over pairs of basins makes it slower (1.3 vs 1.0 s on a full U2OS image).
    """
    from skimage.morphology import local_maxima

    eight = np.ones((3, 3), dtype=bool)
    seeds, n = ndi.label(local_maxima(landscape, connectivity=2, allow_borders=True) & mask,
                         structure=eight)
    if n <= 1:
        return seeds.astype(np.int32)
    basins = _flood(-landscape, seeds, mask, connectivity=2)
    rows, cols = landscape.shape
    keys, passes = [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each 8-neighbour pair once
        src = (slice(0, rows - dr), slice(max(-dc, 0), cols - max(dc, 0)))
        dst = (slice(dr, rows), slice(max(dc, 0), cols - max(-dc, 0)))
        a, b = basins[src], basins[dst]
        touch = (a != b) & (a > 0) & (b > 0)
        if touch.any():
            lo = np.minimum(a[touch], b[touch]).astype(np.int64)
            hi = np.maximum(a[touch], b[touch]).astype(np.int64)
            keys.append(lo * (n + 1) + hi)
            passes.append(np.minimum(landscape[src][touch], landscape[dst][touch]))
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    if keys:
        key, value = np.concatenate(keys), np.concatenate(passes)
        order = np.lexsort((-value, key))  # per pair of basins, its highest pass first
        key, value = key[order], value[order]
        first = np.r_[True, key[1:] != key[:-1]]
        key, value = key[first], value[first]
        # each set's root is the basin of its highest maximum
        top = _seed_heights(landscape, seeds, n).tolist()
        parent = list(range(n + 1))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for k in np.argsort(-value, kind="stable").tolist():
            ra, rb = find(int(key[k] // (n + 1))), find(int(key[k] % (n + 1)))
            if ra == rb:
                continue
            if top[ra] < top[rb]:
                ra, rb = rb, ra
            if top[rb] - value[k] < h:
                keep[rb] = False
            parent[rb] = ra
    # the seeds kept are whole 8-connected pieces of the maxima, numbered (as ``ndi.label``
    # numbers them) in the raster order of their first pixels: renumbered 1..k in order,
    # the labelling of the seeds kept, without labelling them again
    return _relabel_sequential(seeds, keep)


def _seed_heights(landscape: np.ndarray, seeds: np.ndarray, n: int) -> np.ndarray:
    """Per seed 1..n (8-connected pieces of the regional maxima of ``landscape``), its
    height: ``_label_max(landscape, seeds, n)``, read at one pixel of each (0: -inf).

    A regional maximum is a plateau of one value, and two maxima that touch have the same
    value (the lower one would not be a maximum), so every pixel of a piece holds its
    maximum: the seeds' pixels are read, not every pixel of the landscape (round 59)."""
    top = np.full(n + 1, -np.inf)
    at = np.flatnonzero(seeds)
    top[seeds.ravel()[at]] = landscape.ravel()[at]
    return top


def _disc_maxima_markers(landscape: np.ndarray, radius: float, mask: np.ndarray) -> np.ndarray:
    """Seeds at the maxima of ``landscape`` over a disc of ``radius`` (a plateau = one seed):
    the 8-connected pieces of the pixels of ``mask`` at least
    ``_disc_maximum_filter(landscape, r)``, ``r = max(1, round(radius))``.

    Such a pixel is at least its four neighbours, which the disc holds for every r (beyond
    a side the image is mirrored: there the neighbour is the pixel itself), so the disc is
    read around those pixels only, a few hundred, instead of filtering every pixel (3.4
    -> 0.9 ms a call on U2OS). A maximum is exact whatever the order it is taken in; with
    many such pixels (a flat landscape), the filter as before."""
    r = max(1, round(radius))
    mask = np.asarray(mask, dtype=bool)
    peaks = mask.copy()  # the candidates: at least their four neighbours
    peaks[1:] &= landscape[1:] >= landscape[:-1]
    peaks[:-1] &= landscape[:-1] >= landscape[1:]
    peaks[:, 1:] &= landscape[:, 1:] >= landscape[:, :-1]
    peaks[:, :-1] &= landscape[:, :-1] >= landscape[:, 1:]
    at = np.flatnonzero(peaks)
    dy, dx = np.nonzero(_disc(r))  # the disc's offsets, + r
    if at.size * dy.size > 4 * landscape.size:
        peaks = (landscape >= _disc_maximum_filter(landscape, r)) & mask
    elif at.size:
        padded = np.pad(landscape, r, mode="symmetric")  # as _disc_maximum_filter
        stride = padded.shape[1]
        rows, cols = np.divmod(at, landscape.shape[1])
        offsets = (dy - r) * stride + (dx - r)
        hood = padded.ravel()[((rows + r) * stride + cols + r)[:, None] + offsets]
        peaks.ravel()[at] = landscape.ravel()[at] >= hood.max(axis=1)
    markers, _ = ndi.label(peaks, structure=np.ones((3, 3)))
    return markers.astype(np.int32)


def _disc_maximum_filter(img: np.ndarray, r: int) -> np.ndarray:
    """``ndi.maximum_filter`` over the disc ``dy² + dx² <= r²`` (mode "reflect"), built
    from the disc's rows: one running maximum along the rows per half-width, shifted up
    and down. Linear in the radius, where the footprint version grows with its area (1.3 s
    for r = 21 on a 1349 × 1030 image)."""
    padded = np.pad(img, r, mode="symmetric")  # scipy's "reflect"
    rows, cols = img.shape
    out = None
    along, last = None, 0
    for dy in range(r + 1):  # rows dy and -dy of the disc have the same half-width
        width = 2 * int(np.sqrt(r * r - dy * dy)) + 1
        if width != last:  # neighbouring rows of the disc often share one: made once
            along, last = ndi.maximum_filter1d(padded, width, axis=1), width
        for shift in {dy, -dy}:
            band = along[r + shift:r + shift + rows, r:r + cols]
            out = band.copy() if out is None else np.maximum(out, band, out=out)
    return out


def _split_at_necks_of(mask: np.ndarray, sigma: float, h: float, dtype=np.float64):
    """Touching nuclei in ``mask`` split along their necks: its distance transform
    (as ``dtype``) smoothed by ``sigma``, seeded at its h-maxima of height ``h``
    (:func:`_h_maxima_markers`) and flooded inside ``mask``. Returns (labels as int32,
    markers, the smoothed distance). The recipe's seeding of touching nuclei, and the
    split of a part cut from a saturated cell's glow (:func:`._edges._at_necks`)."""
    parts = ndi.label(mask, _structure(mask.ndim))[0]  # (the flood's 4-connectivity)
    height = ndi.gaussian_filter(_mask_distance(mask, parts).astype(dtype, copy=False),
                                 sigma)
    markers = _h_maxima_markers(height, h, mask)
    return _flood(-height, markers, mask, parts=parts).astype(np.int32), markers, height
