"""Measured, not kept (round 58): the square plane's own doubles merged, the better-placed
site kept (run: python benchmarks/atoms_doubles.py).

On the fields of ``atoms_oblong.py`` (columns round in pixels, dumbbells along the
pixel's long side; the six oblong ratios) every result that the square plane gave after
a search in pixels gave way is taken, and a merge is applied to it: of two sites each
other's nearest and nearer than ``--share`` of the result's separation, the one where
the square plane smoothed by a Gaussian of the columns' own shape (their lobe widths
measured in pixels, scaled to the square plane) is higher is kept. Printed per kind,
noise, ratio and refinement: the true columns matched (as ``atoms_oblong.py``) and the
sites found twice (``close``), without the merge → with it, and how many fields lost a
matched column. ``--src PATH`` runs another tree's package; ``--first-seed`` the first
of ``--seeds`` seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def merged(square, res, widths, share):
    """The positions of ``res`` (on the ``square`` plane) with each pair of mutual
    nearest sites nearer than ``share`` of its separation kept once."""
    from scipy import ndimage as ndi

    from napari_tessella.lattice_analysis import _close_pairs

    found = np.asarray(res.positions, dtype=np.float64).reshape(-1, 2)
    if len(found) < 3:
        return found
    pairs, apart, _ = _close_pairs(found, ratio=np.inf)
    pairs = pairs[apart < share * res.separation]
    smooth = ndi.gaussian_filter(square, np.asarray(widths) / np.sqrt(2))
    height = ndi.map_coordinates(smooth, found.T, order=1, mode="nearest")
    lower = np.where(height[pairs[:, 0]] >= height[pairs[:, 1]], pairs[:, 1], pairs[:, 0])
    keep = np.ones(len(found), dtype=bool)
    keep[lower] = False
    return found[keep]


def run(kinds, noises, seeds, share):
    from atoms_oblong import RATIOS, close, field, score, sizes

    from napari_tessella import _square
    from napari_tessella._finite import find_atoms_finite

    seen = []
    real = _square.find_atoms

    def spy(img, **params):  # every search, the last one's plane and result kept
        res = real(img, **params)
        seen.append((np.asarray(img, dtype=np.float64), res))
        return res

    _square.find_atoms = spy
    rows = []
    for kind in kinds:
        for noise in noises:
            for ratio in (r for r in RATIOS if r[0] != r[1]):
                for refine in ("gaussian", "com"):
                    tally = np.zeros(5, dtype=int)  # matched, close, after both, lost
                    for seed in seeds:
                        image, truth, nearest = field(kind, ratio, noise, seed)
                        size = sizes(ratio)
                        seen.clear()
                        try:
                            with np.errstate(all="ignore"):
                                found = find_atoms_finite(image, sampling=tuple(size),
                                                          refine=refine).result.positions
                        except ValueError:
                            found = np.zeros((0, 2))
                        before = score(found, truth, size, nearest, image.shape)[2]
                        after, pos = before, found
                        square, res = seen[-1] if seen else (None, None)
                        if (square is not None and square.shape != image.shape
                                and len(res.positions) == len(found)):
                            factor = np.array(square.shape) / np.array(image.shape)
                            widths = np.asarray(_square.column_widths(image)) * factor
                            pos = (merged(square, res, widths, share) + 0.5) / factor - 0.5
                            after = score(pos, truth, size, nearest, image.shape)[2]
                        tally += (before, close(found, size, nearest), after,
                                  close(pos, size, nearest), after < before)
                    rows.append((kind, noise, f"{ratio[0]:g}:{ratio[1]:g}", refine, *tally))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the package's tree")
    parser.add_argument("--kind", default="pixels,dumbbell-long")
    parser.add_argument("--noise", default="0.1,0.2,0.3,0.5")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=19600)
    parser.add_argument("--share", type=float, default=0.15)
    args = parser.parse_args(argv)
    sys.path.insert(0, args.src)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = run(args.kind.split(","), [float(n) for n in args.noise.split(",")], seeds,
               args.share)
    print(f"{'kind':14} {'noise':5} {'ratio':6} {'refine':8} {'matched':>13} {'close':>11} "
          f"{'lost':>4}")
    for kind, noise, ratio, refine, m0, c0, m1, c1, lost in rows:
        print(f"{kind:14} {noise:5g} {ratio:6} {refine:8} {m0:5d} -> {m1:5d} "
              f"{c0:4d} -> {c1:4d} {lost:4d}")


if __name__ == "__main__":
    main()
