"""Find atoms on pixels that are not square: the plane resampled to square pixels, the
columns found there, and put back on the layer's pixel grid (round 53).

Columns are round in the sample, not in pixels 0.1 × 0.2 nm: found in pixels, their
neighbours along the short side looked like close pairs (dumbbells) and the lattice's basis
came out wrong (the NbW image: 4.5 × 3.3 at 33° instead of 5.2 × 5.1 at 83°, in pixels of
the mean size). The plane is resampled (cubic spline: linear interpolation blurred every
other column unevenly, and found extra columns) to square pixels of the smaller size,
no detail lost; every length of the result is then given in pixels of the mean size, the
unit of the widget's spacing field.

Columns round in pixels but given an oblong scale (a synthetic image, or a probe that is
elongated as the pixels are) are ellipses in the sample: on the square plane each looked
like an unresolved pair and was found twice (128 of 64 at 1:2). Which of the two geometries
the columns are round in is measured first (round 54): the central lobe of the plane's
autocorrelation (a column's own, its lag 0 left out, where white noise sits) is fitted by
a Gaussian along each axis, and the columns are found in pixels, as on square pixels, when
they are rounder there than in the sample. The lobe holds a close neighbour's too: the
search in pixels is checked on its result, for columns split (round 55) or missed (round
56: the mean column at the sites found is not round in pixels), and gives way to the
square plane then.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._lazy import is_lazy
from ._validation import FEW_COLUMNS, NO_LATTICE, AdvisedError, as_float_image
from .atoms import _autocorrelation, find_atoms

# the largest ratio of the pixel's sides, and the most pixels, resampled to square pixels
_MOST_RATIO = 16.0
_MOST_PIXELS = 64_000_000
# the result's lengths, in pixels, and the table's
_LENGTHS = ("separation", "pair_distance", "lattice_spacing", "column_sigma")
_TABLE_LENGTHS = ("sigma",)
#: columns whose widths along the two axes are within this ratio are round in pixels
#: (lattices round in pixels, 96² px, 8 px apart, 200 each, since round 55: at most 1.06
#: under noise of 0.2 of the peak, 99.5 % under 1.1 at 0.3, 81 % at 0.5; dumbbells 4
#: widths apart along the long side of 1 × 2 pixels, which nearly undo the pixel's
#: elongation: 1.11-1.20)
ROUND = 1.1
#: more than this share of the columns found in pixels with a neighbour within the
#: columns' width: split, searched in the sample instead (round 55)
SPLIT = 0.2
#: the mean column at the sites found is read only when its peak stands this many
#: standard errors of the mean above its median: its widths' ratio is then known to a
#: few per cent, within :data:`ROUND` (round 56)
SITES_NOISE = 10.0
# the most sites the mean column is read at (evenly among those found: time)
_MOST_SITES = 1024


def square_zoom(shape, sampling) -> np.ndarray | None:
    """The (row, column) zoom that makes pixels of ``sampling`` (their sizes, in pixels
    of the mean size; None: square) square, of the smaller size; None when they are square
    already. ``ValueError`` in one sentence when the pixels are too far from square, or
    the plane is too large, to be resampled."""
    if sampling is None:
        return None
    size = np.abs(np.asarray(sampling, dtype=np.float64))
    if size[0] == size[1]:
        return None
    ratio = float(size.max() / size.min())
    pixels = float(np.prod(shape[:2])) * ratio
    if not (np.isfinite(ratio) and ratio <= _MOST_RATIO and pixels <= _MOST_PIXELS):
        raise ValueError(
            f"the pixels are {ratio:.3g} times longer one way than the other: too far "
            f"from square to find columns (at most {_MOST_RATIO:g} times, and "
            f"{_MOST_PIXELS / 1e6:g} million pixels once square); resample the image "
            f"to square pixels first.")
    return size / size.min()


def _plane_autocorrelation(plane) -> np.ndarray | None:
    """The linear autocorrelation of ``plane`` (``atoms._autocorrelation`` with
    ``linear``), or None when it has no lobe to fit (not a 2-d plane of at least 8 × 8
    finite pixels, or a constant)."""
    img = np.asarray(plane)
    if img.dtype.kind != "f":
        img = img.astype(np.float64)
    if (img.ndim != 2 or min(img.shape) < 8 or not np.isfinite(img).all()
            or not np.ptp(img) > 0):
        return None
    return _autocorrelation(img, linear=True)


def column_widths(plane) -> tuple[float, float] | None:
    """The Gaussian widths (row, column), in pixels, of the central lobe of ``plane``'s
    autocorrelation: a typical column's extent along each axis (times √2), whatever its
    brightness; None when there is no lobe to fit (a plane a few pixels wide, a constant).

    The linear autocorrelation (mean-subtracted, zero-padded, by FFTs; round 55: no
    window, which weighted a quarter of the columns) is read at whole lags out to where it
    first rises again along each axis (the lattice's next column, or a third of the side);
    white noise adds to lag 0 only, which is left out. A Gaussian of
    free widths plus a constant is fitted to the rest by least squares."""
    return _lobe_widths(_plane_autocorrelation(plane))


def _lobe_widths(ac) -> tuple[float, float] | None:
    """:func:`column_widths` read from the plane's autocorrelation ``ac`` (None: none)."""
    from scipy.optimize import least_squares

    if ac is None:
        return None

    def reach(profile):  # the lobe's end along one axis: where the profile first rises
        k, most = 1, max(1, len(profile) // 6)  # a third of the plane's side
        while k < most and profile[k + 1] < profile[k]:
            k += 1
        return k

    lags = [np.arange(-k, k + 1) for k in (reach(ac[:, 0]), reach(ac[0, :]))]
    rows, cols = np.meshgrid(*lags, indexing="ij")
    box = ac[np.ix_(lags[0] % ac.shape[0], lags[1] % ac.shape[1])]
    off = (rows != 0) | (cols != 0)  # lag 0 holds the noise
    r, c, v = rows[off], cols[off], box[off]
    top, low = float(v.max()), float(v.min())
    if not top > low:
        return None

    def residual(p):
        return (p[0] * np.exp(-r**2 / (2 * p[1] ** 2) - c**2 / (2 * p[2] ** 2)) + p[3]
                - v) / (top - low)

    start = [top - low, max(1.0, lags[0][-1] / 2), max(1.0, lags[1][-1] / 2), low]
    bounds = ([0, 0.1, 0.1, -np.inf], [np.inf, *ac.shape, np.inf])
    fit = least_squares(residual, start, bounds=bounds)
    if not fit.success or not fit.x[0] > 0:
        return None
    # again on the lobe's core (within 1.5 widths), on the first fit's level: a close
    # partner's lobe (a dumbbell) or the next column's, on the box's rim, stretched the
    # first fit towards it
    core = (r / fit.x[1]) ** 2 + (c / fit.x[2]) ** 2 <= 1.5**2
    if core.sum() >= 6:
        r, c, v = r[core], c[core], v[core]
        level = fit.x[3]
        again = least_squares(lambda p: residual([*p, level]), fit.x[:3],
                              bounds=(bounds[0][:3], bounds[1][:3]))
        if again.success and again.x[0] > 0:
            return float(again.x[1]), float(again.x[2])
    return float(fit.x[1]), float(fit.x[2])


def round_in_pixels(plane, sampling) -> bool:
    """Whether the columns of ``plane`` are round in its pixels rather than in the sample
    (``sampling``: the pixel's sizes): the aspect of their :func:`column_widths` within
    :data:`ROUND` of 1 in pixels, and nearer 1 (on a log scale) than once the pixels are
    given their sizes. False when the widths cannot be measured: real columns are round
    in the sample. (Dumbbells, two columns along the pixel's long side, are elongated in
    pixels too, unless their elongation happens to undo the pixel's.)"""
    return _round(column_widths(plane), sampling)


def _round(widths, sampling) -> bool:
    """:func:`round_in_pixels` of the columns' :func:`column_widths` ``widths``."""
    if widths is None:
        return False
    size = np.abs(np.asarray(sampling, dtype=np.float64))
    in_pixels = abs(np.log(widths[0] / widths[1]))
    in_sample = abs(np.log(widths[0] * size[0] / (widths[1] * size[1])))
    return bool(in_pixels < min(np.log(ROUND), in_sample))


def split_in_pixels(positions, widths) -> bool:
    """Whether a search in pixels split the columns: more than :data:`SPLIT` of the
    ``positions`` found have a neighbour nearer than the columns' :func:`column_widths`
    (their geometric mean, √2 times a column's width), where no two columns can be told
    apart. Dumbbells along the pixel's long side whose elongation undoes the pixel's read
    as round in pixels; there each column, elongated, was found as two (a third to 70 %
    of the columns so near, against none on lattices round in pixels up to noise 0.3)."""
    found = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    if len(found) < 2:
        return False
    from scipy.spatial import cKDTree

    near, _ = cKDTree(found).query(found, k=2)
    return bool(np.mean(near[:, 1] < np.sqrt(widths[0] * widths[1])) > SPLIT)


def mean_column_widths(plane, positions, widths) -> tuple[float, float] | None:
    """The Gaussian widths (row, column), in pixels, of the mean column at the found
    ``positions``: ``plane`` read (linear interpolation) at the same sub-pixel offsets
    from every column, out to 1.5 times the columns' :func:`column_widths` ``widths`` (at
    least 2 pixels) along each axis, averaged, and a Gaussian of free widths plus a
    constant fitted to it by least squares (round 56). It is what the search took for a
    column: a column's own shape where each was found once (the lattice's next column
    lies beyond the window), elongated along the pair where one site was found for two
    close columns, or one column of each pair (its partner on one side of every site).
    None: fewer than 3 positions, a mean within :data:`SITES_NOISE` standard errors of
    flat, or no fit."""
    from scipy import ndimage as ndi
    from scipy.optimize import least_squares

    found = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    if len(found) < 3 or widths is None:
        return None
    found = found[:: -(-len(found) // _MOST_SITES)]  # evenly, at most _MOST_SITES
    lags = [np.arange(-k, k + 1) for k in (max(2, int(np.ceil(1.5 * w))) for w in widths)]
    rows, cols = np.meshgrid(*lags, indexing="ij")
    at = found[:, None, :] + np.column_stack([rows.ravel(), cols.ravel()])[None]
    sites = ndi.map_coordinates(np.asarray(plane, dtype=np.float64), at.reshape(-1, 2).T,
                                order=1, mode="nearest").reshape(len(found), -1)
    mean = sites.mean(axis=0)
    r, c = rows.ravel(), cols.ravel()
    top, low = float(mean.max()), float(mean.min())
    # the mean's standard error, from the sites' scatter: a peak within SITES_NOISE of
    # it is no shape to read (a search that found 3-4 sites under heavy noise)
    error = float(sites.std(axis=0, ddof=1).mean()) / np.sqrt(len(found))
    if not top - float(np.median(mean)) > SITES_NOISE * error:
        return None

    def residual(p):
        return (p[0] * np.exp(-r**2 / (2 * p[1] ** 2) - c**2 / (2 * p[2] ** 2)) + p[3]
                - mean) / (top - low)

    start = [top - low, widths[0] / np.sqrt(2), widths[1] / np.sqrt(2), low]
    bounds = ([0, 0.1, 0.1, -np.inf], [np.inf, 4 * lags[0][-1], 4 * lags[1][-1], np.inf])
    fit = least_squares(residual, start, bounds=bounds)
    if not fit.success or not fit.x[0] > 0:
        return None
    return float(fit.x[1]), float(fit.x[2])


def missed_in_pixels(plane, positions, widths, sampling) -> bool:
    """Whether a search in pixels missed the columns: the :func:`mean_column_widths` at
    the ``positions`` found are not round in pixels (:func:`round_in_pixels`'s test, on
    the mean column instead of the lobe). Dumbbells along the pixel's long side whose
    elongation undoes the pixel's read as round in pixels by the lobe; under noise the
    search there finds one site per pair (or one column of it), elongated in pixels
    either way (round 56). False when the mean column cannot be measured. (Dark
    columns: the plane's negative.)"""
    mean = mean_column_widths(plane, positions, widths)
    return mean is not None and not _round(mean, sampling)


def find_on_square(image, sampling, *, zoom=None, **params):
    """:func:`~napari_tessella.atoms.find_atoms` of ``image`` with ``params``, the
    plane resampled to square pixels when ``sampling`` (:func:`square_zoom`) says they
    are not, its result put back: positions and the table's ``row``, ``col`` on the
    plane's pixels, every length (``separation``, ``pair_distance``, ``lattice_spacing``,
    ``column_sigma``, the table's ``sigma``) in pixels of the mean size, as the spacing
    given in ``params`` is. A lazy plane is read in pixels (no resampling), and so is a
    plane whose columns are rounder in pixels than in the sample (:func:`round_in_pixels`:
    found on the square plane, each looked like a pair), its lengths in pixels, as on
    square pixels, unless that search split the columns (:func:`split_in_pixels`) or
    missed them (:func:`missed_in_pixels`): then on the square plane after all. When the
    mean column at its sites cannot be read (too few, too faint: under noise of 0.3 of
    the peak, 3-10 sites for a hundred columns), the square plane is searched too and its
    result kept if it found more columns (round 57). A search in pixels that found fewer
    than 3 columns gives way to the square plane too, its error raised only when that
    finds fewer as well (round 58).
    ``zoom``: :func:`square_zoom` of ``sampling`` when the caller has it already (the
    Find atoms widget refuses pixels too far from square before its run starts), not
    made again; None: made here."""
    if is_lazy(image):
        zoom = None
    elif zoom is None:
        zoom = square_zoom(np.shape(image), sampling)
    if zoom is None:
        return find_atoms(image, **params)
    from scipy import ndimage as ndi

    plane = as_float_image(image)
    widths = column_widths(plane)
    unread = None  # a search in pixels whose mean column could not be read (round 57)
    fewer = None  # a search in pixels that found fewer than 3 columns (round 58)
    if _round(widths, sampling):
        try:
            res = find_atoms(image, **params)
        except AdvisedError as err:
            if err.topic not in (FEW_COLUMNS, NO_LATTICE):
                raise
            fewer = err
        else:
            if not split_in_pixels(res.positions, widths):
                mean = mean_column_widths(-plane if params.get("dark") else plane,
                                          res.positions, widths)
                if mean is not None and _round(mean, sampling):
                    return res
                unread = res if mean is None else None
    square = ndi.zoom(plane, zoom, order=3, mode="nearest", grid_mode=True)
    factor = np.array(square.shape, dtype=np.float64) / np.array(plane.shape)
    size = np.abs(np.asarray(sampling, dtype=np.float64))
    step = float(size.min() / np.sqrt(size.prod()))  # the square pixel, in mean pixels
    if params.get("separation") is not None:
        params = {**params, "separation": float(params["separation"]) / step}
    try:
        res = find_atoms(square, **params)
    except ValueError:  # fewer than 3 columns there
        if fewer is not None:
            raise fewer from None  # the search in pixels' own words
        if unread is None:
            raise
        return unread
    if unread is not None and len(res.positions) <= len(unread.positions):
        return unread  # the square plane found no more: the search in pixels stands
    positions = (np.asarray(res.positions, dtype=np.float64).reshape(-1, 2) + 0.5) / factor
    positions -= 0.5
    table = res.table.copy()
    table["row"], table["col"] = positions[:, 0], positions[:, 1]
    for name in _TABLE_LENGTHS:
        if name in table:
            table[name] = table[name] * step
    lengths = {name: getattr(res, name) * step for name in _LENGTHS if hasattr(res, name)}
    return replace(res, positions=positions, table=table, **lengths)
