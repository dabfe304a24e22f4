"""One recipe per operation, shared by the widgets, the command line and parameters files.

A recipe is the whole path from an image to results: **input normalisation** (values as
stored, in image units; a large or lazy image becomes a dask array and is processed chunk
by chunk), the **parameters** (the core function's keyword arguments, the same names a
parameters file stores), the **core call**, and the **results** as label images and tables
that :func:`save_results` writes to files. The Threshold & label widget, ``tessella
threshold-label`` and a parameters file saved by either therefore give the same objects on
the same file.

What a number threshold means
-----------------------------
A number is a threshold in **image units**, for every dtype: the values napari shows for
the layer and the values stored in the file. ``158`` on the 8-bit NbW-STEM image keeps the
pixels above 158 (the recipe's ``0.62`` of the image scaled to [0, 1]). Nothing rescales an
integer image on the way, so a number means the same thing in the viewer, in a script and
on the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._finite import (
    find_atoms_finite,
    seeded_watershed_finite,
    threshold_label_finite,
    threshold_label_lazy,
)
from ._lazy import _as_dask, _compute, _is_local, is_large, is_lazy
from ._validation import counted, shape_of
from .atoms import AtomsResult, find_atoms, find_atoms_chunked
from .export import save_labels, save_labels_from_zarr, save_table, write_labels_zarr
from .measure import measure_objects, measure_objects_chunked
from .nuclei import WatershedResult, seeded_watershed, seeded_watershed_chunked
from .reading import open_image
from .segmentation import threshold_label
from .tessellation import LatticeResult, lattice

__all__ = [
    "RECIPES",
    "Recipe",
    "RecipeResult",
    "open_image",
    "prepare_image",
    "run_recipe",
    "save_results",
]


@dataclass(frozen=True)
class Recipe:
    """An operation as a parameters file and the command line name it."""

    name: str
    function: Callable
    #: arguments that are data, never stored in a parameters file
    data_args: tuple[str, ...]
    #: parameters beyond the core function's signature, with their defaults
    extra: dict = field(default_factory=dict)
    #: one line for ``tessella --help``
    summary: str = ""


#: The operations, by the name parameters files use. ``lattice`` is image →
#: threshold_label → object centres → lattice: its parameters are those of
#: ``threshold_label`` plus ``centre``.
RECIPES: dict[str, Recipe] = {
    "threshold_label": Recipe("threshold_label", threshold_label, ("image",),
                              summary="threshold, label and measure objects"),
    "seeded_watershed": Recipe("seeded_watershed", seeded_watershed, ("image", "seeds"),
                               summary="split touching nuclei with a seeded watershed"),
    "lattice": Recipe("lattice", threshold_label, ("image",), {"centre": "com"},
                      summary="threshold_label → object centres → Delaunay/Voronoi lattice"),
    "find_atoms": Recipe("find_atoms", find_atoms, ("image",),
                         summary="find atom columns and refine their positions"),
}


@dataclass
class RecipeResult:
    """What a recipe produced: label images and tables by role, and a summary line.

    ``labels`` values are NumPy arrays, or lazy arrays over files already written (Zarr
    arrays written chunk by chunk for large images; on a cluster, TIFF files written by
    its workers); ``tables`` are pandas DataFrames in pixels (physical columns are added
    when they are saved with a scale); ``extra`` holds the core result (for callers that
    need more, e.g. the widget's layers).
    """

    labels: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    message: str = ""
    extra: object = None
    #: Zarr stores written chunk by chunk while running (large images)
    files: list = field(default_factory=list)
    #: how many NaN or infinite pixels were read as outside the image, in one sentence
    #: ("" when none: :mod:`napari_tessella._finite`)
    said: str = ""


# --------------------------------------------------------------------------------------
# input

def prepare_image(image, *, chunked: bool | None = None, chunks=None):
    """Input normalisation shared by the widgets and the command line.

    Values are kept as stored (no rescaling: thresholds are in image units). A lazy input
    (dask, Zarr) of a large image, a NumPy image above :data:`napari_tessella._lazy.LARGE_PIXELS`
    pixels, or any image with ``chunked=True`` becomes a dask array: the core then works
    chunk by chunk. Any other lazy input is read into memory. ``chunked=False`` forces
    memory.
    """
    shape = shape_of(image)  # a ragged list: a TypeError in our words, not NumPy's
    go_chunked = chunked if chunked is not None else (len(shape) >= 2 and is_large(shape))
    if go_chunked:
        return _as_dask(image, chunks, name="image")
    if is_lazy(image):
        return np.asarray(image)
    return image


# --------------------------------------------------------------------------------------
# running

def _zarr_target(folder, name):
    return None if folder is None else Path(folder) / f"{name}.zarr"


def _segment(image, params, *, scheduler=None, store=None, stem="image", geometry=None,
             scratch=None, want_labels=True):
    """threshold_label and the per-object table; lazy labels go to Zarr in the same pass.

    Returns ``(labels, table, files, said)``: ``files`` are label images already
    written, ``said`` how many pixels were read as outside the image ("" when none).
    """
    kwargs = {k: v for k, v in params.items() if k != "centre"}
    if not is_lazy(image):  # NaN or infinite pixels: outside the image (._finite)
        labels, said, measured = threshold_label_finite(image, **kwargs)
        return labels, measure_objects(labels, measured), [], said
    # chunk by chunk: a frame read as in memory (._finite)
    lazy, said = threshold_label_lazy(image, **kwargs, scheduler=scheduler)
    target = _zarr_target(store, f"{stem}_labels")
    remote = not _is_local(scheduler)
    if remote and not want_labels:  # measured on the workers, labels nowhere
        return None, measure_objects_chunked(lazy, image, scheduler=scheduler), [], said
    if target is None and remote and scratch is not None:
        labels, table, files = _on_workers({f"{stem}_labels": lazy}, image,
                                           scheduler=scheduler, folder=scratch,
                                           geometry=geometry)
        return labels[f"{stem}_labels"], table, files, said
    if target is None and remote:  # no folder the workers share: compute the labels twice
        (labels,) = _compute(lazy, scheduler=scheduler)
        return labels, measure_objects_chunked(lazy, image, scheduler=scheduler), [], said
    if target is None:  # the labels fit in memory (not the intermediates)
        (labels,) = _compute(lazy, scheduler=scheduler)
        return labels, measure_objects_chunked(labels, image, chunks=lazy.chunksize,
                                               scheduler=scheduler), [], said
    stored, table = write_labels_zarr({target: lazy}, measure_image=image,
                                      scheduler=scheduler, **(geometry or {}))
    return stored[target][0], table, [target], said


def _on_workers(lazy: dict, image, *, scheduler, folder, geometry=None):
    """Label images small enough for TIFF, made, measured and written on a cluster.

    Nothing the size of the image comes to this process: the workers write the lazy label
    images (``{name: dask array}``) to a scratch Zarr store in ``folder`` (a folder they
    share with us), measure the first one (in the same pass when it is the only one; from
    the store otherwise, so that labels and territories are made in one pass), and one
    task per image reads its store and writes ``folder/<name>.tif``. The store is removed
    afterwards. Returns ``({name: the TIFF, opened lazily}, table, [TIFF paths])``.
    """
    import shutil
    import tempfile

    import dask

    geometry = geometry or {}
    tmp = Path(tempfile.mkdtemp(prefix=".tessella-labels-", dir=folder))
    try:
        targets = {tmp / f"{name}.zarr": arr for name, arr in lazy.items()}
        first = next(iter(targets))
        stored, table = write_labels_zarr(
            targets, measure_image=image if len(targets) == 1 else None,
            scheduler=scheduler, pyramid=False)
        if table is None:
            table = measure_objects_chunked(stored[first][0], image, scheduler=scheduler)
        # the largest label from the table (territories hold the same ids): the file's
        # type chosen before its store is read, so it is read once
        top = int(table["label"].max()) if len(table) else 0
        write = dask.delayed(save_labels_from_zarr, pure=False)
        tiffs = _compute(*(write(stored[t][0], Path(folder) / f"{name}.tif",
                                 scale=geometry.get("scale", (1.0, 1.0)),
                                 unit=geometry.get("unit", ""), top=top)
                           for name, t in zip(lazy, targets, strict=True)),
                         scheduler=scheduler)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    labels = {name: open_image(tif, lazy=True) for name, tif in zip(lazy, tiffs, strict=True)}
    return labels, table, list(tiffs)


def run_recipe(operation: str, image, params: dict, *, seeds=None, scheduler=None,
               store=None, stem: str = "image", scale=(1.0, 1.0),
               unit: str = "") -> RecipeResult:
    """Run one operation on a prepared image (see :func:`prepare_image`).

    Parameters
    ----------
    operation : str
        A key of :data:`RECIPES`.
    image : ndarray or dask array
        From :func:`prepare_image`.
    params : dict
        The core function's keyword arguments (as a parameters file stores them).
    seeds : optional
        Seeds for ``seeded_watershed`` (points or a label image).
    scheduler : optional
        Dask scheduler for chunked work (a name, a Client or an address).
    store : path, optional
        Folder for the label images of large chunked runs, written there as Zarr chunk by
        chunk. Without it, or for an image that is not large, label images are returned
        in memory; but on a cluster the workers write those too, as the TIFF files
        ``<stem>_labels.tif`` … in this folder (through a scratch Zarr store there), and
        the result holds them opened lazily: no label image comes to this process.
    stem : str
        Prefix of the result names (``<stem>_labels`` …).
    scale, unit : optional
        Pixel size (row, column) and its unit, written into the OME-Zarr label images.
    """
    geometry = {"scale": tuple(scale), "unit": unit}
    if operation not in RECIPES:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(RECIPES)}.")
    scratch = store  # on a cluster, also where workers leave labels that fit in memory
    if not (is_lazy(image) and is_large(image.shape[:2])):
        store = None  # label images that fit in memory are returned as arrays
    if operation == "threshold_label":
        labels, table, files, said = _segment(image, params, scheduler=scheduler,
                                              store=store, stem=stem, geometry=geometry,
                                              scratch=scratch)
        return RecipeResult(labels={f"{stem}_labels": labels},
                            tables={f"{stem}_objects": table},
                            message=counted(len(table), "object"), files=files, said=said)
    if operation == "lattice":
        return _lattice(image, params, scheduler=scheduler, stem=stem)
    if operation == "seeded_watershed":
        return _watershed(image, params, seeds, scheduler=scheduler, store=store, stem=stem,
                          geometry=geometry, scratch=scratch)
    said = ""
    if is_lazy(image):
        result = find_atoms_chunked(image, **params, scheduler=scheduler)
    else:  # NaN or infinite pixels: outside the image (._finite)
        result, said, _ = find_atoms_finite(image, **params)
    return RecipeResult(tables={f"{stem}_atoms": result.table},
                        message=counted(len(result.positions), "column"), extra=result,
                        said=said)


def _lattice(image, params, *, scheduler, stem) -> RecipeResult:
    _labels, table, _, said = _segment(image, params, scheduler=scheduler,
                                       want_labels=False)
    centre = params.get("centre", "com")
    cols = ["com_row", "com_col"] if centre == "com" else ["centroid_row", "centroid_col"]
    points = table[cols].to_numpy()
    if len(points) < 3:
        raise ValueError(f"found {len(points)} object(s); a lattice needs at least 3")
    shape = tuple(image.shape[:2])
    with_map = not is_lazy(image)
    result = lattice(points, shape if with_map else None)
    out = RecipeResult(tables={f"{stem}_points": table.assign(cell_area=result.cell_areas),
                               f"{stem}_edges": edge_table(result, table)},
                       message=(f"{counted(len(points), 'point')}, "
                                f"{counted(len(result.triangles), 'triangle')}"),
                       extra=result, said=said)
    if with_map:
        out.labels[f"{stem}_voronoi"] = result.voronoi_labels
    else:
        out.message += "; Voronoi pixel map skipped (image too large to hold it in memory)"
    return out


def _watershed(image, params, seeds, *, scheduler, store, stem, geometry=None,
               scratch=None) -> RecipeResult:
    files, said = [], ""
    if not is_lazy(image):  # NaN or infinite pixels: outside the image (._finite)
        result, said, measured = seeded_watershed_finite(image, seeds=seeds, **params)
        labels = {f"{stem}_labels": result.labels,
                  f"{stem}_territories": result.territories}
        table = measure_objects(result.labels, measured)
    else:
        result = seeded_watershed_chunked(image, seeds=seeds, **params, scheduler=scheduler)
        lazy = {f"{stem}_labels": result.labels, f"{stem}_territories": result.territories}
        if store is None and scratch is not None and not _is_local(scheduler):
            labels, table, files = _on_workers(lazy, image, scheduler=scheduler,
                                               folder=scratch, geometry=geometry)
        elif store is None:
            arrays = _compute(*lazy.values(), scheduler=scheduler)
            labels = dict(zip(lazy, arrays, strict=True))
            table = measure_objects(labels[f"{stem}_labels"], np.asarray(image))
        else:  # both in one pass (each chunk is segmented once), measured from disk
            targets = {_zarr_target(store, name): arr for name, arr in lazy.items()}
            stored, _ = write_labels_zarr(targets, scheduler=scheduler, **(geometry or {}))
            labels = {name: stored[t][0] for name, t in zip(lazy, targets, strict=True)}
            files = list(targets)
            table = measure_objects_chunked(labels[f"{stem}_labels"], image,
                                            scheduler=scheduler)
    return RecipeResult(labels=labels, tables={f"{stem}_objects": table},
                        message=counted(len(table), "nucleus", "nuclei"), extra=result,
                        files=files, said=said)


def edge_table(result: LatticeResult, table: pd.DataFrame) -> pd.DataFrame:
    """One row per Delaunay edge: its end points (index, label, position) and length."""
    a, b = result.edges[:, 0], result.edges[:, 1]
    labels = table["label"].to_numpy()
    pts = result.points
    return pd.DataFrame({
        "point_a": a, "point_b": b,
        "label_a": labels[a], "label_b": labels[b],
        "row_a": pts[a, 0], "col_a": pts[a, 1], "row_b": pts[b, 0], "col_b": pts[b, 1],
        "length": result.edge_lengths,
    })


# --------------------------------------------------------------------------------------
# output files

def save_results(result: RecipeResult, folder, *, scale=(1.0, 1.0), unit: str = "") -> list[Path]:
    """Write a recipe's label images (TIFF; Zarr ones are already on disk) and tables (CSV)."""
    folder = Path(folder)
    written = list(result.files)  # written already (by the workers, on a cluster)
    for name, labels in result.labels.items():
        if not is_lazy(labels):
            written.append(save_labels(labels, folder / f"{name}.tif", scale=scale, unit=unit))
    for name, table in result.tables.items():
        edges = name.endswith("_edges")  # lengths in pixels, no coordinates to convert
        written.append(save_table(table, folder / f"{name}.csv",
                                  scale=(1.0, 1.0) if edges else scale,
                                  unit="" if edges else unit))
    return written


__all__ += ["AtomsResult", "WatershedResult", "edge_table"]
