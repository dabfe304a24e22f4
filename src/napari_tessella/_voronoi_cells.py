"""The clipped Voronoi cells as polygons, made only when asked for.

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

import numpy as np

__all__ = ["LazyCells", "cell_polygons"]


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
