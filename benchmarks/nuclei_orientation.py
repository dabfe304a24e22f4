"""Benchmark: do the nuclei defaults depend on the image's orientation or on where it starts?

Scores ``seeded_watershed(img).labels`` against the truth transformed the same way, for the
image as given, flipped up-down, left-right, rotated by 180°, transposed, and cropped by one
pixel (first row, first column dropped): on the 48 U2OS images of Coelho et al. 2009 and on
the held-out cell-line fields (``nuclei_cellline.HELDOUT``). Per transform: mean errors per
image and F1; then the spread of each image's errors over the transforms, and how many
label images are not the transform of the image's own labels (as partitions) and by how
many pixels.

Usage::

    python benchmarks/nuclei_orientation.py [--set u2os,cellline,tuned] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from napari_tessella.nuclei._orient import TURNS

TRANSFORMS = {
    **{t: TURNS[t] for t in ("as given", "flipud", "fliplr", "rot180", "transpose")},
    "crop row": lambda a: a[1:],
    "crop col": lambda a: a[:, 1:],
}


def differing_pixels(a, b) -> int:
    """0 if ``a`` and ``b`` are the same partition, else the pixels where they differ: the
    foreground's difference plus, where both are foreground, the pixels of ``b`` not in the
    label of ``a`` they overlap most."""
    out = int(((a > 0) != (b > 0)).sum())
    both = (a > 0) & (b > 0)
    if both.any():
        pairs, counts = np.unique(np.stack([a[both], b[both]]), axis=1, return_counts=True)
        best_a, best_b = {}, {}
        for (i, j), c in zip(pairs.T, counts, strict=True):
            best_a[i] = max(best_a.get(i, 0), c)
            best_b[j] = max(best_b.get(j, 0), c)
        out += int(both.sum()) - min(sum(best_a.values()), sum(best_b.values()))
    return out


def fields(which, limit=None):
    if which == "u2os":
        from coelho2009 import DEFAULT_DATA, _image_paths
        from skimage.io import imread

        for p in _image_paths(DEFAULT_DATA, limit):
            yield "u2os/" + p.stem, imread(p), imread(DEFAULT_DATA / "labels" / p.name)
    else:  # "cellline": the held-out fields; "tuned": the tuning ones
        import nuclei_cellline as cl

        for kind, seeds in (cl.TUNED if which == "tuned" else cl.HELDOUT).items():
            for s in seeds[:limit]:
                img, ref = cl.make(kind, s)
                yield f"{kind}/{s}", img, ref


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="u2os,cellline")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--worst", type=int, default=8, help="list the N largest differences")
    args = p.parse_args(argv)
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    for which in args.set.split(","):
        errors = {t: [] for t in TRANSFORMS}
        f1 = {t: [] for t in TRANSFORMS}
        diffs = []
        for name, img, ref in fields(which, args.limit):
            own = None
            for t, f in TRANSFORMS.items():
                lab = seeded_watershed(np.ascontiguousarray(f(img))).labels
                s = score_segmentation(lab, np.ascontiguousarray(f(ref)))
                errors[t].append(s["errors"])
                f1[t].append(s["f1"])
                if own is None:
                    own = lab
                else:
                    diffs.append((differing_pixels(f(own), lab), name, t, s["errors"]
                                  - errors["as given"][-1]))
        e = np.array([errors[t] for t in TRANSFORMS])
        print(f"{which}: {e.shape[1]} images; errors/img and F1 per transform")
        for t in TRANSFORMS:
            print(f"  {t:<10} {np.mean(errors[t]):6.3f}  F1 {np.mean(f1[t]):.4f}")
        means = e.mean(axis=1)
        print(f"  spread of the mean over transforms: {means.min():.3f}..{means.max():.3f}"
              f" (sd {means.std():.3f}); images whose errors change: "
              f"{int((e.max(axis=0) != e.min(axis=0)).sum())}, mean per-image range "
              f"{(e.max(axis=0) - e.min(axis=0)).mean():.3f}")
        n_bad = sum(d[0] > 0 for d in diffs)
        print(f"  not the transform of the own labels: {n_bad}/{len(diffs)}, "
              f"{sum(d[0] for d in diffs)} px in all")
        for d, name, t, de in sorted(diffs, reverse=True)[:args.worst]:
            print(f"    {name:<22} {t:<10} {d:7d} px  errors {de:+d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
