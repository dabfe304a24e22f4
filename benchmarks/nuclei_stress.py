"""Benchmark: the nuclei defaults under conditions a new user's images have (issue 14).

Synthetic fields (``synthetic_nuclei``, seeds 0-2; mean errors per image, F1 at IoU 0.5,
mean IoU, the diameter estimate over the truth's): nucleus diameters of 10-80 px at one
density, dense fields of touching nuclei (with a darker seam, without one, dome-shaped),
dim nuclei 1.3-2x above the background beside saturated cells, 8- and 12-bit images,
Poisson noise of 20-50 photons, strong vignetting with a ramp, and a few nuclei in a large
image. Then U2OS (Coelho et al. 2009) as it is and made harder, its hand labels kept:
every third image with a ramp, foci, a glow (``coelho2009_augmented``), reduced 5x or
6.7x (nuclei of ~18 and ~13 px), at ~30 photons, quantised to 40 grey levels, vignetted,
with a glow in 8 bits; process CPU seconds per image alongside.

Usage::

    python benchmarks/nuclei_stress.py [synthetic] [u2os] [--data DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "coelho2009_u2os"
sys.path.insert(0, str(ROOT / "benchmarks"))


def vignette(img, fall):
    """Illumination falling by ``fall`` in the corners (quadratic in the radius)."""
    r, c = np.indices(img.shape, dtype=float)
    rad = np.hypot((r - img.shape[0] / 2) / (img.shape[0] / 2),
                   (c - img.shape[1] / 2) / (img.shape[1] / 2)) / np.sqrt(2)
    return img * (1 - fall * rad ** 2)


def poisson(img, peak, bg=0.0, seed=0):
    """Photon counts: the 99.5th percentile of ``img`` collects ``peak``, plus ``bg``."""
    lam = np.clip(img, 0, None) / max(float(np.percentile(img, 99.5)), 1e-9) * peak + bg
    return np.random.default_rng(seed).poisson(lam).astype(np.float32)


def to_bits(img, bits=8):
    """The image scaled to the full range of ``bits`` bits (uint8 or uint16)."""
    lo, hi = float(img.min()), float(img.max())
    dtype = np.uint8 if bits <= 8 else np.uint16
    return np.round((img - lo) / (hi - lo) * (2 ** bits - 1)).astype(dtype)


def _sized(d, seed, **kw):
    """A field of nuclei of diameter ``d`` at the density of the default 512² field."""
    from napari_tessella.synthetic import synthetic_nuclei

    side = int(min(1024, max(192, round(512 * d / 30))))
    n = round(40 * (side / 512) ** 2 * (30 / d) ** 2)
    return synthetic_nuclei((side, side), n_nuclei=n, diameter=d, seed=seed, **kw)


def _dense(seed, **kw):
    from napari_tessella.synthetic import synthetic_nuclei

    args = dict(shape=(256, 256), n_nuclei=125, diameter=20, brightness_range=(0.4, 1.0),
                min_separation=0.75, seed=seed)
    return synthetic_nuclei(**{**args, **kw})


def conditions():
    """name -> (make(seed) -> SyntheticNuclei, image transform or None)."""
    from napari_tessella.synthetic import synthetic_nuclei as sn

    dim_sat = dict(brightness_range=(0.3, 1.0), background=1.0, saturated=3)
    c = {f"size d={d}": ((lambda s, d=d: _sized(d, s)), None) for d in (10, 15, 20, 30, 40, 80)}
    for name, kw in (("dense d20 seam .3", dict(seam=0.3)), ("dense d20 no seam", {}),
                     ("dense d14 seam .3", dict(seam=0.3, shape=(180, 180), diameter=14)),
                     ("dense d10 seam .3", dict(seam=0.3, shape=(128, 128), diameter=10)),
                     ("dense d20 dome .3", dict(dome=0.3)), ("dense d20 dome .5", dict(dome=0.5)),
                     ("dense dome .3 b .7-1", dict(dome=0.3, brightness_range=(0.7, 1.0))),
                     ("dense d14 dome .3", dict(dome=0.3, shape=(180, 180), diameter=14)),
                     ("dense dome .3 30 ph", dict(dome=0.3, photons=30, background=0.3))):
        c[name] = ((lambda s, kw=kw: _dense(s, **kw)), None)
    c.update({
        "dim 1.3-2x + saturated": ((lambda s: sn(seed=s, **dim_sat)), None),
        "dim 1.3-1.6x": ((lambda s: sn(seed=s, brightness_range=(0.3, 0.6), background=1.0)),
                         None),
        "dim + saturated 8 bit": ((lambda s: sn(seed=s, **dim_sat)), to_bits),
        "dim + saturated 12 bit": ((lambda s: sn(seed=s, **dim_sat)),
                                   lambda im: to_bits(im, 12)),
        "dim + saturated 40 ph": ((lambda s: sn(seed=s, photons=40, **dim_sat)), None),
        "plain 8 bit": ((lambda s: sn(seed=s)), to_bits),
        "Poisson peak 50": ((lambda s: sn(seed=s, noise=0)), lambda im: poisson(im, 50, 5)),
        "Poisson peak 20": ((lambda s: sn(seed=s, noise=0)), lambda im: poisson(im, 20, 3)),
        "Poisson peak 20 d15": ((lambda s: _sized(15, s, noise=0)),
                                lambda im: poisson(im, 20, 3)),
        "vignette 70 %": ((lambda s: sn(seed=s)), lambda im: vignette(im + 0.3, 0.7)),
        "vignette 70 % + ramp": ((lambda s: sn(seed=s, ramp=0.6, background=0.3)),
                                 lambda im: vignette(im, 0.7)),
        "few: 3 in 512²": ((lambda s: sn(seed=s, n_nuclei=3)), None),
        "few: 1 in 512²": ((lambda s: sn(seed=s, n_nuclei=1)), None),
        "few: 5 of 15 px in 1024²": ((lambda s: sn((1024, 1024), seed=s, n_nuclei=5,
                                                   diameter=15)), None),
        "few: 2 of 30 px in 1024²": ((lambda s: sn((1024, 1024), seed=s, n_nuclei=2)), None),
        "few: 1 of 15 px in 512²": ((lambda s: sn(seed=s, n_nuclei=1, diameter=15)), None),
        "few: 3 of 15 px, 30 ph": ((lambda s: sn((1024, 1024), seed=s, n_nuclei=3,
                                                 diameter=15, photons=30, background=0.2)),
                                   None),
        "textured": ((lambda s: sn(seed=s, brightness_range=(0.3, 1.0), chromocenters=6)),
                     None),
        "textured d15": ((lambda s: _sized(15, s, brightness_range=(0.3, 1.0),
                                           chromocenters=6)), None),
    })
    hard = dict(brightness_range=(0.5, 1.0), chromocenters=5, background=1.0, saturated=2,
                debris=16, ramp=0.5)
    c["combined"] = ((lambda s: sn(seed=s, **hard)), None)
    c["combined d15, 40 ph"] = ((lambda s: _sized(15, s, photons=40, **hard)), None)
    c["combined d15, ~5 ph dim"] = ((lambda s: _sized(15, s, noise=0, **hard)),
                                    lambda im: poisson(im, 40, 0))
    return c


def run_synthetic(seeds=(0, 1, 2)):
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    print(f"{'synthetic field':<26}{'err/img':>8}{'F1':>7}{'IoU':>7}  split/merged/spurious/"
          f"missing  d est/true")
    for name, (make, post) in conditions().items():
        scores, ratio = [], []
        for s in seeds:
            nuc = make(s)
            img = nuc.image if post is None else post(nuc.image)
            result = seeded_watershed(img)
            scores.append(score_segmentation(result.labels, nuc.labels))
            ratio.append(result.object_diameter / nuc.diameter)
        m = {k: float(np.mean([x[k] for x in scores])) for k in scores[0]}
        print(f"{name:<26}{m['errors']:8.2f}{m['f1']:7.3f}{m['mean_iou']:7.3f}  "
              f"{m['split']:.1f}/{m['merged']:.1f}/{m['spurious']:.1f}/{m['missing']:.1f}  "
              f"{' '.join(f'{r:.2f}' for r in ratio)}", flush=True)


def _u2os_image(kind, img, ref, k):
    from coelho2009_augmented import augment

    if kind in ("ramp", "foci", "halo", "all"):
        return augment(img, ref, kind, seed=k), ref
    if kind.startswith("zoom"):
        f = float(kind[4:])
        return ndi.zoom(img.astype(float), f, order=1), ndi.zoom(ref, f, order=0)
    transform = {
        "30 photons": lambda: poisson(img.astype(float) - np.percentile(img, 1), 30, 3, k),
        "40 grey levels": lambda: np.round(img.astype(float) / img.max() * 40).astype(np.uint8),
        "vignette": lambda: vignette(img.astype(float), 0.7),
        "halo 8 bit": lambda: to_bits(augment(img, ref, "halo", seed=k)),
    }
    return (img if kind in ("all 48", "every 3rd") else transform[kind]()), ref


def run_u2os(data: Path):
    from skimage.io import imread

    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    paths = sorted((data / "images").glob("dna-*.png"),
                   key=lambda p: int(re.findall(r"\d+", p.stem)[0]))
    pairs = [(imread(p), imread(data / "labels" / p.name)) for p in paths]
    print(f"{'U2OS':<26}{'err/img':>8}{'F1':>7}{'IoU':>7}  split/merged/spurious/missing  "
          f"CPU s/img")
    for kind in ("all 48", "every 3rd", "ramp", "foci", "halo", "all", "zoom0.2", "zoom0.15",
                 "30 photons", "40 grey levels", "vignette", "halo 8 bit"):
        scores, cpu = [], 0.0
        for k, (img, ref) in enumerate(pairs if kind == "all 48" else pairs[::3]):
            x, truth = _u2os_image(kind, img, ref, k)
            t0 = time.process_time()
            labels = seeded_watershed(x).labels
            cpu += time.process_time() - t0
            scores.append(score_segmentation(labels, truth))
        m = {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}
        print(f"{kind:<26}{m['errors']:8.2f}{m['f1']:7.4f}{m['mean_iou']:7.3f}  "
              f"{m['split']:.2f}/{m['merged']:.2f}/{m['spurious']:.2f}/{m['missing']:.2f}  "
              f"{cpu / len(scores):.3f}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["synthetic", "u2os"])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    if "synthetic" in args.parts:
        run_synthetic()
    if "u2os" in args.parts:
        if not (args.data / "images").is_dir():
            print(f"no U2OS images in {args.data}", file=sys.stderr)
            return 1
        run_u2os(args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
