"""Benchmark: a camera's defects that round 54 left (clusters, sparse dead pixels, dim nuclei).

Each field is segmented with the defaults clean and with defects added: clusters of 2x1,
2x2 and 3x3 dead pixels (at the field's minimum) or hot ones (at the camera's largest
value: 4095 for the 12-bit cell-line fields, 65535 for U2OS) on one pixel in 4000 of the
field (one cluster per 4000 pixels), 20 dead pixels inside nuclei that all miss the grid of
every eighth row and column and the levels' sample, and pepper on 0.5 % of the pixels
(whose misses are in dim nuclei). Fields: the U2OS images made 16-bit (``x64 + 100``;
``--u2os even`` or ``odd``: every other image, ``all``) and the cell-line fields of
``nuclei_cellline.py`` (fibroblast, halo, dim, u2os-like, mixed d28, uneven d32) on the
seeds given (``--seeds``; round 55 tuned on 16600-16603 and held out 16800-16803).
Printed: the total errors per input (cell-line) or the errors per image and F1 (U2OS)::

    python benchmarks/nuclei_defects.py [--u2os even] [--seeds 16600-16603] [--chunked]

``--chunked`` also segments every input as a dask array (chunks 256, 128x160 and 97x300)
and counts the objects that differ from the in-memory result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("fibroblast", "halo", "dim", "u2os-like", "mixed d28", "uneven d32")
INPUTS = ("clean", "dead 2x1", "dead 2x2", "dead 3x3", "hot 2x2", "hot 3x3", "sparse dead",
          "pepper 0.5%", "dead 3x3 edge", "hot 3x3 edge", "dead 3x3 border", "dead 4x4",
          "hot 4x4", "column +half", "column -half", "row +half", "dead half column",
          "hot half column", "column +2")
# (round 56: clusters at a nucleus's edge, at the image's border and of 4 x 4; a column
# or row at an offset of half the field's spread (p98 - p50) or of 2 spreads, and half
# of a column dead or hot)


def _off_grid(n: int) -> np.ndarray:
    """The indices ``0 .. n-1`` on no row or column of the grid (4 mod 8) nor of a
    sample taken every 2nd, 3rd ... 8th line from 0."""
    k = np.arange(n)
    ok = k % 8 != 4
    for step in range(2, 9):
        ok &= k % step != 0
    return k[ok]


def corrupt(image: np.ndarray, how: str, seed: int, ref: np.ndarray,
            hot: float) -> np.ndarray:
    """``image`` with the defects ``how`` names (a copy); ``ref``: its truth (the sparse
    dead pixels lie in nuclei); ``hot``: a hot pixel's value. Pepper is
    ``nuclei_pepper.corrupt``'s (the same pixels for the same seed)."""
    if how.startswith("pepper"):
        from nuclei_pepper import corrupt as dark_pixels

        return dark_pixels(image, how, seed)
    out = np.array(image, copy=True)
    low = out.min()
    rng = np.random.default_rng(seed)
    rows, cols = out.shape
    if how == "sparse dead":
        ok = np.zeros(out.shape, bool)
        ok[np.ix_(_off_grid(rows), _off_grid(cols))] = True
        ok &= ref > 0
        idx = np.flatnonzero(ok)
        out.flat[rng.choice(idx, min(20, idx.size), replace=False)] = low
    elif how.startswith(("column", "row")):
        line, off = how.split()
        mid, high = np.percentile(image, [50, 98])
        delta = (high - mid) * (0.5 if off.endswith("half") else float(off[1:]))
        delta = delta if off[0] == "+" else -delta
        where = np.s_[:, int(rng.integers(cols // 3, 2 * cols // 3))] if line == "column" \
            else np.s_[int(rng.integers(rows // 3, 2 * rows // 3)), :]
        top = np.iinfo(out.dtype).max if out.dtype.kind in "iu" else np.inf
        out[where] = np.clip(out[where].astype(np.float64) + delta, low, top)
    elif how.endswith("half column"):
        c = int(rng.integers(cols // 3, 2 * cols // 3))
        r0 = int(rng.integers(0, rows // 2))
        out[r0:r0 + rows // 2, c] = low if how.startswith("dead") else hot
    elif how.endswith(("edge", "border")):
        kind, size, where = how.split()
        h = int(size.split("x")[0])
        n = out.size // 4000
        if where == "edge":
            lab = np.asarray(ref)
            pad = np.pad(lab, 1, mode="edge")
            edge = (lab > 0) & ((pad[:-2, 1:-1] != lab) | (pad[2:, 1:-1] != lab)
                                | (pad[1:-1, :-2] != lab) | (pad[1:-1, 2:] != lab))
            idx = np.flatnonzero(edge)
            r, c = np.divmod(rng.choice(idx, min(n, idx.size), replace=False), cols)
            r, c = np.clip(r - h // 2, 0, rows - h), np.clip(c - h // 2, 0, cols - h)
        else:  # (touching the border or one or two pixels inside it)
            side = rng.integers(0, 4, n)
            gap = rng.integers(0, 3, n)
            r = rng.integers(0, rows - h + 1, n)
            c = rng.integers(0, cols - h + 1, n)
            r = np.where(side == 0, gap, np.where(side == 1, rows - h - gap, r))
            c = np.where(side == 2, gap, np.where(side == 3, cols - h - gap, c))
        value = low if kind == "dead" else hot
        for r0, c0 in zip(r, c, strict=True):
            out[r0:r0 + h, c0:c0 + h] = value
    elif how != "clean":
        kind, size = how.split()
        h, w = (int(v) for v in size.split("x"))
        n = out.size // 4000
        r = rng.integers(0, rows - h + 1, n)
        c = rng.integers(0, cols - w + 1, n)
        turn = rng.random(n) < 0.5  # (2x1: as many 1x2)
        value = low if kind == "dead" else hot
        for r0, c0, t in zip(r, c, turn, strict=True):
            hh, ww = (w, h) if t else (h, w)
            out[r0:r0 + hh, c0:c0 + ww] = value
    return out


def _fields(args):
    if args.u2os is not None:
        from coelho2009 import DEFAULT_DATA, _image_paths
        from skimage.io import imread

        for k, p in enumerate(_image_paths(DEFAULT_DATA, None)):
            if args.u2os != "all" and k % 2 != (args.u2os == "odd"):
                continue
            img = imread(p).astype(np.float64)
            yield "u2os", k, (img * 64 + 100).astype(np.uint16), imread(
                DEFAULT_DATA / "labels" / p.name), 65535
        return
    from nuclei_cellline import make

    lo, _, hi = args.seeds.partition("-")
    for seed in range(int(lo), int(hi or lo) + 1):
        for kind in KINDS:
            img, ref = make(kind, seed)
            yield kind, seed, img, ref, 4095


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--u2os", default=None, choices=("even", "odd", "all"))
    p.add_argument("--seeds", default="16600-16603")
    p.add_argument("--chunked", action="store_true")
    p.add_argument("--only", default=None, help="comma-separated inputs (default: all)")
    args = p.parse_args(argv)

    from nuclei_pepper import report, scored

    inputs = INPUTS if args.only is None else tuple(args.only.split(","))
    errors, f1, differ, cpu = scored(
        _fields(args), inputs,
        lambda field, _j, how: corrupt(field[2], how, field[1] * 10 + INPUTS.index(how),
                                       field[3], field[4]),
        ((256, 256), (128, 160), (97, 300)) if args.chunked else ())
    report(inputs, errors, f1, differ, cpu, per_image=args.u2os is not None,
           chunked=args.chunked)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
