"""Measurement: errors beside saturated cells, and labels trimmed to their excess over the
modelled glow (issue 14, round 59).

For cell-line fields (``benchmarks/nuclei_cellline.py``; the generator draws the saturated
cells first, so truth ids 1..n are they) each field is segmented by the defaults without
and with the glow trim (``_recipe._GLOW_TRIM``, :mod:`napari_tessella.nuclei._glow_trim`)
in the same process, both scored as ``score_segmentation`` counts, and the base's errors
beside a saturated cell (a truth nucleus whose centroid lies within ``_GLOW_REACH`` d of
one, a label whose centroid does) are sorted:

- *missing*: the nucleus's largest overlap is the background;
- *with glow*: its largest overlap is a label with IoU under 0.5 of which 30 % or more
  lies outside every nucleus (a nucleus joined with a piece of glow);
- *cut*: its largest overlap is a label with IoU under 0.5 and less outside (a part);
- *glow piece*: a label whose largest overlap is the background.

Usage::

    python benchmarks/nuclei_glow_trim.py KINDS FIRST-LAST OUT.json [--margin M]
        [--share S] [--least L] [--smooth F] [--keep] [--trim-least T]
        [--step K]
    python benchmarks/nuclei_glow_trim.py --table OUT.json [OUT.json ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nuclei_cellline as nc

_REACH = 2.5  # ``_saturated._GLOW_REACH``, in the kind's nucleus diameters
_OUTSIDE = 0.3  # a label with this share outside every nucleus holds a glow piece


def near_errors(labels, truth, kind):
    """Counts of the base's errors beside a saturated cell (module docstring)."""
    d, n_bright = nc.KINDS[kind][0], nc.KINDS[kind][4]
    near = ndi.distance_transform_edt((truth < 1) | (truth > n_bright)) <= _REACH * d
    n, m = int(labels.max()), int(truth.max())
    table = np.zeros((n + 1, m + 1), np.int64)
    np.add.at(table, (labels.ravel(), truth.ravel()), 1)
    seg_to_ref = table[1:].argmax(axis=1) if n else np.zeros(0, int)
    ref_to_seg = table[:, 1:].argmax(axis=0)
    area_p, area_r = table.sum(axis=1), table.sum(axis=0)
    out = {"missing": 0, "with glow": 0, "cut": 0, "glow piece": 0, "near nuclei": 0}
    rc = ndi.center_of_mass(np.ones_like(truth), truth, np.arange(1, m + 1))
    for j in range(n_bright + 1, m + 1):
        r, c = (round(v) for v in rc[j - 1])
        if not near[r, c]:
            continue
        out["near nuclei"] += 1
        i = ref_to_seg[j - 1]
        if i == 0:
            out["missing"] += 1
            continue
        inter = table[i, j]
        if inter / (area_p[i] + area_r[j] - inter) >= 0.5:
            continue
        out["with glow" if table[i, 0] >= _OUTSIDE * area_p[i] else "cut"] += 1
    if n:
        lc = ndi.center_of_mass(np.ones_like(labels), labels, np.arange(1, n + 1))
        for i in np.flatnonzero(seg_to_ref == 0) + 1:
            r, c = (round(v) for v in lc[i - 1])
            out["glow piece"] += int(near[r, c])
    return out


def run(kinds, seeds, out, params):
    from napari_tessella.nuclei import _glow_trim, _recipe, score_segmentation, seeded_watershed

    for name, value in params.items():
        if value is not None:
            setattr(_glow_trim, name, value)
    rows = []
    for kind in kinds:
        for seed in seeds:
            image, truth = nc.make(kind, seed)
            row = {"kind": kind, "seed": seed}
            for tag, on in (("base", False), ("rule", True)):
                _recipe._GLOW_TRIM = on
                labels = seeded_watershed(image).labels
                s = score_segmentation(labels, truth)
                row[tag] = {k: s[k] for k in ("split", "merged", "spurious", "missing",
                                              "errors", "f1")}
                if not on:
                    row["near"] = near_errors(labels, truth, kind)
            rows.append(row)
            Path(out).write_text(json.dumps(rows))
    return rows


def table(paths):
    rows = [r for p in paths for r in json.loads(Path(p).read_text())]
    kinds = sorted({r["kind"] for r in rows})
    print("| kind | fields | near nuclei | missing | with glow | cut | glow piece |"
          " errors base (s/m/sp/mi) | rule | better / worse |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in [*kinds, "all"]:
        sel = [r for r in rows if kind in ("all", r["kind"])]
        near = {k: sum(r["near"][k] for r in sel) for k in sel[0]["near"]}

        def tot(tag, sel=sel):
            return [sum(r[tag][k] for r in sel) for k in ("errors", "split", "merged",
                                                          "spurious", "missing")]
        b, a = tot("base"), tot("rule")
        better = sum(r["rule"]["errors"] < r["base"]["errors"] for r in sel)
        worse = sum(r["rule"]["errors"] > r["base"]["errors"] for r in sel)
        print(f"| {kind} | {len(sel)} | {near['near nuclei']} | {near['missing']} | "
              f"{near['with glow']} | {near['cut']} | {near['glow piece']} | "
              f"{b[0]} ({'/'.join(map(str, b[1:]))}) | {a[0]} ({'/'.join(map(str, a[1:]))}) "
              f"| {better} / {worse} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kinds", nargs="?")
    p.add_argument("seeds", nargs="?")
    p.add_argument("out", nargs="?")
    p.add_argument("--table", nargs="+")
    p.add_argument("--margin", type=float)
    p.add_argument("--share", type=float)
    p.add_argument("--least", type=float)
    p.add_argument("--smooth", type=float)
    p.add_argument("--keep", action="store_true", help="never drop a label, trim only")
    p.add_argument("--trim-least", type=float)
    p.add_argument("--step", type=int, default=1)
    a = p.parse_args(argv)
    if a.table:
        table(a.table)
        return 0
    first, last = (int(v) for v in a.seeds.split("-"))
    run(a.kinds.split(","), range(first, last + 1, a.step), a.out,
        {"_MARGIN": a.margin, "_SHARE": a.share, "_LEAST": a.least, "_SMOOTH": a.smooth,
         "_DROP": False if a.keep else None, "_TRIM_LEAST": a.trim_least})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
