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


def _hexagonal_on_oblong_pixels() -> np.ndarray:
    """A hexagonal lattice (0.14 nm apart) imaged on pixels twice as wide as tall: a
    fine image whose column pairs are averaged."""
    from napari_tessella.synthetic import synthetic_lattice

    fine = synthetic_lattice((160, 320), kind="hexagonal", spacing=14.0, sigma=2.0,
                             gaussian_noise=0.02, seed=3).image
    return fine.reshape(160, 160, 2).mean(axis=2)


def _find_then_lattice(viewer, image, scale):
    from napari_tessella._widgets import FindAtomsWidget

    layer = viewer.add_image(image, name="stem", scale=scale, units="nm")
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = layer
    atoms()
    columns = viewer.layers["stem columns"]
    lattice = LatticeWidget(viewer)
    lattice.points.value, lattice.image.value = columns, layer
    lattice.pixel_map.value = True
    lattice()
    cells = viewer.layers["stem columns Voronoi map"].data
    counts = np.bincount(cells.ravel(), minlength=len(columns.data) + 1)[1:]
    return columns.features, counts


def test_find_atoms_cells_on_oblong_pixels_are_the_samples_and_have_an_area_in_nm2(viewer):
    """Find atoms' table gave each column's Voronoi cell (``cell_area``,
    ``cell_intensity``, ``sublattice``) on the pixel grid, while its neighbours and the
    Lattice's pixel map of the same columns are of the sample: on pixels twice as wide as
    tall 47 of 293 columns had another cell than the Lattice's map gives them (11 of the
    225 inner ones), and ``cell_area`` was in pixels with no ``cell_area_nm2`` beside it
    (``nn_distance_nm`` was there). Fails on the base."""
    features, counts = _find_then_lattice(viewer, _hexagonal_on_oblong_pixels(),
                                          (0.01, 0.02))
    assert np.array_equal(features["cell_area"].to_numpy(), counts)
    area = features["cell_area_nm2"].to_numpy()
    assert np.allclose(area, features["cell_area"].to_numpy() * 0.01 * 0.02)
    hexagon = np.sqrt(3) / 2 * 0.14**2  # a cell of a hexagonal lattice of 0.14 nm
    assert abs(np.median(area) / hexagon - 1) < 0.03


def test_find_atoms_cells_on_square_pixels_are_as_before(viewer, lattice_image):
    """The guard: square pixels take the pixel grid's cells, as the Lattice does (the
    cells pass on the base too; ``cell_area_nm2`` is new)."""
    features, counts = _find_then_lattice(viewer, lattice_image, (0.05, 0.05))
    assert np.array_equal(features["cell_area"].to_numpy(), counts)


def _set_in_table(layer, row: int, column: str, value) -> None:
    """An edit in napari's Features table widget: it writes the cell into the layer's
    table in place (``layer.features.iloc[row, col] = value``), and emits no event."""
    layer.features.iloc[row, layer.features.columns.get_loc(column)] = value


def test_a_columns_sublattice_corrected_in_the_features_table_is_kept(viewer, lattice_image):
    """A column's ``sublattice`` corrected by hand in napari's Features table (or a
    console) was lost at the next Find atoms run, without a word: the run wrote its own
    table over it. The layer is the user's now, as a moved column makes it. Fails on the
    base."""
    from napari_tessella._widgets import FindAtomsWidget

    layer = viewer.add_image(lattice_image, name="stem")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    columns = viewer.layers["stem columns"]
    corrected = 1 - int(columns.features["sublattice"].iloc[0])
    _set_in_table(columns, 0, "sublattice", corrected)
    widget()
    assert columns in viewer.layers and columns.features["sublattice"].iloc[0] == corrected
    assert "'stem columns' was edited by hand" in widget._status.value
    assert "stem columns [1]" in viewer.layers


def test_a_class_set_on_the_centres_and_a_cell_in_the_shapes_are_kept(viewer):
    """The same for Threshold & label's centres (a column the user added for a class) and
    the Lattice's Voronoi Shapes (a cell's value corrected). Fails on the base."""
    from _widget_helpers import discs

    from napari_tessella._widgets import ThresholdLabelWidget

    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    centres = viewer.layers["dna centers"]
    centres.features["class"] = ["G1", "G2", "G1", "S"]  # in the console: no event
    widget()
    assert centres.features["class"].tolist() == ["G1", "G2", "G1", "S"]
    assert "'dna centers' was edited by hand" in widget._status.value

    points = viewer.add_points(_grid(5), name="cols")
    lattice = LatticeWidget(viewer)
    lattice.points.value = points
    lattice()
    cells = viewer.layers["cols Voronoi"]
    assert cells._type_string == "shapes"
    _set_in_table(cells, 0, "neighbours", 99)
    lattice()
    assert cells in viewer.layers and cells.features["neighbours"].iloc[0] == 99
    assert "'cols Voronoi' was edited by hand" in lattice._status.value


def test_outputs_whose_tables_are_untouched_are_updated_in_place(viewer, lattice_image):
    """The guard: a table looked at but not changed (napari's Features table reads it;
    a selection) leaves the layers the widget's own: a re-run makes no new layer (passes
    on the base too)."""
    from napari_tessella._widgets import FindAtomsWidget

    layer = viewer.add_image(lattice_image, name="stem")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget()
    columns = viewer.layers["stem columns"]
    columns.selected_data = {0, 1}
    _ = columns.features.describe()
    widget.refine.value = "com"
    widget()
    assert viewer.layers["stem columns"] is columns and "stem columns [1]" not in viewer.layers
    assert "edited by hand" not in widget._status.value


def test_labels_whose_table_alone_was_edited_are_exported_with_the_users_table(viewer,
                                                                               tmp_path):
    """A class column added to the labels' table (pixels untouched) is the user's work:
    Export writes the table as the user left it, not one measured again over it (which
    it does for painted labels). Guards this round's change (passes on the base, where
    a table edit went unseen)."""
    import pandas as pd
    from _widget_helpers import discs

    from napari_tessella._widgets import ThresholdLabelWidget

    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    labels = viewer.layers["dna labels"]
    labels.features["class"] = ["G1", "G2", "G1", "S"]
    written = widget.export(tmp_path)
    table = pd.read_csv(next(p for p in written if p.name == "dna_labels.csv"))
    assert table["class"].tolist() == ["G1", "G2", "G1", "S"]
    assert "measured again" not in widget._status.value


def test_labels_painted_exported_and_undone_are_the_widgets_again(viewer, tmp_path):
    """Export gives painted labels a table measured again; every stroke then undone, the
    labels are as the run wrote them and a re-run updates them in place, as without the
    Export (round 52's rule): the table Export made is not the user's edit. Guards this
    round's change (passes on the base, which did not read tables)."""
    from _widget_helpers import discs

    from napari_tessella._widgets import ThresholdLabelWidget

    image = viewer.add_image(discs(), name="d")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget()
    own = viewer.layers["d labels"]
    own.paint((110, 20), 7)
    widget.export(tmp_path)
    assert "measured again" in widget._status.value
    own.undo()
    widget()
    assert viewer.layers["d labels"] is own and "d labels [1]" not in viewer.layers
    assert "edited by hand" not in widget._status.value
