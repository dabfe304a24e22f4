"""The Delaunay triangulation of slightly moved points, from the last one by edge flips.

When lattice points are re-refined (moved by a fraction of their spacing), most of their
Delaunay triangulation stays: on a jittered square lattice moved by 0.05 px about 5 % of the
triangles change. :func:`flip_update` takes the last triangulation, repairs it into a valid
triangulation of the moved points (slivers along the convex hull that turned over are
dropped, points that moved inside the hull are closed over with a triangle), then flips every
edge that fails the empty-circle test until none does (Lawson's algorithm, a round of
independent flips at a time, vectorised), and checks the result: every triangle turns
counter-clockwise, the boundary is one convex loop enclosing the triangles' total area, and
every inner edge passes the empty-circle test by a margin larger than the rounding error of
the test. That triangulation is then the unique Delaunay triangulation of the points, the
one Qhull gives up to the order of the triangles. Whenever a step is undecided (points on a
common circle, as on a perfect grid; collinear points on the hull; a repair the steps above
do not cover), it gives up (None) and the caller triangulates from scratch.

No napari, no Qt: a core module.
"""

from __future__ import annotations

import numpy as np

__all__ = ["flip_update", "triangle_neighbours"]

#: Relative margin of the orientation and empty-circle tests: a determinant closer to zero
#: than this times its magnitude bound (the same products taken in absolute value) is
#: undecided. Rounding in double precision stays below 1e-14 of that bound.
MARGIN = 1e-10

#: Give up after this many rounds of flips (a handful suffice for points moved by a
#: fraction of their spacing; far more means the points moved too much to be worth it).
MAX_ROUNDS = 60

_NEXT, _PREV = np.array([1, 2, 0]), np.array([2, 0, 1])


def triangle_neighbours(simplices: np.ndarray, n_points: int) -> np.ndarray | None:
    """(K, 3) neighbours as Qhull gives them: the triangle across the side opposite each
    corner, -1 on the boundary; None when a side is shared by more than two triangles."""
    h1, h2, over = _shared_sides(simplices, n_points)
    if over:
        return None
    nb = np.full(3 * len(simplices), -1, dtype=np.int64)
    nb[h1], nb[h2] = h2 // 3, h1 // 3
    return nb.reshape(len(simplices), 3)


def _shared_sides(tri, n):
    """The sides two triangles share, as pairs of half-sides (``3 * t + m``: the side of
    triangle t opposite its corner m), and whether a side is shared by more than two."""
    a = tri[:, _NEXT].ravel()
    b = tri[:, _PREV].ravel()
    key = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
    order = np.argsort(key, kind="stable")
    key = key[order]
    same = key[1:] == key[:-1]
    first = np.flatnonzero(same)
    return order[first], order[first + 1], bool((same[1:] & same[:-1]).any())


def _cross(o, a, b):
    """Cross product (a - o) x (b - o) and the bound of its rounding error's scale."""
    ax, ay, bx, by = a[:, 0] - o[:, 0], a[:, 1] - o[:, 1], b[:, 0] - o[:, 0], b[:, 1] - o[:, 1]
    return ax * by - ay * bx, np.abs(ax * by) + np.abs(ay * bx)


def _incircle(x, y, a, b, c, d):
    """> 0 when point d lies inside the circle through points a, b, c (counter-clockwise;
    index arrays into the coordinates ``x``, ``y``); and the magnitude bound of that
    determinant (its terms in absolute value)."""
    dx, dy = x[d], y[d]
    ax, ay = x[a] - dx, y[a] - dy
    bx, by = x[b] - dx, y[b] - dy
    cx, cy = x[c] - dx, y[c] - dy
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    bc, ca, ab = bx * cy - by * cx, cx * ay - cy * ax, ax * by - ay * bx
    det = a2 * bc + b2 * ca + c2 * ab
    bound = (a2 * (np.abs(bx * cy) + np.abs(by * cx)) + b2 * (np.abs(cx * ay) + np.abs(cy * ax))
             + c2 * (np.abs(ax * by) + np.abs(ay * bx)))
    return det, bound


def _orientation(p, tri):
    return _turn(np.ascontiguousarray(p[:, 0]), np.ascontiguousarray(p[:, 1]), tri[:, 0],
                 tri[:, 1], tri[:, 2])


def _turn(x, y, o, a, b):
    """:func:`_cross` of points given as index arrays into the coordinates ``x``, ``y``
    (1-D gathers: several times faster than gathering rows of (N, 2) points)."""
    ox, oy = x[o], y[o]
    ax, ay, bx, by = x[a] - ox, y[a] - oy, x[b] - ox, y[b] - oy
    return ax * by - ay * bx, np.abs(ax * by) + np.abs(ay * bx)


def _boundary(tri, nb):
    """Directed boundary sides (a -> b, the triangles on their left) and their triangles."""
    h = np.flatnonzero(nb.reshape(-1) < 0)  # half-sides 3 t + m (a flat scan: faster)
    t, m = h // 3, h % 3
    flat = tri.reshape(-1)
    return flat[h - m + _NEXT[m]], flat[h - m + _PREV[m]], t


def _loop(a, b, n):
    """The boundary sides a -> b as one loop of points, or None (several loops, a point
    twice on it)."""
    if not len(a) or (np.bincount(a, minlength=n) > 1).any():
        return None
    order = np.argsort(a)
    then = order[np.searchsorted(a, b, sorter=order)].tolist()  # side after each side
    if not np.array_equal(a[then], b):
        return None
    sides, i = [], 0
    for _ in range(len(a)):  # a few hundred to a few thousand sides
        sides.append(i)
        i = then[i]
    return a[sides] if i == 0 and len(set(sides)) == len(a) else None


def _repair_hull(p, tri, nb, det, bound, slack: float = 4.0):
    """A triangulation of the moved points ``p`` that fills their convex hull, from the last
    one (``nb`` its neighbours, ``det`` and ``bound`` its orientation tests on ``p``), or
    None; with each triangle's doubled area. Along a nearly straight side of the hull, the
    last triangulation has a band of slivers between the outermost points; when those
    points move, slivers turn over. The slivers reached from the hull (triangles turned
    over, or with a circumradius above ``slack`` times the median side) are dropped, and
    the pockets left between the boundary and the convex hull are filled again by one scan
    along the boundary (a triangle for every corner the scan pops); the empty-circle flips
    then make them Delaunay. Triangles turned over elsewhere: None."""
    n = len(p)
    turned = det <= MARGIN * bound
    sample = tri[:: max(1, len(tri) // 2000)]
    typical = float(np.median(np.hypot(*(p[sample[:, 0]] - p[sample[:, 1]]).T)))

    def weak(ids):
        x, y, z = p[tri[ids, 0]], p[tri[ids, 1]], p[tri[ids, 2]]
        sides = np.hypot(*(y - z).T) * np.hypot(*(z - x).T) * np.hypot(*(x - y).T)
        with np.errstate(divide="ignore", invalid="ignore"):  # R = abc / (4 area)
            return turned[ids] | ~(sides / np.abs(2 * det[ids]) <= slack * typical)

    dropped = np.zeros(len(tri), dtype=bool)
    seen = np.zeros(len(tri), dtype=bool)
    front = np.unique(np.flatnonzero(nb.reshape(-1) < 0) // 3)
    while len(front):  # through the band from the hull, one layer of slivers at a time
        seen[front] = True
        front = front[weak(front)]
        dropped[front] = True
        front = np.unique(nb[front])
        front = front[front >= 0]
        front = front[~seen[front]]
    if (turned & ~dropped).any():
        return None
    if dropped.any():  # renumber the triangles kept; their sides to dropped ones: hull
        kept = ~dropped
        new_id = np.append(np.where(kept, np.cumsum(kept) - 1, -1), -1)
        tri, nb, det = tri[kept], new_id[nb[kept]], det[kept]
    if np.bincount(tri.ravel(), minlength=n).min() == 0:  # a point left out
        return None
    a, b, _t = _boundary(tri, nb)
    loop = _loop(a, b, n)
    if loop is None:
        return None
    # one scan from the lowest point (on the hull), popping every reflex corner
    start = int(np.lexsort((p[loop, 1], p[loop, 0]))[0])
    loop = [*np.roll(loop, -start).tolist(), int(loop[start])]
    xy = dict(zip(loop, p[loop].tolist(), strict=True))
    stack, ears, doubled = loop[:2], [], []
    for v in loop[2:]:
        while len(stack) >= 2:
            (ax, ay), (bx, by), (cx, cy) = xy[stack[-2]], xy[stack[-1]], xy[v]
            turn = (bx - ax) * (cy - by) - (by - ay) * (cx - bx)
            size = abs((bx - ax) * (cy - by)) + abs((by - ay) * (cx - bx))
            if abs(turn) <= MARGIN * size:  # collinear on the hull: undecided
                return None
            if turn > 0:
                break
            corner = stack.pop()
            ears.append((stack[-1], v, corner))
            doubled.append(-turn)
        stack.append(v)
    if ears:  # linked to each other and to the triangles on the boundary
        k = len(tri)
        tri = np.concatenate([tri, np.asarray(ears, dtype=np.int64)])
        nb = np.concatenate([nb, np.full((len(ears), 3), -1, dtype=np.int64)])
        det = np.concatenate([det, doubled])
        added = np.arange(k, len(tri))
        _relink(tri, nb, np.union1d(np.unique(_boundary(tri[:k], nb[:k])[2]), added), added,
                n)
        a, b, _t = _boundary(tri, nb)
    return tri, nb, a, b, det


def _valid(p, tri, nb, a, b, doubled) -> bool:
    """Whether the triangles (counter-clockwise, of these doubled areas) fill the single
    convex loop of their boundary sides a -> b exactly: every inner side run through in
    opposite directions by its two triangles (no fold), one convex loop, the same area.

    Each inner side is checked once, from its lower-numbered triangle t: its neighbour u
    across it must hold the side reversed and name t back. These sides map one-to-one onto
    the sides seen from the higher-numbered triangle (a triangle's three corners are
    distinct), so when the two counts agree every inner side is matched."""
    k = len(tri)
    trif, nbf = tri.ravel(), nb.ravel()
    own = np.repeat(np.arange(k), 3)
    if len(nbf) and (nbf.max() >= k or (nbf == own).any()):
        return False
    h = np.flatnonzero(nbf > own)  # half-sides 3 t + m, seen from the lower triangle
    if 2 * len(h) != np.count_nonzero(nbf >= 0):
        return False
    m = h % 3
    x = trif[np.where(m == 2, h - 2, h + 1)]  # the side x -> y of t, opposite corner m
    y = trif[np.where(m == 0, h + 2, h - 1)]
    base = 3 * nbf[h]
    at_y = np.where(trif[base] == y, 0, np.where(trif[base + 1] == y, 1, 2))
    j = _PREV[at_y]  # in u the side runs y -> x, opposite corner j
    if not ((trif[base + at_y] == y).all() and (trif[base + _PREV[j]] == x).all()
            and (nbf[base + j] == h // 3).all()):
        return False
    if _loop(a, b, len(p)) is None:
        return False
    nxt = np.full(len(p), -1, dtype=np.int64)
    nxt[a] = b
    turn, bound = _cross(p[a], p[b], p[nxt[b]])  # at b: convex, never straight
    if (turn <= MARGIN * bound).any():
        return False
    loop = float(np.sum(p[a, 0] * p[b, 1] - p[b, 0] * p[a, 1]))
    return abs(loop - float(np.sum(doubled))) <= 1e-9 * max(abs(loop), 1e-300)


def _edges_to_check(tri, nb, only=None):
    """Inner sides, each once (t < u across it): t, corner m of t opposite it, u, corner of
    u opposite it. With ``only`` (triangle ids), just the sides of those triangles.
    Indexed as half-sides ``3 * t + m`` into the flattened arrays (faster than pairs)."""
    nbf = nb.reshape(-1)
    if only is None:
        h = np.flatnonzero(nbf > np.repeat(np.arange(len(tri)), 3))
    else:
        h = (3 * np.asarray(only)[:, None] + np.arange(3)).ravel()
        h = h[nbf[h] >= 0]
        t, u = h // 3, nbf[h]
        # each side once, from its lower triangle: the upper one's half-side turned over
        high = t > u
        h[high] = 3 * u[high] + _corner_of(nbf, u[high], t[high])
        h = _distinct(h, len(nbf))
    t, m, u = h // 3, h % 3, nbf[h]
    return t, m, u, _corner_of(nbf, u, t)


def _distinct(ids, n):
    """The distinct values of ``ids`` (each in [0, n)), sorted: a mark per value, no sort."""
    mark = np.zeros(n, dtype=bool)
    mark[ids] = True
    return np.flatnonzero(mark)


def _corner_of(nbf, u, t):
    """The corner of each triangle u opposite its side shared with triangle t."""
    base = 3 * u
    return np.where(nbf[base] == t, 0, np.where(nbf[base + 1] == t, 1, 2))


def flip_update(points, simplices, old_points, neighbours=None):
    """The Delaunay triangulation of ``points`` from ``simplices``, the one of ``old_points``
    (the same points before a small move; its corners counter-clockwise in (row, column), as
    Qhull and this function give them; ``neighbours`` as Qhull gives them, when known):
    ((K, 3) triangles, (K, 3) neighbours), corners counter-clockwise, or None when it cannot
    be certified (see the module's notes); the caller then asks Qhull. A triangle given
    clockwise counts as turned over, and the result is certified all the same."""
    p = np.asarray(points, dtype=np.float64)
    tri = np.array(simplices, dtype=np.int64)  # copies: the flips write into them
    if p.shape != np.shape(old_points) or not len(tri) or tri.max() >= len(p):
        return None
    p = p - p.mean(axis=0)
    nb = (triangle_neighbours(tri, len(p)) if neighbours is None
          else np.array(neighbours, dtype=np.int64))
    if nb is None or nb.shape != tri.shape:
        return None
    det, bound = _orientation(p, tri)
    repaired = _repair_hull(p, tri, nb, det, bound)
    if repaired is None:
        return None
    tri, nb, a, b, doubled = repaired
    if not _valid(p, tri, nb, a, b, doubled):
        return None
    tri = np.ascontiguousarray(tri)  # flattened views below
    x, y = np.ascontiguousarray(p[:, 0]), np.ascontiguousarray(p[:, 1])
    flat = tri.reshape(-1)
    check = None
    for _ in range(MAX_ROUNDS):
        t, m, u, j = _edges_to_check(tri, nb, check)
        corner_p, corner_q = flat[3 * t + m], flat[3 * u + j]
        pa, pb = flat[3 * t + _NEXT[m]], flat[3 * t + _PREV[m]]
        det, bound = _incircle(x, y, corner_p, pa, pb, corner_q)
        if (np.abs(det) <= MARGIN * bound).any():  # on a common circle: undecided
            return None
        bad = np.flatnonzero(det > 0)
        if not len(bad):
            return tri, nb
        # independent flips: each triangle in at most one, the lowest-numbered side first
        best = np.full(len(tri), len(t), dtype=np.int64)
        np.minimum.at(best, t[bad], bad)
        np.minimum.at(best, u[bad], bad)
        chosen = (best[t[bad]] == bad) & (best[u[bad]] == bad)
        go, wait = bad[chosen], bad[~chosen]
        waiting = np.concatenate([t[wait], u[wait]])  # still to check next round
        t, u = t[go], u[go]
        corner_p, corner_q, pa, pb = corner_p[go], corner_q[go], pa[go], pb[go]
        changed = np.concatenate([t, u])
        near = nb[changed].ravel()
        local = _distinct(np.concatenate([changed, near[near >= 0]]), len(tri))
        tri[t] = np.stack([corner_p, pa, corner_q], axis=1)
        tri[u] = np.stack([corner_q, pb, corner_p], axis=1)
        det, bound = _turn(x, y, np.concatenate([corner_p, corner_q]),
                           np.concatenate([pa, pb]), np.concatenate([corner_q, corner_p]))
        if (det <= MARGIN * bound).any():
            return None
        _relink(tri, nb, local, changed, len(p))
        # the sides of the triangles that changed, of their neighbours, and those waiting
        check = _distinct(np.concatenate([local, waiting]), len(tri))
    return None


def _relink(tri, nb, local, changed, n):
    """Neighbours of the triangles ``local`` after flipping ``changed`` (all among them):
    their sides matched among themselves; the flipped triangles' unmatched sides are on
    the hull, the others' keep their neighbour."""
    h1, h2, _ = _shared_sides(tri[local], n)
    rows = nb[local]
    is_changed = np.isin(local, changed)
    rows[is_changed] = -1
    flat = rows.ravel()
    flat[h1], flat[h2] = local[h2 // 3], local[h1 // 3]
    nb[local] = flat.reshape(-1, 3)
