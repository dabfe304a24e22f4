"""Benchmark: held-out cell-line fields with their truth (issue 14), main vs this branch.

Fields of the kind a user with another cell line brings, drawn here with their truth labels
(:func:`cellline_field`), none of them a case of ``synthetic_nuclei``:

- nuclei are *wavy* ellipses (their outline modulated by harmonics 2-5), flat, with a
  textured nucleoplasm and 5-15 chromocenters 2-4x brighter than the nucleus's body;
- mitotic/apoptotic cells (condensed, 0.5-0.7 d) 10-60x brighter than an ordinary nucleus,
  with a long out-of-focus glow (Gaussian of 1-2 d, 5-10 % of their level); they are nuclei
  of the truth (their condensed extent);
- dim nuclei only 1.5-2x above the local background, placed 1-2 d from those cells;
- glare streaks (lines 2-5 d long) and debris specks outside the nuclei;
- vignetting (multiplicative, 30-45 % darker at the corners) and a ramp in the background;
- a 12-bit camera: Poisson noise on the counts, Gaussian read noise, clipped at 4095.

Kinds: ``fibroblast`` (40-px flat textured nuclei, the full mix), ``halo`` (bright cells
with long glows among ordinary nuclei), ``dim`` (many dim nuclei beside saturated cells),
``u2os-like`` (the real U2OS images with 5-15 foci per hand-labelled nucleus, two nuclei
saturated with a glow, a ramp and vignetting; the hand labels are the truth), and two kinds
held out entirely: ``fibroblast d74`` (larger, elongated nuclei), ``mixed d28`` (smaller
nuclei, denser, everything at once) and ``uneven d32`` (round 10, :func:`uneven_field`:
illumination 2-3x uneven, dim nuclei 1.3-2x, out-of-focus nuclei, debris at the border)
and ``elongated`` (round 11, :func:`elongated_field`: fibroblast-like nuclei of aspect
1.5-3 in every orientation, d 24-60 per field).
TUNED seeds were the only ones looked at while the defaults were changed; the HELD-OUT
seeds and kinds were written before and run at the end.

Errors per image are counted as in ``benchmarks/coelho2009.py``
(:func:`napari_tessella.nuclei.score_segmentation`: split, merged, spurious, missing).

Usage::

    python benchmarks/nuclei_cellline.py [--heldout | --round13 | --fresh ROUND] [--against SRC]
                                         [--kinds a,b]

``--against SRC`` scores the same fields with the package found in ``SRC`` too (e.g. main's
``src``, in a subprocess) and prints both side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
U2OS = ROOT.parent / "shared" / "data" / "coelho2009_u2os"

#: kind -> (nuclei diameter, field side, ordinary nuclei, dim nuclei, bright cells, aspect)
KINDS = {
    "fibroblast": (40, 480, 26, 6, 2, 1.4),
    "halo": (40, 480, 24, 2, 4, 1.3),
    "dim": (36, 448, 16, 14, 3, 1.3),
    "fibroblast d74": (74, 864, 22, 5, 2, 1.8),
    "mixed d28": (28, 384, 40, 10, 4, 1.5),
}
TUNED = {"fibroblast": (0, 1, 2), "halo": (0, 1, 2), "dim": (0, 1, 2),
         "u2os-like": (0, 1, 2)}
HELDOUT = {"fibroblast": (10, 11, 12, 13), "halo": (10, 11, 12, 13),
           "dim": (10, 11, 12, 13), "u2os-like": (10, 11, 12, 13),
           "fibroblast d74": (10, 11, 12), "mixed d28": (10, 11, 12, 13),
           "uneven d32": (10, 11, 12, 13), "elongated": (20, 21, 22, 23)}
#: round 31's fresh held-out seeds, written down before round 31 changed anything and run
#: only at its end: the HELDOUT seeds above had been looked at by then, round after round
FRESH31 = {"fibroblast": (50, 51, 52, 53), "halo": (50, 51, 52, 53),
           "dim": (50, 51, 52, 53), "u2os-like": (50, 51, 52, 53),
           "fibroblast d74": (50, 51, 52), "mixed d28": (50, 51, 52, 53),
           "uneven d32": (50, 51, 52, 53), "elongated": (50, 51, 52, 53)}
#: round 33's fresh held-out seeds, written down before round 33's results were read and
#: run only at its end: the FRESH31 seeds had been run three times by then, and earlier
#: rounds tuned on seeds 60-156
FRESH33 = {"fibroblast": (600, 601, 602, 603), "halo": (600, 601, 602, 603),
           "dim": (600, 601, 602, 603), "u2os-like": (600, 601, 602, 603),
           "fibroblast d74": (600, 601, 602), "mixed d28": (600, 601, 602, 603),
           "uneven d32": (600, 601, 602, 603), "elongated": (600, 601, 602, 603)}
#: round 34's fresh held-out seeds, written down before round 34's results were read and
#: run only at its end (six per kind: a whole-field failure of one field in ten shows)
FRESH34 = {kind: tuple(range(800, 806)) for kind in FRESH33}
FRESH34["fibroblast d74"] = (800, 801, 802, 803)
#: round 35's fresh held-out seeds, written down before round 35's results were read and
#: run only at its end (its branches tuned on seeds 900-979)
FRESH35 = {kind: tuple(range(1100, 1106)) for kind in FRESH33}
FRESH35["fibroblast d74"] = (1100, 1101, 1102, 1103)
#: round 36's fresh held-out seeds, written down before round 36's results were read and
#: run only at its end (its branches tune on seeds 1300-1449)
FRESH36 = {kind: tuple(range(1200, 1206)) for kind in FRESH33}
FRESH36["fibroblast d74"] = (1200, 1201, 1202, 1203)
#: round 37's fresh held-out seeds, written down before round 37's results were read and
#: run only at its end (its branches tune on seeds 1600-1749)
FRESH37 = {kind: tuple(range(1500, 1506)) for kind in FRESH33}
FRESH37["fibroblast d74"] = (1500, 1501, 1502, 1503)
#: round 38's fresh held-out seeds, written down before round 38's results were read and
#: run only at its end (its branches tune on seeds 1900-2099)
FRESH38 = {kind: tuple(range(1800, 1806)) for kind in FRESH33}
FRESH38["fibroblast d74"] = (1800, 1801, 1802, 1803)
#: round 39's fresh held-out seeds, written down before round 39's results were read and
#: run only at its end (its branches tune on seeds 2300-2599)
FRESH39 = {kind: tuple(range(2200, 2206)) for kind in FRESH33}
FRESH39["fibroblast d74"] = (2200, 2201, 2202, 2203)
#: round 40's fresh held-out seeds, written down before round 40's results were read and
#: run only at its end (its branches tune on seeds 2700-2999)
FRESH40 = {kind: tuple(range(2600, 2606)) for kind in FRESH33}
FRESH40["fibroblast d74"] = (2600, 2601, 2602, 2603)
#: round 41's fresh held-out seeds, written down before round 41's results were read and
#: run only at its end (its branches tune on seeds 3100-3399)
FRESH41 = {kind: tuple(range(3000, 3006)) for kind in FRESH33}
FRESH41["fibroblast d74"] = (3000, 3001, 3002, 3003)
#: round 42's fresh held-out seeds, written down before round 42's results were read and
#: run only at its end (its branches tune on seeds 3600-3999)
FRESH42 = {kind: tuple(range(3500, 3506)) for kind in FRESH33}
FRESH42["fibroblast d74"] = (3500, 3501, 3502, 3503)
#: round 43's fresh held-out seeds, written down before round 43's results were read and
#: run only at its end (its branches tune on seeds 4100-4499)
FRESH43 = {kind: tuple(range(4000, 4006)) for kind in FRESH33}
FRESH43["fibroblast d74"] = (4000, 4001, 4002, 4003)
#: round 44's fresh held-out seeds, written down before round 44's results were read and
#: run only at its end (its branches tune on seeds 5600-5999)
FRESH44 = {kind: tuple(range(5500, 5506)) for kind in FRESH33}
FRESH44["fibroblast d74"] = (5500, 5501, 5502, 5503)
#: round 45's fresh held-out seeds, written down before round 45's results were read and
#: run only at its end (its branches tune on seeds 6600 and above)
FRESH45 = {kind: tuple(range(6500, 6506)) for kind in FRESH33}
FRESH45["fibroblast d74"] = (6500, 6501, 6502, 6503)
#: round 46's fresh held-out seeds, written down before round 46's results were read and
#: run only at its end (its branches tune on seeds 7600 and above)
FRESH46 = {kind: tuple(range(7500, 7506)) for kind in FRESH33}
FRESH46["fibroblast d74"] = (7500, 7501, 7502, 7503)
#: round 47's fresh held-out seeds, written down before round 47's results were read and
#: run only at its end (its branches tune on seeds 8600 and above)
FRESH47 = {kind: tuple(range(8500, 8506)) for kind in FRESH33}
FRESH47["fibroblast d74"] = (8500, 8501, 8502, 8503)
#: round 48's fresh held-out seeds, written down before round 48's results were read and
#: run only at its end (its branches tune on seeds 9600 and above)
FRESH48 = {kind: tuple(range(9500, 9506)) for kind in FRESH33}
FRESH48["fibroblast d74"] = (9500, 9501, 9502, 9503)
#: round 49's fresh held-out seeds, written down before round 49's results were read and
#: run only at its end (its branches tune on seeds 10600 and above)
FRESH49 = {kind: tuple(range(10500, 10506)) for kind in FRESH33}
FRESH49["fibroblast d74"] = (10500, 10501, 10502, 10503)
#: round 50's fresh held-out seeds, written down before round 50's results were read and
#: run only at its end (its branches tune on seeds 11600-11999)
FRESH50 = {kind: tuple(range(11500, 11506)) for kind in FRESH33}
FRESH50["fibroblast d74"] = (11500, 11501, 11502, 11503)
#: round 51's fresh held-out seeds, written down before round 51's results were read and
#: run only at its end (its branches tune on seeds 12600-12999)
FRESH51 = {kind: tuple(range(12500, 12506)) for kind in FRESH33}
FRESH51["fibroblast d74"] = (12500, 12501, 12502, 12503)
#: round 52's fresh held-out seeds, written down before round 52's results were read and
#: run only at its end (its branches tune on seeds 13600-13999)
FRESH52 = {kind: tuple(range(13500, 13506)) for kind in FRESH33}
FRESH52["fibroblast d74"] = (13500, 13501, 13502, 13503)
#: round 53's fresh held-out seeds, written down before round 53's results were read and
#: run only at its end (its branches tune on seeds 14600-14999)
FRESH53 = {kind: tuple(range(14500, 14506)) for kind in FRESH33}
FRESH53["fibroblast d74"] = (14500, 14501, 14502, 14503)
#: round 54's fresh held-out seeds, written down before round 54's results were read and
#: run only at its end (its branches tune on seeds 15600-15999)
FRESH54 = {kind: tuple(range(15500, 15506)) for kind in FRESH33}
FRESH54["fibroblast d74"] = (15500, 15501, 15502, 15503)
#: round 55's fresh held-out seeds, written down before round 55's results were read and
#: run only at its end (its branches tune on seeds 16600-16999)
FRESH55 = {kind: tuple(range(16500, 16506)) for kind in FRESH33}
FRESH55["fibroblast d74"] = (16500, 16501, 16502, 16503)
#: round 56's fresh held-out seeds, written down before round 56's results were read and
#: run only at its end (its branches tune on seeds 17600-17999)
FRESH56 = {kind: tuple(range(17500, 17506)) for kind in FRESH33}
FRESH56["fibroblast d74"] = (17500, 17501, 17502, 17503)
#: round 57's fresh held-out seeds, written down before round 57's results were read and
#: run only at its end (its branches tune on seeds 18600-18999)
FRESH57 = {kind: tuple(range(18500, 18506)) for kind in FRESH33}
FRESH57["fibroblast d74"] = (18500, 18501, 18502, 18503)
#: round 58's fresh held-out seeds, written down before round 58's results were read and
#: run only at its end (its branches tune on seeds 19600-19999)
FRESH58 = {kind: tuple(range(19500, 19506)) for kind in FRESH33}
FRESH58["fibroblast d74"] = (19500, 19501, 19502, 19503)
#: round 59's fresh held-out seeds, written down before round 59's results were read and
#: run only at its end (its branches tune on seeds 20600-20999)
FRESH59 = {kind: tuple(range(20500, 20506)) for kind in FRESH33}
FRESH59["fibroblast d74"] = (20500, 20501, 20502, 20503)
#: the fresh held-out seeds by round (``--fresh ROUND``)
FRESH = {31: FRESH31, 33: FRESH33, 34: FRESH34, 35: FRESH35, 36: FRESH36,
         37: FRESH37, 38: FRESH38, 39: FRESH39, 40: FRESH40, 41: FRESH41,
         42: FRESH42, 43: FRESH43, 44: FRESH44, 45: FRESH45, 46: FRESH46,
         47: FRESH47, 48: FRESH48, 49: FRESH49,
         50: FRESH50, 51: FRESH51, 52: FRESH52, 53: FRESH53,
         54: FRESH54, 55: FRESH55, 56: FRESH56, 57: FRESH57,
         58: FRESH58, 59: FRESH59}
#: round 13's tuning seeds, written down before any change (never the held-out ones)
ROUND13 = {"uneven d32": (30, 31, 32, 33), "dim": (30, 31, 32), "fibroblast": (30, 31, 32),
           "halo": (30, 31)}


def _wavy_ellipse(rr, cc, r0, c0, a, b, theta, waves):
    """(inside, q) of an ellipse whose radius is modulated by ``waves`` [(k, amp, phase)]."""
    dr, dc = rr - r0, cc - c0
    u = dr * np.cos(theta) + dc * np.sin(theta)
    v = -dr * np.sin(theta) + dc * np.cos(theta)
    phi = np.arctan2(v / b, u / a)
    edge = 1 + sum(amp * np.cos(k * phi + ph) for k, amp, ph in waves)
    q = np.sqrt((u / a) ** 2 + (v / b) ** 2) / edge
    return q <= 1, q


def _place(rng, n, shape, d, sep, centers, near=None):
    """Up to ``n`` more centres at least ``sep`` d from the others (and, with ``near``, 1-2
    d from one of those points)."""
    out = []
    for _ in range(n * 300):
        if len(out) == n:
            break
        if near:
            p = near[rng.integers(len(near))]
            ang, dist = rng.uniform(0, 2 * np.pi), d * rng.uniform(1.0, 2.0)
            c = (p[0] + dist * np.sin(ang), p[1] + dist * np.cos(ang))
        else:
            c = (rng.uniform(0, shape[0]), rng.uniform(0, shape[1]))
        if not (d / 2 <= c[0] <= shape[0] - d / 2 and d / 2 <= c[1] <= shape[1] - d / 2):
            continue
        if all(np.hypot(c[0] - p[0], c[1] - p[1]) >= sep * d for p in centers + out):
            out.append(c)
    return out


def _camera(expected, rng, read=6.0, bits=12):
    """Counts of a ``bits`` camera: Poisson on ``expected`` + Gaussian read noise, clipped."""
    counts = rng.poisson(np.clip(expected, 0, None)) + rng.normal(0, read, expected.shape)
    return np.clip(np.round(counts), 0, 2**bits - 1)


def _vignette_ramp(shape, rng):
    """(multiplicative vignetting, additive ramp in [0, 1]) of a field."""
    rr, cc = np.indices(shape, dtype=np.float64)
    r = np.hypot((rr - shape[0] / 2) / shape[0], (cc - shape[1] / 2) / shape[1]) / np.sqrt(0.5)
    vignette = 1 - rng.uniform(0.3, 0.45) * r**2
    theta = rng.uniform(0, 2 * np.pi)
    ramp = (rr / shape[0]) * np.cos(theta) + (cc / shape[1]) * np.sin(theta)
    ramp -= ramp.min()
    return vignette, ramp / max(float(ramp.max()), 1e-12)


def _foci(image, labels, i, contrast, d, rng, count):
    """``count`` chromocenters 2-4x the nucleus's ``contrast`` inside label ``i``."""
    box = ndi.find_objects((labels == i).astype(np.int8))[0]
    own = np.argwhere(labels[box] == i)
    if own.size == 0:
        return
    for _ in range(count):
        r0, c0 = own[rng.integers(len(own))] + (box[0].start, box[1].start)
        rad = d * rng.uniform(0.05, 0.1)
        sl = (slice(max(0, int(r0 - rad - 1)), int(r0 + rad + 2)),
              slice(max(0, int(c0 - rad - 1)), int(c0 + rad + 2)))
        rr, cc = np.indices(image[sl].shape)
        disc = (rr + sl[0].start - r0) ** 2 + (cc + sl[1].start - c0) ** 2 <= rad * rad
        disc &= labels[sl] == i
        image[sl][disc] = np.maximum(image[sl][disc], contrast * rng.uniform(2, 4))


def _streaks(shape, d, rng, count, level):
    """Glare streaks: blurred line segments 2-5 d long, 0.2-0.5 d wide."""
    out = np.zeros(shape)
    for _ in range(count):
        r0, c0 = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        ang, length = rng.uniform(0, np.pi), d * rng.uniform(2, 5)
        t = np.linspace(-0.5, 0.5, int(length))
        rows = np.clip((r0 + t * length * np.sin(ang)).astype(int), 0, shape[0] - 1)
        cols = np.clip((c0 + t * length * np.cos(ang)).astype(int), 0, shape[1] - 1)
        line = np.zeros(shape)
        line[rows, cols] = 1.0
        line = ndi.gaussian_filter(line, d * rng.uniform(0.1, 0.25))
        out += level * rng.uniform(0.3, 0.8) * line / max(float(line.max()), 1e-12)
    return out


def cellline_field(kind: str, seed: int):
    """(image as 12-bit counts, float32; truth labels) of a ``kind`` field."""
    d, side, n_ord, n_dim, n_bright, aspect = KINDS[kind]
    rng = np.random.default_rng([seed, sum(map(ord, kind))])
    shape = (side, side)
    rr, cc = np.indices(shape, dtype=np.float64)
    bg = rng.uniform(80, 160)  # background counts
    base = bg * rng.uniform(1.5, 3.0)  # an ordinary nucleus's contrast over the background
    bright = _place(rng, n_bright, shape, d, 1.2, [])
    dim = _place(rng, n_dim, shape, d, 0.9, bright, near=bright)
    ordinary = _place(rng, n_ord, shape, d, 0.85, bright + dim)
    labels = np.zeros(shape, np.int32)
    signal = np.zeros(shape)
    best = np.full(shape, np.inf)
    kinds = ["bright"] * len(bright) + ["dim"] * len(dim) + ["ordinary"] * len(ordinary)
    for i, ((r0, c0), what) in enumerate(zip(bright + dim + ordinary, kinds, strict=True),
                                         start=1):
        scale = 0.6 if what == "bright" else 1.0
        a, b = d / 2 * scale * rng.uniform(0.85, 1.15, 2)
        k = np.sqrt(rng.uniform(1, aspect if what != "bright" else 1.1))
        a, b = a * k, b / k
        waves = [(j, rng.uniform(0.02, 0.06), rng.uniform(0, 2 * np.pi)) for j in (2, 3, 5)]
        inside, q = _wavy_ellipse(rr, cc, r0, c0, a, b, rng.uniform(0, np.pi), waves)
        inside &= q < best
        labels[inside] = i
        best[inside] = q[inside]
        if what == "bright":
            level = base * rng.uniform(10, 60)
        elif what == "dim":
            level = bg * rng.uniform(0.5, 1.0)
        else:
            level = base * rng.uniform(0.5, 1.0)
        # flat, thinning only near the rim
        signal[inside] = level * (0.8 + 0.2 * np.sqrt(np.clip(1 - q[inside] ** 2, 0, 1)))
        if what != "bright":
            _foci(signal, labels, i, level, d, rng, int(rng.integers(5, 16)))
    tex = ndi.gaussian_filter(rng.normal(0, 1, shape), d / 12)
    tex *= 0.12 / max(float(tex.std()), 1e-12)
    signal *= 1 + tex * (labels > 0)
    signal = ndi.gaussian_filter(signal, d / 20)
    glow = np.zeros(shape)
    for i in range(1, len(bright) + 1):
        cell = ndi.gaussian_filter(np.where(labels == i, signal, 0.0), d * rng.uniform(1, 2))
        glow += rng.uniform(0.05, 0.1) * cell * (signal[labels == i].mean() / cell.max())
    extra = _streaks(shape, d, rng, int(rng.integers(1, 4)), base)
    specks = np.zeros(shape)
    outside = np.flatnonzero((ndi.distance_transform_edt(labels == 0) > d / 3).ravel())
    for k in rng.choice(outside, size=min(outside.size, int(rng.integers(4, 12))),
                        replace=False):
        r0, c0 = divmod(int(k), side)
        rad = max(1, round(d * rng.uniform(0.03, 0.08)))
        specks[max(0, r0 - rad):r0 + rad + 1, max(0, c0 - rad):c0 + rad + 1] = (
            base * rng.uniform(0.5, 3.0))
    extra += ndi.gaussian_filter(specks, d / 20)
    vignette, ramp = _vignette_ramp(shape, rng)
    expected = vignette * (signal + glow + extra + bg * (1 + 0.6 * ramp))
    return _camera(expected, rng).astype(np.float32), labels


def _nucleus(rr, cc, centre, d, rng, aspect, scale=1.0):
    """(inside, q) of one wavy elliptical nucleus of diameter ``scale * d`` at ``centre``."""
    a, b = d / 2 * scale * rng.uniform(0.85, 1.15, 2)
    k = np.sqrt(rng.uniform(1, aspect))
    waves = [(j, rng.uniform(0.02, 0.06), rng.uniform(0, 2 * np.pi)) for j in (2, 3, 5)]
    return _wavy_ellipse(rr, cc, *centre, a * k, b / k, rng.uniform(0, np.pi), waves)


def uneven_field(seed: int, d: float = 32, side: int = 448):
    """(image, truth) of the held-out ``uneven d32`` kind (round 10, written before any
    change of that round and run only at its start and end): illumination 2-3x brighter
    on one side of the field than on the other (a ramp and an off-centre spot, on top of
    the additive ramp), 8 dim nuclei 1.3-2x over the local background near 3 saturated
    cells with glows and 8 more anywhere, 3 out-of-focus nuclei (blurred by 0.12-0.2 d;
    the truth counts their in-focus extent), 16 ordinary textured nuclei, glare, specks,
    and 2-4 bright pieces of debris cut by the image border."""
    rng = np.random.default_rng([seed, 1010])
    shape = (side, side)
    rr, cc = np.indices(shape, dtype=np.float64)
    bg = rng.uniform(80, 160)
    base = bg * rng.uniform(1.5, 3.0)
    bright = _place(rng, 3, shape, d, 1.2, [])
    dim = _place(rng, 8, shape, d, 0.9, bright, near=bright)
    dim += _place(rng, 8, shape, d, 0.9, bright + dim)
    blurred = _place(rng, 3, shape, d, 1.0, bright + dim)
    ordinary = _place(rng, 16, shape, d, 0.85, bright + dim + blurred)
    centres = bright + dim + blurred + ordinary
    kinds = (["bright"] * len(bright) + ["dim"] * len(dim) + ["blurred"] * len(blurred)
             + ["ordinary"] * len(ordinary))
    labels = np.zeros(shape, np.int32)
    signal, soft = np.zeros(shape), np.zeros(shape)
    best = np.full(shape, np.inf)
    for i, (centre, what) in enumerate(zip(centres, kinds, strict=True), start=1):
        inside, q = _nucleus(rr, cc, centre, d, rng, 1.1 if what == "bright" else 1.4,
                             0.6 if what == "bright" else 1.0)
        inside &= q < best
        labels[inside] = i
        best[inside] = q[inside]
        level = {"bright": base * rng.uniform(10, 60), "dim": bg * rng.uniform(0.3, 1.0),
                 "blurred": base * rng.uniform(0.5, 1.0),
                 "ordinary": base * rng.uniform(0.5, 1.0)}[what]
        own = np.zeros(shape)
        own[inside] = level * (0.8 + 0.2 * np.sqrt(np.clip(1 - q[inside] ** 2, 0, 1)))
        if what != "bright":
            _foci(own, labels, i, level, d, rng, int(rng.integers(5, 16)))
        if what == "blurred":
            soft += ndi.gaussian_filter(own, d * rng.uniform(0.12, 0.2))
        else:
            signal += own
    tex = ndi.gaussian_filter(rng.normal(0, 1, shape), d / 12)
    tex *= 0.12 / max(float(tex.std()), 1e-12)
    signal = ndi.gaussian_filter(signal * (1 + tex * (labels > 0)), d / 20) + soft
    glow = np.zeros(shape)
    for i in range(1, len(bright) + 1):
        cell = ndi.gaussian_filter(np.where(labels == i, signal, 0.0), d * rng.uniform(1, 2))
        glow += rng.uniform(0.05, 0.1) * cell * (signal[labels == i].mean() / cell.max())
    extra = _streaks(shape, d, rng, int(rng.integers(1, 4)), base)
    specks = np.zeros(shape)
    free = ndi.distance_transform_edt(labels == 0) > d / 3
    outside = np.flatnonzero(free.ravel())
    for k in rng.choice(outside, size=min(outside.size, int(rng.integers(4, 12))),
                        replace=False):
        r0, c0 = divmod(int(k), side)
        rad = max(1, round(d * rng.uniform(0.03, 0.08)))
        specks[max(0, r0 - rad):r0 + rad + 1, max(0, c0 - rad):c0 + rad + 1] = (
            base * rng.uniform(0.5, 3.0))
    for _ in range(int(rng.integers(2, 5))):  # debris cut by the image border
        for _ in range(100):
            along, side_k = rng.uniform(0, side), int(rng.integers(4))
            r0, c0 = [(0, along), (side - 1, along), (along, 0), (along, side - 1)][side_k]
            rad = d * rng.uniform(0.15, 0.35)
            blob = np.hypot(rr - r0, cc - c0) <= rad
            if free[blob].all():
                specks[blob] = np.maximum(specks[blob], base * rng.uniform(0.5, 2.0))
                break
    extra += ndi.gaussian_filter(specks, d / 20)
    vignette, ramp = _vignette_ramp(shape, rng)
    theta = rng.uniform(0, 2 * np.pi)
    light = (rr / side) * np.cos(theta) + (cc / side) * np.sin(theta)
    spot = rng.uniform(0.2, 0.8, 2) * side
    light = light - light.min() + np.exp(-((rr - spot[0]) ** 2 + (cc - spot[1]) ** 2)
                                         / (2 * (0.3 * side) ** 2))
    light = 1 + (rng.uniform(2, 3) - 1) * (light - light.min()) / np.ptp(light)
    expected = light * vignette * (signal + glow + extra + bg * (1 + 0.6 * ramp))
    return _camera(expected, rng).astype(np.float32), labels


def elongated_field(seed: int):
    """(image, truth) of the held-out ``elongated`` kind (round 11, written before any
    change of that round and run only at its start and end): fibroblast-like nuclei,
    wavy ellipses of aspect 1.5-3 (long/short axis) in every orientation, their
    equivalent diameter ``d`` drawn once per field in 24-60 px (each nucleus 0.85-1.15
    of it); 5-15 chromocenters, textured nucleoplasm, 18-26 nuclei at 0.9-1.3 d apart
    (some touching), 3 dim ones, 1-2 bright condensed cells with glows, glare, specks,
    vignetting, a ramp and an illumination 1.5-2x uneven, 12-bit counts."""
    rng = np.random.default_rng([seed, 1111])
    d = rng.uniform(24, 60)
    side = int(11 * d)
    shape = (side, side)
    rr, cc = np.indices(shape, dtype=np.float64)
    bg = rng.uniform(80, 160)
    base = bg * rng.uniform(1.5, 3.0)
    bright = _place(rng, int(rng.integers(1, 3)), shape, d, 1.5, [])
    dim = _place(rng, 3, shape, d, 1.1, bright)
    ordinary = _place(rng, int(rng.integers(18, 27)), shape, d, rng.uniform(0.9, 1.3),
                      bright + dim)
    centres = bright + dim + ordinary
    kinds = ["bright"] * len(bright) + ["dim"] * len(dim) + ["ordinary"] * len(ordinary)
    labels = np.zeros(shape, np.int32)
    signal = np.zeros(shape)
    best = np.full(shape, np.inf)
    for i, ((r0, c0), what) in enumerate(zip(centres, kinds, strict=True), start=1):
        eq = d / 2 * rng.uniform(0.85, 1.15) * (0.6 if what == "bright" else 1.0)
        k = np.sqrt(rng.uniform(1.5, 3.0) if what != "bright" else 1.1)
        waves = [(j, rng.uniform(0.02, 0.05), rng.uniform(0, 2 * np.pi)) for j in (2, 3, 5)]
        inside, q = _wavy_ellipse(rr, cc, r0, c0, eq * k, eq / k, rng.uniform(0, np.pi),
                                  waves)
        inside &= q < best
        labels[inside] = i
        best[inside] = q[inside]
        level = {"bright": base * rng.uniform(10, 40), "dim": bg * rng.uniform(0.6, 1.0),
                 "ordinary": base * rng.uniform(0.5, 1.0)}[what]
        signal[inside] = level * (0.8 + 0.2 * np.sqrt(np.clip(1 - q[inside] ** 2, 0, 1)))
        if what != "bright":
            _foci(signal, labels, i, level, d, rng, int(rng.integers(5, 16)))
    tex = ndi.gaussian_filter(rng.normal(0, 1, shape), d / 12)
    tex *= 0.12 / max(float(tex.std()), 1e-12)
    signal = ndi.gaussian_filter(signal * (1 + tex * (labels > 0)), d / 20)
    glow = np.zeros(shape)
    for i in range(1, len(bright) + 1):
        cell = ndi.gaussian_filter(np.where(labels == i, signal, 0.0), d * rng.uniform(1, 2))
        glow += rng.uniform(0.05, 0.1) * cell * (signal[labels == i].mean() / cell.max())
    extra = _streaks(shape, d, rng, int(rng.integers(1, 3)), base)
    specks = np.zeros(shape)
    outside = np.flatnonzero((ndi.distance_transform_edt(labels == 0) > d / 3).ravel())
    for k in rng.choice(outside, size=min(outside.size, int(rng.integers(4, 10))),
                        replace=False):
        r0, c0 = divmod(int(k), side)
        rad = max(1, round(d * rng.uniform(0.03, 0.08)))
        specks[max(0, r0 - rad):r0 + rad + 1, max(0, c0 - rad):c0 + rad + 1] = (
            base * rng.uniform(0.5, 3.0))
    extra += ndi.gaussian_filter(specks, d / 20)
    vignette, ramp = _vignette_ramp(shape, rng)
    theta = rng.uniform(0, 2 * np.pi)
    light = (rr / side) * np.cos(theta) + (cc / side) * np.sin(theta)
    light = 1 + (rng.uniform(1.5, 2.0) - 1) * (light - light.min()) / np.ptp(light)
    expected = light * vignette * (signal + glow + extra + bg * (1 + 0.6 * ramp))
    return _camera(expected, rng).astype(np.float32), labels


def u2os_like(seed: int, data: Path = U2OS):
    """(augmented U2OS image, its hand labels): image ``seed % 48``; 5-15 foci 2-4x each
    nucleus's contrast, its two largest nuclei 10-60x saturated with a glow of 1-2 d, a
    ramp of 1x the median contrast and vignetting, 12-bit counts."""
    from skimage.io import imread

    paths = sorted((data / "images").glob("dna-*.png"),
                   key=lambda p: int(re.findall(r"\d+", p.stem)[0]))
    path = paths[(7 * seed + 3) % len(paths)]
    img = imread(path).astype(np.float64)
    ref = imread(data / "labels" / path.name).astype(np.int32)
    rng = np.random.default_rng([seed, 2009])
    bg = float(np.median(img[ref == 0]))
    signal = np.clip(img - bg, 0, None)
    ids = np.unique(ref[ref > 0])
    area = np.bincount(ref.ravel())
    contrast = float(np.median(signal[ref > 0]))
    spots = np.zeros_like(signal)
    for i in ids:
        own = float(np.median(signal[ref == i]))
        d = 2 * np.sqrt(area[i] / np.pi)
        tmp = np.zeros_like(signal)
        _foci(tmp, ref, i, own, d, rng, int(rng.integers(5, 16)))
        spots = np.maximum(spots, tmp)
    signal = np.maximum(signal, ndi.gaussian_filter(spots, 1.0))
    glow = np.zeros_like(signal)
    for i in ids[np.argsort(area[ids])[-2:]]:
        m = ref == i
        signal[m] *= rng.uniform(10, 60)
        d = 2 * np.sqrt(area[i] / np.pi)
        cell = ndi.gaussian_filter(np.where(m, signal, 0.0), d * rng.uniform(1, 2) / 2)
        glow += rng.uniform(0.05, 0.1) * cell * (signal[m].mean() / cell.max())
    vignette, ramp = _vignette_ramp(signal.shape, rng)
    scale = 300.0 / max(contrast, 1e-12)  # a nucleus's median contrast: 300 counts
    back = 120.0 + 120.0 * ramp
    expected = vignette * ((signal + glow) * scale + back)
    return _camera(expected, rng).astype(np.float32), ref


def make(kind, seed):
    if kind == "uneven d32":
        return uneven_field(seed)
    if kind == "elongated":
        return elongated_field(seed)
    return u2os_like(seed) if kind == "u2os-like" else cellline_field(kind, seed)


def score(plan):
    """kind -> mean score over its seeds, with this interpreter's package."""
    import time

    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    out = {}
    for kind, seeds in plan.items():
        rows, cpu = [], 0.0
        for s in seeds:
            img, ref = make(kind, s)
            t0 = time.process_time()
            labels = seeded_watershed(img).labels
            cpu += time.process_time() - t0
            rows.append(score_segmentation(labels, ref))
        m = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        m["cpu"] = cpu / len(seeds)
        m["f1s"] = [round(r["f1"], 3) for r in rows]
        out[kind] = m
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heldout", action="store_true", help="the held-out seeds and kinds")
    p.add_argument("--round13", action="store_true", help="round 13's tuning seeds")
    p.add_argument("--fresh", type=int, choices=sorted(FRESH), default=None,
                   help="a round's fresh held-out seeds (run only at a round's end)")
    for n in FRESH:  # the older spelling, --fresh31 for --fresh 31
        p.add_argument(f"--fresh{n}", action="store_const", const=n, dest="fresh",
                       help=argparse.SUPPRESS)
    p.add_argument("--kinds", default=None, help="comma-separated subset of kinds")
    p.add_argument("--against", default=None, help="another package's src to compare")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    plan = (FRESH[args.fresh] if args.fresh else ROUND13 if args.round13
            else HELDOUT if args.heldout else TUNED)
    if args.kinds:
        plan = {k: v for k, v in plan.items() if k in args.kinds.split(",")}
    if not U2OS.exists():
        plan.pop("u2os-like", None)
    if args.json:
        print(json.dumps(score(plan)))
        return 0
    other = None
    if args.against:
        cmd = [sys.executable, __file__, "--json"] + (["--heldout"] if args.heldout else [])
        cmd += ["--round13"] if args.round13 else []
        cmd += ["--fresh", str(args.fresh)] if args.fresh else []
        cmd += ["--kinds", ",".join(plan)]
        env = {**os.environ, "PYTHONPATH": args.against}
        other = json.loads(subprocess.run(cmd, env=env, capture_output=True, text=True,
                                          check=True).stdout)
    ours = score(plan)
    which = (f"round-{args.fresh} fresh" if args.fresh else "round-13" if args.round13
             else "held-out" if args.heldout else "tuned")
    print(f"{which} seeds; errors/img (split/merged/spurious/missing), F1@0.5, CPU s/img")
    for kind, m in ours.items():
        line = (f"{kind:<15} {m['errors']:5.2f} ({m['split']:.1f}/{m['merged']:.1f}/"
                f"{m['spurious']:.1f}/{m['missing']:.1f}) F1 {m['f1']:.3f} {m['cpu']:.3f}s")
        if other:
            o = other[kind]
            line = (f"{kind:<15} against {o['errors']:5.2f} ({o['split']:.1f}/"
                    f"{o['merged']:.1f}/{o['spurious']:.1f}/{o['missing']:.1f}) F1 "
                    f"{o['f1']:.3f} | this " + line[16:])
        print(line + "  " + " ".join(map(str, m["f1s"])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
