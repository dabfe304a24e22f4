"""Chunked (dask) processing gives the in-memory results, without holding the image."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi

da = pytest.importorskip("dask.array")

from napari_tessella import measure_objects, threshold_label  # noqa: E402
from napari_tessella._lazy import is_lazy  # noqa: E402
from napari_tessella.measure import measure_objects_chunked  # noqa: E402
from napari_tessella.segmentation import threshold_label_chunked  # noqa: E402
from napari_tessella.threshold import _global_threshold  # noqa: E402

SIDE = 1536
# deliberately not dividing the image, and much smaller than it: many chunk borders
CHUNKS = (256, 320)


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """Smoothed noise as uint16: meandering objects of all sizes crossing chunk borders,
    touching each other edge-on and corner-on."""
    rng = np.random.default_rng(20261122)
    field = ndi.gaussian_filter(rng.standard_normal((SIDE, SIDE)), 5.0)
    field = (field - field.mean()) / field.std()
    return np.clip(1000 + 300 * field + rng.normal(0, 40, field.shape), 0, 4095).astype(
        np.uint16
    )


def assert_same_up_to_numbering(a: np.ndarray, b: np.ndarray):
    """Same background, and a one-to-one map between the label ids of a and of b."""
    assert a.shape == b.shape
    np.testing.assert_array_equal(a == 0, b == 0)
    fg = a > 0
    pairs = np.unique(np.stack([a[fg], b[fg]]), axis=1)
    n_a, n_b = np.unique(a[fg]).size, np.unique(b[fg]).size
    assert n_a == n_b == pairs.shape[1], (n_a, n_b, pairs.shape[1])


CASES = [
    pytest.param({}, id="plain-conn1"),
    pytest.param({"connectivity": 2}, id="plain-conn2"),
    pytest.param({"smooth_sigma": 2.0, "opening": 3}, id="smooth-open-conn1"),
    pytest.param(
        {"smooth_sigma": 1.5, "opening": 4, "connectivity": 2, "min_size": 30,
         "exclude_border": True},
        id="smooth-open-conn2-filters",
    ),
    pytest.param({"threshold": 900, "dark_objects": True, "opening": 2}, id="dark-number"),
]


@pytest.mark.parametrize("kwargs", CASES)
def test_threshold_label_chunked_matches_in_memory(blobs, kwargs):
    expected = threshold_label(blobs, **kwargs)
    lazy = threshold_label_chunked(da.from_array(blobs, chunks=CHUNKS), **kwargs)
    assert isinstance(lazy, da.Array)
    assert lazy.dtype == np.int32
    assert lazy.chunks[0][0] <= CHUNKS[0]  # really processed in chunks
    got = lazy.compute()
    assert expected.max() > 50  # a meaningful number of objects, many crossing borders
    assert_same_up_to_numbering(expected, got)
    # stronger: objects are numbered in raster order, as ndi.label numbers them
    np.testing.assert_array_equal(expected, got)


@pytest.mark.parametrize("kwargs", [{"smooth_sigma": 2.0, "opening": 4, "connectivity": 2},
                                    {"smooth_sigma": 3.0}])
def test_chunks_smaller_than_the_margin(blobs, kwargs):
    crop = blobs[:100, :90]
    got = threshold_label_chunked(crop, chunks=8, **kwargs).compute()
    np.testing.assert_array_equal(got, threshold_label(crop, **kwargs))


def test_objects_really_cross_chunk_borders(blobs):
    labels = threshold_label(blobs, smooth_sigma=2.0, opening=3)
    on_border = np.unique(np.concatenate([labels[CHUNKS[0] - 1 :: CHUNKS[0]].ravel(),
                                          labels[:, CHUNKS[1] - 1 :: CHUNKS[1]].ravel()]))
    assert on_border.size > 20


@pytest.mark.parametrize("method", ["otsu", "yen", "isodata", "triangle", "minimum"])
def test_histogram_thresholds_equal_in_memory(blobs, method):
    import skimage.filters

    smoothed = ndi.gaussian_filter(blobs.astype(np.float64), 1.0)
    lazy = da.from_array(smoothed, chunks=CHUNKS)
    got = _global_threshold(lazy, method, smoothed.min(), smoothed.max(), None)
    assert got == getattr(skimage.filters, f"threshold_{method}")(smoothed)


def test_mean_and_li_thresholds_within_one_bin(blobs):
    import skimage.filters

    from napari_tessella.threshold import LI_BINS

    image = blobs.astype(np.float64)
    lazy = da.from_array(image, chunks=CHUNKS)
    lo, hi = image.min(), image.max()
    assert _global_threshold(lazy, "mean", lo, hi, None) == pytest.approx(image.mean(), rel=1e-12)
    li = _global_threshold(lazy, "li", lo, hi, None)
    assert abs(li - skimage.filters.threshold_li(image)) <= (hi - lo) / LI_BINS


def test_float32_and_rgb_inputs(blobs):
    f32 = blobs[:512, :600].astype(np.float32) / 4095
    expected = threshold_label(f32, smooth_sigma=1.0)
    got = threshold_label_chunked(f32, smooth_sigma=1.0, chunks=128).compute()
    np.testing.assert_array_equal(expected, got)

    rgb = np.stack([blobs[:400, :500] // 16] * 3, axis=-1).astype(np.uint8)
    expected = threshold_label(rgb)
    got = threshold_label_chunked(da.from_array(rgb, chunks=(100, 128, 3))).compute()
    np.testing.assert_array_equal(expected, got)


def test_zarr_input_and_single_chunk_access(tmp_path, blobs):
    zarr = pytest.importorskip("zarr")
    crop = blobs[:1024, :768]
    z = zarr.open_array(str(tmp_path / "crop.zarr"), mode="w", shape=crop.shape,
                        chunks=(256, 256), dtype=crop.dtype)
    z[:] = crop
    assert is_lazy(z)
    lazy = threshold_label_chunked(z, smooth_sigma=1.0)
    assert lazy.chunks == ((256,) * 4, (256,) * 3)
    expected = threshold_label(crop, smooth_sigma=1.0)
    # one chunk can be computed on its own, with the global numbering
    np.testing.assert_array_equal(lazy[256:512, 256:512].compute(), expected[256:512, 256:512])


def test_measure_objects_chunked_matches_in_memory(blobs):
    labels = threshold_label(blobs, smooth_sigma=2.0, opening=3)
    expected = measure_objects(labels, blobs)
    got = measure_objects_chunked(da.from_array(labels, chunks=CHUNKS),
                                  da.from_array(blobs, chunks=CHUNKS))
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for col in expected.columns:
        assert got[col].dtype == expected[col].dtype, col
        if col in ("com_row", "com_col", "mean"):  # sums added in another order
            np.testing.assert_allclose(got[col], expected[col], rtol=1e-10, atol=1e-9,
                                       err_msg=col)
        else:  # ids, counts, extrema, their positions (first tie in raster order), boxes
            np.testing.assert_array_equal(got[col], expected[col], err_msg=col)
    lab = got["label"].to_numpy()
    for kind in ("min", "max"):
        r = got[f"{kind}_at_row"].to_numpy().astype(int)
        c = got[f"{kind}_at_col"].to_numpy().astype(int)
        np.testing.assert_array_equal(labels[r, c], lab)
        np.testing.assert_array_equal(blobs[r, c], got[kind].to_numpy())
        first = [np.flatnonzero(((labels == i) & (blobs == v)).ravel())[0]
                 for i, v in zip(lab[:50], got[kind].to_numpy()[:50], strict=True)]
        np.testing.assert_array_equal(r[:50] * blobs.shape[1] + c[:50], first)


def test_measure_on_chunked_labels_matches_up_to_numbering(blobs):
    crop = blobs[:1024, :1024]
    expected = measure_objects(threshold_label(crop, connectivity=2), crop)
    lazy_image = da.from_array(crop, chunks=200)
    labels = threshold_label_chunked(lazy_image, connectivity=2)
    got = measure_objects_chunked(labels, lazy_image)
    # match objects by their centroid instead of by label id
    key = ["centroid_row", "centroid_col"]
    drop = ["label"]
    a = expected.sort_values(key).drop(columns=drop).to_numpy()
    b = got.sort_values(key).drop(columns=drop).to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-9)


def test_measure_objects_chunked_empty_and_extrema_ties():
    labels = np.zeros((40, 40), np.int32)
    image = np.ones((40, 40))
    empty = measure_objects_chunked(labels, image, chunks=16)
    assert empty.empty and list(empty.columns) == list(measure_objects(labels, image).columns)
    labels[5:30, 10:35] = 7  # one object over four chunks, constant intensity: ties
    got = measure_objects_chunked(labels, image, chunks=16)
    expected = measure_objects(labels, image)
    pd.testing.assert_frame_equal(got, expected)
    # every pixel ties: the first one in raster order is reported for both extrema
    positions = ["min_at_row", "min_at_col", "max_at_row", "max_at_col"]
    assert got.loc[0, positions].tolist() == [5, 10, 5, 10]
    box = ["bbox_min_row", "bbox_min_col", "bbox_max_row", "bbox_max_col"]
    assert got.loc[0, box].tolist() == [5, 10, 30, 35]


def test_nothing_above_threshold_gives_zeros(blobs):
    got = threshold_label_chunked(blobs[:300, :300], threshold=10_000, chunks=100).compute()
    assert got.shape == (300, 300) and not got.any()


def test_synchronous_scheduler(blobs):
    crop = blobs[:256, :256]
    got = threshold_label_chunked(crop, chunks=64, scheduler="synchronous").compute(
        scheduler="synchronous")
    np.testing.assert_array_equal(got, threshold_label(crop))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"connectivity": 3}, ValueError, "connectivity must be 1"),
        ({"smooth_sigma": -1}, ValueError, "smooth_sigma must be >= 0"),
        ({"opening": 2.5}, ValueError, "opening must be a whole number"),
        ({"min_size": -3}, ValueError, "min_size must be >= 0"),
        ({"threshold": "otsu2"}, ValueError, "unknown threshold method"),
        ({"threshold": True}, TypeError, "not a bool"),
        ({"chunks": (0, 10)}, ValueError, "chunk sizes must be >= 1"),
    ],
)
def test_bad_parameters_raise_before_any_work(kwargs, error, match):
    calls = []

    def spy(block):
        calls.append(1)
        return block

    image = da.from_array(np.arange(400.0).reshape(20, 20), chunks=10).map_blocks(spy)
    calls.clear()  # map_blocks probes the function once to learn the output type
    with pytest.raises(error, match=match):
        threshold_label_chunked(image, **kwargs)
    assert not calls


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        (np.zeros((4, 20, 20)), ValueError, "2-D"),
        (np.zeros((20, 20), complex), TypeError, "real numbers"),
        (np.full((20, 20), 3.0), ValueError, "constant"),
        (np.where(np.eye(20) > 0, np.nan, 1.0), ValueError, "NaN or infinite"),
    ],
)
def test_bad_images(image, error, match):
    with pytest.raises(error, match=match):
        threshold_label_chunked(da.from_array(image, chunks=10))


def test_measure_bad_inputs():
    with pytest.raises(ValueError, match="same"):
        measure_objects_chunked(np.zeros((10, 10), int), np.zeros((10, 12)))
    with pytest.raises(TypeError, match="integer"):
        measure_objects_chunked(np.zeros((10, 10)), np.zeros((10, 10)))


def test_is_lazy():
    assert is_lazy(da.zeros((4, 4)))
    assert not is_lazy(np.zeros((4, 4)))
    assert not is_lazy([[1, 2], [3, 4]])
    assert not is_lazy(None)


def test_core_modules_import_neither_napari_nor_qt():
    code = (
        "import sys, napari_tessella.chunked, napari_tessella.cli, napari_tessella.params\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('napari', 'qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'magicgui')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_distributed_scheduler_address(blobs):
    distributed = pytest.importorskip("distributed")
    from napari_tessella import _lazy as chunked

    crop = blobs[:512, :512]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster:
        try:
            address = cluster.scheduler_address
            labels = threshold_label_chunked(crop, chunks=128, scheduler=address)
            table = measure_objects_chunked(labels, crop, scheduler=address)
            assert address in chunked._CLIENTS
            # the lazy labels name look-up tables kept on the cluster: computed there
            got = labels.compute(scheduler=chunked._CLIENTS[address])
        finally:
            for client in chunked._CLIENTS.values():
                client.close()
            chunked._CLIENTS.clear()
    expected = threshold_label(crop)
    np.testing.assert_array_equal(got, expected)
    assert len(table) == expected.max()


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    pytest.importorskip("distributed")
    from napari_tessella import _lazy as chunked

    monkeypatch.setattr(chunked, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(ValueError, match="cannot connect to the dask scheduler"):
        threshold_label_chunked(np.eye(20), scheduler="tcp://127.0.0.1:9")


def test_measure_can_write_the_labels_in_the_same_pass(tmp_path, blobs):
    zarr = pytest.importorskip("zarr")
    crop = blobs[:700, :650]
    lazy = threshold_label_chunked(crop, smooth_sigma=1.0, chunks=(200, 160))
    out = zarr.open_array(str(tmp_path / "labels.zarr"), mode="w", shape=lazy.shape,
                          chunks=(128, 128), dtype=np.int32)  # not the processing chunks
    table = measure_objects_chunked(lazy, crop, labels_out=out)
    expected = threshold_label(crop, smooth_sigma=1.0)
    np.testing.assert_array_equal(out[:], expected)
    assert len(table) == expected.max()
    with pytest.raises(ValueError, match="labels_out has shape"):
        measure_objects_chunked(lazy, crop, labels_out=np.zeros((5, 5), np.int32))


# --- atom columns -------------------------------------------------------------------------
@pytest.mark.parametrize("refine", ["com", "gaussian"])
def test_find_atoms_chunked_equals_in_memory(refine):
    import dask.array as da
    from scipy.spatial import cKDTree

    from napari_tessella import find_atoms
    from napari_tessella.synthetic import synthetic_lattice

    lat = synthetic_lattice((420, 390), spacing=7, sublattice_intensity=0.5, seed=3)
    kwargs = {"separation": 7.0, "threshold": 0.05, "refine": refine}
    whole = find_atoms(lat.image, **kwargs)
    lazy = find_atoms(da.from_array(lat.image, chunks=(128, 100)), **kwargs)  # dispatches
    assert len(lazy.positions) == len(whole.positions) == len(lat.positions)
    d, idx = cKDTree(whole.positions).query(lazy.positions)
    assert len(np.unique(idx)) == len(idx)  # one to one
    # the same columns, up to the rounding of a few floating-point operations
    assert d.max() < 1e-6


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("factor", [1e-300, 2.0**-700, 1e300])
def test_find_atoms_chunked_extreme_magnitudes(factor):
    """One intensity scale for every chunk: an image × 1e±300 gives the chunked columns
    of the image itself, intensities scaled by the factor (no fit converged at 1e300)."""
    import dask.array as da

    from napari_tessella.atoms import find_atoms_chunked
    from napari_tessella.synthetic import synthetic_lattice

    image = synthetic_lattice((200, 180), spacing=7, seed=4).image.astype(np.float64)
    ref = find_atoms_chunked(da.from_array(image, chunks=(96, 80)), refine="gaussian")
    got = find_atoms_chunked(da.from_array(image * factor, chunks=(96, 80)),
                             refine="gaussian")
    assert len(got.positions) == len(ref.positions) > 400
    assert got.table["converged"].all()
    np.testing.assert_allclose(got.positions, ref.positions, atol=2e-4)
    for column in ("peak", "intensity", "amplitude", "background"):
        np.testing.assert_allclose(got.table[column] / factor, ref.table[column], rtol=1e-3,
                                   atol=1e-3 * np.abs(ref.table[column]).max())
