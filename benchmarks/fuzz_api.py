"""A small, deterministic fuzz of the public core API (issue 13), for docs/reliability.md.

Every case runs in a forked child (a segfault or a hang cannot stop the fuzz) with a
memory limit of 4 GiB and a time limit of 20 s, and is classified:

- ``result``: a result, for an input that is valid (or whose validity is not claimed);
- ``clear error``: a ValueError/TypeError raised by napari_tessella itself;
- ``leaked error``: a ValueError/TypeError raised inside numpy/scipy/skimage;
- ``other exception``: IndexError, ZeroDivisionError, OverflowError, MemoryError, …;
- ``crash`` (killed by a signal) and ``hang`` (over 20 s);
- ``accepted invalid``: a result for a documented-invalid input (NaN, inf, duplicates …);
- ``wrong result``: a result that fails the case's own check (cell areas that do not sum
  to the image area, a mask read as seed points, …).

Run: ``PYTHONPATH=src python benchmarks/fuzz_api.py`` (about a minute).
"""

from __future__ import annotations

import itertools
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from collections import Counter

import numpy as np

TIME_LIMIT = 20
MEMORY_LIMIT = 4 << 30
NAN, INF = float("nan"), float("inf")


def _cases():
    import napari_tessella as nt
    import napari_tessella.lattice_analysis as la
    from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei

    rng = np.random.default_rng(0)
    base = rng.random((32, 32))
    base[8:14, 8:14] += 2
    base[20:26, 18:28] += 2
    images = {
        "float64": base, "float32": base.astype(np.float32),
        "uint8": (base * 60).astype(np.uint8), "uint16": (base * 9000).astype(np.uint16),
        "int64": (base * 100).astype(np.int64) - 50, "bool": base > 1.5,
        "fortran": np.asfortranarray(base), "strided": np.repeat(base, 2, 1)[:, ::2],
        "f32 x1e30": (base * 1e30).astype(np.float32),
        "f32 x1e-30": (base * 1e-30).astype(np.float32),
        "uint32 full range": np.array([[0, 2**32 - 1], [7, 9]], np.uint32).repeat(16, 0)
        .repeat(16, 1),
    }
    invalid_images = {
        "empty": np.zeros((0, 0)), "1-D": base[0], "3-D stack": np.stack([base] * 2),
        "constant": np.full((32, 32), 3.0), "NaN": np.where(base > 2.5, NAN, base),
        "inf": np.where(base > 2.5, INF, base), "strings": np.array([["a", "b"], ["c", "d"]]),
        "complex": base.astype(complex), "constant uint8": np.full((32, 32), 7, np.uint8),
    }
    bad_numbers = [NAN, INF, -INF, -1, 1e9, 10**6, "3", True]

    cases = []  # (function, name, call, expect, check)

    def add(fn, name, call, expect, check=None):
        cases.append((fn, name, call, expect, check))

    methods = [*nt.THRESHOLD_METHODS]
    for (iname, img), m in itertools.product(images.items(), methods):
        add("compute_threshold", f"{iname} {m}", lambda i=img, m=m: nt.compute_threshold(i, m),
            "ok", lambda v, i=img: np.isfinite(v) and float(np.min(i)) <= v <= float(np.max(i)))
    for (iname, img), m in itertools.product(invalid_images.items(), ["otsu", "isodata", "yen"]):
        add("compute_threshold", f"{iname} {m}", lambda i=img, m=m: nt.compute_threshold(i, m),
            "error")
    for t in [NAN, INF, "bogus", None]:
        add("compute_threshold", f"threshold={t!r}", lambda t=t: nt.compute_threshold(base, t),
            "error")

    for iname, img in images.items():
        add("threshold_label", iname, lambda i=img: nt.threshold_label(i, "otsu", opening=2),
            "ok", lambda lab: set(np.unique(lab)) == set(range(int(lab.max()) + 1)))
    for iname, img in invalid_images.items():
        add("threshold_label", iname, lambda i=img: nt.threshold_label(i), "error")
    for p, v in itertools.product(["smooth_sigma", "opening", "min_size", "threshold"],
                                  bad_numbers):
        kwargs = {p: v}
        add("threshold_label", f"{p}={v!r}", lambda k=kwargs: nt.threshold_label(base, **k),
            "any" if (p in ("min_size", "threshold") and v in (1e9, 10**6, -1)) else "error")
    add("threshold_label", "connectivity=3", lambda: nt.threshold_label(base, connectivity=3),
        "error")

    nuc = synthetic_nuclei((64, 64), n_nuclei=4, diameter=16, brightness_range=(0.6, 1),
                           seed=1)
    add("seeded_watershed", "defaults", lambda: nt.seeded_watershed(nuc.image), "ok")
    strip = np.tile(nuc.image[30:33], (1, 80))  # a 3 x 5120 line scan
    for sname, img in {"strip": strip, "tall strip": strip.T}.items():
        add("seeded_watershed", sname, lambda i=img: nt.seeded_watershed(i), "ok")
        add("estimate_object_diameter", sname, lambda i=img: nt.estimate_object_diameter(i),
            "ok", lambda d, i=img: 0 < d <= max(i.shape))
    add("seeded_watershed", "label seeds", lambda: nt.seeded_watershed(
        nuc.image, seeds=nuc.labels), "ok", lambda r: r.labels.max() >= 3)
    add("seeded_watershed", "point seeds", lambda: nt.seeded_watershed(
        nuc.image, seeds=nuc.centers), "ok", lambda r: r.labels.max() >= 3)
    for sname, seeds in {"bool mask": nuc.labels > 0, "float labels": nuc.labels * 1.0,
                         "wrong shape": nuc.labels[:50], "(K, 3)": np.zeros((4, 3)),
                         "NaN point": np.array([[NAN, 3.0]])}.items():
        add("seeded_watershed", f"seeds={sname}", lambda s=seeds: nt.seeded_watershed(
            nuc.image, seeds=s), "error")
    for p, v in itertools.product(["sigma", "object_diameter", "threshold", "min_size"],
                                  bad_numbers):
        kwargs = {p: v}
        if p != "object_diameter":
            kwargs.setdefault("object_diameter", 16)
        add("seeded_watershed", f"{p}={v!r}", lambda k=kwargs: nt.seeded_watershed(
            nuc.image, **k), "any" if p in ("min_size", "threshold") and v in (1e9, 10**6, -1)
            else "error")
    for iname, img in invalid_images.items():
        add("seeded_watershed", iname, lambda i=img: nt.seeded_watershed(i), "error")

    grid = np.stack(np.meshgrid(np.arange(2, 30, 5.0), np.arange(2, 30, 5.0)), -1).reshape(-1, 2)
    jitter = grid + rng.uniform(-1, 1, grid.shape)
    add("lattice", "grid", lambda: nt.lattice(jitter, (32, 32)), "ok",
        lambda r: abs(r.cell_areas.sum() - 32 * 32) < 1e-6 and len(r.cell_areas) == len(jitter))
    add("lattice", "no shape", lambda: nt.lattice(jitter), "ok")
    for name, pts in {"duplicate last": [[0, 0], [0, 1], [1, 0], [0, 0]],
                      "duplicate first": [[0, 0], [0, 0], [1, 0], [0, 1]],
                      "doubled grid": np.concatenate([jitter, jitter]),
                      "near duplicate": [[0, 0], [1e-13, 0], [1, 0], [0, 1], [5, 5]],
                      "NaN": [[0, 0], [NAN, 1], [1, 0], [3, 3]], "2 points": [[0, 0], [1, 1]],
                      "collinear": [[0, 0], [1, 1], [2, 2]], "(N, 1)": [[1], [2], [3]],
                      "strings": [["a", "b"]] * 3}.items():
        add("lattice", name, lambda p=pts: nt.lattice(p, (13, 13)), "error")
    for shape in [(64,), (0, 5), (10.5, 10), ("a", 3), (-3, 3), 5]:
        add("lattice", f"shape={shape!r}", lambda s=shape: nt.lattice(jitter, s), "error")
    big = np.zeros((40, 40), np.int64)
    big[2:5, 2:5], big[20:24, 3:7], big[5:8, 25:30] = 2**32 + 5, 7, 9
    add("lattice", "label ids > 2**32", lambda: nt.lattice(labels=big), "ok",
        lambda r: 2**32 + 5 in np.unique(r.voronoi_labels))
    for shape in [(64,), (0, 3), (8, 8, 8), "ab"]:
        add("pixel_voronoi", f"shape={shape!r}", lambda s=shape: nt.pixel_voronoi([[1, 1]], s),
            "error")
    add("pixel_voronoi", "ok", lambda: nt.pixel_voronoi(jitter, (32, 32)), "ok")

    for k in [0, -1, 2.5, NAN, 10**6]:
        add("nearest_neighbor_distances", f"k={k!r}",
            lambda k=k: la.nearest_neighbor_distances(jitter, k=k), "error")
    for fn in ("coordination_numbers", "bonds", "basis_vectors"):
        func = getattr(la, fn)
        for tol in [NAN, INF, -1, "x"]:
            add(fn, f"tolerance={tol!r}", lambda f=func, t=tol: f(jitter, tolerance=t), "error")
        add(fn, "doubled grid", lambda f=func: f(np.concatenate([grid, grid])), "error")
        add(fn, "grid", lambda f=func: f(grid), "ok")
    for n in [1, 0, 2.5, NAN, 7, 2, 3]:
        add("split_sublattices", f"n={n!r}", lambda n=n: la.split_sublattices(
            np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0]), n=n), "ok" if n in (2, 3) else "error")
    add("split_sublattices", "NaN values", lambda: la.split_sublattices(np.array([1, NAN, 3])),
        "error")
    add("structural_model", "shared point", lambda: la.structural_model(
        grid, grid[:3], (32, 32)), "error")

    ref = np.zeros((16, 16), int)
    ref[2:6, 2:6], ref[9:14, 9:14] = 1, 2
    add("score_segmentation", "same", lambda: nt.score_segmentation(ref, ref), "ok",
        lambda s: s["errors"] == 0)
    for name, (a, b) in {"(0, 0)": (np.zeros((0, 0), int),) * 2,
                         "negative ids": (-ref, ref), "float": (ref * 1.5, ref),
                         "shapes": (ref, ref[:5])}.items():
        add("score_segmentation", name, lambda a=a, b=b: nt.score_segmentation(a, b), "error")

    for p, v in itertools.product(["spacing", "sigma", "gaussian_noise", "drift"],
                                  [0, NAN, INF, -1, "3"]):
        if (p, v) in (("gaussian_noise", 0), ("drift", 0), ("drift", -1)):
            continue
        add("synthetic_lattice", f"{p}={v!r}", lambda k={p: v}: synthetic_lattice((32, 32), **k),
            "error")
    for p, v in itertools.product(["diameter", "noise", "n_nuclei"], [NAN, INF, -1, 10**6]):
        if (p, v) == ("noise", 10**6):
            continue
        add("synthetic_nuclei", f"{p}={v!r}", lambda k={p: v}: synthetic_nuclei((32, 32), **k),
            "error")
    add("synthetic_lattice", "shape=(0, 8)", lambda: synthetic_lattice((0, 8)), "error")
    add("synthetic_nuclei", "ok", lambda: synthetic_nuclei((64, 64), n_nuclei=3, diameter=12),
        "ok")
    return cases


def _classify(call, expect, check) -> str:
    try:
        value = call()
    except (ValueError, TypeError) as err:
        frame = traceback.extract_tb(err.__traceback__)[-1].filename
        return "clear error" if "napari_tessella" in frame else "leaked error"
    except Exception:
        return "other exception"
    if expect == "error":
        return "accepted invalid"
    if check is not None:
        try:
            ok = bool(check(value))
        except Exception:
            ok = False
        if not ok:
            return "wrong result"
    return "result"


def _run(case) -> str:
    _fn, _name, call, expect, check = case
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        try:
            out = _classify(call, expect, check)
        except BaseException:
            out = "other exception"
        os.write(write, pickle.dumps(out))
        os._exit(0)
    os.close(write)
    start = time.monotonic()
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > TIME_LIMIT:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            return "hang"
        time.sleep(0.005)
    data = os.read(read, 1 << 16)
    os.close(read)
    if os.WIFSIGNALED(status) or not data:
        return "crash"
    return pickle.loads(data)


def main() -> int:
    cases = _cases()
    counts, bad = Counter(), []
    start = time.perf_counter()
    for case in cases:
        outcome = _run(case)
        counts[outcome] += 1
        if outcome not in ("result", "clear error"):
            bad.append(f"  {case[0]}({case[1]}): {outcome}")
    print(f"{len(cases)} cases in {time.perf_counter() - start:.0f} s")
    for outcome, n in counts.most_common():
        print(f"  {outcome:18s} {n}")
    if bad and "-v" in sys.argv:
        print("\n".join(bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
