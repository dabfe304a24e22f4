"""Round 56, tried as a user: odd inputs that still got a wrong message, a silent 0 or inf
in a unit column, a Python warning on the command line, or no way out of a broken sample
download. Each test fails on the round's base (41f0129)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_tessella import find_atoms, lattice, seeded_watershed, threshold_label
from napari_tessella.cli import EXIT_USAGE, main
from napari_tessella.export import physical_columns
from napari_tessella.lattice_analysis import coordination_numbers


def test_a_lattice_near_the_largest_float_says_its_spread_not_collinear():
    """Four corners of a square of side 1e308: they span an area, so 'collinear' was a
    wrong sentence (the SVD of coordinates this large overflows); and points whose mean
    overflows gave a NumPy RuntimeWarning first."""
    square = [[0, 0], [1e308, 0], [0, 1e308], [1e308, 1e308]]
    far = [[1e308, 1e308], [1e308, 1.5e308], [1.5e308, 1e308]]
    for pts in (square, far):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="beyond what can be triangulated") as err:
                lattice(pts)
            assert "collinear" not in str(err.value)
            with pytest.raises(ValueError, match="beyond what can be triangulated"):
                coordination_numbers(pts)


def test_a_lattice_still_says_collinear_points_are_collinear():
    """The guard: points on a line, in pixels and in metres, keep their own sentence."""
    for pts in ([[0, 0], [1, 1], [2, 2]], [[0, 0], [1e-10, 1e-10], [2e-10, 2e-10]]):
        with pytest.raises(ValueError, match="collinear"):
            lattice(pts)


@pytest.mark.parametrize("size", [1e-320, 1e-200, 1e200, 1e308])
def test_a_pixel_size_whose_area_is_no_number_is_refused(size):
    """A pixel of 1e-320 units gave areas of 0, one of 1e308 areas of inf (with a NumPy
    overflow warning), silently, in the unit columns of every table."""
    table = pd.DataFrame({"area": [10.0], "centroid_row": [3.0], "centroid_col": [4.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="pixel size") as err:
            physical_columns(table, scale=(size, size), unit="nm")
    assert "\n" not in str(err.value) and "other units" in str(err.value)


def test_ordinary_pixel_sizes_keep_their_unit_columns():
    """The guard: picometres in metres and kilometre-sized pixels in nm still work."""
    table = pd.DataFrame({"area": [10.0], "centroid_row": [3.0], "centroid_col": [4.0]})
    for size in (1e-12, 1e12, -0.5):
        out = physical_columns(table, scale=(size, size), unit="nm")
        assert out["area_nm2"][0] == pytest.approx(10 * size * size)


@pytest.mark.parametrize("size", ["1e-320", "1e308"])
def test_a_pixel_size_beyond_the_float_range_is_a_usage_error(tmp_path, capsys, size):
    """On the command line: exit 2 with one line before any file is read (the base wrote
    tables of 0 or inf, with a RuntimeWarning and a source path printed on the terminal)."""
    image = tmp_path / "a.tif"
    yy, xx = np.mgrid[:48, :48]
    tifffile.imwrite(image, ((np.sin(yy / 2.5) * np.sin(xx / 2.5)) > 0.3).astype(np.uint8)
                     * 200)
    out = tmp_path / "out"
    code = main(["threshold-label", str(image), "--out", str(out), "--quiet",
                 "--pixel-size", size, "--unit", "nm"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert "--pixel-size" in err and "Warning" not in err and not out.exists()


def test_a_broken_cached_sample_says_where_it_is_and_to_delete_it(tmp_path, monkeypatch):
    """A truncated copy of the U2OS sample in the cache (the download cut by a full disk
    or copied by hand) was a ValueError about a truncated PNG, with no word of where the
    file is or what to do: the user could never load the sample again."""
    from napari_tessella import _sample_data, datasets

    png = tifffile.__file__  # any existing bytes that are not a PNG image
    with open(png, "rb") as src:
        (tmp_path / "dna-0.png").write_bytes(b"\x89PNG\r\n\x1a\n" + src.read(200))
    monkeypatch.setenv("NAPARI_TESSELLA_DATA", str(tmp_path))
    with pytest.raises(OSError, match="delete it") as err:
        datasets.load_u2os()
    assert str(tmp_path / "dna-0.png") in str(err.value)
    with pytest.raises(OSError, match=r"U2OS nuclei.*delete it"):
        _sample_data.u2os_sample()


_HUGE = 10**400  # a whole number beyond the floats: JSON and Python ints hold it


@pytest.mark.parametrize("call", [
    lambda img: threshold_label(img, smooth_sigma=_HUGE),
    lambda img: threshold_label(img, threshold=-_HUGE),
    lambda img: threshold_label(img, opening=_HUGE),
    lambda img: seeded_watershed(img, object_diameter=_HUGE),
    lambda img: find_atoms(img, separation=_HUGE),
    lambda img: lattice([[0, 0], [0, 5], [5, 0]], shape=(_HUGE, 10)),
])
def test_a_number_beyond_the_floats_is_a_sentence_not_an_overflow_error(call):
    """float(10**400) raises OverflowError: it came out of every parameter check as a
    traceback; now the check's own sentence, with the number shortened."""
    img = np.random.default_rng(0).random((30, 30))
    with pytest.raises(ValueError, match="must be a") as err:
        call(img)
    assert len(str(err.value)) < 200


@pytest.mark.parametrize("name", ["smooth_sigma", "opening"])
def test_a_parameters_file_with_a_400_digit_number_is_one_line(tmp_path, capsys, name):
    """The parameters file of the command line (JSON numbers have no size limit): exit 2
    with one line, not an OverflowError traceback."""
    pfile = tmp_path / "p.json"
    pfile.write_text('{"napari-tessella": "0.1.0", "operation": "threshold_label", '
                     f'"parameters": {{"{name}": {_HUGE}}}}}')
    image = tmp_path / "a.tif"
    tifffile.imwrite(image, np.eye(32, dtype=np.uint8) * 200)
    code = main(["threshold-label", str(image), "--out", str(tmp_path / "out"), "--quiet",
                 "--params", str(pfile)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and "Traceback" not in err and len(err.splitlines()) == 1, err


def test_seeds_far_outside_the_image_are_ignored_quietly():
    """Seeds outside the image are ignored (documented); one 1e20 pixels away also gave a
    NumPy 'invalid value encountered in cast' warning. The seed inside still counts."""
    from napari_tessella.synthetic import synthetic_nuclei

    nuc = synthetic_nuclei(seed=0)
    inside = np.argwhere(nuc.labels == 1).mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far = seeded_watershed(nuc.image, seeds=[inside, [1e20, 5.0], [-1e300, 1e300]])
    near = seeded_watershed(nuc.image, seeds=[inside])
    np.testing.assert_array_equal(far.labels, near.labels)
    assert far.labels.max() == 1
