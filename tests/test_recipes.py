"""One recipe per operation (napari_tessella.recipes): input normalisation, the core call
and the result files, as the widgets and the command line use them — without a viewer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_tessella import _lazy, lattice, measure_objects, seeded_watershed, threshold_label
from napari_tessella.recipes import RECIPES, prepare_image, run_recipe, save_results
from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei


@pytest.fixture
def lattice_image():
    return (synthetic_lattice((96, 96), spacing=8.0, seed=1).image * 255).astype(np.uint8)


def test_prepare_image_keeps_values_and_goes_chunked_only_when_large(lattice_image,
                                                                     monkeypatch):
    da = pytest.importorskip("dask.array")
    same = prepare_image(lattice_image)
    assert same is lattice_image  # nothing rescaled, nothing copied
    lazy_small = prepare_image(da.from_array(lattice_image, chunks=32))
    assert isinstance(lazy_small, np.ndarray)  # read into memory: not large
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 1000)
    big = prepare_image(lattice_image)
    assert _lazy.is_lazy(big) and big.dtype == np.uint8
    assert isinstance(prepare_image(lattice_image, chunked=False), np.ndarray)


def test_threshold_label_recipe_equals_the_core(lattice_image, tmp_path):
    params = {"threshold": 150, "opening": 2}
    result = run_recipe("threshold_label", lattice_image, params, stem="x")
    expected = threshold_label(lattice_image, **params)
    np.testing.assert_array_equal(result.labels["x_labels"], expected)
    pd.testing.assert_frame_equal(result.tables["x_objects"],
                                  measure_objects(expected, lattice_image))
    written = save_results(result, tmp_path, scale=(0.5, 0.5), unit="nm")
    assert sorted(p.name for p in written) == ["x_labels.tif", "x_objects.csv"]
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "x_labels.tif"), expected)
    table = pd.read_csv(tmp_path / "x_objects.csv")
    np.testing.assert_allclose(table["com_row_nm"], table["com_row"] * 0.5)


def test_chunked_recipe_equals_in_memory(lattice_image):
    da = pytest.importorskip("dask.array")
    params = {"threshold": 150, "opening": 2}
    memory = run_recipe("threshold_label", lattice_image, params)
    chunked = run_recipe("threshold_label", da.from_array(lattice_image, chunks=40), params)
    np.testing.assert_array_equal(chunked.labels["image_labels"],
                                  memory.labels["image_labels"])
    np.testing.assert_allclose(chunked.tables["image_objects"]["com_row"],
                               memory.tables["image_objects"]["com_row"])


def test_lattice_recipe_uses_the_centres(lattice_image):
    result = run_recipe("lattice", lattice_image, {"threshold": 150, "centre": "com"})
    table = result.tables["image_points"]
    expected = lattice(table[["com_row", "com_col"]].to_numpy(), lattice_image.shape)
    assert len(result.extra.triangles) == len(expected.triangles)
    edges = result.tables["image_edges"]
    assert len(edges) == len(expected.edges)
    np.testing.assert_allclose(table["cell_area"].sum(), lattice_image.size)


def test_watershed_recipe_measures_the_nuclei():
    nuc = synthetic_nuclei(seed=0)
    result = run_recipe("seeded_watershed", nuc.image, {})
    core = seeded_watershed(nuc.image)
    np.testing.assert_array_equal(result.labels["image_labels"], core.labels)
    assert len(result.tables["image_objects"]) == len(np.unique(core.labels)) - 1


def test_unknown_operation_is_a_clear_error(lattice_image):
    with pytest.raises(ValueError, match="unknown operation 'blur'"):
        run_recipe("blur", lattice_image, {})
    assert set(RECIPES) == {"threshold_label", "seeded_watershed", "lattice", "find_atoms"}
