"""Benchmark: the U2OS images of Coelho et al. 2009 at other pixel sizes, hand labels kept.

Another microscope, objective or camera binning shows the same nuclei with fewer or more
pixels across. Every third image (16 of 48) is rescaled by each factor of ``SCALES``
(bilinear, anti-aliased when reduced; its hand labels by nearest neighbour) and segmented
with the defaults, which estimate the nuclei's diameter themselves. Reports, per scale,
the errors per image as in ``benchmarks/coelho2009.py``, F1@0.5, mean IoU and the
diameter estimate divided by the scale (the full-resolution diameter it stands for; one
estimate that does not depend on the pixel size gives the same figure at every scale).

Usage::

    python benchmarks/nuclei_scales.py [--against SRC] [--scales 0.25,0.5] [--data DIR]

``--against SRC`` scores the same images with the package found in ``SRC`` too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _against import score_both

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "coelho2009_u2os"
SCALES = (0.25, 0.33, 0.5, 0.75, 1.0)


def fields(data: Path, scales=SCALES) -> dict:
    """``image|S NAME`` and ``truth|S NAME`` arrays for each scale S and image NAME."""
    from skimage.io import imread
    from skimage.transform import rescale

    paths = sorted((data / "images").glob("dna-*.png"),
                   key=lambda p: int(re.findall(r"\d+", p.stem)[0]))[::3]
    out = {}
    for path in paths:
        img = imread(path).astype(np.float64)
        ref = imread(data / "labels" / path.name)
        for s in scales:
            key = f"{s:g} {path.stem}"
            if s == 1:
                out["image|" + key], out["truth|" + key] = img, ref
                continue
            out["image|" + key] = rescale(img, s, order=1, anti_aliasing=s < 1)
            out["truth|" + key] = rescale(ref, s, order=0, anti_aliasing=False,
                                          preserve_range=True).astype(np.int32)
    return out


def score(path) -> dict:
    """scale -> mean score (and the diameter estimate / scale) with this package."""
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    data = np.load(path)
    rows = {}
    for key in data.files:
        if not key.startswith("image|"):
            continue
        name = key[len("image|"):]
        s = float(name.split()[0])
        res = seeded_watershed(data[key])
        m = score_segmentation(res.labels, data["truth|" + name])
        m["diameter"] = res.object_diameter / s
        rows.setdefault(f"{s:g}", []).append(m)
    return {s: {k: float(np.mean([r[k] for r in ms])) for k in ms[0]} for s, ms in rows.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--scales", default=None, help="comma-separated scales")
    p.add_argument("--against", default=None, help="another package's src to compare")
    p.add_argument("--score", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    if args.score:
        print(json.dumps(score(args.score)))
        return 0
    if not (args.data / "images").exists():
        print(f"no images found in {args.data / 'images'}", file=sys.stderr)
        return 1
    scales = SCALES if args.scales is None else tuple(float(x) for x in args.scales.split(","))
    ours, other = score_both(fields(args.data, scales), __file__, score, args.against)
    print("U2OS every third image, rescaled; errors/img (split/merged/spurious/missing), "
          "F1@0.5, mean IoU, diameter estimate / scale")

    def line(m):
        return (f"{m['errors']:5.2f} ({m['split']:.2f}/{m['merged']:.2f}/{m['spurious']:.2f}/"
                f"{m['missing']:.2f}) F1 {m['f1']:.3f} IoU {m['mean_iou']:.3f} "
                f"d {m['diameter']:5.1f}")

    for s, m in ours.items():
        text = f"scale {s:<5} " + ("against " + line(other[s]) + " | this " if other else "")
        print(text + line(m), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
