"""Measurement: errors beside saturated cells, and labels trimmed to their excess over the
modelled glow (issue 14, round 59).

For cell-line fields (``benchmarks/nuclei_cellline.py``; the generator draws the saturated
cells first, so truth ids 1..n are they) each field is segmented by the defaults without
and with the glow trim (:func:`_trimmed_to_glow`, run after the recipe's glow step
``_glow_model._with_over_glow``) in the same process, both scored as
``score_segmentation`` counts, and the base's errors
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

from napari_tessella._label_image import _mask_box
from napari_tessella.nuclei._glow_model import _CELL_SHARE, _glow_of, _model_reach

# The rule measured (round 59; not in the package: it failed its held-out gates). A label
# within a saturated cell's glow, not the cell's own, is read on its pixels' excess over
# the modelled glow (``_glow_model._glow_of``, smoothed by ``_SMOOTH`` d): one of which at
# least ``_SHARE`` lies under ``_MARGIN`` times the dim search's level ``low`` holds a
# glow piece, and keeps its largest 4-connected part over the margin (holes filled) when
# that part is ``_TRIM_LEAST`` nucleus areas or more, is dropped when it is under
# ``_LEAST`` (only glow), and is left as it was in between.

#: a label pixel stands over the glow: its excess over the model above this times ``low``
_MARGIN = 1.0
#: a label holds a glow piece when at least this share of its modelled pixels is under it
_SHARE = 0.25
#: what is left over the margin, in nucleus areas (pi d^2 / 4): under it, the label goes
_LEAST = 0.15
#: a label with less than that left over the margin is dropped (else left as it was)
_DROP = True
#: a label is trimmed only to a part of at least this many nucleus areas; between
#: ``_LEAST`` and this it is left as it was (a dim nucleus barely over the glow)
_TRIM_LEAST = 0.65
#: the excess is smoothed by this times d before it is read
_SMOOTH = 1 / 16
#: a label is read when at least this share of its pixels lies within the model's reach
_MODELLED = 0.5


def _trimmed_to_glow(labels, raw, bright, low, d, least):
    """``labels`` with each label near the saturated cells ``bright`` that holds a piece of
    their modelled glow trimmed to its part over the glow, or dropped when that part is
    smaller than ``_LEAST`` nucleus areas or ``least`` pixels; and whether any changed.
    ``raw``: the working image before its flattening (the glow model's image)."""
    if raw is None or bright is None or not bright.any() or not labels.any():
        return labels, False
    crop = _mask_box(bright, _model_reach(d))
    lab, img, br = labels[crop], raw[crop], bright[crop]
    own = np.unique(lab[br])
    nall = np.bincount(lab.ravel(), minlength=int(lab.max()) + 1)
    nsat = np.bincount(lab[br], minlength=nall.size)
    cells = np.zeros(nall.size, bool)
    cells[own[nsat[own] >= _CELL_SHARE * np.maximum(nall[own], 1)]] = True
    cells[0] = True
    model, _ = _glow_of(img, br, d, cells[lab])
    known = ~np.isnan(model)
    if not known.any():
        return labels, False
    excess = ndi.gaussian_filter(np.where(known, img - model, 0.0), max(d * _SMOOTH, 0.5))
    over = ~known | (excess > _MARGIN * low)
    whole = np.bincount(labels.ravel(), minlength=nall.size)
    area = np.pi * d * d / 4
    out, changed = None, False
    for i, box in enumerate(ndi.find_objects(lab), start=1):
        if box is None or cells[i]:
            continue
        sel = lab[box] == i
        on = known[box] & sel
        n_on = int(np.count_nonzero(on))
        if n_on < _MODELLED * whole[i]:
            continue  # mostly beyond the reach (or beyond the crop): not read
        up = over[box] & sel
        if np.count_nonzero(on & ~up) < _SHARE * n_on:
            continue
        part, m = ndi.label(up)
        if m:
            sizes = np.bincount(part.ravel())
            sizes[0] = 0
            keep = ndi.binary_fill_holes(part == int(np.argmax(sizes))) & sel
        else:
            keep = np.zeros_like(sel)
        kept = np.count_nonzero(keep)
        small = kept < max(_LEAST * area, least)
        if (small and not _DROP) or (not small and kept < _TRIM_LEAST * area):
            continue
        if out is None:
            out = labels.copy()
        view = out[crop][box]
        if small:
            view[sel] = 0
        else:
            view[sel & ~keep] = 0
        changed = True
    return (labels, False) if out is None else (out, changed)


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
    from napari_tessella.nuclei import _recipe, score_segmentation, seeded_watershed

    for name, value in params.items():
        if value is not None:
            globals()[name] = value
    step, on = _recipe._with_over_glow, [False]

    def with_trim(labels, markers, peak, smooth, low, d, least, raw, work, bright=None):
        labels, markers, peak, added = step(labels, markers, peak, smooth, low, d, least,
                                            raw, work, bright)
        if on[0]:
            labels, _ = _trimmed_to_glow(labels, raw, bright, low, d, least)
        return labels, markers, peak, added

    _recipe._with_over_glow = with_trim
    rows = []
    for kind in kinds:
        for seed in seeds:
            image, truth = nc.make(kind, seed)
            row = {"kind": kind, "seed": seed}
            for tag, trim in (("base", False), ("rule", True)):
                on[0] = trim
                labels = seeded_watershed(image).labels
                s = score_segmentation(labels, truth)
                row[tag] = {k: s[k] for k in ("split", "merged", "spurious", "missing",
                                              "errors", "f1")}
                if not trim:
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
