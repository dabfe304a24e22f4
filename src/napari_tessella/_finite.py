"""Images with NaN or infinite pixels, segmented as if those pixels were outside the image.

A stitched mosaic is padded with NaN around and between its tiles; a registered or warped
image has NaN where no data was mapped; a camera's dead pixels can read NaN. The core
functions refuse such pixels (a NaN has no place in a threshold or a smoothing). This
module reads them as *outside the image*, through the one mechanism of
:mod:`napari_tessella._outside` (which reads a black frame too): no object lies on them,
and the rest is segmented as if the image were cropped to its finite part. The widgets,
the command line (:mod:`napari_tessella.recipes`) and scripts call these functions:

- :func:`finite_part`: the bounding box of the finite pixels (a rectangular padding is
  cropped off exactly), with the non-finite pixels left inside it given a dark background
  level (the 1st percentile of the finite pixels: "no object here", without the pull of
  one outlier that the minimum would have on the threshold);
- :func:`seeded_watershed_finite`: :func:`~napari_tessella.nuclei.seeded_watershed` of
  that part, its labels and territories put back in the whole image's frame, with 0 on
  every non-finite pixel (and its seeds in the whole image's coordinates). With
  ``exclude_border``, a nucleus touching a non-finite pixel is cut by the edge of the data
  as one touching the image's edge is, and dropped as it is;
- :func:`threshold_label_finite` and :func:`smoothed_threshold_finite`:
  :func:`~napari_tessella.threshold_label` (and its method's threshold) of the finite
  part, the method's threshold of the finite pixels only;
- :func:`find_atoms_finite`: :func:`~napari_tessella.find_atoms` of the finite part, no
  column on a non-finite pixel.

Each returns the result, one sentence saying how many pixels were read as outside ("" when
none) and the image to measure the objects in. An image whose pixels are all finite is left
to the core as it is (the same arrays, the same labels), unless it lies in a constant frame
(:func:`frame_of`: a mosaic's padding of any value): the three last then segment the box
inside it as the core segments a field alone, as the Seeded watershed's core does itself.
A constant fill in the corners (a rotation's, a mosaic's missing tile) is read as NaN
pixels are, and NaN pixels beside a frame or a fill are read with it (:func:`whole_part`);
chunk by chunk Threshold & label reads a frame too (:func:`threshold_label_lazy`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

from ._fills_chunked import threshold_label_filled
from ._lazy import _as_float_dask, _compute, is_lazy
from ._outside import (
    BACKGROUND_PERCENTILE,
    DARK_BACKGROUND_PERCENTILE,
    OutsidePart,
    _lines,
    _without_cut,
    frame_and_fills_lazy,
    frame_part,
    image_part,
    outside_part,
    seeds_in_box,
)
from ._square import find_on_square
from ._validation import blank_reason, counted, rgb_luminance, size_in_image
from .atoms import AtomsResult
from .nuclei import WatershedResult, seeded_watershed
from .nuclei.watershed import _seeded_watershed
from .segmentation import threshold_label, threshold_label_chunked
from .threshold import compute_threshold, smoothed_threshold

__all__ = ["BACKGROUND_PERCENTILE", "DARK_BACKGROUND_PERCENTILE", "FiniteAtoms",
           "FiniteLabels", "FiniteRun", "Outside", "blank_plane",
           "empty_watershed", "find_atoms_finite", "finite_part", "frame_of", "outside_of",
           "seeded_watershed_finite", "smoothed_threshold_finite", "threshold_label_finite",
           "threshold_label_lazy", "whole_part"]


def finite_part(image, *, name: str = "image") -> OutsidePart | None:
    """The finite part of a 2-D (or RGB(A)) ``image``, or None when every pixel is finite
    (integer images always are): see the module's docstring. ``ValueError`` when no pixel
    is finite. Any other shape is returned as None, for the core to judge.

    >>> part = finite_part(np.array([[np.nan, 1, 2], [np.nan, 3, 4]]))
    >>> part.box, part.count, part.image.tolist()
    ((slice(0, 2, None), slice(1, 3, None)), 2, [[1.0, 2.0], [3.0, 4.0]])
    """
    if np.asarray(image).dtype.kind != "f":  # (complex: refused by the core as such)
        return None
    if (planes := _plane(image)) is None:
        return None
    arr = planes[1]  # (a NaN channel makes its pixel's luminance NaN)
    outside = ~np.isfinite(arr)
    return outside_part(arr, outside, name=name, dtype=np.float64) if outside.any() else None


def _plane(image) -> tuple[np.ndarray, np.ndarray] | None:
    """The in-memory ``image`` and its 2-d plane (itself, or an RGB(A) image's luminance)
    that :func:`frame_of` and :func:`whole_part` look at, or None: a lazy image, another
    shape, no pixel, or values that are not real numbers (bool, complex: the core refuses
    or reads them in its own words)."""
    if is_lazy(image):
        return None
    arr = np.asarray(image)
    if arr.dtype.kind not in "iuf" or not arr.size:
        return None
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        return arr, rgb_luminance(arr)
    if arr.ndim != 2:
        return None
    return arr, arr


def frame_of(image) -> OutsidePart | None:
    """The part of an in-memory 2-D (or RGB(A): its luminance) ``image`` inside a constant
    frame (:func:`~napari_tessella._outside.frame_part`: a stitched mosaic's padding,
    black, saturated or mid-grey, a registration's fill), or None (none, or a lazy image,
    or another shape). Threshold & label and Find atoms segment its box as the core
    segments the image alone, their results put back with nothing on the frame, as the
    Seeded watershed's core does itself.

    >>> img = np.full((6, 7), 5.0); img[1:5, 2:6] = np.arange(6.0, 22.0).reshape(4, 4)
    >>> frame_of(img).box, frame_of(img).message().split(':')[0]
    ((slice(1, 5, None), slice(2, 6, None)), '26 pixels (62 % of the image) are a constant \
frame of 5 around the field')
    """
    planes = _plane(image)
    return None if planes is None else frame_part(*planes)


def whole_part(image, *, name: str = "image") -> OutsidePart | None:
    """Everything outside an in-memory 2-D (or RGB(A)) ``image`` at once: its NaN or
    infinite pixels and a constant frame or fill beside them
    (:func:`~napari_tessella._outside.image_part`), or None (nothing outside, a lazy
    image, another shape). A NaN-padded mosaic inside a frame of 0 had its NaN pixels
    read as outside and its frame segmented with the field."""
    planes = _plane(image)
    return None if planes is None else image_part(*planes, name)


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
    if part is None:  # (the core reads a frame itself: said here, as for the others)
        if (frame := frame_of(image)) is None:
            return FiniteRun(seeded_watershed(image, seeds=seeds, **kwargs), "", image)
        # the frame read once: handed to the core, which would read it again
        return FiniteRun(_seeded_watershed(image, seeds=seeds, frame=frame, **kwargs),
                         frame.message(), image)
    part = whole_part(image)  # (a frame or a fill beside the NaN pixels too)
    inner, dropped = seeds_in_box(seeds, part)
    result = seeded_watershed(part.image, seeds=inner, **kwargs)
    if kwargs.get("exclude_border") and part.outside.any():
        result = _without_cut(result, part.outside)
    said = part.message()
    if dropped:
        said += f"; {counted(dropped, 'seed')} on them left out"
    return FiniteRun(part.result_in_whole(result), said, part.filled())


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


# --- Threshold & label and Find atoms: the finite part, bright or dark objects


class Outside(NamedTuple):
    """A plane's finite part for bright or dark objects (see :func:`outside_of`)."""

    part: OutsidePart
    crop: np.ndarray  # the finite box, its non-finite pixels given a background level

    def filled(self) -> np.ndarray:
        """The whole plane, its non-finite pixels given the background level (for
        measuring the objects, which never lie on them)."""
        whole = np.full(self.part.shape, self.part.level, dtype=np.float64)
        whole[self.part.box] = self.crop
        return whole

    def below(self, threshold: float, dark: bool) -> np.ndarray:
        """The crop with its non-finite pixels on the background's side of ``threshold``
        too (objects are strictly above it, or below for dark ones): a manual threshold
        under the background level made them objects."""
        outside = self.part.outside
        if not outside.any():  # a rectangular padding: cropped off, nothing to fill
            return self.crop
        values = self.crop[outside]
        level = max(values.max(), threshold) if dark else min(values.min(), threshold)
        return np.where(outside, level, self.crop)

    def threshold(self, method, smooth_sigma: float = 0.0) -> float:
        """``method``'s threshold of the finite pixels only, the crop smoothed with a
        Gaussian of ``smooth_sigma`` pixels first (as the core smooths before it
        thresholds): the level given to the non-finite ones (thousands of pixels of a
        mosaic's gaps) does not enter its histogram."""
        crop = self.crop
        sigma = size_in_image(smooth_sigma, "smooth_sigma", crop.shape)
        if sigma > 0:
            crop = ndi.gaussian_filter(crop, float(sigma))
        values = crop[~self.part.outside]
        if values.size % 2:  # two rows of a methods' image (a histogram has no shape)
            values = np.append(values, values[0])
        return compute_threshold(values.reshape(2, -1), method)

    def labels(self, threshold: float, **params) -> np.ndarray:
        """:func:`~napari_tessella.threshold_label` of the crop at the number
        ``threshold``, in the whole plane's frame: 0 on every non-finite pixel,
        renumbered 1..n; with ``exclude_border``, the objects touching a non-finite pixel
        (cut by a tile's edge, as the image's edge cuts those it drops) dropped too."""
        labels = threshold_label(self.below(threshold, params.get("dark_objects", False)),
                                 threshold, **params)
        outside = self.part.outside
        labels = np.where(outside, 0, labels)
        ids = np.unique(labels[labels > 0])
        if params.get("exclude_border") and outside.any():
            near = ndi.binary_dilation(outside, ndi.generate_binary_structure(
                2, params.get("connectivity", 1)))
            ids = np.setdiff1d(ids, labels[near])
        if len(ids) != int(labels.max()):  # some dropped or emptied: 1..n again
            lut = np.zeros(int(labels.max()) + 1, dtype=labels.dtype)
            lut[ids] = np.arange(1, ids.size + 1, dtype=labels.dtype)
            labels = lut[labels]
        return self.part.to_whole(labels)


def outside_of(image, *, dark: bool = False, name: str = "image",
               part: OutsidePart | None = None) -> Outside | None:
    """The plane's part inside its outside mask (NaN or infinite pixels, and a frame or a
    fill beside them: :func:`whole_part`, or ``part`` when given), or None when nothing is
    outside, the outside is a frame only (cropped off exactly: the core segments the
    box), or the plane is lazy (the core's own checks, chunk by chunk). Its outside pixels
    are given the dark background level of :func:`finite_part`, or with ``dark`` (dark
    objects, channels) the :data:`DARK_BACKGROUND_PERCENTILE` of the pixels inside.
    ``ValueError`` (in words, the plane called ``name``) when no pixel, or only a line of
    them, is finite."""
    part = whole_part(image, name=name) if part is None else part
    if part is None or part.outside is None:
        return None
    crop = part.image
    if dark:
        high = float(np.percentile(crop[~part.outside], DARK_BACKGROUND_PERCENTILE))
        crop = np.where(part.outside, high, crop)
    return Outside(part, crop)


class FiniteLabels(NamedTuple):
    """What :func:`threshold_label_finite` returns."""

    labels: np.ndarray  # in the whole image's frame, 0 on every non-finite pixel
    said: str  # how many pixels were non-finite ("" when none)
    image: np.ndarray  # the image to measure the objects in: non-finite pixels filled


def threshold_label_finite(image, threshold="otsu", *, name: str = "image",
                           **params) -> FiniteLabels:
    """:func:`~napari_tessella.threshold_label` of ``image`` with its NaN or infinite
    pixels read as outside the image (see the module's docstring): a method's threshold
    is that of the finite pixels only (smoothed as the core smooths), no object lies on a
    non-finite pixel, and with ``exclude_border`` none touches one. Returns the labels, a
    sentence saying how many pixels were non-finite and the image to measure the objects
    in (the core's own labels, "" and ``image`` itself when every pixel is finite, or the
    image is lazy). ``params`` go to the core as they are; ``name`` names the image in a
    refusal.

    >>> img = np.zeros((40, 60)); img[10:20, 10:20] = img[10:20, 35:45] = 1.0
    >>> img[:, :5] = np.nan
    >>> labels, said, _ = threshold_label_finite(img)
    >>> int(labels.max()), said.split(':')[0]
    (2, '200 pixels (8.3 % of the image) are NaN or infinite')
    """
    if is_lazy(image):  # chunk by chunk: a frame read as in memory
        labels, said = threshold_label_lazy(image, threshold, **params)
        return FiniteLabels(labels, said, image)
    frame = whole_part(image, name=name)
    out = outside_of(image, dark=params.get("dark_objects", False), part=frame)
    if out is None and frame is not None:  # a frame: the field alone, put back
        return FiniteLabels(frame.to_whole(threshold_label(frame.image, threshold, **params)),
                            frame.message(), image)
    if out is None:
        return FiniteLabels(threshold_label(image, threshold, **params), "", image)
    if isinstance(threshold, str):  # the method, of the finite part
        threshold = out.threshold(threshold, params.get("smooth_sigma", 0.0))
    return FiniteLabels(out.labels(threshold, **params), out.part.message(), out.filled())


def threshold_label_lazy(image, threshold="otsu", *, scheduler=None, **params):
    """:func:`~napari_tessella.segmentation.threshold_label_chunked` of the lazy
    ``image`` reading a constant frame (``_outside.frame_part_lazy``) and a constant fill
    in its corners (``_fills.fill_runs_lazy``, read by
    :func:`napari_tessella._fills_chunked.threshold_label_filled`) as in memory: the
    field inside them segmented, no object on them; and the sentence memory says. NaN
    pixels are refused as before. Returns (lazy labels, sentence)."""
    arr = _as_float_dask(image, params.get("chunks"), convert=False)
    lines = _compute(*_lines(arr), scheduler=scheduler)
    part, inner, fills = frame_and_fills_lazy(arr, lines, scheduler)
    if fills and (got := threshold_label_filled(inner, part, arr.shape, fills, threshold,
                                                scheduler, **params)) is not None:
        return got[0], got[1].message()
    labels = threshold_label_chunked(inner, threshold, scheduler=scheduler, **params)
    if part is None:
        return labels, ""
    return part.to_whole(labels), part.message()


def smoothed_threshold_finite(image, method="otsu", *, smooth_sigma: float = 0.0,
                              dark: bool = False, name: str = "image") -> float:
    """:func:`~napari_tessella.threshold.smoothed_threshold` of the finite pixels of
    ``image`` only (the threshold :func:`threshold_label_finite` uses; ``dark``: for dark
    objects, whose non-finite pixels take a bright background level)."""
    frame = whole_part(image, name=name)
    out = outside_of(image, dark=dark, part=frame)
    if out is None:
        return smoothed_threshold(image if frame is None else frame.image, method,
                                  smooth_sigma=smooth_sigma)
    return out.threshold(method, smooth_sigma)


def _shift_atoms(result: AtomsResult, part: OutsidePart) -> AtomsResult:
    """:func:`~napari_tessella.atoms.find_atoms`'s result on the crop, in the whole
    plane's frame (positions and the table's ``row``, ``col``), less any column whose
    pixel is non-finite (partners renumbered)."""
    positions = np.asarray(result.positions, dtype=np.float64).reshape(-1, 2)
    keep = np.ones(len(positions), bool)  # (a frame: every column lies in the box)
    if part.outside is not None and len(positions):
        pixel = np.clip(np.round(positions).astype(int), 0, np.array(part.outside.shape) - 1)
        keep = ~part.outside[pixel[:, 0], pixel[:, 1]]
    table = result.table.copy()
    if "partner" in table and not keep.all():
        new = np.full(len(keep), -1)
        new[keep] = np.arange(int(keep.sum()))
        partner = table["partner"].to_numpy()
        table["partner"] = np.where(partner >= 0, new[np.maximum(partner, 0)], -1)
    table = table[keep].reset_index(drop=True)
    table["row"] += part.offset[0]
    table["col"] += part.offset[1]
    return replace(result, positions=positions[keep] + part.offset, table=table)


class FiniteAtoms(NamedTuple):
    """What :func:`find_atoms_finite` returns."""

    result: AtomsResult  # in the whole image's frame
    said: str  # how many pixels were non-finite ("" when none)
    image: np.ndarray  # the image to measure the columns in: non-finite pixels filled


def find_atoms_finite(image, *, name: str = "image", sampling=None, zoom=None,
                      **params) -> FiniteAtoms:
    """:func:`~napari_tessella.find_atoms` of ``image`` with its NaN or infinite pixels
    read as outside the image: the columns (or, with ``dark``, channels) of its finite
    part, none on a non-finite pixel, in the whole image's frame; with the sentence and
    the image to measure in, as :func:`threshold_label_finite`. Pixels that are not
    square (``sampling``: their sizes, None for square ones): found on the plane
    resampled to square pixels (:func:`~napari_tessella._square.find_on_square`, its
    ``zoom`` when the caller has it). ``params`` go to the core as they are."""
    frame = whole_part(image, name=name)
    out = outside_of(image, dark=params.get("dark", False), part=frame)
    if out is None and frame is not None:  # a frame: the field alone, put back
        found = find_on_square(frame.image, sampling, zoom=zoom, **params)
        return FiniteAtoms(_shift_atoms(found, frame), frame.message(), image)
    if out is None:
        return FiniteAtoms(find_on_square(image, sampling, zoom=zoom, **params),
                           "", image)
    found = find_on_square(out.crop, sampling, zoom=zoom, **params)
    return FiniteAtoms(_shift_atoms(found, out.part), out.part.message(), out.filled())
