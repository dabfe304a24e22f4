"""Benchmark: the chunked watershed's territories against memory's on a field beside a wide
empty band, with the peak memory and time of the chunked run, for two or more source
trees of the package.

The field: synthetic nuclei of ``--diameter`` px on ``--rows`` × ``--cols`` pixels, its
first ``--band`` columns background and noise only (no nucleus: their pixels' nearest
nucleus lies far beyond a chunk's window). Each tree runs in its own process
(``PYTHONPATH`` = that tree's ``src``, one thread, the synchronous scheduler) and reports
its peak resident memory (``ru_maxrss``) above what it held before the chunked
computation, its wall time, and the territory pixels that differ from memory's (the
in-memory result computed after, in the same process; ids matched by the labels, which
must be the same up to numbering). Round 59: before, a pixel took the nearest nucleus its
chunk's window held.

Usage::

    python benchmarks/territories_chunked.py base=OLD/src new=src [--rows 1024]
        [--cols 2048] [--band 400] [--chunk 256] [--diameter 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _field(rows, cols, band, diameter):
    import numpy as np

    from napari_tessella.synthetic import synthetic_nuclei

    n = int(rows * (cols - band) / (3 * diameter) ** 2)
    image = synthetic_nuclei((rows, cols), n_nuclei=n, diameter=float(diameter),
                             seed=7).image
    field = image.clip(0) / image.max() * 3000 + 200
    rng = np.random.default_rng(1)
    field[:, :band] = 200
    return field + rng.normal(0, 5, field.shape)


def _worker(args) -> int:
    import dask
    import dask.array as da
    import numpy as np

    from napari_tessella import seeded_watershed
    from napari_tessella.chunked import seeded_watershed_chunked

    field = _field(args.rows, args.cols, args.band, args.diameter)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with dask.config.set(scheduler="synchronous"):
        lazy = seeded_watershed_chunked(da.from_array(field, chunks=args.chunk))
        labels, territories = dask.compute(lazy.labels, lazy.territories)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    memory = seeded_watershed(field)
    fg = memory.labels > 0
    same = bool(np.array_equal(fg, labels > 0))
    lut = np.zeros(max(int(labels.max()), int(territories.max())) + 1, np.int64)
    lut[labels[fg]] = memory.labels[fg]
    differ = int((lut[territories] != memory.territories).sum())
    print(json.dumps({"peak_mb": (peak - before) / 1024, "wall": wall, "differ": differ,
                      "same_fg": same, "nuclei": int(memory.labels.max())}), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="NAME=SRC_DIR, one or more")
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--cols", type=int, default=2048)
    parser.add_argument("--band", type=int, default=400)
    parser.add_argument("--chunk", type=int, default=256)
    parser.add_argument("--diameter", type=int, default=16)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args)
    print(f"{args.rows} x {args.cols} field, nuclei of {args.diameter} px, an empty band of "
          f"{args.band} px, chunks of {args.chunk}²")
    for tree in args.trees:
        name, src = tree.split("=", 1)
        env = {**os.environ, "PYTHONPATH": os.path.abspath(src), "OMP_NUM_THREADS": "1"}
        done = subprocess.run([sys.executable, __file__, "--worker",
                               *[f"--{k}={getattr(args, k)}" for k in
                                 ("rows", "cols", "band", "chunk", "diameter")]],
                              env=env, capture_output=True, text=True, check=True)
        got = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{name:>8}: peak {got['peak_mb']:6.0f} MB above the start, "
              f"{got['wall']:6.1f} s; {got['nuclei']} nuclei, same objects: "
              f"{got['same_fg']}; territory pixels differing from memory's: {got['differ']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
