"""Issue 13, one regression test per defect: a clear ValueError/TypeError in our words
(naming the argument and the value), or the correct result."""

from __future__ import annotations

import numpy as np
import pytest

import napari_tessella.lattice_analysis as la
from napari_tessella import (
    compute_threshold,
    lattice,
    pixel_voronoi,
    score_segmentation,
    seeded_watershed,
    threshold_label,
)
from napari_tessella._validation import (
    as_shape,
    finite_number,
    first_line,
    seeds_kind,
    size_in_image,
    whole_number,
)
from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei

NAN, INF = float("nan"), float("inf")
IMAGE = np.random.default_rng(0).random((40, 40))
IMAGE[10:20, 10:20] += 2


def test_helpers_name_the_argument_and_the_value():
    with pytest.raises(ValueError, match=r"sigma must be a finite number \(pixels\); got nan"):
        finite_number(NAN, "sigma", unit="pixels")
    with pytest.raises(TypeError, match=r"opening must be a whole number >= 0.*got True"):
        whole_number(True, "opening", minimum=0)
    with pytest.raises(ValueError, match=r"opening=1000000 pixels is larger than the image"):
        size_in_image(10**6, "opening", (40, 30), side="shortest")
    with pytest.raises(ValueError, match="rows, columns"):
        as_shape((64,))
    assert seeds_kind(np.zeros((40, 40), np.uint64), (40, 40)) == "labels"
    assert seeds_kind(np.zeros((40, 2)), (40, 40)) == "points"


def test_split_sublattices_n1_is_an_error_not_a_crash():  # 4
    with pytest.raises(ValueError, match=r"n \(number of sublattices\)"):
        la.split_sublattices(np.array([1.0, 2.0, 3.0]), n=1)


@pytest.mark.parametrize(("image", "method", "match"), [  # 5
    (np.zeros((0, 0)), "otsu", "too small"),
    (np.ones((8, 8)), "isodata", "constant"),
    (np.ones((8, 8)), "yen", "constant"),
    (np.array([[1.0, NAN], [2, 3]]), "otsu", "NaN"),
])
def test_compute_threshold_checks_the_image(image, method, match):
    with pytest.raises(ValueError, match=match):
        compute_threshold(image, method)


def test_uint32_full_range_costs_no_huge_histogram():  # 5
    image = np.array([[0, 2**32 - 1], [7, 9]], np.uint32).repeat(8, 0).repeat(8, 1)
    assert 9 < compute_threshold(image, "otsu") < 2**32 - 1


@pytest.mark.parametrize("scale", [1e18, 1e-22, 1e30])
def test_float32_extremes_label_like_float64(scale):  # 7
    expected = threshold_label(IMAGE, "otsu")
    for dtype in (np.float32, np.float64):
        np.testing.assert_array_equal(threshold_label((IMAGE * scale).astype(dtype)), expected)


@pytest.mark.parametrize("seeds", ["mask", "float", "wrong_shape"])
def test_seed_images_are_never_read_as_points(seeds):  # 8
    nuc = synthetic_nuclei((64, 64), n_nuclei=4, diameter=16, seed=1)
    arg = {"mask": nuc.labels > 0, "float": nuc.labels.astype(float),
           "wrong_shape": nuc.labels[:50]}[seeds]
    with pytest.raises((TypeError, ValueError), match="seeds"):
        seeded_watershed(nuc.image, seeds=arg)


@pytest.mark.parametrize(("kwargs", "match"), [  # 9, 13
    ({"smooth_sigma": INF}, "smooth_sigma must be a finite"),
    ({"smooth_sigma": 1e6}, "larger than the image"),
    ({"opening": 10**6}, "larger than the image"),
    ({"opening": INF}, "opening must be a whole number"),
    ({"threshold": NAN}, "threshold must be a finite"),
    ({"min_size": NAN}, "min_size must be a finite"),
])
def test_threshold_label_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        threshold_label(IMAGE, **kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [  # 9, 13
    ({"sigma": INF}, "sigma must be a finite"),
    ({"sigma": NAN}, "sigma must be a finite"),
    ({"object_diameter": 1e9}, "larger than the image"),
    ({"object_diameter": INF}, "object_diameter must be a finite"),
    ({"threshold": NAN}, "threshold must be a finite"),
])
def test_watershed_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        seeded_watershed(IMAGE, **kwargs)


def test_lattice_points_checks():  # 1, 2, 10, 14
    with pytest.raises(ValueError, match="duplicate"):
        lattice([[0, 0], [0, 1], [1, 0], [0, 0]])
    with pytest.raises(ValueError, match="duplicate"):
        la.structural_model([[0, 0], [0, 5], [5, 0]], [[0, 0], [3, 3], [2, 4]], (8, 8))
    with pytest.raises(ValueError, match="shape"):
        pixel_voronoi([[1, 1]], (64,))
    with pytest.raises(ValueError, match="k must be a whole number >= 1"):
        la.nearest_neighbor_distances(np.random.default_rng(0).random((5, 2)), k=0)
    grid = np.stack(np.meshgrid(range(4), range(4)), -1).reshape(-1, 2).astype(float)
    with pytest.raises(ValueError, match="16 duplicate"):
        la.bonds(np.concatenate([grid, grid]))
    with pytest.raises(ValueError, match="tolerance must be a finite"):
        la.coordination_numbers(grid, tolerance=NAN)


def test_score_segmentation_checks():  # 14
    with pytest.raises(ValueError, match="empty"):
        score_segmentation(np.zeros((0, 0), int), np.zeros((0, 0), int))
    with pytest.raises(ValueError, match="negative"):
        score_segmentation(-np.ones((3, 3), int), np.zeros((3, 3), int))


@pytest.mark.parametrize(("func", "kwargs", "match"), [  # 13, 14
    (synthetic_lattice, {"spacing": 0}, "spacing must be >= 1"),
    (synthetic_lattice, {"gaussian_noise": NAN}, "gaussian_noise must be a finite"),
    (synthetic_nuclei, {"diameter": NAN}, "diameter must be a finite"),
])
def test_synthetic_parameters(func, kwargs, match):
    with pytest.raises(ValueError, match=match):
        func((64, 64), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"separation": 1e9}, ValueError, "over half the image"),
        ({"separation": float("nan")}, ValueError, "separation must be a finite number"),
        ({"separation": float("inf")}, ValueError, "separation must be a finite number"),
        ({"separation": 1.0}, ValueError, "separation must be >= 2"),
        ({"separation": "6"}, TypeError, "separation must be a number"),
        ({"threshold": float("nan")}, ValueError, "threshold must be a finite number"),
        ({"refine": "fit"}, ValueError, "refine must be"),
        ({"dark": "yes"}, TypeError, "dark must be True or False"),
    ],
)
@pytest.mark.parametrize("chunked", [False, True])
def test_find_atoms_parameters_are_checked_before_any_work(kwargs, error, match, chunked):
    """issue 13 #9: huge or non-finite spacings used to allocate or run for minutes."""
    from napari_tessella import find_atoms
    from napari_tessella.synthetic import synthetic_lattice

    image = synthetic_lattice((64, 64), spacing=8.0, seed=0).image
    before = image.copy()
    with pytest.raises(error, match=match):
        if chunked:  # called directly: the same checks as in memory
            from napari_tessella.chunked import find_atoms_chunked

            find_atoms_chunked(image, chunks=32, **kwargs)
        else:
            find_atoms(image, **kwargs)
    np.testing.assert_array_equal(image, before)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"object_diameter": 1e9}, "larger than the image"),
    ({"object_diameter": NAN}, "object_diameter must be a finite number"),
    ({"sigma": 1e9}, "larger than the image"),
    ({"min_size": -1}, "min_size must be >= 0"),
    ({"min_size": NAN}, "min_size must be a finite number"),
    ({"landscape": "flood"}, "landscape must be"),
])
def test_chunked_watershed_checks_as_in_memory(kwargs, match):
    """seeded_watershed_chunked called directly refuses what seeded_watershed refuses,
    with the same message, before any work."""
    from napari_tessella.chunked import seeded_watershed_chunked

    with pytest.raises(ValueError, match=match):
        seeded_watershed(IMAGE, **kwargs)
    with pytest.raises(ValueError, match=match):
        seeded_watershed_chunked(IMAGE, chunks=32, **kwargs)


@pytest.mark.parametrize(("message", "default", "expected"), [
    ("QH6154 Qhull precision error\n\nWhile executing: | qhull d\n  more", "",
     "QH6154 Qhull precision error"),
    ("\n  broken PNG file  \nsecond", "", "broken PNG file"),
    ("", "OSError", "OSError"),
    ("   \n ", "Qhull failed", "Qhull failed"),
])
def test_first_line_of_a_message(message, default, expected):
    """The one first-line rule the readers, the command line and the lattice use for a
    library's many-line message (four copies before)."""
    assert first_line(ValueError(message), default) == expected
    assert first_line(message, default) == expected


def test_find_atoms_takes_dark_as_the_other_switches():
    """dark=1 was refused where exclude_border=1 is taken (one flag check for all)."""
    from napari_tessella import find_atoms

    image = synthetic_lattice((64, 64), spacing=8.0, seed=0).image
    np.testing.assert_array_equal(find_atoms(image, dark=1).positions,
                                  find_atoms(image, dark=True).positions)
    with pytest.raises(TypeError, match=r"^dark must be True or False; got 'no' \(str\)"):
        find_atoms(image, dark="no")


def test_prepare_image_refuses_a_ragged_list_in_our_words():
    """NumPy's 'inhomogeneous shape after 1 dimensions…' ValueError before."""
    from napari_tessella.recipes import prepare_image

    with pytest.raises(TypeError, match=r"^image must be a rectangular array of numbers"):
        prepare_image([[1.0, 2.0], [3.0]])
