"""Write results to files a spreadsheet or another image program can open.

Label images go to TIFF (with the pixel size in the resolution tags), tables to CSV with
physical-unit columns added beside the pixel ones when a scale is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._lazy import _compute
from .measure import measure_objects_chunked

__all__ = ["save_labels", "save_table", "write_labels_zarr"]

_PIXEL_COLUMNS = {  # column -> which axis of the scale converts it
    "centroid_row": 0, "centroid_col": 1, "com_row": 0, "com_col": 1,
    "min_at_row": 0, "min_at_col": 1, "max_at_row": 0, "max_at_col": 1,
    "bbox_min_row": 0, "bbox_min_col": 1, "bbox_max_row": 0, "bbox_max_col": 1,
    "row": 0, "col": 1,
}


def save_table(table, path, *, scale=(1.0, 1.0), translate=(0.0, 0.0), unit: str = "") -> Path:
    """Save a per-object table as CSV, adding physical coordinates when a scale is known.

    Parameters
    ----------
    table : pandas.DataFrame or dict of columns
        E.g. the output of :func:`napari_tessella.measure_objects`.
    path : str or Path
        Output ``.csv`` file.
    scale, translate : (2,) sequence of float
        Pixel size and origin, (row, column), as on the napari layer.
    unit : str
        Unit name of ``scale`` (e.g. ``"nm"``); with a non-unit scale, columns
        ``<name>_<unit>`` are added for every pixel-coordinate column and ``area_<unit>2``
        for ``area``.

    Returns
    -------
    Path
        The file written.
    """
    df = pd.DataFrame(table).copy()
    scale = np.asarray(scale, dtype=float)
    translate = np.asarray(translate, dtype=float)
    if unit and not (np.allclose(scale, 1) and np.allclose(translate, 0)):
        for col, axis in _PIXEL_COLUMNS.items():
            if col in df:
                df[f"{col}_{unit}"] = df[col] * scale[axis] + translate[axis]
        if "area" in df:
            df[f"area_{unit}2"] = df["area"] * scale[0] * scale[1]
    path = Path(path)
    df.to_csv(path, index=False)
    return path


def save_labels(labels, path, *, scale=(1.0, 1.0), unit: str = "") -> Path:
    """Save a label image as a TIFF, with its pixel size in the resolution tags.

    The smallest unsigned integer type that holds the labels is used, so files open in
    Fiji/ImageJ as label images.
    """
    import tifffile

    lab = np.asarray(labels)
    top = int(lab.max()) if lab.size else 0
    dtype = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32
    path = Path(path)
    metadata = {"unit": unit} if unit else {}
    tifffile.imwrite(
        path, lab.astype(dtype), imagej=True, metadata=metadata,
        resolution=(1.0 / float(scale[1]), 1.0 / float(scale[0])),
    )
    return path


def write_labels_zarr(targets: dict, *, measure_image=None, scheduler=None,
                      pyramid: bool = False):
    """Compute lazy label images into Zarr arrays, chunk by chunk, in one pass.

    The one writer of Zarr label images, used by the widgets and the command line.

    Parameters
    ----------
    targets : dict
        ``{path: lazy label image}``. Each is written to ``path`` as a Zarr array of int32
        in the label image's chunks (with ``pyramid=True``: to ``path/0``, and halved
        levels ``path/1``, ``path/2`` … down to 2048 pixels, for napari's multiscale view).
        All are computed in one pass, so shared work (e.g. the watershed that gives both
        nuclei and territories) is done once.
    measure_image : array, optional
        With an intensity image, the first label image is also measured in the same pass
        (:func:`napari_tessella.measure.measure_objects_chunked`).
    scheduler : optional
        Dask scheduler (a name, a ``distributed.Client`` or an address).

    Returns
    -------
    (dict, pandas.DataFrame or None)
        ``{path: [Zarr arrays, full resolution first]}`` opened read-only, and the table.
    """
    import dask.array as da
    import zarr

    paths = [Path(p) for p in targets]
    arrays = list(targets.values())
    full = [p / "0" if pyramid else p for p in paths]
    outs = [zarr.open_array(str(f), mode="w", shape=a.shape, chunks=a.chunksize,
                            dtype=np.int32) for f, a in zip(full, arrays, strict=True)]
    table = None
    rest = list(range(len(arrays)))
    if measure_image is not None:
        table = measure_objects_chunked(arrays[0], measure_image, labels_out=outs[0],
                                        scheduler=scheduler)
        rest = rest[1:]
    if rest:
        _compute(da.store([arrays[i] for i in rest], [outs[i] for i in rest], lock=False,
                          compute=False), scheduler=scheduler)
    levels = {}
    for path, f in zip(targets, full, strict=True):
        chain = [zarr.open_array(str(f), mode="r")]
        while pyramid and max(chain[-1].shape) > 2048:  # napari shows the level that fits
            k = len(chain)
            smaller = da.from_zarr(chain[-1])[::2, ::2]
            smaller.rechunk(1024).to_zarr(str(Path(path) / str(k)), overwrite=True)
            chain.append(zarr.open_array(str(Path(path) / str(k)), mode="r"))
        levels[path] = chain
    return levels, table
