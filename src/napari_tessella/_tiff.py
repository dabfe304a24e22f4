"""Which image of a TIFF file is read, and whether its pixel data can be read at all.

A TIFF may hold several images (tifffile's *series*): a slide scanner's file holds the
slide's pyramid beside a label, a macro (overview) and a thumbnail image; an OME-TIFF of a
multi-position acquisition holds one image per position. :func:`series_index` chooses the
one the recipes read, or refuses with the list of those it could be. The checks here
(:func:`check_tiff_data`, :func:`missing_codec`) run before any pixel is read.
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import NamedTuple

from ._validation import SEVERAL_IMAGES, AdvisedError

__all__ = ["NoSuchSeries", "ShownSeries", "check_tiff_data", "missing_codec", "quiet_tifffile",
           "series_index", "shown_series"]


class NoSuchSeries(ValueError):
    """A series named that the file does not hold (its message lists those it holds)."""

#: Series names of the images beside a slide's own: Aperio's, Hamamatsu's, Philips',
#: Ventana's and QPTIFF's as tifffile names them ('Label', 'Macro', 'Thumbnail', 'Map'),
#: and Bio-Formats' in the OME-TIFFs it converts slides to ('label image', 'macro image').
_BESIDE = re.compile(r"\b(label|macro|thumbnail|preview|overview|barcode)\b|^\s*map\s*$",
                     re.IGNORECASE)


def series_index(tf, choice=None, name: str = "") -> int:
    """The index of the image of the open TIFF ``tf`` (``tifffile.TiffFile``) that is read.

    ``choice`` (a series' number, from 0, or its name, any case) names it; None chooses the
    main image: the largest (rows × columns) of the series that are neither marked
    reduced-resolution (``NewSubfileType`` bit 1: a preview or thumbnail, as some cameras
    write before the image) nor named a label, macro, thumbnail, preview or overview image
    (a slide's). When another such image has at least half the main one's pixels (the
    positions of a multi-position OME-TIFF, an image and its mask), which one is meant
    cannot be told: an :class:`AdvisedError` lists them (``name``: the file's, said first).
    """
    series = tf.series
    if choice is not None:
        return _named(series, choice, name)
    full = [i for i, s in enumerate(series) if not _reduced(s)] or list(range(len(series)))
    images = [i for i in full if not _BESIDE.search(series[i].name or "")] or full
    pixels = {i: _plane_pixels(series[i]) for i in images}
    main = max(images, key=lambda i: pixels[i])  # the first of the largest
    alike = [i for i in images if 2 * pixels[i] >= pixels[main]]
    if len(alike) > 1:
        raise AdvisedError(f"{name} holds {len(alike)} images of about one size "
                           f"({_listed(series, alike)}), and which one to read cannot be "
                           "told", SEVERAL_IMAGES, last=str(len(series) - 1))
    return main


class ShownSeries(NamedTuple):
    """Which image of a TIFF of several an array read from it is (:func:`shown_series`)."""

    count: int  # the images (series) the file holds
    shown: str  # the one read: 'series 0 16 × 20 uint8'
    main: int | None  # the index of the main image (None: several of about one size)
    said: str  # the main image ('series 1 64 × 80 uint8'), or the list of those alike
    last: int  # the last series' number


def shown_series(path, shape) -> ShownSeries | None:
    """Which image of the TIFF file ``path`` an array of ``shape`` read from it is, when
    that is not the file's main image (:func:`series_index`): a reader that reads a file's
    first image (napari's own, through imageio) shows a slide's thumbnail or one position
    of a multi-position OME-TIFF, without a word. None when the file holds one image, is
    no TIFF or cannot be read, when no image of the file has ``shape`` (another reader's
    array), or when the array is the main image. A file of several images of about one
    size has no main image: ``main`` is None and ``said`` lists them."""
    import tifffile

    wanted = _squeezed(shape)
    try:
        with quiet_tifffile(), tifffile.TiffFile(path) as tf:
            series = tf.series
            if len(series) < 2:
                return None
            same = [i for i, s in enumerate(series) if _squeezed(s.shape) == wanted]
            if not same:
                return None
            try:
                main = series_index(tf)
            except AdvisedError:
                main = None
            if main in same:
                return None
            full = [i for i, s in enumerate(series) if not _reduced(s)] or range(len(series))
            images = [i for i in full if not _BESIDE.search(series[i].name or "")] or full
            alike = [i for i in images
                     if 2 * _plane_pixels(series[i]) >= max(map(_plane_pixels,
                                                                (series[j] for j in images)))]
            said = _listed(series, alike if main is None else [main])
            return ShownSeries(len(series), _listed(series, same[:1]), main, said,
                               len(series) - 1)
    except (OSError, ValueError, IndexError, KeyError, TypeError, RuntimeError):
        return None  # no TIFF, or not one tifffile reads: nothing to say of it


def _squeezed(shape) -> tuple:
    return tuple(int(n) for n in shape if int(n) != 1)


def _named(series, choice, name: str) -> int:
    """The index of the series ``choice`` names (its number or its name)."""
    text = str(choice).strip()
    listed = f"{name} holds {len(series)} image(s) ({_listed(series, range(len(series)))})"
    if re.fullmatch(r"[+-]?\d+", text):
        at = int(text)
        if not 0 <= at < len(series):
            raise NoSuchSeries(f"{listed}: there is no series {at}, they are numbered "
                               "from 0.")
        return at
    found = [i for i, s in enumerate(series) if (s.name or "").strip().lower() == text.lower()]
    if not found:
        raise NoSuchSeries(f"{listed}: none is named {text!r}.")
    return found[0]


def _reduced(series) -> bool:
    page = getattr(series.levels[0].pages[0], "keyframe", None)
    return page is None or bool(page.is_reduced)


def _plane_pixels(series) -> int:
    """Rows × columns of a series' full-resolution level (its planes, not its stack)."""
    shape, axes = series.levels[0].shape, series.levels[0].axes
    sides = [n for n, a in zip(shape, axes, strict=False) if a in "YX"]
    if len(sides) != 2:
        sides = [n for n, a in zip(shape, axes, strict=False) if a != "S"][-2:]
    return math.prod(int(n) for n in sides)


def _listed(series, indices, most: int = 6) -> str:
    """'series 0 'Position 1' 48 × 64 uint16; series 1 …' (at most ``most``, then '…')."""
    said = []
    for i in list(indices)[:most]:
        s = series[i]
        shape = " × ".join(str(n) for n, a in zip(s.shape, s.axes, strict=False) if a != "S")
        label = f" {s.name!r}" if (s.name or "").strip() else ""
        said.append(f"series {i}{label} {shape} {s.dtype}")
    return "; ".join(said) + ("; …" if len(list(indices)) > most else "")


def missing_codec(page) -> str:
    """The name of the compression (or predictor) of a TIFF ``page`` that tifffile cannot
    decode here ('' when it can): LZW, JPEG, ZSTD, … need the ``imagecodecs`` package, a
    dependency of the plugin, missing only from an environment made without them."""
    from tifffile import TIFF

    for table, value in ((TIFF.DECOMPRESSORS, page.compression),
                         (TIFF.UNPREDICTORS, page.predictor)):
        try:
            table[value]
        except KeyError:
            return getattr(value, "name", str(value))
        except (TypeError, ValueError):  # an unknown value: tifffile's own words later
            return ""
    return ""


@contextlib.contextmanager
def quiet_tifffile():
    """tifffile's messages (it logs a corrupt header as errors) held back while one is read."""
    import logging

    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_tiff_data(series) -> None:
    """A ``ValueError`` when the full-resolution pages of ``series`` list fewer strips or
    tiles than their shape needs, or data past the end of their file: a truncated copy or
    a corrupt header. Checked before any pixel is read: a large TIFF is read lazily, and it
    failed only when the missing part was reached, after the work before it (with a
    ``KeyError`` of tifffile's Zarr view and 1,500 lines of asyncio tracebacks from zarr's
    reader threads). Each page against its own file (a multi-file OME-TIFF's planes lie
    in several)."""
    level = series.levels[0]
    ends = []  # (where the data end, the size of their file)
    start = getattr(level, "dataoffset", None)  # one contiguous block (ImageJ, …)
    if start is not None:
        ends.append((int(start) + int(level.nbytes), series.parent.filehandle.size))
    for page in level.pages:
        offsets = getattr(page, "dataoffsets", None)
        counts = getattr(page, "databytecounts", None)
        if not offsets or counts is None:
            continue
        size = page.parent.filehandle.size
        chunked = getattr(page, "chunked", None)
        needed = math.prod(chunked) if chunked else len(offsets)
        if len(offsets) < needed:
            if not getattr(page, "is_contiguous", False):
                raise ValueError(f"corrupt: it lists {len(offsets)} of the {needed:,} "
                                 "strips or tiles its size needs")
            ends.append((int(offsets[0]) + int(page.nbytes), size))
        ends.append((max(int(o) + int(c) for o, c in zip(offsets, counts, strict=False)),
                     size))
    for end, size in ends:
        if end > size:
            raise ValueError(f"truncated or corrupt: its pixel data run to byte {end:,}, "
                             f"past the file's end at {size:,}")
