"""A user-like sweep of the four widgets with odd inputs, in a real napari viewer.

The widgets are opened through the npe2 manifest (as *Plugins ▸ Tessella* does) and run
on every odd layer (synchronously, or with the Run button: ``--async``), with an export
after every successful run. Reported as problems: an exception raised or reaching
``sys.excepthook``/``threading.excepthook`` (a traceback in the viewer), a failure with
no message, a status that reads like a bug (an exception's type name), a modified input
layer, an export that raises. ``--geometry`` sweeps extreme layer geometry (scales of
1e±12, a flipped axis, a far translate) in a viewer of its own: napari's dims slider
overflows when such layers are mixed with ordinary ones.

Run: ``xvfb-run -a python benchmarks/widget_sweep.py [--async] [--geometry]``;
the exit code is the number of problems (0: none).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
import traceback

import numpy as np

ESCAPED: list[str] = []
PROBLEMS: list[str] = []


def _images(lat: np.ndarray, geometry: bool) -> dict:
    if geometry:
        return {"hugescale": {"scale": (1e12, 1e12)}, "tinyscale": {"scale": (1e-12, 1e-12)},
                "negscale": {"scale": (-1, 1)}, "translate": {"translate": (1000.5, -33)},
                "aniso": {"scale": (0.5, 2.0), "units": ("nm", "nm")}}
    nan = np.where(lat > 0.9, np.nan, lat)
    return {
        "constant": {"data": np.full((64, 64), 3.0)},
        "all NaN": {"data": np.full((64, 64), np.nan)}, "part NaN": {"data": nan},
        "inf": {"data": np.where(lat > 0.9, np.inf, lat)}, "bool": {"data": lat > 0.5},
        "int64": {"data": (lat * 1000).astype(np.int64) - 500},
        "uint16": {"data": (lat * 60000).astype(np.uint16)},
        "float16": {"data": lat.astype(np.float16)}, "negative": {"data": lat - 5},
        "int8": {"data": (lat * 100 - 50).astype(np.int8)},
        "rgb": {"data": np.stack([lat] * 3, -1), "rgb": True},
        "rgba uint8": {"data": (np.stack([lat] * 4, -1) * 255).astype(np.uint8), "rgb": True},
        "3-D": {"data": np.stack([lat, lat[::-1], lat])},
        "4-D": {"data": np.stack([np.stack([lat, lat[::-1]])] * 2)},
        "1xN": {"data": lat[:1]}, "Nx1": {"data": lat[:, :1]}, "2x2": {"data": lat[:2, :2]},
        "rotated": {"rotate": 30}, "units um": {"scale": (0.1, 0.1), "units": ("um", "um")},
        "units Å": {"scale": (0.3, 0.3), "units": ("angstrom", "angstrom")},
        "x1e300": {"data": lat.astype(float) * 1e300},
        "x1e-300": {"data": lat.astype(float) * 1e-300},
    }


def _points(geometry: bool) -> dict:
    if geometry:
        return {"outside": [[-100, -100], [10, 10], [20, 30], [40, 20]]}
    return {"0 points": np.empty((0, 2)), "1 point": [[10, 10]],
            "collinear": [[10, 10], [20, 20], [30, 30]],
            "duplicates": [[10, 10], [10, 10], [20, 30], [40, 5]],
            "NaN points": [[np.nan, 10], [20, 20], [30, 5], [5, 40]],
            "3-D points": [[1, 10, 10], [1, 20, 30], [1, 40, 20], [1, 5, 50]],
            "30 random": np.random.default_rng(0).uniform(0, 63, (30, 2))}


def _labels() -> dict:
    one = np.zeros((64, 64), np.int32)
    one[10:20, 10:20] = 1
    negative = np.zeros((64, 64), np.int8)
    negative[10:20, 10:20], negative[30:40, 30:40] = -3, 5
    huge = np.zeros((64, 64), np.int64)
    huge[10:20, 10:20], huge[30:40, 30:40], huge[5:9, 50:60] = 2**40, 2**62, 7
    many = np.zeros((64, 64), np.uint32)
    for i in range(16):
        many[(i // 4) * 16 + 4:(i // 4) * 16 + 10, (i % 4) * 16 + 4:(i % 4) * 16 + 10] = i + 1
    return {"one label": one, "negative ids": negative, "huge ids": huge, "16 labels": many,
            "no labels": np.zeros((64, 64), np.int32), "3-D labels": np.stack([many] * 2)}


def _process(seconds: float = 0.0):
    from qtpy.QtWidgets import QApplication

    end = time.time() + seconds
    QApplication.processEvents()
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def _snapshot(viewer, names) -> dict:
    return {lyr.name: np.array(lyr.data, copy=True) for lyr in viewer.layers
            if lyr.name in names}


def _run(widget, ctx: str, viewer, inputs: set, asynchronous: bool):
    n_escaped, before = len(ESCAPED), _snapshot(viewer, inputs)
    try:
        if asynchronous:
            widget._start()
            start = time.time()
            while ((widget._worker is not None or getattr(widget, "_stepping", False))
                   and time.time() - start < 120):
                _process(0.02)
            _process(0.1)
            ok = not widget._status.value.startswith("⚠")
        else:
            ok = widget() is not None
    except Exception as err:  # the sweep's whole point: nothing may be raised
        PROBLEMS.append(f"{ctx}: raised {type(err).__name__}: {err}")
        return
    _process()
    PROBLEMS.extend(f"{ctx}: reached the excepthook: {e[-300:]}" for e in ESCAPED[n_escaped:])
    status = widget._status.value
    if not ok and not status:
        PROBLEMS.append(f"{ctx}: failed without a message")
    refused = "could not be drawn in the viewer" in status  # napari's own refusal, said
    if not refused and any(word in status for word in ("Error:", "Exception", "Traceback")):
        PROBLEMS.append(f"{ctx}: a bug-like message: {status}")
    for name, data in before.items():
        now = np.asarray(viewer.layers[name].data)
        if now.shape != data.shape or not np.array_equal(now, data, equal_nan=data.dtype.kind
                                                         in "fc"):
            PROBLEMS.append(f"{ctx}: input layer {name!r} was modified")
    if ok:
        try:
            widget.export(tempfile.mkdtemp())
        except Exception as err:
            PROBLEMS.append(f"{ctx}: export raised {type(err).__name__}: {err}")
        if widget._status.value.startswith("⚠"):  # Export says why it wrote nothing
            PROBLEMS.append(f"{ctx}: export failed: {widget._status.value}")
    print(f"{ctx}: {status[:150]}")


def main(argv: list[str]) -> int:
    import napari

    from napari_tessella.synthetic import synthetic_lattice

    sys.excepthook = lambda *exc: ESCAPED.append("".join(traceback.format_exception(*exc)))
    threading.excepthook = lambda a: ESCAPED.append(f"thread: {a.exc_type.__name__}: "
                                                    f"{a.exc_value}")
    asynchronous, geometry = "--async" in argv, "--geometry" in argv
    lat = synthetic_lattice((64, 64), spacing=8.0, seed=0).image
    viewer = napari.Viewer(show=False)
    inputs = set()
    layers = [("image", name, dict(kw)) for name, kw in _images(lat, geometry).items()]
    layers += [("points", name, {"data": np.asarray(pts, float)})
               for name, pts in _points(geometry).items()]
    layers += [("labels", name, {"data": data})
               for name, data in ({} if geometry else _labels()).items()]
    for kind, name, kw in layers:
        try:  # napari's own dims slider overflows with some mixtures of extreme scales
            getattr(viewer, f"add_{kind}")(kw.pop("data", lat), name=name, **kw)
        except (OverflowError, ValueError) as err:
            print(f"napari refused or complained about {name!r}: {type(err).__name__}")
        if name in viewer.layers:
            inputs.add(name)
    ESCAPED.clear()
    widgets = {}
    for title in ("Threshold & label", "Seeded watershed", "Lattice & Voronoi", "Find atoms"):
        _, widgets[title] = viewer.window.add_plugin_dock_widget("napari-tessella", title)
    _process()
    images = [n for n in _images(lat, geometry) if n in inputs]
    sources = [n for n in (*_points(geometry), *({} if geometry else _labels())) if n in inputs]
    for title, widget in widgets.items():
        if title == "Lattice & Voronoi":
            for source in sources:
                for image in (None, *images[:4]):
                    widget.points.value = viewer.layers[source]
                    widget.image.value = None if image is None else viewer.layers[image]
                    _run(widget, f"{title} [{source} on {image}]", viewer, inputs,
                         asynchronous)
            continue
        for image in images:
            widget.image.value = viewer.layers[image]
            _run(widget, f"{title} [{image}]", viewer, inputs, asynchronous)
        if title == "Seeded watershed":
            widget.image.value = viewer.layers[images[-1] if geometry else "negative"]
            for source in sources:
                widget.seeds.value = viewer.layers[source]
                _run(widget, f"{title} [seeds {source}]", viewer, inputs, asynchronous)
            widget.seeds.value = None
    try:
        viewer.close()
    except OverflowError:  # napari's dims slider again, while the layers go
        pass
    print(f"==== {len(PROBLEMS)} problem(s)")
    print("\n".join(PROBLEMS))
    return min(len(PROBLEMS), 125)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:  # the sweep's own failure: shown, not swallowed by its hook
        sys.__excepthook__(*sys.exc_info())
        sys.exit(126)
