"""lattice(): Delaunay, Voronoi polygons and the pixel Voronoi map."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi
from scipy.spatial import Delaunay

from napari_tessella import lattice, measure_objects, pixel_voronoi, threshold_label
from napari_tessella.tessellation import neighbour_counts


def grid(n=5, step=10.0, offset=5.0):
    r, c = np.meshgrid(np.arange(n) * step + offset, np.arange(n) * step + offset, indexing="ij")
    return np.column_stack([r.ravel(), c.ravel()])


def test_square_grid_cells_tile_the_image():
    pts = grid()
    result = lattice(pts, shape=(50, 50))
    assert len(result.triangles) == 32  # 16 squares, 2 triangles each
    assert len(result.edges) == 40 + 16  # lattice bonds + one diagonal per square
    assert len(result.voronoi_polygons) == 25
    # each cell is the rectangle of the half-way lines, clipped to the pixel edges -0.5..49.5
    def widths(x):
        lo = np.where(x == x.min(), -0.5, x - 5)
        hi = np.where(x == x.max(), 49.5, x + 5)
        return hi - lo

    expected = widths(pts[:, 0]) * widths(pts[:, 1])
    np.testing.assert_allclose(result.cell_areas, expected, rtol=1e-4)
    assert result.cell_areas.sum() == pytest.approx(50 * 50, rel=1e-6)
    for poly, p in zip(result.voronoi_polygons, pts, strict=True):
        assert poly.min(axis=0).min() >= -0.5 and poly.max(axis=0).max() <= 49.5
        assert np.all(np.abs(poly - p) <= 5.5 + 1e-6)


def test_edges_are_unique_and_sorted():
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 100, (200, 2))
    result = lattice(pts)
    e = result.edges
    assert np.all(e[:, 0] < e[:, 1])
    assert len(np.unique(e, axis=0)) == len(e)
    # Euler: E = 3N - 3 - h for a triangulation with h hull vertices
    hull = len(np.unique(Delaunay(pts).convex_hull))
    assert len(e) == 3 * len(pts) - 3 - hull
    np.testing.assert_allclose(result.edge_lengths, np.hypot(*(pts[e[:, 0]] - pts[e[:, 1]]).T))
    assert result.voronoi_labels is None


def test_polygons_are_finite_without_shape():
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 100, (50, 2))
    result = lattice(pts)
    assert all(np.isfinite(p).all() for p in result.voronoi_polygons)
    assert np.all(result.cell_areas > 0)


def test_pixel_voronoi_is_nearest_point():
    rng = np.random.default_rng(2)
    pts = rng.integers(0, 40, (15, 2)).astype(float)
    pts = np.unique(pts, axis=0)
    vmap = pixel_voronoi(pts, (40, 40))
    rr, cc = np.indices((40, 40))
    d = np.hypot(rr[..., None] - pts[:, 0], cc[..., None] - pts[:, 1])
    chosen = d[rr, cc, vmap - 1]
    np.testing.assert_allclose(chosen, d.min(axis=-1))


def test_labels_give_generalized_voronoi():
    labels = np.zeros((30, 30), np.int32)
    labels[2:6, 2:6] = 4
    labels[20:25, 3:8] = 7
    labels[10:14, 22:28] = 9
    result = lattice(labels=labels)
    assert len(result.points) == 3
    vmap = result.voronoi_labels
    assert set(np.unique(vmap)) == {4, 7, 9}
    assert np.all(vmap[labels > 0] == labels[labels > 0])


@pytest.mark.parametrize(
    ("points", "match"),
    [
        ([[0, 0], [1, 1]], "at least 3"),
        ([[0, 0], [1, 1], [2, 2], [3, 3]], "collinear"),
        ([[0, 0], [1, np.nan], [2, 0]], "NaN"),
        (np.zeros((3, 2, 2)), r"\(N, 2\)"),
    ],
)
def test_bad_points(points, match):
    with pytest.raises(ValueError, match=match):
        lattice(points)


def test_points_outside_image():
    with pytest.raises(ValueError, match="outside the image"):
        lattice([[0, 0], [0, 10], [10, 0], [60, 5]], shape=(50, 50))


def test_stem_delaunay_reference(stem_image):
    labels = threshold_label(stem_image, 0.62, opening=2, connectivity=1)
    # the recipe's centres: plain intensity weights (scipy), as the original post
    ids = np.arange(1, labels.max() + 1)
    centres = np.array(ndi.center_of_mass(stem_image, labels, ids))
    result = lattice(centres, shape=stem_image.shape)
    assert len(result.points) == 1376
    assert len(result.triangles) == 2725
    # measure_objects weighs by intensity above each column's own minimum (never outside
    # the object): the centres move by a fraction of a pixel, one more hull triangle
    table = measure_objects(labels, stem_image)
    points = table[["com_row", "com_col"]].to_numpy()
    shift = np.hypot(*(points - centres).T)
    assert np.median(shift) < 0.5 and shift.max() < 1.5
    assert len(lattice(points, shape=stem_image.shape).triangles) == 2726
    assert result.cell_areas.sum() == pytest.approx(stem_image.size, rel=1e-9)
    assert result.voronoi_labels.shape == stem_image.shape
    assert set(np.unique(result.voronoi_labels)) <= set(range(1, 1377))
    # the median nearest-neighbour distance the post reports (6.8 px)
    d, _ = __import__("scipy.spatial", fromlist=["cKDTree"]).cKDTree(result.points).query(
        result.points, k=2)
    assert np.median(d[:, 1]) == pytest.approx(6.8, abs=0.15)
    # the pixel map is the exact-EDT map of the rounded centres
    seeds = np.zeros(stem_image.shape, np.int32)
    idx = np.rint(result.points).astype(int)
    seeds[idx[:, 0], idx[:, 1]] = np.arange(1, 1377)
    ind = ndi.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
    np.testing.assert_array_equal(result.voronoi_labels, seeds[ind[0], ind[1]])


def test_pixel_map_can_be_left_out():
    with_map = lattice(grid(), shape=(50, 50))
    without = lattice(grid(), shape=(50, 50), pixel_map=False)
    assert without.voronoi_labels is None and with_map.voronoi_labels is not None
    np.testing.assert_array_equal(without.cell_areas, with_map.cell_areas)
    labels = with_map.voronoi_labels
    assert lattice(labels=labels, pixel_map=False).voronoi_labels is None


def test_polygon_edges_count_shared_sides_once():
    from napari_tessella.tessellation import polygon_edges

    cells = lattice(grid(), shape=(50, 50)).voronoi_polygons
    sides = polygon_edges(cells)
    lengths = np.hypot(*(sides[:, 1] - sides[:, 0]).T)
    # 4 inner lines each way and the 4 image edges, 50 px long, cut into 5 sides each
    assert len(sides) == 60
    assert lengths.sum() == pytest.approx(8 * 50 + 4 * 50, rel=1e-6)


def test_polygon_edges_cells_are_the_two_cells_of_each_side():
    from napari_tessella.tessellation import polygon_edges

    rng = np.random.default_rng(5)
    r, c = np.meshgrid(np.arange(3, 90, 7.0), np.arange(3, 100, 7.0), indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.4, (r.size, 2))
    result = lattice(pts, shape=(90, 100))
    cells = result.voronoi_polygons
    sides, owners = polygon_edges(cells, return_cells=True)
    np.testing.assert_array_equal(sides, polygon_edges(cells))  # the same sides either way

    def key(a, b):  # a side as its two end points, unordered, to 1e-6 px
        return tuple(sorted((tuple(np.round(a, 6)), tuple(np.round(b, 6)))))

    # every cell's own sides, the obvious way: each side lists the cells it bounds
    bounding = {}
    for i, poly in enumerate(cells):
        for a, b in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            if np.hypot(*(a - b)) > 1e-6:
                bounding.setdefault(key(a, b), []).append(i)
    assert len(sides) == len(bounding)  # each side once
    for (a, b), (first, other) in zip(sides, owners.tolist(), strict=True):
        expected = bounding[key(a, b)]
        assert [first, *([other] if other >= 0 else [])] == expected
    shared = np.sort(owners[owners[:, 1] >= 0], axis=1)
    assert {tuple(p) for p in shared.tolist()} <= {tuple(e) for e in result.edges.tolist()}
    # the sides of one cell only are those on the image border
    border = sides[owners[:, 1] < 0]
    on_edge = np.isclose(border, -0.5) | np.isclose(border, [89.5, 99.5])
    assert on_edge.any(axis=2).all(axis=1).all()
    assert polygon_edges([], return_cells=True)[1].shape == (0, 2)


def _side_set(sides, cells, digits=6):
    """Sides as an orientation-free set of (end points to 1e-6 px, the two cells)."""
    rows = set()
    for (a, b), (first, other) in zip(np.round(sides, digits).tolist(), cells.tolist(),
                                      strict=True):
        pair = (first, other) if other < 0 else tuple(sorted((first, other)))
        rows.add((*sorted((tuple(a), tuple(b))), pair))
    return rows


def _lattices_for_ridges():
    rng = np.random.default_rng(11)
    r, c = np.meshgrid(np.arange(3, 90, 7.0), np.arange(3, 100, 7.0), indexing="ij")
    jittered = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.4, (r.size, 2))
    i, j = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    hexagonal = np.column_stack([(i * np.sqrt(3) / 2).ravel(), (j + (i % 2) / 2).ravel()]) * 6 + 3
    return [
        ("random", rng.uniform(0, 100, (400, 2)), {"shape": (101, 101)}),
        ("random, no shape", rng.uniform(0, 100, (400, 2)), {}),
        ("jittered square", jittered, {"shape": (90, 100)}),
        ("perfect grid (cocircular)", grid(8), {"shape": (80, 80)}),
        ("perfect grid on the image edge", grid(8, step=1.0, offset=0.0), {"shape": (8, 8)}),
        ("perfect grid, no shape", grid(8), {}),
        ("hexagonal", hexagonal, {"shape": (60, 70)}),
        ("hexagonal, anisotropic pixels", hexagonal, {"shape": (60, 70), "sampling": (3, 1)}),
        ("4 cocircular points", np.array([[0.0, 0], [0, 10], [10, 0], [10, 10]]),
         {"shape": (11, 11)}),
        ("far from the origin", rng.uniform(0, 100, (200, 2)) + 1e6, {}),
    ]


@pytest.mark.parametrize("case", range(len(_lattices_for_ridges())))
def test_voronoi_ridges_are_the_sides_of_the_cells_each_once(case):
    """The ridges read from the triangulation are the polygons' own sides, matched the slow
    way (polygon_edges), and the two cells of each; degenerate lattices included."""
    from napari_tessella.tessellation import polygon_edges

    _name, pts, kwargs = _lattices_for_ridges()[case]
    result = lattice(pts, **kwargs)
    sides, cells = polygon_edges(result.voronoi_polygons, return_cells=True)
    assert len(result.voronoi_ridges) == len(sides)
    assert _side_set(result.voronoi_ridges, result.ridge_cells) == _side_set(sides, cells)
    assert result.voronoi_ridges.shape == (len(sides), 2, 2)
    assert result.ridge_cells.dtype == np.int64


@pytest.mark.parametrize("case", [0, 2, 3, 6])
def test_voronoi_ridges_inside_the_image_are_scipys(case):
    """Ridges away from the image edges, against scipy.spatial.Voronoi of all the points
    (an independent Qhull Voronoi diagram): the same segments between the same cells."""
    from scipy.spatial import Voronoi

    _name, pts, kwargs = _lattices_for_ridges()[case]
    result = lattice(pts, **kwargs)
    lo, hi = -0.5, np.array(kwargs["shape"]) - 0.5

    def inside(segments):
        return ((segments > lo + 1e-6) & (segments < hi - 1e-6)).all(axis=(1, 2))

    def long(segments):
        return np.hypot(*(segments[:, 1] - segments[:, 0]).T) > 1e-6

    vor = Voronoi(pts)
    ends = np.array(vor.ridge_vertices)
    finite = (ends >= 0).all(axis=1)
    theirs = vor.vertices[ends[finite]]
    their_cells = np.sort(vor.ridge_points[finite], axis=1)
    pick = inside(theirs) & long(theirs)
    ours = result.voronoi_ridges
    mine = inside(ours) & long(ours)
    assert mine.sum() > 0.5 * len(ours)
    assert (_side_set(ours[mine], result.ridge_cells[mine], digits=5)
            == _side_set(theirs[pick], their_cells[pick], digits=5))


def _reference_cells(points, lo, hi):
    """Clipped Voronoi cells the slow, obvious way: every point mirrored across every side."""
    from scipy.spatial import Voronoi

    eps = 1e-6 * float(np.max(hi - lo))
    mirrored = [points]
    for axis in (0, 1):
        for bound in (lo[axis] - eps, hi[axis] + eps):
            m = points.copy()
            m[:, axis] = 2 * bound - m[:, axis]
            mirrored.append(m)
    vor = Voronoi(np.concatenate(mirrored))
    return [np.clip(vor.vertices[vor.regions[vor.point_region[i]]], lo, hi)
            for i in range(len(points))]


def _area(poly):
    centred = poly - poly.mean(axis=0)
    order = np.argsort(np.arctan2(centred[:, 0], centred[:, 1]))
    x, y = poly[order, 0], poly[order, 1]
    return abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


@pytest.mark.parametrize("case", ["jittered", "uniform", "perfect-grid", "few", "on-border"])
def test_voronoi_cells_equal_the_brute_force_ones(case):
    rng = np.random.default_rng(11)
    shape = (120, 150)
    if case == "jittered":
        r, c = np.meshgrid(np.arange(3, 120, 7.0), np.arange(3, 150, 7.0), indexing="ij")
        pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.4, (r.size, 2))
    elif case == "uniform":
        pts = rng.uniform([0, 0], [119, 149], (300, 2))
    elif case == "perfect-grid":  # four points on every circumcircle
        r, c = np.meshgrid(np.arange(5, 120, 10.0), np.arange(5, 150, 10.0), indexing="ij")
        pts = np.column_stack([r.ravel(), c.ravel()])
    elif case == "few":
        pts = np.array([[10.0, 10.0], [100.0, 20.0], [50.0, 140.0], [60.0, 70.0]])
    else:
        pts = np.concatenate([rng.uniform([0, 0], [119, 149], (50, 2)),
                              [[-0.5, 30.0], [119.5, 80.0], [40.0, -0.5], [-0.5, -0.5]]])
    result = lattice(pts, shape)
    lo, hi = np.array([-0.5, -0.5]), np.array(shape) - 0.5
    reference = _reference_cells(pts, lo, hi)
    np.testing.assert_allclose(result.cell_areas, [_area(p) for p in reference], atol=1e-6)
    assert result.cell_areas.sum() == pytest.approx(np.prod(shape))
    for got, want in zip(result.voronoi_polygons, reference, strict=True):
        got_set = {tuple(v) for v in np.round(got, 6)}
        want_set = {tuple(v) for v in np.round(want, 6)}
        assert got_set == want_set
        assert len(got) == len(got_set)  # no vertex twice


# --- anisotropic pixels: the lattice of the physical positions --------------------------

def _hexagonal(rows: int, cols: int, a: float) -> np.ndarray:
    """A hexagonal lattice of spacing ``a`` in physical (row, column) units."""
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return np.column_stack([(i * a * np.sqrt(3) / 2).ravel(),
                            (j * a + (i % 2) * a / 2).ravel()]) + a


def test_lattice_sampling_gives_the_physical_hexagonal_lattice():
    a, size = 6.0, np.array([3.0, 1.0])
    phys = _hexagonal(8, 8, a)
    px = phys / size  # what the pixels of a (3, 1) nm image hold
    result = lattice(px, sampling=(3, 1))
    inner = neighbour_counts(result.edges, len(px))
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    hull = ((i == 0) | (i == 7) | (j == 0) | (j == 7)).ravel()  # the outer ring
    assert np.all(inner[~hull] == 6)
    # bonds from interior points are all one lattice spacing long, in physical units
    both = ~hull[result.edges].any(axis=1)
    np.testing.assert_allclose(result.edge_lengths[both], a)
    np.testing.assert_array_equal(result.edges, lattice(phys).edges)
    # in pixel units the neighbours are those of the squashed grid: other bonds
    assert not np.array_equal(lattice(px).edges, result.edges)
    # cells: the hexagon of area sqrt(3)/2 a², given back in pixel coordinates
    cells = np.flatnonzero(~hull & (inner == 6))
    np.testing.assert_allclose(result.cell_areas[cells], np.sqrt(3) / 2 * a**2)
    for i in cells[:5]:
        np.testing.assert_allclose(np.hypot(*((result.voronoi_polygons[i] - px[i]) * size).T),
                                   a / np.sqrt(3))


def test_lattice_sampling_square_lattice_cells():
    """A physical square lattice on (2, 1) pixels: square cells of the lattice's area."""
    a, size = 8.0, np.array([2.0, 1.0])
    r, c = np.meshgrid(np.arange(6) * a + a / 2, np.arange(6) * a + a / 2, indexing="ij")
    phys = np.column_stack([r.ravel(), c.ravel()])
    px = phys / size
    shape = (int(6 * a / size[0]), int(6 * a / size[1]))
    result = lattice(px, shape, sampling=size)
    interior = np.all((phys > a) & (phys < 5 * a), axis=1)
    assert interior.sum() == 16
    np.testing.assert_allclose(result.cell_areas[interior], a * a)
    for i in np.flatnonzero(interior):  # an a/2 × a rectangle of pixels around its point
        poly = result.voronoi_polygons[i]
        np.testing.assert_allclose(np.ptp(poly, axis=0), a / size)
        np.testing.assert_allclose(poly.mean(axis=0), px[i])
    # the cells still tile the image: areas sum to the image's physical area
    np.testing.assert_allclose(result.cell_areas.sum(), np.prod(np.array(shape) * size))


def test_pixel_voronoi_sampling_assigns_the_physically_nearest_point():
    rng = np.random.default_rng(5)
    shape, size = (30, 50), np.array([2.5, 0.7])
    pts = np.column_stack([rng.uniform(0, shape[0] - 1, 25), rng.uniform(0, shape[1] - 1, 25)])
    vmap = pixel_voronoi(pts, shape, sampling=size)
    seeds = np.rint(pts)
    grid = np.stack(np.indices(shape), axis=-1).reshape(-1, 1, 2)
    dist = np.hypot(*((grid - seeds[None]) * size).transpose(2, 0, 1))
    got = dist[np.arange(len(dist)), vmap.ravel() - 1]
    np.testing.assert_allclose(got, dist.min(axis=1))
    # and in pixel units the map is another one
    assert not np.array_equal(vmap, pixel_voronoi(pts, shape))


def test_lattice_sampling_of_a_label_image_uses_physical_distances():
    lab = np.zeros((20, 40), np.int32)
    lab[2, 2], lab[17, 30], lab[3, 37] = 1, 2, 3
    result = lattice(labels=lab, sampling=(4, 1))
    expected = np.asarray(ndi.distance_transform_edt(lab == 0, sampling=(4, 1),
                                                     return_distances=False,
                                                     return_indices=True))
    np.testing.assert_array_equal(result.voronoi_labels, lab[expected[0], expected[1]])


def test_lattice_isotropic_sampling_is_the_pixel_path():
    rng = np.random.default_rng(9)
    pts = rng.uniform(0, 99, (200, 2))
    base = lattice(pts, (100, 100))
    for sampling in (1, (1, 1), 1.0, None):
        other = lattice(pts, (100, 100), sampling=sampling)
        for field in ("points", "triangles", "edges", "edge_lengths", "cell_areas",
                      "voronoi_labels"):
            np.testing.assert_array_equal(getattr(other, field), getattr(base, field))
        for p, q in zip(other.voronoi_polygons, base.voronoi_polygons, strict=True):
            np.testing.assert_array_equal(p, q)
    # a uniform pixel size changes the units, not the neighbours
    half = lattice(pts, (100, 100), sampling=0.5)
    np.testing.assert_array_equal(half.edges, base.edges)
    np.testing.assert_allclose(half.cell_areas, base.cell_areas / 4)


@pytest.mark.parametrize("sampling", [(0, 1), (-1, 1), (1, 2, 3), (np.nan, 1), "ab"])
def test_lattice_refuses_bad_sampling(sampling):
    with pytest.raises((ValueError, TypeError), match="sampling"):
        lattice([[0, 0], [0, 5], [5, 0]], sampling=sampling)


# generated points may be collinear or too close for Qhull (skipped); a loaded machine is slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(hnp.arrays(np.float64, (12, 2), elements=st.floats(0, 100, allow_subnormal=False),
                  unique=True),
       st.floats(0.2, 5.0), st.floats(0.2, 5.0))
def test_lattice_with_sampling_is_the_lattice_of_the_scaled_points(pts, sy, sx):
    size = np.array([sy, sx])
    try:
        scaled = lattice(pts * size)
        result = lattice(pts, sampling=(sy, sx))
    except ValueError:
        assume(False)
    np.testing.assert_array_equal(result.triangles, scaled.triangles)
    np.testing.assert_array_equal(result.edges, scaled.edges)
    np.testing.assert_array_equal(result.edge_lengths, scaled.edge_lengths)
    np.testing.assert_array_equal(result.cell_areas, scaled.cell_areas)
    for p, q in zip(result.voronoi_polygons, scaled.voronoi_polygons, strict=True):
        np.testing.assert_allclose(p * size, q, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("case", ["random", "jittered", "perfect", "hexagonal", "edge",
                                  "anisotropic", "far"])
def test_cell_areas_are_the_polygons_areas_and_polygons_are_made_on_demand(case):
    """The areas come from the ridges (triangles from each point to its cell's sides); they
    are the shoelace areas of the polygons, which are made only when read."""
    rng = np.random.default_rng(11)
    shape, sampling = (120, 130), None
    if case == "random":
        pts = rng.uniform(0, 119, (400, 2))
    else:
        r, c = np.meshgrid(np.arange(15) * 7.0 + 5, np.arange(16) * 7.0 + 5, indexing="ij")
        if case == "hexagonal":
            c = c + (np.arange(15)[:, None] % 2) * 3.5
        pts = np.column_stack([r.ravel(), c.ravel()])
        if case != "perfect" and case != "hexagonal":
            pts = pts + rng.normal(0, 0.3, pts.shape)
        if case == "edge":
            pts[:16, 0] = -0.5  # on the image's edge
        if case == "anisotropic":
            sampling = (3.0, 1.0)
        if case == "far":
            pts, shape = pts + 1e7, None
    result = lattice(pts, shape, sampling=sampling)
    polygons = result.voronoi_polygons
    assert "not made" in repr(polygons) and len(polygons) == len(pts)
    scale = np.asarray(sampling or (1.0, 1.0))
    areas = []
    for poly in polygons:
        v = (poly - poly.mean(axis=0)) * scale
        areas.append(abs(np.sum(v[:, 0] * np.roll(v[:, 1], -1)
                                - np.roll(v[:, 0], -1) * v[:, 1])) / 2)
    assert "not made" not in repr(polygons)
    np.testing.assert_allclose(result.cell_areas, areas, rtol=1e-7,
                               atol=1e-9 * max(areas))
    assert result.cell_areas.sum() > 0


def test_unique_edges_from_neighbours_are_the_same_bonds():
    """Each side taken once through the triangles' neighbours: the same sorted bonds."""
    from scipy.spatial import Delaunay

    from napari_tessella.tessellation import _unique_edges

    rng = np.random.default_rng(4)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(np.arange(20.0), np.arange(20.0))])
    for pts in (rng.uniform(0, 100, (2000, 2)), grid):
        tri = Delaunay(pts)
        expected = _unique_edges(tri.simplices)
        np.testing.assert_array_equal(_unique_edges(tri.simplices, tri.neighbors), expected)
        assert len(expected) == len(set(map(tuple, np.sort(np.concatenate(
            [tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]]),
            axis=1))))


def test_lattice_result_pickles_and_copies_with_its_cells():
    import copy
    import pickle

    result = lattice(np.random.default_rng(2).uniform(0, 50, (60, 2)), (50, 50))
    again = pickle.loads(pickle.dumps(result))
    for mine, theirs in zip(again.voronoi_polygons, result.voronoi_polygons, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert len(copy.deepcopy(result).voronoi_polygons) == 60
    np.testing.assert_array_equal(again.cell_areas, result.cell_areas)


def _mirror_cases():
    rng = np.random.default_rng(21)
    t = rng.uniform(0, 1, 300)
    return [
        ("a cluster in the middle of a large image: hull cells reach every side",
         rng.normal(500, 20, (200, 2)), (1000, 1000)),
        ("a cluster in a corner", rng.uniform(0, 30, (150, 2)), (400, 300)),
        ("a thin diagonal band",
         np.column_stack([t * 300, t * 300 + 10 + rng.normal(0, 3, 300)]), (330, 330)),
        ("random", rng.uniform(0, 100, (400, 2)), (101, 101)),
        ("points on the image edges", np.vstack([rng.uniform(-0.5, 79.5, (60, 2)),
                                                 [[-0.5, 10], [79.5, 40], [20, -0.5],
                                                  [30, 79.5], [-0.5, -0.5]]]), (80, 80)),
        ("a row of points", np.column_stack([np.full(40, 50.0) + rng.normal(0, 0.01, 40),
                                             np.linspace(5, 95, 40)]), (100, 100)),
    ]


@pytest.mark.parametrize("case", range(len(_mirror_cases())))
def test_cells_mirrored_only_across_the_sides_they_reach(case, monkeypatch):
    """The border cells are closed by mirrors across the box sides each one reaches (from
    its vertices and, on the convex hull, its open directions), not across all four: the
    same areas, ridges and polygons as with every mirror, and the areas fill the box."""
    from napari_tessella import _voronoi_cells

    _name, pts, shape = _mirror_cases()[case]
    result = lattice(pts, shape, pixel_map=False)
    np.testing.assert_allclose(result.cell_areas.sum(), shape[0] * shape[1], rtol=1e-9)
    monkeypatch.setattr(_voronoi_cells, "_sides_crossed",
                        lambda points, *_args: np.ones((len(points), 4), dtype=bool))
    every = lattice(pts, shape, pixel_map=False)
    np.testing.assert_allclose(result.cell_areas, every.cell_areas, rtol=1e-9, atol=1e-9)
    assert _side_set(result.voronoi_ridges, result.ridge_cells) == _side_set(
        every.voronoi_ridges, every.ridge_cells)
    for mine, theirs in zip(result.voronoi_polygons, every.voronoi_polygons, strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-9)
