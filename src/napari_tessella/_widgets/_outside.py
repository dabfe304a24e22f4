"""NaN or infinite pixels of Threshold & label's and Find atoms' plane read as outside the
sample, as the Seeded watershed reads them (:mod:`napari_tessella._finite`): the plane's
finite box is segmented (:func:`~napari_tessella._finite.finite_part`), its non-finite
pixels given a level that is never an object, and the results put back in the whole
plane's frame with nothing on a non-finite pixel."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

from .._finite import FinitePart, finite_part
from .._lazy import is_lazy
from .._validation import size_in_image
from ..threshold import compute_threshold

#: the percentile of the finite pixels the non-finite ones are given for dark objects
#: (the mirror of ``_finite.BACKGROUND_PERCENTILE``: "no object here" when objects are dark)
DARK_BACKGROUND_PERCENTILE = 99.0


class Outside(NamedTuple):
    """A plane's finite part (see :func:`outside_of`)."""

    part: FinitePart
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

    def whole_labels(self, labels: np.ndarray, *, drop_cut: bool = False,
                     connectivity: int = 1) -> np.ndarray:
        """``labels`` of the crop in the whole plane's frame, 0 on every non-finite pixel,
        renumbered 1..n; with ``drop_cut``, the objects touching a non-finite pixel (cut
        by a tile's edge, as 'drop objects touching the border' drops those the image's
        edge cuts) dropped."""
        outside = self.part.outside
        labels = np.where(outside, 0, labels)
        ids = np.unique(labels[labels > 0])
        if drop_cut and outside.any():
            near = ndi.binary_dilation(outside, ndi.generate_binary_structure(2, connectivity))
            ids = np.setdiff1d(ids, labels[near])
        if len(ids) != int(labels.max()):  # some dropped or emptied: 1..n again
            lut = np.zeros(int(labels.max()) + 1, dtype=labels.dtype)
            lut[ids] = np.arange(1, ids.size + 1, dtype=labels.dtype)
            labels = lut[labels]
        return self.part.to_whole(labels)


def outside_of(image, *, dark: bool = False, name: str = "image") -> Outside | None:
    """The plane's finite part, or None when every pixel is finite (or the plane is lazy:
    the core's own checks, chunk by chunk). Its non-finite pixels are given the dark
    background level of :func:`~napari_tessella._finite.finite_part`, or with ``dark``
    (dark objects, channels) the 99th percentile of the finite pixels. ``ValueError`` (in
    words, the plane called ``name``) when no pixel, or only a line of them, is finite."""
    if is_lazy(image):
        return None
    part = finite_part(image, name=name)
    if part is None:
        return None
    crop = part.image
    if dark:
        high = float(np.percentile(crop[~part.outside], DARK_BACKGROUND_PERCENTILE))
        crop = np.where(part.outside, high, crop)
    return Outside(part, crop)


def shift_atoms(result, part: FinitePart):
    """:func:`~napari_tessella.atoms.find_atoms`'s result on the crop, in the whole
    plane's frame (positions and the table's ``row``, ``col``), less any column whose
    pixel is non-finite (partners renumbered)."""
    from dataclasses import replace

    positions = np.asarray(result.positions, dtype=np.float64).reshape(-1, 2)
    pixel = np.clip(np.round(positions).astype(int), 0,
                    np.array(part.outside.shape) - 1)
    keep = ~part.outside[pixel[:, 0], pixel[:, 1]] if len(positions) else np.ones(0, bool)
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
