"""Round 52: whole-slide outputs keep the viewer responsive. Labels over a size limit go into
the viewer as a pyramid (napari's multiscale) made in the worker, level 0 the core's labels;
a Points output of many points is drawn only where the view holds few enough of them. The
limits are lowered here (small images, the same code path); the timings are in
``benchmarks/ui_freeze.py``, run on demand. Every test here fails on the code before
(the limits do not exist there, and the labels were one flat array)."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import names


@pytest.fixture
def small_limits(monkeypatch):
    """Labels over 2,000 pixels as a pyramid down to a side of 16; over 20 points drawn
    where the view is."""
    from napari_tessella._widgets import _outputs

    monkeypatch.setattr(_outputs, "PYRAMID_PIXELS", 2000)
    monkeypatch.setattr(_outputs, "PYRAMID_TOP", 16)
    monkeypatch.setattr(_outputs, "DRAWN_POINTS", 20)
    monkeypatch.setattr("napari_tessella._widgets._writing.DRAWN_POINTS", 20)


def _camera(viewer):
    from napari_tessella._widgets._outputs import _camera

    return _camera(viewer)


def _lattice_image(side: int = 96):
    from napari_tessella.synthetic import synthetic_lattice

    return synthetic_lattice((side, side), spacing=8.0, seed=3).image


def _threshold(viewer, image):
    from napari_tessella._widgets import ThresholdLabelWidget

    layer = viewer.add_image(image, name="stem")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.live_preview.value = False
    return widget


def test_labels_over_the_limit_are_a_pyramid_of_the_cores_labels(make_napari_viewer,
                                                                  small_limits):
    from napari_tessella.measure import measure_objects
    from napari_tessella.segmentation import threshold_label

    viewer = make_napari_viewer()
    image = _lattice_image()
    widget = _threshold(viewer, image)
    widget()
    labels = viewer.layers["stem labels"]
    core = threshold_label(image, **widget._params())
    assert labels.multiscale
    np.testing.assert_array_equal(labels.data[0], core)
    assert labels.data[0].dtype == core.dtype
    # each level half the last one, nearest: every value is an object's id
    assert [tuple(level.shape) for level in labels.data] == [(96, 96), (48, 48), (24, 24),
                                                             (12, 12)]
    np.testing.assert_array_equal(labels.data[2], core[::4, ::4])
    table = measure_objects(core, image)
    assert len(labels.features) == len(table) == int(core.max())
    np.testing.assert_array_equal(labels.features["label"], table["label"])
    centers = viewer.layers["stem centers"]
    np.testing.assert_allclose(centers.data, table[["com_row", "com_col"]].to_numpy())
    assert str(len(table)) in widget._status.value


def test_the_pyramid_is_built_in_the_worker(make_napari_viewer, small_limits):
    """The job the worker runs returns the levels: the UI thread only adds the layer."""
    from napari_tessella._widgets._stacks import _drain

    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    outputs, _ = _drain(widget._job())
    data, meta, kind = dict(outputs)["labels"]
    assert kind == "labels" and meta["multiscale"] and isinstance(data, list)
    points, meta, _ = dict(outputs)["points"]
    assert len(points) > 20 and not meta["shown"].any()  # drawn once the view is known


def test_labels_under_the_limit_stay_flat_and_editable(make_napari_viewer, small_limits):
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image(36))  # 1,296 pixels
    widget()
    labels = viewer.layers["stem labels"]
    assert not labels.multiscale and labels.editable
    assert isinstance(labels.data, np.ndarray)


def test_a_rerun_replaces_the_pyramid_and_its_centres_in_place(make_napari_viewer,
                                                               small_limits):
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget()
    centers = viewer.layers["stem centers"]
    n = len(centers.data)
    widget.opening.value = 2
    widget.method.value = "manual"
    widget.value.value = 0.6
    widget()
    assert names(viewer) == ["stem", "stem labels", "stem centers"]
    assert viewer.layers["stem centers"] is centers  # updated in place: chains keep it
    assert viewer.layers["stem labels"].multiscale
    core = viewer.layers["stem labels"].data[0]
    assert len(centers.data) == int(core.max()) != n
    assert len(centers.shown) == len(centers.data)


def test_the_lattice_chains_from_the_centres_and_from_the_pyramid(make_napari_viewer,
                                                                  small_limits):
    """Threshold & label's centres (all of them, drawn or not) and its labels as a
    pyramid are inputs of the Lattice: the same lattice as from flat labels."""
    from napari_tessella._widgets import LatticeWidget

    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget()
    labels, centers = viewer.layers["stem labels"], viewer.layers["stem centers"]
    n = len(centers.data)
    lattice = LatticeWidget(viewer)
    lattice.points.value = centers
    lattice()
    assert lattice._status.value.startswith(f"{n} points"), lattice._status.value
    assert len(viewer.layers["stem centers Delaunay"].features) > n
    lattice.points.value = labels
    lattice()
    assert lattice._status.value.startswith(f"{n} "), lattice._status.value
    on_pyramid = viewer.layers["stem labels Delaunay"].features
    flat = viewer.add_labels(labels.data[0].copy(), name="flat")
    lattice.points.value = flat
    lattice()
    on_flat = viewer.layers["flat Delaunay"].features
    assert len(on_pyramid) == len(on_flat) > n
    for column in on_flat.columns:
        np.testing.assert_allclose(on_pyramid[column], on_flat[column])


def test_the_pyramid_seeds_the_watershed(make_napari_viewer, monkeypatch):
    """A multiscale Labels layer given as seeds: the same nuclei as its flat level 0."""
    from _widget_helpers import _dots, discs

    from napari_tessella._widgets import SeededWatershedWidget

    viewer = make_napari_viewer()
    image = viewer.add_image(discs(), name="dna")
    seeds = _dots(lambda i: i + 1)
    pyramid = viewer.add_labels([seeds, seeds[::2, ::2].copy()], name="pyr", multiscale=True)
    flat = viewer.add_labels(seeds.copy(), name="flat")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    out = {}
    for layer in (pyramid, flat):
        widget.seeds.value = layer
        widget()
        out[layer.name] = np.array(viewer.layers["dna nuclei"].data, copy=True)
    np.testing.assert_array_equal(out["pyr"], out["flat"])
    assert out["pyr"].max() == 4


def test_export_of_the_pyramid_writes_its_level_0_as_tiff(make_napari_viewer, small_limits,
                                                          tmp_path):
    import pandas as pd
    import tifffile

    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget()
    files = widget.export(tmp_path / "out")
    assert sorted(f.name for f in files) == ["stem_centers.csv", "stem_labels.csv",
                                             "stem_labels.tif"]
    labels = viewer.layers["stem labels"]
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out" / "stem_labels.tif"),
                                  labels.data[0])
    table = pd.read_csv(tmp_path / "out" / "stem_centers.csv")
    assert len(table) == len(viewer.layers["stem centers"].data) == int(labels.data[0].max())


def test_many_centres_are_drawn_only_where_the_view_holds_few(make_napari_viewer,
                                                              small_limits):
    from napari_tessella._widgets._outputs import _DRAWN

    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget()
    centers = viewer.layers["stem centers"]
    n = len(centers.data)
    assert n > 20
    assert "drawn where you zoom in" in widget._status.value
    viewer.reset_view()  # the whole image: too many in view, none drawn
    _DRAWN[centers].update()
    assert not centers.shown.any()
    _camera(viewer).center = (20.0, 20.0)
    _camera(viewer).zoom = 40.0  # a few pixels across
    _DRAWN[centers].update()
    shown = centers.shown
    assert 0 < shown.sum() <= 20
    near = np.abs(centers.data - 20.0).max(axis=1)
    assert shown[near.argmin()] and not shown[near > 40].any()  # those around the view
    assert len(centers.data) == len(centers.features) == n  # all of them are the output


def test_the_view_follows_the_camera_after_a_moment(make_napari_viewer, small_limits, qtbot):
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget()
    centers = viewer.layers["stem centers"]
    _camera(viewer).center = (70.0, 70.0)
    _camera(viewer).zoom = 40.0
    qtbot.waitUntil(lambda: centers.shown.any(), timeout=5000)
    assert np.abs(centers.data[centers.shown] - 70.0).max() < 40


def test_few_centres_are_all_drawn(make_napari_viewer, small_limits):
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image(32))
    widget()
    centers = viewer.layers["stem centers"]
    assert len(centers.data) <= 20 and centers.shown.all()
    assert "drawn where" not in widget._status.value
