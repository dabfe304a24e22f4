"""``tessella threshold-label`` and ``tessella watershed`` on a local multi-process
dask.distributed cluster.

Writes a 6000² float32 Zarr (1000² chunks; blobs on noise), starts a ``LocalCluster`` of
worker processes (one thread each) and runs the command line against its address,
recording the pickled size of every graph the client sends (the client reports each one
when ``distributed.admin.large-graph-warning-threshold`` is 1 byte) and the wall time,
with 1 and with 2 workers::

    python benchmarks/cluster.py
    python benchmarks/cluster.py --side 4000 --workers 1 2 --commands watershed
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

_SIZE = re.compile(r"Sending large graph of size ([\d.]+ \w+)")


def write_mosaic(path, side, chunk=1000):
    import zarr

    z = zarr.open_array(str(path), mode="w", shape=(side, side), chunks=(chunk, chunk),
                        dtype=np.float32)
    for r in range(0, side, chunk):
        rows = np.arange(r, min(r + chunk, side), dtype=np.float32)[:, None]
        cols = np.arange(side, dtype=np.float32)[None, :]
        blob = (np.sin(rows / 15) * np.sin(cols / 15) > 0.5).astype(np.float32)
        noise = np.random.default_rng(r).normal(0, 0.2, blob.shape).astype(np.float32)
        z[r:r + blob.shape[0], :] = blob + noise


OPTIONS = {"threshold-label": ["--threshold", "0.5", "--smooth-sigma", "1"],
           "watershed": []}  # the watershed with its defaults


def run(path, out, address, command="threshold-label"):
    import dask

    from napari_tessella.cli import main

    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1B"}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = time.perf_counter()
        code = main([command, str(path), "--scheduler", address, *OPTIONS[command],
                     "--out", str(out), "--quiet"])
        seconds = time.perf_counter() - t
    sizes = [m.group(1) for w in caught if (m := _SIZE.search(str(w.message)))]
    return code, seconds, sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--commands", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    args = parser.parse_args()
    import distributed

    from napari_tessella import _lazy

    work = Path(tempfile.mkdtemp(prefix="tessella-cluster-"))
    try:
        path = work / "mosaic.zarr"
        write_mosaic(path, args.side)
        print(f"tessella {' / '.join(args.commands)} on a {args.side}² float32 Zarr (1000² "
              "chunks), LocalCluster of worker processes with 1 thread each")
        for n in args.workers:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                                   processes=True, host="127.0.0.1",
                                                   dashboard_address=None)
            try:
                for command in args.commands:
                    out = work / f"{command}{n}"
                    code, seconds, sizes = run(path, out, cluster.scheduler_address, command)
                    rows = sum(1 for _ in open(out / "mosaic_objects.csv")) - 1
                    print(f"  {command:15s} {n} worker(s): {seconds:6.1f} s, exit {code}, "
                          f"{rows:,} objects, graphs sent: {', '.join(sizes)}", flush=True)
            finally:
                client = _lazy._CLIENTS.pop(cluster.scheduler_address, None)
                if client is not None:
                    client.close()
                cluster.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
