"""Benchmark: the U2OS images of Coelho et al. 2009 made harder, their hand labels kept.

Every third image (16 of 48) is scored as it is and with each of these changes (issue 14:
the conditions of other cell lines, on real nuclei):

- ``ramp``: an additive linear ramp across the field of 1.0x the median nuclear contrast;
- ``foci``: five bright foci (radius 0.1 of the nucleus's equivalent diameter, 2.5x its
  median contrast over the background) in every hand-labelled nucleus;
- ``halo``: the two largest nuclei saturated (the image's maximum) with an out-of-focus glow
  (Gaussian of 0.6 of their diameter, peak 1.5x the median nuclear contrast);
- ``all``: the three together.

Usage::

    python benchmarks/coelho2009_augmented.py [--data DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "coelho2009_u2os"


def augment(img, ref, kind: str, seed: int = 0) -> np.ndarray:
    """``img`` (float) with the change ``kind``; ``ref`` (hand labels) stays the truth."""
    rng = np.random.default_rng(seed)
    img = np.asarray(img, dtype=np.float64)
    bg = float(np.median(img[ref == 0]))
    contrast = float(np.median(img[ref > 0])) - bg
    out = img.copy()
    ids = np.unique(ref[ref > 0])
    area = np.bincount(ref.ravel())
    if kind in ("foci", "all"):
        spots = np.zeros_like(out)
        rr, cc = np.indices(out.shape)
        for i in ids:
            pix = np.flatnonzero(ref.ravel() == i)
            own = float(np.median(img.ravel()[pix])) - bg
            rad = max(1.5, 0.1 * 2 * np.sqrt(area[i] / np.pi))
            for k in rng.choice(pix, size=min(5, pix.size), replace=False):
                r0, c0 = divmod(int(k), out.shape[1])
                sl = (slice(max(0, int(r0 - rad - 1)), int(r0 + rad + 2)),
                      slice(max(0, int(c0 - rad - 1)), int(c0 + rad + 2)))
                disc = (rr[sl] - r0) ** 2 + (cc[sl] - c0) ** 2 <= rad * rad
                spots[sl][disc & (ref[sl] == i)] = 1.5 * own  # 2.5x with the nucleus
        out += ndi.gaussian_filter(spots, 1.0)
    if kind in ("halo", "all"):
        big = ids[np.argsort(area[ids])[-2:]]
        top = float(img.max())
        glow = np.zeros_like(out)
        for i in big:
            m = ref == i
            out[m] = top
            d = 2 * np.sqrt(area[i] / np.pi)
            g = ndi.gaussian_filter(m.astype(float), 0.6 * d)
            glow = np.maximum(glow, g / max(g.max(), 1e-12))
        out += 1.5 * contrast * glow
        out = np.minimum(out, top)
    if kind in ("ramp", "all"):
        out += np.linspace(0, 1, out.shape[1])[None, :] * contrast
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    from skimage.io import imread

    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    images = sorted((args.data / "images").glob("dna-*.png"),
                    key=lambda p: int(re.findall(r"\d+", p.stem)[0]))[::3]
    if not images:
        print(f"no images found in {args.data / 'images'}", file=sys.stderr)
        return 1
    pairs = [(imread(p), imread(args.data / "labels" / p.name)) for p in images]
    print(f"Coelho 2009 U2OS, {len(pairs)} images (every third), augmented; labels kept")
    print(f"{'change':<8}{'split':>7}{'merged':>8}{'spurious':>9}{'missing':>8}"
          f"{'err/img':>9}{'meanIoU':>9}{'F1@0.5':>8}")
    for kind in ("none", "ramp", "foci", "halo", "all"):
        scores = []
        for k, (img, ref) in enumerate(pairs):
            aug = img if kind == "none" else augment(img, ref, kind, seed=k)
            scores.append(score_segmentation(seeded_watershed(aug).labels, ref))
        m = {key: float(np.mean([s[key] for s in scores])) for key in scores[0]}
        print(f"{kind:<8}{m['split']:>7.2f}{m['merged']:>8.2f}{m['spurious']:>9.2f}"
              f"{m['missing']:>8.2f}{m['errors']:>9.2f}{m['mean_iou']:>9.3f}{m['f1']:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
