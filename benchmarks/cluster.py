"""``tessella threshold-label`` and ``tessella watershed`` on a local multi-process
dask.distributed cluster.

Writes a 6000² float32 Zarr (1000² chunks; blobs on noise), starts a ``LocalCluster`` of
worker processes (one thread each) and runs the command line against its address,
recording the pickled size of every graph the client sends (the client reports each one
when ``distributed.admin.large-graph-warning-threshold`` is 1 byte), the bytes the client
receives (:class:`ClientBytes`: every TCP read of this process but the scheduler's own,
which ``LocalCluster`` runs here too), the growth of this process's peak RSS, the wall
time and the CPU time of the client and the workers, with 1 and with 2 workers::

    python benchmarks/cluster.py
    python benchmarks/cluster.py --side 4000 --workers 1 2 --commands watershed
"""

from __future__ import annotations

import argparse
import os
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


class ClientBytes:
    """Count the bytes the client reads from the scheduler: this process's TCP reads on
    connections to the scheduler's port. (A ``LocalCluster`` runs its scheduler in this
    process too; its own connections, accepted on its port or opened to workers, are
    not counted. The client gathers through the scheduler, not from the workers.)
    ``largest`` is the largest single read (one frame of a message, e.g. a gathered
    array)."""

    def __init__(self, scheduler_address: str):
        self.port = int(scheduler_address.rsplit(":", 1)[1])
        self.total = self.largest = 0

    def __enter__(self):
        from distributed.comm import tcp

        self._module, self._original = tcp, tcp.read_bytes_rw
        original = self._original

        async def counting(stream, n):
            data = await original(stream, n)
            try:
                peer_port = stream.socket.getpeername()[1]
            except (AttributeError, OSError):
                peer_port = None
            if peer_port == self.port:
                self.total += n
                self.largest = max(self.largest, n)
            return data

        tcp.read_bytes_rw = counting
        return self

    def __exit__(self, *exc):
        self._module.read_bytes_rw = self._original


def _workers_cpu(client) -> float:
    """CPU seconds used so far by the worker processes (user + system)."""
    import psutil

    pids = client.run(os.getpid).values()
    return sum(sum(psutil.Process(p).cpu_times()[:2]) for p in pids)


class RssPeak:
    """The peak RSS of this process above its RSS on entry, sampled every 20 ms."""

    def __enter__(self):
        import threading

        import psutil

        self._proc, self._stop = psutil.Process(), threading.Event()
        self.start = self.peak = self._proc.memory_info().rss

        def sample():
            while not self._stop.wait(0.02):
                self.peak = max(self.peak, self._proc.memory_info().rss)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.growth = self.peak - self.start


def run(path, out, address, command="threshold-label"):
    """One command-line run; returns its exit code, wall and CPU seconds (client +
    workers), the graphs sent, the client's bytes received (total, largest read) and how
    much the process's peak RSS grew."""
    import dask

    from napari_tessella import _lazy
    from napari_tessella.cli import main

    client = _lazy._resolve_scheduler(address)
    cpu0 = _workers_cpu(client) + time.process_time()
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1B"}), \
            warnings.catch_warnings(record=True) as caught, ClientBytes(address) as got, \
            RssPeak() as rss:
        warnings.simplefilter("always")
        t = time.perf_counter()
        code = main([command, str(path), "--scheduler", address, *OPTIONS[command],
                     "--out", str(out), "--quiet"])
        seconds = time.perf_counter() - t
    cpu = _workers_cpu(client) + time.process_time() - cpu0
    sizes = [m.group(1) for w in caught if (m := _SIZE.search(str(w.message)))]
    return {"code": code, "wall": seconds, "cpu": cpu, "graphs": sizes,
            "received": got.total, "largest_read": got.largest,
            "rss_growth": rss.growth}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--commands", nargs="+", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--keep", metavar="DIR",
                        help="write the Zarr and the outputs here and keep them")
    args = parser.parse_args()
    import distributed

    from napari_tessella import _lazy

    work = Path(args.keep or tempfile.mkdtemp(prefix="tessella-cluster-"))
    work.mkdir(parents=True, exist_ok=True)
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
                    r = run(path, out, cluster.scheduler_address, command)
                    rows = sum(1 for _ in open(out / "mosaic_objects.csv")) - 1
                    mb = 1e-6
                    print(f"  {command:15s} {n} worker(s): wall {r['wall']:6.1f} s (load "
                          f"{os.getloadavg()[0]:.1f}), CPU {r['cpu']:6.1f} s, exit "
                          f"{r['code']}, {rows:,} objects, client received "
                          f"{r['received'] * mb:.1f} MB (largest read "
                          f"{r['largest_read'] * mb:.2f} MB), client peak RSS "
                          f"+{r['rss_growth'] * mb:.0f} MB, graphs sent: "
                          f"{', '.join(r['graphs'])}", flush=True)
            finally:
                client = _lazy._CLIENTS.pop(cluster.scheduler_address, None)
                if client is not None:
                    client.close()
                cluster.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
