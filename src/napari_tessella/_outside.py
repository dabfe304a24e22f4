"""What lies outside an image's data, and the one way it is segmented: cropped off.

Two kinds of pixel hold no data: NaN or infinite ones (a stitched mosaic's padding, a
warped image's unmapped corners, dead pixels; :mod:`napari_tessella._finite`) and a
constant frame around a field (a stitched or registered image's border: whole rows and
columns of one value, black, saturated or a fill between, or of a few values pasted one
over another: :func:`frame_part`), or a constant fill in its corners that does not run
the length of an edge (a rotation's triangles, a mosaic's missing tile: the rule of
:mod:`napari_tessella._fills`). All are an *outside mask*, and
every operation reads it the same way (:class:`OutsidePart`): the image is cropped to the
box of the pixels inside, the outside pixels left in that box are given a background
level, the crop is segmented, and its results are put back in the whole image's frame
with nothing on an outside pixel (its seeds shifted in and out by the box's offset).

This module holds the mechanism only (no segmentation): the nuclei's core reads a frame
through it (:func:`napari_tessella.nuclei.seeded_watershed`, in memory and chunk by
chunk), :mod:`napari_tessella._finite` NaN pixels for every operation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

from ._fills import (
    FILL_RUN,
    FILL_SPAN,
    FILL_STRAIGHT,
    FRAME_SHARE,
    _lines,
    corner_values,
    fill_lazy,
    fill_mask,
    fill_runs_lazy,
    fills_lazy,
    percentile_lazy,
    unread_fills,
)
from ._label_image import _mask_box, _nearest_label
from ._lazy import _compute, is_lazy
from ._validation import counted, rgb_luminance

__all__ = ["BACKGROUND_PERCENTILE", "DARK_BACKGROUND_PERCENTILE", "FILL_RUN", "FILL_SPAN",
           "FILL_STRAIGHT", "FRAME_SHARE", "FRAME_VALUES", "OutsidePart", "corner_values",
           "fill_mask", "fill_part_lazy", "fills_lazy", "frame_and_fills_lazy", "frame_part",
           "frame_part_lazy",
           "image_part", "outside_part", "part_in_box", "seeds_in_box", "unread_fills"]

#: the percentile of the pixels inside that the outside ones in the box are given
#: ("no object here", without the pull of one outlier that the minimum would have)
BACKGROUND_PERCENTILE = 1.0

#: the percentile of the pixels inside that the outside ones are given for dark objects
#: (the mirror of ``BACKGROUND_PERCENTILE``: "no object here" is bright)
DARK_BACKGROUND_PERCENTILE = 99.0

def _without_cut(result, outside: np.ndarray):
    """With ``exclude_border``, the nuclei of a watershed ``result`` that touch an outside
    pixel (a non-finite one, a fill's: cut by a tile's edge, as the image's edge cuts
    those the core drops) dropped too, their territories
    given to the nearest nucleus kept, the ids renumbered 1..n (in the box's frame)."""
    labels = result.labels
    rim = ndi.binary_dilation(outside, structure=np.ones((3, 3), bool)) & (labels > 0)
    cut = np.unique(labels[rim])
    if not cut.size:
        return result
    kept = np.setdiff1d(np.unique(labels[labels > 0]), cut)
    lut = np.zeros(int(labels.max()) + 1, dtype=labels.dtype)
    lut[kept] = np.arange(1, kept.size + 1, dtype=labels.dtype)
    labels = lut[labels]
    if kept.size:  # every pixel to its nearest nucleus kept: the core's own territories
        territories = np.where(np.isin(result.territories, cut), _nearest_label(labels),
                               lut[result.territories])
    else:
        territories = np.zeros_like(labels)
    return replace(result, labels=labels, territories=territories)


class OutsidePart(NamedTuple):
    """The part of an image inside its outside mask (see :func:`outside_part`)."""

    shape: tuple  # the whole image's (rows, columns)
    box: tuple  # (row slice, column slice): the bounding box of the pixels inside
    outside: np.ndarray | None  # bool, the box's shape: its outside pixels (None: none)
    image: np.ndarray  # the box: outside pixels given ``level`` (then float64)
    count: int  # outside pixels of the whole image
    level: float  # the value given to the outside pixels
    kind: str = "non-finite"  # what the outside is: "non-finite" or "frame"
    values: tuple = ()  # a frame's values (one, or a few pasted one over another)

    @property
    def offset(self) -> np.ndarray:
        """(row, column) of the box's first pixel in the whole image."""
        return np.array([self.box[0].start, self.box[1].start], dtype=np.float64)

    def to_whole(self, labels):
        """``labels`` of the box in the whole image's frame, 0 on every outside pixel (a
        lazy array stays lazy: padded with 0)."""
        if is_lazy(labels):
            import dask.array as da

            pads = [(s.start, n - s.stop) for s, n in zip(self.box, self.shape, strict=True)]
            return da.pad(labels, pads, mode="constant", constant_values=0)
        whole = np.zeros(self.shape, dtype=labels.dtype)
        whole[self.box] = labels if self.outside is None else np.where(self.outside, 0,
                                                                          labels)
        return whole

    def result_in_whole(self, result, exclude_border: bool = False):
        """A :class:`~napari_tessella.nuclei.WatershedResult` of the box in the whole
        image's frame: labels and territories 0 on every outside pixel, seeds shifted;
        with ``exclude_border``, the nuclei touching an outside pixel of the box dropped
        (:func:`_without_cut`)."""
        if exclude_border and self.outside is not None and self.outside.any():
            result = _without_cut(result, self.outside)
        seeds = np.asarray(result.seeds, dtype=np.float64).reshape(-1, 2) + self.offset
        return replace(result, labels=self.to_whole(result.labels),
                       territories=self.to_whole(result.territories), seeds=seeds)

    def mask(self) -> np.ndarray:
        """The whole image's outside pixels (bool)."""
        whole = np.ones(self.shape, bool)
        whole[self.box] = False if self.outside is None else self.outside
        return whole

    def filled(self) -> np.ndarray:
        """The whole image with its outside pixels given ``level`` (for measuring
        objects, which never lie on them)."""
        whole = np.full(self.shape, self.level, dtype=np.float64)
        whole[self.box] = self.image
        return whole

    def message(self) -> str:
        """What was done, in one sentence."""
        total = int(np.prod(self.shape))
        share = 100.0 * self.count / total
        pct = f"{share:.2g} %" if share < 99.5 else "nearly all"
        verb = "is" if self.count == 1 else "are"
        values = " and ".join(f"{v:g}" for v in self.values or (self.level,))
        kinds = self.kind.split("+")
        constant = [k for k in ("frame", "fill") if k in kinds]  # (their values, once)
        where = "around the field" + " or in its corners" * ("fill" in kinds)
        what = " or ".join(["NaN or infinite"] * ("non-finite" in kinds)
                           + [f"a constant {' or '.join(constant)} of {values} {where}"]
                           * bool(constant))
        return (f"{counted(self.count, 'pixel')} ({pct} of the image) {verb} {what}: read "
                "as outside the image (no object there)")


def part_in_box(arr: np.ndarray, box: tuple, outside: np.ndarray | None, *,
                level: float | None = None, kind: str = "non-finite",
                dtype=None, values: tuple = ()) -> OutsidePart:
    """The :class:`OutsidePart` of the 2-d ``arr`` whose pixels inside lie in ``box``;
    ``outside``: the box's outside pixels (bool, the box's shape; None: none). They are
    given ``level`` (default the :data:`BACKGROUND_PERCENTILE` of the pixels inside the
    box), the crop then float64; ``dtype``: the crop's type (default: as ``arr``)."""
    crop = arr[box] if dtype is None else arr[box].astype(dtype)
    inside = None if outside is None else ~outside
    if level is None:
        level = float(np.percentile(crop if inside is None else crop[inside],
                                    BACKGROUND_PERCENTILE))
    if outside is not None and outside.any():
        crop = crop.astype(np.float64, copy=dtype is None)
        crop[outside] = level
    area = (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
    count = arr.shape[0] * arr.shape[1] - area + (0 if outside is None
                                                  else int(np.count_nonzero(outside)))
    return OutsidePart(shape=arr.shape, box=box, outside=outside, image=crop, count=count,
                       level=float(level), kind=kind, values=values)


#: what a part refuses, by the kind of its outside: no pixel inside, a line of them only
_REFUSED = {
    "non-finite": ("{name} has no finite pixel: every one is NaN or infinite, so there is "
                   "nothing to segment.",
                   "{name}'s finite pixels span only {height} × {width} (the other pixels "
                   "are NaN or infinite): too few to segment."),
    "": ("{name} has no pixel inside: every one is outside the image.",
         "{name}'s pixels inside span only {height} × {width}: too few to segment."),
}


def outside_part(image, outside: np.ndarray, *, kind: str = "non-finite",
                 name: str = "image", dtype=None) -> OutsidePart | None:
    """The part of the 2-d (or RGB(A): its luminance) ``image`` inside the bool mask
    ``outside`` (its shape; True: no data), or None when no pixel is outside; ``dtype``:
    the crop's (default: as the image). ``ValueError`` when every pixel is outside, or
    the pixels inside span a line only (else "too small to segment: shape (1, 50)" of a
    64 × 64 image).

    >>> img = np.arange(12.0).reshape(3, 4)
    >>> part = outside_part(img, img < 4)
    >>> part.box, part.count, part.image.tolist()
    ((slice(1, 3, None), slice(0, 4, None)), 4, [[4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]])
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = rgb_luminance(arr)
    if not outside.any():
        return None
    none, line = _REFUSED.get(kind, _REFUSED[""])
    box = _mask_box(~outside)  # (the package's one box of a mask's pixels)
    if box is None:
        raise ValueError(none.format(name=name))
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    if min(height, width) < 2:
        raise ValueError(line.format(name=name, height=height, width=width))
    return part_in_box(arr, box, outside[box], kind=kind, dtype=dtype)


#: a frame is made of at most this many values (a paste on each side); a constant line of
#: a fifth value inside it is a ramp (a noiseless gradient's rows), not a frame
FRAME_VALUES = 4


def _constant(line) -> float | None:
    """The value of a line all at one value, else None (a NaN line never is)."""
    line = np.asarray(line)  # (its methods: np.min's dispatch was 10x their cost here)
    low, high = float(line.min()), float(line.max())
    return low if low == high else None


class _InMemory:
    """What :func:`_peeled` reads of a 2-d float array in memory."""

    def __init__(self, img):
        self.img, self.shape = img, img.shape

    def edges(self, box) -> tuple:
        """The box's four edge lines."""
        return _lines(self.img[box])

    def off_value(self, box, value):
        """The box of the pixels of ``box`` off ``value``, relative to it (None: none)."""
        return _mask_box(self.img[box] != value)  # (the package's one box of a mask's pixels)

    def at_values(self, box, values) -> list:
        """How many pixels of ``box`` are at each of ``values``."""
        return [int(np.count_nonzero(self.img[box] == v)) for v in values]


class _Lazy:
    """What :func:`_peeled` reads of a 2-d dask array, computed (by ``scheduler``)."""

    def __init__(self, arr, scheduler=None):
        self.arr, self.shape, self.scheduler = arr, arr.shape, scheduler

    def edges(self, box) -> tuple:
        """The box's four edge lines."""
        return _compute(*_lines(self.arr[box]), scheduler=self.scheduler)

    def off_value(self, box, value):
        """The box of the pixels of ``box`` off ``value``, relative to it (None: none):
        from the counts at the value per row and per column."""
        flat = self.arr[box] == value
        per_row, per_col = _compute(flat.sum(axis=1), flat.sum(axis=0),
                                    scheduler=self.scheduler)
        rows = np.flatnonzero(per_row < per_col.size)  # (rows not all at the value)
        cols = np.flatnonzero(per_col < per_row.size)
        if rows.size == 0:
            return None
        return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)

    def at_values(self, box, values) -> tuple:
        """How many pixels of ``box`` are at each of ``values``."""
        return _compute(*[(self.arr[box] == v).sum() for v in values],
                        scheduler=self.scheduler)


def _peeled(image, lines=None):
    """The box inside a frame and the frame's values (None: no frame). ``image``: what is
    read of the image (:class:`_InMemory` or :class:`_Lazy`: its ``shape``, a box's
    ``edges``, the box of a box's pixels ``off_value``, a box's pixels ``at_values``);
    ``lines``: the image's four edge lines when they are read already (None: read here).

    A frame is peeled off the image a value at a time: an edge line of the box all at
    one value ``v`` (any value: black, saturated, a mosaic's mid-grey, a fill of 0 amid
    negative noise), the box becomes the box of its pixels off ``v`` (every pixel between
    the two is at ``v``), and again, so that bands pasted one over another (black on one
    side, saturated on another) come off in turn. Then a value of which more than
    :data:`FRAME_SHARE` of the box is left is no frame's: the field's own flat background
    (a synthetic or clipped 8-bit image's exact 0, which runs on inside); nor is one that
    leaves a box thinner than 2 pixels: the peeling is made again without it. A box all at
    one value (a constant image, one flat rectangle on a flat background) has nothing
    inside: no frame; nor has a ramp of more than :data:`FRAME_VALUES` values. The share
    is tested before the count: a fifth value that is too common (a rotation's fill,
    whose whole edge lines come off after four bands, its triangles left inside) is
    refused as any too common value is, and the peeling made again without it; a fifth
    that is not (each of a ramp's rows holds its own value) is a ramp."""
    shape = image.shape
    if lines is None:
        lines = image.edges((slice(None), slice(None)))
    refused: set = set()
    while True:
        box, values, now = (slice(0, shape[0]), slice(0, shape[1])), [], lines
        while found := [v for v in map(_constant, now) if v is not None and v not in refused]:
            inner = image.off_value(box, found[0])
            if inner is None:
                return None  # (the box is all at one value)
            if min(s.stop - s.start for s in inner) < 2:
                refused.add(found[0])  # (too thin a box)
                break
            values += [found[0]] * (found[0] not in values)
            box = tuple(slice(b.start + i.start, b.start + i.stop)
                        for b, i in zip(box, inner, strict=True))
            if len(values) > FRAME_VALUES:
                if not (common := _too_common(image, box, values)):
                    return None  # (a ramp)
                refused.add(common[0])
                break
            now = image.edges(box)
        else:
            if not values:
                return None
            if not (common := _too_common(image, box, values)):
                return box, tuple(values)
            refused.add(common[0])


def _too_common(image, box, values) -> list:
    """The ``values`` of which more than :data:`FRAME_SHARE` of ``box`` is left (in the
    order given): no frame's."""
    area = (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
    return [v for v, n in zip(values, image.at_values(box, values), strict=True)
            if n > FRAME_SHARE * area]


def frame_part(image, img: np.ndarray) -> OutsidePart | None:
    """The part of ``image`` inside a constant frame (:func:`_peeled`: whole rows or
    columns of one value, or of a few values pasted one over another, at the image's
    minimum, its maximum or between them), or None. ``img``: ``image`` as a 2-d float
    (its luminance); the crop is of ``image`` itself when it is 2-d (its dtype kept), of
    ``img`` otherwise. Inside such a frame, nuclei cut by the field's edge ran on into the
    frame, and the frame's 0 pulled the background and the threshold down (a 16-bit field
    of 14 nuclei: 3 errors, mean IoU 0.82, where the field alone had 1 and 0.95); a
    saturated frame was objects of 5,600 pixels, a mid-grey one objects along it. Only
    the four edge lines are read unless one of them is constant.

    >>> img = np.zeros((6, 7)); img[1:5, 2:6] = np.arange(1.0, 17.0).reshape(4, 4)
    >>> frame_part(img, img).box
    (slice(1, 5, None), slice(2, 6, None))
    """
    part = _frame_or_fill(image, img)
    if part is None or part.outside is None:
        return part
    return _grown(np.asarray(image) if np.ndim(image) == 2 else img, img, part.mask(),
                  part.values, {part.kind}) or part


def _frame_or_fill(image, img: np.ndarray) -> OutsidePart | None:
    """One look for a frame (peeled) and fills inside it (:func:`fill_mask`)."""
    found = _peeled(_InMemory(img))
    arr = np.asarray(image)
    arr = arr if arr.ndim == 2 else img
    box, values = found or ((slice(0, img.shape[0]), slice(0, img.shape[1])), ())
    sub = img[box]
    fills, more = fill_mask(sub) if min(sub.shape) >= FILL_RUN else (None, ())
    if fills is not None:  # (a fill that leaves only a line inside is no fill)
        outside = np.ones(img.shape, bool)
        outside[box] = fills
        both = values + tuple(v for v in more if v not in values)  # (each once)
        if (part := _masked(arr, outside, "fill", both)) is not None:
            return part
    if found is None:
        return None
    return part_in_box(arr, box, None, level=values[0], kind="frame", values=values)


def _masked(arr, outside, kind, values, dtype=None) -> OutsidePart | None:
    """:func:`outside_part` of ``arr`` inside the whole-image mask ``outside`` (a fill's),
    or None when that leaves no box of 2 × 2 pixels."""
    try:
        part = outside_part(arr, outside, kind=kind, dtype=dtype)
    except ValueError:
        return None
    return part if part is None else part._replace(values=values)


def image_part(image, img: np.ndarray, name: str = "image") -> OutsidePart | None:
    """Everything outside the 2-d (or RGB(A)) in-memory ``image`` (``img``: it as a 2-d
    array, its luminance) at once: its NaN or infinite pixels and a constant frame or
    fill (:func:`frame_part`) around them. The frame is looked for on the image with each
    non-finite pixel given its nearest finite pixel's value, so that a frame beside NaN
    padding (a line half NaN, half at the frame's value) is found whole. None: nothing
    outside; ``ValueError`` as :func:`outside_part`."""
    nonfinite = ~np.isfinite(img) if img.dtype.kind == "f" else None
    if nonfinite is None or not nonfinite.any():
        return frame_part(image, img)
    if nonfinite.all():
        return outside_part(img, nonfinite, name=name)  # (refused: no finite pixel)
    return (_grown(img, img, nonfinite, (), {"non-finite"}, np.float64)
            or outside_part(img, nonfinite, name=name, dtype=np.float64))


def _grown(arr, img, outside, values, kinds, dtype=None) -> OutsidePart | None:
    """The part of ``arr`` outside ``outside`` (NaN pixels, a fill found) and every frame
    or fill found again with those pixels given their nearest pixel's value inside (a
    line half NaN, half at a frame's value; a band whose line a missing tile broke: the
    peeling then sees them whole), up to three times, while each look adds ``FILL_RUN``²
    / 2 pixels or more; None when that leaves no box."""
    for _ in range(3):
        nearest = ndi.distance_transform_edt(outside, return_distances=False,
                                             return_indices=True)
        near = img[tuple(nearest)]
        more = _frame_or_fill(near, near)
        new = None if more is None else more.mask() & ~outside
        # (a field's corner pixel, copied over the outside corner beyond it, is no fill)
        if new is None or np.count_nonzero(new) < FILL_RUN * FILL_RUN // 2:
            break
        grown = outside | new
        outside, kinds = grown, kinds | {more.kind}
        values += tuple(v for v in more.values if v not in values)
    kind = "+".join(k for k in ("non-finite", "frame", "fill") if k in kinds)
    return _masked(arr, outside, kind, values, dtype)


def frame_part_lazy(arr, scheduler=None, lines=None) -> OutsidePart | None:
    """:func:`frame_part` of the 2-d dask array ``arr`` (None: no frame; the crop lazy,
    in its dtype). ``lines``: its four edge lines, computed (by the caller's first pass
    over the image: then no read is made here unless one of them is constant); then one
    pass over the box for each value peeled off, and its new edge lines."""
    found = _peeled(_Lazy(arr, scheduler), lines)
    if found is None:
        return None
    return part_in_box(arr, found[0], None, level=found[1][0], kind="frame",
                       values=found[1])


def frame_and_fills_lazy(arr, lines, scheduler=None, find=fill_runs_lazy):
    """The frame of the 2-d dask array ``arr`` (:func:`frame_part_lazy`; None: none), the
    box inside it (``arr`` itself without one) and what ``find`` (``_fills``'s
    ``fill_runs_lazy``, or ``fills_lazy`` for their values alone) finds in that box: none
    in a box under :data:`FILL_RUN` on a side. ``lines``: ``arr``'s four edge lines,
    computed; the box's are read once a frame is peeled off. How both chunked paths look
    for a fill (Threshold & label's ``_finite.threshold_label_lazy`` and the watershed's
    ``nuclei._chunked_fills``)."""
    frame = frame_part_lazy(arr, scheduler, lines)
    inner = arr if frame is None else frame.image
    if frame is not None:
        lines = _compute(*_lines(inner), scheduler=scheduler)
    return frame, inner, (find(inner, lines, scheduler) if min(inner.shape) >= FILL_RUN
                          else [])


def fill_part_lazy(inner, frame: OutsidePart | None, shape, fills, scheduler=None, *,
                   dark: bool = False):
    """The :class:`OutsidePart` of a lazy image of ``shape`` whose box inside its
    ``frame`` (None: no frame), the 2-d dask array ``inner``, holds ``fills`` (value, runs
    pairs of :func:`napari_tessella._fills.fill_runs_lazy`): the box of the pixels off
    the fills (its crop lazy, in its dtype), the level they are given (the exact
    :data:`BACKGROUND_PERCENTILE` of the pixels inside; with ``dark``, dark objects, the
    :data:`DARK_BACKGROUND_PERCENTILE` of them as float64, as memory's), the frame's and
    the fills' values once each. Returns (part, the fill's pixels in the crop, lazy bool),
    or None when those span a line only (memory then reads the frame alone). What both
    chunked paths read a fill with (Threshold & label's ``_fills_chunked`` and the
    watershed's ``nuclei._chunked_fills``)."""
    fill = fill_lazy(inner, [runs for _, runs in fills])
    rows, cols, n_in = _compute((~fill).any(axis=1), (~fill).any(axis=0), (~fill).sum(),
                                scheduler=scheduler)
    rows, cols = np.flatnonzero(rows), np.flatnonzero(cols)
    if not rows.size or min(rows[-1] - rows[0], cols[-1] - cols[0]) < 1:
        return None
    sub = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    crop, out = inner[sub], fill[sub]
    origin = (0, 0) if frame is None else (frame.box[0].start, frame.box[1].start)
    box = tuple(slice(o + s.start, o + s.stop) for o, s in zip(origin, sub, strict=True))
    if dark:  # (one percentile: the level the fill is given)
        level = percentile_lazy(crop[~out].astype(np.float64), DARK_BACKGROUND_PERCENTILE,
                                int(n_in), scheduler)
    else:
        level = percentile_lazy(crop[~out], BACKGROUND_PERCENTILE, int(n_in), scheduler)
    values = () if frame is None else frame.values
    values += tuple(v for v, _ in fills if v not in values)
    part = OutsidePart(shape=tuple(shape), box=box, outside=None, image=crop,
                       count=int(np.prod(shape)) - int(n_in), level=level, kind="fill",
                       values=values)
    return part, out


def seeds_in_box(seeds, part: OutsidePart):
    """``seeds`` (points or a label image of the whole image) in the box's frame; points
    off the box (on outside pixels only) are left out. Returns (seeds, left out)."""
    if seeds is None or isinstance(seeds, str):
        return seeds, 0
    arr = np.asarray(seeds)
    if arr.ndim == 2 and arr.shape == tuple(part.shape) and arr.dtype.kind in "iu":
        inner = arr[part.box]  # (seeds of no pixel: none)
        return (inner if part.outside is None else np.where(part.outside, 0, inner)), 0
    if arr.ndim != 2 or arr.shape[-1] != 2 or arr.dtype.kind not in "iuf":
        return seeds, 0  # not points: the core says what is wrong with them
    points = arr.astype(np.float64) - part.offset
    height = part.box[0].stop - part.box[0].start
    width = part.box[1].stop - part.box[1].start
    # a point rounds to a pixel of the box (the core's own reading of "in the image")
    keep = ((np.round(points[:, 0]) >= 0) & (np.round(points[:, 0]) < height)
            & (np.round(points[:, 1]) >= 0) & (np.round(points[:, 1]) < width))
    keep &= ~np.isnan(points).any(axis=1)
    return points[keep], int(np.count_nonzero(~keep))
