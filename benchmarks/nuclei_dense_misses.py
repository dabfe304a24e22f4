"""Where the unmatched nuclei of the dense fields are (issue 14, round 25).

Every true nucleus that no label matches at IoU >= 0.5 is put in one class by the labels
that hold at least 15 % of it:

- ``in merged``: one of them holds at least half of two true nuclei or more;
- ``straddled``: else one of them is mostly (20 % or more) on other nuclei or background;
- ``fragments``: else only labels lying at least 80 % inside it (a split nucleus);
- ``background``: no label holds 15 % of it.

Also printed: the matched nuclei's mean IoU and median area ours / truth.

Usage::

    python benchmarks/nuclei_dense_misses.py [--psf X] [--tuning]   # challenge-like fields
    python benchmarks/nuclei_dense_misses.py --blur B                # nuclei_dense_blur.py
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLASSES = ("matched", "in merged", "straddled", "fragments", "background")


def classes(pred, truth):
    """Counter of the classes above over the true nuclei, and the matched nuclei's IoU
    and area ratios (lists)."""
    from napari_tessella.scoring import _overlap_table

    table = _overlap_table(pred, truth)
    area_p, area_t = table.sum(1), table.sum(0)
    inter = table[1:, 1:].astype(float)
    iou = inter / np.maximum(area_p[1:, None] + area_t[None, 1:] - inter, 1)
    share = inter / np.maximum(area_t[None, 1:], 1)  # of each true nucleus, per label
    purity = inter / np.maximum(area_p[1:, None], 1)  # of each label, per true nucleus
    merged = (share >= 0.5).sum(axis=1) >= 2
    count, ious, ratios = collections.Counter(), [], []
    for t in np.flatnonzero(area_t[1:]):
        best = int(iou[:, t].argmax()) if iou.shape[0] else -1
        if best >= 0 and iou[best, t] >= 0.5:
            count["matched"] += 1
            ious.append(iou[best, t])
            ratios.append(area_p[best + 1] / area_t[t + 1])
            continue
        held = np.flatnonzero(share[:, t] >= 0.15)
        if merged[held].any():
            count["in merged"] += 1
        elif (purity[held, t] < 0.8).any():
            count["straddled"] += 1
        elif held.size:
            count["fragments"] += 1
        else:
            count["background"] += 1
    return count, ious, ratios


def run(fields):
    from napari_tessella.nuclei import seeded_watershed

    total, ious, ratios = collections.Counter(), [], []
    for image, truth in fields:
        c, i, r = classes(seeded_watershed(image).labels, truth)
        total.update(c)
        ious += i
        ratios += r
    n = len(fields)
    print("per field: " + ", ".join(f"{k} {total[k] / n:.2f}" for k in CLASSES)
          + f"; matched mean IoU {np.mean(ious):.3f}, median area ours / truth "
          f"{np.median(ratios):.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--blur" in args:
        from nuclei_dense_blur import SEEDS as BLUR_SEEDS
        from nuclei_dense_blur import conditions

        blur = float(args[args.index("--blur") + 1])
        made = conditions(blur=(blur,)).values()
        run([(nuc.image, nuc.labels) for make in made for nuc in map(make, BLUR_SEEDS)])
    else:
        from nuclei_dense_heldout import SEEDS, TUNING, challenge_field

        psf = float(args[args.index("--psf") + 1]) if "--psf" in args else 1.0
        run([challenge_field(s, psf=psf) for s in (TUNING if "--tuning" in args else SEEDS)])
    sys.exit(0)
