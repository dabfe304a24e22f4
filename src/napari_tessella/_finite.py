"""Images with NaN or infinite pixels, segmented as if those pixels were outside the image.

A stitched mosaic is padded with NaN around and between its tiles; a registered or warped
image has NaN where no data was mapped; a camera's dead pixels can read NaN. The core
refuses such pixels (a NaN has no place in a threshold or a smoothing). This module reads
them as *outside the image*: no object lies on them, and the rest is segmented as if
the image were cropped to its finite part.

- :func:`finite_part`: the bounding box of the finite pixels (a rectangular padding is
  cropped off exactly), with the non-finite pixels left inside it given a dark background
  level (the 1st percentile of the finite pixels: "no object here", without the pull of
  one outlier that the minimum would have on the threshold);
- :func:`seeded_watershed_finite`: :func:`~napari_tessella.nuclei.seeded_watershed` of
  that part, its labels and territories put back in the whole image's frame, with 0 on
  every non-finite pixel (and its seeds in the whole image's coordinates). With
  ``exclude_border``, a nucleus touching a non-finite pixel is cut by the edge of the data
  as one touching the image's edge is, and dropped as it is.

An image whose pixels are all finite is left to the core as it is (the same arrays, the
same labels).
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

from ._label_image import _mask_box, _nearest_label
from ._validation import blank_reason, counted, rgb_luminance
from .nuclei import WatershedResult, seeded_watershed

__all__ = ["FinitePart", "FiniteRun", "blank_plane", "empty_watershed", "finite_part",
           "seeded_watershed_finite"]

#: the percentile of the finite pixels that the non-finite ones inside the box are given
BACKGROUND_PERCENTILE = 1.0


class FinitePart(NamedTuple):
    """The finite part of an image (see :func:`finite_part`)."""

    shape: tuple  # the whole image's (rows, columns)
    box: tuple  # (row slice, column slice): the bounding box of the finite pixels
    outside: np.ndarray  # bool, the box's shape: its non-finite pixels
    image: np.ndarray  # float64, the box: non-finite pixels given ``level``
    count: int  # non-finite pixels of the whole image
    level: float  # the value given to the non-finite pixels

    @property
    def offset(self) -> np.ndarray:
        """(row, column) of the box's first pixel in the whole image."""
        return np.array([self.box[0].start, self.box[1].start], dtype=np.float64)

    def to_whole(self, labels: np.ndarray) -> np.ndarray:
        """``labels`` of the box in the whole image's frame, 0 on every non-finite pixel."""
        whole = np.zeros(self.shape, dtype=labels.dtype)
        whole[self.box] = np.where(self.outside, 0, labels)
        return whole

    def filled(self) -> np.ndarray:
        """The whole image with its non-finite pixels given ``level`` (for measuring
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
        return (f"{counted(self.count, 'pixel')} ({pct} of the image) {verb} NaN or "
                "infinite: read as outside the image (no object there)")


def finite_part(image, *, name: str = "image") -> FinitePart | None:
    """The finite part of a 2-D (or RGB(A)) ``image``, or None when every pixel is finite
    (integer images always are): see the module's docstring. ``ValueError`` when no pixel
    is finite. Any other shape is returned as None, for the core to judge.

    >>> part = finite_part(np.array([[np.nan, 1, 2], [np.nan, 3, 4]]))
    >>> part.box, part.count, part.image.tolist()
    ((slice(0, 2, None), slice(1, 3, None)), 2, [[1.0, 2.0], [3.0, 4.0]])
    """
    arr = np.asarray(image)
    if arr.dtype.kind not in "fc" or arr.ndim not in (2, 3):
        return None
    if arr.ndim == 3:
        if arr.shape[-1] not in (3, 4):
            return None
        arr = rgb_luminance(arr)  # a NaN channel makes its pixel's luminance NaN
    if arr.dtype.kind == "c":
        return None  # (refused by the core as complex)
    finite = np.isfinite(arr)
    if finite.all():
        return None
    box = _mask_box(finite)  # (the package's one box of a mask's pixels)
    if box is None:
        raise ValueError(f"{name} has no finite pixel: every one is NaN or infinite, so "
                         "there is nothing to segment.")
    height, width = box[0].stop - box[0].start, box[1].stop - box[1].start
    if min(height, width) < 2:  # else "too small to segment: shape (1, 50)" of a 64 × 64
        raise ValueError(f"{name}'s finite pixels span only {height} × {width} (the other "
                         "pixels are NaN or infinite): too few to segment.")
    inside = finite[box]
    crop = arr[box].astype(np.float64)
    level = float(np.percentile(crop[inside], BACKGROUND_PERCENTILE))
    crop[~inside] = level
    return FinitePart(shape=arr.shape, box=box, outside=~inside, image=crop,
                      count=int(finite.size - np.count_nonzero(finite)), level=level)


def _seeds_in_box(seeds, part: FinitePart):
    """``seeds`` (points or a label image of the whole image) in the box's frame; points
    off the box (on non-finite pixels only) are left out. Returns (seeds, left out)."""
    if seeds is None or isinstance(seeds, str):
        return seeds, 0
    arr = np.asarray(seeds)
    if arr.ndim == 2 and arr.shape == tuple(part.shape) and arr.dtype.kind in "iu":
        return np.where(part.outside, 0, arr[part.box]), 0  # (seeds of no pixel: none)
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


def _without_cut(result: WatershedResult, outside: np.ndarray) -> WatershedResult:
    """With ``exclude_border``, the nuclei that touch a non-finite pixel (cut by a tile's
    edge, as the image's edge cuts those the core drops) dropped too, their territories
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


class FiniteRun(NamedTuple):
    """What :func:`seeded_watershed_finite` returns."""

    result: WatershedResult  # in the whole image's frame
    said: str  # how many pixels were non-finite ("" when none)
    image: np.ndarray  # the image to measure the objects in: non-finite pixels filled


def seeded_watershed_finite(image, *, seeds=None, **kwargs) -> FiniteRun:
    """:func:`~napari_tessella.nuclei.seeded_watershed` of ``image`` with its NaN or
    infinite pixels read as outside the image (see the module's docstring): the result in
    the whole image's frame, a sentence saying how many pixels were non-finite, and the
    image to measure the objects in (the core's own result, "" and ``image`` itself when
    every pixel is finite). ``kwargs`` go to the core as they are.

    >>> img = np.zeros((40, 60)); img[10:30, 10:30] = img[10:30, 35:55] = 1.0
    >>> img[:, :5] = np.nan
    >>> result, said, _ = seeded_watershed_finite(img, object_diameter=20)
    >>> int(result.labels.max()), int(result.labels[:, :5].max()), said.split(':')[0]
    (2, 0, '200 pixels (8.3 % of the image) are NaN or infinite')
    """
    part = finite_part(image)
    if part is None:
        return FiniteRun(seeded_watershed(image, seeds=seeds, **kwargs), "", image)
    inner, dropped = _seeds_in_box(seeds, part)
    result = seeded_watershed(part.image, seeds=inner, **kwargs)
    if kwargs.get("exclude_border") and part.outside.any():
        result = _without_cut(result, part.outside)
    said = part.message()
    if dropped:
        said += f"; {counted(dropped, 'seed')} on them left out"
    whole = replace(result, labels=part.to_whole(result.labels),
                    territories=part.to_whole(result.territories),
                    seeds=np.asarray(result.seeds, dtype=np.float64).reshape(-1, 2)
                    + part.offset)
    return FiniteRun(whole, said, part.filled())


def blank_plane(image) -> str:
    """Why a plane of a stack holds nothing to segment ("" when it holds something): no
    finite pixel, or one value only (a dropped frame, a closed shutter). In a time series
    such a plane is one empty frame among many; the core refuses it as an image, which
    stopped the whole stack's run.

    >>> blank_plane(np.zeros((4, 4))), blank_plane(np.eye(4))
    ('constant (all values 0)', '')
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        arr = rgb_luminance(arr)
    return blank_reason(arr)  # (the core's own decision that an image is one value)


def empty_watershed(shape) -> WatershedResult:
    """A :class:`~napari_tessella.nuclei.WatershedResult` of no nucleus on a plane of
    ``shape`` (a :func:`blank_plane`)."""
    zeros = np.zeros(tuple(shape[:2]), dtype=np.int32)
    return WatershedResult(labels=zeros, territories=zeros.copy(), seeds=np.zeros((0, 2)),
                           object_diameter=float("nan"), sigma=0.0, threshold=float("nan"))
