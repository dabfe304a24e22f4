"""Write results to files a spreadsheet or another image program can open.

Label images go to TIFF (with the pixel size in the resolution tags), tables to CSV with
physical-unit columns added beside the pixel ones when a scale is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["save_labels", "save_table"]

_PIXEL_COLUMNS = {  # column -> which axis of the scale converts it
    "centroid_row": 0, "centroid_col": 1, "com_row": 0, "com_col": 1,
    "min_row": 0, "min_col": 1, "max_row": 0, "max_col": 1, "row": 0, "col": 1,
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
