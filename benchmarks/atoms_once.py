"""One site per column on oblong pixels, round 59: the square plane's sites refined in
pixels, against the same run without that step (run: python benchmarks/atoms_once.py
--src TREE, TREE a checkout of the commit "Find atoms on oblong pixels: the square
plane's sites refined in the image's own pixels ..." of round 59; measured, not kept:
the package's tree has no such step, and the script says so).

On the fields of ``atoms_oblong.py`` (columns round in pixels, dumbbells along the
pixel's long side) every search is run once, with the refinement in pixels replaced by
a spy that records what it would return and lets the search go on as without it (the
base's path, bit for bit). Printed per kind, noise, ratio and refinement: the true
columns matched and the sites found twice (``close``, as ``atoms_oblong.py``) without
the step → with it, the fields where it acts, and the share (on a log scale) of the
mean column's aspect in pixels to its aspect in the sample (``_square.ROUNDER`` is the
rule's bound; ``--all`` applies the step wherever the mean column is read, to tune it).
``--src PATH`` runs another tree's package; ``--first-seed`` the first of ``--seeds``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def run(kinds, noises, ratios, seeds, every=False):
    from atoms_oblong import close, field, score, sizes

    from napari_tessella import _square
    from napari_tessella._finite import find_atoms_finite

    if not hasattr(_square, "_refined_in_pixels"):
        raise SystemExit("this tree has no refinement in pixels (measured, not kept in "
                         "round 59): give --src a checkout of the commit that had it")
    stash = {}
    rounder, refined = _square._rounder_in_pixels, _square._refined_in_pixels

    def spy_rounder(mean, sampling):
        size = np.abs(np.asarray(sampling, dtype=np.float64))
        aspect = abs(np.log(mean[0] * size[0] / (mean[1] * size[1])))
        stash["share"] = abs(np.log(mean[0] / mean[1])) / aspect if aspect else np.inf
        stash["acts"] = every or rounder(mean, sampling)
        return True

    def spy_refined(plane, positions, params):
        stash["result"] = refined(plane, positions, params)
        return None  # the search goes on as without the step

    _square._rounder_in_pixels, _square._refined_in_pixels = spy_rounder, spy_refined
    rows = []
    for kind in kinds:
        for noise in noises:
            for ratio in ratios:
                for refine in ("gaussian", "com"):
                    tally, shares = np.zeros(5, dtype=int), []
                    for seed in seeds:
                        image, truth, nearest = field(kind, ratio, noise, seed)
                        size = sizes(ratio)
                        stash.clear()
                        try:
                            with np.errstate(all="ignore"):
                                found = find_atoms_finite(image, sampling=tuple(size),
                                                          refine=refine).result.positions
                        except ValueError:
                            found = np.zeros((0, 2))
                        after = found
                        if "share" in stash:
                            shares.append(stash["share"])
                        if stash.get("acts") and stash.get("result") is not None:
                            after = stash["result"].positions
                        tally += (score(found, truth, size, nearest, image.shape)[2],
                                  close(found, size, nearest),
                                  score(after, truth, size, nearest, image.shape)[2],
                                  close(after, size, nearest), after is not found)
                    rows.append((kind, noise, f"{ratio[0]:g}:{ratio[1]:g}", refine, *tally,
                                 max(shares) if shares else np.nan))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the package's tree")
    parser.add_argument("--kind", default="pixels,dumbbell-long")
    parser.add_argument("--noise", default="0.1,0.2,0.3,0.5")
    parser.add_argument("--ratios", default="1:2,2:1,1:4,4:1")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=20800)
    parser.add_argument("--all", action="store_true", help="the step wherever it is read")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.src)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    ratios = [tuple(float(x) for x in r.split(":")) for r in args.ratios.split(",")]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = run(args.kind.split(","), [float(n) for n in args.noise.split(",")], ratios,
               seeds, args.all)
    print(f"{'kind':14} {'noise':5} {'ratio':6} {'refine':8} {'matched':>13} {'close':>11} "
          f"{'acts':>4} {'share':>5}")
    for kind, noise, ratio, refine, m0, c0, m1, c1, acts, share in rows:
        print(f"{kind:14} {noise:5g} {ratio:6} {refine:8} {m0:5d} -> {m1:5d} "
              f"{c0:4d} -> {c1:4d} {acts:4d} {share:5.2f}")


if __name__ == "__main__":
    main()
