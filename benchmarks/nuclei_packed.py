"""Benchmark: crops of packed tissue, nuclei tiling the field (issue 14, round 17).

Synthetic crops (``synthetic_nuclei(..., packed=GAP, blur=B)``): discs of exactly ``d``
px on a hexagonal lattice of pitch ``d + GAP``, at a random offset and angle, filling the
crop to its edges (nuclei cut by the border kept, as a crop cuts them); brightness
0.5-1 between nuclei (``--bright 1`` for all alike), noise 0.02. The grid: d in 12, 16,
24, 40 px; gaps 1, 2, 3 px; blur (sigma) 0, 0.8, 1.5 px; crop sides 150, 220, 300, 440,
600, one seed per cell (drawn from the cell's index), a deterministic subset of 160
crops (``--all``: every cell, 180).

Per crop: the diameter estimate and its error against ``d``, the nuclei found, errors
(split / merged / spurious / missing) and F1 at IoU 0.5; then the crops whose estimate is
off by more than 25 % or that found no nucleus, and the means per gap x blur. With
``--against SRC`` the same crops (made once, here) are scored by another tree's package.

Usage::

    python benchmarks/nuclei_packed.py [--against OTHER/src] [--all] [--bright LO]
        [--quiet]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from _against import score_both

DIAMETERS = (12, 16, 24, 40)
GAPS = (1, 2, 3)
BLURS = (0.0, 0.8, 1.5)
SIDES = (150, 220, 300, 440, 600)


def grid(every=False):
    """(d, gap, blur, side, seed) of the crops: each d x gap x blur cell with a crop side
    turning through SIDES (and, ``every``, each cell at two sides more); 160 by default."""
    cells = list(itertools.product(DIAMETERS, GAPS, BLURS))  # 36 cells
    out = []
    for i, (d, gap, blur) in enumerate(cells):
        turns = 5 if every else (5 if i < 16 else 4)  # 16 x 5 + 20 x 4 = 160
        for j in range(turns):
            out.append((d, gap, blur, SIDES[(i + j) % len(SIDES)], 100 + 7 * i + j))
    return out


def fields(crops, bright):
    from napari_tessella.synthetic import synthetic_nuclei

    arrays = {}
    for d, gap, blur, side, seed in crops:
        nuc = synthetic_nuclei((side, side), diameter=d, packed=gap, blur=blur, seed=seed,
                               brightness_range=(bright, 1.0))
        name = f"{d}|{gap}|{blur}|{side}|{seed}"
        arrays[f"image|{name}"] = nuc.image
        arrays[f"truth|{name}"] = nuc.labels
    return arrays


def score(path: Path) -> dict:
    """name -> scores of this interpreter's package on the crops saved in ``path``."""
    from napari_tessella.nuclei import (
        estimate_object_diameter,
        score_segmentation,
        seeded_watershed,
    )

    data = np.load(path)
    out = {}
    for key in data.files:
        if not key.startswith("image|"):
            continue
        name = key[len("image|"):]
        image = data[key]
        t0 = time.process_time()
        labels = seeded_watershed(image).labels
        cpu = time.process_time() - t0
        m = score_segmentation(labels, data[f"truth|{name}"])
        m.update(estimate=float(estimate_object_diameter(image)), found=int(labels.max()),
                 cpu=cpu)
        out[name] = {k: float(v) for k, v in m.items()}
    return out


def _summary(res: dict, label: str) -> None:
    names = list(res)
    err = np.array([res[n]["estimate"] / float(n.split("|")[0]) - 1 for n in names])
    f1 = np.array([res[n]["f1"] for n in names])
    zero = sum(res[n]["found"] == 0 for n in names)
    print(f"{label}: estimate off > 25 % {int(np.sum(np.abs(err) > 0.25))}, > 40 % "
          f"{int(np.sum(np.abs(err) > 0.4))}, median |error| {np.median(np.abs(err)):.3f}; "
          f"0 nuclei found {zero}; errors/crop "
          f"{np.mean([res[n]['errors'] for n in names]):.2f}, F1 {f1.mean():.3f} "
          f"(min {f1.min():.3f}); CPU {np.mean([res[n]['cpu'] for n in names]):.3f} s/crop")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", default=None, help="another package's src to compare")
    p.add_argument("--all", action="store_true", help="every crop of the grid (180)")
    p.add_argument("--bright", type=float, default=0.5, help="least brightness (of 1)")
    p.add_argument("--quiet", action="store_true", help="the summaries only")
    p.add_argument("--score", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.score:
        print(json.dumps(score(Path(args.score))))
        return 0
    crops = grid(args.all)
    ours, other = score_both(fields(crops, args.bright), __file__, score, args.against)

    def row(m, d):
        return (f"est {m['estimate']:5.1f} ({m['estimate'] / d - 1:+5.0%}) found "
                f"{m['found']:4.0f} err {m['errors']:4.0f} ({m['split']:.0f}/{m['merged']:.0f}/"
                f"{m['spurious']:.0f}/{m['missing']:.0f}) F1 {m['f1']:.3f}")

    if not args.quiet:
        print("d|gap|blur|side|seed  n  [against ... | this] estimate (error), nuclei found, "
              "errors (split/merged/spurious/missing), F1@0.5")
    for name, m in ours.items():
        d = float(name.split("|")[0])
        if not args.quiet:
            line = f"{name:<22}{m['n_ref']:5.0f} "
            if other:
                line += f"against {row(other[name], d)} | this "
            print(line + row(m, d), flush=True)
    print("per gap x blur, mean F1" + (" (against -> this)" if other else ""))
    for gap, blur in itertools.product(GAPS, BLURS):
        keys = [n for n in ours if n.split("|")[1:3] == [str(gap), str(blur)]]
        f = np.mean([ours[k]["f1"] for k in keys])
        was = f"{np.mean([other[k]['f1'] for k in keys]):.3f} -> " if other else ""
        print(f"  gap {gap} blur {blur}: {was}{f:.3f}")
    if other:
        _summary(other, "against")
    _summary(ours, "this")
    return 0


if __name__ == "__main__":
    sys.exit(main())
