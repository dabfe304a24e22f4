"""Benchmark: threshold_label + measure_objects against SciPy and scikit-image.

Run on demand (not a test)::

    python benchmarks/measure.py                 # 4096², ~26,000 blobs
    python benchmarks/measure.py --side 2048     # quicker
    python benchmarks/measure.py --src ../main/src --repeat 3   # another checkout's code

A 4096² float32 image of Gaussian blobs on a jittered grid (spacing 25 px, ~26,000
objects) is segmented with a fixed threshold, then measured. Every contender runs once per
round, the rounds interleaved, so a busy machine slows them alike; the table reports the
median of the rounds and its ratio to SciPy's ``label`` + ``center_of_mass`` (the
smallest useful "find the centres" recipe):

- ``threshold_label`` (threshold → ``ndi.label``);
- ``measure_objects`` (the whole table: centres, intensities, extrema and their positions,
  bounding boxes);
- both together — the target is >= 3x faster than SciPy;
- SciPy ``ndi.label`` + ``ndi.center_of_mass`` (centres of mass only);
- scikit-image ``regionprops_table`` (weighted centroid, mean/min/max intensity, bbox);
- one copy of the image (the memory-speed floor).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]


def blob_image(side: int, spacing: float = 25.0, seed: int = 0) -> np.ndarray:
    """Gaussian blobs (sigma 3 px, peaks 0.5-1) on a jittered grid, plus a little noise."""
    rng = np.random.default_rng(seed)
    n = int(side / spacing)
    centre = np.arange(n) * spacing + spacing / 2
    r, c = np.meshgrid(centre, centre, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.uniform(-4, 4, (r.size, 2))
    idx = np.clip(np.rint(pts).astype(int), 0, side - 1)
    image = np.zeros((side, side), np.float32)
    np.add.at(image, (idx[:, 0], idx[:, 1]), rng.uniform(0.5, 1.0, len(idx)).astype(np.float32))
    image = ndi.gaussian_filter(image, 3.0) * np.float32(2 * np.pi * 9)
    image += rng.normal(0, 0.02, image.shape).astype(np.float32)
    return image


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=4096)
    parser.add_argument("--threshold", type=float, default=0.15)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--src", default=str(ROOT / "src"),
                        help="the napari_tessella source to measure (default: this checkout)")
    parser.add_argument("--skip-skimage", action="store_true",
                        help="leave out regionprops_table (several seconds a round)")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.src)
    from napari_tessella import measure_objects, threshold_label

    image = blob_image(args.side)
    th = args.threshold
    labels = threshold_label(image, th)
    table = measure_objects(labels, image)
    print(f"image {image.shape} {image.dtype}, {int(labels.max())} objects, "
          f"{(labels > 0).mean():.1%} of the pixels in objects; code from {args.src}")

    def scipy_centres():
        lab, n = ndi.label(image > th)
        return ndi.center_of_mass(image, lab, np.arange(1, n + 1))

    def skimage_table():
        from skimage.measure import regionprops_table

        return regionprops_table(labels, image, properties=(
            "label", "centroid_weighted", "area", "intensity_mean", "intensity_min",
            "intensity_max", "bbox"))

    contenders = {
        "threshold_label": lambda: threshold_label(image, th),
        "measure_objects": lambda: measure_objects(labels, image),
        "threshold_label + measure_objects": lambda: measure_objects(
            threshold_label(image, th), image),
        "scipy label + center_of_mass": scipy_centres,
        "skimage regionprops_table": skimage_table,
        "one copy of the image": image.copy,
    }
    if args.skip_skimage:
        contenders.pop("skimage regionprops_table")
    wall = {name: [] for name in contenders}
    cpu = {name: [] for name in contenders}
    for _ in range(args.repeat):
        for name, fn in contenders.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            cpu[name].append(time.process_time() - c)
            wall[name].append(time.perf_counter() - t)
    print(f"median of {args.repeat} interleaved rounds; ratio = time / scipy label + "
          "center_of_mass. CPU time (this process) is the steadier figure on a shared "
          "machine; wall time beside it")
    print(f"  {'':36s} {'CPU ms':>9s} {'ratio':>7s}   {'wall ms':>9s} {'ratio':>7s}")
    ref = {kind: statistics.median(t["scipy label + center_of_mass"])
           for kind, t in (("cpu", cpu), ("wall", wall))}
    for name in contenders:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(f"  {name:36s} {c * 1e3:9.1f} {c / ref['cpu']:7.3f}   {w * 1e3:9.1f} "
              f"{w / ref['wall']:7.3f}")
    for kind, t in (("CPU", cpu), ("wall", wall)):
        both = statistics.median(t["threshold_label + measure_objects"])
        speedup = ref[kind.lower()] / both
        print(f"target threshold_label + measure_objects >= 3x faster than scipy ({kind}): "
              f"{speedup:.2f}x -> {'met' if speedup >= 3 else 'NOT met'}")
    print(f"columns: {', '.join(table.columns)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
