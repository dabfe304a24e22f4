"""Threshold & label chunk by chunk on an image with a constant fill in its corners (a
rotation's triangles, a mosaic's missing tile), read as in memory (round 56).

In memory (:func:`napari_tessella._finite.threshold_label_finite`) a fill is an outside
mask: the image is cropped to the box of the pixels inside, the fill's pixels left in the
box are given the 1st percentile of those inside, the method's threshold is that of the
pixels inside only (smoothed as the core smooths), the crop is segmented with the fill
on the background's side of the threshold, and no object is left on the fill. Chunk by
chunk every step is the same, each a pass of its own:

- the fill's pixels come from its *runs* (:func:`napari_tessella._fills.fill_runs_lazy`:
  one number per row and per column), made in each chunk from them
  (:func:`napari_tessella._fills.fill_lazy`), never read from the image;
- the percentile is exact (:func:`napari_tessella._fills.percentile_lazy`: the two order
  statistics numpy interpolates between, found by narrowing histograms, then
  interpolated as numpy does);
- the threshold's histogram is of the pixels inside only (the fill's given -inf, which
  no bin holds; the pixel numpy's in-memory path counts twice when their number is odd,
  counted twice here too);
- the labels are those of :func:`~napari_tessella.segmentation.threshold_label_chunked`,
  0 on the fill, renumbered 1..n in the same order, and with ``exclude_border`` those
  touching the fill dropped.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ._lazy import _compute, _lazy_stage
from ._outside import DARK_BACKGROUND_PERCENTILE, OutsidePart, fill_part_lazy
from ._validation import size_in_image
from .segmentation import threshold_label_chunked
from .threshold import _global_threshold, threshold_spec

__all__ = ["DARK_BACKGROUND_PERCENTILE", "threshold_label_filled"]


def threshold_label_filled(inner, frame: OutsidePart | None, shape, fills, threshold,
                           scheduler=None, **params):
    """:func:`~napari_tessella.segmentation.threshold_label_chunked` of the 2-d dask
    array ``inner`` (the image, or the box inside its ``frame``; the whole image of
    ``shape``) with its ``fills`` (value, runs pairs) read as outside, as in memory. Returns
    (lazy labels of the whole image, its :class:`OutsidePart`: its message, its box and
    level), or None when the pixels inside span a line only (memory then reads the frame
    alone)."""
    import dask.array as da

    dark = bool(params.get("dark_objects", False))
    got = fill_part_lazy(inner, frame, shape, fills, scheduler, dark=dark)
    if got is None:
        return None
    part, out = got
    crop, level = part.image, part.level
    filled = da.where(out, level, crop.astype(np.float64))
    method = threshold_spec(threshold)
    if isinstance(method, str):
        method = _threshold_inside(filled, out, method, params.get("smooth_sigma", 0.0),
                                   scheduler)
    below = da.where(out, max(level, method) if dark else min(level, method),
                     crop.astype(np.float64))
    labels = threshold_label_chunked(below, method, scheduler=scheduler, **params)
    labels = _off_the_fill(labels, out, params, scheduler)
    return part.to_whole(labels), part


def _threshold_inside(filled, out, method, smooth_sigma, scheduler) -> float:
    """``method``'s threshold of the pixels off the fill ``out`` of the lazy ``filled``
    smoothed as the core smooths, as memory's ``Outside.threshold``: the first of them
    counted twice when their number is odd."""
    import dask.array as da

    sigma = size_in_image(smooth_sigma, "smooth_sigma", filled.shape)
    smoothed = _lazy_stage(filled, sigma)
    masked = da.where(out, -np.inf, smoothed)
    inside = smoothed[~out]
    lo, hi, n, total = _compute(inside.min(), inside.max(), (~out).sum(), inside.sum(),
                                scheduler=scheduler)
    extra = ()
    if int(n) % 2:  # (the first pixel inside, in raster order)
        rows = np.flatnonzero(_compute((~out).any(axis=1), scheduler=scheduler)[0])
        row = out[int(rows[0])]
        col = int(np.flatnonzero(~_compute(row, scheduler=scheduler)[0])[0])
        extra = (float(_compute(smoothed[int(rows[0]), col], scheduler=scheduler)[0]),)
    if method == "mean":
        return float((total + sum(extra)) / (int(n) + len(extra)))
    return _global_threshold(masked, method, lo, hi, scheduler, extra)


def _off_the_fill(labels, out, params, scheduler):
    """The lazy ``labels`` with 0 on the fill ``out``, renumbered 1..n in their order;
    with ``exclude_border`` the objects touching the fill dropped (as memory's
    ``Outside.labels``)."""
    import dask.array as da

    labels = da.where(out, 0, labels)
    todo = [da.unique(labels), labels.max()]
    if params.get("exclude_border"):
        structure = ndi.generate_binary_structure(2, params.get("connectivity", 1))
        near = out.map_overlap(lambda b: ndi.binary_dilation(b, structure), depth=1,
                               boundary=0, dtype=bool)
        todo.append(da.unique(da.where(near, labels, 0)))
    ids, top, *touched = _compute(*todo, scheduler=scheduler)
    ids = ids[ids > 0]
    if touched:
        ids = np.setdiff1d(ids, touched[0])
    if len(ids) == int(top):
        return labels
    lut = np.zeros(int(top) + 1, dtype=labels.dtype)
    lut[ids] = np.arange(1, ids.size + 1, dtype=labels.dtype)
    return labels.map_blocks(lambda b: lut[b], dtype=labels.dtype)
