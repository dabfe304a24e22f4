"""Inputs a demanding user tries that the earlier sweeps did not (QA pass s4): very
elongated images, ... Each test fails on the behaviour it fixed."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_tessella import seeded_watershed
from napari_tessella.nuclei import estimate_object_diameter


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("shape", [(2, 5120), (5120, 3), (2, 1000)])
def test_a_very_elongated_image_gets_a_diameter_not_an_index_error(lattice_image, shape,
                                                                  lazy):
    """A line scan or a thin strip (2 × 5120): the diameter estimate reduced the image by
    its long side (÷ 20), leaving no rows (IndexError in the block mean)."""
    rows, cols = shape
    strip = np.tile(lattice_image, (rows // 64 + 1, cols // 64 + 1))[:rows, :cols]
    image = da.from_array(strip, chunks=256) if lazy else strip
    diameter = estimate_object_diameter(image)
    assert 0 < diameter <= max(shape)
    result = seeded_watershed(image)
    labels = np.asarray(result.labels)
    assert labels.shape == shape
    if min(shape) > 2:
        assert labels.max() > 0
    # two rows are too few to tell the atoms from noise: the threshold's significance rule
    # (a cut within 1.8 noise deviations is raised to 4) may leave nothing, not an error


def _threshold(viewer, image):
    from napari_tessella._widgets import ThresholdLabelWidget

    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.image.value = image
    return widget


def test_labels_replaced_by_the_user_are_left_alone(viewer, lattice_image):
    """The user (console, another plugin) replaces the labels' data rather than painting:
    a re-run wrote over it (only paint strokes were noticed)."""
    widget = _threshold(viewer, viewer.add_image(lattice_image, name="lat"))
    widget()
    labels = viewer.layers["lat labels"]
    mine = np.where(labels.data == 1, 1, 0).astype(labels.data.dtype)
    labels.data = mine
    widget.smooth_sigma.value = 1.0
    widget()
    assert viewer.layers["lat labels"] is labels
    np.testing.assert_array_equal(labels.data, mine)
    assert viewer.layers["lat labels [1]"].data.max() > 1  # the re-run's own layer


def test_a_locked_output_is_left_alone(viewer, lattice_image):
    """A layer the user locked (napari's lock) is theirs: a re-run makes a new layer."""
    widget = _threshold(viewer, viewer.add_image(lattice_image, name="lat"))
    widget()
    centres = viewer.layers["lat centers"]
    before = centres.data.copy()
    centres.locked = True
    widget.smooth_sigma.value = 1.0
    widget()
    assert viewer.layers["lat centers"] is centres
    np.testing.assert_array_equal(centres.data, before)
    assert "lat centers [1]" in viewer.layers


def test_export_keeps_every_layer_when_names_clash_as_files(viewer, lattice_image, tmp_path):
    """Images named 'cells 1' and 'cells_1' both become 'cells_1_labels.tif' on disk: the
    second overwrote the first while the widget reported 6 files written."""
    widget = _threshold(viewer, viewer.add_image(lattice_image, name="cells 1"))
    widget()
    widget.image.value = viewer.add_image(lattice_image[::-1].copy(), name="cells_1")
    widget()
    written = widget.export(tmp_path)
    assert len(written) == len(set(written)) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    import tifffile

    first = [p for p in written if p.suffix == ".tif"]
    np.testing.assert_array_equal(tifffile.imread(first[0]), viewer.layers["cells 1 labels"].data)
    np.testing.assert_array_equal(tifffile.imread(first[1]), viewer.layers["cells_1 labels"].data)


@pytest.mark.parametrize("offset", [1e8, 1e10])
def test_a_lattice_far_from_the_origin(offset):
    """Stage coordinates (a 5-unit grid at 1e8, e.g. nm on a slide): Qhull dropped 31 of
    36 points as 'on top of other points', and the cell areas lost to rounding."""
    from napari_tessella import lattice

    rng = np.random.default_rng(1)
    grid = np.stack(np.meshgrid(np.arange(6.0), np.arange(6.0)), -1).reshape(-1, 2) * 5
    grid += rng.uniform(-1, 1, grid.shape)
    near, far = lattice(grid), lattice(grid + offset)
    np.testing.assert_array_equal(far.edges, near.edges)
    np.testing.assert_allclose(far.cell_areas, near.cell_areas, rtol=1e-5)
    for a, b in zip(far.voronoi_polygons, near.voronoi_polygons, strict=True):
        np.testing.assert_allclose(a - offset, b, atol=1e-5 * offset / 1e8)


def test_zero_objects_after_the_filters_says_so(viewer, lattice_image):
    """Dark objects with 'drop objects touching the border': the one dark background
    touches the border and goes; the status said "nothing passes the threshold", which
    sends the user to the threshold instead of the check box."""
    widget = _threshold(viewer, viewer.add_image(lattice_image, name="lat"))
    widget.dark_objects.value = True
    widget.exclude_border.value = True
    widget()
    status = widget._status.value
    assert "nothing passes the threshold" not in status
    assert "touching the border" in status
    assert "1 passes the threshold" in status


def test_zero_objects_above_the_threshold_still_says_nothing_passes(lattice_image):
    from napari_tessella._widgets.threshold_label import _no_objects

    params = {"threshold": 10.0, "smooth_sigma": 0.0, "opening": 3, "connectivity": 1,
              "min_size": 5, "exclude_border": True, "dark_objects": False}
    assert "nothing passes the threshold" in _no_objects(lattice_image, params, "lat", "5 px²")


def test_find_atoms_on_a_wrapped_image_warns_nothing(lattice_image):
    """A uint64 image whose negative values wrapped round (noise at 2⁶⁴): no column
    could be measured whole, and NumPy's "All-NaN slice encountered" reached the user."""
    import warnings

    from napari_tessella import find_atoms

    image = (lattice_image * 2**60).astype(np.uint64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = find_atoms(image, dark=True)
    assert len(result.positions) >= 3


@pytest.mark.parametrize("unit", ["Å", "angstrom", "µm", "Ångström"])
def test_labels_tiff_in_angstrom(tmp_path, unit):
    """ImageJ's TIFF tags are ASCII: 'Å' failed with "'ascii' codec can't encode" (the
    command line's --unit Å, and Export of a layer in Å); the unit reads back."""
    import tifffile

    from napari_tessella.export import save_labels
    from napari_tessella.reading import read_pixel_size

    labels = np.zeros((8, 8), np.int32)
    labels[2:5, 2:5] = 1
    path = save_labels(labels, tmp_path / "l.tif", scale=(0.5, 0.5), unit=unit)
    np.testing.assert_array_equal(tifffile.imread(path), labels)
    size = read_pixel_size(path)
    assert size.scale == pytest.approx((0.5, 0.5))
    assert size.unit == ("um" if unit == "µm" else "angstrom")


def test_export_of_a_layer_in_angstrom(viewer, lattice_image, tmp_path):
    widget = _threshold(viewer, viewer.add_image(lattice_image, name="stem",
                                                 scale=(0.3, 0.3), units="angstrom"))
    widget()
    written = widget.export(tmp_path)
    assert {p.name for p in written} >= {"stem_labels.tif", "stem_labels.csv"}


@pytest.mark.parametrize(("dtype", "factor"), [(np.float64, 1e308), (np.float32, 3e38),
                                               (np.float64, -1e308)])
@pytest.mark.parametrize("lazy", [False, True])
def test_find_atoms_near_the_largest_float(lattice_image, dtype, factor, lazy):
    """A finite image whose values come near the largest float of its dtype: the power of
    two it was divided by overflowed to infinity, the image became zeros and the answer
    was "image is constant (all values -0)" (find_atoms and estimate_separation)."""
    import warnings

    from napari_tessella import estimate_separation, find_atoms

    image = (lattice_image.astype(np.float64) / np.abs(lattice_image).max()).astype(dtype)
    big = image * dtype(factor)
    assert np.isfinite(big).all()
    plain = find_atoms(image, refine="gaussian")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = find_atoms(da.from_array(big, chunks=32) if lazy else big,
                            refine="gaussian", dark=factor < 0)
        assert estimate_separation(big) == pytest.approx(estimate_separation(image))
    assert len(result.positions) == len(plain.positions)
    def ordered(p):  # the chunked path sorts by (row, column)
        return p[np.lexsort(np.round(p).T[::-1])]

    assert np.allclose(ordered(result.positions), ordered(plain.positions),
                       atol=0.05 if lazy else 1e-4)
    assert np.isfinite(result.table["peak"]).all()  # (a sum of such values may be inf)
