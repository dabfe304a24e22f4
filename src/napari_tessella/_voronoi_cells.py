"""The Voronoi cells clipped to a box, from a Delaunay triangulation: their areas and sides
(ridges), and the cells as polygons, made only when asked for.

The lattice's outputs need the cells' areas and sides (ridges), which come from the
triangulation directly; the cells as polygons (every vertex ordered around its point: a sort
of some 700,000 vertices at 100,000 points, 0.15-0.2 s) only the Shapes output, the cell sides
drawn per cell, and callers who read ``voronoi_polygons``. :class:`LazyCells` makes them on
first use and keeps them.

No napari, no Qt: a core module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import Voronoi

if TYPE_CHECKING:
    from scipy.spatial import Delaunay

__all__ = ["LazyCells", "bounded_voronoi", "cell_polygons"]

_NEXT, _PREV = np.array([1, 2, 0]), np.array([2, 0, 1])  # a triangle's corners after m


class LazyCells(Sequence):
    """A read-only list of the ``n`` cells, each an (n_i, 2) array, made by ``make()`` on
    first use (from any thread, once)."""

    def __init__(self, n: int, make: Callable[[], list]):
        self._n, self._make, self._cells = n, make, None
        self._lock = threading.Lock()

    def _get(self) -> list:
        if self._cells is None:
            with self._lock:
                if self._cells is None:
                    self._cells = self._make()
                    self._make = None
        return self._cells

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        return self._get()[index]

    def __iter__(self):
        return iter(self._get())

    def __repr__(self) -> str:
        state = "made" if self._cells is not None else "not made yet"
        return f"<{self._n} Voronoi cells, {state}>"

    def __reduce__(self):  # pickled (and deep-copied) as the cells made: a lock cannot be
        return (_made, (self._get(),))


def _made(cells: list) -> LazyCells:
    lazy = LazyCells(len(cells), list)
    lazy._cells = cells
    return lazy


def cell_polygons(points, owner, verts, lo, hi, tol, size=None, origin=None) -> list:
    """Each point's cell from its vertices (``verts[i]`` a vertex of cell ``owner[i]``, in
    any order, repeats allowed): counter-clockwise around the point, repeats within ``tol``
    merged, clipped to [lo, hi]; then moved by ``origin`` and divided by ``size``."""
    n = len(points)
    # order each cell's vertices by angle around its own (interior) generator point: one
    # sort of owner + angle in [0, 7) (a lexsort of the two is several times slower; the
    # key resolves angles to ~1e-10 rad, and only repeated vertices come closer)
    d = verts - points[owner]
    angle = np.arctan2(d[:, 0], d[:, 1]) + np.pi
    order = np.argsort(owner * 8.0 + angle)
    owner, verts = owner[order], verts[order]
    # cocircular points (a perfect grid) give the same circumcentre twice: keep it once
    keep = np.ones(len(verts), dtype=bool)
    keep[1:] = ((owner[1:] != owner[:-1]) | (np.abs(verts[1:, 0] - verts[:-1, 0]) > tol)
                | (np.abs(verts[1:, 1] - verts[:-1, 1]) > tol))
    owner, verts = owner[keep], np.clip(verts[keep], lo, hi)
    ends = np.cumsum(np.bincount(owner, minlength=n))
    starts = np.r_[0, ends[:-1]]
    if origin is not None:
        verts = verts + origin
    if size is not None:
        verts = verts / size
    return [verts[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _circumcentres(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    # gathered from 1-D coordinate columns (faster than rows of (N, 2) points); the same
    # operations on the same numbers as on rows, so the same bits
    x, y = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    i, j, k = (np.ascontiguousarray(triangles[:, m]) for m in range(3))
    ax, ay = x[i], y[i]
    bx, by, cx, cy = x[j] - ax, y[j] - ay, x[k] - ax, y[k] - ay
    d = 2 * (bx * cy - by * cx)
    bb, cc = bx * bx + by * by, cx * cx + cy * cy
    out = np.empty((len(triangles), 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 0] = ax + (cy * bb - by * cc) / d
        out[:, 1] = ay + (bx * cc - cx * bb) / d
    return out


def bounded_voronoi(points: np.ndarray, tri: Delaunay, lo: np.ndarray, hi: np.ndarray,
                     size: np.ndarray | None = None, origin: np.ndarray | None = None):
    """Voronoi cells clipped to the box [lo, hi], and their areas.

    With ``size`` (pixel sizes), the points and the box are physical: the areas are
    physical and the cells are given back divided by ``size``, in pixel coordinates. With
    ``origin``, the points and the box were moved by ``-origin``: the cells are moved back.

    Most cells come straight from the Delaunay triangulation already computed: the cell of
    a point is the polygon of the circumcentres of its triangles. That holds for every point
    whose cell stays inside the box. The others — convex-hull points (unbounded cells) and
    corners of triangles whose circumcentre lies outside the box — are closed by mirroring
    them across the box sides: for x and q inside the box, the mirror image q' of q is never
    closer to x than q is, so mirrors never cut into the in-box part of any cell and close
    the cells that reach a side exactly along it. Their cells come from a Voronoi diagram
    (Qhull) of those points, their Delaunay neighbours and the mirrors only: a cell depends
    on its neighbours alone, and adding mirrors can only take neighbours away.
    """
    n = len(points)
    # Points exactly on the box would mirror onto themselves: mirror about a box a hair
    # larger, then clip the vertices back onto the box itself.
    eps = 1e-6 * float(np.max(hi - lo))
    simplices = tri.simplices
    centres = _circumcentres(points, simplices)
    outside = ~np.all((centres >= lo) & (centres <= hi), axis=1)
    leaving = np.zeros(n, dtype=bool)
    leaving[tri.convex_hull.ravel()] = True
    leaving[simplices[outside].ravel()] = True

    # cells that leave the box: Voronoi of them, their neighbours and their mirrors
    near = np.flatnonzero(leaving)
    # their Delaunay neighbours: the corners of their triangles (cheaper than asking
    # Qhull's triangulation for vertex_neighbor_vertices)
    sel = np.zeros(n, dtype=bool)
    sel[simplices[leaving[simplices].any(axis=1)].ravel()] = True
    subset = np.flatnonzero(sel)
    mirrored = [points[subset]]
    crossing = _sides_crossed(points, tri, centres, lo, hi)
    for side, (axis, bound) in enumerate(((0, lo[0] - eps), (0, hi[0] + eps),
                                          (1, lo[1] - eps), (1, hi[1] + eps))):
        m = points[near[crossing[near, side]]]
        m[:, axis] = 2 * bound - m[:, axis]
        mirrored.append(m)
    vor = Voronoi(np.concatenate(mirrored))

    def polygons():  # made when first read
        # inner cells: each triangle gives its circumcentre to its three corners
        owner_in = simplices.ravel()
        inner = ~leaving[owner_in]
        verts_in = np.repeat(centres, 3, axis=0)[inner]
        # cells that leave the box: their regions of the mirrored Voronoi diagram
        region_ids = vor.point_region[np.searchsorted(subset, near)]
        sizes = np.fromiter((len(vor.regions[r]) for r in region_ids), dtype=np.int64,
                            count=len(near))
        flat = np.fromiter((v for r in region_ids for v in vor.regions[r]), dtype=np.int64,
                           count=int(sizes.sum()))
        owner = np.concatenate([owner_in[inner], np.repeat(near, sizes)])
        verts = np.concatenate([verts_in, vor.vertices[flat]])
        return cell_polygons(points, owner, verts, lo, hi, tol, size, origin)

    # relative to the box: cells 1e-10 apart (metres) lost their short sides to 1e-9
    tol = 1e-9 * float(np.max(np.abs(hi - lo)))
    ridges, cells = _ridges(tri, centres, leaving, vor, subset, lo, hi, tol)
    # each cell's area: the triangles between its point and its sides (a cell is convex
    # and holds its point), summed over the ridges, the polygons not needed
    areas = np.zeros(n)
    x, y = np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])
    s0, s1, e0, e1 = (np.ascontiguousarray(ridges[:, end, axis]) for end in (0, 1)
                      for axis in (0, 1))
    for side in (0, 1):
        own = cells[:, side]
        real = own >= 0
        past = not real.all()  # -1: no cell past the bounds
        if past:
            own = np.where(real, own, 0)
        ox, oy = x[own], y[own]
        twice = np.abs((s0 - ox) * (e1 - oy) - (s1 - oy) * (e0 - ox))
        if past:
            twice[~real] = 0
        areas += np.bincount(own, twice, minlength=n)
    areas /= 2
    if origin is not None:
        ridges = ridges + origin
    if size is not None:
        ridges = ridges / size
    return LazyCells(n, polygons), areas, ridges, cells


def _sides_crossed(points, tri, centres, lo, hi) -> np.ndarray:
    """(N, 4) whether each point's Voronoi cell reaches past each side of the box [lo, hi]
    (row low, row high, column low, column high), or may: only those need the point's
    mirror across that side in :func:`bounded_voronoi` (a cell is the hull of its
    vertices, the circumcentres of its triangles, plus, for a point on the convex hull,
    the directions between the outward normals of its two hull sides)."""
    simplices = tri.simplices
    crossing = np.zeros((len(points), 4), dtype=bool)
    for side, past in enumerate((centres[:, 0] < lo[0], centres[:, 0] > hi[0],
                                 centres[:, 1] < lo[1], centres[:, 1] > hi[1])):
        crossing[simplices[past].ravel(), side] = True
    t, m = np.nonzero(tri.neighbors < 0)  # hull sides a -> b, c the third corner
    a, b = simplices[t, (m + 1) % 3], simplices[t, (m + 2) % 3]
    along = points[b] - points[a]
    normal = np.stack([along[:, 1], -along[:, 0]], axis=1)
    normal[(normal * (points[simplices[t, m]] - points[a])).sum(axis=1) > 0] *= -1
    normal /= np.hypot(normal[:, 0], normal[:, 1])[:, None]
    # towards a side, or (nearly) along it: a direction the cell may reach it by
    for side, outward in enumerate((-normal[:, 0], normal[:, 0], -normal[:, 1],
                                    normal[:, 1])):
        towards = outward > -1e-6
        crossing[a[towards], side] = True
        crossing[b[towards], side] = True
    return crossing


def _ridges(tri: Delaunay, centres, leaving, vor: Voronoi, subset, lo, hi, tol: float):
    """The sides of the clipped cells of :func:`bounded_voronoi`, each once, and the cells
    on either side (-1 past the bounds), from the same two Qhull results.

    A ridge between two cells is the dual of their Delaunay edge: it joins the circumcentres
    of the edge's two triangles. When either cell is an inner one, both triangles have their
    circumcentre inside the box, so the ridge is exactly that segment, the side of the inner
    cell's polygon. The other ridges (both cells leaving the box) and the sides on the box
    come from the mirrored Voronoi diagram, as those cells' polygons do: a ridge of a leaving
    point with a mirror lies on a box side. Sides that shrink to a point (cocircular points)
    are left out, as the polygons merge their repeated vertices."""
    simplices, neighbours = tri.simplices, tri.neighbors
    # the side of triangle k opposite its corner m (half-side 3 k + m) is shared with
    # triangle neighbours[k, m]: each side once, from the lower of its two triangles
    other = np.ascontiguousarray(neighbours).reshape(-1)
    h = np.flatnonzero(other > np.repeat(np.arange(len(simplices)), 3))
    flat = np.ascontiguousarray(simplices).reshape(-1)
    m = h % 3
    a, b = flat[h - m + _NEXT[m]], flat[h - m + _PREV[m]]
    once = ~(leaving[a] & leaving[b])  # inner-side ridges
    h, a, b = h[once], a[once], b[once]
    k, other = h // 3, other[h]
    x, y = np.ascontiguousarray(centres[:, 0]), np.ascontiguousarray(centres[:, 1])
    inner = x[k], y[k], x[other], y[other]  # (start row, column, end row, column)
    keep = _apart(*inner, tol)
    inner = [v[keep] for v in inner]
    a, b = a[keep], b[keep]

    pairs = vor.ridge_points
    ends = np.asarray(vor.ridge_vertices, dtype=np.int64).reshape(-1, 2)
    real = pairs < len(subset)
    ids = np.where(real, subset[np.where(real, pairs, 0)], -1)
    out = real & leaving[np.maximum(ids, 0)]
    # both cells leaving the box, or a leaving cell and a mirror (a side on the box)
    take = (out[:, 0] & (out[:, 1] | ~real[:, 1])) | (out[:, 1] & ~real[:, 0])
    take &= (ends >= 0).all(axis=1)  # the leaving cells are closed by their mirrors
    ids, ends = ids[take], ends[take]
    outer = np.clip(vor.vertices[ends], lo, hi)
    outer_cells = np.where((ids >= 0).all(axis=1)[:, None], np.sort(ids, axis=1),
                           np.stack([ids.max(axis=1), np.full(len(ids), -1)], axis=1))

    keep = _apart(outer[:, 0, 0], outer[:, 0, 1], outer[:, 1, 0], outer[:, 1, 1], tol)
    count = len(a)  # written into place: no concatenation, no second pass
    ridges = np.empty((count + np.count_nonzero(keep), 2, 2))
    for (end, axis), values in zip(((0, 0), (0, 1), (1, 0), (1, 1)), inner, strict=True):
        ridges[:count, end, axis] = values
    ridges[count:] = outer[keep]
    cells = np.empty((len(ridges), 2), dtype=np.int64)
    np.minimum(a, b, out=cells[:count, 0])
    np.maximum(a, b, out=cells[:count, 1])
    cells[count:] = outer_cells[keep]
    return ridges, cells


def _apart(start_row, start_col, stop_row, stop_col, tol: float) -> np.ndarray:
    """Whether the ends of each segment lie more than ``tol`` apart on either axis."""
    return ((np.abs(stop_row - start_row) > tol) | (np.abs(stop_col - start_col) > tol))
