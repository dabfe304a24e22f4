"""How long the Lattice & Voronoi outputs take to appear in a real viewer.

Run under a virtual X server::

    xvfb-run -a -s "-screen 0 1920x1200x24" python benchmarks/lattice_layers.py [--side 142]
    xvfb-run -a -s "-screen 0 1920x1200x24" python benchmarks/lattice_layers.py \
        --points 100000 --repeat 3 --skip-shapes

A jittered square lattice of side×side points (default ≈ 20,000 points, ≈ 40,000 triangles,
≈ 60,000 bonds; ``--points 100000``: side 317, 100,489 points, ≈ 200,000 triangles) first
goes through ``lattice()`` alone, with and without ``shape=`` (with and without the pixel
Voronoi map), then through the widget's own output path (``_lattice_outputs``, which runs
in the worker thread, then the widget's layer writing on the UI thread) with the widget docked
in the viewer, as a user has it. Every figure is timed from the moment the results reach the UI
thread until the canvas has rendered one frame with them on screen (a paint of the window,
finished with glFinish). Reported in the same run, each repeated (min and median):

- all lattice layers as new layers (first run of the widget) and updated in place (re-run),
- the same with one output ticked at a time (the per-layer share of the total);
- the frame of the viewer without any lattice layer (what every figure includes);
- the time until the viewer is idle again (the "INFO" notification's slide-in makes the canvas
  render again after the layers have appeared);
- the previous method of this benchmark (a screenshot, then the pending paint: two renders);
- the Shapes geometry (one shape per triangle and per cell), for the ratio.

Each figure is given as wall time and as this process's CPU time (all its threads, the
software GL renderer's included): on a machine shared with other work the CPU time is the
steadier of the two, the wall time what a user on an idle machine would at most see.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

FAST, SHAPES = "vectors (fast)", "shapes (editable)"


def _process(seconds: float) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.002)


def _first_frame(viewer, timeout: float = 10.0) -> None:
    """Run the event loop until the canvas has painted once; wait for the GL work to finish."""
    from qtpy.QtWidgets import QApplication

    canvas = viewer.window._qt_viewer.canvas._scene_canvas
    drawn = []
    callback = canvas.events.draw.connect(lambda _event: drawn.append(1), position="last")
    end = time.perf_counter() + timeout
    try:
        while not drawn and time.perf_counter() < end:
            QApplication.processEvents()
    finally:
        canvas.events.draw.disconnect(callback)
    canvas.context.finish()


def _idle(viewer, quiet: float = 0.3, timeout: float = 10.0) -> float:
    """Run the event loop until the canvas has been still for ``quiet`` s; end of last paint."""
    from qtpy.QtWidgets import QApplication

    canvas = viewer.window._qt_viewer.canvas._scene_canvas
    last = [time.perf_counter()]

    def on_draw(_event):
        canvas.context.finish()
        last[0] = time.perf_counter()

    callback = canvas.events.draw.connect(on_draw, position="last")
    end = time.perf_counter() + timeout
    try:
        while time.perf_counter() - last[0] < quiet and time.perf_counter() < end:
            QApplication.processEvents()
            time.sleep(0.002)
    finally:
        canvas.events.draw.disconnect(callback)
    return last[0]


def _screenshot_drawn(viewer) -> None:
    """The previous method: a screenshot (renders the scene off screen), then pending paints."""
    from qtpy.QtWidgets import QApplication

    viewer.screenshot(canvas_only=True, flash=False)
    QApplication.processEvents()


def _clear(viewer, widget, keep: int) -> None:
    for layer in list(viewer.layers)[keep:]:
        viewer.layers.remove(layer)
    widget._outputs.clear()
    _process(0.3)
    _idle(viewer)


def _stats(values) -> str:
    return f"min {min(values):.2f} s, median {statistics.median(values):.2f} s"


class _Clock:
    """Wall and process CPU time of one measured stretch."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _both(pairs) -> str:
    wall, cpu = zip(*pairs, strict=True)
    return (f"wall median {statistics.median(wall):.2f} s (min {min(wall):.2f}), "
            f"CPU median {statistics.median(cpu):.2f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=142)
    parser.add_argument("--points", type=int, default=None,
                        help="about this many points (sets --side to its square root)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--window", default="1600x1000",
                        help="viewer window size, WIDTHxHEIGHT (software GL: cost grows with it)")
    parser.add_argument("--skip-shapes", action="store_true",
                        help="do not time the (slow) Shapes geometry")
    args = parser.parse_args(argv)

    import napari

    from napari_tessella import lattice
    from napari_tessella._widgets.lattice import LatticeWidget, _lattice_outputs

    rng = np.random.default_rng(0)
    n = round(args.points**0.5) if args.points else args.side
    r, c = np.meshgrid(np.arange(n) * 7.0 + 3, np.arange(n) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    shape = (n * 7, n * 7)

    core = {}
    for label, kwargs in (("without shape", {}), ("with shape (pixel map)", {"shape": shape})):
        core[label] = []
        for _ in range(args.repeat):
            clock = _Clock()
            result = lattice(pts, **kwargs)
            core[label].append(clock.stop())
    print(f"{len(pts)} points, {len(result.triangles)} triangles, {len(result.edges)} edges")
    for label, pairs in core.items():
        print(f"lattice() {label:24s} {_both(pairs)}")
    t_core = statistics.median(w for w, _ in core["with shape (pixel map)"])
    cpu_core = statistics.median(c for _, c in core["with shape (pixel map)"])

    viewer = napari.Viewer(show=True)
    viewer.add_image(np.zeros(shape, np.float32), name="image")
    viewer.add_points(pts, name="points")
    keep = len(viewer.layers)
    widget = LatticeWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Lattice & Voronoi")
    width, height = (int(v) for v in args.window.lower().split("x"))
    viewer.window._qt_window.resize(width, height)
    _process(0.5)
    canvas_size = viewer.window._qt_viewer.canvas._scene_canvas.size
    print(f"window {width}x{height}, canvas {canvas_size[0]}x{canvas_size[1]} px")
    geo = {"scale": (1.0, 1.0), "translate": (0.0, 0.0)}
    every = (True, True, True)

    def outputs_for(res, want=every, geometry=FAST):
        t = time.perf_counter()
        outputs, message, _legend = _lattice_outputs(res, "points", geo, "", want, geometry)
        return outputs, message, time.perf_counter() - t

    tuples = []
    for _ in range(args.repeat):
        clock = _Clock()
        outputs, message, _ = outputs_for(result)
        tuples.append(clock.stop())
    t_tuples = statistics.median(w for w, _ in tuples)
    cpu_tuples = statistics.median(c for _, c in tuples)
    print(f"LayerDataTuples (_lattice_outputs, worker thread): {_both(tuples)}")
    # The first lattice layers of a session pay napari's one-off JIT compilation and GL
    # set-up; a tiny lattice takes them, then the real runs.
    _idle(viewer)
    t0 = time.perf_counter()
    small, small_message, _ = outputs_for(lattice(pts[:50], shape))
    widget._apply(small, small_message)
    _first_frame(viewer)
    print(f"one-off warm-up (first lattice layers of a napari session): "
          f"{time.perf_counter() - t0:.2f} s")
    _clear(viewer, widget, keep)

    def appear(outs, msg, clear=True, drawn=_first_frame):
        if clear:
            _clear(viewer, widget, keep)
        else:
            _idle(viewer)
        t = time.perf_counter()
        widget._apply(outs, msg)
        drawn(viewer)
        return time.perf_counter() - t

    empty = []
    for _ in range(args.repeat):
        _clear(viewer, widget, keep)
        viewer.window._qt_viewer.canvas._scene_canvas.update()
        t = time.perf_counter()
        _first_frame(viewer)
        empty.append(time.perf_counter() - t)
    new, rerun, idle_new, cpu_new, cpu_rerun = [], [], [], [], []
    for _ in range(args.repeat):
        _clear(viewer, widget, keep)
        clock = _Clock()
        widget._apply(outputs, message)
        _first_frame(viewer)
        wall, cpu = clock.stop()
        new.append(wall)
        cpu_new.append(cpu)
        idle_new.append(_idle(viewer) - clock.wall)
        _idle(viewer)
        clock = _Clock()
        widget._apply(outputs, message)
        _first_frame(viewer)
        wall, cpu = clock.stop()
        rerun.append(wall)
        cpu_rerun.append(cpu)
    names = {"triangles": "Delaunay bonds (Vectors)", "polygons": "Voronoi ridges (Vectors)",
             "pixel": "pixel Voronoi map (Labels)"}
    alone = {}
    for i, role in enumerate(names):
        want = tuple(j == i for j in range(3))
        outs, msg, _ = outputs_for(result, want)
        alone[role] = [appear(outs, msg) for _ in range(args.repeat)]
    # What one colour per bond would save (the widget colours every bond by its length and
    # gives it a feature row): the same bonds, plain white, no features.
    (role, (data, meta, kind)), = outputs_for(result, (True, False, False))[0]
    meta = {k: v for k, v in meta.items()
            if k not in ("features", "edge_color", "edge_colormap", "edge_contrast_limits")}
    plain = [appear([(role, (data, {**meta, "edge_color": "white"}, kind))], message)
             for _ in range(args.repeat)]
    old = [appear(outputs, message, drawn=_screenshot_drawn) for _ in range(args.repeat)]

    print(f"frame without lattice layers (image + points): {_stats(empty)}")
    print(f"all lattice layers, new (first run):  {_stats(new)}  "
          f"[{', '.join(f'{t:.2f}' for t in new)}]; CPU median {statistics.median(cpu_new):.2f} s")
    print(f"all lattice layers, re-run in place:  {_stats(rerun)}  "
          f"[{', '.join(f'{t:.2f}' for t in rerun)}]; CPU median "
          f"{statistics.median(cpu_rerun):.2f} s")
    print("one output at a time, new layer (each includes the frame above):")
    for role, label in names.items():
        print(f"  {label:28s} {_stats(alone[role])}")
    print(f"  {'Delaunay bonds, one colour':28s} {_stats(plain)}  (no per-bond colour or "
          "features)")
    print(f"until the viewer is idle again, new: {_stats(idle_new)}")
    print(f"previous method (screenshot + pending paint), new: {_stats(old)}")
    if not args.skip_shapes:
        outs, msg, t_shapes = outputs_for(result, every, SHAPES)
        shapes = appear(outs, msg)
        print(f"Shapes geometry (one shape per triangle and per cell), new: {shapes:.2f} s "
              f"(+ {t_shapes:.2f} s LayerDataTuples); "
              f"ratio Shapes / Vectors: {shapes / statistics.median(new):.1f}x")
    target = statistics.median(new)
    total = t_core + t_tuples + target
    again = t_core + t_tuples + statistics.median(rerun)
    cpu_total = cpu_core + cpu_tuples + statistics.median(cpu_new)
    cpu_again = cpu_core + cpu_tuples + statistics.median(cpu_rerun)
    print(f"all lattice layers to appear (UI thread): median {target:.2f} s wall, "
          f"{statistics.median(cpu_new):.2f} s CPU; the worker's lattice() {t_core:.2f} s "
          f"({cpu_core:.2f} s CPU) and LayerDataTuples {t_tuples:.2f} s ({cpu_tuples:.2f} s CPU) "
          "come before, off the UI thread")
    limit_new, limit_again = (2.0, 1.0) if len(pts) >= 50_000 else (1.0, 1.0)
    for label, wall, cpu, limit in (("from Run to drawn", total, cpu_total, limit_new),
                                    ("re-run to drawn", again, cpu_again, limit_again)):
        print(f"{label} (lattice() + LayerDataTuples + layers, medians): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU -> target <= {limit:g} s "
              f"{'met' if wall <= limit else 'met in CPU time' if cpu <= limit else 'NOT met'}")
    viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
