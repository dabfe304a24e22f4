"""Per-object measurements: centres (geometric and intensity-weighted), area, intensity
statistics — of an in-memory label image, or of a lazy one chunk by chunk."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from ._lazy import _as_dask, _as_float_dask, _compute, is_lazy
from ._validation import as_float_image, as_label_image

__all__ = ["MEASURE_COLUMNS", "measure_objects", "measure_objects_chunked"]

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
    "min_row",
    "min_col",
    "max_row",
    "max_col",
)


def measure_objects(labels, image) -> pd.DataFrame:
    """Measure centres and intensity statistics of every labelled object.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        Label image, 0 = background.
    image : (M, N) or (M, N, 3|4) ndarray
        Intensity image of the same (row, column) shape; RGB is converted to luminance.

    Returns
    -------
    table : pandas.DataFrame
        One row per object present in ``labels`` (ascending label), with columns
        ``label``; ``centroid_row``, ``centroid_col`` (geometric centre);
        ``com_row``, ``com_col`` (intensity-weighted centre of mass, sub-pixel — the
        lattice points; falls back to the centroid where the summed intensity is not
        positive); ``area`` (pixels); ``mean``, ``min``, ``max`` (intensity);
        ``min_row``, ``min_col``, ``max_row``, ``max_col`` (pixel positions of the minimum
        and maximum). Coordinates are in pixels, (row, column); multiply by the image
        scale for physical units.

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
    >>> measure_objects(labels, image)[["label", "area", "max"]].values.tolist()
    [[1.0, 6.0, 13.0]]
    """
    if is_lazy(labels) or is_lazy(image):

        return measure_objects_chunked(labels, image)
    lab = as_label_image(labels)
    img = as_float_image(image, allow_constant=True)
    if lab.shape != img.shape:
        raise ValueError(
            f"labels and image must have the same (row, column) shape; got {lab.shape} and "
            f"{img.shape}."
        )
    ids = np.unique(lab)
    ids = ids[ids != 0]
    if ids.size == 0:
        return pd.DataFrame({c: np.empty(0, dtype=np.int64 if c == "label" else np.float64)
                             for c in MEASURE_COLUMNS})

    flat_lab = lab.ravel()
    nbins = int(ids[-1]) + 1
    rows, cols = np.indices(lab.shape, dtype=np.float64)
    w = img.ravel().astype(np.float64)
    area = np.bincount(flat_lab, minlength=nbins)[ids].astype(np.float64)
    sum_r = np.bincount(flat_lab, rows.ravel(), nbins)[ids]
    sum_c = np.bincount(flat_lab, cols.ravel(), nbins)[ids]
    sum_w = np.bincount(flat_lab, w, nbins)[ids]
    sum_wr = np.bincount(flat_lab, w * rows.ravel(), nbins)[ids]
    sum_wc = np.bincount(flat_lab, w * cols.ravel(), nbins)[ids]
    centroid_r, centroid_c = sum_r / area, sum_c / area
    positive = sum_w > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        com_r = np.where(positive, sum_wr / np.where(positive, sum_w, 1), centroid_r)
        com_c = np.where(positive, sum_wc / np.where(positive, sum_w, 1), centroid_c)

    mins, maxs, min_pos, max_pos = ndi.extrema(img, lab, ids)
    min_pos = np.asarray(min_pos, dtype=np.float64).reshape(-1, 2)
    max_pos = np.asarray(max_pos, dtype=np.float64).reshape(-1, 2)
    return pd.DataFrame(
        {
            "label": ids.astype(np.int64),
            "centroid_row": centroid_r,
            "centroid_col": centroid_c,
            "com_row": com_r,
            "com_col": com_c,
            "area": area,
            "mean": sum_w / area,
            "min": np.asarray(mins, dtype=np.float64),
            "max": np.asarray(maxs, dtype=np.float64),
            "min_row": min_pos[:, 0],
            "min_col": min_pos[:, 1],
            "max_row": max_pos[:, 0],
            "max_col": max_pos[:, 1],
        }
    )



# --------------------------------------------------------------------------------------
# chunk by chunk

def _block_measure(lab, img, r0, c0, cols, labels_out=None):
    """Per-label partial sums and extrema of one chunk, as a dict of 1-D arrays."""
    lab = np.asarray(lab)
    img = np.asarray(img)
    if labels_out is not None:
        labels_out[r0 : r0 + lab.shape[0], c0 : c0 + lab.shape[1]] = lab
    n_bad = int((~np.isfinite(img)).sum())
    n_neg = int((lab < 0).sum()) if np.issubdtype(lab.dtype, np.signedinteger) else 0
    present = lab[lab > 0]
    if present.size == 0 or n_bad or n_neg:
        return {"n_bad": n_bad, "n_neg": n_neg, "label": np.empty(0, np.int64)}
    first = int(present.min())
    last = int(present.max())
    # compact ids: bincount over [first, last] instead of the whole label range
    local = np.where(lab > 0, lab.astype(np.int64) - (first - 1), 0).ravel()
    nb = last - first + 2
    h, w = lab.shape
    rows, cols_ = np.indices((h, w), dtype=np.float64)
    rows += r0
    cols_ += c0
    weights = img.astype(np.float64).ravel()
    area = np.bincount(local, minlength=nb)
    ids = np.flatnonzero(area)
    ids = ids[ids != 0]
    out = {
        "n_bad": 0,
        "n_neg": 0,
        "label": ids + (first - 1),
        "area": area[ids].astype(np.float64),
        "sum_r": np.bincount(local, rows.ravel(), nb)[ids],
        "sum_c": np.bincount(local, cols_.ravel(), nb)[ids],
        "sum_w": np.bincount(local, weights, nb)[ids],
        "sum_wr": np.bincount(local, weights * rows.ravel(), nb)[ids],
        "sum_wc": np.bincount(local, weights * cols_.ravel(), nb)[ids],
    }
    for kind, reduce, start in (("min", np.minimum, np.inf), ("max", np.maximum, -np.inf)):
        value = np.full(nb, start)
        reduce.at(value, local, weights)
        # first pixel (in raster order) of each label that holds the extreme value
        hit = np.flatnonzero((weights == value[local]) & (local > 0))
        hit_ids, first = np.unique(local[hit], return_index=True)
        pos = hit[first[np.searchsorted(hit_ids, ids)]]
        out[kind] = value[ids]
        out[f"{kind}_idx"] = (r0 + pos // w) * np.int64(cols) + (c0 + pos % w)
    return out


def _combine_measurements(parts, cols) -> pd.DataFrame:

    parts = [p for p in parts if p["label"].size]
    if not parts:
        return pd.DataFrame({c: np.empty(0, dtype=np.int64 if c == "label" else np.float64)
                             for c in MEASURE_COLUMNS})
    df = pd.DataFrame({k: np.concatenate([p[k] for p in parts])
                       for k in parts[0] if k not in ("n_bad", "n_neg")})
    sums = df.groupby("label", sort=True)[["area", "sum_r", "sum_c", "sum_w", "sum_wr",
                                            "sum_wc"]].sum()
    # extrema: smallest value, ties to the first pixel in raster order (as ndi.extrema)
    mins = df.sort_values(["min", "min_idx"], kind="stable").groupby("label", sort=True).first()
    maxs = df.sort_values(["max", "max_idx"], ascending=[False, True], kind="stable").groupby(
        "label", sort=True).first()
    area = sums["area"].to_numpy()
    centroid_r = sums["sum_r"].to_numpy() / area
    centroid_c = sums["sum_c"].to_numpy() / area
    sum_w = sums["sum_w"].to_numpy()
    positive = sum_w > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(positive, sum_w, 1)
        com_r = np.where(positive, sums["sum_wr"].to_numpy() / safe, centroid_r)
        com_c = np.where(positive, sums["sum_wc"].to_numpy() / safe, centroid_c)
    min_idx = mins["min_idx"].to_numpy()
    max_idx = maxs["max_idx"].to_numpy()
    return pd.DataFrame(
        {
            "label": sums.index.to_numpy().astype(np.int64),
            "centroid_row": centroid_r,
            "centroid_col": centroid_c,
            "com_row": com_r,
            "com_col": com_c,
            "area": area,
            "mean": sum_w / area,
            "min": mins["min"].to_numpy(),
            "max": maxs["max"].to_numpy(),
            "min_row": (min_idx // cols).astype(np.float64),
            "min_col": (min_idx % cols).astype(np.float64),
            "max_row": (max_idx // cols).astype(np.float64),
            "max_col": (max_idx % cols).astype(np.float64),
        }
    )


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
        :data:`napari_tessella.segmentation.MEASURE_COLUMNS`. Sums are added in a
        different order than in memory: centres and means agree to rounding
        (about 1e-12 relative); areas and extrema are identical. Of several pixels
        sharing an object's extreme value, the first in raster order is reported (the
        in-memory function may report another of them).

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
    if lab.shape != img.shape:
        raise ValueError(
            f"labels and image must have the same (row, column) shape; got {lab.shape} and "
            f"{img.shape}."
        )
    if img.chunks != lab.chunks:
        img = img.rechunk(lab.chunks)
    if labels_out is not None:
        if tuple(labels_out.shape) != lab.shape:
            raise ValueError(f"labels_out has shape {tuple(labels_out.shape)}; the labels have "
                             f"shape {lab.shape}.")
        out_chunks = tuple(getattr(labels_out, "chunks", ()) or ())
        regular = all(len(set(c[:-1])) <= 1 for c in lab.chunks)
        if not regular or (out_chunks and out_chunks != lab.chunksize):
            # concurrent writes must not share a storage chunk
            step = out_chunks if out_chunks else lab.chunksize
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
        raise ValueError(
            f"image contains {n_bad} NaN or infinite pixel(s); replace them (e.g. with "
            "np.nan_to_num) before measuring."
        )
    if any(p["n_neg"] for p in parts):
        raise ValueError("labels has negative values; labels must be 0 (background) or positive.")
    return _combine_measurements(parts, cols)
