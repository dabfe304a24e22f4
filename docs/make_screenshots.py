"""Make the documentation's screenshots: the widgets docked, run on the two real images.

Run under a virtual X server from the repository root::

    xvfb-run -a python docs/make_screenshots.py

Images are read from ../shared/data when present, otherwise downloaded once by the
plugin's own downloader. Writes PNGs into docs/images/.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "images"
SHARED = HERE.parents[1] / "shared" / "data"


def _prefill_cache():
    """Use the shared copies instead of downloading, when they are there."""
    if not SHARED.exists() or os.environ.get("NAPARI_TESSELLA_DATA"):
        return
    default = str(OUT.parent / "_build" / "data")
    cache = Path(os.environ.setdefault("NAPARI_TESSELLA_DATA", default))
    cache.mkdir(parents=True, exist_ok=True)
    for src, name in [(SHARED / "NbW-STEM.png", "NbW-STEM.png"),
                      (SHARED / "coelho2009_u2os" / "images" / "dna-0.png", "dna-0.png")]:
        if src.exists() and not (cache / name).exists():
            shutil.copy(src, cache / name)


ALL = ("Threshold & label", "Seeded watershed", "Lattice & Voronoi", "Find atoms")


def _viewer_with_widgets(sample: str, names=ALL):
    """A 1600×1000 viewer with all four widgets docked (they fit: each scrolls)."""
    import napari

    viewer = napari.Viewer(title="napari-tessella", show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open_sample("napari-tessella", sample)
    widgets = {}
    for i, name in enumerate(names):
        dock, widgets[name] = viewer.window.add_plugin_dock_widget("napari-tessella", name,
                                                                   tabify=i > 0)
        widgets[name]._dock = dock
    _widen(viewer, dock)
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()
    viewer.reset_view()  # the image fills the canvas left beside the dock
    return viewer, widgets


def _widen(viewer, dock, width=440):
    """Give the tabbed dock the width of its widest widget."""
    from qtpy.QtCore import Qt

    viewer.window._qt_window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)


def _show(widget):
    """Bring a widget's tab to the front."""
    widget._dock.show()
    widget._dock.raise_()


def _save(viewer, name: str, canvas_only=False):
    import time

    from qtpy.QtWidgets import QApplication

    # half a second of events: the docks share their height 100 ms after they are first
    # shown (``_qt._share_dock_height``); five passes alone took the four docked widgets
    # before that, the first one with the whole height
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.01)
    path = OUT / name
    viewer.screenshot(str(path), canvas_only=canvas_only, flash=False)
    print("wrote", path.relative_to(HERE.parent))


def main() -> int:
    OUT.mkdir(exist_ok=True)
    _prefill_cache()

    # 1. atoms: threshold & label, then the lattice of the centres
    viewer, w = _viewer_with_widgets("nbw_stem")
    image = viewer.layers["NbW-STEM"]
    t = w["Threshold & label"]
    t.image.value = image
    t.value.value = 158  # the recipe's 0.62 of this 8-bit image
    t.opening.value = 2
    t()
    _show(t)
    _save(viewer, "threshold_label.png")
    lat = w["Lattice & Voronoi"]
    _show(lat)
    lat.points.value = viewer.layers["NbW-STEM centers"]
    lat.image.value = image
    lat()
    viewer.layers["NbW-STEM labels"].visible = False
    _save(viewer, "overview.png")
    viewer.layers["NbW-STEM centers Voronoi"].visible = False
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    camera.zoom *= 3
    _save(viewer, "delaunay_zoom.png", canvas_only=True)
    viewer.close()

    # 1b. the same micrograph with Find atoms: columns and channels, sub-pixel
    viewer, w = _viewer_with_widgets("nbw_stem")
    fa = w["Find atoms"]
    _show(fa)
    fa.image.value = viewer.layers["NbW-STEM"]
    fa.model.value = True  # columns and channels, merged into the structural model
    fa()
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    camera.zoom *= 2.5
    _save(viewer, "find_atoms.png")
    viewer.close()

    # 1c. the four widgets docked one under another, as the Plugins menu docks them
    import napari

    viewer = napari.Viewer(title="napari-tessella", show=True)
    viewer.window._qt_window.resize(1600, 1000)
    viewer.open_sample("napari-tessella", "nbw_stem")
    for name in ALL:
        viewer.window.add_plugin_dock_widget("napari-tessella", name)
    _save(viewer, "four_widgets.png")
    viewer.close()

    # 2. nuclei: seeded watershed with the defaults
    viewer, w = _viewer_with_widgets("u2os")
    ws = w["Seeded watershed"]
    _show(ws)
    ws.image.value = viewer.layers["U2OS dna-0"]
    ws.exclude_border.value = True
    ws()
    _save(viewer, "seeded_watershed.png")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
