"""Round 57, tried as a user with odd files: the reader and the command line on TIFFs
that microscopes and converters write. Each test fails on the round's base (bc09357)
unless its docstring says otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_tessella.reading import open_image, read_pixel_size


def _image():
    rng = np.random.default_rng(57)
    return (rng.random((48, 64)) * 1000).astype(np.uint16)


@pytest.mark.parametrize(("unit", "per_unit", "um"), [("MILLIMETER", 2000.0, 0.5),
                                                      ("MICROMETER", 4.0, 0.25)])
def test_a_resolution_in_millimetres_or_micrometres_is_the_pixel_size(tmp_path, unit,
                                                                      per_unit, um):
    """``ResolutionUnit`` 4 (millimetre) and 5 (micrometre), as DNG defines them and
    tifffile writes them: the pixel size was dropped (only inch and centimetre were read)."""
    path = tmp_path / "res.tif"
    tifffile.imwrite(path, _image(), resolution=(per_unit, per_unit / 2),
                     resolutionunit=unit)
    found = read_pixel_size(path)
    assert found is not None and found.unit == "um"
    assert found.scale == pytest.approx((2 * um, um))


def test_one_pixel_per_micrometre_is_a_pixel_size_of_one_micrometre(tmp_path):
    """1 pixel per inch or centimetre is a default, not a pixel size (held on the base);
    1 pixel per micrometre is a 1 µm pixel, a plausible one."""
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, _image(), resolution=(1.0, 1.0), resolutionunit="MICROMETER")
    assert read_pixel_size(path) == ((1.0, 1.0), "um")
    tifffile.imwrite(path, _image(), resolution=(1.0, 1.0), resolutionunit="CENTIMETER")
    assert read_pixel_size(path) is None
