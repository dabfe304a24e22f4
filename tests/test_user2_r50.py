"""A user's pass, round 50: counts said in agreement with their number ("1 nucleus",
not "1 nuclei") in the widgets' status lines and the recipes' messages. Each test fails
on the behaviour it fixed."""

from __future__ import annotations

import numpy as np


def one_disc(shape=(128, 128), centre=(60.0, 64.0), radius: float = 11.0) -> np.ndarray:
    rr, cc = np.indices(shape)
    return ((rr - centre[0]) ** 2 + (cc - centre[1]) ** 2 <= radius**2).astype(float)


# --- counts and their nouns in agreement


def test_counted_says_one_in_the_singular():
    """The helper every message uses: the singular for 1, the plural for any other."""
    from napari_tessella._validation import counted

    assert counted(1, "nucleus", "nuclei") == "1 nucleus"
    assert counted(0, "nucleus", "nuclei") == "0 nuclei"
    assert counted(np.int64(1), "triangle") == "1 triangle"
    assert counted(3, "edge") == "3 edges"


def test_widgets_say_one_object_one_nucleus_one_triangle(make_napari_viewer):
    """One nucleus in the image, three points: the status lines said "1 objects in",
    "1 nuclei in … 1 seeds)", "3 points, 1 triangles"."""
    from napari_tessella._widgets import (
        LatticeWidget,
        SeededWatershedWidget,
        ThresholdLabelWidget,
    )

    viewer = make_napari_viewer()
    layer = viewer.add_image(one_disc(), name="one")
    threshold = ThresholdLabelWidget(viewer)
    threshold.image.value = layer
    threshold()
    assert threshold._status.value.startswith("1 object in 'one'"), threshold._status.value
    watershed = SeededWatershedWidget(viewer)
    watershed.image.value = layer
    watershed.object_diameter.value = 22
    watershed()
    status = watershed._status.value
    assert status.startswith("1 nucleus in 'one'") and "1 seed)" in status, status
    points = viewer.add_points([[10.0, 10.0], [10.0, 50.0], [50.0, 30.0]], name="three")
    lattice = LatticeWidget(viewer)
    lattice.points.value, lattice.image.value = points, None
    lattice()
    assert lattice._status.value.startswith("3 points, 1 triangle, 3 edges"), \
        lattice._status.value


def test_recipes_say_one_object_and_one_nucleus():
    """The recipes' messages (the API's and the batch's): "1 objects", "1 nuclei"."""
    from napari_tessella.recipes import run_recipe

    image = one_disc()
    assert run_recipe("threshold_label", image, {}).message == "1 object"
    seeded = run_recipe("seeded_watershed", image, {"object_diameter": 22})
    assert seeded.message == "1 nucleus"


# --- split_sublattices: at most one sublattice per distinct value


def test_split_sublattices_gives_one_sublattice_per_distinct_value_when_too_few():
    """Values all equal gave one sublattice for any ``n``, but two distinct values with
    ``n = 3`` raised ("cannot split them into 3 sublattices"), and three distinct values
    that a 256-bin histogram merges raised skimage's advice on ``nbins``. Either way the
    values now give one sublattice per distinct value, the brightest 0."""
    import pytest

    from napari_tessella.lattice_analysis import split_sublattices

    assert split_sublattices([1.0, 1.0, 1.0], n=3).tolist() == [0, 0, 0]
    assert split_sublattices([1.0, 2.0, 2.0], n=3).tolist() == [1, 0, 0]
    assert split_sublattices([2.0, 1.0, 2.0, 1.0, 1.0], n=5).tolist() == [0, 1, 0, 1, 1]
    assert split_sublattices([0.0, 1e-3, 1.0], n=3).tolist() == [2, 1, 0]
    # as before: two distinct values split by n = 2 as by its exact Otsu cut, and fewer
    # values than n asked for are refused, saying so
    assert split_sublattices([1.0, 1.0, 2.0]).tolist() == [1, 1, 0]
    with pytest.raises(ValueError, match="at least 4 values"):
        split_sublattices([1.0, 2.0, 3.0], n=4)
