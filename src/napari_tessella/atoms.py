"""Atom columns in HAADF-STEM images: detection and sub-pixel refinement.

``find_atoms`` finds every column as a local maximum of the lightly smoothed image that
stands out from its surroundings by more than the noise, then refines the positions either
by a masked centre of mass or by fitting a 2-D Gaussian to every column *at once*: all
patches are stacked into one array and a damped Gauss-Newton (Levenberg-Marquardt) step is
solved for all columns together with batched 5×5 linear solves, so the cost per column is a
few microseconds of numpy work instead of a separate optimiser call. Close pairs of columns
(dumbbells) are found with the defaults and fitted jointly. The detection lives in
``_atoms_detect``, the fits in ``_atoms_fit``; here are the public function, its result and
the chunk-by-chunk path for dask or Zarr images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import fft as sfft
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

from ._atoms_detect import (
    _background_noise,
    _default_threshold,
    _detect,
    _resolve_close_columns,
    _shape_of_peaks,
    _split_unresolved,
)
from ._atoms_fit import _fit_all, _plausible, _refine_com
from ._atoms_noise import _patches
from ._lazy import _as_float_dask, _compute, is_lazy
from ._validation import (
    FEW_COLUMNS,
    NO_LATTICE,
    AdvisedError,
    LengthError,
    as_float_image,
    finite_number,
    flag,
    shape_of,
)
from ._validation import intensity_exponent as _intensity_exponent
from .lattice_analysis import _close_pairs

__all__ = ["AtomsResult", "estimate_separation", "find_atoms"]


@dataclass(frozen=True, repr=False)
class AtomsResult:
    """Result of :func:`find_atoms`.

    Attributes
    ----------
    positions : (N, 2) ndarray of float64
        Sub-pixel (row, column) of every column found.
    table : pandas.DataFrame
        One row per column: ``row``, ``col``, ``peak`` (height of the smoothed maximum
        above its surroundings), ``intensity`` (background-subtracted sum within half a
        separation) and, with ``refine="gaussian"``, ``amplitude``, ``sigma``,
        ``background``, ``converged``.
    separation : float
        Nearest-neighbour column distance used, in pixels.
    pair_distance : float
        Median distance between the two columns of a close pair (mutual nearest
        neighbours much closer than their next neighbours, such as dumbbells); NaN when
        fewer than a tenth of the columns are in one. The table's ``partner`` column gives
        each column's partner (-1: none); :func:`~napari_tessella.lattice_analysis.find_dumbbells`
        measures the pairs.
    lattice_spacing : float
        The second scale: the median distance from a paired column to its nearest
        column outside the pair; without pairs, the period of the autocorrelation (or
        ``separation`` when it was given).
    column_sigma : float
        Gaussian width of a column: the median fitted ``sigma`` with
        ``refine="gaussian"``, else measured on the first detections (NaN when
        ``separation`` was given). With elongated peaks, the detection is repeated with a
        filter this narrow so that both columns of a close pair are found.
    """

    positions: np.ndarray
    table: pd.DataFrame
    separation: float
    pair_distance: float = np.nan
    lattice_spacing: float = np.nan
    column_sigma: float = np.nan

    def __repr__(self) -> str:
        text = f"AtomsResult({len(self.positions)} columns, separation={self.separation:.2f} px"
        if np.isfinite(self.pair_distance):
            text += (f", close pairs {self.pair_distance:.2f} px apart, lattice spacing "
                     f"{self.lattice_spacing:.2f} px")
        return text + ")"


def estimate_separation(image) -> float:
    """Estimate the nearest-neighbour distance between columns from the autocorrelation.

    The autocorrelation of a periodic image repeats the lattice: its highest off-centre
    maximum nearest to the centre lies one nearest-neighbour vector away. It is computed
    with FFTs of the (mean-subtracted, Hann-windowed) image; the separation is the
    distance from the centre to that maximum's pixel. The image is first divided by a
    power of two as in :func:`find_atoms`, so the estimate is the one it makes, whatever
    the image's intensity scale.

    Parameters
    ----------
    image : (M, N) ndarray
        Image of a lattice with at least a few periods across.

    Returns
    -------
    float
        Column separation in pixels.

    Raises
    ------
    ValueError
        If no periodicity is found (e.g. a constant or random image).

    Examples
    --------
    >>> from napari_tessella.synthetic import synthetic_lattice
    >>> round(estimate_separation(synthetic_lattice((128, 128), spacing=8).image))
    8
    """
    return _separation_in(_autocorrelation(as_float_image(image)))


def _autocorrelation(plane, dark=False, linear=False) -> np.ndarray:
    """The autocorrelation of the 2-d float ``plane`` (with ``dark``: of its negative, as
    :func:`find_atoms` reads it), unshifted (lag 0 at [0, 0]): of the plane divided by a
    power of two (exact: the mean cannot overflow), mean-subtracted, divided by its span
    (scale-free: 1e155 squared would overflow) and Hann-windowed, by FFTs. Any power of
    two gives the same bits, so the normalised image of :func:`find_atoms` gives the
    plane's. :func:`estimate_separation` reads its maxima. With ``linear``: not windowed
    but zero-padded to twice the side (no wrap-around, so no window is needed), which
    ``_square.column_widths`` reads its central lobe from (round 55: the window weighted
    a quarter of the columns, and doubled the widths' scatter under noise)."""
    img = np.ldexp(plane, -_intensity_exponent(plane))
    if dark:
        img = img.max() - img
    img = (img - img.mean()) / np.ptp(img)
    if linear:
        pad = [sfft.next_fast_len(2 * n, real=True) for n in img.shape]
        return sfft.irfft2(np.abs(sfft.rfft2(img, s=pad)) ** 2, s=pad)
    window = np.outer(np.hanning(img.shape[0]), np.hanning(img.shape[1]))
    # scipy's FFTs: 2.5 times numpy's here (0.002 against 0.005 s for 580 x 640)
    return sfft.irfft2(np.abs(sfft.rfft2(img * window)) ** 2, s=img.shape)


def _separation_in(full) -> float:
    """:func:`estimate_separation` read from the plane's :func:`_autocorrelation`."""
    top = full.max()
    if not top > 0:  # nothing left under the window (a 2-pixel side): no lattice
        raise AdvisedError("no periodic lattice found in the image", NO_LATTICE)
    # maxima are looked for within a third of the shorter side of the centre: only that
    # box (and a pixel around it, for the maximum filter) is searched, read from the
    # unshifted autocorrelation (zero lag at the centre, as fftshift puts it) and
    # normalised, without shifting or dividing the rest
    shape = full.shape
    centre = np.array(shape) // 2
    reach = int(min(shape) / 3) + 1
    lo = np.maximum(centre - reach - 1, 0)
    hi = np.minimum(centre + reach + 2, shape)
    ac = full[np.ix_((np.arange(lo[0], hi[0]) - centre[0]) % shape[0],
                     (np.arange(lo[1], hi[1]) - centre[1]) % shape[1])] / top
    rr, cc = np.indices(ac.shape)
    radius = np.hypot(rr + lo[0] - centre[0], cc + lo[1] - centre[1])
    # local maxima of the autocorrelation, away from the central peak
    peaks = (ac == ndi.maximum_filter(ac, size=3)) & (radius >= 2)
    peaks &= radius <= min(shape) / 3
    peaks &= ac > 0.1
    if not peaks.any():
        raise AdvisedError("no periodic lattice found in the image", NO_LATTICE)
    r = radius[peaks]
    strength = ac[peaks]
    # the nearest maxima that are nearly as strong as the strongest ones
    strong = strength >= 0.2 * strength.max()
    d = float(np.min(r[strong]))
    if d < 2:
        raise AdvisedError("the lattice period is under 2 pixels", NO_LATTICE)
    return d


def _check_atoms_params(shape, separation, threshold, refine, dark) -> None:
    """Every parameter of :func:`find_atoms`, before any work: a spacing that is a finite
    number of pixels, from 2 up to half the image's shorter side (a lattice needs at least
    two columns across), a finite threshold, a known refinement."""
    if refine not in (None, "com", "gaussian"):
        raise ValueError(f"refine must be None, 'com' or 'gaussian'; got {refine!r}.")
    flag(dark, "dark")  # True or False, or 1 and 0 as the other switches take them
    if separation is not None:
        sep = finite_number(separation, "separation", unit="pixels")
        if sep < 2:  # the lengths kept as numbers: a widget says them in its units
            raise LengthError("{the} must be >= {limit}; got {value}.", "separation",
                              value=sep, limit=2)
        if len(shape) >= 2 and sep > min(shape[:2]) / 2:
            raise LengthError(
                "{named} is over half the image's shorter side (shape "
                f"{tuple(int(n) for n in shape[:2])}): at most {{limit}}.", "separation",
                value=sep, limit=min(shape[:2]) / 2)
    if threshold is not None:
        finite_number(threshold, "threshold")


def find_atoms(image, *, separation=None, threshold=None, refine="com", dark=False):
    """Find atom columns with sub-pixel precision.

    Parameters
    ----------
    image : (M, N) ndarray
        HAADF-STEM image (columns bright), any real dtype.
    separation : float, optional
        Nearest-neighbour column distance in pixels; estimated from the image's
        autocorrelation (:func:`estimate_separation`) when not given. Sets the smoothing
        (separation / 8), the minimum distance between columns (0.4 × separation) and the
        refinement window (radius separation / 2).
    threshold : float, optional
        Minimum response of a column to a difference of Gaussians (widths separation / 8
        and separation / 2), in image units. Default: 6 times the response of the pixel
        noise estimated from the image, so noise maxima are rejected whatever the
        brightness of the weakest sublattice.
    refine : {None, "com", "gaussian"}
        None: the pixel of the smoothed maximum. "com": background-subtracted centre of
        mass within half a separation, weighted by a Gaussian of separation / 5 around
        the current estimate, iterated ten times. "gaussian": a 2-D Gaussian
        plus background fitted to every column at once (vectorised Levenberg-Marquardt).
    dark : bool
        Find dark columns (the channels or "chambers" between atoms) instead.

    Returns
    -------
    AtomsResult

    Raises
    ------
    ValueError
        For an invalid image or parameter, or when no periodicity can be estimated.

    Examples
    --------
    >>> from napari_tessella.synthetic import synthetic_lattice
    >>> lat = synthetic_lattice((96, 96), spacing=8)
    >>> result = find_atoms(lat.image, refine="gaussian")
    >>> len(result.positions) == len(lat.positions)
    True
    """

    _check_atoms_params(shape_of(image), separation, threshold,
                        refine, dark)
    if is_lazy(image):  # dask/Zarr: chunk by chunk with margins, same columns

        return find_atoms_chunked(image, separation=separation, threshold=threshold,
                                  refine=refine, dark=dark)
    img = as_float_image(image)
    return _find_atoms_array(img, _intensity_exponent(img), separation, threshold, refine,
                             dark)


#: narrow / wide width of a pair of equal Gaussians 1.5 widths apart (the closest the
#: split keeps): 1 / sqrt(1 + 0.75²)
PAIR_ELONGATION = 0.8

#: mutual nearest neighbours this much closer than their next columns are fitted as a
#: pair where their Gaussians overlap
LOOSE_PAIR = 0.9
#: ... and closer than this many column widths (their Gaussians overlap)
LOOSE_OVERLAP = 4.0

#: the table's columns in image units (scaled back from the normalised image)
_INTENSITY_COLUMNS = ("peak", "intensity", "amplitude", "background")


def _find_atoms_array(img, exponent, separation, threshold, refine, dark):
    """:func:`find_atoms` on a float image divided by ``2**exponent``, the threshold read
    and the intensity columns returned in image units."""
    img = np.ldexp(img, -exponent)
    if threshold is not None:
        threshold = float(np.ldexp(float(threshold), -exponent))
    result = _find_atoms_normalised(img, separation, threshold, refine, dark)
    with np.errstate(over="ignore"):  # an integrated intensity past the largest float: inf
        for column in _INTENSITY_COLUMNS:
            if column in result.table:
                result.table[column] = np.ldexp(result.table[column].to_numpy(float), exponent)
    return result


def _box_minimum(image, coords, size):
    """The minimum of ``image`` in the size² box (size odd) around each of the pixels
    ``coords``: ``ndi.minimum_filter(image, size)`` read there (its reflected border only
    repeats pixels of the box), in work proportional to the pixels asked for rather than
    to the image (on sparse images a third of the filter's pixels)."""
    box, _, _, inside = _patches(image, coords, size // 2)
    return np.min(np.where(inside, box, np.inf), axis=(1, 2))


def _without(drop, positions, coords, background, extra):
    """The columns and their table entries, less the indices ``drop``."""
    keep = np.ones(len(positions), dtype=bool)
    keep[drop] = False
    return (positions[keep], coords[keep], background[keep],
            {k: v[keep] for k, v in extra.items()})


def _find_atoms_normalised(img, separation, threshold, refine, dark):
    """The method, on an image whose values are at most 1 in magnitude."""
    if dark:
        img = img.max() - img
    period = np.nan
    start_positions = None
    if separation is not None:
        sep = float(separation)
        coords, dog, threshold = _detect(img, sep, 0.4 * sep, threshold)
        sigma_col = np.nan
    else:
        # The autocorrelation gives the period of the brightest sublattice; a second,
        # weaker sublattice can sit as close as period/√3 (honeycomb). Detect with room for
        # that, then measure the real nearest-neighbour distance on what was found.
        period = estimate_separation(img)
        given = threshold
        split_ratio = 0.75
        cache = {}  # the wide filter and the noise level, for a second look
        coords, dog, threshold = _detect(img, period, 0.4 * period / np.sqrt(3), given,
                                         cache=cache)
        if len(coords) < 3:
            raise AdvisedError("fewer than 3 columns found", FEW_COLUMNS)
        # A second, shorter scale: columns closer than the period can resolve (dumbbells)
        # show up as elongated peaks, whose narrow width is still that of one column.
        # Each peak is measured out to half the distance to the nearest other peak; the
        # image border cuts a window and elongates it, so border peaks are not judged.
        d, _ = cKDTree(coords).query(coords, k=2)
        reach = np.minimum(period, d[:, 1]) / 2
        narrow, wide = _shape_of_peaks(img, coords, reach, noise=_background_noise(img))
        whole = np.all((coords >= reach[:, None])
                       & (coords <= np.array(img.shape) - 1 - reach[:, None]), axis=1)
        widths = narrow[whole] if whole.any() else narrow
        # no width measured at all (noise): NaN, without NumPy's "All-NaN slice" warning
        sigma_col = float(np.nanmedian(widths)) if np.isfinite(widths).any() else np.nan
        elongated = (narrow < 0.65 * wide) & whole
        # pairs as close as the split accepts (1.5 column widths: narrow/wide 0.8) are
        # hardly elongated one by one, but the typical peak is: where it is, every peak
        # that elongated is a candidate (single columns: median 0.85-1.0 under noise)
        with np.errstate(divide="ignore", invalid="ignore"):  # a window without light
            shape = narrow[whole] / wide[whole]
        shape = shape[np.isfinite(shape)]  # no width measured (noise): no judgement
        if (elongated.sum() < 0.1 * whole.sum() and shape.size
                and np.median(shape) < PAIR_ELONGATION):
            elongated = (narrow < PAIR_ELONGATION * wide) & whole
            split_ratio = PAIR_ELONGATION
        if period / 8 > sigma_col / 2:
            # the period's filter is wider than a column: look again with a narrow one
            # (a crowded pair need not look elongated within half its nearest distance)
            # where close pairs are a scale of the image (a tenth of the peaks elongated),
            # a peak a little elongated may be a pair whose window a neighbour cuts
            suspect = ((narrow < 0.75 * wide) & whole if elongated.sum() >= 0.1 * whole.sum()
                       else None)
            coords, eligible = _resolve_close_columns(
                img, coords, reach, elongated, period, sigma_col, given, cache=cache,
                suspect=suspect)
        if elongated.any() and period / 8 > sigma_col / 2:
            # pairs closer than even the narrow filter resolves: split by a fit
            d, _ = cKDTree(coords).query(coords, k=2)
            split, _ = _split_unresolved(img, coords.astype(np.float64),
                                         float(np.median(d[:, 1])) / 2, sigma_col,
                                         reach=period / 2, eligible=eligible,
                                         ratio=split_ratio)
            if len(split) > len(coords):
                # a column found both by the narrow filter and by a split is one column
                close = cKDTree(split).query_pairs(max(1.0, sigma_col), output_type="ndarray")
                start_positions = np.delete(split, np.unique(close[:, 1]), axis=0)
        d, _ = cKDTree(start_positions if start_positions is not None else coords).query(
            start_positions if start_positions is not None else coords, k=2)
        sep = float(np.median(d[:, 1]))
    if start_positions is None:
        positions = coords.astype(np.float64)
    else:  # sub-pixel already: the peaks' pixels for the table
        positions = np.clip(start_positions, 0, np.array(img.shape) - 1)
        coords = np.rint(positions).astype(np.int64)
    height = dog
    smooth = ndi.gaussian_filter(img.astype(np.float64, copy=False), sep / 8)
    size = max(3, round(sep) | 1)
    radius = sep / 2
    background = _box_minimum(smooth, coords, size)

    # close pairs: mutual nearest neighbours much closer than their next neighbours
    pairs, pair_d, next_d = (_close_pairs(positions) if len(positions) >= 3
                             else (np.empty((0, 2), int), np.empty(0), np.empty(0)))
    if (refine == "gaussian" and np.isfinite(sigma_col)
            and 2 * len(pairs) >= 0.1 * len(positions) > 0):
        # where close pairs are a scale of the image, also mutual nearest neighbours only
        # a little closer than their next columns are fitted as pairs where their
        # Gaussians overlap (within 4 widths): fitted alone, each takes the other's light
        # (pairs 0.5 of the spacing at 37 deg on a square lattice lie 0.745 of their next
        # distance apart, noise puts some above 0.75: 0.6 px off). Not elsewhere: on
        # NbW-STEM such neighbours are no pairs, and its fits are kept as they were
        loose = _close_pairs(positions, ratio=LOOSE_PAIR)
        keep = (loose[1] <= 0.75 * loose[2]) | (loose[1] <= LOOSE_OVERLAP * sigma_col)
        pairs, pair_d, next_d = (a[keep] for a in loose)

    extra = {}
    width = max(0.5, sep / 5)  # a typical column's Gaussian width
    if len(positions) and refine == "com":
        positions = _refine_com(img, positions, radius, background, width)
    elif len(positions) and refine == "gaussian":
        # a rough start is enough: the fit converges from within a fraction of a pixel
        start = _refine_com(img, positions, radius, background, width, iterations=3)
        # a pair is fitted on discs reaching halfway to the next columns
        pair_radius = max(radius, float(np.median(next_d)) / 2) if len(pairs) else radius
        # a window that holds a whole column (close pairs make half the nearest distance
        # smaller than two column widths: a lone fit there is a needle or a blob)
        fit_radius = max(radius, 2 * sigma_col) if np.isfinite(sigma_col) else radius
        sigma0 = sigma_col if np.isfinite(sigma_col) else max(0.5, sep / 5)
        params, converged = _fit_all(img, start, fit_radius, sigma0=sigma0, weighted=True,
                                     pairs=pairs, pair_radius=pair_radius)
        converged &= _plausible(img, params, fit_radius, start)
        # a fit whose centre wandered past the image's edge is no measured position (26 on
        # NbW-STEM's border were clamped onto it and called converged)
        converged &= np.all((params[:, :2] >= 0)
                            & (params[:, :2] <= np.array(img.shape) - 1), axis=1)
        # a fit that did not converge gives way to the refined centre of mass (the same
        # as refine="com")
        bad = ~converged
        if bad.any():
            positions = positions.copy()
            positions[bad] = _refine_com(img, positions[bad], radius, background[bad], width)
        positions = np.where(converged[:, None], params[:, :2], positions)
        sigma_col = float(np.median(params[converged, 3])) if converged.any() else sigma_col
        extra = {"amplitude": params[:, 2], "sigma": params[:, 3],
                 "background": params[:, 4], "converged": converged}
    # a column centre is measured inside the image: a fit at the very edge that wandered
    # past it is put back on the border pixel
    positions = np.clip(positions, 0, np.array(img.shape) - 1)
    if len(positions) > 1:
        # two starting points that refined onto the same column are that one column
        same = cKDTree(positions).query_pairs(max(0.5, sep / 8), output_type="ndarray")
        if len(same):
            positions, coords, background, extra = _without(same[:, 1], positions, coords,
                                                            background, extra)
    scales = None  # the close pairs of the final positions, once measured
    if "amplitude" in extra and len(positions) >= 3:
        # a close partner whose fit ends under 5 % of its sibling's peak (the split's own
        # floor) is its sibling's light, not a column (seen at 100 counts: 0.02 of it)
        scales = _close_pairs(positions)
        pairs = scales[0]
        amp = np.where(extra["converged"], extra["amplitude"], np.nan)[pairs]
        faint = amp.min(axis=1) < 0.05 * amp.max(axis=1)  # NaN (unconverged): False
        if faint.any():
            weaker = pairs[faint][np.arange(faint.sum()), np.argmin(amp[faint], axis=1)]
            positions, coords, background, extra = _without(weaker, positions, coords,
                                                            background, extra)
            scales = None  # measured again below, without them
    # integrated, background-subtracted intensity within half a separation
    if len(positions):
        values, rows, cols, inside = _patches(img, positions, int(np.ceil(radius)))
        d2 = (rows - positions[:, 0, None, None]) ** 2 + (cols - positions[:, 1, None, None]) ** 2
        disc = inside & (d2 <= radius**2)
        intensity = np.where(disc, values - background[:, None, None], 0).sum(axis=(1, 2))
    else:
        intensity = np.empty(0)
    # the scales, on the final positions: close pairs make a scale of the image when at
    # least a tenth of the columns are in one (a few odd pairs do not)
    if scales is None:
        scales = (_close_pairs(positions) if len(positions) >= 3
                  else (np.empty((0, 2), int), np.empty(0), np.empty(0)))
    pairs, pair_d, next_d = scales
    partner = np.full(len(positions), -1)
    if len(pairs):
        partner[pairs[:, 0]], partner[pairs[:, 1]] = pairs[:, 1], pairs[:, 0]
    two_scales = 2 * len(pairs) >= 0.1 * len(positions) and len(pairs) > 0
    pair_distance = float(np.median(pair_d)) if two_scales else np.nan
    lattice_spacing = (float(np.median(next_d)) if two_scales else
                       (period if np.isfinite(period) else sep))
    table = pd.DataFrame({
        "row": positions[:, 0] if len(positions) else np.empty(0),
        "col": positions[:, 1] if len(positions) else np.empty(0),
        "peak": height[coords[:, 0], coords[:, 1]] if len(coords) else np.empty(0),
        "intensity": intensity,
        "partner": partner,
        **extra,
    })
    return AtomsResult(positions=positions.reshape(-1, 2), table=table, separation=sep,
                       pair_distance=pair_distance, lattice_spacing=lattice_spacing,
                       column_sigma=sigma_col)


# --------------------------------------------------------------------------------------
# chunk by chunk

# atom columns, chunk by chunk
def _atoms_in_block(block, origin, core_lo, core_hi, exponent, kwargs):
    """find_atoms on one overlapped block, normalised by the image's ``2**exponent`` (one
    for every block); keep the columns whose centre is in its core."""

    result = _find_atoms_array(as_float_image(np.asarray(block)), exponent, **kwargs)
    table = result.table
    if len(table) == 0:
        return table
    table = table.assign(row=table["row"] + origin[0], col=table["col"] + origin[1])
    # the core regions tile the image exactly, so each column is kept by one block
    keep = ((np.floor(table["row"]) >= core_lo[0]) & (np.floor(table["row"]) < core_hi[0])
            & (np.floor(table["col"]) >= core_lo[1]) & (np.floor(table["col"]) < core_hi[1]))
    return table[keep.to_numpy()]


def find_atoms_chunked(image, *, separation=None, threshold=None, refine="com", dark=False,
                       chunks=None, scheduler=None):
    """Find atom columns in an image too large for memory, chunk by chunk.

    Same method and parameters as :func:`napari_tessella.find_atoms`. The column spacing
    and the detection threshold, when not given, are measured once on a central crop of at
    most 1024² pixels, so that every chunk uses the same values. Each chunk is processed
    with a margin of three spacings (the reach of the detection filter and of the
    neighbour-aware Gaussian fit), and a column is kept by the chunk whose core holds its
    refined centre: with an explicit ``separation`` and ``threshold`` the columns equal
    those of the in-memory function (the dark-column inversion uses each chunk's own
    maximum, a constant offset every step of the method ignores), and so do their
    positions, except that the Gaussian fit takes its typical width, background and noise
    over each chunk's columns: where the chunks differ (a region 5x brighter than the
    rest) fitted positions can move by some hundredths of a pixel (0.22 px at most).

    Returns
    -------
    AtomsResult
        Positions and table as in memory, sorted by (row, column).
    """
    import dask


    arr = _as_float_dask(image, chunks, name="image")
    _check_atoms_params(arr.shape, separation, threshold, refine, dark)  # as in memory
    rows, cols = arr.shape
    side = 1024
    r0, c0 = max(0, rows // 2 - side // 2), max(0, cols // 2 - side // 2)
    scales = None
    # one intensity scale for every chunk: a power of two, from the central crop (read in
    # any case, also for the scales below), so every chunk sees the same normalised values.
    # Those of the image in memory where the crop holds its largest magnitude, else values
    # a power of two apart: an exact division, after which the same columns are found
    # (Gaussian fits within 1e-7 px, with a corner 5x brighter than the crop); the whole
    # image's scale would cost one more read of every chunk
    sample = np.asarray(_compute(arr[r0:r0 + side, c0:c0 + side], scheduler=scheduler)[0])
    exponent = _intensity_exponent(sample)
    if separation is None or threshold is None:
        sample = np.ldexp(sample, -exponent)
        if dark:
            sample = sample.max() - sample
        if separation is None:
            scales = _find_atoms_normalised(sample, None, None, None, False)
            separation = scales.separation
        if threshold is None:  # in image units, as a given one
            threshold = float(np.ldexp(_default_threshold(sample, separation), exponent))
    kwargs = {"separation": float(separation), "threshold": float(threshold),
              "refine": refine, "dark": dark}
    depth = int(np.ceil(3 * separation))
    row_edges = np.cumsum((0, *arr.chunks[0]))
    col_edges = np.cumsum((0, *arr.chunks[1]))
    tasks = []
    for i in range(len(row_edges) - 1):
        for j in range(len(col_edges) - 1):
            lo = (row_edges[i], col_edges[j])
            hi = (row_edges[i + 1], col_edges[j + 1])
            o = (max(0, lo[0] - depth), max(0, lo[1] - depth))
            block = arr[o[0]:min(rows, hi[0] + depth), o[1]:min(cols, hi[1] + depth)]
            tasks.append(dask.delayed(_atoms_in_block)(block, o, lo, hi, exponent, kwargs))
    parts = _compute(*tasks, scheduler=scheduler)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if len(table):
        table = table.sort_values(["row", "col"], ignore_index=True)
    positions = table[["row", "col"]].to_numpy() if len(table) else np.empty((0, 2))
    # the scales measured on the central crop, when it was measured
    measured = {} if scales is None else {"pair_distance": scales.pair_distance,
                                          "lattice_spacing": scales.lattice_spacing,
                                          "column_sigma": scales.column_sigma}
    return AtomsResult(positions=positions, table=table, separation=float(separation),
                       **measured)

