"""Benchmark: per-image time of ``seeded_watershed(img)`` (the defaults) on the U2OS images of
Coelho et al. 2009, for two or more source trees of the package, interleaved image by image.

Each tree runs in its own worker process (``PYTHONPATH`` = that tree's ``src``, one thread);
the driver sends the same image to each worker in turn (order alternating from image to
image), so a change in the machine's speed during the run affects them alike. Reports the
process CPU time and the wall time per image (mean, median, minimum) and the load average.
``--threads``: the workers keep the default thread counts of numpy's BLAS and OpenMP (a
user's session) instead of one; CPU time well above the wall time is then threads at work
or spinning beside the main one.

Usage::

    git worktree add /tmp/old <commit>
    python benchmarks/nuclei_speed.py old=/tmp/old/src new=src [--reps 2] [--data DIR] [--threads]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "coelho2009_u2os"


def _paths(data: Path):
    return sorted((data / "images").glob("dna-*.png"),
                  key=lambda p: int(re.findall(r"\d+", p.stem)[0]))


def _worker(data: Path) -> int:
    from skimage.io import imread

    import napari_tessella
    from napari_tessella import seeded_watershed

    images = [imread(p) for p in _paths(data)]
    seeded_watershed(images[0])  # warm-up (imports, caches) outside the timing
    print(json.dumps({"package": napari_tessella.__file__, "n": len(images)}), flush=True)
    for line in sys.stdin:
        i = int(line)
        t0, c0 = time.perf_counter(), time.process_time()
        seeded_watershed(images[i])
        c1, t1 = time.process_time(), time.perf_counter()
        print(json.dumps({"cpu": c1 - c0, "wall": t1 - t0}), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="NAME=SRC_DIR, two or more")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--reps", type=int, default=1, help="passes over the images")
    parser.add_argument("--threads", action="store_true",
                        help="keep the default BLAS/OpenMP thread counts (not one)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.data)
    if not _paths(args.data):
        print(f"no images found in {args.data / 'images'}", file=sys.stderr)
        return 1
    trees = dict(t.split("=", 1) for t in args.trees)
    if len(trees) < 1:
        parser.error("give at least one NAME=SRC_DIR")
    workers = {}
    for name, src in trees.items():
        env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
        if args.threads:
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env.pop(var, None)
        else:
            env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        proc = subprocess.Popen([sys.executable, __file__, "--worker", "--data", str(args.data)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=env)
        info = json.loads(proc.stdout.readline())
        print(f"{name}: {info['package']}")
        workers[name] = proc
    n = info["n"]
    times = {name: {"cpu": [], "wall": []} for name in workers}
    names = list(workers)
    load = [os.getloadavg()[0]]
    for rep in range(args.reps):
        for i in range(n):
            for name in (names if (i + rep) % 2 == 0 else names[::-1]):
                proc = workers[name]
                proc.stdin.write(f"{i}\n")
                proc.stdin.flush()
                out = json.loads(proc.stdout.readline())
                times[name]["cpu"].append(out["cpu"])
                times[name]["wall"].append(out["wall"])
        load.append(os.getloadavg()[0])
    for proc in workers.values():
        proc.stdin.close()
        proc.wait()
    threads = "default threads" if args.threads else "one thread"
    print(f"{n} images x {args.reps}, {threads}; s per image: mean / median / min")
    for name, t in times.items():
        cpu, wall = t["cpu"], t["wall"]
        print(f"{name:>8}  CPU {statistics.mean(cpu):.4f} / {statistics.median(cpu):.4f} / "
              f"{min(cpu):.4f}   wall {statistics.mean(wall):.4f} / "
              f"{statistics.median(wall):.4f} / {min(wall):.4f}")
    print("1-min load average during the run: " + ", ".join(f"{x:.2f}" for x in load))
    return 0


if __name__ == "__main__":
    sys.exit(main())
