"""A TIFF of several images dropped into napari: its reader opens the first image (a
slide's thumbnail, one position of a multi-position OME-TIFF) without a word; the widgets
say which image the layer is and how to open the file's main one (round 59)."""

from __future__ import annotations

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")

WIDGETS = ["Threshold & label", "Seeded watershed", "Find atoms"]


def _spots(shape, seed=0):
    """A dark field with a few bright discs (something to segment)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    img = rng.normal(20, 2, shape)
    for r, c in rng.uniform(8, np.array(shape) - 8, (6, 2)):
        img[(rows - r) ** 2 + (cols - c) ** 2 < 16] = 200
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def slide(tmp_path):
    """A slide scanner's file: a reduced-resolution thumbnail first, the slide, a label."""
    path = tmp_path / "slide.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(_spots((24, 30), 1), subfiletype=1)  # NewSubfileType: reduced resolution
        tw.write(_spots((96, 120), 2))
        tw.write(_spots((20, 20), 3))
    return path


@pytest.fixture
def positions(tmp_path):
    """A multi-position OME-TIFF: three images of one size."""
    path = tmp_path / "positions.ome.tif"
    with tifffile.TiffWriter(path, ome=True) as tw:
        for p in range(3):
            tw.write(_spots((64, 80), 10 + p), metadata={"Name": f"Position {p}"})
    return path


def _opened(viewer, path):
    """``path`` opened as a file dropped on the viewer: no reader named, so that a second
    reader of TIFFs (the plugin contributes none) would ask which one, every time."""
    (layer,) = viewer.open(str(path), plugin=None)
    return layer


@pytest.mark.parametrize("name", WIDGETS)
def test_thumbnail_opened_is_said_with_the_main_image(make_napari_viewer, slide, name):
    from napari_tessella.reading import open_image

    viewer = make_napari_viewer()
    layer = _opened(viewer, slide)
    assert layer.data.shape == (24, 30)  # napari opened the thumbnail
    _, widget = viewer.window.add_plugin_dock_widget("napari-tessella", name)
    widget.image.value = layer
    status = widget._status.value
    assert "series 0 24 × 30 uint8 of slide.tif" in status
    assert "main image is series 1 96 × 120 uint8" in status
    assert "series=1" in status
    # the line it gives opens the main image
    main = open_image(slide, series=1)
    assert main.shape == (96, 120)
    np.testing.assert_array_equal(main, tifffile.imread(slide, series=1))


def test_the_note_stays_after_a_run(make_napari_viewer, slide):
    viewer = make_napari_viewer()
    layer = _opened(viewer, slide)
    _, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Threshold & label")
    widget.image.value = layer
    assert widget() is not None  # the run is not refused: the user may mean the thumbnail
    assert "main image is series 1" in widget._status.value


def test_positions_are_listed(make_napari_viewer, positions):
    viewer = make_napari_viewer()
    layer = _opened(viewer, positions)
    _, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Seeded watershed")
    widget.image.value = layer
    status = widget._status.value
    assert "holds 3 images" in status
    assert all(f"'Position {p}'" in status for p in range(3))
    assert "0 to 2" in status


def test_main_image_and_single_tiffs_say_nothing(make_napari_viewer, tmp_path):
    single = tmp_path / "single.tif"
    tifffile.imwrite(single, _spots((64, 80)))
    # the main image first: napari's reader opens the right one
    first = tmp_path / "main_first.tif"
    with tifffile.TiffWriter(first) as tw:
        tw.write(_spots((96, 120), 2))
        tw.write(_spots((24, 30), 1), subfiletype=1)
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Threshold & label")
    for path in (single, first):
        widget.image.value = _opened(viewer, path)
        assert "series" not in widget._status.value  # (the live preview's line only)
        assert widget() is not None
        assert "series" not in widget._status.value


def test_shown_series_core(slide, positions, tmp_path):
    from napari_tessella._tiff import shown_series

    found = shown_series(slide, (24, 30))
    assert (found.count, found.main, found.last) == (3, 1, 2)
    assert shown_series(slide, (96, 120)) is None  # the main image itself
    assert shown_series(slide, (7, 7)) is None  # no image of the file: another reader's
    assert shown_series(positions, (64, 80)).main is None
    (tmp_path / "not.tif").write_bytes(b"not a tiff at all")
    assert shown_series(tmp_path / "not.tif", (2, 2)) is None
