"""Sixth QA pass (s8-qa2): leftovers of the fifth user pass (a legend over equal values, the
watershed's estimated min size, lengths without "px", the Lattice's outputs of one plane of
a stack, a dock closed during a run). Each test fails on the code before its fix."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella._widgets import LatticeWidget, SeededWatershedWidget
from napari_tessella.synthetic import synthetic_nuclei


def finished(widget):
    return widget._worker is None and not getattr(widget, "_stepping", 0)


def grid(n: int = 6, step: float = 8.0, offset: float = 4.0) -> np.ndarray:
    return np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"),
                    -1).reshape(-1, 2) * step + offset


def legend_of(widget) -> str:
    return widget.legend.value.replace("\u00a0", " ")


# --- 5. a dock closed during a run


def test_a_dock_closed_during_a_run_says_where_its_outputs_went(make_napari_viewer, qtbot):
    """Closed (its title bar's x) while the lattice ran, the dock still wrote its layers
    (no work lost) but said so only on its status line, which nobody can see any more."""
    from napari.utils.notifications import notification_manager

    viewer = make_napari_viewer(show=True)
    viewer.add_points(grid(), name="cols")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Lattice & Voronoi")
    qtbot.wait(200)
    said = []
    notification_manager.notification_ready.connect(lambda n: said.append(n.message))
    widget._run_button.native.click()
    dock.title.close_button.click()  # napari's own close: the dock is removed
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    qtbot.wait(100)
    assert [layer.name for layer in viewer.layers] == ["cols", "cols Delaunay", "cols Voronoi"]
    assert any("'cols Delaunay'" in m and "closed" in m for m in said), said


# --- 2. the watershed's estimate and its run give the same default min size


@pytest.mark.parametrize("unit", ["µm", None])
def test_the_estimated_min_size_is_the_one_the_run_uses(viewer, unit):
    """At 0.3338 µm pixels the estimate said "nuclei under 35 µm² (314 px)" and the run
    "min size 34.88 µm² = 313 px" for the same default: the estimate came from the
    unrounded diameter, the run from the field's (kept to a tenth of a pixel)."""
    pixel = 0.3338
    geo = {"scale": (pixel, pixel), "units": unit} if unit else {}
    viewer.add_image(synthetic_nuclei(seed=1).image, name="dapi", **geo)
    widget = SeededWatershedWidget(viewer)
    assert widget.estimate_diameter() is not None
    estimate = widget._status.value
    said = estimate.split("nuclei under ")[1].split(" are dropped")[0]
    assert widget() is not None
    run = widget._status.value.split("min size ")[1].split(", ")[0]
    assert said == run, (estimate, widget._status.value)
    assert said.endswith(" px" if unit else " px²")
