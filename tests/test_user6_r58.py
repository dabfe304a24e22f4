"""Round 58, tried as a user: the widgets' outputs edited by hand and re-run, and Find
atoms' table on pixels with a size. Each test says whether it fails on the round's base
(2861725)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella._widgets import LatticeWidget


def _grid(n: int = 15, step: float = 8.0) -> np.ndarray:
    rows, cols = np.mgrid[0:n, 0:n] * step + 10
    return np.c_[rows.ravel(), cols.ravel()].astype(float)


@pytest.mark.parametrize("how", ["replaced", "in place"])
def test_bonds_drawn_as_vectors_and_edited_are_kept_on_a_re_run(viewer, how):
    """Over 150 triangles the Lattice draws its bonds and cells as Vectors. Bonds the
    user cut down (in napari's console: ``layer.data = layer.data[:10]``, or an edit in
    place, which emits no event) were overwritten by the next run without a word, as
    Labels and Points edited so are not. Fails on the base."""
    points = viewer.add_points(_grid(), name="cols")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget()
    bonds = viewer.layers["cols Delaunay"]
    assert bonds._type_string == "vectors"
    if how == "replaced":
        bonds.data = bonds.data[:10]
    else:
        bonds.data[:10] = 0.0
    mine = bonds.data.copy()
    points.data = points.data + 0.5  # the columns moved: the run's bonds are new
    widget()
    assert np.array_equal(bonds.data, mine) and bonds in viewer.layers
    assert "'cols Delaunay' was edited by hand" in widget._status.value
    new = viewer.layers["cols Delaunay [1]"]
    assert len(new.data) == 616
    widget()  # the run's own layer is updated in place, not a third one
    assert "cols Delaunay [2]" not in viewer.layers


def test_bonds_drawn_as_vectors_not_edited_are_updated_in_place(viewer):
    """The guard: a re-run over the widget's own Vectors updates them in place (passes on
    the base too)."""
    points = viewer.add_points(_grid(), name="cols")
    widget = LatticeWidget(viewer)
    widget.points.value = points
    widget()
    bonds = viewer.layers["cols Delaunay"]
    points.data = points.data + 0.5
    widget()
    assert viewer.layers["cols Delaunay"] is bonds and "cols Delaunay [1]" not in viewer.layers
    assert np.allclose(bonds.data[:, 0].min(axis=0), 10.5)
