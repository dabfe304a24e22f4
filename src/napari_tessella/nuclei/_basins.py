"""The recipe's seeded watersheds over a mask, flooded only where two seeds meet, and
skimage's watershed without its per-call preparation (:func:`_watershed`)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _mask_box, _structure


def _flood(image, markers, mask, connectivity: int = 1, parts=None) -> np.ndarray:
    """``skimage.segmentation.watershed(image, markers, mask=mask,
    connectivity=connectivity)`` of 2-D arrays, bit for bit (``mask`` boolean, ``markers``
    of non-negative integers), flooded only in the components of ``mask`` that hold two
    marker ids or more.

    ``parts``: the components of ``mask`` under ``connectivity`` (``ndi.label`` with its
    structure; ids need not be consecutive), made here when None. The flood never leaves
    a component: one whose markers carry a single id is that id wherever it is, one
    without markers 0. The others are flooded together, in their box (skimage pads the
    image by a pixel outside the mask, as it pads the whole image).

    The same labels as the whole flood's when each of those components' marker pixels
    have distinct values in ``image``: skimage's heap pops the least (value, age), the
    age a count of the pushes (0 for the markers). Within a component every key is then
    distinct, so its pixels are popped in one order whatever else is in the heap, and
    the pushes it makes keep their order of age. Two marker pixels of one value (a
    plateau, two symmetric peaks) are popped in an order that depends on the heap's
    layout, which the other components' pixels change: then the whole image is flooded,
    as before (2 of 62 calls on 8 U2OS images; 12 needed no flood at all)."""
    watershed = _watershed
    mask = np.asarray(mask, dtype=bool)
    if parts is None:
        parts = ndi.label(mask, _structure(mask.ndim, connectivity))[0]
    at = np.flatnonzero(markers != 0)  # (of a boolean image: faster, the same pixels)
    at = at[mask.ravel()[at]]  # (skimage's markers * mask)
    ids = markers.ravel()[at].astype(np.int64)
    comp = parts.ravel()[at].astype(np.int64)
    top = int(ids.max()) + 1 if ids.size else 1
    pairs = np.unique(comp * top + ids)  # each (component, marker id) once
    count = np.bincount(pairs // top, minlength=int(parts.max()) + 1)
    multi = count >= 2
    flooded = bool(multi.any())
    if flooded:
        on = multi[comp]  # their marker pixels, by component then value
        values, where = image.ravel()[at[on]], comp[on]
        order = np.lexsort((values, where))
        values, where = values[order], where[order]
        if ((where[1:] == where[:-1]) & (values[1:] == values[:-1])).any():
            return watershed(image, markers, mask=mask, connectivity=connectivity)
    single = pairs[count[pairs // top] == 1]
    lut = np.zeros(count.size, dtype=np.result_type(markers.dtype, np.bool_))  # skimage's
    lut[single // top] = single % top
    ids_at = parts.astype(np.intp, copy=False)  # (numpy takes by its index type faster)
    out = np.take(lut, ids_at)
    if flooded:
        on = np.take(multi, ids_at)
        box = _mask_box(on)
        out[box] += watershed(image[box], markers[box], mask=on[box],
                              connectivity=connectivity)
    return out


def _neighbours(width: int, connectivity: int) -> np.ndarray:
    """The raveled offsets of a pixel's neighbours in a 2-D array of rows of ``width``
    pixels, in the order skimage's watershed takes them (by distance, then in the raster
    order of the 3 x 3 structure): up, left, right, down, then (``connectivity`` 2) the
    four diagonals. That order is the order of the pushes, so of the ages that settle
    the flood's ties."""
    offsets = [-width, -1, 1, width]
    if connectivity == 2:
        offsets += [-width - 1, -width + 1, width - 1, width + 1]
    return np.array(offsets, dtype=np.intp)


def _kernel():
    """skimage's compiled flood, or None when this skimage lays it out otherwise or it no
    longer floods as :func:`_watershed` calls it. It is a private function: its signature
    or its meaning may change in another skimage, so it is tried once, on a small image of
    plateaus and ties, against skimage's public watershed, and used only if the two agree
    bit for bit (any error in that trial: not used)."""
    global _KERNEL
    if _KERNEL is _UNTRIED:
        _KERNEL = None
        try:
            from skimage.segmentation import watershed
            from skimage.segmentation._watershed_cy import watershed_raveled
        except ImportError:
            return None
        rng = np.random.default_rng(53)
        image = rng.integers(0, 3, (9, 11)).astype(float)  # (few levels: many ties)
        markers = np.zeros(image.shape, np.int32)
        markers[1, 1], markers[7, 9], markers[4, 5], markers[0, 10] = 1, 2, 3, 4
        mask = rng.random(image.shape) > 0.15
        try:
            agree = all(np.array_equal(
                _fast(watershed_raveled, image, markers, mask, conn),
                watershed(image, markers, mask=mask, connectivity=conn))
                for conn in (1, 2))
        except Exception:  # (a changed private signature: skimage's own path)
            agree = False
        _KERNEL = watershed_raveled if agree else None
    return _KERNEL


_UNTRIED = object()
_KERNEL = _UNTRIED


def _fast(kernel, image, markers, mask, connectivity):
    """The flood of :func:`_watershed` through ``kernel`` (skimage's compiled one)."""
    mask = np.asarray(mask, dtype=bool)
    seeds = markers * mask  # (skimage's)
    rows, cols = seeds.shape
    inner = (slice(1, rows + 1), slice(1, cols + 1))
    flat = np.zeros((rows + 2, cols + 2))  # the image as float64, 0 around it
    flat[inner] = image
    inside = np.zeros(flat.shape, np.int8)
    inside[inner] = mask
    out = np.zeros(flat.shape, seeds.dtype)
    out[inner] = seeds
    kernel(flat.ravel(), np.flatnonzero(out != 0), _neighbours(cols + 2, connectivity),
           inside.ravel(), np.array([cols + 2, 1], dtype=np.intp), 0.0, out.ravel(), False)
    return out[inner].copy()


def _watershed(image, markers, mask, connectivity: int = 1) -> np.ndarray:
    """``skimage.segmentation.watershed(image, markers, mask=mask,
    connectivity=connectivity)``, bit for bit, for a 2-D ``image``, a ``markers`` array
    and a ``mask`` of its shape: the same flood (skimage's own compiled kernel) from the
    same inputs, made without skimage's per-call steps: three ``np.pad`` calls, the
    structure's offsets sorted again, the mask's sum and its validation (round 53: ~0.3 ms
    a call, ~7 calls per U2OS image, more than the flood of most of the recipe's small
    boxes). As skimage, the image is read as float64 with a border of one pixel of 0
    around it, outside the mask (the kernel never leaves it), and the markers outside the
    mask are 0 (``markers * mask``: their type is the output's). Anything else (another
    dimension, no mask, markers not an array, another connectivity, or a skimage whose
    kernel is missing or floods otherwise: :func:`_kernel`): skimage's watershed itself."""
    from skimage.segmentation import watershed

    if (not isinstance(markers, np.ndarray) or mask is None
            or np.ndim(image) != 2 or connectivity not in (1, 2)
            or markers.shape != np.shape(image) or np.shape(mask) != np.shape(image)
            or (kernel := _kernel()) is None):
        return watershed(image, markers, mask=mask, connectivity=connectivity)
    return _fast(kernel, image, markers, mask, connectivity)
