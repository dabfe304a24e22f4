"""The command line's outputs are atomic per input, and its exit codes are consistent:
0 all done, 1 some inputs failed, 2 bad options before any work, 130 interrupted."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_tessella import _lazy, cli
from napari_tessella.cli import main


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):
        img = np.zeros((120, 130), np.uint8)
        for r, c in rng.integers(10, 110, (12, 2)):
            img[r - 4:r + 4, c - 4:c + 4] = 200
        tifffile.imwrite(folder / f"{name}.tif", img)
    return folder


def _results(out):
    """Everything in ``out`` that looks like a result (hidden folders excluded)."""
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def _interrupt_on(name, exc):
    """save_results that writes its files, then fails for the input ``name``."""
    real = cli.save_results

    def save_results(result, folder, **kwargs):
        written = real(result, folder, **kwargs)
        if any(p.name.startswith(name + "_") for p in written):
            raise exc
        return written
    return save_results


@pytest.mark.parametrize(("exc", "code", "says"), [
    (KeyboardInterrupt(), 130, "interrupted during"),
    (RuntimeError("disk full"), 1, "1 input(s) failed"),
])
def test_an_interrupted_or_failed_input_leaves_no_output(folder, tmp_path, monkeypatch,
                                                          capsys, exc, code, says):
    monkeypatch.setattr(cli, "save_results", _interrupt_on("b", exc))
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder), "--out", str(out), "--quiet"]) == code
    err = capsys.readouterr().err
    assert says in err and "b.tif" in err
    names = _results(out)
    assert not any(n.startswith("b_") for n in names)  # nothing that looks like a result
    assert list(out.glob(".*")) == []  # the partial folder is gone too
    assert {"a_labels.tif", "a_objects.csv"} <= set(names)
    if code == 130:
        assert "1 input(s) not started" in err and not any(n.startswith("c_") for n in names)
    else:
        assert {"c_labels.tif", "c_objects.csv"} <= set(names)


def test_an_interrupted_chunked_run_leaves_no_zarr(folder, tmp_path, monkeypatch):
    pytest.importorskip("zarr")
    monkeypatch.setattr(_lazy, "LARGE_PIXELS", 1000)
    monkeypatch.setattr(cli, "save_results", _interrupt_on("a", KeyboardInterrupt()))
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder / "a.tif"), "--chunks", "32", "--out",
                 str(out), "--quiet"]) == 130
    assert _results(out) == [] and list(out.glob(".*")) == []


def test_skip_existing_skips_completed_inputs_only(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder), "--out", str(out), "--quiet"]) == 0
    (out / "b_objects.csv").unlink()  # b looks incomplete now
    stamp = (out / "a_labels.tif").stat().st_mtime_ns
    assert main(["threshold-label", str(folder), "--out", str(out), "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert "1 of 3 input(s) done, 2 skipped" in err
    assert (out / "b_objects.csv").exists()
    assert (out / "a_labels.tif").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(("argv", "message"), [
    (["threshold-label", "{a}", "--pixel-size", "nan"], "--pixel-size must be a finite"),
    (["threshold-label", "{a}", "--pixel-size", "inf"], "--pixel-size must be a finite"),
    (["threshold-label", "{a}", "--threshold", "nan"], "threshold must be a finite"),
    (["threshold-label", "{a}", "--smooth-sigma", "inf"], "--smooth-sigma must be a finite"),
    (["atoms", "{a}", "--threshold", "otsu"], "--threshold of find atoms must be a number"),
    (["atoms", "{a}", "--refine", "fit"], "--refine must be none, com or gaussian"),
    (["atoms", "{a}", "--separation", "inf"], "separation must be a finite"),
    (["atoms", "{a}", "--separation", "1"], "separation must be >= 2"),
    (["watershed", "{a}", "--sigma", "nan"], "sigma must be a finite"),
    (["watershed", "{a}", "--object-diameter", "-3"], "--object-diameter must be >= 1"),
    (["watershed", "{a}", "--threshold", "nan"], "threshold must be a finite"),
    (["watershed", "{a}", "--landscape", "flat"], "landscape must be"),
])
def test_bad_options_exit_2_before_any_work(folder, tmp_path, capsys, monkeypatch, argv,
                                            message):
    def never(*args, **kwargs):
        raise AssertionError("an input was read")
    monkeypatch.setattr(cli, "open_image", never)
    out = tmp_path / "out"
    argv = [a.replace("{a}", str(folder / "a.tif")) for a in argv] + ["--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_separation_larger_than_the_image_fails_that_input(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["atoms", str(folder / "a.tif"), "--separation", "1e9", "--out", str(out),
                 "--quiet"]) == 1
    assert "over half the image's shorter side" in capsys.readouterr().err


def test_help_documents_the_exit_codes(capsys):
    assert main(["threshold-label", "--help"]) == 0
    text = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "130"):
        assert f"\n  {code}" in text
    assert "--skip-existing" in text


def test_atoms_help_does_not_offer_method_names(capsys):
    assert main(["atoms", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "not a method name" in text and "otsu" not in text


def test_label_tiff_in_micrometres_is_written(tmp_path):
    """ImageJ TIFF tags are ASCII: a µm layer's labels are written with the unit 'um'."""
    import tifffile

    from napari_tessella.export import save_labels

    labels = np.zeros((8, 8), np.int32)
    labels[2:4, 2:4] = 1
    path = save_labels(labels, tmp_path / "l.tif", scale=(0.5, 0.5), unit="µm")
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["unit"] == "um"
        np.testing.assert_array_equal(tif.asarray(), labels)


def test_zarr_label_writes_never_share_a_storage_chunk(tmp_path, monkeypatch):
    """The chunked watershed's labels come in chunks (60, …, 60, 100): stored as they were
    under Zarr chunks of their largest chunk (100), two tasks wrote parts of one Zarr chunk
    at once and one part could be lost (a 200 × 40 block of zero territories, now and then
    under load, in test_cli's watershed test). Every write must cover whole Zarr chunks."""
    import dask.array as da

    from napari_tessella import export

    seen = []
    real_store = da.store

    def spy(sources, targets, **kwargs):
        seen.extend((s.chunks, t.chunks) for s, t in zip(sources, targets, strict=True))
        return real_store(sources, targets, **kwargs)

    monkeypatch.setattr(da, "store", spy)
    truth = np.arange(200 * 640, dtype=np.int32).reshape(200, 640)
    lazy = da.from_array(truth, chunks=((200,), (60,) * 9 + (100,)))
    stored, _ = export.write_labels_zarr({tmp_path / "a.zarr": lazy, tmp_path / "b.zarr": lazy})
    assert len(seen) == 2
    for chunks, step in seen:  # every chunk but the last one storage chunk, the last within
        assert all(set(axis[:-1]) <= {s} and axis[-1] <= s
                   for axis, s in zip(chunks, step, strict=True)), (chunks, step)
    for chain in stored.values():
        np.testing.assert_array_equal(chain[0][:], truth)


def test_measuring_with_labels_out_writes_whole_storage_chunks():
    """measure_objects_chunked's labels_out: the same rule (its regularity check let
    (60, …, 60, 100) chunks through under 100-wide storage chunks)."""
    import dask.array as da

    from napari_tessella.measure import measure_objects_chunked

    class Recorder:  # a writable array that records each write's region
        shape, chunks, dtype = (200, 640), (200, 100), np.int32

        def __init__(self):
            self.writes, self.data = [], np.zeros(self.shape, np.int32)

        def __setitem__(self, key, value):
            self.writes.append(key)
            self.data[key] = value

    labels = np.repeat(np.arange(1, 11, dtype=np.int32), 64)[None, :].repeat(200, axis=0)
    out = Recorder()
    measure_objects_chunked(da.from_array(labels, chunks=((200,), (60,) * 9 + (100,))),
                            np.ones(labels.shape), labels_out=out)
    for _rows, cols in out.writes:  # each write inside one storage chunk, and all of it
        assert cols.start // 100 == (cols.stop - 1) // 100
        assert cols.start % 100 == 0 and (cols.stop % 100 == 0 or cols.stop == 640)
    np.testing.assert_array_equal(out.data, labels)


@pytest.mark.parametrize("top", [200, 60_000, 70_000])
def test_labels_from_zarr_give_the_same_tiff(tmp_path, top):
    """A cluster's worker writes the TIFF from the Zarr store its workers wrote, in bands of
    rows: the same type, pixels and pixel size as ``save_labels`` of the whole array."""
    import zarr

    from napari_tessella.export import save_labels, save_labels_from_zarr

    labels = np.random.default_rng(top).integers(0, top + 1, (250, 70)).astype(np.int32)
    labels[0, 0] = top
    store = zarr.open_array(str(tmp_path / "l.zarr"), mode="w", shape=labels.shape,
                            chunks=(64, 64), dtype=np.int32)
    store[:] = labels
    whole = save_labels(labels, tmp_path / "whole.tif", scale=(0.5, 0.5), unit="um")
    bands = save_labels_from_zarr(store, tmp_path / "bands.tif", scale=(0.5, 0.5),
                                  unit="um", band=64)
    with tifffile.TiffFile(whole) as a, tifffile.TiffFile(bands) as b:
        np.testing.assert_array_equal(a.asarray(), b.asarray())
        assert a.asarray().dtype == b.asarray().dtype
        assert b.asarray().dtype == (np.uint8 if top < 256 else
                                     np.uint16 if top < 65536 else np.uint32)
        for tag in ("XResolution", "YResolution", "ResolutionUnit", "ImageDescription"):
            ta, tb = a.pages[0].tags.get(tag), b.pages[0].tags.get(tag)
            assert (ta is None and tb is None) or ta.value == tb.value, tag


class _CountingRows:
    """A label store counting the rows read."""

    def __init__(self, labels):
        self.labels, self.shape, self.read = labels, labels.shape, 0

    def __getitem__(self, key):
        out = self.labels[key]
        self.read += out.shape[0]
        return out


@pytest.mark.parametrize("top", [None, "exact", 10])
def test_labels_from_zarr_are_read_once(tmp_path, top):
    """The store was read twice (once only for its largest label, to choose the file's
    type); now once, the type from the table's largest label (``top``) or widened as the
    bands come (also when ``top`` is too small): the file ``save_labels`` writes."""
    from napari_tessella.export import save_labels, save_labels_from_zarr

    labels = np.zeros((300, 40), np.int32)
    labels[10:20, :5] = 7
    labels[150:160, 5:9] = 300  # uint16 from the second band
    labels[290, 39] = 70_000  # uint32 from the last
    source = _CountingRows(labels)
    given = {None: None, "exact": 70_000, 10: 10}[top]
    path = save_labels_from_zarr(source, tmp_path / "l.tif", band=64, top=given)
    assert source.read == labels.shape[0]
    whole = save_labels(labels, tmp_path / "whole.tif")
    with tifffile.TiffFile(whole) as a, tifffile.TiffFile(path) as b:
        np.testing.assert_array_equal(a.asarray(), b.asarray())
        assert b.asarray().dtype == a.asarray().dtype == np.uint32
