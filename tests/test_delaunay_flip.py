"""The Delaunay triangulation of moved points updated by edge flips (_delaunay_flip) and
lattice(previous=...): the same triangulation as a fresh Qhull run, or an honest give-up."""

import numpy as np
import pytest
from scipy.spatial import Delaunay

from napari_tessella import lattice
from napari_tessella._delaunay_flip import flip_update, triangle_neighbours
from napari_tessella.tessellation import _unique_edges


def _grid(side, jitter, rng, spacing=7.0):
    r, c = np.meshgrid(np.arange(side) * spacing + 3, np.arange(side) * spacing + 3,
                       indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()])
    return pts + rng.normal(0, jitter, pts.shape) if jitter else pts


def _qhull_edges(pts):
    return _unique_edges(Delaunay(pts - pts.mean(axis=0)).simplices)


def _check(out, moved):
    """An update is Qhull's triangulation: the same bonds, triangles counter-clockwise, the
    neighbours those of the triangles."""
    tri, nb = out
    np.testing.assert_array_equal(_unique_edges(tri), _qhull_edges(moved))
    a, b, c = (moved[tri[:, k]] for k in range(3))
    assert ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0] > 0).all()
    np.testing.assert_array_equal(nb, triangle_neighbours(tri, len(moved)))


@pytest.mark.parametrize("move", [0.001, 0.01, 0.05, 0.2, 0.5])
def test_jittered_lattice_moved_updates_to_qhulls_triangulation(move):
    rng = np.random.default_rng(int(move * 1000))
    pts = _grid(40, 0.3, rng)
    moved = pts + rng.normal(0, move, pts.shape)
    old = Delaunay(pts).simplices
    changed = len(set(map(tuple, np.sort(old, axis=1)))
                  - set(map(tuple, np.sort(Delaunay(moved).simplices, axis=1))))
    assert changed > 0  # the move does change the triangulation (flips are needed)
    out = flip_update(moved, old, pts)
    assert out is not None
    _check(out, moved)


def test_random_points_and_chained_updates():
    """Uniform random points (slivers inside too), moved three times, each update from the
    last one's output; moved further, inner slivers turn over: an update or a give-up,
    never a wrong triangulation."""
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 500, (3000, 2))
    tri = Delaunay(pts).simplices
    for _ in range(3):
        moved = pts + rng.normal(0, 0.01, pts.shape)
        out = flip_update(moved, tri, pts)
        assert out is not None
        _check(out, moved)
        pts, tri = moved, out[0]
    gave_up = 0
    for move in (0.1, 0.5, 2.0):
        moved = pts + rng.normal(0, move, pts.shape)
        out = flip_update(moved, tri, pts)
        gave_up += out is None
        if out is not None:
            _check(out, moved)
    assert gave_up  # inner triangles turned over: not repaired by flips


def test_cocircular_points_give_up():
    """A perfect square grid: every square's four corners on one circle, and the hull's
    points collinear. Its Delaunay triangulation is not unique: no update, Qhull decides."""
    rng = np.random.default_rng(1)
    pts = _grid(20, 0.0, rng)
    jittered = _grid(20, 0.3, rng)
    assert flip_update(pts, Delaunay(jittered).simplices, jittered) is None
    # from the perfect grid to jittered points: decided again, and Qhull's
    moved = pts + rng.normal(0, 0.3, pts.shape)
    tri = Delaunay(pts).simplices
    out = flip_update(moved, tri, pts)
    assert out is None or np.array_equal(_unique_edges(out[0]), _qhull_edges(moved))


def test_points_moved_far_or_shuffled_never_give_a_wrong_triangulation():
    rng = np.random.default_rng(5)
    pts = _grid(15, 0.3, rng)
    for moved in (pts + rng.normal(0, 3.0, pts.shape), rng.permutation(pts),
                  pts[:, ::-1].copy()):
        out = flip_update(moved, Delaunay(pts).simplices, pts)
        if out is not None:
            _check(out, moved)
    assert flip_update(pts[:-1], Delaunay(pts).simplices, pts) is None  # fewer points
    # triangles given clockwise (not as Qhull gives them): never a wrong answer either
    moved = pts + rng.normal(0, 0.05, pts.shape)
    out = flip_update(moved, Delaunay(pts).simplices[:, [0, 2, 1]], pts)
    if out is not None:
        _check(out, moved)
    # Qhull's own neighbours handed over: the same update as with neighbours found anew
    qhull = Delaunay(pts)
    given = flip_update(moved, qhull.simplices, pts, qhull.neighbors)
    _check(given, moved)
    np.testing.assert_array_equal(given[0], flip_update(moved, qhull.simplices, pts)[0])


@pytest.mark.parametrize("sampling", [None, (3.0, 1.0)])
@pytest.mark.parametrize("shape", [(140, 140), None])
def test_lattice_with_previous_equals_a_fresh_lattice(sampling, shape):
    rng = np.random.default_rng(7)
    pts = _grid(20, 0.3, rng)
    moved = pts + rng.normal(0, 0.05, pts.shape)
    before = lattice(pts, shape, sampling=sampling)
    fresh = lattice(moved, shape, sampling=sampling)
    updated = lattice(moved, shape, sampling=sampling, previous=before)
    assert not np.array_equal(_unique_edges(before.triangles), fresh.edges)
    np.testing.assert_array_equal(updated.edges, fresh.edges)
    np.testing.assert_allclose(updated.edge_lengths, fresh.edge_lengths)
    np.testing.assert_allclose(updated.cell_areas, fresh.cell_areas, rtol=1e-9)
    assert {tuple(t) for t in np.sort(updated.triangles, axis=1)} == {
        tuple(t) for t in np.sort(fresh.triangles, axis=1)}
    for mine, theirs in zip(updated.voronoi_polygons, fresh.voronoi_polygons, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-9)

    def ridges(result):
        key = np.round(np.sort(result.voronoi_ridges.reshape(-1, 4), axis=1), 6)
        return sorted(map(tuple, np.column_stack([result.ridge_cells, key])))

    assert ridges(updated) == ridges(fresh)


def test_lattice_with_previous_on_a_perfect_grid_falls_back():
    rng = np.random.default_rng(2)
    pts = _grid(12, 0.0, rng)
    before = lattice(pts + rng.normal(0, 0.3, pts.shape), (90, 90))
    result = lattice(pts, (90, 90), previous=before)
    np.testing.assert_array_equal(result.edges, lattice(pts, (90, 90)).edges)


def test_a_folded_triangulation_is_refused():
    """Two counter-clockwise triangles on the same side of their common side (a fold): not
    a triangulation, whatever the areas say."""
    from napari_tessella._delaunay_flip import _boundary, _orientation, _valid

    p = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.0], [2.0, 1.0]])
    folded = np.array([[0, 1, 2], [0, 1, 3]])
    nb = triangle_neighbours(folded, 4)
    assert (_orientation(p, folded)[0] > 0).all()
    a, b, _t = _boundary(folded, nb)
    assert not _valid(p, folded, nb, a, b, _orientation(p, folded)[0])
    good = np.array([[0, 1, 3], [1, 2, 3], [2, 0, 3]])
    nb = triangle_neighbours(good, 4)
    a, b, _t = _boundary(good, nb)
    assert _valid(p, good, nb, a, b, _orientation(p, good)[0])


def test_duplicates_with_a_previous_lattice_give_a_fresh_lattices_error():
    """With ``previous``, duplicates are looked for only when the update is not certified
    (a certified triangulation cannot hold two points at one place): the same errors as a
    fresh lattice, in the same order, whether the duplicates sit inside or on the hull."""
    rng = np.random.default_rng(4)
    pts = _grid(12, 0.3, rng)
    before = lattice(pts, (90, 90))
    for i, j in ((40, 41), (0, 1), (70, 5)):
        twice = pts + rng.normal(0, 0.05, pts.shape)
        twice[j] = twice[i]
        with pytest.raises(ValueError) as fresh:
            lattice(twice, (90, 90))
        with pytest.raises(ValueError) as updated:
            lattice(twice, (90, 90), previous=before)
        assert str(updated.value) == str(fresh.value)
        assert "duplicate" in str(fresh.value)
        far = twice.copy()
        far[7] = (500.0, 500.0)  # and a point outside the image: duplicates said first
        with pytest.raises(ValueError) as fresh:
            lattice(far, (90, 90))
        with pytest.raises(ValueError) as updated:
            lattice(far, (90, 90), previous=before)
        assert str(updated.value) == str(fresh.value)


def test_broken_neighbours_are_refused():
    """The certificate reads every inner side once; a neighbour pointing at the wrong
    triangle, at itself, past the end, or named by one side only: not a triangulation."""
    from napari_tessella._delaunay_flip import _boundary, _orientation, _valid

    rng = np.random.default_rng(8)
    p = _grid(8, 0.3, rng)
    qhull = Delaunay(p)
    tri = qhull.simplices.astype(np.int64)
    ccw = _orientation(p, tri)[0] < 0
    tri[ccw] = tri[ccw][:, [0, 2, 1]]  # counter-clockwise, as the update gives them
    nb = triangle_neighbours(tri, len(p))
    a, b, _t = _boundary(tri, nb)
    doubled = _orientation(p, tri)[0]
    assert _valid(p, tri, nb, a, b, doubled)
    inner = np.argwhere(nb >= 0)
    t, m = inner[len(inner) // 2]
    u = nb[t, m]
    for value in (nb[u][nb[u] != t][0], t, len(tri), -1):
        broken = nb.copy()
        broken[t, m] = value
        assert not _valid(p, tri, broken, a, b, doubled), value


def _ridge_table(result):
    """Each ridge as its cells, its middle and the products of its direction (the same
    whichever way round its ends are given), rows sorted by cells and middle."""
    r = result.voronoi_ridges
    middle = r.mean(axis=1)
    d = r[:, 1] - r[:, 0]
    table = np.column_stack([result.ridge_cells, middle, d[:, 0] ** 2, d[:, 1] ** 2,
                             d[:, 0] * d[:, 1]])
    rounded = np.round(middle, 3)
    return table[np.lexsort((rounded[:, 1], rounded[:, 0], table[:, 1], table[:, 0]))]


def test_updates_at_scale_equal_a_fresh_lattice_with_and_without_bounds():
    """A 60 x 60 jittered lattice moved as a re-refinement moves it (0.05 px: 5 % of the
    triangles change, slivers along the hull turn over), twice in a row: the bonds, their
    lengths, the cell areas, the ridges and their cells are those of a fresh lattice."""
    rng = np.random.default_rng(12)
    pts = _grid(60, 0.3, rng)
    for shape in ((420, 420), None):
        last, current = lattice(pts, shape, pixel_map=False), pts
        for _ in range(2):
            current = current + rng.normal(0, 0.05, pts.shape)
            updated = lattice(current, shape, pixel_map=False, previous=last)
            fresh = lattice(current, shape, pixel_map=False)
            np.testing.assert_array_equal(updated.edges, fresh.edges)
            np.testing.assert_array_equal(updated.edge_lengths, fresh.edge_lengths)
            np.testing.assert_allclose(updated.cell_areas, fresh.cell_areas, rtol=1e-10)
            mine, theirs = _ridge_table(updated), _ridge_table(fresh)
            np.testing.assert_array_equal(mine[:, :2], theirs[:, :2])
            np.testing.assert_allclose(mine[:, 2:], theirs[:, 2:], atol=1e-8)
            last = updated
