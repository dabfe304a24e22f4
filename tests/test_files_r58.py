"""Round 58, files as a microscopist brings them: TIFFs that hold several images, BigTIFF
names, writers given a folder that does not exist yet, a compression without its codec.
Every file is made here with tifffile. Each test fails on the round's base (2861725)
unless its docstring says otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from napari_tessella.cli import main
from napari_tessella.reading import open_image, read_pixel_size


def _image(seed=58, shape=(48, 64)):
    image = (np.random.default_rng(seed).random(shape) * 100).astype(np.uint16)
    image[10:22, 12:30] += 900  # an object, for the command line to find
    return image


def _positions(path, n=3):
    """A multi-position OME-TIFF: ``n`` images of one size, each with its pixel size."""
    with tifffile.TiffWriter(path, ome=True) as tw:
        for k in range(n):
            tw.write(_image(k), metadata={"Name": f"Position {k + 1}",
                                          "PhysicalSizeX": 0.1 * (k + 1),
                                          "PhysicalSizeY": 0.1 * (k + 1)})
    return path


def test_a_multi_position_ome_tiff_is_refused_with_its_images_listed(tmp_path):
    """The base read the first position, without a word: the others were never seen."""
    path = _positions(tmp_path / "plate.ome.tif")
    with pytest.raises(ValueError, match=r"plate\.ome\.tif holds 3 images of about one "
                                         r"size \(series 0 'Position 1' 48 × 64 uint16; series 1 "
                                         r".*series= its number \(0 to 2\) or its name"):
        open_image(path)


@pytest.mark.parametrize("choice", [1, "1", "position 2"])
def test_the_position_named_is_read_with_its_own_pixel_size(tmp_path, choice):
    """By number or by name (any case); its pixel size is its own Image's, not the first
    position's (the base read the first Image's always, and had no ``series``)."""
    path = _positions(tmp_path / "plate.ome.tif")
    for lazy in (False, True):
        got = open_image(path, series=choice, lazy=lazy)
        assert np.array_equal(np.asarray(got), _image(1))
    found = read_pixel_size(path, series=choice)
    assert found.unit == "um" and found.scale == pytest.approx((0.2, 0.2))


def test_a_series_the_file_does_not_hold_is_said_with_those_it_holds(tmp_path):
    path = _positions(tmp_path / "plate.ome.tif", n=2)
    with pytest.raises(ValueError, match=r"holds 2 image\(s\) .*no series 5, they are "
                                         r"numbered from 0"):
        open_image(path, series=5)
    with pytest.raises(ValueError, match=r"none is named 'well B2'"):
        open_image(path, series="well B2")
    png = tmp_path / "one.png"
    import imageio.v3 as iio

    iio.imwrite(png, _image().astype(np.uint8))
    with pytest.raises(ValueError, match=r"one\.png holds one image: there is no series 1"):
        open_image(png, series=1)
    assert open_image(png, series=0).shape == (48, 64)


def test_the_command_line_names_a_position_with_series(tmp_path):
    """Without --series, the input fails with the list and the option to give; with it,
    the position named is segmented, in its own pixel size."""
    path = _positions(tmp_path / "plate.ome.tif")
    out = tmp_path / "out"
    assert main(["threshold-label", str(path), "--threshold", "otsu", "--out", str(out),
                 "--quiet"]) == 1
    assert not (out / "plate.ome_objects.csv").exists()
    assert main(["threshold-label", str(path), "--series", "2", "--threshold", "otsu",
                 "--out", str(out), "--quiet"]) == 0
    import pandas as pd

    table = pd.read_csv(out / "plate.ome_objects.csv")
    assert len(table) >= 1 and "area_um2" in table
    assert table["area_um2"].to_numpy() == pytest.approx(table["area"].to_numpy() * 0.09)


def test_the_command_line_says_how_to_choose(tmp_path, capsys):
    path = _positions(tmp_path / "plate.ome.tif", n=2)
    main(["threshold-label", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert "holds 2 images of about one size" in err
    assert "with --series: its number (0 to 1) or its name" in err
    assert "series=" not in err


def test_a_slide_s_macro_and_label_images_are_not_read_for_the_slide(tmp_path):
    """A slide converted to OME-TIFF, its macro and label images before the slide's
    pyramid (levels in SubIFDs): the base read the 20 × 30 macro image, and its pixel
    size was the first Image's."""
    image = _image()
    path = tmp_path / "slide.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tw:
        tw.write(np.zeros((20, 30, 3), np.uint8), metadata={"Name": "macro image"})
        tw.write(np.zeros((10, 10, 3), np.uint8), metadata={"Name": "label image"})
        tw.write(image, subifds=1, tile=(16, 16),
                 metadata={"Name": "slide #1", "PhysicalSizeX": 0.25,
                           "PhysicalSizeY": 0.25})
        tw.write(image[::2, ::2], subfiletype=1, tile=(16, 16))
    for lazy in (False, True):
        assert np.array_equal(np.asarray(open_image(path, lazy=lazy)), image)
    assert read_pixel_size(path) == ((0.25, 0.25), "um")
    assert open_image(path, series="macro image").shape == (20, 30, 3)  # when named


def test_a_small_image_before_the_image_is_not_read_for_it(tmp_path):
    """A TIFF whose first page is a thumbnail not marked reduced-resolution, the image
    after it: the base read the 12 × 16 thumbnail."""
    image = _image()
    path = tmp_path / "thumb first.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(image[::4, ::4], metadata=None)
        tw.write(image, metadata=None)
    assert np.array_equal(open_image(path), image)


@pytest.mark.parametrize("name", ["scan.btf", "scan.tf8", "SCAN.BTF", "scan.Tf8"])
def test_bigtiff_names_are_read(tmp_path, name):
    """BigTIFF's names: refused on the base ('unsupported file type'), and a folder's
    .btf files were left out of a batch without a word."""
    image = _image()
    folder = tmp_path / "in"
    folder.mkdir()
    tifffile.imwrite(folder / name, image, bigtiff=True, resolution=(4.0, 4.0),
                     resolutionunit="MICROMETER")
    assert np.array_equal(open_image(folder / name), image)
    assert read_pixel_size(folder / name) == ((0.25, 0.25), "um")
    out = tmp_path / "out"
    assert main(["threshold-label", str(folder), "--threshold", "otsu", "--out", str(out),
                 "--quiet"]) == 0
    assert (out / f"{name.rsplit('.', 1)[0]}_objects.csv").exists()


def test_the_writers_make_the_folders_they_write_into(tmp_path):
    """A script's save_table('results/a.csv') raised pandas' OSError, save_labels
    FileNotFoundError, when the folder did not exist yet; the command line and Export make
    theirs."""
    from napari_tessella.export import save_labels, save_labels_from_zarr, save_table

    labels = np.zeros((20, 20), np.int32)
    labels[2:6, 3:9] = 1
    table = {"label": [1], "area": [24.0]}
    written = [save_table(table, tmp_path / "a" / "b" / "t.csv", scale=(0.5, 0.5),
                          unit="um"),
               save_labels(labels, tmp_path / "c" / "l.tif"),
               save_labels_from_zarr(labels, tmp_path / "d" / "e" / "z.tif")]
    assert all(path.is_file() for path in written)
    assert np.array_equal(tifffile.imread(written[2]), labels)


def test_a_writer_given_a_folder_or_a_path_under_a_file_says_so(tmp_path):
    """A folder's name as the file: the base raised IsADirectoryError (pandas, tifffile);
    a path under a file: NotADirectoryError or FileNotFoundError."""
    from napari_tessella.export import save_labels, save_table

    (tmp_path / "results.tif").mkdir()
    (tmp_path / "table.csv").write_text("x\n")
    labels = np.ones((8, 8), np.uint8)
    with pytest.raises(ValueError, match=r"results\.tif is a folder: give the name of the "
                                         r"file to write in it"):
        save_labels(labels, tmp_path / "results.tif")
    with pytest.raises(ValueError, match=r"results\.tif is a folder"):
        save_table({"label": [1]}, tmp_path / "results.tif")
    with pytest.raises(ValueError, match=r"table\.csv is a file, not a folder: t\.csv "
                                         r"cannot be written in it"):
        save_table({"label": [1]}, tmp_path / "table.csv" / "t.csv")


@pytest.fixture
def without_imagecodecs(monkeypatch):
    """tifffile as it reads without the imagecodecs package (LZW, JPEG, … not decoded)."""
    from napari_tessella import reading

    real = reading._missing_codec

    def missing(page):
        name = getattr(page.compression, "name", "")
        return name if name in ("LZW", "JPEG", "ZSTD") else real(page)

    monkeypatch.setattr(reading, "_missing_codec", missing)


def test_without_the_codec_one_lzw_plane_names_the_package(tmp_path, without_imagecodecs):
    """imagecodecs is a dependency: the base still read a one-plane LZW TIFF through
    Pillow without it (a second decoder, whose JPEG values are its own); an environment
    made without the dependency is now told what to install, as for a stack."""
    path = tmp_path / "lzw.tif"
    tifffile.imwrite(path, _image(), compression="lzw")
    with pytest.raises(ValueError, match=r"lzw\.tif cannot be read .*compressed with LZW, "
                                         r"which needs the imagecodecs package: pip "
                                         r"install imagecodecs"):
        open_image(path)


def test_an_imagej_row_unit_is_read(tmp_path):
    """ImageJ writes ``yunit`` when the rows' unit is not the columns' (``unit``): the
    base read the rows' size in the columns' unit (2 µm rows as 2 nm)."""
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, _image(), imagej=True, resolution=(1 / 4.0, 1 / 2.0),
                     metadata={"unit": "nm", "yunit": "um"})
    found = read_pixel_size(path)
    assert found.unit == "nm" and found.scale == pytest.approx((2000.0, 4.0))


@pytest.mark.parametrize("name", ["notes.tif", "page.png"])
def test_a_file_that_is_no_image_is_said_so(tmp_path, name):
    """Text (or a web page saved under an image's name): the base quoted tifffile ("not a
    TIFF file: header=b'hell'") or imageio ("can not handle the given uri")."""
    path = tmp_path / name
    path.write_text("hello, this is not an image\n")
    with pytest.raises(ValueError, match=rf"{name} cannot be read as a \w+ image \(its "
                                         r"contents are not a TIFF or PNG image, whatever "
                                         r"its name\)\.$"):
        open_image(path)
