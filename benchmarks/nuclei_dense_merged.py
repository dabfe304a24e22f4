"""Dense fields: why a merged pair stays one label, and a per-object cut from its cues (round 59).

Each field (``nuclei_dense_heldout.challenge_field``) is segmented once with the defaults;
the labels leaving the last dome step (``_domes._split_fat_by_domes``), the working image
and the smoothed image are kept. Two records come out of each field:

- *merged*: each final label to which two or more truth nuclei are assigned (the scoring's
  ``merged``), read at the dome step's label it became: its area (in nucleus areas
  pi d^2 / 4 and in the field's median single area), whether the recipe's dome steps
  looked at it at all (``_domes._candidates``, ``_domes._too_large``), the two-dome fit with
  loose gates (gain, level, share, or why it failed) and whether its cut parts the two
  nuclei, its distance-transform tops (the seeds' landscape) and its brightness tops (of
  the smoothed image, at least d / 4 apart) that lie on different nuclei, and the
  saddle of the smoothed image between the two nuclei's tops over the lower one's height.
- *candidates*: every dome-step label of at least ``_LEAST`` of the field's median single
  area fitted with the loose two-dome gates, read by the same cues and the neck, and laid
  onto the final label it became (``nuclei_dense_prior``): the matches at IoU 0.5 its cut
  gains or loses. A rule's F1 is the sum of its cuts, as round 58 scored it.

Usage::

    python benchmarks/nuclei_dense_merged.py measure OUT FIRST LAST PSF [JOBS]
    python benchmarks/nuclei_dense_merged.py why OUT [--worst N]
    python benchmarks/nuclei_dense_merged.py rule OUT... --fit TUNING_OUT...
"""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, os.path.dirname(__file__))

_LEAST = 0.8  # candidates: dome-step labels of at least this many median single areas
_LOOSE = (0.15, 0.3)  # the measurement's two-dome gates: part, level


def _tops(values, own, d):
    """Local maxima of ``values`` inside ``own``, at least d / 4 apart (row, col)."""
    from skimage.feature import peak_local_max

    v = np.where(own, values, values[own].min() - 1.0)
    return peak_local_max(v, min_distance=max(1, int(d / 4)), labels=own.astype(np.uint8),
                          exclude_border=False)


def _saddle(smooth, a, b, bg):
    """Along the straight line between tops ``a`` and ``b`` of ``smooth``: (lower top -
    lowest point) / (lower top - bg), the depth of the valley between them in a share."""
    n = int(np.ceil(np.hypot(*(np.subtract(a, b))))) + 1
    rr = np.linspace(a[0], b[0], n)
    cc = np.linspace(a[1], b[1], n)
    line = ndi.map_coordinates(smooth.astype(np.float64), [rr, cc], order=1)
    low = min(line[0], line[-1])
    return float((low - line.min()) / max(low - bg, 1e-12))


def _cues(own, sub_truth, smooth, d, bg):
    """The shape and brightness tops of a label, and how many nuclei they sit on."""
    dt = ndi.distance_transform_edt(np.pad(own, 1))[1:-1, 1:-1]
    out = {}
    for name, vals in (("dt", dt), ("int", smooth)):
        tops = _tops(vals, own, d)
        on = {int(sub_truth[r, c]) for r, c in tops} - {0}
        out[f"{name}_tops"] = len(tops)
        out[f"{name}_on"] = len(on)
    tops = _tops(smooth, own, d)
    # the deepest valley between two tops on different nuclei (0 without two)
    best = 0.0
    for i in range(len(tops)):
        for j in range(i + 1, len(tops)):
            ti, tj = sub_truth[tuple(tops[i])], sub_truth[tuple(tops[j])]
            if ti and tj and ti != tj:
                best = max(best, _saddle(smooth, tops[i], tops[j], bg))
    out["valley"] = best
    return out


def measure_field(seed, psf):
    from nuclei_dense_heldout import challenge_field
    from nuclei_dense_prior import _laid, _matches, _prior, _shape

    from napari_tessella._label_image import _crosses_dilated
    from napari_tessella.nuclei import _domes as dm
    from napari_tessella.nuclei import _recipe, score_segmentation, seeded_watershed
    from napari_tessella.nuclei._orient import TURNS

    cap = {}
    orig = _recipe._split_fat_by_domes

    def wrap(labels, smooth, level, d, first, image=None):
        cap["before"] = labels.copy()
        out = orig(labels, smooth, level, d, first, image=image)
        cap["L"], cap["work"], cap["smooth"], cap["d"] = out[0].copy(), image, smooth, d
        return out

    _recipe._split_fat_by_domes = wrap
    odds, _recipe._PAIR_ODDS = getattr(_recipe, "_PAIR_ODDS", False), False  # the base's
    try:
        image, truth = challenge_field(seed, psf=psf)
        final = seeded_watershed(image).labels
    finally:
        _recipe._split_fat_by_domes, _recipe._PAIR_ODDS = orig, odds
    score = score_segmentation(final, truth)
    matched = _matches(final, truth)
    rec = dict(seed=seed, psf=psf, M=len(matched), P=int(len(np.unique(final)) - 1),
               T=int(len(np.unique(truth)) - 1), f1=score["f1"], merged_n=score["merged"],
               cands=[], merged=[], dense="L" in cap)
    if "L" not in cap or cap["L"].shape != final.shape:
        return rec
    labels, work, smooth, d = cap["L"], cap["work"], cap["smooth"], cap["d"]
    turn = max(TURNS.values(), key=lambda f: np.count_nonzero((f(final) > 0) & (labels > 0)))
    final, truth = np.ascontiguousarray(turn(final)), np.ascontiguousarray(turn(truth))
    median, mode = _prior(labels, d)
    unit = np.pi * d * d / 4
    rec.update(d=d, median=median, mode=mode, unit=unit)
    bg = float(np.percentile(smooth[labels == 0], 50)) if (labels == 0).any() else 0.0
    cands = set(dm._candidates(cap["before"], d).tolist())
    fat = set(dm._too_large(cap["before"], d).tolist())
    sizes = np.bincount(labels.ravel())
    boxes = ndi.find_objects(labels)
    pad = 6

    def fit_of(i):
        box = tuple(slice(max(0, s.start - pad), min(m, s.stop + pad))
                    for s, m in zip(boxes[i - 1], labels.shape, strict=True))
        sub = labels[box]
        own = sub == i
        ring = _crosses_dilated(own, 3) & (sub == 0)
        return box, own, dm._two_dome_fit(work[box], own, ring, *_LOOSE)

    # the merged final labels: truths assigned to them (each truth to its largest overlap)
    both = (final > 0) & (truth > 0)
    tids, tinv = np.unique(truth, return_inverse=True)
    best = {}
    pairs, counts = np.unique(np.stack([truth.ravel(), final.ravel()]), axis=1,
                              return_counts=True)
    for t, j, c in zip(*pairs, counts, strict=True):
        if t and c > best.get(t, (0, -1))[1]:
            best[t] = (j, c)
    hits = {}
    for t, (j, _) in best.items():
        if j:
            hits.setdefault(int(j), []).append(int(t))
    del both, tids, tinv
    for j, ts in hits.items():
        if len(ts) < 2:
            continue
        js, cnt = np.unique(labels[final == j], return_counts=True)
        cnt, js = cnt[js > 0], js[js > 0]
        row = dict(seed=seed, psf=psf, truths=len(ts), final_area=float(np.count_nonzero(
            final == j)) / unit)
        if not js.size:
            row["stage"] = "none"
            rec["merged"].append(row)
            continue
        i = int(js[np.argmax(cnt)])
        row.update(area_unit=float(sizes[i]) / unit, area_med=float(sizes[i]) / median,
                   domes_candidate=i in cands, fat_candidate=i in fat,
                   same=bool(cnt.max() >= 0.7 * np.count_nonzero(final == j)))
        box, own, fit = fit_of(i)
        sub_truth = np.where(own, truth[box], 0)
        # the two largest truths in it
        tt, tc = np.unique(sub_truth[sub_truth > 0], return_counts=True)
        two = tt[np.argsort(tc)[::-1][:2]]
        row.update(_cues(own, np.where(np.isin(sub_truth, two), sub_truth, 0),
                         smooth[box], d, bg))
        if fit is None:
            row.update(fit=False)
        else:
            part, gain, level, share = fit
            a = [np.count_nonzero(part & (sub_truth == t)) for t in two]
            b = [np.count_nonzero(~part & own & (sub_truth == t)) for t in two]
            right = len(two) == 2 and ((a[0] > b[0]) != (a[1] > b[1]))
            row.update(fit=True, gain=gain, level=level, share=share, parts_right=bool(right),
                       **_shape(own, part, d))
        rec["merged"].append(row)

    # the candidates: every dome-step label of at least _LEAST medians, its cut laid on
    # the final label it became (nuclei_dense_prior)
    for i in np.flatnonzero(sizes >= _LEAST * median).tolist():
        if i == 0 or boxes[i - 1] is None:
            continue
        box, own, fit = fit_of(i)
        if fit is None:
            continue
        part, gain, level, share = fit
        js, cnt = np.unique(final[box][own], return_counts=True)
        cnt, js = cnt[js > 0], js[js > 0]
        if not js.size:
            continue
        j = int(js[np.argmax(cnt)])
        fa = np.count_nonzero(final == j)
        if cnt.max() < 0.7 * own.sum() or cnt.max() < 0.7 * fa:
            continue
        laid = _laid(final, j, box, part, own)
        if laid is None:
            continue
        before = int(j in matched)
        after = 0
        for piece in laid:
            tb = truth[box][piece]
            tb = tb[tb > 0]
            if not tb.size:
                continue
            t = np.bincount(tb).argmax()
            inter = np.count_nonzero(tb == t)
            ta = np.count_nonzero(truth == t)
            after += int(inter / (piece.sum() + ta - inter) > 0.5)
        c = dict(area=float(sizes[i]), gain=gain, level=level, share=share,
                 delta=after - before, merged=j in hits and len(hits[j]) >= 2,
                 **_shape(own, part, d), **_cues(own, np.zeros_like(own, np.int32),
                                                 smooth[box], d, bg))
        # the valley between the two parts' own brightest points
        sm = smooth[box]
        pa = np.unravel_index(np.argmax(np.where(part, sm, -np.inf)), sm.shape)
        pb = np.unravel_index(np.argmax(np.where(own & ~part, sm, -np.inf)), sm.shape)
        c["valley"] = _saddle(sm, pa, pb, bg)
        c["neighbours"] = _neighbour_median(labels, i, box, d) / median
        rec["cands"].append(c)
    return rec


def _neighbour_median(labels, i, box, d):
    """The median area of the other labels whose pixels lie within 3 d of label ``i``'s
    box: a size reference a chunk's window holds."""
    r = int(3 * d)
    wide = tuple(slice(max(0, s.start - r), min(m, s.stop + r))
                 for s, m in zip(box, labels.shape, strict=True))
    sub = labels[wide]
    ids = np.unique(sub)
    ids = ids[(ids > 0) & (ids != i)]
    if not ids.size:
        return np.nan
    sizes = np.bincount(labels.ravel())
    return float(np.median(sizes[ids]))


def _measure_one(args):
    out, seed, psf = args
    path = os.path.join(out, f"{seed}_{psf}.pkl")
    if not os.path.exists(path):
        rec = measure_field(seed, psf)
        with open(path, "wb") as fh:
            pickle.dump(rec, fh)
    return seed


def _load(dirs):
    recs = []
    for dr in dirs:
        for name in sorted(os.listdir(dr)):
            if name.endswith(".pkl"):
                with open(os.path.join(dr, name), "rb") as fh:
                    recs.append(pickle.load(fh))
    return recs


def why(recs, worst=None):
    """The merged pairs (of the ``worst`` fields by F1, or all) by why they stayed one."""
    recs = sorted(recs, key=lambda r: r["f1"])[:worst] if worst else recs
    rows = [m for r in recs for m in r["merged"] if "area_unit" in m]
    n = len(rows)
    print(f"{len(recs)} fields (F1 {min(r['f1'] for r in recs):.3f}-"
          f"{max(r['f1'] for r in recs):.3f}), {n} merged labels")

    def share(cond):
        k = sum(1 for m in rows if cond(m))
        return f"{k:4d} ({100 * k / max(n, 1):3.0f} %)"

    print("two distance tops on two nuclei (a seed was there) ", share(lambda m: m["dt_on"] >= 2))
    print("two brightness tops on two nuclei                 ", share(lambda m: m["int_on"] >= 2))
    print("neither (no seed by shape or brightness)          ",
          share(lambda m: m["dt_on"] < 2 and m["int_on"] < 2))
    print("looked at by the dome step (_candidates)          ",
          share(lambda m: m["domes_candidate"]))
    print("looked at by the fat dome step (_too_large)       ",
          share(lambda m: m["fat_candidate"]))
    print("two domes fit (loose gates)                       ", share(lambda m: m.get("fit")))
    print("... and the cut parts the two nuclei              ",
          share(lambda m: m.get("parts_right")))
    print("... parted right, gain >= 0.6                     ",
          share(lambda m: m.get("parts_right") and m["gain"] >= 0.6))
    print("... parted right, neck <= 1.1                     ",
          share(lambda m: m.get("parts_right") and m["neck"] <= 1.1))
    from napari_tessella.nuclei import _domes as dm

    right = [m for m in rows if m.get("parts_right") and m["domes_candidate"]]
    fails = [(m["gain"] <= dm._GAIN, m["share"] < dm._PART, m["level"] < dm._LEVEL)
             for m in right]
    print(f"candidates of the dome step parted right: {len(right)}; the recipe's gates they "
          f"fail: gain <= {dm._GAIN}: {sum(f[0] for f in fails)}, part < {dm._PART}: "
          f"{sum(f[1] for f in fails)}, level < {dm._LEVEL}: {sum(f[2] for f in fails)}, "
          f"level alone: {sum(f == (False, False, True) for f in fails)}, none: "
          f"{sum(not any(f) for f in fails)}")
    print("area in medians: <1.0 / 1.0-1.4 / 1.4-1.8 / >=1.8  ",
          [sum(1 for m in rows if lo <= m["area_med"] < hi)
           for lo, hi in ((0, 1.0), (1.0, 1.4), (1.4, 1.8), (1.8, 99))])
    keys = ("area_med", "gain", "level", "share", "neck", "solidity", "valley")
    for k in keys:
        v = np.array([m[k] for m in rows if k in m], float)
        if v.size:
            print(f"  {k:<9} median {np.median(v):.3f}  10-90 % {np.percentile(v, 10):.3f}-"
                  f"{np.percentile(v, 90):.3f}  (n {v.size})")


_FEATURES = ("area_med", "gain", "level", "share", "neck", "solidity", "valley", "maxima",
             "depth", "int_tops", "nb")


def _x(c, r, ref="median"):
    """The cues of a candidate; its area in the field's median single area, or with
    ``ref="unit"`` in pi d^2 / 4 (the same in every chunk; the last cue then too)."""
    if ref == "unit":
        return [c["area"] / r["unit"], c["gain"], c["level"], c["share"],
                min(c["neck"], 3.0), c["solidity"], c["valley"], c["maxima"], c["depth"],
                c["int_tops"], c["inscribed"] / (r["d"] / 2)]
    return [c["area"] / r["median"], c["gain"], c["level"], c["share"], min(c["neck"], 3.0),
            c["solidity"], c["valley"], c["maxima"], c["depth"], c["int_tops"],
            c["area"] / r["median"] / max(c.get("neighbours", 1.0), 0.3)]


def _sum(recs, keep):
    """Mean field F1 before and after the cuts ``keep(c, r)`` says; fields better / worse,
    cuts, matches gained, and the F1 per field (after)."""
    f0, f1, per = [], [], []
    cuts = gained = 0
    for r in recs:
        dm = dc = 0
        for c in r["cands"]:
            if keep(c, r):
                dm += c["delta"]
                dc += 1
        a = 2 * r["M"] / (r["P"] + r["T"])
        b = 2 * (r["M"] + dm) / (r["P"] + dc + r["T"])
        f0.append(a)
        f1.append(b)
        per.append((r["seed"], a, b))
        cuts += dc
        gained += dm
    f0, f1 = np.array(f0), np.array(f1)
    return dict(f1=(round(float(f0.mean()), 4), round(float(f1.mean()), 4)),
                worst=(round(float(f0.min()), 3), round(float(f1.min()), 3)),
                better=int((f1 > f0 + 1e-12).sum()), worse=int((f1 < f0 - 1e-12).sum()),
                cuts=cuts, gained=gained), per


def fit_rule(recs, cost=0.45, ref="median"):
    """A logistic model of P(a cut gains a match) from the cues, fitted on ``recs``; a
    label is cut where that probability is over ``cost`` (a cut must gain 0.45 of a
    match to raise F1 near 0.9)."""
    xs, ys = [], []
    for r in recs:
        for c in r["cands"]:
            xs.append(_x(c, r, ref))
            ys.append(1.0 if c["delta"] > 0 else 0.0)
    x = np.array(xs, float)
    y = np.array(ys)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.c_[np.ones(len(x)), (x - mu) / sd]
    w = np.zeros(z.shape[1])
    for _ in range(50):  # Newton steps with a small ridge
        p = 1 / (1 + np.exp(-z @ w))
        g = z.T @ (p - y) + 1e-2 * w
        h = (z * (p * (1 - p))[:, None]).T @ z + 1e-2 * np.eye(len(w))
        w -= np.linalg.solve(h, g)
    return dict(mu=mu, sd=sd, w=w, cost=cost, ref=ref)


def _prob(model, c, r):
    z = (np.array(_x(c, r, model["ref"])) - model["mu"]) / model["sd"]
    return 1 / (1 + np.exp(-(model["w"][0] + z @ model["w"][1:])))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "measure":
        from multiprocessing import Pool

        out, first, last, psf = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        jobs = int(sys.argv[6]) if len(sys.argv) > 6 else 1
        os.makedirs(out, exist_ok=True)
        tasks = [(out, s, psf) for s in range(first, last + 1)]
        with Pool(jobs) as pool:
            for s in pool.imap_unordered(_measure_one, tasks):
                print(s, flush=True)
    elif cmd == "why":
        worst = int(sys.argv[sys.argv.index("--worst") + 1]) if "--worst" in sys.argv else None
        why([r for r in _load([sys.argv[2]]) if r.get("dense")], worst)


def _gates(area=(1.0, 99.0), gain=0.6, level=0.0, neck=9.0, valley=-1.0, unit=False):
    """A cut of a candidate of ``area`` single areas (the field's median, or with ``unit``
    pi d^2 / 4: the same in every chunk), the fit's gain at least ``gain``, the dimmer dome
    at least ``level`` of the brighter, the neck at most ``neck``, the valley between the
    parts' tops at least ``valley``."""
    def keep(c, r):
        a = c["area"] / (r["unit"] if unit else r["median"])
        return (area[0] <= a < area[1] and c["gain"] >= gain and c["level"] >= level
                and min(c["neck"], 9.0) <= neck and c["valley"] >= valley)
    return keep


def _report(name, res):
    print(f"{name:<58} F1 {res['f1'][0]:.4f} -> {res['f1'][1]:.4f}  worst field "
          f"{res['worst'][0]:.3f} -> {res['worst'][1]:.3f}  better/worse {res['better']}/"
          f"{res['worse']}  cuts {res['cuts']} matches {res['gained']:+d}")


def _cut(model, c, r):
    return _prob(model, c, r) > model["cost"]


if __name__ == "__main__" and sys.argv[1] == "rule":  # rule OUT... [--fit TUNING...]
    import itertools
    from functools import partial

    args = sys.argv[2:]
    args = [a for a in args if a != "--fields"]
    held = args[:args.index("--fit")] if "--fit" in args else args
    tune = args[args.index("--fit") + 1:] if "--fit" in args else args
    tr = [r for r in _load(tune) if r.get("dense") and "median" in r]
    ho = [r for r in _load(held) if r.get("dense") and "median" in r]
    print(f"tuning {len(tr)} fields, judged {len(ho)} fields")
    rows = []
    for lo, g, lv, nk, vl, un in itertools.product(
            (0.9, 1.0, 1.2, 1.4), (0.3, 0.6, 1.0), (0.0, 0.3, 0.5), (1.1, 1.4, 9.0),
            (-1.0, 0.05, 0.1), (False, True)):
        if un and lo < 1.2:
            continue
        spec = dict(area=(lo * (1.3 if un else 1.0), 99.0), gain=g, level=lv, neck=nk,
                    valley=vl, unit=un)
        rows.append((_sum(tr, _gates(**spec))[0], spec))
    rows.sort(key=lambda r: -r[0]["f1"][1])
    print("best gates on the tuning fields, then the same on the judged ones:")
    for res, spec in rows[:6]:
        _report("tuning " + str({k: v for k, v in spec.items()}), res)
        _report("  judged", _sum(ho, _gates(**spec))[0])
    best_unit = max((r for r in rows if r[1]["unit"]), key=lambda r: r[0]["f1"][1])
    _report("tuning, best chunk-safe " + str(best_unit[1]), best_unit[0])
    _report("  judged", _sum(ho, _gates(**best_unit[1]))[0])
    for ref in ("median", "unit"):
        model = fit_rule(tr, ref=ref)
        for cost in (0.45, 0.55, 0.65):
            model["cost"] = cost
            res, _ = _sum(tr, partial(_cut, model))
            _report(f"tuning, logistic over the cues ({ref}), p > {cost}", res)
            res, per = _sum(ho, partial(_cut, model))
            _report("  judged", res)
            if "--fields" in sys.argv:
                print("  ", [(s, round(a, 3), round(b, 3)) for s, a, b in per if a != b])
        print(f"logistic weights ({ref}, standardised):",
              dict(zip(("const", *_FEATURES), np.round(model["w"], 2).tolist(), strict=True)))


def unmatched(seed, psf):
    """Why each truth nucleus of a field has no match at IoU 0.5: missing (under a fifth
    of it covered), split (two labels of its own, each holding a fifth of it or more and
    this nucleus most), merged (its largest label holds 0.3 of another nucleus too), else
    its outline (a neighbour's label reaching into it, or its own label too large)."""
    from nuclei_dense_heldout import challenge_field

    from napari_tessella.nuclei import seeded_watershed

    image, truth = challenge_field(seed, psf=psf)
    pred = seeded_watershed(image).labels
    pairs, counts = np.unique(np.stack([truth.ravel(), pred.ravel()]), axis=1,
                              return_counts=True)
    ta, pa = np.bincount(truth.ravel()), np.bincount(pred.ravel())
    owner, top = {}, {}  # each truth's largest label; each label's largest truth (or 0)
    for t, j, c in zip(*pairs, counts, strict=True):
        if t and j and c > owner.get(t, (0, 0))[1]:
            owner[t] = (j, c)
        if j and c > top.get(j, (0, -1))[1]:
            top[j] = (t, c)
    top = {j: t for j, (t, _) in top.items()}
    held = {}
    for t, (j, _) in owner.items():
        held.setdefault(j, []).append(t)
    out = dict(matched=0, merged=0, outline=0, split=0, missing=0)
    for t in range(1, ta.size):
        if not ta[t]:
            continue
        j, c = owner.get(t, (0, 0))
        if j and c / (ta[t] + pa[j] - c) > 0.5:
            out["matched"] += 1
            continue
        cover = [(jj, cc) for tt, jj, cc in zip(*pairs, counts, strict=True) if tt == t and jj]
        if sum(cc for _, cc in cover) < 0.2 * ta[t]:
            out["missing"] += 1
        elif sum(cc >= 0.2 * ta[t] and top[jj] == t for jj, cc in cover) >= 2:
            out["split"] += 1
        elif sum(owner[t2][1] >= 0.3 * ta[t2] for t2 in held[j]) >= 2:
            out["merged"] += 1
        else:
            out["outline"] += 1
    return out


if __name__ == "__main__" and sys.argv[1] == "unmatched":  # unmatched PSF SEED...
    tot = {}
    for s in sys.argv[3:]:
        o = unmatched(int(s), float(sys.argv[2]))
        print(s, o, flush=True)
        tot = {k: tot.get(k, 0) + v for k, v in o.items()}
    print("together", tot)


def end_to_end(fields):
    """Errors and F1 of the defaults with and without ``_recipe._PAIR_ODDS``, field by
    field (``fields``: (name, image, truth)); a field where the step cut nothing is
    scored once (its labels are the base's)."""
    from napari_tessella.nuclei import _recipe, score_segmentation, seeded_watershed

    try:
        from napari_tessella.nuclei import _pair_odds
    except ImportError:
        sys.exit("end: the odds step (napari_tessella.nuclei._pair_odds) is not in this "
                 "package: it was measured and left out (docs/nuclei-history.md, round 59)")

    cuts = []
    orig = _pair_odds._split_by_odds

    def counted(*args, **kw):
        out = orig(*args, **kw)
        cuts.append(len(out[1]))
        return out

    _recipe._split_by_odds = counted
    rows = []
    try:
        for name, image, truth in fields:
            del cuts[:]
            _recipe._PAIR_ODDS = True
            on = score_segmentation(seeded_watershed(image).labels, truth)
            n = sum(cuts)
            if n:
                _recipe._PAIR_ODDS = False
                off = score_segmentation(seeded_watershed(image).labels, truth)
            else:
                off = on
            rows.append((name, off, on, n))
            print(name, f"errors {off['errors']} -> {on['errors']}  F1 {off['f1']:.4f} -> "
                  f"{on['f1']:.4f}  cuts {n}", flush=True)
    finally:
        _recipe._split_by_odds, _recipe._PAIR_ODDS = orig, True
    f0 = np.array([r[1]["f1"] for r in rows])
    f1 = np.array([r[2]["f1"] for r in rows])
    e0 = sum(r[1]["errors"] for r in rows)
    e1 = sum(r[2]["errors"] for r in rows)
    print(f"{len(rows)} fields: F1 {f0.mean():.4f} -> {f1.mean():.4f} (worst {f0.min():.3f} -> "
          f"{f1.min():.3f}), errors {e0} -> {e1}, better {(f1 > f0).sum()}, worse "
          f"{(f1 < f0).sum()}, fields cut {sum(r[3] > 0 for r in rows)}")


if __name__ == "__main__" and sys.argv[1] == "end":  # end dense PSF FIRST LAST, or KIND
    if sys.argv[2] == "dense":
        from nuclei_dense_heldout import challenge_field

        psf = float(sys.argv[3])
        seeds = range(int(sys.argv[4]), int(sys.argv[5]) + 1)
        end_to_end((f"x{psf} {s}", *challenge_field(s, psf=psf)) for s in seeds)
    else:
        from nuclei_cellline import make

        kind = sys.argv[2]
        seeds = range(int(sys.argv[3]), int(sys.argv[4]) + 1)
        end_to_end((f"{kind} {s}", *make(kind, s)) for s in seeds)
