"""Writing the widgets' results: Export (Labels as TIFF, large ones as OME-Zarr; tables as
CSV with physical-unit columns, as the command line writes them) and the Zarr stores of
chunked runs, measured in the same pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._lazy import is_lazy
from ..export import save_labels, save_table, write_labels_zarr
from ..measure import measure_objects
from ._layers import _file_stem, _image_shape, _layer_data, _matching_plane
from ._physical import _pixel
from ._stacks import _plane_columns


def not_a_folder(folder) -> str | None:
    """Why ``folder`` cannot be exported to when it, or a folder above it, is a file
    ("'stem.csv' is a file, not a folder: …"), which the OS says as "file exists" or "not
    a directory"; None when that is not why."""
    for part in (Path(folder), *Path(folder).parents):
        if part.exists():
            if part.is_dir():
                return None
            return (f"{part.name!r} is a file, not a folder: choose a folder, or the name "
                    "of a new one")
    return None


def export_layers(layers, folder, tables: dict | None = None) -> tuple[list[Path], str]:
    """Write ``layers`` into ``folder`` (created if needed); returns the files written and
    the suffix that ends their stems.

    Labels go to TIFF (lazy multiscale ones, too big for a TIFF, to OME-Zarr; a pyramid in
    memory, its level 0 to TIFF) and, with a
    per-object table, that table to CSV; Points are written with their coordinates and
    features, Shapes and Vectors with their features, Surfaces of segments (the lattice's
    bonds and ridges above its mesh limit) with the table in ``metadata["features"]``.
    Raises ``OSError`` when the folder cannot be written, ``ValueError`` for a layer whose
    axes' units do not convert. ``tables`` gives some Labels layers (by ``id``) another
    table than their features (edited labels measured again), or None: no table.
    Files of an earlier export in ``folder`` are never replaced: the suffix is '' or the
    first of ' (2)', ' (3)'… that no file of this export's stems holds there (see
    :func:`_free_suffix`).
    """
    import shutil
    import uuid

    folder = Path(folder)
    used: set = set()
    stems = [_unique(_file_stem(layer.name), used) for layer in layers]
    suffix = _free_suffix(stems, folder)
    folder.mkdir(parents=True, exist_ok=True)
    # written into a hidden folder there, and moved in once all are: a failure half-way
    # (a full disk, a layer a writer refuses) left a labels TIFF without its table, or a
    # cut one, under a result's name (and the next Export went on to " (2)" beside it)
    partial = folder / f".tessella-export-{uuid.uuid4().hex[:8]}"
    try:
        partial.mkdir()
    except OSError as err:  # said of the folder chosen, not of the hidden one
        raise type(err)(err.errno, err.strerror, str(folder)) from None
    moved = []
    try:
        for path in _export_into(partial, layers, stems, tables, suffix):  # all, first
            target = folder / path.name
            path.replace(target)
            moved.append(target)
    except BaseException:
        for target in moved:  # a set is whole or absent
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return moved, suffix


def _export_into(folder: Path, layers, stems, tables, suffix) -> list[Path]:
    """:func:`export_layers`' files, written into ``folder``."""
    written = []
    for layer, stem in zip(layers, stems, strict=True):
        stem += suffix
        # both axes in one unit (rows in µm, columns in nm: the rows' size in nm); the
        # tables get the pixel's world steps, so a sheared pixel's area is its own
        pixel = _pixel(layer)
        scale, steps, translate, unit = pixel.scale, pixel.steps, pixel.translate, pixel.unit
        if layer._type_string == "labels" and layer.multiscale and isinstance(
                layer.data[0], np.ndarray):  # a pyramid made for the viewer: its level 0
            written.append(save_labels(layer.data[0], folder / f"{stem}.tif", scale=scale,
                                       unit=unit))
        elif layer._type_string == "labels" and layer.multiscale:
            import dask.array as da  # too big for a TIFF: OME-Zarr, as the command line

            target = folder / f"{stem}.zarr"
            write_labels_zarr({target: da.from_zarr(layer.data[0])}, scale=scale, unit=unit)
            written.append(target)
        elif layer._type_string == "labels":
            written.append(save_labels(layer.data, folder / f"{stem}.tif", scale=scale,
                                       unit=unit))
        if layer._type_string == "surface":  # segments drawn as a mesh: their own table
            table = layer.metadata.get("features")
            if table is not None:
                written.append(save_table(table.copy(), folder / f"{stem}.csv", scale=steps,
                                          translate=translate, unit=unit))
        elif layer._type_string == "labels" and id(layer) in (tables or {}):
            if tables[id(layer)] is not None:
                written.append(save_table(tables[id(layer)], folder / f"{stem}.csv",
                                          scale=steps, translate=translate, unit=unit))
        elif layer._type_string != "labels" or len(layer.features.columns) > 1:
            table = layer.features.copy()
            if layer._type_string == "points":
                data = np.asarray(layer.data)
                # the plane of a stack's points (axis0, …), then row and col: the layer's
                # own, in front ('all planes' of a 4-D stack has axis0 and axis1 in its
                # features too, and Export failed on them)
                names = [f"axis{axis}" for axis in range(data.shape[1] - 2)] + ["row", "col"]
                for axis, name in enumerate(names):
                    table = table.drop(columns=name, errors="ignore")
                    table.insert(axis, name, data[:, axis])
            written.append(save_table(table, folder / f"{stem}.csv", scale=steps,
                                      translate=translate, unit=unit))
    return written


def measured_again(labels, image):
    """The per-object table of a Labels output the user edited (painted, erased, filled),
    measured as it is now on ``image``, the Image layer it was made from: each plane of a
    stack's labels on the image's plane where napari draws it (a ``plane`` or ``axis0…``
    column says which). None when that cannot be done here (the image gone, of another
    shape or lazy; lazy or multiscale labels): its old table would list objects that are
    gone, and miss new ones."""
    import pandas as pd

    data = labels.data
    if (image is None or image._type_string != "image" or image.multiscale
            or not isinstance(data, np.ndarray) or not isinstance(image.data, np.ndarray)
            or image.ndim != data.ndim or _image_shape(image) != data.shape[-2:]):
        return None
    lead = data.ndim - 2
    tables = []
    for index in np.ndindex(*data.shape[:lead]):
        try:
            there = _matching_plane(image, labels, index) if lead else ()
        except ValueError:  # units that do not convert
            return None
        if there is None or not all(0 <= t < n for t, n in zip(there, image.data.shape,
                                                                strict=False)):
            return None
        pixels = np.asarray(image.data[there])
        if not np.all(np.isfinite(pixels)):
            return None
        table = measure_objects(data[index], pixels)
        tables.append(table.assign(**_plane_columns(there, len(table))) if lead else table)
    return pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]


def _free_suffix(stems, folder: Path) -> str:
    """'' when no file of an export of ``stems`` into ``folder`` exists yet, else the
    first of ' (2)', ' (3)'… for which none does: an earlier export there (of other
    parameters, or before the labels were corrected by hand) is never replaced, and the
    new one stays a set whose files end alike."""
    if not folder.is_dir():
        return ""
    existing = {path.name.casefold() for path in folder.iterdir()}
    n = 1
    while True:
        suffix = "" if n == 1 else f" ({n})"
        if not any(f"{stem}{suffix}{ext}".casefold() in existing
                   for stem in stems for ext in (".tif", ".csv", ".zarr")):
            return suffix
        n += 1


def _unique(stem: str, used: set) -> str:
    """``stem``, or ``stem_2``, ``stem_3``… when an earlier layer of the same export took
    it: 'cells 1' and 'cells_1' (or 'A' and 'a' on a case-insensitive disk) must not
    overwrite each other's files."""
    candidate, n = stem, 2
    while candidate.casefold() in used:
        candidate, n = f"{stem}_{n}", n + 1
    used.add(candidate.casefold())
    return candidate


def measured_labels(labels: dict, image, stem: str, results_dir=None):
    """Label images as layer data and the per-object table of the first one.

    In memory: measured as they are. Lazy (chunked) ones: computed into a Zarr pyramid
    each under ``results_dir`` (None: the system's temporary folder; one sub-folder per
    run), the first one measured in the same pass.
    Returns ``({name: layer data}, extra layer metadata, table)``.
    """
    import tempfile
    import time
    import uuid

    first = next(iter(labels.values()))
    if not is_lazy(first):
        return labels, {}, measure_objects(first, image)
    root = Path(results_dir) if results_dir is not None else Path(tempfile.gettempdir())
    folder = (root / "napari-tessella"
              / f"{_file_stem(stem)}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.zarr")
    folder.mkdir(parents=True)
    targets = {folder / name: array for name, array in labels.items()}
    stored, table = write_labels_zarr(targets, measure_image=image, pyramid=True)
    data = {name: _layer_data(stored[folder / name]) for name in labels}
    return ({name: d for name, (d, _) in data.items()},
            {"multiscale": next(iter(data.values()))[1]}, table)
