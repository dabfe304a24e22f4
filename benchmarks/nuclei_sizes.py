"""Benchmark: the nuclei defaults on fields of two nucleus sizes (round 15).

Synthetic fields (``synthetic_nuclei(..., small=N, small_scale=s)``): 20 nuclei of 30 px
and N more of ``s`` x 30 px (a co-culture, a tissue of two cell types), 512 x 512, seeds
10-12 (never looked at while the rule was written). Mean errors per image (split /
merged / spurious / missing), F1 at IoU 0.5, and the small nuclei found (matched at IoU
0.5) of those drawn, for this tree and, with ``--against SRC``, another tree's package
on the same images (generated once, here). CPU seconds per image alongside.

Usage::

    python benchmarks/nuclei_sizes.py [--against OTHER/src] [--seeds 10,11,12]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _against import score_both, segmented

#: name -> (small nuclei drawn, their scale of the 30 px diameter)
KINDS = {
    "2:1, 33% small": (10, 0.5),
    "2:1, 50% small": (20, 0.5),
    "2:1, 67% small": (40, 0.5),
    "2.5:1, 67% small": (40, 0.4),
    "1.7:1, 67% small": (40, 0.6),
    "1.4:1, 60% small": (30, 0.7),
    "2:1, 20% small": (5, 0.5),
}
N_BIG, DIAMETER, SIDE = 20, 30.0, 512


def fields(seeds):
    """(kind, seed) -> (image, truth, ids of the small nuclei)."""
    from napari_tessella.synthetic import synthetic_nuclei

    out = {}
    for kind, (n, scale) in KINDS.items():
        for s in seeds:
            nuc = synthetic_nuclei((SIDE, SIDE), n_nuclei=N_BIG, diameter=DIAMETER, seed=s,
                                   small=n, small_scale=scale)
            out[kind, s] = (nuc.image, nuc.labels, np.arange(N_BIG + 1, nuc.labels.max() + 1))
    return out


def _small_found(labels, truth, small_ids) -> int:
    """Small nuclei of the truth matched by one object at IoU >= 0.5."""
    found = 0
    for i in small_ids:
        mine = truth == i
        hit = np.bincount(labels[mine]).argmax()
        if hit:
            union = np.count_nonzero(mine | (labels == hit))
            found += np.count_nonzero(mine & (labels == hit)) >= 0.5 * union
    return found


def score(path: Path) -> dict:
    """kind -> mean scores of this interpreter's package on the fields saved in ``path``."""
    from napari_tessella.nuclei import score_segmentation

    out = {}
    for name, data, labels, cpu in segmented(path):
        kind, s = name.split("|")
        truth, small = data[f"truth|{kind}|{s}"], data[f"small|{kind}|{s}"]
        r = score_segmentation(labels, truth)
        r.update(cpu=cpu, small=_small_found(labels, truth, small), drawn=len(small))
        out.setdefault(kind, []).append(r)
    return {k: {m: float(np.mean([r[m] for r in v])) for m in v[0]} for k, v in out.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", default=None, help="another package's src to compare")
    p.add_argument("--seeds", default="10,11,12")
    p.add_argument("--score", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.score:
        print(json.dumps(score(Path(args.score))))
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    arrays = {}
    for (kind, s), (img, truth, small) in fields(seeds).items():
        arrays.update({f"image|{kind}|{s}": img, f"truth|{kind}|{s}": truth,
                       f"small|{kind}|{s}": small})
    ours, other = score_both(arrays, __file__, score, args.against)
    print(f"seeds {seeds}; errors/img (split/merged/spurious/missing), F1@0.5, small nuclei "
          "found of drawn, CPU s/img")

    def row(m):
        return (f"{m['errors']:5.2f} ({m['split']:.1f}/{m['merged']:.1f}/{m['spurious']:.1f}/"
                f"{m['missing']:.1f}) F1 {m['f1']:.3f} small {m['small']:4.1f}/{m['drawn']:4.1f}"
                f" {m['cpu']:.3f}s")

    for kind, m in ours.items():
        line = f"{kind:<17} " + (f"against {row(other[kind])} | this " if other else "")
        print(line + row(m), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
