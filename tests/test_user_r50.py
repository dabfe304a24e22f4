"""Round 50: inputs a microscopist brings that the earlier passes had not tried. Each test
fails on the code before its fix (said in its docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella import threshold_label
from napari_tessella.cli import main
from napari_tessella.reading import open_image
from napari_tessella.synthetic import synthetic_lattice


@pytest.fixture
def grey():
    lat = synthetic_lattice((96, 96), spacing=8.0, seed=0).image
    return (np.clip(lat, 0, 1) * 255).astype(np.uint8)


# --- a grey PNG with an alpha channel (Pillow's "LA")


@pytest.mark.parametrize("alpha", ["opaque", "varying"])
def test_a_grey_png_with_alpha_is_read_as_its_grey(tmp_path, grey, alpha):
    """A grey PNG saved with an alpha channel (shape (M, N, 2)) was refused by every
    command as "a 2-D … or an RGB(A) image; got shape (96, 96, 2) … save each plane as a
    file of its own": its alpha was taken for a second plane. It is read as its grey
    channel, alpha ignored, as an RGBA PNG's alpha is."""
    import imageio.v3 as iio

    a = np.full_like(grey, 255) if alpha == "opaque" else (np.arange(96)[None] * 2 + grey * 0)
    path = tmp_path / "la.png"
    iio.imwrite(path, np.stack([grey, a.astype(np.uint8)], -1))
    image = open_image(path)
    assert image.shape == (96, 96)
    np.testing.assert_array_equal(image, grey)
    out = tmp_path / "out"
    assert main(["threshold-label", str(path), "--out", str(out), "--quiet"]) == 0
    import tifffile

    labels = tifffile.imread(out / "la_labels.tif")
    np.testing.assert_array_equal(labels, threshold_label(grey, "otsu"))


# --- Export after the user deleted every output layer


def test_export_after_the_outputs_were_deleted_says_so(make_napari_viewer, tmp_path):
    """Run, delete the output layers, Export: it said "nothing to export yet: run the
    widget first." to a user who had run it. It says the layers its runs wrote are gone."""
    from _widget_helpers import discs

    from napari_tessella._widgets import ThresholdLabelWidget

    viewer = make_napari_viewer()
    image = viewer.add_image(discs(), name="dna")
    widget = ThresholdLabelWidget(viewer)
    assert widget.export(tmp_path) == []
    assert "run the widget first" in widget._status.value  # never run: as before
    widget.image.value = image
    assert widget() is not None
    for name in ("dna labels", "dna centers"):
        viewer.layers.remove(name)
    assert widget.export(tmp_path) == []
    status = widget._status.value
    assert "run the widget first" not in status
    assert "'dna labels', 'dna centers'" in status and "no longer in the viewer" in status
    assert not list(tmp_path.iterdir())


# --- colour layers of 2-4 rows (a line scan, a tiny crop)


@pytest.mark.parametrize("rows", [2, 3, 4])
def test_a_colour_layer_of_few_rows_is_colour(make_napari_viewer, grey, rows):
    """An RGB layer of 2-4 rows (napari shows it in colour: ``rgb=True``) was refused by
    every image widget as "image must be a 2-D (row, column) image or an RGB(A) image; got
    shape (3, 96, 3). Pass one plane of a stack, e.g. image[0].": the core cannot tell
    such an array from a stack by its shape. The widgets take it as the layer says, its
    luminance, as for taller colour images."""
    from napari_tessella._validation import LUMA
    from napari_tessella._widgets import (
        FindAtomsWidget,
        SeededWatershedWidget,
        ThresholdLabelWidget,
    )

    viewer = make_napari_viewer()
    strip = np.stack([grey[40:40 + rows]] * 3, -1)
    layer = viewer.add_image(strip, name="scan", rgb=True)
    assert layer.rgb
    before = strip.copy()
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    assert widget() is not None, widget._status.value
    expected = threshold_label(strip[..., :3].astype(float) @ LUMA, "otsu")
    np.testing.assert_array_equal(viewer.layers["scan labels"].data, expected)
    for kind in (SeededWatershedWidget, FindAtomsWidget):
        other = kind(viewer)
        other.image.value = layer
        other()
        assert "stack" not in other._status.value and "2-D" not in other._status.value, (
            other._status.value)
    np.testing.assert_array_equal(layer.data, before)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_colour_file_of_few_rows_is_colour_on_the_command_line(tmp_path, grey, suffix):
    """The same on the command line: a 3-row RGB PNG or TIFF (photometric RGB) failed
    "got shape (3, 96, 3). The command line takes one plane per file"; it is its
    luminance, and a 3-plane grey TIFF stack is still refused as a stack."""
    import imageio.v3 as iio
    import tifffile

    from napari_tessella._validation import LUMA

    rgb = np.stack([grey[40:43], grey[50:53], grey[60:63]], -1)
    path = tmp_path / f"scan{suffix}"
    if suffix == ".png":
        iio.imwrite(path, rgb)
    else:
        tifffile.imwrite(path, rgb, photometric="rgb")
    image = open_image(path)
    np.testing.assert_allclose(image, rgb.astype(float) @ LUMA)
    out = tmp_path / "out"
    assert main(["threshold-label", str(path), "--out", str(out), "--quiet"]) == 0
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, grey[:3, :, None].repeat(3, -1).transpose(2, 0, 1)[:3],
                     photometric="minisblack")
    assert open_image(stack).shape == (3, 3, 96)
    assert main(["threshold-label", str(stack), "--out", str(out), "--quiet"]) == 1


# --- the API: a label image given where points are expected


def test_lattice_of_a_label_image_given_as_points_says_so():
    """``lattice(labels)`` (the label image as the first, positional argument) read the
    image's rows as 32-D points and said "points has 31 duplicate point(s) … remove them
    first, e.g. with np.unique(points, axis=0)". It says it looks like a label image and
    to pass it as ``labels=``; that call, and nD points of up to 5 axes, work as before."""
    from napari_tessella import lattice

    lab = np.zeros((32, 32), np.int32)
    for i, (r, c) in enumerate([(5, 5), (5, 25), (25, 5), (25, 25), (15, 15)]):
        lab[r - 2:r + 3, c - 2:c + 3] = i + 1
    with pytest.raises(ValueError, match=r"looks like a label image.*labels="):
        lattice(lab)
    assert len(lattice(labels=lab).points) == 5
    nd = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 1, 9], [0, 0, 0, 9, 1]])
    assert len(lattice(nd).triangles) == 1


# --- an 'all planes' result, then a run of one plane


def test_a_one_plane_run_keeps_an_all_planes_result(make_napari_viewer):
    """'all planes' on a 3-plane stack, then 'this plane' (a parameter checked on one
    plane, or the live preview): the run replaced the stack's labels (3, 64, 64) by one
    plane (1, 64, 64) and its 192 centres by 64, so the whole stack's work (minutes on a
    time-lapse) was lost. The stack is kept as it is, the one-plane outputs are new
    layers, the status line says so; one-plane re-runs then update those new layers."""
    from napari_tessella._widgets import FindAtomsWidget, ThresholdLabelWidget

    lat = synthetic_lattice((64, 64), spacing=8.0, seed=0).image
    viewer = make_napari_viewer()
    stack = viewer.add_image(np.stack([lat, lat[::-1], lat[:, ::-1]]), name="st")
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.image.value = stack
    widget._planes.value = "all planes"
    assert widget() is not None
    labels, centers = viewer.layers["st labels"], viewer.layers["st centers"]
    saved = np.array(labels.data), np.array(centers.data)
    assert saved[0].shape == (3, 64, 64) and len(saved[1]) == 192
    viewer.dims.set_point(0, 1)
    widget._planes.value = "this plane"
    widget.opening.value = 2
    assert widget() is not None
    assert "holds all 3 planes of an earlier run: kept" in widget._status.value
    np.testing.assert_array_equal(labels.data, saved[0])
    np.testing.assert_array_equal(centers.data, saved[1])
    assert viewer.layers["st labels [1]"].data.shape == (1, 64, 64)
    n = len(viewer.layers)
    widget.live_preview.value = True
    widget.opening.value = 3  # a preview: into the one-plane layers
    assert len(viewer.layers) == n and "kept" not in widget._status.value
    np.testing.assert_array_equal(labels.data, saved[0])
    atoms = FindAtomsWidget(viewer)
    atoms.image.value = stack
    atoms._planes.value = "all planes"
    assert atoms() is not None
    columns = np.array(viewer.layers["st columns"].data)
    atoms._planes.value = "this plane"
    assert atoms() is not None
    np.testing.assert_array_equal(viewer.layers["st columns"].data, columns)
    assert "kept" in atoms._status.value


# --- the other inputs of a run (seeds, the image for bounds) changed during it


def test_seeds_or_bounds_changed_during_a_run_are_said(make_napari_viewer, qtbot):
    """The seeds edited or deleted while the watershed ran (or the Lattice's image for
    bounds deleted): the outputs were of them as they were at Run, as they should be, but
    the status line said nothing, as it does for the main input. It says so now."""
    from _widget_helpers import CENTRES, discs, finished

    from napari_tessella._widgets import LatticeWidget, SeededWatershedWidget

    viewer = make_napari_viewer()
    image = viewer.add_image(discs(), name="dna")
    seeds = viewer.add_points(CENTRES, name="my seeds")
    widget = SeededWatershedWidget(viewer)
    widget.image.value, widget.seeds.value = image, seeds
    widget._run_button.native.click()
    seeds.data = CENTRES[:2]
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert "4 nuclei" in status and "'my seeds' changed during the run: its data" in status
    widget._run_button.native.click()  # unchanged this time: nothing said
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert "during the run" not in widget._status.value
    widget._run_button.native.click()
    viewer.layers.remove(seeds)
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    assert "'my seeds' was deleted during the run" in widget._status.value

    grid = np.stack(np.meshgrid(np.arange(6), np.arange(6), indexing="ij"), -1)
    points = viewer.add_points(grid.reshape(-1, 2) * 20.0 + 10, name="pts")
    bounds = viewer.add_image(np.zeros((128, 128)), name="bounds")
    lattice = LatticeWidget(viewer)
    lattice.points.value, lattice.image.value = points, bounds
    lattice._run_button.native.click()
    bounds.scale = (2, 2)
    qtbot.waitUntil(lambda: finished(lattice), timeout=60_000)
    assert "'bounds' changed during the run: its scale" in lattice._status.value


# --- the core's Python advice, said in the viewer's words


def test_python_advice_is_said_as_the_viewer_user_can_follow_it(make_napari_viewer):
    """An image with NaN pixels said "replace them (e.g. with np.nan_to_num) before
    segmenting", duplicate points "remove them first, e.g. with np.unique(points,
    axis=0)": advice for Python callers, in the status line and the notification of a
    user of the viewer (the command line already says its own words). The API keeps it."""
    from _widget_helpers import discs

    from napari_tessella._widgets import LatticeWidget, ThresholdLabelWidget

    viewer = make_napari_viewer()
    image = discs()
    image[:10] = np.nan  # a registered image's padding
    layer = viewer.add_image(image, name="registered")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer  # the live preview
    # (since round 52 the widget reads NaN pixels as outside the sample: no advice at all)
    assert widget() is not None
    status = widget._status.value
    assert "1280 pixels" in status and "np.nan_to_num" not in status
    assert "NaN or infinite: read as outside the image" in status
    points = viewer.add_points([[10, 10], [10, 10], [40, 60], [70, 20]], name="clicked")
    lattice = LatticeWidget(viewer)
    lattice.points.value, lattice.image.value = points, None
    assert lattice() is None
    status = lattice._status.value
    assert "1 duplicate point(s)" in status and "np.unique" not in status
    assert "delete all but one" in status
    with pytest.raises(ValueError, match=r"np\.nan_to_num"):
        threshold_label(image, "otsu")
