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


@pytest.fixture
def without_imagecodecs(monkeypatch):
    """tifffile as it reads without the imagecodecs package (LZW, JPEG, ZSTD, ... not
    decoded). The package is a dependency of the plugin; an environment made without it
    (``--no-deps``, a conda environment that left it out) still gets these answers."""
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        return
    from napari_tessella import reading

    real = reading._missing_codec

    def missing(page):
        name = getattr(page.compression, "name", "")
        return name if name in ("LZW", "JPEG", "ZSTD", "WEBP", "JPEG2000") else real(page)

    monkeypatch.setattr(reading, "_missing_codec", missing)


def test_an_lzw_tiff_is_read_as_stored(tmp_path):
    """LZW is the default compression of many microscopes, scanners and editors; without
    the optional imagecodecs package tifffile cannot decode it, and the file was refused
    ('<COMPRESSION.LZW: 5> requires the 'imagecodecs' package'), on the command line too.
    Round 58: imagecodecs is a dependency, which reads it (without the package, one plane
    was read through Pillow; now the package is named, ``test_files_r58``)."""
    from PIL import Image

    from napari_tessella.cli import main

    image = _image()
    lzw, plain = tmp_path / "lzw.tif", tmp_path / "plain.tif"
    Image.fromarray(image).save(lzw, compression="tiff_lzw")
    tifffile.imwrite(plain, image)
    got = open_image(lzw)
    assert got.dtype == np.uint16 and np.array_equal(got, image)
    out = tmp_path / "out"
    assert main(["threshold-label", str(lzw), str(plain), "--threshold", "otsu",
                 "--out", str(out), "--quiet"]) == 0
    assert np.array_equal(tifffile.imread(out / "lzw_labels.tif"),
                          tifffile.imread(out / "plain_labels.tif"))


def test_a_jpeg_compressed_rgb_tiff_is_read_as_colour(tmp_path):
    """A stained slide saved as a JPEG-compressed RGB TIFF: refused on the base."""
    from PIL import Image

    rng = np.random.default_rng(7)
    rgb = (rng.random((40, 56, 3)) * 255).astype(np.uint8)
    path = tmp_path / "slide.tif"
    Image.fromarray(rgb).save(path, compression="jpeg")
    got = open_image(path)
    assert got.shape == (40, 56, 3) and got.dtype == np.uint8
    assert np.abs(got.astype(int) - rgb).mean() < 40  # lossy, but the same picture


def test_an_lzw_stack_or_lazy_read_names_the_package_before_any_work(tmp_path,
                                                                   without_imagecodecs):
    """Pillow reads one whole plane: an LZW stack, or a TIFF read lazily (a whole slide),
    needs imagecodecs. Lazily, the base failed only when the first chunk was computed, after
    the work before it, with tifffile's words and no file name."""
    from PIL import Image

    image = _image()
    stack, one = tmp_path / "stack.tif", tmp_path / "one.tif"
    Image.fromarray(image).save(stack, compression="tiff_lzw", save_all=True,
                                append_images=[Image.fromarray(image[::-1])])
    Image.fromarray(image).save(one, compression="tiff_lzw")
    for path, lazy in ((stack, None), (one, True)):
        with pytest.raises(ValueError, match=rf"{path.name} cannot be read .*compressed "
                                             r"with LZW.*pip install imagecodecs"):
            open_image(path, lazy=lazy)


def test_with_imagecodecs_an_lzw_stack_and_a_lazy_lzw_slide_are_read_whole(tmp_path):
    """imagecodecs is a dependency (round 57): what Pillow cannot read, an LZW stack and a
    whole slide read chunk by chunk (and zstd tiles), tifffile reads with it."""
    pytest.importorskip("imagecodecs")
    image = _image()
    stack = np.stack([image, image[::-1]])
    tifffile.imwrite(tmp_path / "stack.tif", stack, compression="lzw")
    tifffile.imwrite(tmp_path / "slide.tif", image, compression="zstd", tile=(16, 16))
    assert np.array_equal(open_image(tmp_path / "stack.tif"), stack)
    got = open_image(tmp_path / "slide.tif", lazy=True)
    assert hasattr(got, "compute") and np.array_equal(np.asarray(got), image)


def test_a_png_saved_with_a_tif_name_is_read_as_the_png_it_is(tmp_path):
    """A PNG renamed (or exported) as .tif: refused on the base ('not a TIFF file:
    header=b'\\x89PNG...''), though its bytes are a readable image."""
    import imageio.v3 as iio

    image = _image()
    path = tmp_path / "field 1.tif"
    iio.imwrite(path, image, extension=".png")
    got = open_image(path)
    assert got.dtype == np.uint16 and np.array_equal(got, image)


def test_a_tiff_stack_saved_with_a_png_name_is_read_whole(tmp_path):
    """A 3-plane TIFF named .png was read by Pillow as its first plane, silently (so the
    command line segmented one plane of a stack); a float64 one was refused."""
    image = _image()
    stack = np.stack([image, image // 2, image // 3])
    path = tmp_path / "stack.png"
    tifffile.imwrite(path, stack, photometric="minisblack")
    assert open_image(path).shape == (3, 48, 64)
    tifffile.imwrite(path, image.astype(np.float64) / 7)
    got = open_image(path)
    assert got.dtype == np.float64 and np.array_equal(got, image / 7)


def test_a_jpeg_with_a_tif_name_is_named_as_a_jpeg(tmp_path):
    """The base quoted tifffile ('not a TIFF file: header=b'\\xff\\xd8\\xff...'')."""
    from PIL import Image

    path = tmp_path / "photo.tif"
    Image.fromarray((_image() // 4).astype(np.uint8)).save(path, format="JPEG")
    with pytest.raises(ValueError, match=r"photo\.tif .*contents are a JPEG image"):
        open_image(path)


def test_a_preview_before_the_image_is_not_read_as_the_image(tmp_path):
    """A TIFF whose first page is a quarter-size preview marked reduced-resolution
    (NewSubfileType 1), the image after it, as some cameras and scanners write: the base
    read the 12 x 16 preview, and its resolution tags (4 times the pixel size)."""
    image = _image()
    path = tmp_path / "preview first.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(image[::4, ::4], subfiletype=1, resolution=(0.5, 0.5),
                 resolutionunit="MICROMETER")
        tw.write(image, resolution=(2.0, 2.0), resolutionunit="MICROMETER")
    for lazy in (False, True):
        assert np.array_equal(np.asarray(open_image(path, lazy=lazy)), image)
    assert read_pixel_size(path) == ((0.5, 0.5), "um")
