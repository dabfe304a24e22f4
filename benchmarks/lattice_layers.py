"""How long the Lattice & Voronoi outputs take to appear in a real viewer.

Run under a virtual X server::

    xvfb-run -a python benchmarks/lattice_layers.py [--side 142]

A jittered square lattice of side×side points (default ≈ 20,000 points, ≈ 40,000 triangles,
≈ 60,000 bonds) goes through the widget's own output path (``_lattice_outputs`` then the
widget's layer writing). Reported in the same run: the core ``lattice()`` time, the time for
the layers to be built and drawn once, for the fast (Vectors) and the Shapes geometry, and
the ratio between them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _drawn(viewer):
    from qtpy.QtWidgets import QApplication

    viewer.screenshot(canvas_only=True, flash=False)  # forces a real draw
    QApplication.processEvents()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=142)
    parser.add_argument("--skip-shapes", action="store_true",
                        help="do not time the (slow) Shapes geometry")
    args = parser.parse_args(argv)

    import napari

    from napari_tessella import lattice
    from napari_tessella._widgets import LatticeWidget, _lattice_outputs

    rng = np.random.default_rng(0)
    n = args.side
    r, c = np.meshgrid(np.arange(n) * 7.0 + 3, np.arange(n) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    shape = (n * 7, n * 7)

    t0 = time.perf_counter()
    result = lattice(pts, shape)
    t_core = time.perf_counter() - t0
    print(f"{len(pts)} points, {len(result.triangles)} triangles, {len(result.edges)} edges")
    print(f"lattice() core: {t_core:.2f} s")

    viewer = napari.Viewer(show=True)
    viewer.add_image(np.zeros(shape, np.float32), name="image")
    viewer.add_points(pts, name="points")
    widget = LatticeWidget(viewer)
    geo = {"scale": (1.0, 1.0), "translate": (0.0, 0.0)}
    times = {}
    modes = ["vectors (fast)"] + ([] if args.skip_shapes else ["shapes (editable)"])
    # The first Labels/Vectors layer of a session pays napari's one-off JIT compilation and
    # GL set-up; measure that once on a tiny lattice, then the real runs.
    small = lattice(pts[:50], shape)
    _drawn(viewer)
    t0 = time.perf_counter()
    outputs, _ = _lattice_outputs(small, "warm-up", geo, "", (True, True, True), modes[0])
    widget._apply(outputs, "warm-up")
    _drawn(viewer)
    print(f"one-off warm-up (first lattice layers of a napari session): "
          f"{time.perf_counter() - t0:.2f} s")
    for layer in list(viewer.layers)[2:]:
        viewer.layers.remove(layer)
    for mode in modes:
        _drawn(viewer)
        t0 = time.perf_counter()
        outputs, _ = _lattice_outputs(result, "points", geo, "", (True, True, True), mode)
        widget._outputs.clear()
        widget._apply(outputs, mode)
        _drawn(viewer)
        times[mode] = time.perf_counter() - t0
        print(f"layers built and drawn, {mode:18s}: {times[mode]:.2f} s")
        for layer in list(viewer.layers)[2:]:
            viewer.layers.remove(layer)
    if len(times) == 2:
        ratio = times["shapes (editable)"] / times["vectors (fast)"]
        print(f"ratio shapes / vectors: {ratio:.1f}x")
    target = times["vectors (fast)"]
    print(f"target <= 1 s for all lattice layers: {'met' if target <= 1 else 'NOT met'} "
          f"({target:.2f} s; core lattice() adds {t_core:.2f} s, off the UI thread)")
    viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
