"""Round 52: whole-slide outputs keep the viewer responsive. Labels over a size limit go into
the viewer as a pyramid (napari's multiscale) made in the worker, level 0 the core's labels;
a Points output of many points goes in hidden (napari draws every point at every frame). The
limits are lowered here (small images, the same code path); the timings are in
``benchmarks/ui_freeze.py``, run on demand. Every test here fails on the code before
(the limits do not exist there, and the labels were one flat array)."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import names


@pytest.fixture
def small_limits(monkeypatch):
    """Labels over 2,000 pixels as a pyramid down to a side of 16; over 20 points hidden."""
    from napari_tessella._widgets import _outputs

    monkeypatch.setattr(_outputs, "PYRAMID_PIXELS", 2000)
    monkeypatch.setattr(_outputs, "PYRAMID_TOP", 16)
    monkeypatch.setattr(_outputs, "SHOWN_POINTS", 20)


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
    assert len(points) > 20 and meta["visible"] is False


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


def test_many_centres_go_in_hidden_and_are_all_there(make_napari_viewer, small_limits):
    """napari draws every point at every frame (and its ``shown`` does not thin out a 2-D
    layer's): over the limit the centres go in hidden, said, with all their rows."""
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget()
    centers = viewer.layers["stem centers"]
    n = len(centers.data)
    assert n > 20 and not centers.visible
    assert viewer.layers["stem labels"].visible
    assert f"'stem centers', {n:,} points, is hidden" in widget._status.value
    assert len(centers.features) == n
    centers.visible = True  # the user shows them: a re-run keeps them shown, unsaid
    widget.method.value = "manual"
    widget.value.value = 0.6
    widget()
    assert viewer.layers["stem centers"] is centers and centers.visible
    assert "is hidden" not in widget._status.value


def test_many_centres_are_hidden_after_a_run_in_the_worker(make_napari_viewer, small_limits,
                                                           qtbot):
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image())
    widget._start()
    qtbot.waitUntil(lambda: widget._worker is None and not getattr(widget, "_stepping", 0),
                    timeout=30000)
    assert not viewer.layers["stem centers"].visible
    assert viewer.layers["stem labels"].visible and viewer.layers["stem labels"].multiscale
    assert "is hidden" in widget._status.value


def test_few_centres_are_shown(make_napari_viewer, small_limits):
    viewer = make_napari_viewer()
    widget = _threshold(viewer, _lattice_image(32))
    widget()
    centers = viewer.layers["stem centers"]
    assert len(centers.data) <= 20 and centers.visible
    assert "hidden" not in widget._status.value


def test_the_watershed_outputs_over_the_limit_are_pyramids_of_its_labels(make_napari_viewer,
                                                                         monkeypatch):
    from _widget_helpers import discs

    from napari_tessella._widgets import SeededWatershedWidget, _outputs

    viewer = make_napari_viewer()
    image = viewer.add_image(discs(), name="dna")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget()
    flat = {layer.name: np.array(layer.data, copy=True) for layer in viewer.layers
            if layer._type_string == "labels"}
    assert flat and all(not layer.multiscale for layer in viewer.layers
                        if layer._type_string == "labels")
    monkeypatch.setattr(_outputs, "PYRAMID_PIXELS", 2000)
    monkeypatch.setattr(_outputs, "PYRAMID_TOP", 32)
    widget()
    for name, labels in flat.items():
        layer = viewer.layers[name]
        assert layer.multiscale, name
        np.testing.assert_array_equal(layer.data[0], labels)
        assert [tuple(level.shape) for level in layer.data] == [(128, 128), (64, 64),
                                                               (32, 32)]
