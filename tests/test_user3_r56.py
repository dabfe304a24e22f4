"""Round 56, tried as a user: odd inputs that still got a wrong message, a silent 0 or inf
in a unit column, a Python warning on the command line, or no way out of a broken sample
download. Each test fails on the round's base (41f0129)."""

from __future__ import annotations

import warnings

import pytest

from napari_tessella import lattice
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
