"""The chunked seeded watershed of an image with a constant fill in its corners (a
rotation's triangles, a mosaic's missing tile), read as in memory (round 56).

In memory the core looks for a frame and fills before the spikes are read, crops the
image to the box of the pixels inside, gives the fill's pixels left in the box the 1st
percentile of those inside, segments the crop (its spikes read there) and puts the
result back with no nucleus and no territory on the fill. Chunk by chunk the same: the
fill's pixels come from its runs (``_fills.fill_lazy``), the percentile is exact
(``_fills.percentile_lazy``), and the crop is segmented chunk by chunk. As in memory the
image as given is looked at first, then, when it holds no fill, the despiked one (round
59: the despiked one alone gated the look, and a rotation's one-pixel rim of a bright
fill, its pixels beside the field read as spikes, hid the fill memory reads); an image
without spikes is looked at once, from the edge lines the first pass reads anyway.

With ``exclude_border`` the nuclei touching the fill are dropped as in memory, and their
territories given to the nearest nucleus kept, exactly as memory's whole-image transform
gives them (``_nearest_chunked.nearest_label_lazy``: each chunk read with the margin
its pixels' nearest nuclei need, round 58; round 57, before which they were left to no
nucleus).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage as ndi

from .._fills import _lines, fills_lazy
from .._lazy import _compute
from .._nearest_chunked import nearest_label_lazy
from .._outside import fill_part_lazy, frame_and_fills_lazy, seeds_in_box

__all__ = ["filled_watershed"]


def filled_watershed(given, despiked, lines, seeds, again: dict, run, scheduler=None):
    """The chunked watershed's result (``run``: the chunked watershed, called on the
    filled crop with ``again``'s parameters and ``look=False``) of the lazy image
    ``given`` (as given) when it holds a fill, else None. ``despiked``: it with its spikes
    read, whose edge ``lines`` are computed."""
    import dask.array as da

    # as memory: the image as given first, then (no fill found in it) the despiked one
    for image, edges in ((given, None), (despiked, lines)) if despiked is not given else (
            (given, lines),):
        if edges is None:  # (spikes were read: the given image's own lines)
            edges = _compute(*_lines(image), scheduler=scheduler)
        if not frame_and_fills_lazy(image, edges, scheduler, fills_lazy)[2]:
            continue
        if (got := _fill_part(image, edges, scheduler)) is not None:
            break
    else:
        return None  # (memory reads a frame alone, or nothing)
    part, out = got
    crop, level = part.image, part.level
    inside, _ = seeds_in_box(seeds, part)
    filled = da.where(out, level, crop.astype(np.float64))
    result = run(filled, **{**again, "seeds": inside}, sharpen=True, look=False)
    labels = da.where(out, 0, result.labels)
    territories = da.where(out, 0, result.territories)
    if again.get("exclude_border"):
        near = out.map_overlap(lambda b: ndi.binary_dilation(b, np.ones((3, 3), bool)),
                               depth=1, boundary=0, dtype=bool)
        (cut,) = _compute(da.unique(da.where(near, labels, 0)), scheduler=scheduler)
        cut = cut[cut > 0]
        if cut.size:
            labels = da.where(da.isin(labels, cut), 0, labels)
            orphans = da.isin(territories, cut)  # (to the nearest nucleus kept)
            territories = da.where(orphans, nearest_label_lazy(labels, orphans, scheduler),
                                   territories)
    return part.result_in_whole(replace(result, labels=labels, territories=territories))


def _fill_part(image, lines, scheduler):
    """``_outside.fill_part_lazy`` of the lazy ``image``'s frame and fills (None: no fill,
    or one that leaves a line only); ``lines``: its edge lines, computed."""
    frame, inner, fills = frame_and_fills_lazy(image, lines, scheduler)
    return fill_part_lazy(inner, frame, image.shape, fills, scheduler) if fills else None
