"""Property-based tests (hypothesis) of the public core functions: for any input — every
dtype and memory layout, tiny and constant images, NaN/inf, extreme parameters — the
outcome is a correct result or a clear ``ValueError``/``TypeError`` raised by this package
(never a numpy/scipy/skimage error leaking through), and the input is left unchanged.

They run under the fixed, small ``tessella`` profile registered in ``conftest.py``.
"""

from __future__ import annotations

import traceback

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import napari_tessella.lattice_analysis as la  # noqa: E402
from napari_tessella import (  # noqa: E402
    THRESHOLD_METHODS,
    compute_threshold,
    lattice,
    pixel_voronoi,
    score_segmentation,
    seeded_watershed,
    threshold_label,
)
from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei  # noqa: E402

DTYPES = [np.uint8, np.uint16, np.uint32, np.int16, np.int64, np.float32, np.float64, bool]

#: Numbers a user (or a parameters file) may pass for a parameter.
ODD_NUMBERS = st.sampled_from([0, -1, 0.5, 1, 2, 3, 1e9, 10**6, -0.0, np.inf, -np.inf,
                               np.nan, 1e-300, 2**63, True, "3", None])


def param(*valid):
    """A parameter: half the time one of the ``valid`` values, else an odd one."""
    return st.sampled_from(valid) | ODD_NUMBERS


def _copy(x):
    return None if x is None else np.array(x, copy=True)


def _same(a, b) -> bool:
    if a is None:
        return b is None
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        a, b, equal_nan=a.dtype.kind in "fc")


def outcome(func, *args, **kwargs):
    """Call ``func``; return ("ok", result) or ("error", exc). Any exception other than a
    ValueError/TypeError, or one raised outside napari_tessella (a library's own message
    leaking through), fails the test."""
    name = getattr(func, "__name__", "call")
    try:
        result = func(*args, **kwargs)
        hypothesis.event(f"{name}: result")
        return "ok", result
    except (ValueError, TypeError) as err:
        hypothesis.event(f"{name}: {type(err).__name__}")
        frames = traceback.extract_tb(err.__traceback__)
        assert "napari_tessella" in frames[-1].filename, (
            f"{type(err).__name__} leaked from {frames[-1].filename}: {err}")
        assert str(err), "an error without a message"
        return "error", err


@st.composite
def images(draw, min_side=2, max_side=16, finite=False):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side)))
    if np.dtype(dtype).kind == "f":
        elements = st.floats(allow_nan=not finite, allow_infinity=not finite,
                             width=32 if dtype == np.float32 else 64)
    else:
        elements = None
    arr = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(["C", "F", "strided", "constant"]))
    if layout == "F":
        arr = np.asfortranarray(arr)
    elif layout == "strided":
        arr = np.repeat(np.repeat(arr, 2, 0), 2, 1)[::2, ::2]
    elif layout == "constant" and arr.size:
        arr = np.full_like(arr, arr.flat[0])
    return arr


@given(images(min_side=0), st.sampled_from([*THRESHOLD_METHODS, 0.5, np.nan, "bogus", True]))
def test_compute_threshold(image, method):
    before = _copy(image)
    kind, value = outcome(compute_threshold, image, method)
    assert _same(image, before)
    if kind == "ok":
        assert np.isfinite(value)
        if isinstance(method, str):  # a method's threshold lies within the image's range
            lo, hi = float(np.min(image)), float(np.max(image))
            assert lo - 1e-6 * abs(lo) <= value <= hi + 1e-6 * abs(hi)


@pytest.mark.parametrize("scale", [1e-30, 1e-12, 1.0, 1e12, 1e30])
def test_thresholds_are_scale_invariant_in_float32_and_float64(scale):
    rng = np.random.default_rng(0)
    base = np.concatenate([rng.normal(1, 0.1, 500), rng.normal(3, 0.2, 300)]).reshape(40, 20)
    for method in ("otsu", "li", "yen", "isodata", "mean", "triangle"):
        ref = compute_threshold(base, method)
        for dtype in (np.float32, np.float64):
            got = compute_threshold((base * scale).astype(dtype), method) / scale
            assert got == pytest.approx(ref, rel=0.02, abs=0.05), (method, dtype)


@given(images(), st.sampled_from(["otsu", "li", 0.5, np.nan]), param(0, 1.0, 2.5),
       param(0, 2, 3), st.sampled_from([1, 2, 0, 3, 1.0, True]), param(0, 4))
def test_threshold_label(image, threshold, smooth_sigma, opening, connectivity, min_size):
    before = _copy(image)
    kind, labels = outcome(threshold_label, image, threshold, smooth_sigma=smooth_sigma,
                           opening=opening, connectivity=connectivity, min_size=min_size)
    assert _same(image, before)
    if kind == "ok":
        assert labels.shape == image.shape[:2] and labels.dtype == np.int32
        ids = np.unique(labels[labels > 0])
        np.testing.assert_array_equal(ids, np.arange(1, ids.size + 1))  # sequential 1..n


@given(images(min_side=8, max_side=40, finite=True), st.sampled_from(["otsu", "li", "yen"]),
       st.sampled_from([0, 1.0]), st.sampled_from([0, 3]), st.booleans(), st.booleans())
def test_chunked_threshold_label_equals_in_memory(image, threshold, sigma, opening, border,
                                                  dark):
    da = pytest.importorskip("dask.array")
    kwargs = dict(smooth_sigma=sigma, opening=opening, exclude_border=border,
                  dark_objects=dark, min_size=2)
    kind, expected = outcome(threshold_label, image, threshold, **kwargs)
    if kind == "ok" and threshold != "li":  # li: histogram iteration, may differ slightly
        lazy = threshold_label(da.from_array(image, chunks=8), threshold, **kwargs)
        np.testing.assert_array_equal(lazy.compute(), expected)


@st.composite
def points(draw, max_n=12, max_coord=31.0):
    """Random points, or a jittered grid; sometimes with a duplicate or a NaN/inf."""
    if draw(st.booleans()):
        n = draw(st.integers(0, max_n))
        coords = st.floats(0, max_coord, allow_nan=False) | st.sampled_from([0.0, 1.0, 5.0])
        arr = np.array(draw(st.lists(st.tuples(coords, coords), min_size=n, max_size=n)),
                       dtype=np.float64).reshape(-1, 2)
    else:
        side = draw(st.integers(2, 5))
        jitter = draw(st.floats(0, 1.5))
        g = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        arr = 2.0 + 6.0 * g + rng.uniform(-jitter, jitter, g.shape)
    n = len(arr)
    if n and draw(st.integers(0, 3)) == 0:  # a duplicate, anywhere
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n))
        arr = np.insert(arr, j, arr[i], axis=0)
    if n and draw(st.integers(0, 9)) == 0:
        arr[0, 0] = draw(st.sampled_from([np.nan, np.inf, -5.0, 1e300]))
    return arr


@given(points(), st.sampled_from([None, (32, 32), (20, 40), (64,), (0, 5), (32.5, 32)]))
def test_lattice(pts, shape):
    before = _copy(pts)
    kind, result = outcome(lattice, pts, shape)
    assert _same(pts, before)
    if kind == "ok":
        n = len(pts)
        assert len(result.points) == n and len(result.cell_areas) == n  # index-aligned
        assert len(result.voronoi_polygons) == n
        assert np.unique(pts, axis=0).shape[0] == n  # duplicates were refused
        assert np.all(result.cell_areas > 0)
        if shape is not None:  # the cells tile the image
            assert result.cell_areas.sum() == pytest.approx(shape[0] * shape[1], rel=1e-6)
            assert result.voronoi_labels.shape == shape


def test_lattice_refuses_duplicates_wherever_they_are():
    for pts in ([[0, 0], [0, 1], [1, 0], [0, 0]], [[0, 0], [0, 0], [1, 0], [0, 1]]):
        with pytest.raises(ValueError, match="1 duplicate point"):
            lattice(pts, (13, 13))
    with pytest.raises(ValueError, match="on top of other points"):
        lattice([[0, 0], [1e-13, 0], [1, 0], [0, 1], [5, 5]], (13, 13))


def test_lattice_keeps_large_label_ids():
    lab = np.zeros((20, 20), np.int64)
    lab[2:4, 2:4] = 2**32 + 5
    lab[10:12, 3:5] = 7
    lab[5:7, 12:15] = 9
    result = lattice(labels=lab)
    assert set(np.unique(result.voronoi_labels)) == {7, 9, 2**32 + 5}


@given(points(max_n=6), st.sampled_from([(16, 16), (64,), (0, 3), (8, 8, 8), "ab", 5]))
def test_pixel_voronoi(pts, shape):
    before = _copy(pts)
    kind, vor = outcome(pixel_voronoi, pts, shape)
    assert _same(pts, before)
    if kind == "ok":
        assert vor.shape == shape and vor.min() >= 1 and vor.max() <= len(pts)


@given(points(max_n=16), st.sampled_from([1, 2]) | st.sampled_from([0, -1, 2.5, np.nan, 100]),
       st.sampled_from([0.25, 0, 1.0, np.nan, np.inf, -1, 11]))
def test_lattice_analysis(pts, k, tolerance):
    before = _copy(pts)
    kind, d = outcome(la.nearest_neighbor_distances, pts, k=k)
    if kind == "ok":
        assert d.shape == (len(pts), k) and np.all(d > 0)
    kind, c = outcome(la.coordination_numbers, pts, tolerance=tolerance)
    if kind == "ok":
        assert c.shape == (len(pts),) and np.all(c >= 0)
    kind, b = outcome(la.bonds, pts, tolerance=tolerance)
    if kind == "ok":
        assert np.all(b["length"] > 0)
    outcome(la.basis_vectors, pts, tolerance=tolerance)
    outcome(la.lattice_table, pts, tolerance=tolerance)
    assert _same(pts, before)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [1.0, 2.0, 1e300, np.nan]), min_size=1, max_size=12),
       st.sampled_from([2, 3]) | st.sampled_from([1, 0, 2.5, 6, np.nan]))
def test_split_sublattices(values, n):
    vals = np.array(values, dtype=np.float64)
    before = _copy(vals)
    kind, sub = outcome(la.split_sublattices, vals, n=n)
    assert _same(vals, before)
    if kind == "ok":
        assert sub.shape == vals.shape and sub.min() >= 0 and sub.max() < n


@st.composite
def label_images(draw):
    dtype = draw(st.sampled_from([np.int8, np.int32, np.uint16, np.int64, np.uint64,
                                  np.float64, bool]))
    shape = draw(st.sampled_from([(0, 0), (1, 1), (6, 5), (12, 12)]))
    return draw(hnp.arrays(dtype, shape, elements=st.integers(-1, 4) if dtype not in (
        np.uint16, np.uint64, bool) else None))


@given(label_images(), label_images())
def test_score_segmentation(pred, ref):
    before = (_copy(pred), _copy(ref))
    kind, score = outcome(score_segmentation, pred, ref)
    assert _same(pred, before[0]) and _same(ref, before[1])
    if kind == "ok":
        assert score["n_pred"] == len(np.unique(pred[pred > 0]))
        assert 0 <= score["f1"] <= 1 and score["errors"] >= 0


@given(st.sampled_from([(32, 32), (24, 40), (0, 8), (8,), (16.5, 16)]), param(5.0, 8),
       param(1.0, 1.4), param(0.0, 0.05), param(6, 10.0))
def test_synthetic_generators(shape, spacing, sigma, noise, diameter):
    kind, lat = outcome(synthetic_lattice, shape, spacing=spacing, sigma=sigma,
                        gaussian_noise=noise)
    if kind == "ok":
        assert np.isfinite(lat.image).all() and lat.image.shape == shape
    kind, nuc = outcome(synthetic_nuclei, shape, n_nuclei=3, diameter=diameter, noise=noise)
    if kind == "ok":
        assert np.isfinite(nuc.image).all() and nuc.labels.max() <= 3


_NUC = synthetic_nuclei((48, 48), n_nuclei=3, diameter=14, brightness_range=(0.6, 1), seed=2)


@given(st.sampled_from(["labels", "mask", "float_labels", "points", "short", "none",
                        "name", "wrong_cols"]),
       param(14, 10.0), param(None, 0.7, 1), st.sampled_from(["auto", "otsu", np.nan, 0.3,
                                                               "bogus"]))
def test_seeded_watershed(seeds_kind, object_diameter, sigma, threshold):
    image = _NUC.image.copy()
    seeds = {"labels": _NUC.labels, "mask": _NUC.labels > 0,
             "float_labels": _NUC.labels.astype(float), "points": _NUC.centers,
             "short": _NUC.labels[:40], "none": None, "name": "regional_maxima",
             "wrong_cols": np.zeros((3, 3))}[seeds_kind]
    if object_diameter is None or object_diameter == 1e9:  # keep the default estimate fast
        object_diameter = 14
    kind, result = outcome(seeded_watershed, image, seeds=seeds, threshold=threshold,
                           object_diameter=object_diameter, sigma=sigma)
    assert _same(image, _NUC.image)
    if seeds_kind in ("mask", "float_labels", "short", "wrong_cols"):
        assert kind == "error"  # never read as point coordinates
    if kind == "ok":
        assert result.labels.shape == image.shape
        if seeds_kind == "labels":
            assert result.labels.max() >= 1


@pytest.mark.parametrize("scale", [1e-30, 1e20, 1e30])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_threshold_label_is_scale_invariant(scale, dtype):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    image = rng.random((48, 48))
    image[10:30, 10:30] += 2
    expected = threshold_label(image, "otsu")
    scaled = (image * scale).astype(dtype)
    np.testing.assert_array_equal(threshold_label(scaled, "otsu"), expected)
    lazy = threshold_label(da.from_array(scaled, chunks=16), "otsu")
    np.testing.assert_array_equal(lazy.compute(), expected)


@given(hnp.arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24))),
       st.integers(2, 12))
def test_square_opening_equals_scipy(mask, side):
    from scipy import ndimage as ndi

    from napari_tessella.segmentation import _square_opening

    expected = ndi.binary_opening(mask, structure=np.ones((side, side), dtype=bool))
    np.testing.assert_array_equal(_square_opening(mask, side), expected)


def test_an_opening_as_large_as_the_image_is_cheap():
    image = np.random.default_rng(0).random((512, 512))
    assert threshold_label(image, 0.5, opening=512).max() == 0


@given(images(min_side=0, max_side=12), label_images())
def test_voronoi_cell_intensity(image, labels):
    before = (_copy(image), _copy(labels))
    kind, sums = outcome(la.voronoi_cell_intensity, image, labels)
    assert _same(image, before[0]) and _same(labels, before[1])
    if kind == "ok":
        assert sums.shape == (int(labels.max()),)
        inside = labels > 0
        assert sums.sum() == pytest.approx(float(np.sum(image[inside], dtype=np.float64)),
                                           rel=1e-9, abs=1e-9)


@given(points(max_n=8), points(max_n=8), st.sampled_from([(32, 32), (40, 36), (8,)]))
def test_structural_model(atoms, chambers, shape):
    before = (_copy(atoms), _copy(chambers))
    kind, model = outcome(la.structural_model, atoms, chambers, shape)
    assert _same(atoms, before[0]) and _same(chambers, before[1])
    if kind == "ok":
        n = len(atoms) + len(chambers)
        assert len(model.points) == n and model.voronoi_labels.shape == shape
        assert model.voronoi_labels.min() >= 1 and model.voronoi_labels.max() <= n
        e = model.bonds
        assert np.all((e[:, 0] < len(atoms)) != (e[:, 1] < len(atoms)))


_LAT = synthetic_lattice((40, 40), spacing=8.0, seed=1).image


# degenerate random images make NumPy warn inside the Gaussian fits (0/0 widths, all-NaN
# medians) on the long profile; what this test holds is: a result or our clear error
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@given(st.one_of(images(max_side=24), st.just(_LAT)), param(None, 6.0, 8.0),
       param(None, 0.05), st.sampled_from(["com", "gaussian", None, "fit"]),
       st.sampled_from([False, True, "yes"]))
def test_find_atoms(image, separation, threshold, refine, dark):
    from napari_tessella import find_atoms
    from napari_tessella.chunked import find_atoms_chunked

    before = _copy(image)
    kwargs = {"separation": separation, "threshold": threshold, "refine": refine,
              "dark": dark}
    kind, result = outcome(find_atoms, image, **kwargs)
    assert _same(image, before)
    if kind == "ok":
        assert result.positions.shape[1] == 2 and np.isfinite(result.positions).all()
        assert len(result.table) == len(result.positions)
    if (kind == "error" and isinstance(result, TypeError)) or refine == "fit" or dark == "yes":
        # a parameter's type or value is refused the same way chunk by chunk, before work
        chunked, err = outcome(find_atoms_chunked, image, chunks=16, **kwargs)
        assert chunked == "error" and type(err) is type(result), (err, result)


@given(images(max_side=12), st.sampled_from(["same", "int64 huge", "negative", "float",
                                             "other shape", "bool"]))
def test_measure_objects(image, labels_kind):
    from napari_tessella import measure_objects

    shape = image.shape
    base = (np.arange(np.prod(shape)).reshape(shape) % 3).astype(np.int32)
    labels = {"same": base, "int64 huge": base.astype(np.int64) * 2**40,
              "negative": base - 1, "float": base.astype(float),
              "other shape": base[:-1], "bool": base > 0}[labels_kind]
    before, labels_before = _copy(image), _copy(labels)
    kind, table = outcome(measure_objects, labels, image)
    assert _same(image, before) and _same(labels, labels_before)
    if labels_kind in ("negative", "float", "other shape"):
        assert kind == "error"
    if kind == "ok":
        assert len(table) == len(np.unique(labels[labels > 0]))


@given(st.one_of(images(max_side=24), st.just(_NUC.image)))
def test_estimate_object_diameter(image):
    from napari_tessella import estimate_object_diameter

    before = _copy(image)
    kind, d = outcome(estimate_object_diameter, image)
    assert _same(image, before)
    if kind == "ok":
        assert np.isfinite(d) and 0 < d <= max(np.shape(image)[:2])


# a pixel size of 0 is refused (inputs sweep), and one under 1e-100, whose areas come out
# as 0 (tests/test_user3_r56.py)
_PIXEL_SIZE = st.floats(-1e6, 1e6).filter(lambda v: abs(v) >= 1e-100)


@given(st.tuples(_PIXEL_SIZE, _PIXEL_SIZE),
       st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)),
       st.sampled_from(["", "µm", "um", "micrometer", "nm", "pixel", "furlong"]))
def test_physical_columns(scale, translate, unit):
    """The one rule of the widgets and the CSV files: ASCII names, areas never negative,
    positions moved by the origin, displacements only scaled."""
    import pandas as pd

    from napari_tessella.export import physical_columns

    table = pd.DataFrame({"com_row": [1.0, 2.0], "com_col": [3.0, 4.0], "d_row": [1.0, 1.0],
                          "d_col": [2.0, 2.0], "area": [5.0, 6.0]})
    out = physical_columns(table, scale, translate, unit)
    assert list(table.columns) == ["com_row", "com_col", "d_row", "d_col", "area"]
    added = [c for c in out.columns if c not in table.columns]
    assert all(c.isascii() for c in added)
    if added:
        suffix = added[0].rsplit("_", 1)[1]
        np.testing.assert_allclose(out[f"com_row_{suffix}"], table["com_row"] * scale[0]
                                   + translate[0])
        np.testing.assert_allclose(out[f"d_col_{suffix}"], table["d_col"] * scale[1])
        assert (out[f"area_{suffix}2"] >= 0).all()
    assert physical_columns(out, scale, translate, unit).columns.tolist() == \
        out.columns.tolist()  # a table exported again gets no second set


@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_seeded_watershed_at_extreme_magnitudes(factor):
    """Values around 1e-300 are not 'constant' (a float32 floor of 1e-38 in the log offset
    swamped them): the same nuclei as the image at its own scale."""
    expected = seeded_watershed(_NUC.image.astype(float)).labels.max()
    assert seeded_watershed(_NUC.image.astype(float) * factor).labels.max() == expected


def test_estimate_object_diameter_fits_a_tiny_image():
    """A 3×4 image of noise measured 5.5 px (the sweep found 8.2): the estimate is at
    most the longest side, so it is a diameter the other functions accept."""
    from napari_tessella import estimate_object_diameter

    image = np.random.default_rng(0).random((3, 4))
    assert 0 < estimate_object_diameter(image) <= 4


@given(st.integers(2, 6), st.integers(256, 3000), st.booleans(), st.booleans(),
       st.integers(0, 99))
def test_elongated_images(short, long, transpose, lazy, seed):
    """Strips and line scans (2..6 × 256..3000): the nuclei recipe reduces the image by
    its long side; it must keep rows to work on (a 2 × 5120 strip raised IndexError)."""
    from scipy.ndimage import gaussian_filter

    from napari_tessella import estimate_object_diameter

    rng = np.random.default_rng(seed)
    image = gaussian_filter(rng.random((short, long)), 2) + rng.random((short, long))
    image = image.T if transpose else image
    if lazy:
        image = pytest.importorskip("dask.array").from_array(image, chunks=128)
    before = np.array(image, copy=True)
    kind, d = outcome(estimate_object_diameter, image)
    if kind == "ok":
        assert 0 < d <= max(image.shape)
    kind, result = outcome(seeded_watershed, image)
    if kind == "ok":
        assert np.asarray(result.labels).shape == image.shape
    assert _same(np.asarray(image), before)


def test_chunked_threshold_on_a_range_wider_than_the_largest_float():
    """-max to 1e292 spans more than the largest float: the chunked histogram's edges and
    the method's rescaling overflowed (NaN threshold, no object, against one in memory)."""
    da = pytest.importorskip("dask.array")
    image = np.full((8, 8), 9.97920155e291)
    image[0, 0] = -np.finfo(np.float64).max
    in_memory = threshold_label(image, "otsu")
    chunked = np.asarray(threshold_label(da.from_array(image, chunks=8), "otsu"))
    assert in_memory.max() == 1
    np.testing.assert_array_equal(chunked, in_memory)
