"""Held-out, challenge-like dense fields of small nuclei (issue 14, round 10).

Written before any change of round 10, its seeds fixed then, run only at the start
(baseline) and at the end: never tuned on. A generator of its own (not
``synthetic_nuclei``), meant to look like the fluorescence fields of public nucleus-
segmentation challenges:

- ~125 nuclei of 14-26 px (each drawn on its own), 256² field, touching and slightly
  overlapping (centres at least 0.7-0.85 of the sum of the two radii apart);
- elliptical, aspect 1-1.8, the outline wavy by a few per cent;
- brightness spread 0.3-1 between nuclei, a soft dome (the level falls by 10-60 % from
  the centre to the rim) with a faint texture; where two overlap their light adds;
- optics: a Gaussian PSF of sigma 1-2 px; a dark background with a faint glow;
- camera: Poisson noise (the brightest nucleus collects 150-2000 photons) plus read
  noise, 8-bit (scaled, clipped near the top) or 16-bit (12-bit counts with an offset);
- truth drawn tight: each nucleus's extent before the blur (where two overlap the pixel
  goes to the nucleus whose core is nearer), as an annotator outlines it.

Reported per field: errors, F1 at IoU 0.5, mean IoU, the error classes, and the median
area ratio ours / truth of the matched nuclei (IoU >= 0.5).

Usage::

    python benchmarks/nuclei_dense_heldout.py [--psf X] [--tuning | --fresh ROUND]

``--psf X`` widens the PSF X times (round 14: 2, sigma 0.1-0.2 d, the blurred dense fields
whose nuclei were dropped as glows); ``--tuning`` scores the tuning seeds 111-116 of round
13 instead of the held-out ones; ``--fresh 31`` the seeds 131-136, fixed before round 31
changed anything and run only at its end (the held-out ones had been seen by then), and
``--fresh 33``, ``--fresh 35``, ``--fresh 36``, ``--fresh 37``, ``--fresh 38``,
``--fresh 39``, ``--fresh 40``, ``--fresh 41``, ``--fresh 42``,
``--fresh 43``, ``--fresh 44``, ``--fresh 45``, ``--fresh 46``,
``--fresh 47``, ``--fresh 48``, ``--fresh 49``, ``--fresh 50``,
``--fresh 51``, ``--fresh 52``, ``--fresh 53``, ``--fresh 54``,
``--fresh 55``, ``--fresh 56``, ``--fresh 57``, ``--fresh 58``,
``--fresh 59`` those of later
rounds (``FRESH``).
"""

from __future__ import annotations

import sys

import numpy as np
from scipy import ndimage as ndi

SEEDS = (101, 102, 103, 104, 105, 106)  # fixed before round 10 changed anything
TUNING = (111, 112, 113, 114, 115, 116)  # round 13's tuning seeds
FRESH31 = (131, 132, 133, 134, 135, 136)  # fixed before round 31 changed anything; its end only
FRESH33 = (151, 152, 153, 154, 155, 156)  # fixed before round 33 changed anything; its end only
FRESH35 = (1151, 1152, 1153, 1154, 1155, 1156)  # fixed before round 35's results; its end only
FRESH36 = (1251, 1252, 1253, 1254, 1255, 1256)  # fixed before round 36's results; its end only
FRESH37 = (1551, 1552, 1553, 1554, 1555, 1556)  # fixed before round 37's results; its end only
FRESH38 = (1851, 1852, 1853, 1854, 1855, 1856)  # fixed before round 38's results; its end only
FRESH39 = (2251, 2252, 2253, 2254, 2255, 2256)  # fixed before round 39's results; its end only
FRESH40 = (2651, 2652, 2653, 2654, 2655, 2656)  # fixed before round 40's results; its end only
FRESH41 = (3051, 3052, 3053, 3054, 3055, 3056)  # fixed before round 41's results; its end only
FRESH42 = (3551, 3552, 3553, 3554, 3555, 3556)  # fixed before round 42's results; its end only
FRESH43 = (4051, 4052, 4053, 4054, 4055, 4056)  # fixed before round 43's results; its end only
FRESH44 = (5551, 5552, 5553, 5554, 5555, 5556)  # fixed before round 44's results; its end only
FRESH45 = (6551, 6552, 6553, 6554, 6555, 6556)  # fixed before round 45's results; its end only
FRESH46 = (7551, 7552, 7553, 7554, 7555, 7556)  # fixed before round 46's results; its end only
FRESH47 = (8551, 8552, 8553, 8554, 8555, 8556)  # fixed before round 47's results; its end only
FRESH48 = (9551, 9552, 9553, 9554, 9555, 9556)  # fixed before round 48's results; its end only
FRESH49 = (10551, 10552, 10553, 10554, 10555, 10556)  # fixed before round 49's results
FRESH50 = (11551, 11552, 11553, 11554, 11555, 11556)  # fixed before round 50's results
FRESH51 = (12551, 12552, 12553, 12554, 12555, 12556)  # fixed before round 51's results
FRESH52 = (13551, 13552, 13553, 13554, 13555, 13556)  # fixed before round 52's results
FRESH53 = (14551, 14552, 14553, 14554, 14555, 14556)  # fixed before round 53's results
FRESH54 = (15551, 15552, 15553, 15554, 15555, 15556)  # fixed before round 54's results
FRESH55 = (16551, 16552, 16553, 16554, 16555, 16556)  # fixed before round 55's results
FRESH56 = (17551, 17552, 17553, 17554, 17555, 17556)  # fixed before round 56's results
FRESH57 = (18551, 18552, 18553, 18554, 18555, 18556)  # fixed before round 57's results
FRESH58 = (19551, 19552, 19553, 19554, 19555, 19556)  # fixed before round 58's results
FRESH59 = (20551, 20552, 20553, 20554, 20555, 20556)  # fixed before round 59's results
FRESH = {31: FRESH31, 33: FRESH33, 35: FRESH35, 36: FRESH36,  # ``--fresh ROUND`` (``--fresh31``)
         37: FRESH37, 38: FRESH38, 39: FRESH39, 40: FRESH40,
         41: FRESH41, 42: FRESH42, 43: FRESH43,
         44: FRESH44, 45: FRESH45, 46: FRESH46, 47: FRESH47,
         48: FRESH48, 49: FRESH49, 50: FRESH50,
         51: FRESH51, 52: FRESH52, 53: FRESH53, 54: FRESH54,
         55: FRESH55, 56: FRESH56, 57: FRESH57,
         58: FRESH58, 59: FRESH59}


def challenge_field(seed, side=256, n=125, psf=1.0):
    """(image, truth) of one challenge-like dense field; even seeds 8-bit, odd 16-bit.

    ``psf`` widens the PSF (sigma 1-2 px times ``psf``); 1 draws the fields as before."""
    rng = np.random.default_rng([seed, 10])
    rr, cc = np.indices((side, side), dtype=np.float64)
    pack = rng.uniform(0.7, 0.85)
    centres, radii = [], []
    for _ in range(n * 400):
        if len(centres) == n:
            break
        r = rng.uniform(7, 13)
        c = rng.uniform(0, side, 2)
        if all(np.hypot(*(c - p)) >= pack * (r + q) for p, q in zip(centres, radii, strict=True)):
            centres.append(c)
            radii.append(r)
    truth = np.zeros((side, side), np.int32)
    best = np.full((side, side), np.inf)
    light = np.zeros((side, side))
    tex = ndi.gaussian_filter(rng.normal(0, 1, (side, side)), 1.5)
    tex *= 0.06 / max(float(tex.std()), 1e-12)
    for i, ((r0, c0), r) in enumerate(zip(centres, radii, strict=True), start=1):
        k = np.sqrt(rng.uniform(1, 1.8))
        a, b = r * k, r / k
        theta = rng.uniform(0, np.pi)
        box = (slice(max(0, int(r0 - a - 3)), int(r0 + a + 4)),
               slice(max(0, int(c0 - a - 3)), int(c0 + a + 4)))
        dr, dc = rr[box] - r0, cc[box] - c0
        u = dr * np.cos(theta) + dc * np.sin(theta)
        v = -dr * np.sin(theta) + dc * np.cos(theta)
        phi = np.arctan2(v, u)
        wave = 1 + sum(rng.uniform(0, 0.04) * np.cos(h * phi + rng.uniform(0, 2 * np.pi))
                       for h in (2, 3, 5))
        q = ((u / a) ** 2 + (v / b) ** 2) / wave ** 2
        inside = q <= 1
        nearer = inside & (q < best[box])
        truth[box][nearer] = i
        best[box][nearer] = q[nearer]
        dome = rng.uniform(0.1, 0.6)
        level = rng.uniform(0.3, 1.0)
        body = level * (1 - dome + dome * np.sqrt(np.clip(1 - q, 0, 1)))
        light[box] += np.where(inside, body, 0.0)
    light *= 1 + tex
    light = ndi.gaussian_filter(light, psf * rng.uniform(1.0, 2.0))
    glow = ndi.gaussian_filter(rng.normal(0, 1, (side, side)), side / 6)
    glow = 0.02 * (glow - glow.min()) / max(float(np.ptp(glow)), 1e-12)
    photons = np.exp(rng.uniform(np.log(150), np.log(2000)))
    counts = rng.poisson((light + 0.02 + glow) * photons).astype(np.float64)
    counts += rng.normal(0, rng.uniform(1, 4), counts.shape)
    if seed % 2 == 0:  # 8 bit, scaled so the brightest nuclei sit near the top
        image = np.clip(np.round(counts * 255 / (1.1 * photons)), 0, 255).astype(np.uint8)
    else:  # 16 bit: 12-bit counts with a camera offset
        gain = min(1.0, 3000 / photons) * rng.uniform(0.5, 1.0)
        image = np.clip(np.round(100 + counts * gain), 0, 4095).astype(np.uint16)
    return image, truth


def area_ratio(pred, truth):
    """Median area ours / truth over the nuclei matched one to one at IoU >= 0.5."""
    both = (pred > 0) & (truth > 0)
    pairs, counts = np.unique(np.stack([pred[both], truth[both]]), axis=1,
                              return_counts=True)
    pa = np.bincount(pred.ravel())
    ta = np.bincount(truth.ravel())
    iou = counts / (pa[pairs[0]] + ta[pairs[1]] - counts)
    good = iou >= 0.5
    r = pa[pairs[0][good]] / ta[pairs[1][good]]
    return float(np.median(r)) if r.size else float("nan")


def run(seeds=SEEDS, psf=1.0):
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    print(f"{'seed':<6}{'bits':>5}{'n':>5}{'err':>5}{'F1':>7}{'IoU':>7}  "
          f"split/merged/spurious/missing  area ours/truth")
    rows = []
    for s in seeds:
        image, truth = challenge_field(s, psf=psf)
        labels = seeded_watershed(image).labels
        m = score_segmentation(labels, truth)
        m["area"] = area_ratio(labels, truth)
        rows.append(m)
        print(f"{s:<6}{image.dtype.itemsize * 8:>5}{m['n_ref']:>5}{m['errors']:>5}"
              f"{m['f1']:7.3f}{m['mean_iou']:7.3f}  {m['split']}/{m['merged']}/"
              f"{m['spurious']}/{m['missing']}  {m['area']:.3f}", flush=True)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    print(f"mean: errors {mean['errors']:.2f}, F1 {mean['f1']:.3f}, mean IoU "
          f"{mean['mean_iou']:.3f}, split/merged/spurious/missing {mean['split']:.1f}/"
          f"{mean['merged']:.1f}/{mean['spurious']:.1f}/{mean['missing']:.1f}, "
          f"area ratio {mean['area']:.3f}")


if __name__ == "__main__":
    args = sys.argv[1:]
    rounds = [int(a[7:]) for a in args if a.startswith("--fresh") and a[7:].isdigit()]
    if "--fresh" in args:  # --fresh 35, or the older spelling --fresh31
        rounds.append(int(args[args.index("--fresh") + 1]))
    run(TUNING if "--tuning" in args else FRESH[rounds[-1]] if rounds else SEEDS,
        float(args[args.index("--psf") + 1]) if "--psf" in args else 1.0)
    sys.exit(0)
