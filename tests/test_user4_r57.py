"""Round 57, tried as a user: the command line and the widgets on files and layers
shaped as other tools save them. Each test names whether it fails on the round's base
(7776756)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_tessella.cli import main
from napari_tessella.reading import open_image


def _lattice_plane() -> np.ndarray:
    from napari_tessella.synthetic import synthetic_lattice

    return synthetic_lattice((64, 64), spacing=8.0, seed=0).image.astype(np.float32)


@pytest.mark.parametrize("lead", [(1,), (1, 1)])
def test_a_plane_saved_with_axes_of_one_is_read_as_that_plane(tmp_path, capsys, lead):
    """A plane saved with a t, c or z of one (tifffile's (1, 1, rows, columns), as Python
    scripts and converters write it) was refused as "a stack: the command line takes one
    plane per file", while the same file above 8192² pixels (read lazily) was taken as
    its plane. Fails on the base."""
    plane = _lattice_plane()
    tifffile.imwrite(tmp_path / "flat.tif", plane)
    tifffile.imwrite(tmp_path / "lead.tif", plane.reshape(lead + plane.shape))
    assert open_image(tmp_path / "lead.tif").shape == plane.shape
    out = tmp_path / "out"
    code = main(["threshold-label", str(tmp_path / "flat.tif"), str(tmp_path / "lead.tif"),
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    flat, lead_table = (pd.read_csv(out / f"{n}_objects.csv") for n in ("flat", "lead"))
    assert len(flat) == 64 and flat.equals(lead_table)


def test_planar_colour_with_an_axis_of_one_is_colour_in_memory_and_lazily(tmp_path):
    """A planar RGB TIFF saved as (1, 3, rows, columns): read lazily its samples were no
    longer found once the axis of one was dropped, and it came out as a stack of three
    planes (3, rows, columns); in memory it was refused. Fails on the base."""
    rgb = np.zeros((1, 3, 8, 9), np.uint8)
    tifffile.imwrite(tmp_path / "c.tif", rgb, photometric="rgb", planarconfig="separate")
    assert open_image(tmp_path / "c.tif").shape == (8, 9, 3)
    assert open_image(tmp_path / "c.tif", lazy=True).shape == (8, 9, 3)


def test_a_stack_and_a_colour_row_keep_their_shapes(tmp_path):
    """The guard: a real stack is still a stack, a one-row colour image still one row."""
    tifffile.imwrite(tmp_path / "s.tif", np.zeros((2, 8, 9), np.uint8))
    tifffile.imwrite(tmp_path / "row.tif", np.zeros((1, 9, 3), np.uint8), photometric="rgb")
    assert open_image(tmp_path / "s.tif").shape == (2, 8, 9)
    assert open_image(tmp_path / "row.tif").shape == (1, 9)  # its luminance, one row


def _ome_zarr(path, plane, scale):
    import zarr

    group = zarr.open_group(path, mode="w")
    group.create_array("0", data=plane)
    axes = [{"name": n, "type": "space", "unit": "nanometer"} for n in "yx"]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}]}]


def test_an_ome_zarr_with_a_flipped_axis_keeps_its_pixel_size(tmp_path, capsys):
    """An OME-Zarr whose row scale is -0.5 nm (a flipped axis: napari draws it upside
    down, and the widgets measure it in nm) gave tables without a single nm column on the
    command line, silently. Fails on the base."""
    from napari_tessella.reading import read_pixel_size

    plane = _lattice_plane()
    _ome_zarr(tmp_path / "up.zarr", plane, [0.5, 0.5])
    _ome_zarr(tmp_path / "flip.zarr", plane, [-0.5, 0.5])
    assert read_pixel_size(tmp_path / "flip.zarr") == ((0.5, 0.5), "nm")
    out = tmp_path / "out"
    code = main(["threshold-label", str(tmp_path / "up.zarr"), str(tmp_path / "flip.zarr"),
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    up, flip = (pd.read_csv(out / f"{n}_objects.csv") for n in ("up", "flip"))
    assert "area_nm2" in flip.columns and flip.equals(up)


def test_a_zero_pixel_size_is_still_no_pixel_size(tmp_path):
    """The guard: an OME-Zarr scale of 0 records no pixel size (pixels, as before)."""
    from napari_tessella.reading import read_pixel_size

    _ome_zarr(tmp_path / "zero.zarr", _lattice_plane(), [0.0, 0.5])
    assert read_pixel_size(tmp_path / "zero.zarr") is None


# --- the widgets: a pixel size given to the image after the fields were typed


def test_a_diameter_typed_in_pixels_keeps_them_when_the_image_gets_a_pixel_size(viewer):
    """A microscopist types the nuclei's 23 px (the field says 'px'), then gives the
    image its pixel size (0.5 µm) in the console: the field still said 'px', its 23 was
    read as 23 µm, and the run used 46 px and a min area four times too large. The
    field now says µm and holds 11.5 µm (the same 23 px). Fails on the base."""
    from _widget_helpers import discs, watershed_widget

    image = viewer.add_image(discs(), name="dna")
    widget = watershed_widget(viewer, image, object_diameter=23.0)
    before = image.data.copy()
    image.scale = (0.5, 0.5)
    image.units = ("um", "um")
    assert widget.object_diameter.label == "object diameter (µm)"
    assert widget.object_diameter.value == pytest.approx(11.5)
    assert widget.parameters()["object_diameter"] == pytest.approx(23.0)
    assert "keep their pixels" in widget._status.value
    widget()
    assert "= 23.0 px" in widget._status.value or "= 23 px" in widget._status.value
    assert np.array_equal(image.data, before)


def test_the_threshold_and_atoms_fields_keep_their_pixels_too(viewer, lattice_image):
    """The same for Threshold & label's smooth σ and min size (an area: 12 px² on pixels
    of 0.5 nm is 3 nm²) and Find atoms' column spacing. Fails on the base."""
    from _widget_helpers import threshold_widget, widget_on

    image = viewer.add_image(lattice_image, name="lat")
    threshold = threshold_widget(viewer, image, smooth_sigma=1.0, min_size=12.0)
    atoms = widget_on("FindAtomsWidget", viewer, image, separation=8.0)
    image.scale = (0.5, 0.5)
    image.units = ("nm", "nm")
    assert threshold.smooth_sigma.label == "smooth σ (nm)"
    assert threshold.parameters()["smooth_sigma"] == pytest.approx(1.0)
    assert threshold.parameters()["min_size"] == 12
    assert atoms.separation.label == "column spacing (nm)"
    assert atoms.parameters()["separation"] == pytest.approx(8.0)


def test_a_pixel_size_corrected_in_the_same_unit_keeps_the_typed_number(viewer):
    """The guard: under the same unit (µm before and after) the number means what the
    label says, as before: 10 µm stays 10 µm when the pixel size is corrected."""
    from _widget_helpers import discs, watershed_widget

    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="um")
    widget = watershed_widget(viewer, image, object_diameter=10.0)
    image.scale = (0.25, 0.25)
    assert widget.object_diameter.value == pytest.approx(10.0)
    assert widget.parameters()["object_diameter"] == pytest.approx(40.0)
