"""Benchmark: Find atoms on pixels that are not square (run: python benchmarks/atoms_oblong.py).

Synthetic square lattices drawn on pixels of ratio rows:cols 1:1, 1:1.5, 1:2, 2:1, 1:4, 4:1
(sizes in pixels of the mean size, their product 1), of two kinds:

- ``sample``: columns round in the sample (as in real data), Gaussians evaluated at the
  pixel centres of the oblong grid (spacing 9, width 1.4 in mean pixels);
- ``pixels``: columns round in pixels (``synthetic_lattice``, spacing 8 px, width 1.4 px)
  given the oblong scale, so that they are ellipses in the sample.

Each field has additive noise (``--noise``, of the peak). Printed per ratio, kind and
refinement: columns found / true, the true columns matched (nearest found within a
third of the nearest-neighbour distance in the sample), and the mean position error of
the matched ones in mean pixels. ``--src PATH`` runs another tree's package (a base).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]

RATIOS = ((1, 1), (1, 1.5), (1, 2), (2, 1), (1, 4), (4, 1))


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


def field(kind, ratio, noise, seed, angle=0.0):
    if kind == "sample":
        return sample_lattice(ratio, noise=noise, seed=seed, angle=angle)
    return pixel_lattice(ratio, noise=noise, seed=seed)


def run(kinds, refines, seeds, noise, angle=0.0, ratios=RATIOS):
    from napari_tessella._finite import find_atoms_finite

    rows = []
    for kind in kinds:
        for ratio in ratios:
            for refine in refines:
                n_true = n_found = n_ok = 0
                errors = []
                for seed in seeds:
                    image, truth, nearest = field(kind, ratio, noise, seed, angle)
                    size = sizes(ratio)
                    sampling = None if ratio[0] == ratio[1] else tuple(size)
                    with np.errstate(all="ignore"):
                        res = find_atoms_finite(image, sampling=sampling,
                                                refine=refine).result
                    f, t, ok, err = score(res.positions, truth, size, nearest,
                                          image.shape)
                    n_true, n_found, n_ok = n_true + t, n_found + f, n_ok + ok
                    errors.append(err)
                rows.append((kind, f"{ratio[0]:g}:{ratio[1]:g}", refine, n_found, n_true,
                             n_ok, float(np.nanmean(errors))))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the package's tree")
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--angle", type=float, default=0.0)
    parser.add_argument("--refine", default="gaussian,com")
    parser.add_argument("--kind", default="sample,pixels")
    args = parser.parse_args(argv)
    sys.path.insert(0, args.src)
    rows = run(args.kind.split(","), args.refine.split(","), range(args.seeds), args.noise,
               args.angle)
    print(f"{'kind':7} {'ratio':6} {'refine':8} {'found/true':>11} {'matched':>8} "
          f"{'error':>6}")
    for kind, ratio, refine, found, true, ok, err in rows:
        print(f"{kind:7} {ratio:6} {refine:8} {found:5d}/{true:<5d} {ok:8d} {err:6.3f}")


if __name__ == "__main__":
    main()
