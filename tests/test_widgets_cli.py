"""The command lines on what a user gets wrong: `napari-tessella` given a batch command
points to `tessella`, bad arguments (a unit it does not know, an output folder it cannot
make) and corrupt or cut TIFFs are said in one line. (The command line's own tests are in
test_cli.py.) Each test fails on the behaviour it fixed, unless it says it bounds a fix."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from _widget_helpers import discs

from napari_tessella.cli import main

# --- bad arguments


def test_napari_tessella_runs_a_batch_command_as_tessella(capsys):
    """`napari-tessella atoms img.tif` (the plugin's name, as the hub page says) answered
    "invalid choice: 'atoms' (choose from 'demo')"; then it pointed to `tessella`, which
    is not on the PATH of a notebook's kernel. The batch commands run as `tessella`
    runs them (here: the input is not found, exit 2, in tessella's words)."""
    import argparse

    from napari_tessella.__main__ import main
    from napari_tessella.cli import _build_parser

    commands = next(action.choices for action in _build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    assert len(commands) == 4
    for command in commands:
        assert main([command, "my image.tif", "--out", "res"]) == 2
        err = capsys.readouterr().err
        assert f"tessella {command}: error: input not found: my image.tif" in err


def test_tessella_refuses_a_unit_it_does_not_know_before_any_work(tmp_path, capsys):
    """`--unit nmm` (a typo) was written into every table's column names (`row_nmm`) and
    every TIFF; units it knows, in any spelling, still run."""
    import tifffile

    from napari_tessella.cli import main

    tifffile.imwrite(tmp_path / "a.tif", discs().astype("float32"))
    out = tmp_path / "out"
    assert main(["threshold-label", str(tmp_path / "a.tif"), "--out", str(out),
                 "--unit", "nmm", "--pixel-size", "0.1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--unit 'nmm' is not a unit of length" in err and not out.exists()
    for unit, column in (("µm", "com_row_um"), ("nanometers", "com_row_nm"),
                         ("Å", "com_row_angstrom"), ("pixel", None)):
        assert main(["threshold-label", str(tmp_path / "a.tif"), "--out", str(out),
                     "--unit", unit, "--pixel-size", "0.1", "--quiet"]) == 0
        table = (out / "a_objects.csv").read_text().splitlines()[0].split(",")
        assert column is None or column in table


def test_tessella_says_why_it_cannot_make_the_output_folder(tmp_path, capsys):
    """--out where no folder can be made: Python's "[Errno 2] No such file or directory:
    '/proc/x'" is said in the option's words."""
    import tifffile

    from napari_tessella.cli import main

    tifffile.imwrite(tmp_path / "a.tif", discs().astype("float32"))
    assert main(["atoms", str(tmp_path / "a.tif"), "--out", "/proc/tessella-x"]) == 2
    err = capsys.readouterr().err
    assert "--out /proc/tessella-x: cannot make this folder (no such file" in err
    assert "Errno" not in err


# --- TIFFs that are cut short or lie about their size


def _lying_tiff(path):
    """A valid 8 × 8 TIFF whose header is edited to say 200000 × 200000 pixels (one strip
    listed for the 25,000 its size needs): a corrupt header."""
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8))
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tf:
        for tag in tf.pages.first.tags.values():
            if tag.code in (256, 257):  # ImageWidth, ImageLength
                width = 2 if tag.dtype == 3 else 4
                raw[tag.valueoffset:tag.valueoffset + width] = (200_000).to_bytes(width,
                                                                                  "little")
    path.write_bytes(bytes(raw))


def _cut_tiff(path):
    """A tiled, zlib-compressed TIFF cut at half its bytes (an interrupted copy)."""
    rng = np.random.default_rng(0)
    image = (rng.random((512, 512)) * 255).astype(np.uint8)
    tifffile.imwrite(path, image, tile=(128, 128), compression="zlib")
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2])


@pytest.mark.parametrize("make", [_lying_tiff, _cut_tiff])
def test_a_corrupt_or_cut_tiff_fails_in_one_line(tmp_path, capfd, make):
    """A header claiming 200000² pixels (read lazily, as large TIFFs are) failed with
    "KeyError: '16128.0'" and some 1,500 lines of asyncio tracebacks from zarr's reader
    threads; a cut, compressed TIFF with "error: Error -5 while decompressing data" (the
    type name of a bug). Both are refused before any pixel is read, in one line that says
    the file is truncated or corrupt."""
    path = tmp_path / "field.tif"
    make(path)
    code = main(["threshold-label", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capfd.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert "field.tif cannot be read as a TIF image (truncated or corrupt" in err
    assert "KeyError" not in err and "Traceback" not in err and "Error -5" not in err
    assert len(lines) <= 3, err
    assert not any((tmp_path / "out").iterdir())


def test_a_whole_tiff_still_reads(tmp_path):
    """Bounds the check above: whole tiled, striped and sparse (a tile of 0 bytes) TIFFs
    read as before."""
    from napari_tessella.reading import open_image

    image = (np.random.default_rng(1).random((256, 256)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "tiled.tif", image, tile=(64, 64), compression="zlib")
    tifffile.imwrite(tmp_path / "strips.tif", image, rowsperstrip=16)
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([image, image[::-1]]))
    assert np.array_equal(open_image(tmp_path / "tiled.tif"), image)
    assert np.array_equal(open_image(tmp_path / "strips.tif"), image)
    assert np.array_equal(np.asarray(open_image(tmp_path / "strips.tif", lazy=True)), image)
    assert open_image(tmp_path / "stack.tif").shape == (2, 256, 256)
