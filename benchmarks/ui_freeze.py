"""How long the viewer's UI is blocked while a widget's outputs go into a real viewer.

Run under a virtual X server, on demand (no test times anything)::

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/ui_freeze.py \
        --sides 4096 8192 --against BASE_SRC

A synthetic lattice (``synthetic_lattice``, spacing 12 px: 116,281 columns at 4096²,
466,489 at 8192²) is put in a ``napari.Viewer``, *Threshold & label* is docked and run
(Run, as a user clicks it: the work in a worker, the layers written on the UI thread),
then *Lattice & Voronoi* on its centres. A ``QTimer`` beats every 5 ms on the UI thread;
the longest gap between two beats is the longest time the UI could not answer. Each
widget's run is cut in two: the worker (Run until its result reaches the UI thread) and
the writing (from then until the widget is done and the canvas has painted twice). The
figure that matters is the longest gap while writing; the worker's is reported too
(Python work in the worker holds the interpreter in turns).

With ``--against SRC`` every side is measured with that tree's package as well, in its
own process, one after the other (base, this tree, base, this tree… for ``--repeat``),
and the ratio base / this tree is said for each figure, measured in the same run.
``--child SIDE`` runs one measurement in this process and prints it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _measure(side: int) -> dict:
    import napari
    import numpy as np
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from napari_tessella._widgets.lattice import LatticeWidget
    from napari_tessella._widgets.threshold_label import ThresholdLabelWidget
    from napari_tessella.synthetic import synthetic_lattice

    image = synthetic_lattice((side, side), spacing=12.0, seed=1).image
    viewer = napari.Viewer(show=True)
    app = QApplication.instance()
    viewer.add_image(image, name="stem")
    beats: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start()

    def settle(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)

    def longest(t0: float, t1: float) -> float:
        inside = [t for t in beats if t0 <= t <= t1]
        edges = [t0, *inside, t1]
        return float(np.max(np.diff(edges))) if len(edges) > 1 else t1 - t0

    def run(widget) -> dict:
        returned = []
        original = widget._returned

        def mark(result, done):
            returned.append(time.perf_counter())
            return original(result, done)

        widget._returned = mark
        settle(0.5)
        t0 = time.perf_counter()
        widget._start()
        while widget._worker is not None or getattr(widget, "_stepping", False):
            app.processEvents()
            time.sleep(0.001)
        t_done = time.perf_counter()
        # the new layers are drawn at the next paints: until two more beats of the canvas
        settle(1.5)
        t_end = time.perf_counter()
        t_ret = returned[0] if returned else t0
        return {"worker_s": t_ret - t0, "write_s": t_done - t_ret,
                "block_worker_s": longest(t0, t_ret), "block_write_s": longest(t_ret, t_end),
                "status": widget._status.value[:160]}

    settle(1.0)
    tl = ThresholdLabelWidget(viewer)
    viewer.window.add_dock_widget(tl, name="Threshold & label")
    tl.live_preview.value = False
    settle(0.5)
    out = {"side": side, "threshold_label": run(tl)}
    lat = LatticeWidget(viewer)
    viewer.window.add_dock_widget(lat, name="Lattice & Voronoi")
    lat.points.value = viewer.layers["stem centers"]
    settle(0.5)
    out["lattice"] = run(lat)
    out["layers"] = [f"{layer.name}: {type(layer).__name__}"
                     f"{' multiscale' if getattr(layer, 'multiscale', False) else ''}"
                     for layer in viewer.layers]
    timer.stop()
    viewer.close()
    return out


def _child(side: int, src: str | None) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if src:
        env["PYTHONPATH"] = src
    run = subprocess.run([sys.executable, __file__, "--child", str(side)], env=env,
                         capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(run.stderr[-3000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[4096, 8192])
    parser.add_argument("--against", help="another tree's src (the base) to compare")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args.child)))
        return
    mine = str(HERE.parent / "src")
    trees = ([("base", args.against)] if args.against else []) + [("this", mine)]
    for side in args.sides:
        results: dict = {name: [] for name, _ in trees}
        for _ in range(args.repeat):
            for name, src in trees:
                results[name].append(_child(side, src))
                r = results[name][-1]
                print(f"{side}² {name}: " + "; ".join(
                    f"{w}: worker {r[w]['worker_s']:.1f} s, writing {r[w]['write_s']:.1f} s, "
                    f"longest UI block {r[w]['block_write_s']:.2f} s (during the worker "
                    f"{r[w]['block_worker_s']:.2f} s)" for w in ("threshold_label", "lattice")),
                      flush=True)
                print("    layers: " + ", ".join(r["layers"]), flush=True)
        if args.against:
            for w in ("threshold_label", "lattice"):
                base = statistics.median(r[w]["block_write_s"] for r in results["base"])
                this = statistics.median(r[w]["block_write_s"] for r in results["this"])
                print(f"{side}² {w}: longest UI block while writing, base {base:.2f} s -> "
                      f"this {this:.2f} s (base / this = {base / this:.1f})", flush=True)


if __name__ == "__main__":
    main()
