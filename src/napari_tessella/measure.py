"""Per-object measurements: centres (geometric and intensity-weighted), area, intensity
statistics, extrema and bounding box — of an in-memory label image, or of a lazy one chunk
by chunk.

Both paths share one algorithm. The foreground pixels are read once, in raster order, and
cut into *runs* (horizontal stretches of one label within one row). Every run is reduced
with ``np.*.reduceat`` (contiguous, no sort), and the runs — about ten times fewer than the
pixels for compact objects — are then combined per label (:func:`_combine`). A chunk of a
lazy image gives the same per-label partial records, combined the same way across chunks,
so the chunked table equals the in-memory one (sums to rounding). Label ids are compacted
(a lookup table when they are small, ``np.unique`` otherwise), so huge ids cost nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._lazy import _as_dask, _as_float_dask, _compute, _on_storage_grid, is_lazy
from ._validation import as_float_image, as_label_image, non_finite_pixels

__all__ = ["MEASURE_COLUMNS", "OVERSIZED", "measure_objects", "measure_objects_chunked",
           "oversized_objects"]

#: Columns of the table returned by :func:`measure_objects`, in order.
MEASURE_COLUMNS = (
    "label",
    "centroid_row",
    "centroid_col",
    "com_row",
    "com_col",
    "area",
    "mean",
    "min",
    "max",
    "min_at_row",
    "min_at_col",
    "max_at_row",
    "max_at_col",
    "bbox_min_row",
    "bbox_min_col",
    "bbox_max_row",
    "bbox_max_col",
)

# Partial records, one per (part, label): a part is a run of pixels, or a chunk. Sums of
# intensities are kept relative to the part's own minimum ("u" = w - min >= 0), so moving
# them to the object's minimum only adds non-negative terms: no cancellation.
_SUMS = ("area", "sum_r", "sum_c")
_SHIFTED = ("sum_u", "sum_ur", "sum_uc")  # shifted by area, sum_r, sum_c respectively
_BOX = (("bbox_r0", np.minimum), ("bbox_c0", np.minimum), ("bbox_r1", np.maximum),
        ("bbox_c1", np.maximum))
_BIG = np.iinfo(np.int64).max
#: the largest intensity magnitude measured: an object's sums weigh its intensities by up to
#: its pixel count times a coordinate (2**62 together), and must stay below float64's 2**1024
_HUGE = 2.0**900


#: An object this many times the median area or more is "oversized": likely two or more
#: objects joined by the threshold (two atom columns closer than the blur, a dumbbell).
OVERSIZED = 1.6
#: ... said only when the sizes have a valley below it: fewer objects between this many
#: times the median and :data:`OVERSIZED` than half the oversized ones (joined objects are
#: a second mode near twice the typical area, not the tail of one spread of sizes)
VALLEY = 1.25


def oversized_objects(areas, factor: float = OVERSIZED) -> tuple[int, float]:
    """(How many of ``areas`` are at least ``factor`` × their median, that median).

    A threshold joins objects closer than the blur (the two columns of a dumbbell, two
    touching nuclei) into one object of about twice the typical area, and counts them as
    one. Such objects form a second mode of the sizes: when the sizes run on without a
    valley between ``VALLEY`` and ``factor`` × the median (fewer objects there than half
    those above), the large ones are the tail of one spread (bright columns at a high
    threshold), not joined pairs, and none is counted. Fewer than 3 objects have no
    typical area to compare with. Either way: (0, median).

    >>> oversized_objects([20, 22, 21, 44, 19])
    (1, 21.0)
    >>> oversized_objects([20, 44])
    (0, 32.0)
    >>> oversized_objects([10, 11, 12, 13, 14, 15, 16, 17, 18])  # one spread, no valley
    (0, 14.0)
    """
    areas = np.asarray(areas, dtype=float)
    median = float(np.median(areas)) if areas.size else 0.0
    if areas.size < 3 or median <= 0:
        return 0, median
    large = int(np.count_nonzero(areas >= factor * median))
    between = int(np.count_nonzero((areas >= VALLEY * median) & (areas < factor * median)))
    return (large if between < 0.5 * large else 0), median


def _compact(ids: np.ndarray):
    """Sorted unique ``ids`` and the index of every entry into them.

    A lookup table when the largest id is small compared with the number of entries (the
    usual 1..n labels), ``np.unique`` otherwise: never a table over a huge id range.
    """
    top = int(ids.max())
    if top < max(4 * ids.size, 1 << 16):
        present = np.zeros(top + 1, dtype=bool)
        present[ids] = True
        lut = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(ids.dtype), lut[ids]
    unique, inverse = np.unique(ids, return_inverse=True)
    return unique, inverse.ravel()


def _combine(g: np.ndarray, k: int, part: dict) -> dict:
    """Combine partial records (one entry per part) into ``k`` labels; part i is of g[i].

    Extrema positions are global raster indices; of several parts holding a label's
    extreme value, the one with the smallest index wins (the first in raster order).
    """
    out = {key: np.bincount(g, part[key], k) for key in _SUMS}
    lo = np.full(k, np.inf)
    np.minimum.at(lo, g, part["min"])
    hi = np.full(k, -np.inf)
    np.maximum.at(hi, g, part["max"])
    shift = part["min"] - lo[g]  # >= 0: the part's minimum over the object's
    for key, base in zip(_SHIFTED, _SUMS, strict=True):
        out[key] = np.bincount(g, part[key] + shift * part[base], k)
    for key, ufunc in _BOX:
        value = np.full(k, _BIG if ufunc is np.minimum else -1, dtype=np.int64)
        ufunc.at(value, g, part[key])
        out[key] = value
    for kind, best in (("min", lo), ("max", hi)):
        hit = np.flatnonzero(part[kind] == best[g])
        at = np.full(k, _BIG, dtype=np.int64)
        np.minimum.at(at, g[hit], part[f"{kind}_at"][hit])
        out[kind], out[f"{kind}_at"] = best, at
    return out


def _region_partials(lab: np.ndarray, img: np.ndarray, r0: int = 0, c0: int = 0,
                     ncols: int | None = None):
    """Per-label records of one region (a whole image or a chunk) whose first pixel is
    (r0, c0) of an image ``ncols`` wide: (sorted label ids, records), or None if empty."""
    w = lab.shape[1]
    ncols = w if ncols is None else ncols
    flat = np.ascontiguousarray(lab).reshape(-1)
    # runs: wherever the label changes, and at the start of every row
    change = flat[1:] != flat[:-1]
    change[w - 1 :: w] = True
    first = np.concatenate([[0], np.flatnonzero(change) + 1])
    del change
    length = np.diff(np.append(first, flat.size))
    fg = flat[first] != 0
    start, length = first[fg], length[fg]
    if start.size == 0:
        return None
    # the foreground pixels, run after run; k = a pixel's place in its run
    pos0 = np.cumsum(length) - length
    k = np.arange(pos0[-1] + length[-1])
    k -= np.repeat(pos0, length)
    val = np.ascontiguousarray(img).reshape(-1).take(k + np.repeat(start, length))
    run_lo = np.minimum.reduceat(val, pos0).astype(np.float64)
    run_hi = np.maximum.reduceat(val, pos0).astype(np.float64)
    if max(-run_lo.min(), run_hi.max()) > _HUGE:
        raise ValueError(
            f"the image's intensities reach {max(-run_lo.min(), run_hi.max()):.3g} inside "
            f"objects; their sums overflow beyond {_HUGE:.0e}: divide the image by a large "
            "factor (e.g. 1e250) to measure it.")
    n = length.astype(np.float64)
    pairs = n * (n - 1) / 2  # sum of k over a run
    # intensity sums relative to the run's minimum; exactly 0 for a flat run
    flat_run = run_lo == run_hi
    sum_u = np.add.reduceat(val, pos0, dtype=np.float64) - n * run_lo
    sum_uk = np.add.reduceat(val * k, pos0) - pairs * run_lo
    sum_u = np.where(flat_run, 0.0, np.maximum(sum_u, 0.0))
    sum_uk = np.where(flat_run, 0.0, np.maximum(sum_uk, 0.0))
    row = start // w
    c_first = start - row * w + c0
    row += r0
    raster = row * np.int64(ncols) + c_first  # global raster index of a run's first pixel
    part = {
        "area": n,
        "sum_r": row * n,
        "sum_c": c_first * n + pairs,
        "min": run_lo,
        "max": run_hi,
        "sum_u": sum_u,
        "sum_ur": row * sum_u,
        "sum_uc": c_first * sum_u + sum_uk,
        "bbox_r0": row,
        "bbox_c0": c_first,
        "bbox_r1": row + 1,
        "bbox_c1": c_first + length,
        # runs are in raster order: the first run holding an extreme is the one of the
        # smallest index; its first pixel holding it is found below
        "min_at": np.arange(len(start)),
        "max_at": np.arange(len(start)),
    }
    ids, g = _compact(flat[start])
    out = _combine(g, ids.size, part)
    for kind in ("min", "max"):
        run = out[f"{kind}_at"]
        size = length[run]
        offset = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
        hit = np.flatnonzero(val[np.repeat(pos0[run], size) + offset]
                             == np.repeat(out[kind], size))
        owner = np.repeat(np.arange(ids.size), size)[hit]
        firsts = hit[np.concatenate([[True], owner[1:] != owner[:-1]])]
        out[f"{kind}_at"] = raster[run] + offset[firsts]
    return ids, out


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: np.empty(0, dtype=np.int64 if c == "label" else np.float64)
                         for c in MEASURE_COLUMNS})


def _table(ids: np.ndarray, rec: dict, ncols: int) -> pd.DataFrame:
    """The measurement table from combined per-label records."""
    area = rec["area"]
    centroid = [rec["sum_r"] / area, rec["sum_c"] / area]
    weighted = (rec["max"] > rec["min"]) & (rec["sum_u"] > 0)  # not all equal
    safe = np.where(weighted, rec["sum_u"], 1.0)
    com = []
    for key, centre, lo, hi in (("sum_ur", centroid[0], "bbox_r0", "bbox_r1"),
                                ("sum_uc", centroid[1], "bbox_c0", "bbox_c1")):
        value = np.where(weighted, rec[key] / safe, centre)
        # a weighted mean of pixel positions: inside the box; clip away the last rounding
        com.append(np.clip(value, rec[lo], rec[hi] - 1).astype(np.float64))
    big = ids.dtype == np.uint64 and ids.size and int(ids[-1]) > np.iinfo(np.int64).max
    columns = {
        "label": ids if big else ids.astype(np.int64),
        "centroid_row": centroid[0],
        "centroid_col": centroid[1],
        "com_row": com[0],
        "com_col": com[1],
        "area": area,
        "mean": rec["min"] + rec["sum_u"] / area,
        "min": rec["min"],
        "max": rec["max"],
    }
    for kind in ("min", "max"):
        columns[f"{kind}_at_row"] = (rec[f"{kind}_at"] // ncols).astype(np.float64)
        columns[f"{kind}_at_col"] = (rec[f"{kind}_at"] % ncols).astype(np.float64)
    for name, key in (("bbox_min_row", "bbox_r0"), ("bbox_min_col", "bbox_c0"),
                      ("bbox_max_row", "bbox_r1"), ("bbox_max_col", "bbox_c1")):
        columns[name] = rec[key].astype(np.float64)
    return pd.DataFrame(columns)


def _same_shape(lab, img) -> None:
    """Labels and an image of one (row, column) shape, in memory or lazy, or a ValueError
    (the in-memory and the chunked measurement each wrote it before round 52)."""
    if lab.shape != img.shape:
        raise ValueError(f"labels and image must have the same (row, column) shape; got "
                         f"{lab.shape} and {img.shape}.")


def measure_objects(labels, image) -> pd.DataFrame:
    """Measure centres, intensity statistics and bounding boxes of every labelled object.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Label image, 0 = background. Ids may be any non-negative integers (up to the
        largest int64 / uint64); they need not be consecutive.
    image : (M, N) or (M, N, 3|4) ndarray
        Intensity image of the same (row, column) shape; RGB is converted to luminance.

    Returns
    -------
    table : pandas.DataFrame
        One row per object present in ``labels`` (ascending label), with the columns of
        :data:`MEASURE_COLUMNS`:

        - ``label`` (int64; uint64 for uint64 ids beyond the int64 range);
        - ``centroid_row``, ``centroid_col``: geometric centre;
        - ``com_row``, ``com_col``: intensity-weighted centre of mass, sub-pixel (the
          lattice points). The weights are the intensities minus the object's own minimum,
          ``w - min``, so they are never negative and the centre always lies inside the
          object's bounding box, whatever the sign of the intensities (an offset such as
          a background level does not pull it towards the object's geometric centre).
          Where all of an object's pixels have the same value, it is the centroid;
        - ``area`` (pixels); ``mean``, ``min``, ``max`` (intensity);
        - ``min_at_row``, ``min_at_col``, ``max_at_row``, ``max_at_col``: the pixel
          holding the minimum / maximum; of several pixels sharing it, the first in
          raster order;
        - ``bbox_min_row``, ``bbox_min_col``, ``bbox_max_row``, ``bbox_max_col``:
          bounding box, the maximum exclusive (as ``skimage.measure.regionprops``).

        Coordinates are in pixels, (row, column); multiply by the image scale for physical
        units. A dask or Zarr input is measured chunk by chunk
        (:func:`measure_objects_chunked`), with the same table.

    Raises
    ------
    ValueError
        If the shapes differ or an input is not a valid image.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_tessella import measure_objects
    >>> labels = np.zeros((5, 5), int); labels[1:3, 1:4] = 1
    >>> image = np.arange(25.0).reshape(5, 5)
    >>> measure_objects(labels, image)[["label", "area", "max", "max_at_row"]].values.tolist()
    [[1.0, 6.0, 13.0, 2.0]]
    """
    if is_lazy(labels) or is_lazy(image):
        return measure_objects_chunked(labels, image)
    lab = as_label_image(labels)
    img = as_float_image(image, allow_constant=True)
    _same_shape(lab, img)
    part = _region_partials(lab, img)
    if part is None:
        return _empty_table()
    return _table(*part, lab.shape[1])


# --------------------------------------------------------------------------------------
# chunk by chunk

def _block_measure(lab, img, r0, c0, cols, labels_out=None):
    """Per-label partial records of one chunk, as a dict of 1-D arrays."""
    lab = np.asarray(lab)
    img = np.asarray(img)
    if labels_out is not None:
        labels_out[r0 : r0 + lab.shape[0], c0 : c0 + lab.shape[1]] = lab
    n_bad = int((~np.isfinite(img)).sum())
    n_neg = int((lab < 0).sum()) if np.issubdtype(lab.dtype, np.signedinteger) else 0
    part = None if n_bad or n_neg else _region_partials(lab, img, r0, c0, cols)
    if part is None:
        return {"n_bad": n_bad, "n_neg": n_neg, "label": np.empty(0, lab.dtype)}
    ids, rec = part
    return {"n_bad": 0, "n_neg": 0, "label": ids, **rec}


def _combine_measurements(parts, cols) -> pd.DataFrame:
    parts = [p for p in parts if p["label"].size]
    if not parts:
        return _empty_table()
    keys = [k for k in parts[0] if k not in ("n_bad", "n_neg", "label")]
    ids, g = _compact(np.concatenate([p["label"] for p in parts]))
    rec = _combine(g, ids.size, {k: np.concatenate([p[k] for p in parts]) for k in keys})
    return _table(ids, rec, cols)


def measure_objects_chunked(
    labels, image, *, chunks=None, scheduler=None, labels_out=None
) -> pd.DataFrame:
    """Measure every labelled object of a large label image, chunk by chunk.

    Same table as :func:`napari_tessella.measure_objects`, computed from per-chunk partial
    sums that are then combined, so neither the label image nor the intensity image is
    ever in memory as a whole (only the table is).

    Parameters
    ----------
    labels : (M, N) dask array, Zarr array or array_like of int
        Label image, 0 = background (e.g. from :func:`threshold_label_chunked`).
    image : (M, N) or (M, N, 3|4) dask array, Zarr array or array_like
        Intensity image of the same (row, column) shape; RGB is converted to luminance.
    chunks : int or (int, int), optional
        Chunk shape to process; default: the chunks of ``labels``.
    scheduler : str or distributed.Client, optional
        As in :func:`threshold_label_chunked`.
    labels_out : Zarr array, optional
        Writable array of the labels' shape whose chunks coincide with the processing
        chunks (e.g. ``zarr.open_array(path, mode="w", chunks=labels.chunksize, ...)``):
        each chunk of ``labels`` is also written there as it is measured, so a lazy label
        image is computed once for both the table and the file.

    Returns
    -------
    table : pandas.DataFrame
        One row per object (ascending label) with the columns of
        :data:`napari_tessella.measure.MEASURE_COLUMNS`. Sums are added in a
        different order than in memory: centres of mass and means agree to rounding
        (about 1e-12 relative); labels, areas, centroids, extrema, their positions
        (the first pixel in raster order holding the value, in both) and bounding boxes
        are identical.

    Raises
    ------
    ValueError
        If the shapes differ or an input is not 2-D; and, after the pass over the data,
        if the image contains NaN/inf or the labels are negative.
    TypeError
        If ``labels`` is not an integer image or ``image`` does not hold real numbers.

    See Also
    --------
    napari_tessella.measure_objects : the in-memory version.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((5, 5), int); labels[1:3, 1:4] = 1
    >>> image = np.arange(25.0).reshape(5, 5)
    >>> measure_objects_chunked(labels, image, chunks=2)[["label", "area", "max"]].values.tolist()
    [[1.0, 6.0, 13.0]]
    """
    import dask

    lab = _as_dask(labels, chunks, name="labels")
    if lab.dtype == bool:
        lab = lab.astype(np.int32)
    if not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must be an integer label image; got dtype {lab.dtype}.")
    if lab.ndim != 2:
        raise ValueError(f"labels must be a 2-D (row, column) label image; got shape {lab.shape}.")
    img = _as_float_dask(image, None)
    _same_shape(lab, img)
    if img.chunks != lab.chunks:
        img = img.rechunk(lab.chunks)
    if labels_out is not None:
        if tuple(labels_out.shape) != lab.shape:
            raise ValueError(f"labels_out has shape {tuple(labels_out.shape)}; the labels have "
                             f"shape {lab.shape}.")
        step = tuple(getattr(labels_out, "chunks", ()) or ()) or lab.chunksize
        if not _on_storage_grid(lab.chunks, step):
            # concurrent writes must not share a storage chunk
            lab = lab.rechunk(step)
            img = img.rechunk(step)
    row_starts = np.concatenate([[0], np.cumsum(lab.chunks[0])[:-1]])
    col_starts = np.concatenate([[0], np.cumsum(lab.chunks[1])[:-1]])
    lb, ib = lab.to_delayed(), img.to_delayed()
    measure = dask.delayed(_block_measure, pure=True)
    cols = lab.shape[1]
    tasks = [
        measure(lb[i, j], ib[i, j], int(row_starts[i]), int(col_starts[j]), cols, labels_out)
        for i in range(lab.numblocks[0])
        for j in range(lab.numblocks[1])
    ]
    (parts,) = _compute(tasks, scheduler=scheduler)
    n_bad = sum(p["n_bad"] for p in parts)
    if n_bad:
        raise non_finite_pixels("image", n_bad, "measuring")
    if any(p["n_neg"] for p in parts):
        raise ValueError("labels has negative values; labels must be 0 (background) or positive.")
    return _combine_measurements(parts, cols)
