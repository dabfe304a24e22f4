"""Benchmark: chunked threshold_label + measure_objects (or the watershed) on a gigapixel mosaic.

Generates a synthetic nuclei-like mosaic as Zarr (default 32768 x 32768 uint8 in 2048²
chunks = 1.07 gigapixel, ~0.7 M objects, written chunk by chunk: the image is never in
memory as a whole), then

1. runs :func:`napari_tessella.chunked.threshold_label_chunked` and
   :func:`~napari_tessella.chunked.measure_objects_chunked` on it, reporting wall time,
   peak resident memory (sampled every 50 ms, and the process's ``ru_maxrss``) and
   whether it stays under the 4 GB target;
2. on a 4096² crop, compares the chunked result with the in-memory
   :func:`~napari_tessella.threshold_label` / :func:`~napari_tessella.measure_objects`
   (labels identical up to numbering, tables allclose) and their times.

With ``--watershed`` the recipe is :func:`~napari_tessella.chunked.seeded_watershed_chunked`
(default parameters; labels and territories streamed to Zarr), and the crop comparison
reports how many objects agree with the in-memory ``seeded_watershed`` (best IoU ≥ 0.99
and ≥ 0.5) and the share of pixels whose label / territory agree.

Usage::

    python benchmarks/mosaic.py                  # full 1-gigapixel run
    python benchmarks/mosaic.py --side 8192      # quick run
    python benchmarks/mosaic.py --watershed      # the seeded watershed instead

Blobs are Gaussian spots placed by a per-chunk seeded generator; each chunk is rendered
with the spots of its neighbours too, so objects continue across chunk borders exactly
as they would in one big image (the stitching is exercised everywhere).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

SPOTS_PER_CHUNK_PIXEL = 1 / 1500  # ~ one nucleus per 39 x 39 pixels
SIGMAS = (4.0, 7.0)  # two nucleus sizes: radius ~ 6 and ~ 10 px above the threshold


def _spots(chunk_row: int, chunk_col: int, chunk: int, seed: int):
    """Spot centres (global row, col), amplitudes and size class for one chunk cell."""
    rng = np.random.default_rng([seed, chunk_row, chunk_col])
    n = rng.poisson(chunk * chunk * SPOTS_PER_CHUNK_PIXEL)
    rows = chunk_row * chunk + rng.uniform(0, chunk, n)
    cols = chunk_col * chunk + rng.uniform(0, chunk, n)
    amp = rng.uniform(0.6, 1.0, n)
    kind = rng.integers(0, len(SIGMAS), n)
    return rows, cols, amp, kind


def render_chunk(chunk_row: int, chunk_col: int, chunk: int, side: int, seed: int = 0):
    """One chunk of the mosaic, uint8, identical to the same region of the full image."""
    pad = int(4 * max(SIGMAS)) + 1
    r0, c0 = chunk_row * chunk, chunk_col * chunk
    h, w = min(chunk, side - r0), min(chunk, side - c0)
    out = np.zeros((h, w), dtype=np.float32)
    n_chunks = -(-side // chunk)
    for k, sigma in enumerate(SIGMAS):
        canvas = np.zeros((h + 2 * pad, w + 2 * pad), dtype=np.float32)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                cr, cc = chunk_row + dr, chunk_col + dc
                if not (0 <= cr < n_chunks and 0 <= cc < n_chunks):
                    continue
                rows, cols, amp, kind = _spots(cr, cc, chunk, seed)
                sel = (kind == k) & (rows < side) & (cols < side)
                ir = np.floor(rows[sel]).astype(int) - r0 + pad
                ic = np.floor(cols[sel]).astype(int) - c0 + pad
                inside = (ir >= 0) & (ir < canvas.shape[0]) & (ic >= 0) & (ic < canvas.shape[1])
                np.add.at(canvas, (ir[inside], ic[inside]), amp[sel][inside])
        # peak height of a unit 2-D Gaussian is 1 / (2 pi sigma^2): normalise to ~1
        blurred = ndi.gaussian_filter(canvas, sigma, mode="constant") * (2 * np.pi * sigma**2)
        out += blurred[pad : pad + h, pad : pad + w]
    rng = np.random.default_rng([seed, 1_000_003, chunk_row, chunk_col])
    # flat-topped, like nuclei: saturate the spot centres
    out = 20 + 200 * np.clip(1.6 * out, 0, 1) + rng.normal(0, 6, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def generate(path: Path, side: int, chunk: int, seed: int = 0) -> None:
    """Write the mosaic to a Zarr array at ``path``, chunk by chunk (2 threads)."""
    import dask.array as da
    import zarr

    z = zarr.open_array(str(path), mode="w", shape=(side, side), chunks=(chunk, chunk),
                        dtype=np.uint8)

    def block(_, block_id=None):
        return render_chunk(block_id[0], block_id[1], chunk, side, seed)

    template = da.empty((side, side), chunks=chunk, dtype=np.uint8)
    mosaic = template.map_blocks(block, dtype=np.uint8)
    da.store(mosaic, z, lock=False, scheduler="threads")


class PeakMemory:
    """Sample this process's resident set size in a background thread."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self._proc = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        self.start_rss = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def _same_up_to_numbering(a, b) -> bool:
    if a.shape != b.shape or not np.array_equal(a == 0, b == 0):
        return False
    fg = a > 0
    pairs = np.unique(np.stack([a[fg], b[fg]]), axis=1)
    return np.unique(a[fg]).size == np.unique(b[fg]).size == pairs.shape[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=32768, help="mosaic side in pixels")
    parser.add_argument("--chunk", type=int, default=2048, help="Zarr chunk side")
    parser.add_argument("--crop", type=int, default=4096, help="side of the in-memory comparison")
    parser.add_argument("--path", type=Path, default=None,
                        help="Zarr path (default /tmp/tessella-mosaic-<side>.zarr)")
    parser.add_argument("--keep", action="store_true", help="keep the Zarr afterwards")
    parser.add_argument("--scheduler", default=None, help="dask scheduler or address")
    parser.add_argument("--smooth-sigma", type=float, default=1.0)
    parser.add_argument("--opening", type=int, default=3)
    parser.add_argument("--target-gb", type=float, default=4.0)
    parser.add_argument("--watershed", action="store_true",
                        help="benchmark seeded_watershed_chunked instead of threshold_label")
    args = parser.parse_args(argv)
    if args.watershed:
        return watershed_main(args)

    import dask
    import dask.array as da

    from napari_tessella import measure_objects, threshold_label
    from napari_tessella.chunked import measure_objects_chunked, threshold_label_chunked

    path = args.path or Path(f"/tmp/tessella-mosaic-{args.side}.zarr")
    params = {"threshold": "otsu", "smooth_sigma": args.smooth_sigma, "opening": args.opening}
    rows = []

    t0 = time.perf_counter()
    if not path.exists():
        generate(path, args.side, args.chunk)
        rows.append(("generate Zarr (chunk by chunk)", f"{time.perf_counter() - t0:.1f} s", ""))
    else:
        rows.append(("generate Zarr", "reused existing", str(path)))

    image = da.from_zarr(str(path))
    gpx = image.size / 1e9
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        labels = threshold_label_chunked(image, scheduler=args.scheduler, **params)
        t_label = time.perf_counter() - t0
        table = measure_objects_chunked(labels, image, scheduler=args.scheduler)
        t_total = time.perf_counter() - t0
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    peak_gb = max(mem.peak, maxrss) / 1e9
    rows += [
        ("image", f"{args.side} x {args.side} uint8", f"{gpx:.2f} gigapixel, "
         f"{image.numblocks[0] * image.numblocks[1]} chunks of {args.chunk}²"),
        ("parameters", ", ".join(f"{k}={v}" for k, v in params.items()), ""),
        ("objects found", f"{len(table):,}", ""),
        ("threshold_label_chunked (3 passes)", f"{t_label:.1f} s", "returns lazy labels"),
        ("+ measure_objects_chunked", f"{t_total - t_label:.1f} s", "computes the labels"),
        ("total wall time", f"{t_total:.1f} s", f"{t_total / gpx / 60:.1f} min per gigapixel"),
        ("peak RSS (sampled / ru_maxrss)", f"{mem.peak / 1e9:.2f} / {maxrss / 1e9:.2f} GB",
         f"started at {mem.start_rss / 1e9:.2f} GB"),
        (f"< {args.target_gb:g} GB target", "PASS" if peak_gb < args.target_gb else "FAIL", ""),
    ]

    crop = min(args.crop, args.side)
    sub = image[:crop, :crop]
    t0 = time.perf_counter()
    lab_c = threshold_label_chunked(sub, scheduler=args.scheduler, **params)
    tab_c = measure_objects_chunked(lab_c, sub, scheduler=args.scheduler)
    lab_c = lab_c.compute(scheduler=args.scheduler) if args.scheduler else lab_c.compute()
    t_chunked = time.perf_counter() - t0
    t0 = time.perf_counter()
    arr = sub.compute()
    lab_m = threshold_label(arr, **params)
    tab_m = measure_objects(lab_m, arr)
    t_memory = time.perf_counter() - t0
    cols = ["centroid_row", "centroid_col", "com_row", "com_col", "area", "mean", "min", "max"]
    same_labels = _same_up_to_numbering(lab_m, lab_c)
    same_table = len(tab_m) == len(tab_c) and np.allclose(
        tab_m.sort_values(cols[:2])[cols].to_numpy(), tab_c.sort_values(cols[:2])[cols].to_numpy(),
        rtol=1e-10, atol=1e-9)
    rows += [
        (f"crop {crop}² in memory", f"{t_memory:.2f} s", f"{len(tab_m):,} objects"),
        (f"crop {crop}² chunked", f"{t_chunked:.2f} s",
         f"ratio chunked / in-memory = {t_chunked / t_memory:.1f}"),
        ("crop labels identical up to numbering", "yes" if same_labels else "NO", ""),
        ("crop labels identical incl. numbering", "yes" if np.array_equal(lab_m, lab_c) else "no",
         ""),
        ("crop tables allclose", "yes" if same_table else "NO", ""),
    ]

    import platform

    import psutil

    print(f"napari-tessella mosaic benchmark — {platform.processor() or platform.machine()}, "
          f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
          f"dask {dask.__version__}, scheduler {args.scheduler or 'threads (default)'}")
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<24} {note}")
    if not args.keep and args.path is None:
        shutil.rmtree(path, ignore_errors=True)
    ok = same_labels and same_table and peak_gb < args.target_gb
    return 0 if ok else 1


def _agreement(mem, chk):
    """Per in-memory object, its best IoU with a chunked object; pixel agreement."""
    fg = (mem > 0) | (chk > 0)
    pairs, counts = np.unique(np.stack([mem[fg], chk[fg]]), axis=1, return_counts=True)
    area_m = np.bincount(mem.ravel())
    area_c = np.bincount(chk.ravel())
    inter = counts.astype(float)
    a, b = pairs
    valid = (a > 0) & (b > 0)
    iou = inter[valid] / (area_m[a[valid]] + area_c[b[valid]] - inter[valid])
    best = np.zeros(area_m.size)
    np.maximum.at(best, a[valid], iou)
    best = best[1:][area_m[1:] > 0]
    # pixels agree when they carry the chunked object matched to their in-memory object
    match = np.zeros(area_m.size, dtype=np.int64)
    order = np.argsort(inter * valid)
    match[a[order]] = b[order]  # the largest overlap wins
    same = (match[mem] == chk) & (mem > 0) | (mem == 0) & (chk == 0)
    return best, float(same.mean())


def _found_rows(result, labels) -> list[tuple[str, str, str]]:
    """The "nuclei found" and "seeds kept" rows: the nuclei are the labels' ids (numbered 1
    to N), not the seeds. Two seeds whose basins the watershed merged lie in one nucleus
    (so in memory: 1371 seeds, 1350 nuclei on a 2048² mosaic), and the row that counted
    the seeds as nuclei said more nuclei than there are labels."""
    nuclei = int(labels.max().compute()) if labels.size else 0
    seeds = len(result.seeds)
    return [("nuclei found (largest label)", f"{nuclei:,}", ""),
            ("seeds kept (in those nuclei)", f"{seeds:,}",
             f"{seeds - nuclei:,} more than nuclei: seeds whose basins merged share one"
             if seeds > nuclei else "")]


def watershed_main(args) -> int:
    import platform

    import dask
    import dask.array as da
    import psutil
    import zarr

    from napari_tessella.chunked import seeded_watershed_chunked
    from napari_tessella.nuclei import seeded_watershed

    path = args.path or Path(f"/tmp/tessella-mosaic-{args.side}.zarr")
    rows = []
    t0 = time.perf_counter()
    if not path.exists():
        generate(path, args.side, args.chunk)
        rows.append(("generate Zarr (chunk by chunk)", f"{time.perf_counter() - t0:.1f} s", ""))
    else:
        rows.append(("generate Zarr", "reused existing", str(path)))
    image = da.from_zarr(str(path))
    gpx = image.size / 1e9
    out = Path(str(path) + "-watershed.zarr")
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        result = seeded_watershed_chunked(image, scheduler=args.scheduler)
        t_plan = time.perf_counter() - t0
        z_lab = zarr.open_array(str(out / "labels"), mode="w", shape=image.shape,
                                chunks=image.chunksize, dtype=np.int32)
        z_ter = zarr.open_array(str(out / "territories"), mode="w", shape=image.shape,
                                chunks=image.chunksize, dtype=np.int32)
        da.store([result.labels.rechunk(image.chunksize),
                  result.territories.rechunk(image.chunksize)], [z_lab, z_ter], lock=False,
                 scheduler=args.scheduler)
        t_total = time.perf_counter() - t0
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak_gb = max(mem.peak, maxrss) / 1e9
    rows += [
        ("image", f"{args.side} x {args.side} uint8", f"{gpx:.2f} gigapixel, "
         f"{image.numblocks[0] * image.numblocks[1]} chunks of {args.chunk}²"),
        ("parameters", "defaults", f"diameter {result.object_diameter:.1f} px (estimated), "
         f"threshold {result.threshold:.1f}"),
        *_found_rows(result, da.from_zarr(z_lab)),
        ("global passes + chunk summaries", f"{t_plan:.1f} s", "returns lazy labels"),
        ("+ labels and territories to Zarr", f"{t_total - t_plan:.1f} s", ""),
        ("total wall time", f"{t_total:.1f} s", f"{t_total / gpx / 60:.1f} min per gigapixel"),
        ("peak RSS (sampled / ru_maxrss)", f"{mem.peak / 1e9:.2f} / {maxrss / 1e9:.2f} GB",
         f"started at {mem.start_rss / 1e9:.2f} GB"),
        (f"< {args.target_gb:g} GB target", "PASS" if peak_gb < args.target_gb else "FAIL", ""),
    ]

    crop = min(args.crop, args.side)
    sub = image[:crop, :crop]
    t0 = time.perf_counter()
    chk = seeded_watershed_chunked(sub, scheduler=args.scheduler)
    lab_c, ter_c = dask.compute(chk.labels, chk.territories)
    t_chunked = time.perf_counter() - t0
    t0 = time.perf_counter()
    mem_res = seeded_watershed(sub.compute())
    t_memory = time.perf_counter() - t0
    best, same_px = _agreement(mem_res.labels, lab_c)
    _, same_ter = _agreement(mem_res.territories, ter_c)
    n = best.size
    rows += [
        (f"crop {crop}² in memory", f"{t_memory:.2f} s", f"{n:,} nuclei, "
         f"threshold {mem_res.threshold:.3f}"),
        (f"crop {crop}² chunked", f"{t_chunked:.2f} s",
         f"{int(lab_c.max()):,} nuclei, threshold {chk.threshold:.3f}, "
         f"ratio chunked / in-memory = {t_chunked / t_memory:.1f}"),
        ("crop nuclei with IoU >= 0.99", f"{(best >= 0.99).mean():.4f}",
         f"{int((best < 0.99).sum())} of {n} differ"),
        ("crop nuclei with IoU >= 0.5", f"{(best >= 0.5).mean():.4f}", ""),
        ("crop pixels, same nucleus / bg", f"{same_px:.5f}", ""),
        ("crop pixels, same territory", f"{same_ter:.5f}", ""),
    ]
    print(f"napari-tessella mosaic benchmark (seeded watershed) — "
          f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, dask {dask.__version__}, "
          f"scheduler {args.scheduler or 'threads (default)'}")
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<24} {note}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
        if args.path is None:
            shutil.rmtree(path, ignore_errors=True)
    return 0 if peak_gb < args.target_gb else 1


if __name__ == "__main__":
    sys.exit(main())
