"""Measurements on a lattice of points: neighbours, bonds, basis vectors, cells, sublattices.

All functions take (row, column) points in pixels (multiply lengths by the pixel size for
physical units) and are vectorised over points: no Python loop over atoms or pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

from ._validation import as_float_image, as_label_image, as_points, finite_number, whole_number
from .tessellation import check_spread, lattice, spread_about_mean

__all__ = [
    "StructuralModel",
    "basis_vectors",
    "bonds",
    "coordination_numbers",
    "find_dumbbells",
    "lattice_table",
    "nearest_neighbor_distances",
    "split_sublattices",
    "structural_model",
    "voronoi_cell_intensity",
]


def nearest_neighbor_distances(points, k: int = 1) -> np.ndarray:
    """Distance from each point to its k nearest neighbours.

    Parameters
    ----------
    points : (N, 2) array_like
        (row, column) coordinates.
    k : int
        Number of neighbours, a whole number from 1 to N - 1.

    Raises
    ------
    ValueError, TypeError
        Fewer than 3 points, duplicate points (a distance of 0 is no neighbour distance),
        or a bad ``k``.

    Returns
    -------
    (N, k) ndarray of float64
        Sorted distances (column 0 is the nearest neighbour).

    Examples
    --------
    >>> nearest_neighbor_distances([[0, 0], [0, 3], [4, 0]])[:, 0].tolist()
    [3.0, 3.0, 4.0]
    """
    pts = as_points(points)
    k = whole_number(k, "k", minimum=1, maximum=max(1, len(pts) - 1))
    pts = as_points(pts, min_points=max(3, k + 1), duplicates=False)
    d, _ = cKDTree(pts).query(pts, k=k + 1)
    _check_separated(pts, d[:, 1])
    return d[:, 1:].reshape(len(pts), k)


def _check_separated(pts, nearest):
    """Points whose distance is 0 in float64 (e.g. 1e-200 apart) are duplicates too."""
    if not np.all(nearest > 0):
        i = int(np.argmin(nearest))
        raise ValueError(
            f"points has {int((nearest <= 0).sum())} point(s) at distance 0 from another "
            f"(e.g. point {i} at {tuple(float(v) for v in pts[i])}); merge or remove them.")


def _first_shell(points, tolerance, min_points):
    """Checked points, their KD-tree and the first-shell radius ``(1 + tolerance)`` times
    the median nearest-neighbour distance. Duplicate points are refused (their distance
    0 would make the shell empty and give bonds of length 0)."""
    tolerance = finite_number(tolerance, "tolerance", minimum=0, maximum=10)
    pts = as_points(points, min_points=min_points, duplicates=False)
    # (a shell's squared radius about points 1e300 from the rest overflows in the tree)
    check_spread(spread_about_mean(pts), f"the {len(pts)} points")
    tree = cKDTree(pts)
    d, _ = tree.query(pts, k=2)
    _check_separated(pts, d[:, 1])
    return pts, tree, (1 + tolerance) * float(np.median(d[:, 1]))


def coordination_numbers(points, *, tolerance: float = 0.25) -> np.ndarray:
    """Number of neighbours in each point's first shell.

    The shell is every neighbour closer than ``(1 + tolerance)`` times the median
    nearest-neighbour distance of the whole lattice, so a point at a vacancy or an edge
    has a lower number than the bulk (4 in a square lattice, 6 in a hexagonal one).
    """
    pts, tree, shell = _first_shell(points, tolerance, 2)
    counts = tree.query_ball_point(pts, r=shell, return_length=True)
    return np.asarray(counts) - 1


def basis_vectors(points, *, tolerance: float = 0.25) -> np.ndarray:
    """Two primitive lattice vectors from the nearest-neighbour vectors.

    Every vector from a point to a neighbour in its first shell is folded into a half
    plane (v and -v are the same bond) and the folded vectors are clustered by angle; the
    mean of the most populated direction is the first basis vector, the mean of the most
    populated direction at least 30° away from it the second.

    Returns
    -------
    (2, 2) ndarray of float64
        Rows are the basis vectors (d_row, d_col) in pixels.

    Raises
    ------
    ValueError
        With fewer than 3 points or when the neighbours point in a single direction.
    """
    pts, tree, shell = _first_shell(points, tolerance, 3)
    pairs = tree.query_pairs(shell, output_type="ndarray")
    v = pts[pairs[:, 1]] - pts[pairs[:, 0]]
    flip = (v[:, 1] < 0) | ((v[:, 1] == 0) & (v[:, 0] < 0))
    v[flip] *= -1
    angle = np.degrees(np.arctan2(v[:, 0], v[:, 1]))  # in (-90, 90]
    hist, edges = np.histogram(angle, bins=180, range=(-90, 90))
    smooth = ndi.convolve1d(hist.astype(float), np.ones(5), mode="wrap")
    first = int(np.argmax(smooth))
    centres = (edges[:-1] + edges[1:]) / 2

    def mean_near(a0):
        diff = (angle - a0 + 90) % 180 - 90
        sel = v[np.abs(diff) < 10]
        # near ±90° the folding can leave v and -v both in the cluster: orient them alike
        u = np.array([np.sin(np.radians(a0)), np.cos(np.radians(a0))])
        sel = np.where((sel @ u < 0)[:, None], -sel, sel)
        return sel.mean(axis=0)

    a1 = centres[first]
    sep = np.abs((centres - a1 + 90) % 180 - 90)
    masked = np.where(sep >= 30, smooth, -1)
    if masked.max() <= 0:
        raise ValueError("all neighbours lie along one direction: not a 2-D lattice.")
    a2 = centres[int(np.argmax(masked))]
    return np.array([mean_near(a1), mean_near(a2)])


def basis_summary(points, *, tolerance: float = 0.25) -> tuple[float, float, float]:
    """Lengths of the two basis vectors and the angle between them, in degrees (0-90).

    Raises ValueError where :func:`basis_vectors` does (too few points, all in a row).
    """
    basis = basis_vectors(points, tolerance=tolerance)
    lengths = np.hypot(basis[:, 0], basis[:, 1])
    cos = abs(basis[0] @ basis[1]) / (lengths[0] * lengths[1])
    return float(lengths[0]), float(lengths[1]), float(np.degrees(np.arccos(min(cos, 1.0))))


def bonds(points, *, tolerance: float = 0.25) -> pd.DataFrame:
    """First-shell bonds with their lengths and angles.

    A bond joins two points closer than ``(1 + tolerance)`` times the median
    nearest-neighbour distance.

    Returns
    -------
    pandas.DataFrame
        Columns ``start``, ``end`` (point indices), ``length`` (pixels) and ``angle``
        (degrees in (-90, 90], measured from the column axis towards increasing rows; a
        bond and its reverse have the same angle).
    """
    pts, tree, shell = _first_shell(points, tolerance, 3)
    pairs = tree.query_pairs(shell, output_type="ndarray")
    v = pts[pairs[:, 1]] - pts[pairs[:, 0]]
    angle = np.degrees(np.arctan2(v[:, 0], v[:, 1]))
    angle = (angle + 90) % 180 - 90
    angle[angle == -90] = 90
    return pd.DataFrame({"start": pairs[:, 0], "end": pairs[:, 1],
                         "length": np.hypot(v[:, 0], v[:, 1]), "angle": angle})


def _close_pairs(points, ratio: float = 0.75):
    """Mutual nearest neighbours much closer than either one's next neighbour.

    Returns (K, 2) indices, the K pair distances and, for each pair, the smaller of the
    two columns' distances to their nearest column outside the pair.
    """
    pts = np.asarray(points, dtype=np.float64)
    d, idx = cKDTree(pts).query(pts, k=3)
    nn, d1, d2 = idx[:, 1], d[:, 1], d[:, 2]
    i = np.arange(len(pts))
    mutual = (nn[nn] == i) & (i < nn)
    close = mutual & (d1 <= ratio * d2) & (d1[nn] <= ratio * d2[nn])
    a = np.flatnonzero(close)
    b = nn[a]
    return np.column_stack([a, b]), d1[a], np.minimum(d2[a], d2[b])


def find_dumbbells(points, intensities=None, *, ratio: float = 0.75,
                   sampling=None) -> pd.DataFrame:
    """Find dumbbells (close column pairs) and measure their centre, length and polarity.

    A dumbbell is two columns that are each other's nearest neighbour and lie closer
    than ``ratio`` times the distance from either one to its next neighbour, as the
    cation-anion pairs of a zinc-blende crystal seen along [110]. In a lattice of one
    spacing (square, hexagonal, honeycomb) no pair qualifies.

    Parameters
    ----------
    points : (N, 2) array_like
        (row, column) of the columns, e.g. ``find_atoms(...).positions``.
    intensities : (N,) array_like, optional
        A brightness per column (``amplitude`` or ``intensity`` of the atoms table).
        With it, each dumbbell is oriented from its brighter to its dimmer column (its
        polarity); without it, only the axis is known.
    ratio : float
        Largest pair distance, as a fraction of the distance to the next neighbour.
    sampling : float or (2,) array_like, optional
        The (row, column) size of a pixel. With it, the pairs are found among the columns
        as they lie in the sample (pixels that are not square: a column's neighbours along
        the pixels' short side are not taken for its partner), ``separation`` is in its
        units and ``orientation`` the angle in the sample; ``row``, ``col``, ``d_row`` and
        ``d_col`` stay in pixels, to be drawn on the image (the Find atoms widget's pairs).

    Returns
    -------
    pandas.DataFrame
        One row per dumbbell: ``row``, ``col`` (centre), ``separation`` (pixels),
        ``orientation`` (degrees counter-clockwise from the column axis as the image is
        shown, rows down: in [0, 360) from the brighter to the dimmer column when
        ``intensities`` are given, else the axis in [0, 180)), ``d_row``, ``d_col`` (the
        vector between the columns, oriented the same way), ``first``, ``second`` (indices
        of the columns: brighter first), and with intensities ``intensity_ratio``
        (dimmer / brighter) and ``polarity`` ((brighter - dimmer) / (brighter + dimmer)).

    Raises
    ------
    ValueError, TypeError
        Fewer than 3 points, duplicate points, a ``ratio`` outside (0, 1], or
        intensities that are not one finite value per point.

    Examples
    --------
    >>> table = find_dumbbells([[0, 0], [0, 3], [10, 0], [10, 3], [20, 0], [20, 3]],
    ...                        intensities=[1, 0.5, 1, 0.5, 1, 0.5])
    >>> table[["separation", "orientation", "intensity_ratio"]].iloc[0].tolist()
    [3.0, 0.0, 0.5]
    """
    pts = as_points(points, min_points=3, duplicates=False)
    ratio = finite_number(ratio, "ratio", minimum=0, strict=True, maximum=1)
    size = None if sampling is None else _pixel_sizes(sampling)
    if size is not None:
        pts = pts * size
    inten = None
    if intensities is not None:
        inten = np.asarray(intensities, dtype=np.float64).ravel()
        if inten.shape != (len(pts),):
            raise ValueError(f"intensities must have one value per point ({len(pts)}); "
                             f"got shape {np.shape(intensities)}.")
        if not np.isfinite(inten).all():
            raise ValueError("intensities contains NaN or infinite values.")
    d, _ = cKDTree(pts).query(pts, k=2)
    _check_separated(pts, d[:, 1])
    pairs, dist, _ = _close_pairs(pts, ratio)
    a, b = pairs[:, 0], pairs[:, 1]
    if inten is not None:  # brighter first
        swap = inten[b] > inten[a]
        a, b = np.where(swap, b, a), np.where(swap, a, b)
    vec = pts[b] - pts[a]
    # counter-clockwise from the column axis with rows pointing down
    angle = np.degrees(np.arctan2(-vec[:, 0], vec[:, 1]))
    if inten is None:  # an axis only: fold to [0, 180) and orient the vector alike
        flip = (angle < 0) | (angle >= 180)
        vec[flip] *= -1
        a, b = np.where(flip, b, a), np.where(flip, a, b)
        angle = np.mod(angle, 180.0)
    else:
        angle = np.mod(angle, 360.0)
    centre = (pts[a] + pts[b]) / 2
    table = pd.DataFrame({
        "row": centre[:, 0], "col": centre[:, 1], "separation": dist,
        "orientation": angle, "d_row": vec[:, 0], "d_col": vec[:, 1],
        "first": a, "second": b,
    })
    if inten is not None:
        hi, lo = inten[a], inten[b]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["intensity_ratio"] = lo / hi
            table["polarity"] = (hi - lo) / (hi + lo)
    if size is not None:  # the centres and vectors back on the pixel grid
        for axis, names in enumerate((("row", "d_row"), ("col", "d_col"))):
            for name in names:
                table[name] = table[name] / size[axis]
    return table


def _pixel_sizes(sampling) -> np.ndarray:
    """``sampling`` (one size, or a pixel's (row, column) sizes) as two positive finite
    sizes, float64."""
    return np.array([finite_number(size, "sampling", minimum=0, strict=True)
                     for size in np.broadcast_to(np.asarray(sampling, dtype=float), (2,))],
                    dtype=np.float64)


def voronoi_cell_intensity(image, voronoi_labels) -> np.ndarray:
    """Integrated image intensity of every Voronoi cell, in one pass over the pixels.

    Parameters
    ----------
    image : (M, N) ndarray
        Intensity image.
    voronoi_labels : (M, N) ndarray of int
        Pixel Voronoi map, value ``i + 1`` for the cell of point ``i`` (as made by
        :func:`napari_tessella.lattice`).

    Returns
    -------
    (K,) ndarray of float64
        Sum of the image over cell ``i + 1`` at index ``i``; K is the largest label.
    """
    img = as_float_image(image, allow_constant=True)
    lab = as_label_image(voronoi_labels)
    if lab.shape != img.shape:
        raise ValueError(f"image {img.shape} and voronoi_labels {lab.shape} differ in shape.")
    n = int(lab.max())
    return np.bincount(lab.ravel(), weights=img.ravel().astype(np.float64), minlength=n + 1)[1:]


def split_sublattices(values, n: int = 2) -> np.ndarray:
    """Assign each point to a sublattice by a 1-D intensity value (e.g. cell intensity).

    Two sublattices are split by an exact 1-D Otsu cut (the split of the sorted values
    with the largest between-class variance, with no histogram binning, so few values
    are split exactly); more with multi-Otsu thresholds. Sublattice 0 is the brightest.

    ``n`` is a whole number from 2 to 5; at least ``n`` values are needed, and NaN or
    infinite values raise ``ValueError``. Values with at most ``n`` distinct values give
    one sublattice per distinct value: fewer than ``n`` sublattices when there are fewer
    (values all equal: all in sublattice 0; ``labels.max() + 1`` says how many).

    Returns
    -------
    (N,) ndarray of int
    """
    n = whole_number(n, "n (number of sublattices)", minimum=2, maximum=5)
    try:
        vals = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("values must be a 1-D array of numbers.") from None
    if vals.ndim != 1 or len(vals) < n:
        raise ValueError(f"need a 1-D array of at least {n} values; got shape {vals.shape}.")
    if not np.isfinite(vals).all():
        raise ValueError(f"values contain {int((~np.isfinite(vals)).sum())} NaN or infinite "
                         "value(s).")
    top = float(np.abs(vals).max()) if vals.size else 0.0
    if top > 0:  # scale-invariant, and safe from overflow (1e300) or underflow (1e-300)
        vals = vals / top
    levels, rank = np.unique(vals, return_inverse=True)
    if len(levels) <= n:  # each distinct value its own sublattice (one if all are equal)
        return (len(levels) - 1 - rank.ravel()).astype(np.int64)
    if n == 2:
        v = np.sort(vals)
        k = np.arange(1, len(v))  # size of the lower class for each cut
        csum = np.cumsum(v)[:-1]
        m_lo, m_hi = csum / k, (v.sum() - csum) / (len(v) - k)
        score = k * (len(v) - k) * (m_hi - m_lo) ** 2
        score[v[1:] == v[:-1]] = -1  # a cut must fall between different values
        i = int(np.argmax(score))
        cut = (v[i] + v[i + 1]) / 2
        return np.where(vals > cut, 0, 1)
    from skimage.filters import threshold_multiotsu

    lo, span = vals.min(), np.ptp(vals)
    try:
        cuts = [lo + c * span for c in threshold_multiotsu((vals - lo) / span, classes=n)]
    except ValueError as err:
        raise ValueError(f"cannot split these values into {n} sublattices: {err}") from None
    return (n - 1) - np.digitize(vals, cuts)


def lattice_table(points, image=None, *, voronoi_labels=None, tolerance: float = 0.25,
                  sampling=None):
    """Per-point lattice features, ready to be a napari Points layer's ``features``.

    Columns: ``nn_distance`` (to the nearest neighbour), ``coordination`` (first-shell
    neighbours) and, with an image and a pixel Voronoi map, ``cell_area`` (pixels),
    ``cell_intensity`` and ``sublattice`` (exact Otsu split of the cell intensity;
    0 = brighter). Lengths are in pixels: multiply by the pixel size for physical units.
    With ``sampling``, the (row, column) size of a pixel, the neighbours are measured in
    its units instead (pixels that are not square: the rows' and columns' spacings then
    count as they are in the sample, not as they are on the pixel grid).
    """
    if sampling is not None:
        points = as_points(points) * _pixel_sizes(sampling)
    # one check and one KD-tree for both columns (the public functions each make their own)
    pts, tree, shell = _first_shell(points, tolerance, 3)
    nearest, _ = tree.query(pts, k=2)
    table = pd.DataFrame({
        "nn_distance": nearest[:, 1],
        "coordination": np.asarray(tree.query_ball_point(pts, r=shell, return_length=True)) - 1,
    })
    if image is not None and voronoi_labels is not None:
        cells = voronoi_cell_intensity(image, voronoi_labels)
        cells = np.pad(cells, (0, max(0, len(pts) - len(cells))))[: len(pts)]
        lab = as_label_image(voronoi_labels)
        area = np.bincount(lab.ravel(), minlength=len(pts) + 1)[1:len(pts) + 1]
        table["cell_area"] = area.astype(np.float64)
        table["cell_intensity"] = cells
        table["sublattice"] = split_sublattices(cells)
    return table


@dataclass(frozen=True, repr=False)
class StructuralModel:
    """Atoms and channels ("chambers") in one model.

    Attributes
    ----------
    points : (N, 2) ndarray of float64
        Atoms first, then chambers.
    kind : (N,) ndarray of str
        ``"atom"`` or ``"chamber"`` per point.
    voronoi_labels : (M, N) ndarray of int32
        Merged pixel Voronoi map of all points (value ``i + 1`` for point ``i``): each pixel
        belongs to the nearest atom or chamber.
    bonds : (E, 2) ndarray of int
        Delaunay edges of the merged points that join an atom to a chamber.
    """

    points: np.ndarray
    kind: np.ndarray
    voronoi_labels: np.ndarray
    bonds: np.ndarray

    def __repr__(self) -> str:
        n_atoms = int((self.kind == "atom").sum())
        return (f"StructuralModel({n_atoms} atoms, {len(self.kind) - n_atoms} chambers, "
                f"{len(self.bonds)} atom-chamber bonds)")


def structural_model(atoms, chambers, shape) -> StructuralModel:
    """Merge the lattices of atoms and of chambers into one structural model.

    Parameters
    ----------
    atoms, chambers : (N, 2) and (K, 2) array_like
        (row, column) of atom columns (bright) and of channels (dark), found separately
        (e.g. :func:`napari_tessella.find_atoms` with ``dark=False`` and ``dark=True``).
    shape : tuple of int
        Image shape.
    """

    a = as_points(atoms, name="atoms", duplicates=False)
    c = as_points(chambers, name="chambers", duplicates=False)
    pts = np.concatenate([a, c])
    as_points(pts, name="atoms and chambers together", duplicates=False)
    kind = np.array(["atom"] * len(a) + ["chamber"] * len(c))
    result = lattice(pts, shape)
    e = result.edges
    mixed = (e[:, 0] < len(a)) != (e[:, 1] < len(a))
    return StructuralModel(points=pts, kind=kind, voronoi_labels=result.voronoi_labels,
                           bonds=e[mixed])
