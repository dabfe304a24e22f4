"""Block-mean reduction and nearest-neighbour enlargement, in memory and lazy: the nuclei
recipe works at a resolution where the typical nucleus is about 20 pixels across."""

from __future__ import annotations

import numpy as np


def _downsample(img: np.ndarray, factor: int) -> np.ndarray:
    """Block mean; the last partial rows/columns are dropped (for the diameter estimate)."""
    rows, cols = (s // factor * factor for s in img.shape)
    return _block_mean(img[:rows, :cols], factor)


def _block_mean(img: np.ndarray, factor: int) -> np.ndarray:
    """Block mean that keeps every pixel: the last partial blocks are completed with copies
    of the last row/column (as edge padding would, without copying the image).

    Floats keep their type; an image of integers gives the block means of its float64
    copy, bit for bit: 8- and 16-bit ones are summed as integers (whole sums, exact in
    float64 as well: 3-4x faster than converting first), others converted first."""
    acc = None
    if img.dtype.kind in "iu" and img.dtype.itemsize <= 2:
        most = 2**16 * factor * factor  # bounds every block sum
        acc = np.int32 if most < 2**31 else np.int64 if most < 2**53 else None
    if acc is None and img.dtype.kind != "f":
        img = img.astype(np.float64)
    if factor <= 1:
        return img.astype(np.float64) if acc is not None else img

    def block_sums(a):  # along axis 0, as sums of row-strided views (fast, contiguous)
        out = a[0::factor].astype(acc) if acc is not None else a[0::factor].copy()
        for i in range(1, factor):
            view = a[i::factor]
            out[:len(view)] += view
            out[len(view):] += a[-1]
        return out

    return np.ascontiguousarray(block_sums(block_sums(img).T).T) / (factor * factor)


def _full_resolution(points: np.ndarray, factor: int, shape) -> np.ndarray:
    """Working-pixel positions (blocks of ``factor``²) as positions in the image of
    ``shape``: a block's centre, inside the image. A partial last block (the image not a
    multiple of ``factor``) would put its centre up to half a block past the last pixel,
    where the point could not be given back as a seed."""
    if factor <= 1:
        return points
    full = (np.asarray(points, dtype=np.float64) + 0.5) * factor - 0.5
    return np.clip(full, 0, np.asarray(shape[-2:], dtype=np.float64) - 1)


def _upsample(labels: np.ndarray, factor: int, shape) -> np.ndarray:
    """Nearest-neighbour inverse of :func:`_block_mean`."""
    if factor <= 1:
        return labels
    # along rows first: the second repeat copies whole rows (2.5x faster)
    return np.repeat(np.repeat(labels, factor, axis=1), factor, axis=0)[:shape[0], :shape[1]]


def _reduce_lazy(arr, factor: int, *, trim: bool = False, quiet: bool = False):
    """Lazy block mean by ``factor``: padded with edge values (``nuclei._block_mean``) or
    with the last partial rows/columns dropped (``nuclei._downsample``, ``trim=True``).
    ``quiet``: a mean that overflows is infinite without a warning (for a first look at
    an image that may come near the largest float, made again once it is rescaled)."""
    import dask.array as da

    if factor <= 1:
        return arr
    rows, cols = arr.shape
    if trim:
        arr = arr[: rows // factor * factor, : cols // factor * factor]
    else:
        pad = ((0, -rows % factor), (0, -cols % factor))
        if any(p for _, p in pad):
            arr = da.pad(arr, pad, mode="edge")
    size = tuple(max(factor, c // factor * factor) for c in arr.chunksize)
    if any(c % factor for cs in arr.chunks for c in cs):
        arr = arr.rechunk(size)
    return da.coarsen(_quiet_mean if quiet else _block_mean_of, arr, {0: factor, 1: factor})


def _block_mean_of(x, axis=None):
    """``np.mean`` for ``da.coarsen``. dask also calls it once on ``np.empty((1, 1))`` for
    the result's meta; those bytes are whatever memory held and can be a signalling NaN,
    whose "invalid value" warning would reach the user (or fail a run with warnings as
    errors) at random. A mean of real pixels raises "invalid" only where it is NaN anyway."""
    with np.errstate(invalid="ignore"):
        return np.mean(x, axis=axis)


def _quiet_mean(x, axis=None):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.mean(x, axis=axis)
