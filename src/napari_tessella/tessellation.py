"""Delaunay triangulation and Voronoi diagram of a set of points (the lattice).

Geometry comes from Qhull through :mod:`scipy.spatial`; the pixel Voronoi map comes from
the exact Euclidean distance transform (:func:`scipy.ndimage.distance_transform_edt`), as
in the original structural-model recipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import Delaunay, QhullError

from ._delaunay_flip import flip_update
from ._label_image import _nearest_label
from ._validation import (
    as_label_image,
    as_points,
    as_shape,
    finite_number,
    first_line,
    flag,
    reject_duplicates,
)
from ._voronoi_cells import bounded_voronoi

__all__ = ["LatticeResult", "lattice", "pixel_voronoi", "polygon_edges"]

_NEXT, _PREV = np.array([1, 2, 0]), np.array([2, 0, 1])  # a triangle's corners after m
#: The spread of points about their mean (largest coordinate) that is triangulated. Qhull
#: takes 1e-150 to 1e60 on a jittered grid (1e-200 and 1e80 fail in it), but below about
#: 1e-103 the circumcentres' products underflow and the cell areas drift (2.5 times off at
#: 1e-119, where 1e-120 was the floor); from 1e-100 up, scaling the points by a power of
#: two scales every result exactly (checked from 2e-104 on a jittered grid).
SPREAD_RANGE = (1e-100, 1e50)


@dataclass(frozen=True, repr=False)
class LatticeResult:
    """Delaunay triangulation and Voronoi diagram of points.

    Attributes
    ----------
    points : (N, 2) ndarray of float64
        The (row, column) lattice points.
    triangles : (K, 3) ndarray of int
        Delaunay triangles as indices into ``points``.
    edges : (E, 2) ndarray of int
        Unique Delaunay edges (bonds), each as a sorted index pair, rows sorted.
    edge_lengths : (E,) ndarray of float64
        Length of each edge, in pixels, or in the units of ``sampling`` when given.
    voronoi_polygons : sequence of (n_i, 2) ndarray
        Voronoi cell of each point, counter-clockwise in (row, column), always finite:
        clipped to the image bounds when ``shape`` is given, otherwise to the points'
        bounding box grown by half the median edge length. A read-only sequence whose
        polygons are made on first use (``list()`` it for a list): the areas and ridges
        do not need them, and at 100,000 points they take 0.15-0.2 s.
    cell_areas : (N,) ndarray of float64
        Area of each (clipped) Voronoi cell, in square pixels, or in the square units of
        ``sampling`` when given.
    voronoi_labels : (M, N) ndarray of int32 or None
        Pixel Voronoi map: pixel value ``i + 1`` means point ``i`` is the nearest (exact
        Euclidean distance, in physical units under ``sampling``). None when neither
        ``shape`` nor ``labels`` was given, or with ``pixel_map=False``. From a label
        image it holds that image's ids, in its dtype (ids above 2**31 survive).
    voronoi_ridges : (R, 2, 2) ndarray of float64
        Every side of the (clipped) Voronoi cells once, as (start, end) points in the
        coordinates of ``voronoi_polygons``: the ridge between two cells, or a side on the
        bounds. The same sides as ``polygon_edges(voronoi_polygons)``, read from the
        triangulation instead of matched between polygons.
    ridge_cells : (R, 2) ndarray of int64
        The two cells on either side of each ridge, the lower index first; -1 as the
        second for a side on the bounds. Rows in no particular order.
    """

    points: np.ndarray
    triangles: np.ndarray
    edges: np.ndarray
    edge_lengths: np.ndarray
    voronoi_polygons: list
    cell_areas: np.ndarray
    voronoi_labels: np.ndarray | None
    voronoi_ridges: np.ndarray | None = None
    ridge_cells: np.ndarray | None = None
    # the triangles' neighbours (Qhull's convention), for lattice(previous=...)
    _neighbours: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        shape = None if self.voronoi_labels is None else self.voronoi_labels.shape
        return (
            f"LatticeResult({len(self.points)} points, {len(self.triangles)} triangles, "
            f"{len(self.edges)} edges, voronoi_labels shape={shape})"
        )


def check_spread(spread: float, what: str) -> None:
    """``ValueError`` in one sentence when points spread ``spread`` units about their mean,
    outside :data:`SPREAD_RANGE` (``what``: the points, as the sentence names them)."""
    if not SPREAD_RANGE[0] <= spread <= SPREAD_RANGE[1]:
        raise ValueError(
            f"{what} spread {spread:.3g} units about their mean, beyond what can be "
            f"triangulated ({SPREAD_RANGE[0]:g} to {SPREAD_RANGE[1]:g}): give them in "
            "other units (e.g. pixels).")


def spread_about_mean(points: np.ndarray) -> float:
    """The largest distance along an axis of ``points`` from their mean, for
    :func:`check_spread`; for coordinates near the largest float (their sum overflows)
    measured on the points scaled down, and at most the largest float."""
    with np.errstate(over="ignore", invalid="ignore"):
        spread = float(np.abs(points - points.mean(axis=0)).max())
        if np.isfinite(spread):
            return spread
        top = float(np.abs(points).max())
        unit = points / top
        spread = float(np.abs(unit - unit.mean(axis=0)).max()) * top
    return min(spread, float(np.finfo(float).max))


def _delaunay(points: np.ndarray, what: str | None = None, shown=None) -> Delaunay:
    """Delaunay triangulation of ``points``; messages quote ``shown`` (default: points)."""
    shown = points if shown is None else shown
    spread = spread_about_mean(points)
    # first: the SVD below overflows on coordinates near 1e308 (a square called collinear)
    check_spread(spread, what or f"the {len(points)} points")  # Qhull's own error: 40 lines
    centred = points - points.mean(axis=0)
    # Collinear points have no triangulation; say so instead of showing Qhull's error.
    # The tolerance is relative: points 1e-10 apart (metres) span an area as well as pixels.
    if np.linalg.matrix_rank(centred, tol=1e-9 * spread) < 2:
        raise ValueError(
            f"{what or f'the {len(points)} points'} are collinear (all on one line): a "
            "lattice needs at least 3 points that span an area."
        )
    try:
        tri = Delaunay(centred)  # Qhull's precision is relative to the coordinates' size
    except QhullError as err:  # pragma: no cover - degenerate inputs Qhull still refuses
        raise ValueError("cannot triangulate these points: "
                         f"{first_line(err, 'Qhull failed')}") from None
    # Qhull leaves out points (nearly) on top of another one: every point must be a vertex
    used = np.zeros(len(points), dtype=bool)
    used[tri.simplices.ravel()] = True
    if not used.all():
        missing = np.flatnonzero(~used)
        raise ValueError(
            f"{missing.size} of {what or 'the points'} lie (almost) on top of other points "
            f"(e.g. point {int(missing[0])} at {tuple(float(v) for v in shown[missing[0]])}"
            "); merge or remove them: a lattice needs distinct points."
        )
    return tri


class _Triangulation:
    """What the Voronoi steps read of a :class:`scipy.spatial.Delaunay`, for a triangulation
    updated by edge flips: the triangles, their neighbours (-1 on the hull), the hull sides."""

    def __init__(self, simplices: np.ndarray, neighbors: np.ndarray):
        self.simplices, self.neighbors = simplices, neighbors
        t, m = np.nonzero(neighbors < 0)
        self.convex_hull = np.stack([simplices[t, (m + 1) % 3], simplices[t, (m + 2) % 3]],
                                    axis=1)


def _updated(phys: np.ndarray, previous, size) -> _Triangulation | None:
    """The Delaunay triangulation of ``phys`` from the one of ``previous`` (a LatticeResult
    of as many points, computed with the same pixel sizes ``size``), updated by edge flips
    and certified; None when it cannot be (the caller asks Qhull)."""
    if previous is None or len(previous.points) != len(phys):
        return None
    old = previous.points if size is None else previous.points * size
    out = flip_update(phys, previous.triangles, old, previous._neighbours)
    return None if out is None else _Triangulation(*out)


def _unique_edges(triangles: np.ndarray, neighbours: np.ndarray | None = None) -> np.ndarray:
    """Each side of the triangles once, as (i, j) with i < j, sorted. With the triangles'
    ``neighbours`` (-1 on the hull), each side is taken once from the start (from the lower
    numbered of its two triangles): half the keys to sort."""
    k = len(triangles)
    flat = np.ascontiguousarray(triangles, dtype=np.int64).reshape(-1)
    h = np.arange(3 * k)  # half-sides 3 t + m: the side of triangle t opposite corner m
    if neighbours is not None:  # shared with neighbours[t, m]: taken from the lower one
        h = np.flatnonzero(np.asarray(neighbours).reshape(-1) < np.repeat(np.arange(k), 3))
    m = h % 3
    a, b = flat[h - m + _NEXT[m]], flat[h - m + _PREV[m]]
    n = int(flat.max()) + 1 if len(flat) else 1
    return _unique_pairs(np.minimum(a, b) * n + np.maximum(a, b), n)


def _unique_pairs(keys: np.ndarray, n: int) -> np.ndarray:
    """(i, j) rows of the sorted unique keys i * n + j (a plain sort: faster than np.unique)."""
    keys = np.sort(keys)
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    return np.stack([keys // n, keys % n], axis=1)


def polygon_edges(polygons, *, return_cells: bool = False):
    """Unique sides of a set of polygons, e.g. the ridges of a Voronoi diagram.

    Parameters
    ----------
    polygons : list of (n_i, 2) ndarray
        Closed polygons (the last vertex connects back to the first).
    return_cells : bool, optional
        Also return which polygons each side belongs to.

    Returns
    -------
    sides : (R, 2, 2) ndarray of float64
        Each side once, as (start, end) points; a side shared by two cells appears once.
    cells : (R, 2) ndarray of int64
        Only with ``return_cells``: the index of the polygon each side comes from first,
        then of the other polygon sharing it (-1 for a side of one polygon only, such as
        a side on the image border).

    Examples
    --------
    >>> square = np.array([[0., 0.], [0., 1.], [1., 1.], [1., 0.]])
    >>> sides, cells = polygon_edges([square, square + [0, 1]], return_cells=True)
    >>> len(sides), cells[(cells[:, 1] >= 0)].tolist()
    (7, [[0, 1]])
    """
    if len(polygons) == 0:
        empty = np.empty((0, 2, 2))
        return (empty, np.empty((0, 2), dtype=np.int64)) if return_cells else empty
    sizes = np.array(list(map(len, polygons)), dtype=np.int64)
    verts = np.concatenate(polygons).astype(np.float64, copy=False)
    ends = np.cumsum(sizes)
    nxt = np.arange(len(verts)) + 1
    nxt[ends - 1] = ends - sizes
    # each end point as one integer: a grid of 1e-6 px (coarser only when the coordinates
    # span more than 2**31 grid steps; finer when they span less than a unit: cells in
    # metres), then as the index of its distinct point
    lo = verts.min(axis=0)
    span = float((verts.max(axis=0) - lo).max())
    step = max(1e-6 * min(1.0, span), span / (2**31 - 2)) or 1.0
    grid = np.round((verts - lo) / step).astype(np.int64)
    points, vertex = np.unique(grid[:, 0] << 31 | grid[:, 1], return_inverse=True)
    vertex = vertex.ravel()
    a, b = vertex, vertex[nxt]
    keep = a != b  # degenerate sides (repeated vertices)
    a, b = a[keep], b[keep]
    # a shared side appears twice, once from each cell: keep its first occurrence
    key = np.minimum(a, b) * np.int64(len(points)) + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    is_first = np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]])
    first = order[is_first]
    side = np.flatnonzero(keep)[first]
    start = np.where(a[first] <= b[first], side, nxt[side])
    stop = np.where(a[first] <= b[first], nxt[side], side)
    sides = np.stack([verts[start], verts[stop]], axis=1)
    if not return_cells:
        return sides
    owner = np.repeat(np.arange(len(polygons), dtype=np.int64), sizes)[keep][order]
    # the occurrence right after the first one in key order, when it is the same side
    at = np.flatnonzero(is_first)
    shared = np.zeros(len(at), dtype=bool)
    inside = at + 1 < len(order)
    shared[inside] = ~is_first[at[inside] + 1]
    other = np.full(len(at), -1, dtype=np.int64)
    other[shared] = owner[at[shared] + 1]
    return sides, np.stack([owner[at], other], axis=1)


def triangle_longest_edges(points, triangles) -> np.ndarray:
    """Length of the longest side of each triangle, in the points' units.

    Examples
    --------
    >>> triangle_longest_edges(np.array([[0, 0], [0, 3], [4, 0]]), np.array([[0, 1, 2]]))
    array([5.])
    """
    pts = np.asarray(points, dtype=np.float64)
    tri = pts[np.asarray(triangles, dtype=np.intp)].reshape(-1, 3, 2)
    sides = np.stack([np.hypot(*(tri[:, i] - tri[:, j]).T)
                      for i, j in ((0, 1), (1, 2), (0, 2))], axis=1)
    return sides.max(axis=1) if len(sides) else np.empty(0)


def neighbour_counts(edges, n_points: int) -> np.ndarray:
    """Number of Delaunay neighbours of each of ``n_points`` points, from the (K, 2) edges.

    Examples
    --------
    >>> neighbour_counts(np.array([[0, 1], [1, 2]]), 4).tolist()
    [1, 2, 1, 0]
    """
    edges = np.asarray(edges, dtype=np.intp).reshape(-1, 2)
    return np.bincount(edges.ravel(), minlength=int(n_points))


def as_sampling(sampling) -> tuple[float, float] | None:
    """Checked ``sampling`` (row size, column size), or None for isotropic pixels.

    A single number applies to both axes; (1, 1) gives None, the pixel-unit path, which
    skips the scaling.

    Examples
    --------
    >>> as_sampling((2, 1)), as_sampling(1.0), as_sampling(None)
    ((2.0, 1.0), None, None)
    """
    if sampling is None:
        return None
    values = np.ravel(np.asarray(sampling, dtype=object))
    if values.size == 1:
        values = np.repeat(values, 2)
    if values.size != 2:
        raise ValueError(f"sampling must be one number or (row size, column size), "
                         f"got {sampling!r}.")
    sizes = tuple(finite_number(v, "sampling", minimum=0, strict=True) for v in values)
    return None if sizes == (1.0, 1.0) else sizes


def pixel_voronoi(points, shape, *, sampling=None) -> np.ndarray:
    """Pixel Voronoi map of points from the exact Euclidean distance transform.

    Parameters
    ----------
    points : (N, 2) array_like
        (row, column) coordinates; rounded to the nearest pixel.
    shape : tuple of int
        (rows, columns) of the output.
    sampling : float or (float, float), optional
        Pixel size along rows and columns (as in :func:`scipy.ndimage.distance_transform_edt`):
        distances to the points are measured in these units. Default: square pixels.

    Returns
    -------
    (M, N) ndarray of int32
        Value ``i + 1`` where point ``i`` is the nearest. Points outside the image are
        ignored; of points that round to the same pixel, the last one wins.

    Raises
    ------
    ValueError, TypeError
        For points that are not (N, 2) finite numbers, a ``shape`` that is not two whole
        numbers >= 1, or no point inside the image.
    """
    pts = as_points(points)
    shape = as_shape(shape)
    sampling = as_sampling(sampling)
    if len(pts) >= np.iinfo(np.int32).max:
        raise ValueError(f"too many points ({len(pts)}) for an int32 Voronoi map.")
    with np.errstate(invalid="ignore"):
        idx = np.rint(np.clip(pts, -1, np.asarray(shape))).astype(np.int64)
    inside = np.all((idx >= 0) & (idx < np.asarray(shape)), axis=1)
    if not inside.any():
        raise ValueError(f"no point lies inside the image of shape {tuple(shape)}.")
    try:
        seeds = np.zeros(shape, dtype=np.int32)
        seeds[idx[inside, 0], idx[inside, 1]] = np.flatnonzero(inside).astype(np.int32) + 1
        return _nearest_label(seeds, sampling)
    except MemoryError:
        gib = shape[0] * shape[1] * 16 / 2**30  # the map, the distances and their indices
        raise ValueError(f"the pixel Voronoi map of shape {tuple(shape)} needs about "
                         f"{gib:.0f} GiB, more than this machine has: give a smaller shape "
                         "(or, in lattice, pixel_map=False).") from None


def lattice(points=None, shape=None, *, labels=None, pixel_map: bool = True,
            name: str | None = None, sampling=None,
            previous: LatticeResult | None = None) -> LatticeResult:
    """Delaunay triangulation and Voronoi diagram of lattice points.

    Parameters
    ----------
    points : (N, 2) array_like, optional
        (row, column) coordinates, e.g. the ``com_row``/``com_col`` columns of
        :func:`measure_objects`. Needed unless ``labels`` is given.
    shape : tuple of int, optional
        (rows, columns) of the image the points come from. Voronoi polygons are then
        clipped to the image, and ``voronoi_labels`` is computed.
    labels : (M, N) ndarray of int, optional
        A label image. Without ``points``, its objects' centroids are the points. The pixel
        Voronoi map is then the generalized Voronoi diagram of the *objects* (every pixel
        goes to the nearest object pixel), with the object's own label value.
    pixel_map : bool, optional
        Compute the pixel Voronoi map (default). False leaves ``voronoi_labels`` None and
        saves its cost (an exact distance transform of the whole image: 0.2 s for 5
        megapixels) when only the polygons, clipped to ``shape``, are needed.
    name : str, optional
        What the messages call the input (e.g. "the Points layer 'centres'"); by default
        "points", or "the label image" when the points are its objects' centres.
    sampling : float or (float, float), optional
        Pixel size along rows and columns (named as in
        :func:`scipy.ndimage.distance_transform_edt`), e.g. the absolute scale of a layer.
        The triangulation, the Voronoi cells and the pixel Voronoi map are then those of the
        physical positions (points scaled by ``sampling``), which differ from the pixel
        grid's when the pixels are not square; ``edge_lengths`` and ``cell_areas`` are in
        these units, while ``points`` and ``voronoi_polygons`` stay in pixel coordinates so
        that they overlay the image. Default: square pixels of size 1 (pixel units).
    previous : LatticeResult, optional
        The lattice of the same points before they moved a little (e.g. re-refined atom
        positions), computed with the same ``sampling``. Its triangulation is then updated
        by edge flips (about 0.1 s instead of Qhull's 0.6 s at 100,000 points) when the
        update can be certified to be the Delaunay triangulation of the new points; Qhull
        runs otherwise (points on a common circle, as on a perfect grid, or moved far). The
        result is the same either way, but for the order of ``triangles`` (each counter-
        clockwise in (row, column) after an update) and of ``voronoi_ridges``.

    Returns
    -------
    LatticeResult
        Triangles, unique edges and their lengths, finite Voronoi polygons and their
        areas, and the pixel Voronoi map when an image shape is known.

    Raises
    ------
    ValueError
        Fewer than 3 points, collinear points, duplicate points (exact or so close that
        Qhull merges them: they are refused, not merged, so that every result stays
        index-aligned with the points given), points outside ``shape``, or a shape that
        does not match ``labels``.

    Examples
    --------
    >>> from napari_tessella import lattice
    >>> result = lattice([[0, 0], [0, 10], [10, 0], [10, 10]], shape=(11, 11))
    >>> result.triangles.shape, result.edges.shape
    ((2, 3), (5, 2))
    """
    lab = None
    pixel_map = flag(pixel_map, "pixel_map")
    if previous is not None and not isinstance(previous, LatticeResult):
        raise TypeError(f"previous must be the LatticeResult of an earlier call, or None; got "
                        f"{type(previous).__name__}.")
    sampling = as_sampling(sampling)
    if shape is not None:
        shape = as_shape(shape)
    if labels is not None:
        lab = as_label_image(labels)
        if shape is not None and shape != lab.shape:
            raise ValueError(f"shape {shape} does not match labels shape {lab.shape}.")
        shape = lab.shape
    if points is None:
        if lab is None:
            raise ValueError("give points, or a label image whose objects are the points.")
        ids = np.unique(lab)
        ids = ids[ids != 0]
        source = name or "the label image"
        if ids.size < 3:
            raise ValueError(f"{source} has {ids.size} object(s); a lattice needs at least 3.")
        points = np.array(ndi.center_of_mass(np.ones(lab.shape), lab, ids))
        what = f"the centres of the {ids.size} objects of {source}"
    else:
        source = name or "points"
        what = None
        given = getattr(points, "dtype", None)
        if (lab is None and given is not None and given.kind in "iu" and np.ndim(points) == 2
                and np.shape(points)[1] > 5):  # napari's points have at most T, Z, C, Y, X
            raise ValueError(
                f"{source} must be (N, 2) (row, column) coordinates; got an integer array of "
                f"shape {np.shape(points)}, which looks like a label image: pass it as "
                "lattice(labels=...) to use its objects' centres.")
    # with a previous lattice, duplicates are looked for only if the update cannot be
    # certified: a certified triangulation uses every point as a corner of triangles that
    # cover each place once, which two points at one place cannot be (0.03 s saved)
    defer = previous is not None
    pts = as_points(points, name=source, min_points=3, duplicates=defer)
    if what is None:
        what = f"the {len(pts)} points" + (f" of {name}" if name else "")
    if shape is not None:
        lo = np.array([-0.5, -0.5])
        hi = np.array(shape, dtype=np.float64) - 0.5
        outside = ~np.all((pts >= lo) & (pts <= hi), axis=1)
        if outside.any():
            if defer:  # the error a fresh lattice gives first
                reject_duplicates(pts, source)
            raise ValueError(
                f"{int(outside.sum())} of {what} lie outside the image of shape "
                f"{shape}; remove them or give the right shape."
            )

    # anisotropic pixels: the geometry of the physical positions, back in pixels at the end
    size = None if sampling is None else np.array(sampling)
    phys = pts if size is None else pts * size
    if size is not None and shape is not None:
        lo, hi = lo * size, hi * size
    tri = _updated(phys, previous, size)
    if tri is None:
        if defer:
            reject_duplicates(pts, source)
        tri = _delaunay(phys, what, shown=pts)
    triangles = tri.simplices.astype(np.int64)
    edges = _unique_edges(triangles, tri.neighbors)
    rows, cols = np.ascontiguousarray(phys[:, 0]), np.ascontiguousarray(phys[:, 1])
    start, end = np.ascontiguousarray(edges[:, 0]), np.ascontiguousarray(edges[:, 1])
    edge_lengths = np.hypot(rows[start] - rows[end], cols[start] - cols[end])  # 1-D: faster

    origin = None
    if shape is None:
        # points anywhere (stage coordinates): the cells computed about the points' mean
        # and moved back, or 5 units at 1e10 lose their area to rounding
        origin = phys.mean(axis=0)
        pad = 0.5 * float(np.median(edge_lengths))
        lo, hi = phys.min(axis=0) - pad - origin, phys.max(axis=0) + pad - origin
    polygons, areas, ridges, ridge_cells = bounded_voronoi(
        phys if origin is None else phys - origin, tri, lo, hi, size, origin)

    vlabels = None
    if pixel_map and lab is not None:
        # the label image's own ids and dtype (int64 too)
        vlabels = _nearest_label(lab, sampling)
    elif pixel_map and shape is not None:
        vlabels = pixel_voronoi(pts, shape, sampling=sampling)
    return LatticeResult(
        points=pts,
        triangles=triangles,
        edges=edges,
        edge_lengths=edge_lengths,
        voronoi_polygons=polygons,
        cell_areas=areas,
        voronoi_labels=vlabels,
        voronoi_ridges=ridges,
        ridge_cells=ridge_cells,
        _neighbours=tri.neighbors,
    )
