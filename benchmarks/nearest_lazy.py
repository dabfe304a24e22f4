"""Benchmark: peak memory of the nearest label chunk by chunk (``nearest_label_lazy``, the
territories of the nuclei a fill cuts) on a mosaic with a large empty region, for two or
more source trees of the package.

The labels are made chunk by chunk (3 × 3 labels on a lattice of 12 pixels, none in a
centred empty square of ``--hole`` of the side), never whole in memory; every unlabelled
pixel is asked for. Each tree runs in its own process (``PYTHONPATH`` = that tree's
``src``, one thread, the synchronous scheduler: one chunk at a time) and reports its
peak resident memory (``ru_maxrss``) above what it held before the computation, its
wall time and a checksum of the result (the trees must agree), reduced chunk by chunk
(the result is never whole in memory either).

Usage::

    python benchmarks/nearest_lazy.py base=OLD/src new=src [--side 4096] [--chunk 512]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

STEP = 12


def _labels_block(block_info=None, *, side, hole):
    import numpy as np

    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    rows = np.arange(r0, r1)[:, None]
    cols = np.arange(c0, c1)[None, :]
    on = ((rows - 2) % STEP < 3) & ((cols - 5) % STEP < 3)
    centre = side / 2
    on &= np.maximum(np.abs(rows - centre), np.abs(cols - centre)) > hole * side / 2
    ids = ((rows - 2) // STEP) * (side // STEP + 1) + (cols - 5) // STEP + 1
    return np.where(on, ids, 0).astype(np.int32)


def _worker(side: int, chunk: int, hole: float) -> int:
    import dask
    import dask.array as da
    import numpy as np

    try:
        from napari_tessella._nearest_chunked import nearest_label_lazy
    except ImportError:  # before round 58
        from napari_tessella._label_image import nearest_label_lazy

    labels = da.map_blocks(_labels_block, chunks=((chunk,) * (side // chunk),) * 2,
                           dtype=np.int32, side=side, hole=hole)
    at = labels == 0
    weights = da.arange(side, chunks=chunk, dtype=np.int64)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with dask.config.set(scheduler="synchronous"):
        out = nearest_label_lazy(labels, at)
        total = int((out.astype(np.int64) * (weights[:, None] + 3 * weights[None, :] + 1))
                    .sum().compute())
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mb": (peak - before) / 1024, "rss_mb": peak / 1024,
                      "wall": wall, "checksum": total}), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="NAME=SRC_DIR, one or more")
    parser.add_argument("--side", type=int, default=4096)
    parser.add_argument("--chunk", type=int, default=512)
    parser.add_argument("--hole", type=float, default=0.25,
                        help="the empty square's side, a share of the image's")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.side, args.chunk, args.hole)
    print(f"{args.side}² labels, chunks of {args.chunk}², an empty square of "
          f"{args.hole * args.side:.0f} px in the centre")
    sums = set()
    for tree in args.trees:
        name, src = tree.split("=", 1)
        env = {**os.environ, "PYTHONPATH": os.path.abspath(src), "OMP_NUM_THREADS": "1"}
        done = subprocess.run([sys.executable, __file__, "--worker", "--side", str(args.side),
                               "--chunk", str(args.chunk), "--hole", str(args.hole)],
                              env=env, capture_output=True, text=True, check=True)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        sums.add(got["checksum"])
        print(f"{name:>8}: peak {got['peak_mb']:8.0f} MB above the start "
              f"({got['rss_mb']:.0f} MB resident), {got['wall']:6.1f} s")
    print("results agree" if len(sums) == 1 else "RESULTS DIFFER")
    return 0 if len(sums) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
