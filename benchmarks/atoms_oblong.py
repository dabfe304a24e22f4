"""Benchmark: Find atoms on pixels that are not square (run: python benchmarks/atoms_oblong.py).

Synthetic square lattices drawn on pixels of ratio rows:cols 1:1, 1:1.5, 1.5:1, 1:2, 2:1, 1:4, 4:1
(sizes in pixels of the mean size, their product 1), of two kinds:

- ``sample``: columns round in the sample (as in real data), Gaussians evaluated at the
  pixel centres of the oblong grid (spacing 9, width 1.4 in mean pixels);
- ``pixels``: columns round in pixels (``synthetic_lattice``, spacing 8 px, width 1.4 px)
  given the oblong scale, so that they are ellipses in the sample.

- ``dumbbell-long`` / ``dumbbell-across`` (round 55): dumbbells round in the sample
  (peaks 1 and 0.7, ``--pair`` mean pixels apart, 14 apart, width 1.4) along the pixel's
  long side or across it.

Each field has additive noise (``--noise``, of the peak). Printed per ratio, kind and
refinement: columns found / true, the true columns matched (nearest found within a
third of the nearest-neighbour distance in the sample), the mean position error of
the matched ones in mean pixels, and (round 55) the found columns whose nearest found
neighbour is as near (``close``: a column found twice). ``--src PATH`` runs another tree's
package (a base); ``--first-seed`` the first of ``--seeds`` seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]

RATIOS = ((1, 1), (1, 1.5), (1.5, 1), (1, 2), (2, 1), (1, 4), (4, 1))


def sizes(ratio) -> np.ndarray:
    """The pixel's (row, col) sizes in pixels of the mean size (their product 1)."""
    r = np.asarray(ratio, dtype=np.float64)
    return r / np.sqrt(r.prod())


def sample_lattice(ratio, *, spacing=9.0, sigma=1.4, extent=128.0, angle=0.0, noise=0.1,
                   seed=0):
    """Columns round in the sample: ``(image, truth in pixels, nearest distance)``, the
    lengths in mean pixels; ``angle`` turns the lattice (degrees)."""
    rng = np.random.default_rng(seed)
    size = sizes(ratio)
    shape = tuple(round(extent / s) for s in size)
    n = int(extent / spacing) + 4
    i, j = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    t = np.radians(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    offset = rng.uniform(0, spacing, 2)
    pos = (np.column_stack([i.ravel(), j.ravel()]) * spacing) @ rot.T + extent / 2 + offset
    hi = (np.array(shape) - 1) * size
    # columns up to the edges and beyond them (a crop of a crystal): the truth is those
    # whose centre is inside; a column found just outside is no spurious one
    pos = pos[np.all((pos >= -3 * sigma) & (pos <= hi + 3 * sigma), axis=1)]
    rows = np.arange(shape[0]) * size[0]
    cols = np.arange(shape[1]) * size[1]
    image = np.zeros(shape)
    for r0, c0 in pos:
        image += np.outer(np.exp(-(rows - r0) ** 2 / (2 * sigma**2)),
                          np.exp(-(cols - c0) ** 2 / (2 * sigma**2)))
    image += rng.normal(0, noise, shape)
    return image.astype(np.float32), pos / size, spacing


def pixel_lattice(ratio, *, spacing=8.0, sigma=1.4, side=96, noise=0.1, seed=0):
    """Columns round in pixels: ``(image, truth in pixels, nearest distance in mean
    pixels)``."""
    from napari_tessella.synthetic import synthetic_lattice

    lat = synthetic_lattice((side, side), spacing=spacing, sigma=sigma, gaussian_noise=noise,
                            seed=seed)
    return lat.image, lat.positions, spacing * float(sizes(ratio).min())


def dumbbell_lattice(ratio, *, pair=5.6, along=True, spacing=14.0, sigma=1.4, extent=100.0,
                     noise=0.05, seed=0):
    """Dumbbells round in the sample, ``pair`` mean pixels apart along the pixel's long
    side (``along``) or across it: ``(image, truth in pixels, pair)``."""
    rng = np.random.default_rng(seed)
    size = sizes(ratio)
    shape = tuple(round(extent / s) for s in size)
    grid = np.arange(rng.uniform(0, spacing) - spacing, extent + spacing, spacing)
    centres = np.array([(a, b) for a in grid for b in grid])
    axis = int(size[1] >= size[0]) if along else int(size[1] < size[0])
    u = np.zeros(2)
    u[axis] = pair / 2
    pos = np.concatenate([centres - u, centres + u])
    peak = np.r_[np.ones(len(centres)), np.full(len(centres), 0.7)]
    rows, cols = np.arange(shape[0]) * size[0], np.arange(shape[1]) * size[1]
    image = rng.normal(0, noise, shape)
    for (r0, c0), h in zip(pos, peak, strict=True):
        image += h * np.outer(np.exp(-(rows - r0) ** 2 / (2 * sigma**2)),
                              np.exp(-(cols - c0) ** 2 / (2 * sigma**2)))
    return image.astype(np.float32), pos / size, pair


def close(found, size, nearest) -> int:
    """The found columns whose nearest found neighbour is within a third of ``nearest``
    (in the sample): each column found twice counts two."""
    p = np.asarray(found, dtype=np.float64).reshape(-1, 2) * size
    if len(p) < 2:
        return 0
    d, _ = cKDTree(p).query(p, k=2)
    return int((d[:, 1] < nearest / 3).sum())


def score(found, truth, size, nearest, shape):
    """``(found, true, matched, mean error)`` of the columns whose centre is inside the
    image (a column found on the border for one centred just outside is neither):
    distances in the sample, in mean pixels."""
    truth = np.asarray(truth, dtype=np.float64)
    inside = np.all((truth >= -0.5) & (truth <= np.array(shape) - 0.5), axis=1)
    found = np.asarray(found, dtype=np.float64).reshape(-1, 2) * size
    truth = truth * size
    if not len(found):
        return 0, int(inside.sum()), 0, float("nan")
    d, idx = cKDTree(truth).query(found)
    near_outside = (d < nearest / 3) & ~inside[idx]
    d, _ = cKDTree(found).query(truth[inside])
    ok = d < nearest / 3
    return (int((~near_outside).sum()), int(inside.sum()), int(ok.sum()),
            float(d[ok].mean()) if ok.any() else float("nan"))


def field(kind, ratio, noise, seed, angle=0.0, pair=5.6):
    if kind.startswith("dumbbell"):
        return dumbbell_lattice(ratio, pair=pair, along=kind == "dumbbell-long",
                                noise=noise, seed=seed)
    if kind == "sample":
        return sample_lattice(ratio, noise=noise, seed=seed, angle=angle)
    return pixel_lattice(ratio, noise=noise, seed=seed)


def run(kinds, refines, seeds, noise, angle=0.0, ratios=RATIOS, pair=5.6):
    from napari_tessella._finite import find_atoms_finite

    rows = []
    for kind in kinds:
        for ratio in ratios:
            for refine in refines:
                n_true = n_found = n_ok = n_close = 0
                errors = []
                for seed in seeds:
                    image, truth, nearest = field(kind, ratio, noise, seed, angle, pair)
                    size = sizes(ratio)
                    sampling = None if ratio[0] == ratio[1] else tuple(size)
                    try:
                        with np.errstate(all="ignore"):
                            found = find_atoms_finite(image, sampling=sampling,
                                                      refine=refine).result.positions
                    except ValueError:  # fewer than 3 columns found (heavy noise)
                        found = np.zeros((0, 2))
                    f, t, ok, err = score(found, truth, size, nearest, image.shape)
                    n_true, n_found, n_ok = n_true + t, n_found + f, n_ok + ok
                    n_close += close(found, size, nearest)
                    errors.append(err)
                with np.errstate(all="ignore"):
                    error = float(np.nanmean(errors)) if np.isfinite(errors).any() else np.nan
                rows.append((kind, f"{ratio[0]:g}:{ratio[1]:g}", refine, n_found, n_true,
                             n_ok, error, n_close))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the package's tree")
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--pair", type=float, default=5.6)
    parser.add_argument("--angle", type=float, default=0.0)
    parser.add_argument("--refine", default="gaussian,com")
    parser.add_argument("--kind", default="sample,pixels",
                        help="sample, pixels, dumbbell-long, dumbbell-across")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.src)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = run(args.kind.split(","), args.refine.split(","), seeds, args.noise, args.angle,
               pair=args.pair)
    print(f"{'kind':14} {'ratio':6} {'refine':8} {'found/true':>11} {'matched':>8} "
          f"{'error':>6} {'close':>6}")
    for kind, ratio, refine, found, true, ok, err, near in rows:
        print(f"{kind:14} {ratio:6} {refine:8} {found:5d}/{true:<5d} {ok:8d} {err:6.3f} "
              f"{near:6d}")


if __name__ == "__main__":
    main()
