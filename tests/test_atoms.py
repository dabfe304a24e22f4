"""Atom-column finding on synthetic lattices with ground truth, and on NbW-STEM.png."""

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from napari_tessella.atoms import AtomsResult, estimate_separation, find_atoms
from napari_tessella.synthetic import synthetic_lattice

DATA = Path(__file__).parents[1].parent / "shared" / "data"
SHAPE = (160, 160)


def _score(found, truth, tol=2.0):
    """(found fraction, spurious count, RMS 2-D error of matched columns)."""
    d, idx = cKDTree(found).query(truth)
    matched = d < tol
    unique = len(np.unique(idx[matched]))
    spurious = len(found) - unique
    return matched.mean(), spurious, float(np.sqrt(np.mean(d[matched] ** 2)))


CASES = {
    "square": {"kind": "square"},
    "hexagonal": {"kind": "hexagonal"},
    "square+50%": {"kind": "square", "sublattice_intensity": 0.5},
    "hexagonal+50%": {"kind": "hexagonal", "sublattice_intensity": 0.5},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("refine", [None, "com", "gaussian"])
def test_all_columns_found_no_spurious(case, refine):
    lat = synthetic_lattice(SHAPE, gaussian_noise=0.05, seed=3, **CASES[case])
    result = find_atoms(lat.image, refine=refine)
    rate, spurious, _ = _score(result.positions, lat.positions)
    assert rate == 1.0
    assert spurious == 0
    assert len(result.positions) == len(lat.positions)


@pytest.mark.parametrize("kind", ["square", "hexagonal"])
@pytest.mark.parametrize(("refine", "limit"), [("com", 0.1), ("gaussian", 0.07)])
def test_position_accuracy_single_lattice(kind, refine, limit):
    # 2-D RMS; the Cramér-Rao bound at 5 % noise is 0.056 px (0.040 px per axis)
    lat = synthetic_lattice(SHAPE, kind=kind, gaussian_noise=0.05, seed=4)
    _, _, rms = _score(find_atoms(lat.image, refine=refine).positions, lat.positions)
    assert rms <= limit


@pytest.mark.parametrize("kind", ["square", "hexagonal"])
def test_gaussian_beats_blog_baseline_with_sublattice(kind):
    lat = synthetic_lattice(SHAPE, kind=kind, sublattice_intensity=0.5, seed=5)
    _, _, rms = _score(find_atoms(lat.image, refine="gaussian").positions, lat.positions)
    assert rms <= 0.12  # bound for the 50 % columns alone is 0.113 px


def test_gaussian_low_noise_reaches_005():
    lat = synthetic_lattice(SHAPE, gaussian_noise=0.02, seed=6)
    _, _, rms = _score(find_atoms(lat.image, refine="gaussian").positions, lat.positions)
    assert rms <= 0.05


def test_gaussian_table_has_fit_parameters():
    lat = synthetic_lattice((96, 96), seed=7)
    res = find_atoms(lat.image, refine="gaussian")
    assert isinstance(res, AtomsResult)
    for col in ("row", "col", "peak", "intensity", "amplitude", "sigma", "background",
                "converged"):
        assert col in res.table.columns
    assert len(res.table) == len(res.positions)
    assert np.median(res.table["sigma"]) == pytest.approx(1.4, abs=0.15)
    assert res.table["converged"].mean() > 0.95


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_dtypes(dtype):
    lat = synthetic_lattice((96, 96), gaussian_noise=0.02, seed=8)
    img = lat.image - lat.image.min()
    img = img / img.max()
    if np.issubdtype(dtype, np.integer):
        img = img * np.iinfo(dtype).max * 0.9
    res = find_atoms(img.astype(dtype), refine="com")
    rate, spurious, _ = _score(res.positions, lat.positions)
    assert rate == 1.0 and spurious == 0


@pytest.mark.parametrize("spacing", [6.0, 7.0, 9.0])
def test_estimate_separation(spacing):
    lat = synthetic_lattice((128, 128), spacing=spacing, seed=9)
    assert estimate_separation(lat.image) == pytest.approx(spacing, abs=0.6)


@pytest.mark.parametrize("factor", [1.0, 1000.0, 1 / 1000, 1e306, 1e-306])
def test_estimate_separation_is_find_atoms_own_whatever_the_intensity_scale(factor,
                                                                           monkeypatch):
    """The public estimate is the one find_atoms makes on its normalised image, at any
    intensity scale (1e306: the mean of the image overflowed, 'no periodic lattice')."""
    from napari_tessella import atoms

    image = synthetic_lattice((128, 128), kind="hexagonal", spacing=7.0,
                              seed=3).image.astype(np.float64) * factor
    made = []

    def recording(img):
        made.append(estimate_separation(img))
        return made[-1]

    monkeypatch.setattr(atoms, "estimate_separation", recording)
    find_atoms(image, refine=None)
    reference = estimate_separation(image / factor)
    assert made == [reference] and estimate_separation(image) == reference


def test_dark_finds_chambers_of_inverted_image():
    lat = synthetic_lattice((96, 96), gaussian_noise=0.02, seed=10)
    res = find_atoms(-lat.image, dark=True, refine="com")
    rate, spurious, _ = _score(res.positions, lat.positions)
    assert rate == 1.0 and spurious == 0


def test_bad_input():
    with pytest.raises(ValueError, match="constant"):
        find_atoms(np.ones((32, 32)))
    with pytest.raises(ValueError, match="2-D"):
        find_atoms(np.zeros((3, 32, 32)))
    with pytest.raises(ValueError, match="refine"):
        find_atoms(np.random.default_rng(0).random((32, 32)), refine="fancy")
    with pytest.raises(ValueError, match="separation"):
        find_atoms(np.random.default_rng(0).random((32, 32)), separation=0.5)
    with pytest.raises(TypeError, match="real numbers"):
        find_atoms(np.zeros((8, 8), dtype=complex))


def test_nbw_stem():
    path = DATA / "NbW-STEM.png"
    if not path.exists():
        pytest.skip(f"real test image missing: {path} (see shared/data/README.md)")
    from skimage import io

    img = io.imread(path).astype(np.float64) / 255
    res = find_atoms(img, refine="gaussian")
    d, _ = cKDTree(res.positions).query(res.positions, k=2)
    # the blog recipe finds 1376 objects (1568 without opening); median NN 6.8 px
    assert 1500 < len(res.positions) < 1800
    assert np.median(d[:, 1]) == pytest.approx(6.8, abs=0.3)


def test_positions_stay_inside_the_image(stem_image):
    from napari_tessella import find_atoms

    for dark in (False, True):
        result = find_atoms(stem_image, refine="gaussian", dark=dark)
        assert result.positions.min() >= 0
        assert np.all(result.positions <= np.array(stem_image.shape) - 1)


@pytest.mark.parametrize("kind", ["square", "hexagonal"])
def test_com_meets_01_px_with_a_50_percent_sublattice(kind):
    # the CoM target holds with the weaker sublattice too (bound: 0.088 px)
    lat = synthetic_lattice(SHAPE, kind=kind, sublattice_intensity=0.5, gaussian_noise=0.05,
                            seed=7)
    rate, spurious, rms = _score(find_atoms(lat.image, refine="com").positions, lat.positions)
    assert rate == 1.0 and spurious == 0
    assert rms <= 0.1


# --- close pairs (dumbbells) ----------------------------------------------------------------
def _crlb_pairs(lat, sigma, dose):
    """2-D Cramér-Rao bound of each column, from the Fisher information of its whole pair
    (two Gaussians and a background) under Poisson noise of ``dose`` counts per unit."""
    out = np.empty(len(lat.positions))
    for k in np.unique(lat.pair):
        idx = np.flatnonzero(lat.pair == k)
        c = np.rint(lat.positions[idx].mean(axis=0))
        rr, cc = np.meshgrid(np.arange(c[0] - 8, c[0] + 9), np.arange(c[1] - 8, c[1] + 9),
                             indexing="ij")
        rr, cc = rr.ravel(), cc.ravel()
        mu, jac = np.zeros(rr.size), []
        for i in idx:
            (r0, c0), a = lat.positions[i], lat.intensity[i]
            d2 = (rr - r0) ** 2 + (cc - c0) ** 2
            g = np.exp(-d2 / (2 * sigma**2))
            mu += a * g
            jac += [a * g * (rr - r0) / sigma**2, a * g * (cc - c0) / sigma**2, g,
                    a * g * d2 / sigma**3]
        jac = np.array([*jac, np.ones(rr.size)]).T
        cov = np.linalg.inv(jac.T @ (jac * (dose / np.maximum(mu, 1e-6))[:, None]))
        for j, i in enumerate(idx):
            out[i] = cov[4 * j, 4 * j] + cov[4 * j + 1, 4 * j + 1]
    return out


DUMBBELLS = [
    {"kind": "square", "pair_distance": 0.3, "angle": 0.0},  # unresolved by the filter
    {"kind": "hexagonal", "pair_distance": 0.3, "angle": 37.0},
    {"kind": "square", "pair_distance": 0.45, "angle": 120.0, "intensity_ratio": 0.5},
    {"kind": "hexagonal", "pair_distance": 0.6, "angle": 75.0},
    {"kind": "square", "pair_distance": 0.3, "angle": "random", "intensity_ratio": 0.9},
]


@pytest.mark.parametrize("case", DUMBBELLS, ids=lambda c: "-".join(map(str, c.values())))
def test_dumbbells_found_with_the_defaults(case):
    from napari_tessella.synthetic import synthetic_dumbbells

    lat = synthetic_dumbbells(SHAPE, seed=11, **case)
    result = find_atoms(lat.image, refine="gaussian")
    rate, spurious, rms = _score(result.positions, lat.positions, tol=1.0)
    assert rate == 1.0 and spurious == 0
    assert len(result.positions) == len(lat.positions)
    assert rms <= 0.02  # noise-free: the joint fit of the two Gaussians is exact
    # the two scales are reported
    d = case["pair_distance"] * 14.0
    if d < 0.75 * (14.0 - d):  # the pair is the nearest neighbour, the next one further
        assert result.pair_distance == pytest.approx(d, abs=0.05)
        assert result.lattice_spacing > result.pair_distance
        assert (result.table["partner"] >= 0).mean() > 0.9
    assert result.column_sigma == pytest.approx(1.4, abs=0.01)  # the fitted width


@pytest.mark.parametrize("refine", [None, "com"])
def test_dumbbells_found_by_every_refinement(refine):
    from napari_tessella.synthetic import synthetic_dumbbells

    lat = synthetic_dumbbells(SHAPE, pair_distance=0.35, angle=20.0, seed=12)
    rate, spurious, _ = _score(find_atoms(lat.image, refine=refine).positions, lat.positions,
                               tol=1.0)
    assert rate == 1.0 and spurious == 0


NOISY_DUMBBELLS = [
    {"kind": "hexagonal", "pair_distance": 0.4, "angle": 30.0, "poisson": 200.0, "seed": 13},
    # along a lattice row: a chain of 0.3 and 0.7 spacings, whose ends were missed
    {"kind": "square", "pair_distance": 0.7, "angle": 0.0, "poisson": 100.0, "seed": 16},
    {"kind": "hexagonal", "pair_distance": 0.7, "angle": 0.0, "poisson": 100.0, "seed": 16},
    # random directions: a column's light was split off as a second column
    {"kind": "square", "pair_distance": 0.4, "angle": "random", "poisson": 100.0, "seed": 17},
    # pairs not the nearest neighbours everywhere: single columns fitted with weights too
    {"kind": "hexagonal", "pair_distance": 0.5, "angle": 37.0, "poisson": 100.0, "seed": 18},
    {"kind": "square", "pair_distance": 0.3, "angle": 0.0, "poisson": 100.0, "seed": 19},
]


@pytest.mark.parametrize("case", NOISY_DUMBBELLS, ids=lambda c: "-".join(map(str, c.values())))
def test_dumbbells_with_shot_noise_near_the_cramer_rao_bound(case):
    from napari_tessella.synthetic import position_bound, synthetic_dumbbells

    lat = synthetic_dumbbells((192, 192), **case)
    result = find_atoms(lat.image, refine="gaussian")
    d, idx = cKDTree(result.positions).query(lat.positions)
    matched = d < 0.25 * case["pair_distance"] * 14
    assert matched.all()  # recall 1
    assert len(np.unique(idx)) == len(result.positions)  # precision 1
    bound = float(np.sqrt(np.mean(position_bound(lat, 1.4, case["poisson"]) ** 2)))
    # the target is 1.1 x the bound (benchmarks/atoms.py, 3 x 256^2 images per case);
    # on ~350 columns the RMS itself is uncertain by 1/sqrt(2N) = 3.6 %: two of those
    assert float(np.sqrt(np.mean(d**2))) <= 1.1 * 1.07 * bound


# the three cases that stayed at 1.12 x the bound: pairs along a square row (each column
# also 0.3 x the spacing from the next pair's), hexagonal 0.7 pairs at 37 deg (nearest
# 0.74 x the next distance: a quarter of the columns not taken as pairs) and randomly
# directed hexagonal 0.3 pairs (chains of overlapping columns)
HARD_DUMBBELLS = [
    {"kind": "square", "pair_distance": 0.7, "angle": 0.0},
    {"kind": "hexagonal", "pair_distance": 0.7, "angle": 37.0},
    {"kind": "hexagonal", "pair_distance": 0.3, "angle": "random"},
]


def test_hard_dumbbells_within_1_1_of_the_bound():
    """Pooled over the three cases (~1100 columns, the RMS uncertain by 2 %): at most
    1.1 x the bound (1.12 before the noise was measured again on the weighted fit and
    degenerate pair fits restarted; now 1.03)."""
    from napari_tessella.synthetic import position_bound, synthetic_dumbbells

    err, bound = [], []
    for case in HARD_DUMBBELLS:
        lat = synthetic_dumbbells((192, 192), poisson=100.0, seed=31, **case)
        result = find_atoms(lat.image, refine="gaussian")
        d, idx = cKDTree(result.positions).query(lat.positions)
        assert (d < 0.25 * case["pair_distance"] * 14).all()  # recall 1
        assert len(np.unique(idx)) == len(result.positions)  # precision 1
        err.append(d)
        bound.append(position_bound(lat, 1.4, 100.0))
    err, bound = np.concatenate(err), np.concatenate(bound)
    assert np.sqrt(np.mean(err**2)) <= 1.1 * np.sqrt(np.mean(bound**2))
    # no fit far off: a pair that ended as two wide Gaussians on a sunken background was
    # 8.7 x its bound off here (the largest error of a sound fit: 2.9 x)
    assert np.max(err / bound) < 5


DOSE_DUMBBELLS = [
    # low dose: true pairs' F statistics scale with the dose (a fixed F of 100 split
    # none of these at 30 counts)
    {"kind": "square", "pair_distance": 0.3, "angle": "random", "intensity_ratio": 0.6,
     "poisson": 30.0, "seed": 21},
    {"kind": "hexagonal", "pair_distance": 0.7, "angle": 0.0, "intensity_ratio": 0.6,
     "poisson": 40.0, "seed": 22},
    # high dose: a neighbour's light left over scores high F statistics too
    {"kind": "hexagonal", "pair_distance": 0.4, "angle": "random", "intensity_ratio": 0.5,
     "poisson": 2000.0, "seed": 23},
    # additive noise on the background: the peaks' shapes measured above the noise
    {"kind": "square", "pair_distance": 0.3, "angle": 37.0, "intensity_ratio": 0.8,
     "gaussian_noise": 0.05, "seed": 24},
]


@pytest.mark.parametrize("case", DOSE_DUMBBELLS, ids=lambda c: "-".join(map(str, c.values())))
def test_dumbbells_found_at_low_and_high_dose(case):
    from napari_tessella.synthetic import synthetic_dumbbells

    lat = synthetic_dumbbells((160, 160), **case)
    result = find_atoms(lat.image, refine="gaussian")
    d, idx = cKDTree(result.positions).query(lat.positions)
    matched = d < 0.25 * case["pair_distance"] * 14
    recall = matched.mean()
    precision = len(np.unique(idx[matched])) / len(result.positions)
    assert recall >= 0.995 and precision >= 0.995, (recall, precision)


def test_position_bound_of_pairs_and_neighbours():
    from napari_tessella.synthetic import position_bound, synthetic_dumbbells

    # pairs far apart: the pair model's bound
    far = synthetic_dumbbells((96, 96), spacing=30, pair_distance=0.15, poisson=100.0, seed=1)
    assert np.allclose(position_bound(far, 1.4, 100.0), _crlb_pairs(far, 1.4, 100.0) ** 0.5,
                       rtol=0.01)
    # a chain of 0.3/0.7 spacings: the neighbour 0.3 spacings away is fitted too, so the
    # bound is that of the 0.3 pair, well above the lone 0.7 pair's
    chain = synthetic_dumbbells((96, 96), pair_distance=0.7, angle=0.0, poisson=100.0, seed=1)
    with_neighbours = position_bound(chain, 1.4, 100.0)
    alone = _crlb_pairs(chain, 1.4, 100.0) ** 0.5
    inner = (chain.positions[:, 1] > 5) & (chain.positions[:, 1] < 75)  # both neighbours
    assert np.all(with_neighbours[inner] > 1.15 * alone[inner])
    with pytest.raises(ValueError, match="dose"):
        position_bound(chain, 1.4, 0.0)


def test_a_lattice_of_one_spacing_has_no_pairs():
    lat = synthetic_lattice(SHAPE, kind="hexagonal", sublattice_intensity=0.5, seed=14)
    result = find_atoms(lat.image, refine="gaussian")
    assert np.isnan(result.pair_distance)
    assert result.lattice_spacing == pytest.approx(7 * np.sqrt(3), abs=0.5)  # the period
    assert "close pairs" not in repr(result)


def test_unconverged_fits_keep_the_centre_of_mass():
    path = DATA / "NbW-STEM.png"
    if not path.exists():
        pytest.skip(f"real test image missing: {path} (see shared/data/README.md)")
    from skimage import io

    img = io.imread(path).astype(np.float64) / 255
    fit = find_atoms(img, refine="gaussian")
    com = find_atoms(img, refine="com")
    table = fit.table
    assert table["converged"].dtype == bool
    assert table["converged"].mean() > 0.9
    bad = ~table["converged"].to_numpy()
    assert bad.any()  # a few fits trade a huge amplitude for a deeply negative background
    d, _ = cKDTree(com.positions).query(fit.positions[bad])
    assert np.all(d < 0.5)  # they keep a centre of mass, not the runaway fit


def test_nbw_peaks_are_not_split_into_faint_columns():
    """NbW's columns are no Gaussians: a second Gaussian improves almost any fit (F of
    60-980), so a split there must not rest on F; NbW has no close-pair scale either."""
    path = DATA / "NbW-STEM.png"
    if not path.exists():
        pytest.skip(f"real test image missing: {path} (see shared/data/README.md)")
    from skimage import io

    img = io.imread(path).astype(np.float64) / 255
    result = find_atoms(img, refine="gaussian")
    amplitude = result.table["amplitude"].to_numpy()
    d, idx = cKDTree(result.positions).query(result.positions, k=2)
    # away from the border (a column cut by it is fitted as a part of one)
    inner = np.all((result.positions >= result.separation)
                   & (result.positions <= np.array(img.shape) - 1 - result.separation), axis=1)
    faint = (inner & (amplitude < 0.3 * np.median(amplitude)) & (d[:, 1] < 4)
             & (amplitude[idx[:, 1]] > amplitude))
    assert not faint.any(), result.positions[faint]
    assert np.isnan(result.pair_distance)


def test_dumbbells_chunk_by_chunk():
    import dask.array as da

    from napari_tessella.synthetic import synthetic_dumbbells

    lat = synthetic_dumbbells((256, 256), pair_distance=0.35, angle=20.0, seed=15)
    result = find_atoms(da.from_array(lat.image, chunks=(128, 128)), refine="gaussian")
    rate, spurious, rms = _score(result.positions, lat.positions, tol=1.0)
    assert rate == 1.0 and spurious == 0 and rms <= 0.02
    # the scales measured on the central crop are reported as in memory
    assert result.pair_distance == pytest.approx(0.35 * 14, abs=0.6)


# --- intensity scale ----------------------------------------------------------------------
_INTENSITY = ["peak", "intensity", "amplitude", "background"]


@pytest.fixture(scope="module")
def scale_lattice():
    """A small noisy lattice (float64, values up to ~1) and its Gaussian-fit columns."""
    image = synthetic_lattice((96, 96), spacing=8, seed=5).image.astype(np.float64)
    return image, find_atoms(image, refine="gaussian")


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("k", [-1000, -700, -300, -64, -17, 0, 20, 66, 300, 700, 1000])
def test_find_atoms_same_columns_times_a_power_of_two(scale_lattice, k):
    """image × 2**k gives the same columns bit for bit and its intensities × 2**k (above
    ~1e20 no Gaussian fit converged, with overflow warnings; below ~1e-200 the least
    squares raised 'SVD did not converge'), without a floating-point warning."""
    image, ref = scale_lattice
    factor = 2.0**k
    got = find_atoms(image * factor, refine="gaussian")
    assert ref.table["converged"].all()
    np.testing.assert_array_equal(got.positions, ref.positions)
    np.testing.assert_array_equal(got.table["converged"], ref.table["converged"])
    np.testing.assert_array_equal(got.table["sigma"], ref.table["sigma"])
    for column in _INTENSITY:
        np.testing.assert_array_equal(got.table[column] / factor, ref.table[column])


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("k", [-300, -200, -100, -10, -8, -3, 5, 20, 100, 200, 300])
@pytest.mark.parametrize("refine", ["com", "gaussian"])
def test_find_atoms_same_columns_times_a_power_of_ten(scale_lattice, k, refine):
    """image × 10**k rounds each pixel (1e-16 relative): the centres of mass stay within
    1e-6 px, the Gaussian fits within their stopping tolerance (1e-4 px; most columns
    within 1e-6 px), intensities scaled by the factor (to the fits' tolerance)."""
    image, ref = scale_lattice
    if refine == "com":
        ref = find_atoms(image, refine="com")
    factor = 10.0**k
    got = find_atoms(image * factor, refine=refine)
    assert len(got.positions) == len(ref.positions)
    d = np.abs(got.positions - ref.positions).max(axis=1)
    if refine == "com":
        assert d.max() < 1e-6
    else:
        assert d.max() < 2e-4 and np.mean(d < 1e-6) > 0.95
        assert got.table["converged"].all()
    for column in _INTENSITY if refine == "gaussian" else _INTENSITY[:2]:
        np.testing.assert_allclose(got.table[column] / factor, ref.table[column],
                                   rtol=1e-3, atol=1e-3 * np.abs(ref.table[column]).max())


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("factor", [2.0**-120, 1e-30, 1e30, 2.0**120])
def test_find_atoms_float32_extremes(scale_lattice, factor):
    """A float32 image near its type's limits keeps its columns."""
    image, _ = scale_lattice
    image32 = image.astype(np.float32)
    ref = find_atoms(image32, refine="gaussian")
    scaled = (image32 * np.float32(factor)).astype(np.float32)
    got = find_atoms(scaled, refine="gaussian")
    assert len(got.positions) == len(ref.positions) and got.table["converged"].all()
    d = np.abs(got.positions - ref.positions).max(axis=1)
    # float32 scaled by a power of two is exact unless a pixel became subnormal (the
    # faintest pixels of 2**-120 do); a power of ten rounds each pixel
    normal = np.all((scaled == 0) | (np.abs(scaled) >= np.finfo(np.float32).tiny))
    assert d.max() < (1e-9 if np.log2(factor).is_integer() and normal else 2e-3)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_find_atoms_integer_image_scale_and_threshold():
    """A uint16 count image: the threshold is in image units, so image × 2**k with
    threshold × 2**k finds the same columns as the counts."""
    lat = synthetic_lattice((96, 96), spacing=8, seed=2)
    counts = np.random.default_rng(0).poisson(200 * np.clip(lat.image, 0, None)).astype(np.uint16)
    ref = find_atoms(counts, refine="gaussian", threshold=40.0)
    for factor in (2.0**-900, 2.0**900):
        got = find_atoms(counts * factor, refine="gaussian", threshold=40.0 * factor)
        np.testing.assert_array_equal(got.positions, ref.positions)
        np.testing.assert_array_equal(got.table["amplitude"] / factor, ref.table["amplitude"])


@pytest.mark.parametrize("shape,size", [((40, 52), 3), ((31, 29), 9), ((12, 15), 13)])
def test_box_minimum_is_the_minimum_filter_at_the_pixels(shape, size):
    # the local background under each peak, read from boxes instead of a filtered image:
    # the same values everywhere, the border included
    from scipy import ndimage as ndi

    from napari_tessella.atoms import _box_minimum

    image = np.random.default_rng(size).random(shape)
    coords = np.argwhere(np.ones(shape, dtype=bool))
    expected = ndi.minimum_filter(image, size=size)[coords[:, 0], coords[:, 1]]
    assert np.array_equal(_box_minimum(image, coords, size), expected)


@pytest.mark.parametrize("n", [1, 2, 3, 201, 20_000])
def test_noise_model_quantiles_are_numpys(n):
    # the noise model's twenty levels come from quantiles of the sorted levels
    from napari_tessella._atoms_noise import _sorted_quantiles

    rng = np.random.default_rng(n)
    for values in (np.sort(rng.random(n)), np.sort(np.round(rng.random(n), 1))):
        q = np.linspace(0, 1, 21)
        assert np.array_equal(_sorted_quantiles(values, q), np.quantile(values, q))
