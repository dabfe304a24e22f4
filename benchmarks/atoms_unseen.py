"""Held-out dumbbell images: how the defaults of find_atoms generalise beyond the
benchmark's dumbbells (256², sigma 1.4, spacing 14, 100 counts, weak column 0.7).

Run: ``python benchmarks/atoms.py dumbbells_unseen`` (or this file; ``--src DIR`` runs
another tree's package, e.g. main's, for a comparison in the same session).

Each case draws dumbbells with their truth on a lattice given by two vectors (square,
oblique, centred rectangular as Si/GaAs [110]), with its own column width, spacing, pair
distance and direction, intensity ratio, dose, additive noise, a thickness gradient
(intensity x2 across the field) and a background ramp, row-wise scan jitter, vacancies, an
interface to a simple lattice, image size and dtype. Reported per case (several seeds):
recall, precision (matched within a quarter of the pair distance), RMS, the Cramér-Rao
bound of a fit that models every column within 6 sigma (Poisson and additive noise, the
drawn gradient known; not for jittered images, whose columns are no longer Gaussians),
and processor time per column.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

if __name__ == "__main__":
    _src = (sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv
            else str(Path(__file__).resolve().parents[1] / "src"))
    sys.path.insert(0, _src)


@dataclass
class Case:
    name: str
    sigma: float = 1.4
    a1: tuple = (14.0, 0.0)          # lattice vectors (row, col), px
    a2: tuple = (0.0, 14.0)
    centred: bool = False            # a second dumbbell at (a1 + a2) / 2
    pair: float = 0.4                # pair distance, px (fraction of |a| if < 1)
    angle: float | str = 37.0        # degrees from the column axis, or "random"
    ratio: float = 0.7
    dose: float | None = 100.0       # counts at a bright peak (None: noise-free)
    gaussian: float = 0.0            # additive noise, fraction of a bright peak
    gradient: float = 1.0            # intensity factor across the field (thickness)
    ramp: float = 0.0                # additive background rising across the field
    jitter: float = 0.0              # row-wise scan jitter, px (std)
    shape: tuple = (256, 256)
    vacancies: float = 0.0           # fraction of columns missing
    interface: bool = False          # right half: a simple lattice instead of dumbbells
    dtype: str = "float32"
    rotate: float = 0.0              # lattice rotation, degrees
    extra: dict = field(default_factory=dict)


def _lattice_points(case, rng):
    a1, a2 = np.asarray(case.a1, float), np.asarray(case.a2, float)
    th = np.radians(case.rotate)
    rot = np.array([[np.cos(th), np.sin(th)], [-np.sin(th), np.cos(th)]])
    a1, a2 = rot @ a1, rot @ a2
    rows, cols = case.shape
    n = int(max(rows, cols) / min(np.hypot(*a1), np.hypot(*a2)) * 1.6) + 4
    i, j = np.meshgrid(np.arange(-n, n), np.arange(-n, n), indexing="ij")
    pts = i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2
    if case.centred:
        pts = np.concatenate([pts, pts + (a1 + a2) / 2])
    pts = pts + rng.uniform(0, 1, 2) * (a1 + a2) + np.array(case.shape) / 2 - (a1 + a2)
    pts = pts[np.all((pts > -20) & (pts < np.array(case.shape) + 20), axis=1)]
    return pts, min(np.hypot(*a1), np.hypot(*a2)), rot


def make(case, seed):
    """(image, positions, peaks, intensity-factor map, background map) of one case."""
    rng = np.random.default_rng(seed)
    centres, spacing, _ = _lattice_points(case, rng)
    dist = case.pair * spacing if case.pair < 1 else case.pair
    if case.angle == "random":
        theta = rng.uniform(0, 2 * np.pi, len(centres))
    else:
        theta = np.full(len(centres), np.radians(case.angle + case.rotate))
    u = np.column_stack([-np.sin(theta), np.cos(theta)]) * dist / 2
    pos = np.concatenate([centres - u, centres + u])
    peak = np.concatenate([np.ones(len(centres)), np.full(len(centres), case.ratio)])
    if case.interface:  # right of the middle: one column per lattice site
        right = centres[:, 1] > case.shape[1] / 2
        keep = np.concatenate([np.ones(len(centres), bool), ~right])
        pos[: len(centres)][right] = centres[right]
        pos, peak = pos[keep], peak[keep]
    s = case.sigma
    inside = np.all((pos >= s) & (pos <= np.array(case.shape) - 1 - s), axis=1)
    pos, peak = pos[inside], peak[inside]
    if case.vacancies:
        keep = rng.random(len(pos)) > case.vacancies
        pos, peak = pos[keep], peak[keep]
    rows, cols = case.shape
    rr, cc = np.indices(case.shape, dtype=float)
    # thickness gradient: intensities x gradient across the diagonal; background ramp
    t = (rr / max(rows - 1, 1) + cc / max(cols - 1, 1)) / 2
    factor = 1 + (case.gradient - 1) * t
    background = case.ramp * t
    shift = rng.normal(0, case.jitter, rows) if case.jitter else np.zeros(rows)
    image = np.zeros(case.shape)
    half = int(np.ceil(5 * s))
    for (r0, c0), h in zip(pos, peak, strict=True):
        ri = np.arange(max(0, round(r0) - half), min(rows, round(r0) + half + 1))
        ci = np.arange(max(0, round(c0) - half), min(cols, round(c0) + half + 1))
        # a scan line drawn at row r is displaced by shift[r] along the fast (column) axis
        dc = ci[None, :] - shift[ri][:, None] - c0
        image[np.ix_(ri, ci)] += h * np.exp(-((ri[:, None] - r0) ** 2 + dc**2) / (2 * s**2))
    image = image * factor + background
    if case.dose:
        image = rng.poisson(image * case.dose) / case.dose
    if case.gaussian:
        image = image + rng.normal(0, case.gaussian, case.shape)
    if case.dtype == "uint8":
        lo, hi = np.percentile(image, [0.01, 99.99])
        image = np.clip(np.round((image - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
    elif case.dtype == "uint16":
        scale = case.dose or 1000.0
        image = np.clip(np.round(image * scale + 100), 0, 65535).astype(np.uint16)
    else:
        image = image.astype(np.float32)
    return image, pos, peak, factor, background


def bound(case, pos, peak, factor, background, subset):
    """2-D Cramér-Rao bound of the columns ``subset`` when each is fitted with every
    column within 6 sigma (positions, peaks, widths, one background), under Poisson noise
    of ``case.dose`` plus additive noise ``case.gaussian``; the drawn gradient is known."""
    s = case.sigma
    tree = cKDTree(pos)
    out = np.empty(len(subset))
    margin = int(np.ceil(4.5 * s))
    shape = np.array(case.shape)
    for k, i in enumerate(subset):
        group = [i] + [j for j in tree.query_ball_point(pos[i], 6 * s) if j != i]
        g = pos[group]
        lo = np.maximum(np.floor(g.min(axis=0)) - margin, 0).astype(int)
        hi = np.minimum(np.ceil(g.max(axis=0)) + margin, shape - 1).astype(int)
        rr, cc = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1),
                             indexing="ij")
        f = factor[rr, cc].ravel()
        bg = background[rr, cc].ravel()
        rr, cc = rr.ravel(), cc.ravel()
        light = tree.query_ball_point((lo + hi) / 2, np.hypot(*(hi - lo)) / 2 + margin)
        d2 = (rr[:, None] - pos[light, 0]) ** 2 + (cc[:, None] - pos[light, 1]) ** 2
        mu = f * (peak[light] * np.exp(-d2 / (2 * s**2))).sum(axis=1) + bg
        var = (mu / case.dose if case.dose else np.zeros_like(mu)) + case.gaussian**2
        dr, dc = rr[:, None] - g[:, 0], cc[:, None] - g[:, 1]
        gauss = np.exp(-(dr**2 + dc**2) / (2 * s**2)) * f[:, None]
        ag = peak[group] * gauss
        jac = np.concatenate([ag * dr / s**2, ag * dc / s**2, gauss,
                              ag * (dr**2 + dc**2) / s**3, np.ones((rr.size, 1))], axis=1)
        cov = np.linalg.inv(jac.T @ (jac / np.maximum(var, 1e-12)[:, None]))
        out[k] = cov[0, 0] + cov[len(group), len(group)]
    return np.sqrt(out)


SI = dict(a1=(28.3, 0.0), a2=(0.0, 20.0), centred=True, pair=7.1, angle=90.0)
CASES = [
    Case("sigma 0.8, a 10, 0.4", sigma=0.8, a1=(10, 0), a2=(0, 10)),
    Case("sigma 1.0, a 8, 0.35", sigma=1.0, a1=(8, 0), a2=(0, 8), pair=0.35),
    Case("sigma 2.2, a 14, 0.5", sigma=2.2, pair=0.5),
    Case("sigma 3, a 30, 0.4", sigma=3.0, a1=(30, 0), a2=(0, 30), shape=(300, 300)),
    Case("sigma 3, a 20, 0.45", sigma=3.0, a1=(20, 0), a2=(0, 20), pair=0.45),
    Case("a 30, 0.25", a1=(30, 0), a2=(0, 30), pair=0.25, shape=(300, 300)),
    Case("rect 12x26, 0.8 along b", a1=(26, 0), a2=(0, 12), pair=0.8, angle=90.0),
    Case("ratio 0.2", ratio=0.2, dose=400.0),
    Case("ratio 0.3, 100 counts", ratio=0.3),
    Case("random dir, 0.35", angle="random", pair=0.35),
    Case("oblique 14/17 @70", a1=(0, 14), a2=(16.0, 5.8), angle=-20.0, pair=0.4,
         rotate=12.0),
    Case("dose 10", dose=10.0),
    Case("dose 30, ratio 0.5", dose=30.0, ratio=0.5),
    Case("dose 1000", dose=1000.0),
    Case("gaussian 0.1", dose=None, gaussian=0.1),
    Case("gaussian 0.05 + 200 counts", dose=200.0, gaussian=0.05),
    Case("thickness x2 + ramp 0.5", gradient=2.0, ramp=0.5),
    Case("ramp 2 (bg 2x peak)", ramp=2.0, dose=200.0),
    Case("jitter 0.2", jitter=0.2, dose=400.0),
    Case("jitter 0.5", jitter=0.5, dose=400.0),
    Case("64x64", shape=(64, 64)),
    Case("96x220", shape=(96, 220), angle=0.0),
    Case("1024x768", shape=(1024, 768), pair=0.3),
    Case("Si [110]", ratio=1.0, **SI),
    Case("GaAs [110] 0.5", ratio=0.5, **SI),
    Case("GaAs [110] rotated 33", ratio=0.5, rotate=33.0, **SI),
    Case("vacancies 3% + interface", vacancies=0.03, interface=True, angle=0.0,
         pair=0.35),
    Case("uint8", dtype="uint8", dose=200.0),
    Case("uint16 counts", dtype="uint16"),
    Case("sigma 3, a 20, 0.3", sigma=3.0, a1=(20, 0), a2=(0, 20), pair=0.3, dose=400.0),
    Case("sigma 2, a 10, 0.4", sigma=2.0, a1=(10, 0), a2=(0, 10), pair=0.4, dose=400.0),
    Case("a 14, 0.25, 400 counts", pair=0.25, dose=400.0),
    Case("a 8, sigma 1.4, 0.45", a1=(8, 0), a2=(0, 8), pair=0.45, dose=400.0),
    Case("ratio 0.2, dose 30", ratio=0.2, dose=30.0),
    Case("dose 10, ratio 1", dose=10.0, ratio=1.0),
    Case("jitter 0.3, dose 100", jitter=0.3),
    Case("1024x1024 sigma 3 a 30", sigma=3.0, a1=(30, 0), a2=(0, 30), pair=0.35,
         shape=(1024, 1024), angle="random"),
    Case("uint8, dose 30", dtype="uint8", dose=30.0),
]


def run(cases=CASES, seeds=3, max_bound=400):
    from napari_tessella.atoms import find_atoms

    print("\n== Held-out dumbbells: find_atoms(image, refine='gaussian'), defaults ==")
    print("match within a quarter of the pair distance (at most 2 px); bound: Cramer-Rao "
          "with every column within 6 sigma fitted (up to 400 columns per image); "
          "ms/col processor")
    print(f"{'case':<28}{'cols':>6}{'recall':>8}{'precis.':>8}{'worst':>7}{'RMS px':>8}"
          f"{'bound':>8}{'ratio':>7}{'ms/col':>8}")
    allt = alln = 0.0
    for case in cases:
        rec, prec, err, bnd, t, n, worst = [], [], [], [], 0.0, 0, 1.0
        for seed in range(seeds):
            image, pos, peak, factor, bg = make(case, seed)
            t0 = time.process_time()
            res = find_atoms(image, refine="gaussian")
            t += time.process_time() - t0
            spacing = min(np.hypot(*case.a1), np.hypot(*case.a2))
            dist = case.pair * spacing if case.pair < 1 else case.pair
            tol = min(0.25 * dist, 2.0)
            found = res.positions
            if len(found):
                d, idx = cKDTree(found).query(pos)
                m = d < tol
                r, p = m.mean(), len(np.unique(idx[m])) / len(found)
            else:
                d, m, r, p = np.zeros(0), np.zeros(len(pos), bool), 0.0, 0.0
            rec.append(r), prec.append(p), err.append(d[m])
            worst = min(worst, r, p)
            n += len(pos)
            if not case.jitter and (case.dose or case.gaussian) and m.any():
                sub = np.flatnonzero(m)
                sub = np.random.default_rng(0).choice(sub, min(max_bound, len(sub)),
                                                      replace=False)
                b = bound(case, pos, peak, factor, bg, sub)
                bnd.append((d[sub], b))
        e = np.concatenate(err)
        rms = float(np.sqrt(np.mean(e**2))) if e.size else np.nan
        if bnd:
            de = np.concatenate([x for x, _ in bnd])
            bb = np.concatenate([y for _, y in bnd])
            b = float(np.sqrt(np.mean(bb**2)))
            ratio = f"{np.sqrt(np.mean(de**2)) / b:7.2f}"
            btxt = f"{b:8.4f}"
        else:
            ratio, btxt = f"{'-':>7}", f"{'-':>8}"
        print(f"{case.name:<28}{n:>6}{np.mean(rec):>8.4f}{np.mean(prec):>8.4f}"
              f"{worst:>7.3f}{rms:>8.4f}{btxt}{ratio}{t / n * 1e3:>8.3f}", flush=True)
        allt += t
        alln += n
    print(f"all: {int(alln)} columns, {allt / alln * 1e3:.3f} ms/column")


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    names = [a for a in sys.argv[1:] if not a.startswith("--") and a != _src]
    run([c for c in CASES if not names or any(s in c.name for s in names)])
