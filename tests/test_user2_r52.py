"""Round 52: the Seeded watershed, the reader, export and the command line used as a
microscopist uses them (a viewer, a notebook, a shell). Each test fails on the code
before its fix (said in its docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _widget_helpers import watershed_widget

from napari_tessella.synthetic import synthetic_nuclei

# --- outputs edited in place (napari's console, a notebook): never overwritten silently


def test_nuclei_edited_in_the_console_are_kept_on_a_re_run(viewer, field):
    """``layer.data[layer.data == 3] = 0`` in napari's console (or a notebook holding the
    viewer) emits no event: a re-run wrote its nuclei over the edited layer, nucleus 3
    back, without a word. The edited layer is kept as the user left it, this run's nuclei
    go beside it, and the status line says so, as for a painted layer."""
    image = viewer.add_image(field, name="dna")
    widget = watershed_widget(viewer, image)
    widget()
    nuclei = viewer.layers["dna nuclei"]
    nuclei.data[nuclei.data == 3] = 0
    nuclei.refresh()
    edited = nuclei.data.copy()
    widget()
    assert viewer.layers["dna nuclei"] is nuclei
    np.testing.assert_array_equal(nuclei.data, edited)
    assert "dna nuclei [1]" in [layer.name for layer in viewer.layers]
    assert 3 in viewer.layers["dna nuclei [1]"].data
    assert "'dna nuclei' was edited by hand: kept as it is" in widget._status.value


def test_nuclei_edited_in_the_console_are_exported_with_their_table_measured_again(
        viewer, field, tmp_path):
    """Export wrote a console-edited nuclei layer's TIFF as it is now and its CSV as the
    run measured it: a row for nucleus 3, which the TIFF no longer holds. The table is
    measured again, as for a painted layer."""
    image = viewer.add_image(field, name="dna")
    widget = watershed_widget(viewer, image)
    widget()
    nuclei = viewer.layers["dna nuclei"]
    nuclei.data[nuclei.data == 3] = 0
    widget.export(tmp_path)
    table = pd.read_csv(tmp_path / "dna_nuclei.csv")
    assert 3 not in table["label"].tolist()
    assert sorted(table["label"]) == sorted(set(np.unique(nuclei.data)) - {0})
    assert "'dna nuclei' was edited: its table measured again" in widget._status.value


def test_unedited_outputs_are_still_updated_in_place(viewer, field):
    """(Not a fix: the checksum must not take the widget's own writes for the user's.)"""
    image = viewer.add_image(field, name="dna")
    widget = watershed_widget(viewer, image)
    widget()
    nuclei = viewer.layers["dna nuclei"]
    widget.object_diameter.value = 20.0
    widget()
    widget.object_diameter.value = 0.0
    widget()
    assert viewer.layers["dna nuclei"] is nuclei
    assert [layer.name for layer in viewer.layers] == [
        "dna", "dna territories", "dna nuclei", "dna seeds"]
    assert "edited" not in widget._status.value


# --- the command line as `python -m napari_tessella …` (docs/batch.md)


def test_python_m_napari_tessella_runs_the_watershed_on_a_folder(tmp_path, field, capsys):
    """`python -m napari_tessella watershed in --out res` answered "napari-tessella opens
    napari; 'watershed' is a command of the batch command line: tessella watershed …",
    exit 2, nothing done: a `tessella` script is not on the PATH of a notebook's kernel or
    of a virtual environment not activated, where `python -m` works. It runs the batch
    command, with tessella's messages and exit codes."""
    import tifffile

    from napari_tessella.__main__ import main

    folder = tmp_path / "in"
    folder.mkdir()
    tifffile.imwrite(folder / "dapi.tif", (field * 3000 + 300).clip(0).astype(np.uint16))
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "res"
    assert main(["watershed", str(folder), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "dapi_labels.tif", "dapi_objects.csv", "dapi_territories.tif"]
    assert len(pd.read_csv(out / "dapi_objects.csv")) >= 10
    assert "Traceback" not in capsys.readouterr().err


# --- the public API's parameters, from a notebook


def test_a_threshold_below_every_pixel_is_refused_in_the_image_units(field):
    """``seeded_watershed(img16, threshold=0.3)`` (a threshold typed for an image scaled
    to 0..1, on a 16-bit one) made every pixel foreground and returned one 'nucleus' the
    size of the image, without a word. It is refused, saying the image's range; a
    threshold above every pixel still gives no nuclei (an empty field of a batch)."""
    from napari_tessella import seeded_watershed

    img16 = (field.clip(0) * 3000 + 300).astype(np.uint16)
    with pytest.raises(ValueError, match=r"threshold 0\.3 is below every pixel of the "
                                         r"image \(its values span 300 to \d+\)"):
        seeded_watershed(img16, threshold=0.3)
    assert seeded_watershed(img16, threshold=70000).labels.max() == 0
    assert seeded_watershed(img16, threshold=1500).labels.max() >= 10


def test_a_tiff_header_without_an_image_is_said_in_the_users_words(tmp_path, field, capsys):
    """A TIFF header with no image in it (a write stopped after its first bytes) failed as
    "corrupt.tif cannot be read as a TIF image (list index out of range)": Python's words
    for an empty list, not the file's. It says the file holds no image; the folder's
    other images are done (exit 1, one line each)."""
    import tifffile

    from napari_tessella.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "corrupt.tif").write_bytes(b"II*\x00" + bytes(50))
    tifffile.imwrite(folder / "dapi.tif", (field.clip(0) * 3000 + 300).astype(np.uint16))
    assert main(["watershed", str(folder), "--out", str(tmp_path / "res"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert ("corrupt.tif: corrupt.tif cannot be read as a TIF image (it holds no image: a "
            "TIFF header without pixel data)") in err
    assert "list index" not in err and "Traceback" not in err
    assert (tmp_path / "res" / "dapi_objects.csv").exists()


# --- a stack run plane by plane


def test_this_plane_on_another_plane_says_the_plane_before_is_replaced(viewer):
    """A time series segmented plane by plane ('this plane', the slider moved between
    runs): the second run moved the nuclei layer to plane 1, plane 0's nuclei gone, and
    the status line said only "(plane 1)". It says "(plane 0's outputs replaced; 'all
    planes' keeps every plane's)"; a re-run on the same plane says nothing of it,
    nor does 'all planes'."""
    stack = np.stack([synthetic_nuclei((160, 200), n_nuclei=8 + 2 * i, diameter=28.0,
                                       seed=i).image for i in range(3)])
    image = viewer.add_image(stack, name="dna")
    widget = watershed_widget(viewer, image)
    note = "outputs replaced; 'all planes' keeps every plane's"
    viewer.dims.set_current_step(0, 0)
    widget()
    widget()
    assert "(plane 0)" in widget._status.value and note not in widget._status.value
    viewer.dims.set_current_step(0, 1)
    widget()
    assert "(plane 1)" in widget._status.value
    assert f"(plane 0's {note})" in widget._status.value
    widget._planes.value = "all planes"
    widget()
    assert note not in widget._status.value
    assert viewer.layers["dna nuclei"].data.shape == (3, 160, 200)


# --- a 16-bit image with a black frame (a stitched or registered image's border)


def test_a_black_frame_around_a_16_bit_field_is_outside_the_image(field):
    """A 16-bit field inside a frame of 0 (stitching or registration leaves one) failed
    with numpy's "LinAlgError: SVD did not converge in Linear Least Squares" (the glow
    model fitted a line through bands all 0 in the frame, dividing by 0). The frame is
    read as outside the image: the nuclei are those of the field alone, none on the
    frame (they ran on into it); a frame with a black tile inside (not cropped: 0 lies
    inside too) is segmented, not refused."""
    from napari_tessella import seeded_watershed

    img16 = (field.clip(0) / field.max() * 3000 + 200).astype(np.uint16)
    framed = np.zeros((240, 280), np.uint16)
    framed[20:220, 20:260] = img16
    alone = seeded_watershed(img16)
    result = seeded_watershed(framed)
    np.testing.assert_array_equal(result.labels[20:220, 20:260], alone.labels)
    np.testing.assert_array_equal(result.territories[20:220, 20:260], alone.territories)
    assert not result.labels[:20].any() and not result.territories[:, :20].any()
    np.testing.assert_allclose(result.seeds, np.asarray(alone.seeds) + 20)
    framed[20:60, 20:80] = 0  # a missing tile besides
    assert seeded_watershed(framed).labels.max() >= 10


def test_a_noiseless_zero_background_is_not_taken_for_a_frame():
    """(Not a fix: a synthetic image's exact 0 background lies inside too.)"""
    from _widget_helpers import discs

    from napari_tessella import seeded_watershed

    result = seeded_watershed(discs())
    assert result.territories.min() > 0 and result.labels.max() == 4
