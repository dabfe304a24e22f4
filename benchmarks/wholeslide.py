"""Peak memory of ``tessella threshold-label`` against image size, TIFF and Zarr inputs.

Writes a synthetic uint16 slide (bright blobs on a noisy background) as a tiled OME-TIFF
(512² tiles, a 2× reduced level in a SubIFD, 0.25 µm pixels) and as an OME-Zarr (2048²
chunks), tile by tile — the image is never whole in memory — then runs the command line on
each in a fresh process and reports its peak RSS (``ru_maxrss``), wall time and number of
objects. On demand only (minutes per size)::

    python benchmarks/wholeslide.py                       # 4096² … 16384²
    python benchmarks/wholeslide.py --sides 4096 32768    # any sides
    python benchmarks/wholeslide.py --chunked             # chunked at every size
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TILE = 512
PERIOD = 96  # blob spacing, pixels


def _tile(r0, c0, h, w):
    rows = np.arange(r0, r0 + h, dtype=np.float32)[:, None]
    cols = np.arange(c0, c0 + w, dtype=np.float32)[None, :]
    blob = np.sin(rows * (2 * np.pi / PERIOD)) * np.sin(cols * (2 * np.pi / PERIOD)) > 0.5
    rng = np.random.default_rng(r0 * 100003 + c0)
    noise = rng.normal(10000, 2000, (h, w)).astype(np.float32)
    return np.clip(noise + 30000 * blob, 0, 65535).astype(np.uint16)


def write_tiff(path, side):
    import tifffile

    def tiles(step):
        for r in range(0, side, TILE * step):
            for c in range(0, side, TILE * step):
                h, w = min(TILE, (side - r) // step), min(TILE, (side - c) // step)
                yield _tile(r, c, h * step, w * step)[::step, ::step]

    meta = {"axes": "YX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25}
    with tifffile.TiffWriter(path, bigtiff=True, ome=True) as tw:
        tw.write(tiles(1), shape=(side, side), dtype=np.uint16, tile=(TILE, TILE),
                 subifds=1, metadata=meta)
        tw.write(tiles(2), shape=(side // 2, side // 2), dtype=np.uint16,
                 tile=(TILE, TILE), subfiletype=1)


def write_zarr(path, side, chunk=2048):
    import zarr

    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    root.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "name": "slide",
        "axes": [{"name": "y", "type": "space", "unit": "micrometer"},
                 {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [0.25, 0.25]}]}]}]}
    arr = root.create_array("0", shape=(side, side), chunks=(chunk, chunk), dtype=np.uint16,
                            dimension_names=["y", "x"])
    for r in range(0, side, chunk):
        for c in range(0, side, chunk):
            h, w = min(chunk, side - r), min(chunk, side - c)
            arr[r:r + h, c:c + w] = _tile(r, c, h, w)


_CHILD = """
import resource, sys, time
from napari_tessella.cli import main
t = time.perf_counter()
code = main(sys.argv[1:])
print("RESULT", code, time.perf_counter() - t,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def run_cli(path, out, extra=()):
    argv = ["threshold-label", str(path), "--threshold", "30000", "--out", str(out),
            "--quiet", *extra]
    proc = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True,
                          text=True, env=os.environ.copy(), check=False)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    if not line:
        raise RuntimeError(proc.stderr[-2000:])
    _, code, seconds, rss = line[0].split()
    stem = Path(path).name.split(".")[0]
    csv = next(Path(out).glob(f"{stem}*_objects.csv"))
    n = sum(1 for _ in open(csv)) - 1
    return int(code), float(seconds), int(rss), n


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[4096, 8192, 16384])
    parser.add_argument("--formats", nargs="+", default=["tiff", "zarr"])
    parser.add_argument("--chunked", action="store_true", help="pass --chunked at every size")
    parser.add_argument("--keep", metavar="DIR", help="keep the generated files there")
    args = parser.parse_args()
    import dask

    work = Path(args.keep or tempfile.mkdtemp(prefix="tessella-wholeslide-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"napari-tessella whole-slide benchmark — {platform.machine()}, {os.cpu_count()} "
          f"cores, dask {dask.__version__}; tessella threshold-label --threshold 30000"
          + (" --chunked" if args.chunked else ""))
    print(f"  {'input':<30} {'pixels':>8} {'MiB':>7} {'write s':>8} {'run s':>7} "
          f"{'peak RSS GB':>11} {'objects':>9}")
    try:
        for side in args.sides:
            for fmt in args.formats:
                path = work / (f"slide{side}.ome.tif" if fmt == "tiff"
                               else f"slide{side}.ome.zarr")
                t = time.perf_counter()
                if not path.exists():
                    (write_tiff if fmt == "tiff" else write_zarr)(path, side)
                written = time.perf_counter() - t
                out = work / f"out-{fmt}-{side}"
                code, seconds, rss, n = run_cli(path, out,
                                                ["--chunked"] if args.chunked else [])
                mib = side * side * 2 / 2**20
                print(f"  {path.name:<30} {side:>6}² {mib:>7.0f} {written:>8.1f} "
                      f"{seconds:>7.1f} {rss / 1e9:>11.2f} {n:>9,}"
                      + ("" if code == 0 else f"  (exit {code})"), flush=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
