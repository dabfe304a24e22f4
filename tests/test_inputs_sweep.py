"""Bad and unusual inputs to the non-widget API and the command line (round 13's sweep).

One test per defect found, each failing on the code before it: a bad input gets a
ValueError/TypeError raised by napari_tessella that names the parameter (never a
numpy/scipy/dask/zarr error, never a silently wrong answer); a legitimate unusual input
(coordinates in metres, a subnormal image) works. Property-based tests (hypothesis) run
under the project's small profile (``conftest.py``) with ``deadline=None``.
"""

from __future__ import annotations

import traceback

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import napari_tessella.lattice_analysis as la
import napari_tessella.tessellation as tess
from napari_tessella import (
    estimate_object_diameter,
    find_atoms,
    lattice,
    pixel_voronoi,
    seeded_watershed,
    threshold_label,
)
from napari_tessella.atoms import find_atoms_chunked
from napari_tessella.cli import main
from napari_tessella.export import physical_columns, save_labels, save_table
from napari_tessella.nuclei import estimate_object_diameter_chunked, seeded_watershed_chunked
from napari_tessella.reading import open_image
from napari_tessella.segmentation import threshold_label_chunked
from napari_tessella.synthetic import synthetic_nuclei

da = pytest.importorskip("dask.array")

NUC = synthetic_nuclei((96, 96), n_nuclei=5, diameter=18, seed=1)
IMAGE = np.clip(NUC.image.astype(np.float64), 0, None)
RNG = np.random.default_rng(1)
#: a jittered 5 x 5 grid, 10 pixels apart: no four points on a circle
GRID = (np.stack(np.meshgrid(np.arange(5) * 10.0, np.arange(5) * 10.0, indexing="ij"), -1)
        .reshape(-1, 2) + 5 + RNG.normal(0, 0.3, (25, 2)))


def ours(err: BaseException) -> None:
    """The error was raised by napari_tessella, in one line of our words."""
    frame = traceback.extract_tb(err.__traceback__)[-1]
    assert "napari_tessella" in frame.filename, f"leaked from {frame.filename}: {err}"
    assert str(err) and "\n" not in str(err), repr(str(err))


def raises(error, match, func, *args, **kwargs):
    with pytest.raises(error, match=match) as info:
        func(*args, **kwargs)
    ours(info.value)
    return info.value


# --------------------------------------------------------------------------------------
# images


@pytest.mark.parametrize("exponent", [-1025, -1050])
def test_a_subnormal_image_has_the_diameter_of_the_same_image_scaled(exponent):
    """A subnormal image (values below 2**-1022) is the same image times a power of two:
    estimate_object_diameter gave 18.89 px instead of 17.49 at 2**-1025, and numpy's
    'Too many bins for data range' at 2**-1050 (seeded_watershed already rescaled)."""
    expected = estimate_object_diameter(IMAGE)
    tiny = np.ldexp(IMAGE, exponent)
    assert estimate_object_diameter(tiny) == expected
    lazy = da.from_array(tiny, chunks=48)
    assert estimate_object_diameter_chunked(lazy) == pytest.approx(expected, rel=1e-9)
    assert seeded_watershed(tiny).object_diameter == expected


def test_find_atoms_of_a_ragged_list_names_the_image():
    """np.shape of a ragged list raised numpy's 'inhomogeneous shape' ValueError."""
    raises(TypeError, "image must be a rectangular array", find_atoms, [[1, 2], [3]])


def test_chunked_watershed_ragged_seeds_name_the_seeds():
    """np.ndim(seeds) of a ragged list raised numpy's 'inhomogeneous shape' ValueError."""
    raises(TypeError, "seeds must be", seeded_watershed_chunked, IMAGE, object_diameter=18,
           seeds=[[10, 20], [30]])


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("diameter", [1e-300, 0.5])
def test_an_object_diameter_below_a_pixel_is_refused(diameter, chunked):
    """1e-300 overflowed in the merge-splitting step (OverflowError: cannot convert float
    infinity to integer); a nucleus is at least a pixel across."""
    func = seeded_watershed_chunked if chunked else seeded_watershed
    raises(ValueError, "object_diameter must be >= 1", func, IMAGE, object_diameter=diameter)


def test_a_one_pixel_diameter_still_runs():
    assert seeded_watershed(IMAGE, object_diameter=1).labels.shape == IMAGE.shape


# --------------------------------------------------------------------------------------
# on/off switches: a string such as "no" or "False" was taken for True


SWITCHES = [
    (seeded_watershed, {"object_diameter": 18}, "exclude_border"),
    (seeded_watershed_chunked, {"object_diameter": 18}, "exclude_border"),
    (threshold_label, {"threshold": "otsu"}, "exclude_border"),
    (threshold_label, {"threshold": "otsu"}, "dark_objects"),
    (threshold_label_chunked, {"threshold": "otsu"}, "exclude_border"),
    (threshold_label_chunked, {"threshold": "otsu"}, "dark_objects"),
]


@pytest.mark.parametrize("value", ["no", "False", 2, -1, 0.5, None, np.array([True])])
@pytest.mark.parametrize(("func", "kwargs", "name"), SWITCHES)
def test_switches_take_true_or_false_only(func, kwargs, name, value):
    raises(TypeError, f"{name} must be True or False", func, IMAGE, **kwargs, **{name: value})


@pytest.mark.parametrize("value", ["no", 2])
def test_lattice_pixel_map_takes_true_or_false_only(value):
    raises(TypeError, "pixel_map must be True or False", lattice, GRID, shape=(64, 64),
           pixel_map=value)


def test_lattice_previous_must_be_a_lattice_result():
    """AttributeError: 'str' object has no attribute 'points'."""
    raises(TypeError, "previous must be the LatticeResult", lattice, GRID, previous="abc")


@pytest.mark.parametrize(("value", "same_as"), [(np.bool_(True), True), (1, True), (0, False),
                                               (np.int64(1), True)])
def test_numpy_bools_and_0_1_are_switches(value, same_as):
    labels = threshold_label(IMAGE, "otsu", exclude_border=value)
    assert np.array_equal(labels, threshold_label(IMAGE, "otsu", exclude_border=same_as))


# --------------------------------------------------------------------------------------
# chunks


CHUNKED = [
    lambda chunks: threshold_label_chunked(IMAGE[:32, :32], "otsu", chunks=chunks),
    lambda chunks: seeded_watershed_chunked(IMAGE, object_diameter=18, chunks=chunks),
    lambda chunks: find_atoms_chunked(IMAGE, separation=8, chunks=chunks),
]


@pytest.mark.parametrize(("chunks", "error", "match"), [
    (0, ValueError, "chunk sizes must be >= 1"),  # was dask's ZeroDivisionError
    (-5, ValueError, "chunk sizes must be >= 1"),
    ((16, 0), ValueError, "chunk sizes must be >= 1"),
    (True, TypeError, "chunks must be"),  # was 1-pixel chunks: thousands of tasks
    ("3", TypeError, "chunks must be"),  # dask's 'Chunks and shape must be of the same'
    ([16], ValueError, "one size per axis"),
    ((16, 16, 16), ValueError, "one size per axis"),
    (16.0, TypeError, "chunks must be"),
    (np.array([16.0]), TypeError, "chunks must be"),
])
@pytest.mark.parametrize("run", CHUNKED, ids=["threshold_label", "watershed", "atoms"])
def test_bad_chunks_are_refused_in_our_words(run, chunks, error, match):
    raises(error, match, run, chunks)


@pytest.mark.parametrize("chunks", [16, (16, 32), -1, (None, 16), "auto", ((16, 16), (32,)),
                                    np.int64(16)])
def test_every_form_of_chunks_dask_knows_still_works(chunks):
    image = IMAGE[:32, :32]
    got = threshold_label_chunked(image, "otsu", chunks=chunks).compute()
    np.testing.assert_array_equal(got, threshold_label(image, "otsu"))


@settings(deadline=None, max_examples=25)
@given(st.one_of(st.integers(-3, 40), st.floats(allow_nan=True), st.booleans(), st.none(),
                 st.text(max_size=3),
                 st.tuples(st.integers(-2, 40), st.integers(-2, 40)),
                 st.lists(st.integers(-2, 40), max_size=3)))
def test_chunks_give_labels_or_a_clear_error(chunks):
    image = IMAGE[:24, :24]
    try:
        got = threshold_label_chunked(image, "otsu", chunks=chunks).compute()
    except (ValueError, TypeError) as err:
        ours(err)
        return
    np.testing.assert_array_equal(got, threshold_label(image, "otsu"))


# --------------------------------------------------------------------------------------
# points, Delaunay and Voronoi


@pytest.mark.parametrize("func", [lattice, la.nearest_neighbor_distances,
                                  lambda p: pixel_voronoi(p, (64, 64))])
def test_complex_points_are_refused(func):
    """np.array(points, float) dropped the imaginary part with only a ComplexWarning."""
    raises(TypeError, "must be real", func, GRID.astype(complex))


def _triangle_set(triangles):
    return sorted(map(tuple, np.sort(triangles, axis=1).tolist()))


def _same_lattice(a, b, scale):
    """Lattice ``a`` is lattice ``b`` scaled by ``scale`` (Qhull may list the triangles
    in another order)."""
    assert _triangle_set(a.triangles) == _triangle_set(b.triangles)
    np.testing.assert_array_equal(a.edges, b.edges)
    np.testing.assert_allclose(a.edge_lengths, b.edge_lengths * scale, rtol=1e-12)
    np.testing.assert_allclose(a.cell_areas, b.cell_areas * scale**2, rtol=1e-9)
    assert sorted(map(tuple, a.ridge_cells.tolist())) == sorted(  # rows in no order
        map(tuple, b.ridge_cells.tolist()))


@pytest.mark.parametrize("scale", [1e-10, 1e-12, 1e-100])
def test_a_lattice_in_metres_is_the_lattice_in_pixels(scale):
    """Columns 1e-10 m apart were refused as 'collinear' (the rank tolerance had an
    absolute floor of 1e-9), and with that floor gone their cells lost their short sides
    (areas 25-77 % off: the ridges' tolerance had the same floor), and polygon_edges
    merged every vertex onto a grid of 1e-6."""
    small, unit = lattice(GRID * scale), lattice(GRID)
    _same_lattice(small, unit, scale)
    sides = tess.polygon_edges(small.voronoi_polygons)
    assert len(sides) == len(tess.polygon_edges(unit.voronoi_polygons)) == len(
        small.voronoi_ridges)


@pytest.mark.parametrize("scale", [1e80, 1e-200])
def test_a_spread_beyond_what_qhull_takes_is_said_in_one_line(scale):
    """Qhull's own 40-line precision report was the message."""
    raises(ValueError, "spread .* beyond what can be triangulated", lattice, GRID * scale)


@settings(deadline=None, max_examples=30)
@given(st.integers(-420, 200), st.floats(-1e6, 1e6))
def test_lattice_scaled_by_a_power_of_two(k, offset):
    """Scaling by 2**k is exact: the same triangles (offset: coordinates far from the
    origin), or, beyond the range Qhull takes, a one-line error of ours."""
    scale = 2.0 ** k
    try:
        got = lattice(GRID * scale + offset * scale)
    except ValueError as err:
        ours(err)
        assert not -290 <= k <= 160, err
        return
    _same_lattice(got, lattice(GRID + offset), scale)


@pytest.mark.parametrize("k", [-352, -400])
def test_points_so_close_their_cells_cannot_be_measured_are_refused(k):
    """At 2**-352 the cell areas were 2e-10 off their exact scaled values, at 2**-400 2.5
    times off (the circumcentres underflow), and were returned as results."""
    raises(ValueError, "spread .* beyond what can be triangulated", lattice,
           GRID * 2.0 ** k)


def test_a_pixel_map_too_large_for_memory_says_so(monkeypatch):
    """numpy's MemoryError ('Unable to allocate 37.3 GiB') for a 100000² map; the
    allocation is simulated so that no machine tries it."""
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(tess, "_nearest_label", no_memory)
    err = raises(ValueError, r"needs about \d+ GiB", pixel_voronoi, GRID, (64, 64))
    assert "pixel_map=False" in str(err)
    assert lattice(GRID, shape=(64, 64), pixel_map=False).voronoi_labels is None


# --------------------------------------------------------------------------------------
# writing files


LABELS = np.zeros((20, 20), np.int32)
LABELS[2:5, 2:5] = 1
LABELS[10:15, 10:15] = 300


@pytest.mark.parametrize(("labels", "error", "match"), [
    (LABELS + 0.5, TypeError, "integer label image"),  # was cut to integers silently
    (LABELS.astype(float), TypeError, "integer label image"),
    (LABELS - 5, ValueError, "negative values"),  # was wrapped to 251..255 silently
    (LABELS.astype(np.int64) * 2**32, ValueError, "beyond the 4294967295"),  # wrapped to 0
    ("abc", TypeError, "integer label image"),  # numpy's UFuncTypeError
    (None, TypeError, "integer label image"),
    (np.zeros((0, 0), int), ValueError, "not empty"),  # tifffile's 'nonconformant' warning
    (np.array([[np.nan]]), TypeError, "integer label image"),
])
def test_save_labels_refuses_what_it_would_write_wrong(tmp_path, labels, error, match):
    raises(error, match, save_labels, labels, tmp_path / "out.tif")
    assert not (tmp_path / "out.tif").exists()


def test_save_labels_writes_a_tiff_only_to_a_tiff_name(tmp_path):
    """A TIFF was written into 'labels.png'."""
    raises(ValueError, r"give a \.tif or \.tiff path", save_labels, LABELS,
           tmp_path / "labels.png")
    assert not (tmp_path / "labels.png").exists()


def test_save_labels_to_a_folder_with_spaces_and_accents(tmp_path):
    import tifffile

    folder = tmp_path / "résultats du jour ü"
    folder.mkdir()
    for labels in (LABELS, LABELS > 0, np.stack([LABELS, LABELS])):
        path = save_labels(labels, folder / "noyaux étiquetés.TIFF", scale=(0.5, 0.5),
                           unit="µm")
        np.testing.assert_array_equal(tifffile.imread(path), np.asarray(labels, int))
    table = pd.DataFrame({"row": [1.0], "col": [2.0], "area": [3]})
    path = save_table(table, folder / "tableau ü.csv", scale=(0.5, 0.5), unit="µm")
    assert pd.read_csv(path)["row_um"].tolist() == [0.5]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"scale": (0, 1)}, ValueError, "scale must be non-zero"),  # ZeroDivisionError in TIFF
    ({"scale": (np.nan, 1)}, ValueError, r"scale\[0\] must be a finite"),  # NaN columns
    ({"scale": (np.inf, 1)}, ValueError, r"scale\[0\] must be a finite"),
    ({"scale": (1,)}, ValueError, "scale must be .row, column."),  # 'not enough values to'
    ({"scale": 1}, TypeError, "scale must be .row, column."),  # "'int' is not iterable"
    ({"scale": None}, TypeError, "scale must be .row, column."),
    ({"scale": "ab"}, TypeError, "scale must be .row, column."),
    ({"unit": 5}, TypeError, "unit must be a string"),  # AttributeError: no 'strip'
])
@pytest.mark.parametrize("writer", ["labels", "table"])
def test_writers_check_the_pixel_size_and_unit(tmp_path, writer, kwargs, error, match):
    if writer == "labels":
        raises(error, match, save_labels, LABELS, tmp_path / "out.tif", **kwargs)
    else:
        table = {"row": [1.0], "col": [2.0]}
        raises(error, match, save_table, table, tmp_path / "out.csv", **kwargs)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("table", "error", "match"), [
    (None, TypeError, "table must be a pandas DataFrame"),  # an empty CSV was written
    ("abc", TypeError, "table must be a pandas DataFrame"),  # pandas' 'not properly called'
    ({"row": [1, 2], "col": [1]}, ValueError, "cannot be read as a table"),
])
def test_save_table_refuses_what_is_not_a_table(tmp_path, table, error, match):
    raises(error, match, save_table, table, tmp_path / "out.csv")
    raises(ValueError if error is ValueError else TypeError, match, physical_columns, table)
    assert not (tmp_path / "out.csv").exists()


def test_translate_is_checked_too():
    raises(ValueError, r"translate\[1\] must be a finite", physical_columns,
           {"row": [1.0]}, translate=(0, np.nan))


# --------------------------------------------------------------------------------------
# reading files


@pytest.mark.parametrize("path", [None, 5, b"image.tif"])
def test_open_image_of_what_is_not_a_path(path):
    """pathlib's 'expected str, bytes or os.PathLike object, not NoneType'."""
    raises(TypeError, "path must be a file path", open_image, path)


def test_open_image_of_an_empty_zarr_folder(tmp_path):
    """zarr's GroupNotFoundError quoting its StorePath(LocalStore, 'file://...')."""
    (tmp_path / "empty plate ü.zarr").mkdir()
    err = raises(ValueError, "cannot be read as a Zarr image", open_image,
                 tmp_path / "empty plate ü.zarr")
    assert "StorePath" not in str(err)


def test_open_image_of_a_zarr_with_broken_metadata(tmp_path):
    store = tmp_path / "broken.zarr"
    store.mkdir()
    (store / "zarr.json").write_text("{not json")
    raises(ValueError, "broken.zarr cannot be read as a Zarr image", open_image, store)


def test_measure_chunked_of_a_ragged_list_names_the_labels():
    """np.asarray of a ragged list: numpy's 'inhomogeneous shape' message."""
    from napari_tessella.measure import measure_objects_chunked

    raises(TypeError, "labels must be a rectangular array", measure_objects_chunked,
           [[1, 2], [3]], IMAGE, chunks=48)


# --------------------------------------------------------------------------------------
# parameters files


@pytest.mark.parametrize(("value", "error", "match"), [
    ("big", TypeError, "object_diameter must be a number"),
    (float("nan"), ValueError, "object_diameter must be a finite number"),  # 'NaN' in JSON
    (0.2, ValueError, "object_diameter must be >= 1"),
])
def test_save_parameters_writes_no_file_a_reader_would_refuse(tmp_path, value, error, match):
    """Both were written, and every reader (the command line, the widget) refused them."""
    from napari_tessella.params import save_parameters

    raises(error, match, save_parameters, tmp_path / "p ü.json", "seeded_watershed",
           {"object_diameter": value})
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("path", [None, 3])
def test_parameters_files_need_a_path(path):
    """pathlib's 'expected str, bytes or os.PathLike object, not NoneType'."""
    from napari_tessella.params import load_parameters, save_parameters

    raises(TypeError, "path must be a file path", load_parameters, path)
    raises(TypeError, "path must be a file path", save_parameters, path, "lattice", {})


# --------------------------------------------------------------------------------------
# command line


def test_cli_out_that_is_a_file(tmp_path, capsys):
    """'[Errno 17] File exists: ...' was the whole message."""
    import tifffile

    image = tmp_path / "nuclei ü.tif"
    tifffile.imwrite(image, (IMAGE / IMAGE.max() * 60000).astype(np.uint16))
    (tmp_path / "results").write_text("")
    code = main(["watershed", str(image), "--out", str(tmp_path / "results"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "is a file, not a folder" in err


def test_cli_below_a_pixel_diameter_is_a_usage_error(tmp_path, capsys):
    """--object-diameter 1e-300 failed the input with 'OverflowError: cannot convert
    float infinity to integer' (exit 1) instead of a usage error before any file."""
    import tifffile

    image = tmp_path / "nuclei.tif"
    tifffile.imwrite(image, (IMAGE / IMAGE.max() * 60000).astype(np.uint16))
    code = main(["watershed", str(image), "--out", str(tmp_path / "out"), "--quiet",
                 "--object-diameter", "1e-300"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--object-diameter must be >= 1" in err
    assert "OverflowError" not in err
