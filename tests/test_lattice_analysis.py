"""Lattice analysis: distances, coordination, basis, Voronoi cells, sublattices."""

import numpy as np
import pandas as pd
import pytest
from scipy.spatial import cKDTree

from napari_tessella.lattice_analysis import (
    StructuralModel,
    basis_vectors,
    coordination_numbers,
    lattice_table,
    nearest_neighbor_distances,
    split_sublattices,
    structural_model,
    voronoi_cell_intensity,
)
from napari_tessella.synthetic import synthetic_lattice


def _voronoi(points, shape):
    """Reference pixel Voronoi map (label i + 1 = nearest point i) via a KD-tree."""
    rr, cc = np.indices(shape)
    _, idx = cKDTree(points).query(np.column_stack([rr.ravel(), cc.ravel()]))
    return (idx + 1).reshape(shape).astype(np.int32)


def _grid(n=8, a=(7.0, 7.0)):
    g = np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1).reshape(-1, 2)
    return g * np.asarray(a) + 5.0


def test_nn_distances():
    pts = _grid()
    np.testing.assert_allclose(nearest_neighbor_distances(pts)[:, 0], 7.0)
    d4 = nearest_neighbor_distances(pts, k=4)
    assert d4.shape == (len(pts), 4)
    assert np.all(np.diff(d4, axis=1) >= 0)


@pytest.mark.parametrize(("kind", "z"), [("square", 4), ("hexagonal", 6)])
def test_coordination_interior(kind, z):
    lat = synthetic_lattice((96, 96), kind=kind, gaussian_noise=0.0)
    cn = coordination_numbers(lat.positions)
    centre = np.array([48, 48])
    inner = np.hypot(*(lat.positions - centre).T) < 30
    assert np.all(cn[inner] == z)


@pytest.mark.parametrize("kind", ["square", "hexagonal"])
def test_basis_vectors(kind):
    lat = synthetic_lattice((128, 128), kind=kind, spacing=8.0, gaussian_noise=0.0)
    a = basis_vectors(lat.positions)
    assert a.shape == (2, 2)
    np.testing.assert_allclose(np.hypot(a[:, 0], a[:, 1]), 8.0, atol=1e-6)
    cos = abs(a[0] @ a[1]) / 64
    assert cos == pytest.approx(0.0 if kind == "square" else 0.5, abs=1e-6)


def test_voronoi_cell_intensity_matches_loop():
    rng = np.random.default_rng(0)
    img = rng.random((40, 50))
    labels = rng.integers(0, 7, size=(40, 50))
    fast = voronoi_cell_intensity(img, labels)
    slow = [img[labels == k].sum() for k in range(1, 7)]
    np.testing.assert_allclose(fast, slow)
    with pytest.raises(ValueError, match="differ"):
        voronoi_cell_intensity(img, labels[:10])


def test_split_sublattices():
    rng = np.random.default_rng(1)
    truth = np.repeat([0, 1], 100)
    values = np.where(truth == 0, 1.0, 0.5) + rng.normal(0, 0.05, 200)
    assert np.array_equal(split_sublattices(values), truth)
    assert split_sublattices([1.0, 1.0, 1.0]).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="at least"):
        split_sublattices([1.0])


def test_split_sublattices_value_at_cut():
    # a binned Otsu puts its cut at 0.549, calling the dim 0.55 bright; the exact split not
    lab = split_sublattices([1.0, 0.5, 0.97, 0.55, 1.02, 0.49])
    assert lab.tolist() == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("kind", ["square", "hexagonal"])
def test_lattice_table_recovers_sublattice(kind):
    lat = synthetic_lattice((128, 128), kind=kind, sublattice_intensity=0.5, seed=2)
    labels = _voronoi(lat.positions, lat.image.shape)
    table = lattice_table(lat.positions, lat.image, voronoi_labels=labels)
    assert isinstance(table, pd.DataFrame)
    assert len(table) == len(lat.positions)
    for col in ("nn_distance", "coordination", "cell_intensity", "sublattice"):
        assert col in table.columns
    # columns whose whole cell is inside the image are split exactly like the truth
    inner = np.all((lat.positions > 10) & (lat.positions < 118), axis=1)
    assert np.array_equal(table["sublattice"].to_numpy()[inner], lat.sublattice[inner])


def test_structural_model():
    atoms = synthetic_lattice((64, 64), gaussian_noise=0.0).positions
    chambers = atoms[:-1] + 3.5
    chambers = chambers[np.all(chambers < 63, axis=1)]
    model = structural_model(atoms, chambers, (64, 64))
    assert isinstance(model, StructuralModel)
    labels = model.voronoi_labels
    assert labels.shape == (64, 64)
    assert labels.max() == len(atoms) + len(chambers)
    assert (model.kind == "chamber").sum() == len(chambers)
    assert np.all(model.kind[model.bonds[:, 0]] != model.kind[model.bonds[:, 1]])
    # in a square lattice every chamber sits 3.5·√2 px from its 4 surrounding atoms
    d = cKDTree(atoms).query(chambers, k=4)[0]
    assert np.allclose(d, 3.5 * np.sqrt(2))
    # and the pixel map agrees with an independent nearest-point assignment
    ref = _voronoi(model.points, (64, 64))
    # the map is built from pixel-rounded seeds (EDT) and this lattice is full of ties
    assert (labels == ref).mean() > 0.9


def test_nn_distances_needs_three_points():
    with pytest.raises(ValueError, match="at least 3"):
        nearest_neighbor_distances([[0, 0], [1, 1]])


def test_bad_points():
    with pytest.raises(ValueError, match="at least 3"):
        basis_vectors([[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="at least 3"):
        lattice_table([[0, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        basis_vectors(np.zeros((5, 5, 2)))
    with pytest.raises(ValueError, match="one direction"):
        basis_vectors([[0, 0], [0, 7], [0, 14], [0, 21]])
    with pytest.raises(ValueError, match="2-D"):
        voronoi_cell_intensity(np.zeros((2, 8, 8)), np.zeros((8, 8), int))


def test_bonds_of_a_square_lattice():
    from napari_tessella.lattice_analysis import bonds

    r, c = np.meshgrid(np.arange(6) * 5.0, np.arange(6) * 5.0, indexing="ij")
    table = bonds(np.column_stack([r.ravel(), c.ravel()]))
    assert len(table) == 2 * 6 * 5
    np.testing.assert_allclose(table["length"], 5.0)
    assert sorted(np.unique(np.round(table["angle"]))) == [0.0, 90.0]


def test_basis_vectors_of_an_axis_aligned_lattice_with_jitter():
    # bonds along the row axis fold to both +90° and -90°: they must not cancel out
    rng = np.random.default_rng(0)
    r, c = np.meshgrid(np.arange(12) * 8.0, np.arange(12) * 8.0, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.05, (144, 2))
    lengths = sorted(np.hypot(*basis_vectors(pts).T))
    np.testing.assert_allclose(lengths, [8.0, 8.0], atol=0.05)


# --- dumbbells ----------------------------------------------------------------------------
@pytest.mark.parametrize("angle", [0.0, 37.0, 150.0, 260.0])
def test_find_dumbbells_centre_length_and_polarity(angle):
    from napari_tessella.lattice_analysis import find_dumbbells
    from napari_tessella.synthetic import synthetic_dumbbells

    lat = synthetic_dumbbells((128, 128), kind="hexagonal", pair_distance=0.4, angle=angle,
                              intensity_ratio=0.6, seed=1)
    table = find_dumbbells(lat.positions, lat.intensity)
    assert len(table) == len(lat.positions) // 2
    np.testing.assert_allclose(table["separation"], 0.4 * 14)
    np.testing.assert_allclose(table["orientation"], angle % 360, atol=1e-9)
    np.testing.assert_allclose(table["intensity_ratio"], 0.6)
    np.testing.assert_allclose(table["polarity"], 0.4 / 1.6)
    # the brighter column comes first, and the centre is the middle of the truth pair
    assert np.all(lat.sublattice[table["first"]] == 0)
    pair = lat.pair[table["first"]]
    truth = np.array([lat.positions[lat.pair == k].mean(axis=0) for k in pair])
    np.testing.assert_allclose(table[["row", "col"]], truth)
    # without intensities only the axis is known
    axis = find_dumbbells(lat.positions)["orientation"]
    np.testing.assert_allclose(axis, angle % 180, atol=1e-9)


def test_find_dumbbells_none_in_a_lattice_of_one_spacing():
    from napari_tessella.lattice_analysis import find_dumbbells

    for kind in ("square", "hexagonal"):
        lat = synthetic_lattice((96, 96), kind=kind, sublattice_intensity=0.5, seed=2)
        assert len(find_dumbbells(lat.positions)) == 0


def test_find_dumbbells_bad_input():
    from napari_tessella.lattice_analysis import find_dumbbells

    pts = [[0, 0], [0, 3], [10, 0], [10, 3]]
    with pytest.raises(ValueError, match="intensities"):
        find_dumbbells(pts, intensities=[1, 2])
    with pytest.raises(ValueError, match="ratio"):
        find_dumbbells(pts, ratio=1.5)


def test_lattice_table_measures_neighbours_in_the_pixel_size_given():
    """A square grid of 6 px on pixels 1 × 3 units: rows 6 units apart, columns 18 — two
    nearest neighbours at 6, not four at 6 px; the same grid on square pixels of 2 units:
    four at 12."""
    rr, cc = np.mgrid[0:10, 0:10]
    pts = np.column_stack([rr.ravel(), cc.ravel()]) * 6.0
    inner = ((pts > 0) & (pts < 54)).all(axis=1)
    table = lattice_table(pts, sampling=(1.0, 3.0))
    np.testing.assert_allclose(table["nn_distance"], 6.0)
    assert (table["coordination"][inner] == 2).all()
    table = lattice_table(pts, sampling=2.0)
    np.testing.assert_allclose(table["nn_distance"], 12.0)
    assert (table["coordination"][inner] == 4).all()
    with pytest.raises(ValueError, match="sampling"):
        lattice_table(pts, sampling=(0.0, 1.0))
