"""Write results to files a spreadsheet or another image program can open.

Label images go to TIFF (with the pixel size in the resolution tags) or, for large ones, to
OME-Zarr (NGFF labels with their scale and a pyramid); tables to CSV with physical-unit
columns added beside the pixel ones when a scale is known.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import numpy as np

from ._lazy import _compute, _on_storage_grid
from ._validation import as_label_image, as_table, number_pair, unit_name
from .measure import measure_objects_chunked
from .reading import _TO_METRE, _is_pixel_unit, _short_unit, ngff_unit

__all__ = ["physical_columns", "pixel_measures", "save_labels", "save_labels_from_zarr",
           "save_table", "write_labels_zarr"]

#: columns that are displacements (a dumbbell's vector): scaled, not moved by the origin
_DISPLACEMENTS = ("d_row", "d_col")


def pixel_measures(scale) -> tuple[tuple[float, float], float]:
    """((row, column) size, area) of a pixel given as :func:`physical_columns` takes it.

    A pair is the sizes (signed: a flipped axis's is negative), the area their product's
    magnitude. A 2 × 2 matrix is the pixel's world steps (a napari layer's linear part on
    its plane: the first column the step of one row, the second that of one column): each
    size is its step's length, with the sign of the step along its own axis, and the area
    the magnitude of the determinant, the parallelogram the steps span. A diagonal matrix
    reads as the pair of its diagonal, bit for bit; a shear lengthens a step and keeps the
    area (sy·sx, not sy·sx·√(1 + s²)).

    >>> pixel_measures((0.5, -0.25))
    ((0.5, -0.25), 0.125)
    >>> pixel_measures([[0.5, 0.1], [0.0, 0.25]])[1]
    0.125
    """
    if np.ndim(scale) != 2:
        (sy, sx) = number_pair(scale, "scale", nonzero=True)
        return (sy, sx), abs(sy * sx)
    steps = np.asarray(scale, dtype=float)
    if steps.shape != (2, 2) or not np.all(np.isfinite(steps)):
        raise ValueError("scale must be (row, column) pixel sizes or the 2 × 2 world steps "
                         f"of one row and one column, finite numbers; got {scale!r}.")
    sizes, area = _step_measures(steps)
    if not area > 0:
        raise ValueError("scale's steps of one row and one column lie on one line: a "
                         "pixel of no area.")
    return number_pair(sizes, "scale", nonzero=True), area


def _step_measures(steps: np.ndarray) -> tuple[tuple[float, float], float]:
    """:func:`pixel_measures` of a 2 × 2 steps matrix, unchecked: the one formula the
    tables and the widgets' fields (which must not refuse a layer as it is drawn) share."""
    sizes = tuple(math.copysign(math.hypot(steps[0, i], steps[1, i]), steps[i, i])
                  for i in (0, 1))
    return sizes, abs(float(steps[0, 0] * steps[1, 1] - steps[0, 1] * steps[1, 0]))


def physical_columns(table, scale=(1.0, 1.0), translate=(0.0, 0.0), unit: str = ""):
    """``table`` with physical-unit columns added beside the pixel ones.

    The one rule for the widgets' tables and the CSV files: every column named ``row`` or
    ``col`` or ending in ``_row``/``_col`` gets ``<name>_<unit>`` = value × size +
    translate of that axis (the displacements ``d_row``/``d_col``: × size only), ``area``
    gets ``area_<unit>2`` = area × a pixel's area, both from ``scale``
    (:func:`pixel_measures`): a sheared or skewed pixel's area is not row × column size, and
    given its steps it cannot be taken for one. The unit is spelled short and ASCII
    (``µm`` → ``um``, ``nanometer`` → ``nm``); without a unit but with a non-identity
    geometry, ``scaled`` stands for it; with neither nothing is added. Columns already
    there (a table exported again) are left as they are.

    Parameters
    ----------
    table : pandas.DataFrame or dict of columns
        A per-object table in pixel coordinates.
    scale : (2,) sequence of float, or (2, 2) array
        Pixel size (row, column), as on a napari layer; or the pixel's world steps, the
        linear part of a sheared, skewed or turned layer's plane (:func:`pixel_measures`).
    translate : (2,) sequence of float
        Origin (row, column), as on a napari layer.
    unit : str
        Unit of ``scale`` (any spelling napari, pint or OME use).

    Returns
    -------
    pandas.DataFrame
        A new table (the input is not changed).
    """
    (sy, sx), pixel_area = pixel_measures(scale)
    (ty, tx) = number_pair(translate, "translate")
    unit = column_unit((sy, sx), (ty, tx), unit)
    df = as_table(table)
    if not unit:
        return df
    added = {}
    for col in df.columns:
        name = str(col)
        if name.endswith(f"_{unit}") or name.endswith(f"_{unit}2"):
            continue
        shift = name not in _DISPLACEMENTS
        if name == "row" or name.endswith("_row"):
            added[f"{name}_{unit}"] = df[col].to_numpy(dtype=float) * sy + ty * shift
        elif name == "col" or name.endswith("_col"):
            added[f"{name}_{unit}"] = df[col].to_numpy(dtype=float) * sx + tx * shift
    if "area" in df and f"area_{unit}2" not in df:
        added[f"area_{unit}2"] = df["area"].to_numpy(dtype=float) * pixel_area
    for name, values in added.items():
        df[name] = values
    return df


def save_table(table, path, *, scale=(1.0, 1.0), translate=(0.0, 0.0),
               unit: str = "") -> Path:
    """Save a per-object table as CSV, adding physical coordinates when a scale is known.

    The folders of ``path`` are made when they do not exist, as by every writer here.

    Parameters
    ----------
    table : pandas.DataFrame or dict of columns
        E.g. the output of :func:`napari_tessella.measure_objects`.
    path : str or Path
        Output ``.csv`` file.
    scale : (2,) sequence of float, or (2, 2) array
        Pixel size (row, column) as on the napari layer, or its world steps (a sheared
        layer's: its areas follow them), as :func:`physical_columns` takes it.
    translate : (2,) sequence of float
        Origin (row, column), as on the napari layer.
    unit : str
        Unit name of ``scale`` (e.g. ``"nm"``); physical-unit columns are added as
        :func:`physical_columns` says.

    Returns
    -------
    Path
        The file written.
    """
    df = physical_columns(table, scale, translate, unit)
    path = _output_file(path, ".csv")
    df.to_csv(path, index=False)
    return path


def save_labels(labels, path, *, scale=(1.0, 1.0), unit: str = "") -> Path:
    """Save a label image as a TIFF, with its pixel size in the resolution tags.

    The folders of ``path`` are made when they do not exist, as by every writer here.

    The smallest unsigned integer type that holds the labels is used, so files open in
    Fiji/ImageJ as label images.
    """
    target = _tiff_target(path, scale, unit)
    lab = as_label_image(labels, plane=False)  # integers >= 0: no float cut, no wrap
    top = int(lab.max())
    return _write_label_tiff(lab.astype(_label_dtype(top)), target)


def save_labels_from_zarr(source, path, *, scale=(1.0, 1.0), unit: str = "",
                          band: int = 1024, top: int | None = None) -> Path:
    """:func:`save_labels` of a label image stored as Zarr, read once, in bands of rows.

    The file is the one :func:`save_labels` writes from the whole array; only the label
    image in the file's type (1, 2 or 4 bytes a pixel) and one band of int32 rows are in
    memory at once. A cluster's worker runs this on the labels its workers wrote, so the
    label image never travels to the client (``recipes.run_recipe``).

    Parameters
    ----------
    source : Zarr array (or anything sliceable by rows with ``shape``)
        The 2-D label image.
    path : str or Path
        Output ``.tif`` file.
    scale, unit
        As in :func:`save_labels`.
    band : int
        Rows read at a time.
    top : int, optional
        The largest label, when known (from the objects' table): the file's type is the
        one that holds it. Without it the type starts at 1 byte and is widened when a band
        holds a larger label (so is a ``top`` too small): the same file either way, the
        store read once.
    """
    target = _tiff_target(path, scale, unit)  # before the store is read
    rows = int(source.shape[0])
    lab = np.empty(tuple(source.shape), dtype=_label_dtype(int(top or 0)))
    for r in range(0, rows, band):
        rows_ = slice(r, min(r + band, rows))
        part = np.asarray(source[rows_])
        largest = int(part.max()) if part.size else 0
        if largest > np.iinfo(lab.dtype).max:
            lab = lab.astype(_label_dtype(largest))  # the rows so far, widened
        lab[rows_] = part
    return _write_label_tiff(lab, target)


def column_unit(scale, translate, unit) -> str:
    """The unit word physical columns are named with (:func:`physical_columns`): the unit
    spelled short and ASCII (``um``, ``nm``), ``scaled`` for a non-identity geometry
    without a unit, '' for plain pixels (no physical column).

    >>> column_unit((0.5, 0.5), (0, 0), "µm"), column_unit((1, 1), (0, 0), "")
    ('um', '')
    """
    (sy, sx) = number_pair(scale, "scale", nonzero=True)
    (ty, tx) = number_pair(translate, "translate")
    unit = unit_name(unit)
    unit = "" if _is_pixel_unit(unit) else _short_unit(unit)
    if not unit and (sy, sx, ty, tx) == (1.0, 1.0, 0.0, 0.0):
        return ""
    return unit or "scaled"


def _label_dtype(top: int):
    """The smallest unsigned type that holds labels up to ``top`` (at most 32 bits: a
    larger label would wrap around, silently, in the file)."""
    if top >= 2**32:
        raise ValueError(f"labels go up to {top}, beyond the 4294967295 a label TIFF holds; "
                         "number them 1..n first, e.g. with "
                         "skimage.segmentation.relabel_sequential.")
    return np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32


def _write_label_tiff(lab, target) -> Path:
    """Write labels already in their file type (:func:`_label_dtype`) as a TIFF, to the
    ``target`` :func:`_tiff_target` checked (its path, pixel sizes and unit)."""
    import tifffile

    path, sy, sx, unit = target
    if lab.dtype != np.uint32:
        # ImageJ's tags are ASCII: it reads "um" (and "micron") as µm; Å is "angstrom"
        # (a unit of other letters keeps them without their accents)
        ascii_unit = unicodedata.normalize("NFKD", _short_unit(unit)).encode(
            "ascii", "ignore").decode()
        res = _tiff_resolution(1.0 / sx, 1.0 / sy)
        tifffile.imwrite(path, lab, imagej=True,
                         metadata={"unit": ascii_unit} if ascii_unit and res else {},
                         resolution=res)
        return path
    # ImageJ TIFFs hold 8/16-bit integers only: above 65535 labels, a plain 32-bit TIFF,
    # its pixel size in pixels per centimetre when the unit is a length
    metre = _TO_METRE.get(_short_unit(unit))
    if metre:
        res, runit = (0.01 / (sx * metre), 0.01 / (sy * metre)), "CENTIMETER"
    else:
        res, runit = (1.0 / sx, 1.0 / sy), "NONE"
    res = _tiff_resolution(*res)
    tifffile.imwrite(path, lab, resolution=res, resolutionunit=runit if res else None)
    return path


def _tiff_target(path, scale, unit):
    """The path, pixel sizes (row, column) and unit of a label TIFF, or a clear error
    before any work: a .tif/.tiff path (TIFF bytes in a .png are unreadable), a non-zero
    finite pixel size (a flipped axis has one all the same), a unit that is a string; its
    folders made (:func:`_output_file`)."""
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff"):
        raise ValueError(f"labels are saved as TIFF: give a .tif or .tiff path; got "
                         f"{path.name!r}.")
    sy, sx = (abs(v) for v in number_pair(scale, "scale", nonzero=True))
    unit = unit_name(unit)
    return _output_file(path, ".tif"), sy, sx, unit


def _output_file(path, suffix: str, *, store: bool = False) -> Path:
    """``path`` ready to be written: its folders made when they do not exist (as the
    command line makes ``--out`` and Export its folder; a script's ``results/a.csv``
    raised Python's ``OSError``), or a ``ValueError`` in a sentence when it names a folder
    or lies under a file (a Zarr ``store``, a folder itself, is written over). Every writer
    here calls it before any work."""
    path = Path(path)
    if path.is_dir() and not store:
        raise ValueError(f"{path} is a folder: give the name of the file to write in it, "
                         f"e.g. {path / ('objects' + suffix)}.")
    for part in path.parents:
        if part.exists():
            if not part.is_dir():
                raise ValueError(f"{part} is a file, not a folder: {path.name} cannot be "
                                 "written in it.")
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _tiff_resolution(x: float, y: float):
    """Pixels per unit for the TIFF tags, None (no pixel size written) when one is beyond
    what their fractions of 32-bit integers hold (a pixel of 1e-12 units: 1e12 per unit)."""
    ok = all(np.isfinite(v) and 2.0**-31 <= v <= 2.0**31 for v in (x, y))
    return (x, y) if ok else None


#: The largest side of the smallest level of a Zarr label image's pyramid, as written by
#: the command line and by Export of a chunked run. napari shows the level that fits its
#: canvas: when the whole slide is in view it reads this level, at most 2048² (a screen's
#: size or so, 16 MB of int32). The widgets' pyramid, made in memory on every run for the
#: viewer alone, stops lower (``_widgets._outputs.PYRAMID_TOP``, 1024): each level there
#: costs the run memory and time, and napari colours the level in view on each first draw.
#: Both follow one rule (:func:`pyramid_shapes`).
ZARR_PYRAMID_TOP = 2048


def pyramid_shapes(shape, top: int) -> list[tuple[int, ...]]:
    """The shapes of a label image's pyramid, level 0 first: ``shape``, then each level
    :func:`halved` from the one before (a side of ``n`` becomes ``(n + 1) // 2``), until
    the largest side is at most ``top``. The one level rule of the widgets' pyramid
    (:data:`_widgets._outputs.PYRAMID_TOP`) and the Zarr labels' (:data:`ZARR_PYRAMID_TOP`)."""
    shapes = [tuple(int(n) for n in shape)]
    while max(shapes[-1], default=0) > top:
        shapes.append(tuple((n + 1) // 2 for n in shapes[-1]))
    return shapes


def halved(level):
    """The pyramid level after ``level`` (NumPy or dask): its every other row and column,
    nearest, so every value is still an object's id (labels are never averaged)."""
    return level[::2, ::2]


def write_labels_zarr(targets: dict, *, measure_image=None, scheduler=None,
                      pyramid: bool = True, scale=(1.0, 1.0), unit: str = ""):
    """Compute lazy label images into OME-Zarr (NGFF 0.5) label images, in one pass.

    The one writer of Zarr label images, used by the widgets and the command line.

    Parameters
    ----------
    targets : dict
        ``{path: lazy label image}``. Each ``path`` (``<name>.zarr``) becomes an OME-Zarr
        store holding the label image as NGFF labels: ``path/labels/<name>/0`` (int32, in
        the label image's chunks) with ``image-label`` and ``multiscales`` metadata (axes
        y/x, their unit, the pixel size as the scale of level 0) and, with ``pyramid``,
        halved levels ``1``, ``2`` … down to :data:`ZARR_PYRAMID_TOP` pixels
        (:func:`pyramid_shapes`, :func:`halved`: every other pixel, labels are never
        mixed). All are computed in one pass, so shared work (e.g. the watershed that
        gives both nuclei and territories) is done once, on the scheduler's workers, which
        write their chunks to the store themselves.
    measure_image : array, optional
        With an intensity image, the first label image is also measured in the same pass
        (:func:`napari_tessella.measure.measure_objects_chunked`).
    scheduler : optional
        Dask scheduler (a name, a ``distributed.Client`` or an address).
    pyramid : bool
        Write the lower-resolution levels too (napari's multiscale view).
    scale : (2,) sequence of float
        Pixel size, (row, column), written as the NGFF scale of level 0 (× 2**k for level k).
    unit : str
        Unit of ``scale`` (``"um"``, ``"nm"``, …; written as its NGFF name, e.g.
        ``"micrometer"``; a unit NGFF does not know is left out of the metadata).

    Returns
    -------
    (dict, pandas.DataFrame or None)
        ``{path: [Zarr arrays, full resolution first]}`` opened read-only, and the table.
    """
    import dask.array as da
    import zarr

    _ngff_writers()
    paths = [_output_file(p, ".zarr", store=True) for p in targets]
    # one task per storage chunk: irregular chunks (the chunked watershed's (60, …, 60,
    # 100)) would make two tasks write parts of one Zarr chunk at once, and lose one part
    arrays = [a if _on_storage_grid(a.chunks, a.chunksize) else a.rechunk(a.chunksize)
              for a in targets.values()]
    groups = [_ngff_label_group(p) for p in paths]
    outs = [g.create_array("0", shape=a.shape, chunks=a.chunksize, dtype=np.int32,
                           fill_value=0, dimension_names=["y", "x"], overwrite=True)
            for g, a in zip(groups, arrays, strict=True)]
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
    for path, group in zip(targets, groups, strict=True):
        chain = [zarr.open_array(store=group.store, path=f"{group.path}/0", mode="r")]
        shapes = pyramid_shapes(chain[0].shape, ZARR_PYRAMID_TOP) if pyramid else []
        for k in range(1, len(shapes)):
            smaller = halved(da.from_zarr(chain[-1])).rechunk(1024)
            out = group.create_array(str(k), shape=smaller.shape, chunks=(1024, 1024),
                                     dtype=np.int32, fill_value=0,
                                     dimension_names=["y", "x"], overwrite=True)
            _compute(da.store(smaller, out, lock=False, compute=False), scheduler=scheduler)
            chain.append(zarr.open_array(store=group.store, path=f"{group.path}/{k}",
                                         mode="r"))
        _write_ngff_metadata(group, len(chain), scale, unit)
        levels[path] = chain
    return levels, table


def _ngff_writers():
    """ome-zarr's metadata writers (imported before any work, so a missing library fails
    fast)."""
    import warnings

    with warnings.catch_warnings():  # ome-zarr 0.18 builds a deprecated default at import
        warnings.simplefilter("ignore", DeprecationWarning)
        from ome_zarr.format import FormatV05
        from ome_zarr.writer import write_label_metadata, write_multiscales_metadata
    return FormatV05, write_label_metadata, write_multiscales_metadata


def _ngff_label_group(path: Path):
    """A new OME-Zarr store at ``path`` with an empty label image ``labels/<name>``."""
    import zarr

    name = _label_name(path)
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    root.attrs["ome"] = {"version": "0.5"}
    labels = root.create_group("labels")
    labels.attrs["ome"] = {"version": "0.5"}
    return labels.create_group(name)


def _label_name(path: Path) -> str:
    name = Path(path).name
    return name[: -len(".zarr")] if name.lower().endswith(".zarr") else name


def _write_ngff_metadata(group, n_levels: int, scale, unit: str):
    """multiscales + image-label metadata of a label image, through the ome-zarr library."""
    FormatV05, write_label_metadata, write_multiscales_metadata = _ngff_writers()
    fmt = FormatV05()
    sy, sx = (float(s) for s in scale)
    datasets = [{"path": str(k), "coordinateTransformations": [
        {"type": "scale", "scale": [sy * 2**k, sx * 2**k]}]} for k in range(n_levels)]
    name = group.basename
    long_unit = ngff_unit(unit) if unit else None
    units = {"y": long_unit, "x": long_unit} if long_unit else None
    write_multiscales_metadata(group, datasets, fmt=fmt, axes=["y", "x"], axes_units=units,
                               name=name)
    parent = _zarr_parent(group)
    write_label_metadata(parent, name, fmt=fmt)


def _zarr_parent(group):
    """The group holding ``group`` (same store)."""
    import zarr

    parent = group.path.rsplit("/", 1)[0] if "/" in group.path else ""
    return zarr.open_group(store=group.store, path=parent, mode="r+")
