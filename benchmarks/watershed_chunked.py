"""The chunked seeded watershed against the in-memory one, per pixel, in one process.

Writes the 6000² float32 Zarr of ``benchmarks/cluster.py`` (blobs on noise, 1000² chunks)
and times, in CPU and wall seconds, :func:`napari_tessella.nuclei.seeded_watershed` on
the image in memory and :func:`~napari_tessella.nuclei.seeded_watershed_chunked` on the
Zarr with the synchronous and the threaded dask scheduler (labels and territories
computed to memory), alternating, ``--repeat`` times::

    python benchmarks/watershed_chunked.py
    python benchmarks/watershed_chunked.py --side 3000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from cluster import write_mosaic


def timed(function):
    cpu, wall = time.process_time(), time.perf_counter()
    out = function()
    return time.process_time() - cpu, time.perf_counter() - wall, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    import dask
    import zarr

    from napari_tessella.nuclei import seeded_watershed, seeded_watershed_chunked

    work = Path(tempfile.mkdtemp(prefix="tessella-ws-"))
    try:
        write_mosaic(work / "mosaic.zarr", args.side)
        z = zarr.open_array(str(work / "mosaic.zarr"), mode="r")

        def chunked():
            result = seeded_watershed_chunked(z)
            return dask.compute(result.labels, result.territories)[0]

        runs = {"in memory": (None, lambda: seeded_watershed(z[:]).labels),
                "chunked, synchronous": ("synchronous", chunked),
                "chunked, threads": ("threads", chunked)}
        print(f"seeded watershed of a {args.side}² float32 Zarr (1000² chunks)")
        for _ in range(args.repeat):
            for name, (scheduler, run) in runs.items():
                with dask.config.set(scheduler=scheduler or "threads"):
                    cpu, wall, labels = timed(run)
                print(f"  {name:22s} CPU {cpu:6.1f} s  wall {wall:6.1f} s  "
                      f"{int(labels.max()):,} nuclei  load {os.getloadavg()[0]:.1f}",
                      flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
