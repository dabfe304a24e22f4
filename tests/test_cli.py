"""The ``tessella`` command line and the parameters file format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile
from scipy import ndimage as ndi

from napari_tessella import _lazy, lattice, measure_objects, threshold_label
from napari_tessella.cli import main
from napari_tessella.params import (
    save_parameters,
)

OPTIONS = ["--smooth-sigma", "1", "--opening", "3", "--min-size", "10"]
KWARGS = {"smooth_sigma": 1.0, "opening": 3, "min_size": 10}


def _blobs(seed: int, shape=(240, 300)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = ndi.gaussian_filter(rng.standard_normal(shape), 4.0)
    field = (field - field.mean()) / field.std()
    return np.clip(100 + 50 * field + rng.normal(0, 5, shape), 0, 255).astype(np.uint8)


@pytest.fixture
def images(tmp_path):
    """Two TIFFs and a PNG in ``in/``; returns the folder and the arrays by stem."""
    from skimage.io import imsave

    folder = tmp_path / "in"
    folder.mkdir()
    arrays = {"a": _blobs(1), "b": _blobs(2), "c": _blobs(3, (200, 260))}
    tifffile.imwrite(folder / "a.tif", arrays["a"])
    tifffile.imwrite(folder / "b.tiff", arrays["b"])
    imsave(folder / "c.png", arrays["c"], check_contrast=False)
    return folder, arrays


def _read_labels(path):
    return tifffile.imread(path).astype(np.int32)


def test_threshold_label_matches_core(images, tmp_path, capsys):
    folder, arrays = images
    out = tmp_path / "out"
    code = main(["threshold-label", str(folder / "a.tif"), "--out", str(out), *OPTIONS])
    assert code == 0, capsys.readouterr().err
    expected = threshold_label(arrays["a"], **KWARGS)
    np.testing.assert_array_equal(_read_labels(out / "a_labels.tif"), expected)
    table = pd.read_csv(out / "a_objects.csv")
    pd.testing.assert_frame_equal(table, measure_objects(expected, arrays["a"]),
                                  check_dtype=False)
    assert "1 of 1 input(s) done" in capsys.readouterr().err


def test_folder_and_glob_inputs(images, tmp_path):
    folder, _ = images
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("*_labels.tif")) == [
        "a_labels.tif", "b_labels.tif", "c_labels.tif"]
    out2 = tmp_path / "out2"
    assert main(["threshold-label", str(folder / "*.tif*"), "--out", str(out2), "--quiet"]) == 0
    assert sorted(p.name for p in out2.glob("*.csv")) == ["a_objects.csv", "b_objects.csv"]


def test_params_round_trip_and_override(images, tmp_path):
    folder, arrays = images
    pfile = save_parameters(tmp_path / "p.json", "threshold_label",
                            {"threshold": "li", "smooth_sigma": 2.0, "opening": 3})
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder / "a.tif"), "--params", str(pfile),
                 "--opening", "5", "--out", str(out), "--quiet"]) == 0
    expected = threshold_label(arrays["a"], "li", smooth_sigma=2.0, opening=5)
    np.testing.assert_array_equal(_read_labels(out / "a_labels.tif"), expected)


def test_bad_file_does_not_stop_the_batch(images, tmp_path, capsys):
    folder, _ = images
    (folder / "broken.tif").write_bytes(b"this is not an image")
    tifffile.imwrite(folder / "flat.tif", np.full((50, 50), 7, np.uint8))
    out = tmp_path / "out"
    code = main(["threshold-label", str(folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "2 input(s) failed" in err
    assert "broken.tif" in err and "flat.tif" in err and "constant" in err
    assert "Traceback" not in err
    assert len(list(out.glob("*_labels.tif"))) == 3  # the good ones were still done


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["threshold-label", "does-not-exist.tif"], "input not found"),
        (["threshold-label", "nothing-*.tif"], "no files match"),
        (["threshold-label", "{img}", "--opening", "-2"], "opening must be a whole number"),
        (["threshold-label", "{img}", "--threshold", "foo"], "unknown threshold method"),
        (["threshold-label", "{img}", "--params", "missing.json"], "not found"),
    ],
)
def test_usage_errors_exit_2_with_one_line(images, tmp_path, capsys, monkeypatch, argv, message):
    folder, _ = images
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{img}", str(folder / "a.tif")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("tessella")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["threshold-label", "{img}", "--min-size", "-3"], "--min-size must be >= 0"),
        (["lattice", "{img}", "--smooth-sigma", "-1"], "--smooth-sigma must be >= 0"),
        (["watershed", "{img}", "--min-size", "-1"], "--min-size must be >= 0"),
        (["watershed", "{img}", "--landscape", "flat"], "--landscape must be"),
        (["atoms", "{img}", "--separation", "1"], "--separation must be >= 2"),
    ],
)
def test_usage_errors_name_the_option_typed(images, tmp_path, capsys, argv, said):
    """'min_size must be >= 0 pixels': the Python keyword, where the user typed
    --min-size; the option, as they typed it."""
    folder, _ = images
    argv = [a.replace("{img}", str(folder / "a.tif")) for a in argv]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert f"error: {said}" in err, err
    assert "_" not in err.split("error: ", 1)[1]


def test_argparse_errors_return_instead_of_exiting(capsys):
    assert main(["threshold-label", "x.tif", "--connectivity", "two"]) == 2
    assert "invalid int value" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert main([]) == 2


def test_chunked_and_zarr_give_the_in_memory_labels(images, tmp_path):
    pytest.importorskip("dask.array")
    zarr = pytest.importorskip("zarr")
    folder, arrays = images
    z = zarr.open_array(str(tmp_path / "m.zarr"), mode="w", shape=arrays["a"].shape,
                        chunks=(64, 64), dtype=np.uint8)
    z[:] = arrays["a"]
    out = tmp_path / "out"
    assert main(["threshold-label", str(tmp_path / "m.zarr"), str(folder / "b.tiff"),
                 "--chunked", "--chunks", "64", "--out", str(out), "--quiet", *OPTIONS]) == 0
    for stem in ("m", "b"):
        got = _read_labels(out / f"{stem}_labels.tif")
        source = arrays["a" if stem == "m" else "b"]
        expected = threshold_label(source, **KWARGS)
        np.testing.assert_array_equal(got, expected)
        table = pd.read_csv(out / f"{stem}_objects.csv")
        np.testing.assert_allclose(
            table[["com_row", "com_col", "area", "mean"]],
            measure_objects(expected, source)[["com_row", "com_col", "area", "mean"]])


def test_lattice_writes_voronoi_map_and_edges(images, tmp_path):
    folder, arrays = images
    out = tmp_path / "out"
    assert main(["lattice", str(folder / "c.png"), "--out", str(out), "--quiet",
                 "--pixel-size", "0.5", "--unit", "um"]) == 0
    table = measure_objects(threshold_label(arrays["c"]), arrays["c"])
    expected = lattice(table[["com_row", "com_col"]].to_numpy(), arrays["c"].shape)
    np.testing.assert_array_equal(_read_labels(out / "c_voronoi.tif"), expected.voronoi_labels)
    edges = pd.read_csv(out / "c_edges.csv")
    np.testing.assert_array_equal(edges[["point_a", "point_b"]].to_numpy(), expected.edges)
    np.testing.assert_allclose(edges["length"], expected.edge_lengths)
    points = pd.read_csv(out / "c_points.csv")
    np.testing.assert_allclose(points["cell_area"], expected.cell_areas)
    np.testing.assert_allclose(points["com_row_um"], points["com_row"] * 0.5)


def test_same_names_in_different_folders_are_not_overwritten(tmp_path):
    for sub, seed in (("x", 1), ("y", 2)):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "img.tif", _blobs(seed))
    out = tmp_path / "out"
    assert main(["threshold-label", str(tmp_path / "*" / "img.tif"), "--out", str(out),
                 "--quiet"]) == 0
    assert sorted(p.name for p in out.glob("*.tif")) == ["img-2_labels.tif", "img_labels.tif"]


# --------------------------------------------------------------------------------------
# parameters files


def test_lattice_accepts_threshold_label_parameters(images, tmp_path):
    folder, arrays = images
    pfile = save_parameters(tmp_path / "p.json", "threshold_label", {"smooth_sigma": 1.0})
    out = tmp_path / "out"
    assert main(["lattice", str(folder / "a.tif"), "--params", str(pfile), "--out", str(out),
                 "--quiet", "--centre", "centroid"]) == 0
    table = measure_objects(threshold_label(arrays["a"], smooth_sigma=1.0), arrays["a"])
    points = pd.read_csv(out / "a_points.csv")
    np.testing.assert_allclose(points["centroid_row"], table["centroid_row"])
    wrong = save_parameters(tmp_path / "w.json", "threshold_label", {})
    doc = json.loads(wrong.read_text())
    doc["operation"] = "seeded_watershed"
    wrong.write_text(json.dumps(doc))
    assert main(["lattice", str(folder / "a.tif"), "--params", str(wrong), "--quiet"]) == 2


def test_scheduler_address(images, tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")
    from napari_tessella import _lazy as chunked

    folder, arrays = images
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster:
        try:
            code = main(["threshold-label", str(folder / "a.tif"), "--out", str(out),
                         "--quiet", "--chunks", "64", "--scheduler", cluster.scheduler_address])
        finally:
            for client in chunked._CLIENTS.values():
                client.close()
            chunked._CLIENTS.clear()
    assert code == 0, capsys.readouterr().err
    np.testing.assert_array_equal(_read_labels(out / "a_labels.tif"), threshold_label(arrays["a"]))

    monkeypatch.setattr(chunked, "CONNECT_TIMEOUT", "1s")
    code = main(["threshold-label", str(folder / "a.tif"), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot connect" in capsys.readouterr().err


def test_large_images_go_chunked_to_zarr(images, tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask.array")
    zarr = pytest.importorskip("zarr")

    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 10_000)  # "large" = above 100 x 100
    folder, arrays = images
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder / "a.tif"), "--chunks", "64", "--out", str(out),
                 "--quiet", *OPTIONS]) == 0
    got = np.asarray(zarr.open_array(out / "a_labels.zarr/labels/a_labels/0", mode="r"))
    expected = threshold_label(arrays["a"], **KWARGS)
    np.testing.assert_array_equal(got, expected)
    table = pd.read_csv(out / "a_objects.csv")
    np.testing.assert_allclose(table[["com_row", "area"]],
                               measure_objects(expected, arrays["a"])[["com_row", "area"]])

    assert main(["lattice", str(folder / "b.tiff"), "--out", str(out), "--quiet"]) == 0
    assert "Voronoi pixel map skipped" in capsys.readouterr().err
    assert (out / "b_edges.csv").exists() and not (out / "b_voronoi.tif").exists()


def test_atoms_and_watershed_commands(tmp_path):
    from napari_tessella import find_atoms, seeded_watershed
    from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei

    lat = synthetic_lattice((160, 160), spacing=8, seed=4)
    tifffile.imwrite(tmp_path / "lattice.tif", lat.image)
    assert main(["atoms", str(tmp_path / "lattice.tif"), "--out", str(tmp_path / "a"),
                 "--quiet"]) == 0
    table = pd.read_csv(tmp_path / "a" / "lattice_atoms.csv")
    np.testing.assert_allclose(table[["row", "col"]], find_atoms(lat.image).positions)

    nuc = synthetic_nuclei((200, 200), n_nuclei=8, diameter=30, brightness_range=(0.6, 1),
                           seed=5)
    tifffile.imwrite(tmp_path / "nuclei.tif", nuc.image)
    assert main(["watershed", str(tmp_path / "nuclei.tif"), "--out", str(tmp_path / "w"),
                 "--quiet"]) == 0
    labels = tifffile.imread(tmp_path / "w" / "nuclei_labels.tif")
    assert labels.max() == seeded_watershed(nuc.image).labels.max()
    assert (tmp_path / "w" / "nuclei_territories.tif").exists()


def test_watershed_command_chunked_in_memory_and_zarr_outputs(tmp_path, monkeypatch):
    from napari_tessella import seeded_watershed
    from napari_tessella.synthetic import synthetic_nuclei

    nuc = synthetic_nuclei((600, 640), n_nuclei=60, diameter=30, seed=7)
    tifffile.imwrite(tmp_path / "nuclei.tif", nuc.image)
    memory = seeded_watershed(nuc.image)
    assert main(["watershed", str(tmp_path / "nuclei.tif"), "--out", str(tmp_path / "c"),
                 "--chunked", "--chunks", "200", "--quiet"]) == 0
    labels = tifffile.imread(tmp_path / "c" / "nuclei_labels.tif")
    fg = labels > 0
    np.testing.assert_array_equal(fg, memory.labels > 0)
    pairs = np.unique(np.stack([labels[fg], memory.labels[fg]]), axis=1)
    assert pairs.shape[1] == labels.max() == memory.labels.max()  # same nuclei
    table = pd.read_csv(tmp_path / "c" / "nuclei_objects.csv")
    assert len(table) == labels.max()

    # above the size limit, labels and territories are streamed to Zarr
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 1000)
    assert main(["watershed", str(tmp_path / "nuclei.tif"), "--out", str(tmp_path / "z"),
                 "--chunks", "200", "--quiet"]) == 0
    zarr = pytest.importorskip("zarr")
    z = tmp_path / "z"  # OME-Zarr: the label image is labels/<name>, level 0
    stored = zarr.open_array(str(z / "nuclei_labels.zarr/labels/nuclei_labels/0"), mode="r")[:]
    np.testing.assert_array_equal(stored, labels)
    territories = zarr.open_array(
        str(z / "nuclei_territories.zarr/labels/nuclei_territories/0"), mode="r")[:]
    assert territories.min() > 0
    assert len(pd.read_csv(tmp_path / "z" / "nuclei_objects.csv")) == labels.max()


def test_atoms_command_chunked_equals_in_memory(tmp_path):
    from napari_tessella import find_atoms
    from napari_tessella.synthetic import synthetic_lattice

    lat = synthetic_lattice((300, 320), spacing=8, seed=6)
    tifffile.imwrite(tmp_path / "lattice.tif", lat.image)
    assert main(["atoms", str(tmp_path / "lattice.tif"), "--out", str(tmp_path / "a"),
                 "--chunked", "--chunks", "128", "--separation", "8", "--threshold", "0.05",
                 "--quiet"]) == 0
    table = pd.read_csv(tmp_path / "a" / "lattice_atoms.csv")
    expected = find_atoms(lat.image, separation=8, threshold=0.05).positions
    expected = expected[np.lexsort((expected[:, 1], expected[:, 0]))]  # chunked: row order
    np.testing.assert_allclose(table[["row", "col"]].to_numpy(), expected)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # imageio's legacy plugins
@pytest.mark.parametrize("command", ["threshold-label", "watershed", "lattice", "atoms"])
def test_unreadable_files_are_one_clear_line_each(tmp_path, capsys, command):
    """An empty file, text named .png, a TIFF of garbage: exit 1, one line per file saying
    what is wrong with it (no backend advice from the image library, no traceback)."""
    (tmp_path / "empty.tif").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello\n")
    (tmp_path / "garbage.tif").write_bytes(b"II*\x00" + bytes(range(200)))
    out = tmp_path / "out"
    files = [str(tmp_path / n) for n in ("empty.tif", "text.png", "garbage.tif")]
    assert main([command, *files, "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("  ")]
    assert len(failed) == 3, err
    assert "empty.tif is empty" in err
    assert "text.png cannot be read as a PNG image" in err
    assert "garbage.tif cannot be read as a TIF image" in err
    assert "Traceback" not in err and "pip install" not in err


def test_a_directory_or_a_missing_file_as_input_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "no-images").mkdir()
    assert main(["atoms", str(tmp_path / "no-images"), "--out", str(tmp_path / "o")]) == 2
    assert main(["atoms", str(tmp_path / "missing.tif"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 2 and "Traceback" not in err


def test_per_input_failures_speak_the_command_line(tmp_path, capsys):
    """A stack or an image without a lattice fails with the options' names: the core's
    "e.g. image[0]" and "give separation= instead" are Python, not shell."""
    stack = np.stack([_blobs(1, (64, 64))] * 3)
    tifffile.imwrite(tmp_path / "stack.tif", stack, photometric="minisblack")
    tifffile.imwrite(tmp_path / "flat.tif", np.tile(_blobs(2, (64, 64))[:2], (1, 40)))
    code = main(["atoms", str(tmp_path / "stack.tif"), str(tmp_path / "flat.tif"),
                 "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "image[0]" not in err and "separation=" not in err
    assert "save each plane as a file of its own" in err
    assert "give --separation instead" in err
