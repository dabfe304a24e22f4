"""Benchmark: atom-column finding and lattice analysis (run: python benchmarks/atoms.py).

Prints find rate, spurious detections and RMS position error on synthetic lattices with
ground truth, Gaussian-refinement throughput (and atomap's, if installed), Voronoi-cell
integration speed against a per-pixel Python loop, and the NbW-STEM.png figures.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial import cKDTree

os.environ.setdefault("TQDM_DISABLE", "1")  # atomap's progress bars
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from napari_tessella.atoms import find_atoms  # noqa: E402
from napari_tessella.lattice_analysis import (  # noqa: E402
    basis_vectors,
    nearest_neighbor_distances,
    voronoi_cell_intensity,
)
from napari_tessella.synthetic import synthetic_lattice  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SHAPE = (294, 294)


def score(found, truth, tol=2.0):
    d, idx = cKDTree(found).query(truth)
    m = d < tol
    spurious = len(found) - len(np.unique(idx[m]))
    return m.sum(), spurious, float(np.sqrt(np.mean(d[m] ** 2)))


def crlb(noise, amplitude=1.0):
    """2-D Cramér-Rao bound for a Gaussian column in white noise: sqrt(2)·σ/A·sqrt(2/π)."""
    return float(np.sqrt(2) * noise / amplitude * np.sqrt(2 / np.pi))


def blog_recipe(image):
    """Threshold 0.62 of the [0, 1] image, 2×2 opening, 4-connectivity, weighted centres."""
    img = (image - image.min()) / np.ptp(image)
    mask = ndi.binary_opening(img > 0.62, structure=np.ones((2, 2)))
    labels, n = ndi.label(mask)
    return np.array(ndi.center_of_mass(img, labels, np.arange(1, n + 1)))


def timed(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def accuracy():
    print("== Synthetic lattices, 294x294, spacing 7 px, sigma 1.4 px (seed 1) ==")
    print(f"{'lattice':<15}{'noise':>6}{'refine':>10}{'truth':>7}{'found':>7}{'spur':>6}"
          f"{'RMS px':>9}{'CRLB px':>9}")
    for kind, sub in [("square", None), ("hexagonal", None), ("square", 0.5),
                      ("hexagonal", 0.5)]:
        for noise in (0.02, 0.05):
            lat = synthetic_lattice(SHAPE, kind=kind, sublattice_intensity=sub,
                                    gaussian_noise=noise, seed=1)
            amps = lat.intensity
            bound = float(np.sqrt(np.mean([crlb(noise, a) ** 2 for a in amps])))
            name = kind + ("+50%" if sub else "")
            for refine in (None, "com", "gaussian"):
                res = find_atoms(lat.image, refine=refine)
                n, spur, rms = score(res.positions, lat.positions)
                print(f"{name:<15}{noise:>6.2f}{refine or 'none':>10}{len(lat.positions):>7}"
                      f"{n:>7}{spur:>6}{rms:>9.3f}{bound:>9.3f}")
            if noise == 0.05 and kind == "square" and sub is None:
                base = blog_recipe(lat.image)
                n, spur, rms = score(base, lat.positions)
                print(f"{'  blog recipe':<15}{noise:>6.2f}{'-':>10}{len(lat.positions):>7}"
                      f"{n:>7}{spur:>6}{rms:>9.3f}{bound:>9.3f}")


def throughput():
    print("\n== Gaussian refinement throughput ==")
    lat = synthetic_lattice(SHAPE, gaussian_noise=0.05, seed=1)
    t_none, res0 = timed(lambda: find_atoms(lat.image, separation=7.0, refine=None))
    t_gauss, res = timed(lambda: find_atoms(lat.image, separation=7.0, refine="gaussian"))
    n = len(res.positions)
    per = (t_gauss - t_none) / n * 1e3
    print(f"find_atoms(refine='gaussian'): {n} columns, {t_gauss * 1e3:.0f} ms total, "
          f"refinement {per:.3f} ms/atom (detection alone {t_none * 1e3:.0f} ms)")
    try:
        from importlib.metadata import version

        import atomap.api as am
    except Exception as exc:  # optional dependency
        print(f"atomap not available ({type(exc).__name__}): no comparison")
        return
    sub = 200  # atomap is slow: time it on the first 200 columns
    data = lat.image.astype(np.float64) - lat.image.min()  # atomap wants non-negative data
    pos = res0.positions[:sub][:, ::-1]  # atomap wants (x, y)
    sublattice = am.Sublattice(pos, image=data)
    sublattice.find_nearest_neighbors()
    t = time.perf_counter()
    sublattice.refine_atom_positions_using_2d_gaussian(show_progressbar=False)
    t_am = (time.perf_counter() - t) / sub * 1e3
    print(f"atomap {version('atomap')} refine_atom_positions_using_2d_gaussian: "
          f"{t_am:.2f} ms/atom (on {sub} columns, same run) -> napari-tessella is "
          f"{t_am / per:.0f}x faster per atom")


def integration():
    print("\n== Voronoi-cell integration, 400x380 image ==")
    rng = np.random.default_rng(0)
    lat = synthetic_lattice((400, 380), gaussian_noise=0.05, seed=2)
    rr, cc = np.indices(lat.image.shape)
    _, idx = cKDTree(lat.positions).query(np.column_stack([rr.ravel(), cc.ravel()]))
    labels = (idx + 1).reshape(lat.image.shape).astype(np.int32)
    img = lat.image.astype(np.float64) + rng.random(lat.image.shape) * 0

    def loop():  # reference: a per-pixel Python loop, as atomap's integrate does
        out = np.zeros(labels.max())
        for r in range(img.shape[0]):
            for c in range(img.shape[1]):
                lab = labels[r, c]
                if lab:
                    out[lab - 1] += img[r, c]
        return out

    t_loop, ref = timed(loop, repeat=1)
    t_fast, fast = timed(lambda: voronoi_cell_intensity(img, labels), repeat=20)
    assert np.allclose(ref, fast)
    print(f"per-pixel Python loop (reference written here): {t_loop * 1e3:.0f} ms; "
          f"voronoi_cell_intensity: {t_fast * 1e3:.2f} ms -> {t_loop / t_fast:.0f}x faster "
          f"({len(fast)} cells)")
    try:
        import atomap.api as am
    except Exception:
        print("atomap not available: its integrate() not timed")
        return
    try:
        xy = lat.positions[:, ::-1]
        t = time.perf_counter()
        am.integrate(img, xy[:, 0], xy[:, 1], method="Voronoi")
        t_am = time.perf_counter() - t
        print(f"atomap.integrate(method='Voronoi', incl. its own Voronoi map): "
              f"{t_am * 1e3:.0f} ms -> "
              f"{t_am / t_fast:.0f}x slower than voronoi_cell_intensity")
    except Exception as exc:
        print(f"atomap.integrate failed: {type(exc).__name__}: {exc}")


def nbw():
    print("\n== NbW-STEM.png (295x295) ==")
    path = DATA / "NbW-STEM.png"
    if not path.exists():
        print(f"skipped: {path} not found")
        return
    from skimage import io

    img = io.imread(path).astype(np.float64) / 255
    for refine in ("com", "gaussian"):
        t, res = timed(lambda r=refine: find_atoms(img, refine=r), repeat=1)
        d = nearest_neighbor_distances(res.positions)[:, 0]
        q1, med, q3 = np.percentile(d, [25, 50, 75])
        print(f"refine={refine}: {len(res.positions)} columns in {t * 1e3:.0f} ms, "
              f"separation {res.separation:.2f} px, NN distance median {med:.2f} px, "
              f"IQR {q1:.2f}-{q3:.2f} px")
    a = basis_vectors(res.positions)
    print("basis vectors (d_row, d_col) px:",
          "; ".join(f"({v[0]:.2f}, {v[1]:.2f}) |{np.hypot(*v):.2f}|" for v in a),
          f"angle {np.degrees(np.arccos(abs(a[0] @ a[1]) / np.prod(np.hypot(*a.T)))):.1f} deg")
    ch = find_atoms(img, refine="com", dark=True)
    print(f"dark channels (dark=True): {len(ch.positions)}, separation {ch.separation:.2f} px")
    base = blog_recipe(img)
    print(f"blog recipe on the same image: {len(base)} objects")


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")  # hyperspy/atomap import-time deprecation noise
    import logging

    logging.disable(logging.WARNING)
    accuracy()
    throughput()
    integration()
    nbw()
