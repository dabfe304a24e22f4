"""Reading image files as the recipes see them: values as stored, large files lazily.

The command line, the sample loaders and (through napari's own readers, which give the same
values) the widgets all start from these arrays, so a threshold in image units means the
same thing everywhere.

Whole-slide images are never read whole: a Zarr array (an OME-Zarr / NGFF image: its
full-resolution level) and a TIFF above :data:`napari_tessella._lazy.LARGE_PIXELS` (the
full-resolution level of a pyramidal OME-TIFF, in its tiles, through tifffile's Zarr view)
are opened as dask arrays whose graph holds only the file's path (:class:`DiskArray`): each
chunk is read where it is computed — by a thread here, or by a worker of a
``dask.distributed`` cluster, which opens the file itself.

:func:`read_pixel_size` reads the physical pixel size a file records (OME-TIFF
``PhysicalSizeX/Y``, OME-Zarr ``coordinateTransformations`` and axis units, TIFF resolution
tags with ``ResolutionUnit`` or the ImageJ unit).
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._lazy import DEFAULT_CHUNKS, is_large
from ._tiff import NoSuchSeries, check_tiff_data, quiet_tifffile, series_index
from ._tiff import missing_codec as _missing_codec
from ._validation import AdvisedError, as_path, first_line, rgb_luminance

__all__ = ["IMAGE_SUFFIXES", "TIFF_SUFFIXES", "DiskArray", "PixelSize", "is_zarr",
           "ngff_unit", "open_image", "read_pixel_size"]

#: The TIFF names read (BigTIFF's .btf, .tf8 and .tf2 too), in lower case: a name is
#: compared in lower case (``.TIF``, ``.OME.TIFF``).
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf8", ".tf2")
IMAGE_SUFFIXES = (*TIFF_SUFFIXES, ".png")


def is_zarr(path: Path) -> bool:
    path = Path(path)
    return path.is_dir() and (
        path.suffix.lower() == ".zarr"
        or any((path / f).exists() for f in (".zarray", ".zgroup", "zarr.json"))
    )


# --------------------------------------------------------------------------------------
# lazy, path-only arrays

class DiskArray:
    """An image in a file, read region by region; it pickles as its path.

    ``kind`` is ``"zarr"`` (``component``: the array inside the store, "" for a bare
    array) or ``"tiff"`` (``series``/``level``: the pyramid level, read through tifffile's
    Zarr view in the file's tiles). Leading axes of length 1 (OME's t, c, z) are dropped.
    The opened file is cached per thread and never pickled, so a dask graph built on it
    ships only the path to a cluster's workers, which open the file themselves.
    """

    def __init__(self, path, kind: str, *, component: str = "", series: int = 0,
                 level: int = 0):
        self.path, self.kind, self.component = str(path), kind, component
        self.series, self.level = int(series), int(level)
        self._local = threading.local()
        arr = self._open()
        drop = 0
        while arr.ndim - drop > 2 and arr.shape[drop] == 1:
            drop += 1
        self._index = (0,) * drop
        self.shape = tuple(int(s) for s in arr.shape[drop:])
        self.dtype = np.dtype(arr.dtype)
        self.ndim = len(self.shape)
        self.storage_chunks = tuple(int(c) for c in arr.chunks[drop:])

    def _open(self):
        arr = getattr(self._local, "arr", None)
        if arr is None:
            import zarr

            if self.kind == "tiff":
                import tifffile

                store = tifffile.imread(self.path, aszarr=True, series=self.series,
                                        level=self.level)
                arr = zarr.open_array(store, mode="r")
            else:
                arr = zarr.open_array(self.path, path=self.component or None, mode="r")
            self._local.arr = arr
        return arr

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        return np.asarray(self._open()[(*self._index, *key)])

    def __array__(self, dtype=None, copy=None):
        out = self[tuple(slice(None) for _ in self.shape)]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_local")
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def __repr__(self):
        where = f"{self.component!r}" if self.kind == "zarr" else f"level {self.level}"
        return f"DiskArray({self.path!r}, {self.kind}, {where}, shape={self.shape}, {self.dtype})"

    def to_dask(self, chunks=None):
        """A dask array over this file; only the path goes into the graph."""
        import os

        import dask.array as da
        from dask.base import tokenize

        chunks = chunks or self.storage_chunks
        stamp = os.stat(self.path).st_mtime_ns
        name = "read-" + tokenize(self.path, self.kind, self.component, self.series,
                                  self.level, stamp, chunks)
        return da.from_array(self, chunks=chunks, name=name, lock=False, asarray=True,
                             meta=np.empty((0,) * self.ndim, dtype=self.dtype))


def _tile_chunks(storage, shape):
    """Chunks made of whole tiles (strips), about DEFAULT_CHUNKS on a side."""
    out = []
    for i, n in enumerate(shape):
        if i >= 2:
            out.append(n)
            continue
        t = max(1, min(storage[i], n))
        out.append(min(n, max(t, round(DEFAULT_CHUNKS[i] / t) * t)))
    return tuple(out)


# --------------------------------------------------------------------------------------
# Zarr / OME-Zarr (NGFF)

def _ome_attrs(path: Path) -> dict:
    """The OME attributes of a Zarr group (NGFF 0.5 nests them under "ome")."""
    for name in ("zarr.json", ".zattrs"):
        f = path / name
        if f.is_file():
            attrs = json.loads(f.read_text())
            attrs = attrs.get("attributes", attrs) if name == "zarr.json" else attrs
            return attrs.get("ome", attrs)
    return {}


def _multiscale(path: Path):
    ms = _ome_attrs(path).get("multiscales")
    return ms[0] if ms else None


def _zarr_component(path: Path) -> str:
    import zarr

    node = zarr.open(str(path), mode="r")
    if hasattr(node, "shape"):
        return ""
    ms = _multiscale(path)
    if ms and ms.get("datasets"):  # OME-Zarr: the full-resolution level
        return ms["datasets"][0]["path"]
    keys = sorted(node.array_keys())
    if "0" in keys:
        return "0"
    if len(keys) == 1:
        return keys[0]
    raise ValueError(f"Zarr group holds {len(keys)} arrays ({', '.join(keys) or 'none'}); "
                     "give the path of one array")


def _zarr_pixel_size(path: Path):
    ms = _multiscale(path)
    if not ms:
        return None
    axes = ms.get("axes") or []
    axes = [a if isinstance(a, dict) else {"name": a} for a in axes]
    scale = np.ones(len(axes) or 2)
    for transforms in (ms["datasets"][0].get("coordinateTransformations") or [],
                       ms.get("coordinateTransformations") or []):
        for t in transforms:
            if t.get("type") == "scale" and "scale" in t:
                scale = scale * np.asarray(t["scale"], dtype=float)
    space = [i for i, a in enumerate(axes) if a.get("type") == "space"
             or a.get("name") in ("y", "x")][-2:]
    if len(space) < 2:
        space = [len(scale) - 2, len(scale) - 1]
    units = {axes[i].get("unit", "") for i in space} if axes else {""}
    unit = _short_unit(units.pop()) if len(units) == 1 else ""
    return PixelSize((float(scale[space[0]]), float(scale[space[1]])), unit)


# --------------------------------------------------------------------------------------
# TIFF

def _tiff_pixel_size(path: Path, series=None):
    import tifffile

    with quiet_tifffile(), tifffile.TiffFile(path) as tf:
        at = series_index(tf, series, path.name) if tf.series else 0
        if tf.is_ome and tf.ome_metadata:
            found = _ome_xml_pixel_size(tf.ome_metadata, at, len(tf.series),
                                        tf.series[at].name if tf.series else None)
            if found is not None:
                return found
        page = tf.series[at].levels[0].pages[0] if tf.series else None
        page = getattr(page, "keyframe", page)  # a TiffFrame's tags are its keyframe's
        if page is None:
            return None
        tags = page.tags
        xres, yres = tags.get("XResolution"), tags.get("YResolution")
        if xres is None or yres is None:
            return None
        px = _rational(xres.value)
        py = _rational(yres.value)
        if not px or not py:
            return None
        ij = tf.imagej_metadata or {}
        if ij.get("unit"):
            unit = _short_unit(str(ij["unit"]))
            if _is_pixel_unit(unit):
                return None
            # ImageJ writes a row unit ("yunit") when it is not the column unit's
            yunit = _short_unit(str(ij.get("yunit") or unit))
            return PixelSize((_in_unit(1.0 / py, yunit, unit), 1.0 / px), unit)
        runit = tags.get("ResolutionUnit")
        runit = int(runit.value) if runit is not None else 2
        # inch, centimetre; millimetre and micrometre (DNG's values, which tifffile writes)
        per_um = {2: 25400.0, 3: 10000.0, 4: 1000.0, 5: 1.0}.get(runit)
        if per_um is None or (runit == 2 and {px, py} <= {72.0, 96.0}) or (
                runit in (2, 3) and px == py == 1):
            return None  # no unit, or a screen resolution rather than a pixel size
        return PixelSize((per_um / py, per_um / px), "um")


def _rational(value):
    try:
        num, den = value
        return float(num) / float(den) if den else 0.0
    except (TypeError, ValueError):
        return float(value or 0.0)


def _ome_xml_pixel_size(xml: str, at: int = 0, count: int = 1, name=None):
    """The pixel size of the OME ``Image`` read as series ``at`` of ``count`` (tifffile
    gives one series an Image when it can read them all; else the Image named ``name``,
    else the first): each position of a multi-position file has its own."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    images = [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Image"]
    if len(images) != count:
        named = [el for el in images if el.get("Name") == name]
        images, at = (named or images), 0
    image = images[at] if at < len(images) else None
    pixels = [el for el in (image if image is not None else root.iter())
              if el.tag.rsplit("}", 1)[-1] == "Pixels"]
    for el in pixels[:1]:
        sx, sy = el.get("PhysicalSizeX"), el.get("PhysicalSizeY")
        if sx is None and sy is None:
            return None
        sx = float(sx if sx is not None else sy)
        sy = float(sy if sy is not None else sx)
        ux = el.get("PhysicalSizeXUnit", "µm")
        uy = el.get("PhysicalSizeYUnit", ux)
        return PixelSize((_in_unit(sy, _short_unit(uy), _short_unit(ux)), sx),
                         _short_unit(ux))
    return None


# --------------------------------------------------------------------------------------
# units

class PixelSize(NamedTuple):
    """Physical size of a pixel, (row, column), and its unit ("" when not known)."""

    scale: tuple
    unit: str


#: Units as written in the CSV column names (``area_um2``) → their NGFF (UDUNITS-2) names.
_NGFF_UNITS = {"pm": "picometer", "angstrom": "angstrom", "nm": "nanometer",
               "um": "micrometer", "mm": "millimeter", "cm": "centimeter", "m": "meter"}
_TO_METRE = {"pm": 1e-12, "angstrom": 1e-10, "nm": 1e-9, "um": 1e-6, "mm": 1e-3,
             "cm": 1e-2, "m": 1.0}
_ALIASES = {"µm": "um", "μm": "um", "\\u00b5m": "um", "micron": "um", "microns": "um",
            "å": "angstrom", "a": "angstrom", "ang": "angstrom"}


def _short_unit(unit: str) -> str:
    """'µm', 'micron', 'micrometer' → 'um'; 'nanometer' → 'nm'; unknown units unchanged."""
    u = (unit or "").strip()
    low = u.lower()
    if low in _ALIASES:
        return _ALIASES[low]
    for short, long in _NGFF_UNITS.items():
        if low in (short, long, long + "s"):
            return short
    return u


#: Unit names that mean plain pixels (no physical size), compared in lower case.
_PIXEL_UNITS = frozenset({"", "pixel", "pixels", "px", "dimensionless"})


def _is_pixel_unit(unit) -> bool:
    """Whether ``unit`` names no physical unit: '', 'pixel(s)', 'px', 'dimensionless'."""
    return str(unit or "").strip().lower() in _PIXEL_UNITS


def _in_unit(size: float, unit: str, wanted: str) -> float:
    """``size`` in ``unit`` said in ``wanted`` (both short); unchanged when either is not a
    length known here (a row size in µm beside columns in nm: in nm)."""
    if unit == wanted or unit not in _TO_METRE or wanted not in _TO_METRE:
        return size
    return size * _TO_METRE[unit] / _TO_METRE[wanted]


def ngff_unit(unit: str) -> str | None:
    """The NGFF (UDUNITS-2) name of a unit (``"um"`` → ``"micrometer"``), None if unknown."""
    return _NGFF_UNITS.get(_short_unit(unit))


def read_pixel_size(path, *, series=None) -> PixelSize | None:
    """The physical pixel size a file records, or None.

    OME-Zarr: the scale of the full-resolution level (``coordinateTransformations``, times
    the multiscale's own) and the unit of its y/x axes. OME-TIFF: ``PhysicalSizeX/Y`` and
    their units (µm by default). Other TIFFs: the resolution tags, in the ImageJ unit, or
    with ``ResolutionUnit`` inch/centimetre/millimetre/micrometre (converted to µm; 72 and
    96 pixels per inch are screen defaults, not pixel sizes, and are ignored). Units are
    returned short and ASCII (``"um"``, ``"nm"``), as the CSV column names use them. Sizes,
    not directions: an OME-Zarr scale of -0.5 (a flipped axis, as napari draws it) is a
    pixel of 0.5. ``series``: the image of a TIFF that holds several, as in
    :func:`open_image` (a multi-position OME-TIFF's positions each have their own).
    """
    path = Path(path)
    found = None
    try:
        if is_zarr(path):
            found = _zarr_pixel_size(path)
        elif path.suffix.lower() in TIFF_SUFFIXES:
            found = _tiff_pixel_size(path, series)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    if found is None or not all(_finite(abs(float(s))) for s in found.scale):
        return None
    return found._replace(scale=tuple(abs(float(s)) for s in found.scale))


# --------------------------------------------------------------------------------------
# the one entry point

def open_image(path, *, lazy: bool | None = None, series=None):
    """The image stored in a file, values as stored.

    NumPy for PNG and for TIFFs up to :data:`napari_tessella._lazy.LARGE_PIXELS` pixels (the
    fast path). A dask array, read chunk by chunk where it is computed, for Zarr (an
    OME-Zarr group: its full-resolution level; chunks: the Zarr chunks) and for larger
    TIFFs (the full-resolution level of a pyramid, in chunks of whole tiles about 2048
    pixels on a side): their graphs hold only the path (:class:`DiskArray`).

    ``lazy=True`` opens every TIFF lazily (e.g. for a cluster, whose workers then read it
    themselves), ``lazy=False`` reads every TIFF into memory.

    A TIFF that holds several images (tifffile's series) is read as its main image: the
    slide's, not its label, macro or thumbnail image (:func:`._tiff.series_index`).
    Several images of about one size (a multi-position OME-TIFF's positions) are refused
    with their list, unless ``series`` names one: its number (from 0) or its name. A
    file of one image (PNG, Zarr) takes ``series`` 0 or None.

    PNG files whose RGB(A) channels are identical (grey images saved as colour) are read
    as one grey channel, as napari's reader shows them; a grey PNG with an alpha channel
    as its grey channel (alpha is ignored, as in RGBA images). A colour image of 2-4 rows
    is read as its luminance (as the core takes colour), where its shape alone would read
    as a stack.
    """
    path = as_path(path)
    if series is not None and str(series).strip() != "0" and (
            is_zarr(path) or path.suffix.lower() not in TIFF_SUFFIXES):
        raise ValueError(f"{path.name} holds one image: there is no series {series!r} "
                         "(series name the images of a TIFF).")
    if is_zarr(path):
        try:
            return DiskArray(path, "zarr", component=_zarr_component(path)).to_dask()
        except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
            # zarr's own errors (a folder without an array, unreadable metadata) quote
            # the store's internals
            first = first_line(err)
            detail = f" ({first.rstrip('.')})" if first else ""
            if type(err).__name__.endswith("NotFoundError"):
                detail = " (it holds no Zarr array or group)"
            raise ValueError(f"{path.name} cannot be read as a Zarr image{detail}.") from None
    name = path.name
    if path.is_dir():
        raise ValueError(f"{name} is a folder, not an image file.")
    if not path.exists():
        raise ValueError(f"{path} not found.")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"unsupported file type {path.suffix!r} (use TIFF, PNG or Zarr)")
    if path.stat().st_size == 0:
        raise ValueError(f"{name} is empty (0 bytes): not an image.")
    try:
        return _open_file(path, lazy, series)
    except (AdvisedError, NoSuchSeries):  # the images it holds, and how to choose one
        raise
    except PermissionError:
        raise ValueError(f"{name} cannot be read: permission denied.") from None
    except (OSError, ValueError, IndexError, KeyError, SyntaxError, RuntimeError) as err:
        # what tifffile, imageio and PIL raise on a file that is not what it says
        first = first_line(str(err).replace(str(path), name))
        detail = f" ({first.rstrip('.')})" if first else ""
        if "can not handle the given uri" in detail:  # imageio's words for "not a PNG"
            detail = " (its contents are not a valid image of that type)"
        raise ValueError(f"{name} cannot be read as a {path.suffix.lstrip('.').upper()} "
                         f"image{detail}.") from None


#: The first bytes of the files read, and the type they mean (TIFF: little/big-endian,
#: classic and BigTIFF).
_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"II*\x00", ".tif"), (b"MM\x00*", ".tif"),
          (b"II+\x00", ".tif"), (b"MM\x00+", ".tif"))


def _content_suffix(path: Path) -> str:
    """The file type the first bytes of ``path`` say ('.tif', '.png'), whatever its name:
    a PNG saved with a .tif name was refused ('not a TIFF file'), and a TIFF named .png
    was read by Pillow, which gives a stack's first plane only and refuses float64. A
    JPEG, which the recipes do not read (it is lossy), is named as one, and any other
    content is refused in a sentence."""
    with open(path, "rb") as f:
        head = f.read(8)
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    if head.startswith(b"\xff\xd8\xff"):
        raise ValueError("its contents are a JPEG image, whatever its name: save it as "
                         "TIFF or PNG")
    # a text file, an HTML error page saved under the image's name, another format:
    # tifffile's words were "not a TIFF file: header=b'hell'", imageio's about URIs
    raise ValueError("its contents are not a TIFF or PNG image, whatever its name")


def _open_file(path: Path, lazy: bool | None, choice=None):
    suffix = _content_suffix(path)
    if suffix in TIFF_SUFFIXES:
        import tifffile

        with quiet_tifffile(), tifffile.TiffFile(path) as tf:
            if not tf.series:  # a header with no image: "(list index out of range)"
                raise ValueError("it holds no image: a TIFF header without pixel data")
            at = series_index(tf, choice, path.name)
            series = tf.series[at]
            shape, axes = series.shape, series.axes
            # tifffile logs a corrupt header's counts ("incorrect StripOffsets count");
            # this says what is wrong in one line instead
            check_tiff_data(series)
            in_memory = not (lazy if lazy is not None else is_large(shape))
            codec = _missing_codec(series.levels[0].pages[0])
            if codec:  # (imagecodecs is a dependency: an environment made without it)
                raise ValueError(f"it is compressed with {codec}, which needs the "
                                 "imagecodecs package: pip install imagecodecs")
            if in_memory:
                image, planes = _single_planes_dropped(series.asarray(), axes)
                return _few_rows_colour(_samples_last(image, planes), "S" in axes)
        disk = DiskArray(path, "tiff", series=at, level=0)
        return _samples_last(disk.to_dask(_tile_chunks(disk.storage_chunks, disk.shape)),
                             axes[-disk.ndim:])
    if suffix == ".png":
        import imageio.v3 as iio

        # Pillow by name: left to guess, imageio tried each legacy plugin on a broken PNG
        # (a DeprecationWarning from DICOM's, unclosed files) before giving up
        image = np.array(iio.imread(path, plugin="pillow"))
        if image.ndim == 3 and image.shape[-1] == 2:  # grey and alpha ("LA"): its grey
            return image[..., 0]
        if image.ndim == 3 and all(np.array_equal(image[..., 0], image[..., c])
                                   for c in range(1, min(3, image.shape[-1]))):
            image = image[..., 0]
        return _few_rows_colour(image, image.ndim == 3)


def _few_rows_colour(image, colour: bool):
    """A colour image of 2-4 rows (the file says colour: a PNG's channels, a TIFF's
    samples) as its luminance: the core cannot tell such an array from a stack of 2-4
    planes by its shape, and refused it as one."""
    if colour and image.ndim == 3 and image.shape[-1] in (3, 4) and image.shape[0] <= 4:
        return rgb_luminance(image)
    return image


def _single_planes_dropped(image, axes: str):
    """``image`` and its ``axes`` without the axes of length 1 before its rows (a plane
    saved with its t, c or z of one, as a (1, 1, rows, columns) TIFF), as
    :class:`DiskArray` reads a large one: it is one plane, not a stack the command line
    refuses. A colour image of one row keeps its row."""
    rows = axes.find("Y")
    drop = 0
    while drop < rows and image.shape[drop] == 1:
        drop += 1
    return image[(0,) * drop], axes[drop:]


def _samples_last(image, axes: str):
    """A planar RGB(A) TIFF (samples 'S' before the rows) with its colours last, as an
    interleaved one is read and as napari shows RGB: it is not a stack of three planes."""
    at = axes.find("S")
    if at < 0 or at == len(axes) - 1 or image.shape[at] not in (3, 4):
        return image
    return np.moveaxis(image, at, -1)


def _finite(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0
