"""Benchmark: dark spikes (pepper, dead pixels, a dead column or row) against clean images.

Each field is segmented with the defaults clean and with dark pixels added at the field's
minimum (the background's level): pepper on 0.1 %, 0.5 % and 1 % of the pixels, a dead
column and a dead row (through the middle third). Fields: the U2OS images made 16-bit
(``x64 + 100``, ``--u2os N``: the first N images, 0 for all) and the cell-line fields of
``nuclei_cellline.py`` (fibroblast, halo, dim, u2os-like, mixed d28, uneven d32) on the
seeds given (``--seeds``; round 54 tuned on 15600-15603 and held out 15800-15803). Printed:
the total errors per input (cell-line) or the errors per image and F1 (U2OS)::

    python benchmarks/nuclei_pepper.py [--u2os N] [--seeds 15600-15603] [--chunked]

``--chunked`` also segments every input as a dask array (chunks 256 and 128x160) and counts
the objects that differ from the in-memory result (``chunked_agreement.differing``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("fibroblast", "halo", "dim", "u2os-like", "mixed d28", "uneven d32")
INPUTS = ("clean", "pepper 0.1%", "pepper 0.5%", "pepper 1%", "dead column", "dead row")


def corrupt(image: np.ndarray, how: str, seed: int) -> np.ndarray:
    """``image`` with dark pixels at its minimum, as ``how`` says (a copy)."""
    out = np.array(image, copy=True)
    low = out.min()
    rng = np.random.default_rng(seed)
    rows, cols = out.shape
    if how.startswith("pepper"):
        share = float(how.split()[1].rstrip("%")) / 100
        out.flat[rng.choice(out.size, int(share * out.size), replace=False)] = low
    elif how == "dead column":
        out[:, int(rng.integers(cols // 3, 2 * cols // 3))] = low
    elif how == "dead row":
        out[int(rng.integers(rows // 3, 2 * rows // 3)), :] = low
    return out


def _fields(args):
    if args.u2os is not None:
        from coelho2009 import DEFAULT_DATA, _image_paths
        from skimage.io import imread

        for k, p in enumerate(_image_paths(DEFAULT_DATA, args.u2os or None)):
            img = imread(p).astype(np.float64)
            yield "u2os", k, (img * 64 + 100).astype(np.uint16), imread(
                DEFAULT_DATA / "labels" / p.name)
        return
    from nuclei_cellline import make

    lo, _, hi = args.seeds.partition("-")
    for seed in range(int(lo), int(hi or lo) + 1):
        for kind in KINDS:
            img, ref = make(kind, seed)
            yield kind, seed, img, ref


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--u2os", type=int, default=None)
    p.add_argument("--seeds", default="15600-15603")
    p.add_argument("--chunked", action="store_true")
    args = p.parse_args(argv)
    errors, f1, differ, cpu = scored(
        _fields(args), INPUTS, lambda field, j, how: corrupt(field[2], how, field[1] * 10 + j),
        ((256, 256), (128, 160)) if args.chunked else ())
    report(INPUTS, errors, f1, differ, cpu, per_image=args.u2os is not None,
           chunked=args.chunked)
    return 0


def scored(fields, inputs, corrupted, chunks=()):
    """Each input's errors and F1 per field, chunked objects differing (at the chunk
    shapes ``chunks``; none: not run) and CPU seconds, over ``fields`` ((kind, seed, image,
    truth, ...) tuples); ``corrupted(field, j, how)``: the field's image as input ``how``
    (the ``j``-th)."""
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    errors = {h: [] for h in inputs}
    f1 = {h: [] for h in inputs}
    differ = {h: 0 for h in inputs}
    cpu = {h: 0.0 for h in inputs}
    for field in fields:
        for j, how in enumerate(inputs):
            x = corrupted(field, j, how)
            t0 = time.process_time()
            lab = seeded_watershed(x).labels
            cpu[how] += time.process_time() - t0
            s = score_segmentation(lab, field[3])
            errors[how].append(s["errors"])
            f1[how].append(s["f1"])
            if chunks:
                import dask
                import dask.array as da
                from chunked_agreement import differing

                with dask.config.set(scheduler="synchronous"):
                    for c in chunks:
                        other = seeded_watershed(da.from_array(x, chunks=c)).labels.compute()
                        differ[how] += max(differing(lab, other).size,
                                           differing(other, lab).size)
    return errors, f1, differ, cpu


def report(inputs, errors, f1, differ, cpu, *, per_image: bool, chunked: bool = False):
    """One line per input: errors (per image with ``per_image``, else summed), F1, chunked
    objects differing (with ``chunked``), CPU per image and the errors per field."""
    n = len(errors[inputs[0]])
    for how in inputs:
        e = errors[how]
        line = (f"{how:<12} errors/img {np.mean(e):6.2f}  F1 {np.mean(f1[how]):.3f}"
                if per_image else f"{how:<12} errors {int(np.sum(e)):5d}")
        if chunked:
            line += f"  chunked objects differing {differ[how]}"
        print(f"{line}  cpu/img {cpu[how] / n:.3f} s  per field {e}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
