"""Measurement: labels that hold a glare streak and a nucleus (issue 14, round 58).

For cell-line fields (``benchmarks/nuclei_cellline.py``) the generator's streak layer is
recorded beside the image and truth (``_streaks`` wrapped), the defaults segment the field,
and each label is scored against the truth: a label *holds a streak and a nucleus* where its
largest truth overlap is a nucleus and 0.05 d² or more of its pixels outside every nucleus
lie on a streak (the layer at 0.3 or more of an ordinary nucleus's contrast). The errors
(as ``score_segmentation`` counts them) and the IoU-0.5 matches such labels take part in are
counted, and a split rule (:func:`split_arms`) is scored on the same labels.

Usage::

    python benchmarks/nuclei_glare_merge.py cache KIND FIRST-LAST FOLDER
    python benchmarks/nuclei_glare_merge.py measure FOLDER [--kinds a,b] [--seeds FIRST-LAST]
                                                   [--rule R,A,L]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nuclei_cellline as nc

_ON_STREAK = 0.3  # the streak layer over an ordinary nucleus's contrast


def _field(kind, seed):
    """(image, truth, streak layer over the nuclei's contrast or None)."""
    got = []
    real = nc._streaks

    def record(shape, d, rng, count, level):
        out = real(shape, d, rng, count, level)
        got.append(out / level)
        return out

    nc._streaks = record
    try:
        image, truth = nc.make(kind, seed)
    finally:
        nc._streaks = real
    return image, truth, (got[0] if got else None)


def cache(kind, seeds, out, step=1):
    """One file per field, ``out/<kind>_<seed>.npz``: labels, truth, streak layer, d."""
    from napari_tessella.nuclei import seeded_watershed

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        path = out / f"{kind.replace(' ', '_')}_{seed}.npz"
        if path.exists():
            continue
        image, truth, streak = _field(kind, seed)
        res = seeded_watershed(image)
        np.savez_compressed(
            path, kind=kind, seed=seed, labels=res.labels.astype(np.int32),
            truth=truth.astype(np.int32), d=np.float64(res.object_diameter),
            streak=(np.zeros(image.shape, np.float16) if streak is None
                    else streak.astype(np.float16)))


def holders(labels, truth, streak, d):
    """The labels that hold a streak and a nucleus (ids)."""
    on = (streak >= _ON_STREAK) & (truth == 0) & (labels > 0)
    n = int(labels.max())
    outside_on = np.bincount(labels[on], minlength=n + 1)
    table = np.zeros((n + 1, int(truth.max()) + 1), np.int64)
    np.add.at(table, (labels.ravel(), truth.ravel()), 1)
    best = table[:, 1:].argmax(axis=1) + 1 if table.shape[1] > 1 else np.zeros(n + 1, int)
    in_nucleus = table[np.arange(n + 1), best] if table.shape[1] > 1 else np.zeros(n + 1)
    ids = np.flatnonzero((outside_on >= 0.05 * d * d) & (in_nucleus > 0))
    return ids[ids > 0]


def per_label(labels, truth):
    """Per label: its error share (spurious 1, merged 1) and whether it is matched at 0.5;
    per truth nucleus: missing, split, and its match."""
    n, m = int(labels.max()), int(truth.max())
    table = np.zeros((n + 1, m + 1), np.int64)
    np.add.at(table, (labels.ravel(), truth.ravel()), 1)
    seg_to_ref = table[1:].argmax(axis=1)
    ref_to_seg = table[:, 1:].argmax(axis=0)
    area_p, area_r = table.sum(axis=1), table.sum(axis=0)
    inter = table[1:, 1:]
    iou = inter / np.maximum(area_p[1:, None] + area_r[None, 1:] - inter, 1)
    matched = (iou >= 0.5).any(axis=1)  # IoU > 0.5 pairs are one-to-one
    spurious = seg_to_ref == 0
    hits_seg = np.bincount(ref_to_seg, minlength=n + 1)[1:]
    merged = hits_seg > 1
    return {"spurious": spurious, "merged": merged, "matched": matched,
            "ref_to_seg": ref_to_seg, "seg_to_ref": seg_to_ref}


def _arms(mask, rad):
    """The opened body of ``mask`` (a binary opening with a disc of radius ``rad``, by
    distance transforms) and the parts the opening removed, labelled (8-connected), with
    their count."""
    core = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1] > rad
    body = mask & (ndi.distance_transform_edt(~core) <= rad) if core.any() else core
    comp, k = ndi.label(mask & ~body, np.ones((3, 3)))
    return body, comp, k


def _arm_shape(comp, j, body):
    """An arm's length (4 standard deviations along its long axis), its area, the share of
    its length along which it touches the body, and |cos| of the angle between its long
    axis and the line from the body's centre to its own (1: it points away from the body,
    as a streak leaving a nucleus does; 0: it lies along the body's rim)."""
    rr, cc = np.nonzero(comp == j)
    pts = np.stack([rr, cc], 1).astype(float)
    centre = pts.mean(0)
    if len(pts) < 3:
        return 0.0, len(pts), 1.0, 0.0
    w, v = np.linalg.eigh(np.cov((pts - centre).T))
    length = 4 * np.sqrt(max(w[-1], 0.0))
    touch = np.count_nonzero(ndi.binary_dilation(comp == j, np.ones((3, 3))) & body)
    br, bc = np.nonzero(body)
    out = centre - (br.mean(), bc.mean())
    radial = abs(float(v[:, -1] @ out)) / (float(np.hypot(*out)) + 1e-9)
    return length, len(pts), touch / max(length, 1.0), radial


def split_arms(labels, d, radius=0.3, area=0.05, length=0.5, width=0.5, radial=0.8,
               touch=0.8, ids=None):
    """Take thin arms off labels: the parts a binary opening with a disc of ``radius`` d
    removes, each a component of at least ``area`` d², ``length`` d long, at most ``width``
    d wide (area over length), pointing away from the body (``radial``) and touching it
    along at most ``touch`` of its length, are cut off and dropped, where what stays (the
    opened body) holds at least one disc of ``radius``."""
    out = labels.copy()
    rad = max(1.0, radius * d)
    least = np.pi * rad * rad
    pad = int(rad) + 2
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None or (ids is not None and i not in ids):
            continue
        sl = tuple(slice(max(s.start - pad, 0), s.stop + pad) for s in sl)
        mask = labels[sl] == i
        body, comp, k = _arms(mask, rad)
        if body.sum() < least or not k:
            continue
        for j in range(1, k + 1):
            long, size, along, out_ward = _arm_shape(comp, j, body)
            if (size >= area * d * d and long >= length * d and size / max(long, 1.0)
                    <= width * d and out_ward >= radial and along <= touch):
                out[sl][comp == j] = 0
    return out


def oracle(labels, truth, streak, d):
    """The holders (:func:`holders`) with their pixels outside every nucleus on a streak
    taken off: the most a split along the streak's edge could give."""
    out = labels.copy()
    ids = holders(labels, truth, streak, d)
    off = np.isin(labels, ids) & (truth == 0) & (streak >= _ON_STREAK)
    out[off] = 0
    return out


def score_fields(paths, rule=None):
    """Totals over the fields ``paths`` (cached by :func:`cache`): the base's errors, the
    labels that hold a streak and a nucleus and the errors and misses they make; with
    ``rule`` (radius, area, length), the errors after :func:`split_arms`."""
    from napari_tessella.nuclei import score_segmentation

    tot = {"fields": 0, "errors": 0, "held": 0, "held_err": 0, "held_unmatched": 0,
           "oracle": 0, "after": 0, "changed": 0, "better": 0, "worse": 0}
    for path in paths:
        z = np.load(path)
        lab, tru = z["labels"], z["truth"]
        st, d = z["streak"].astype(float), float(z["d"])
        sc = score_segmentation(lab, tru)
        tot["fields"] += 1
        tot["errors"] += sc["errors"]
        ids = holders(lab, tru, st, d)
        info = per_label(lab, tru)
        tot["held"] += len(ids)
        for i in ids:
            tot["held_err"] += int(info["spurious"][i - 1]) + int(info["merged"][i - 1])
            tot["held_unmatched"] += int(not info["matched"][i - 1])
        tot["oracle"] += score_segmentation(oracle(lab, tru, st, d), tru)["errors"]
        if rule is not None:
            new = split_arms(lab, d, *rule)
            after = score_segmentation(new, tru)["errors"]
            tot["after"] += after
            tot["changed"] += int((new != lab).any())
            tot["better"] += int(after < sc["errors"])
            tot["worse"] += int(after > sc["errors"])
    return tot


def _seeds(text):
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache", help="segment fields with the package on the path")
    c.add_argument("kind")
    c.add_argument("seeds", help="FIRST-LAST")
    c.add_argument("out", help="a folder, one file per field")
    m = sub.add_parser("measure", help="score cached fields")
    m.add_argument("out")
    m.add_argument("--kinds", default="fibroblast,halo,dim")
    m.add_argument("--seeds", default="19600-19799")
    m.add_argument("--rule", default=None, help="radius,area,length,width,radial,touch")
    a = p.parse_args(argv)
    if a.cmd == "cache":
        cache(a.kind, _seeds(a.seeds), a.out)
        return 0
    rule = tuple(map(float, a.rule.split(","))) if a.rule else None
    for kind in a.kinds.split(","):
        paths = [q for s in _seeds(a.seeds)
                 if (q := Path(a.out) / f"{kind.replace(' ', '_')}_{s}.npz").exists()]
        print(kind, score_fields(paths, rule), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
