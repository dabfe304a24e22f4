"""Dense fields: a size prior measured once over the whole field, and the cut's shape (round 58).

Issue 14's merged pairs at PSF ×2 are mostly labels of 1.0-1.8 single-nucleus areas, where
a two-dome cut gains too little by its fit alone (round 57). Here each field is segmented
once with the defaults; the labels leaving the last dome step
(``_domes._split_fat_by_domes``) are kept, with the field's size prior measured once over
all of them (the median and the mode of the areas of its solid labels), and each label of
at least ``_LEAST`` priors is fitted with two domes as ``_domes._two_domes`` fits it (loose
gates, the gain returned). Each cut is read by its shape: the label's area in priors, its
solidity, its distance-transform maxima, and the neck (the cut's length against the
two parts' inscribed diameters). Each cut is laid onto the final label it became (at least
0.7 of each in the other; the pixels outside the dome label go to the nearer part) and
scored against the truth: the matches at IoU 0.5 it gains or loses. A label's match is
its own, so the cuts add up and a rule's F1 is 2 (M + ΔM) / (P + cuts + T).

Usage::

    python benchmarks/nuclei_dense_prior.py measure OUT FIRST LAST PSF [JOBS]
    python benchmarks/nuclei_dense_prior.py classes OUT... [--mode | --unit]
    python benchmarks/nuclei_dense_prior.py rule OUT... [--mode | --unit] --grid
    python benchmarks/nuclei_dense_prior.py rule OUT... [--unit] --gates "dict(...)"
    python benchmarks/nuclei_dense_prior.py end FIRST LAST PSF

``measure`` writes one pickle of features per field under ``OUT`` (seeds FIRST..LAST);
``classes`` and ``rule`` read them back: the cuts by area and neck, and F1 before and
after a rule (:func:`_gate`; areas in the field's median single area, its mode, or
``--unit`` pi d^2 / 4). ``end`` runs the defaults without and with
``_recipe._NECK_DOMES`` (the step :func:`napari_tessella.nuclei._domes._split_necked_by_domes`,
where it exists) field by field, which checks the sum of the cuts end to end.
"""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, os.path.dirname(__file__))

_LEAST = 1.0  # candidates: labels of at least this many priors (median of solid labels)
_LOOSE = (-1e9, 0.15, 0.3)  # the two-dome gates of the measurement: gain, part, level


def _matches(pred, truth):
    """The pairs (pred id, truth id) matched at IoU > 0.5, and the counts P, T."""
    both = (pred > 0) & (truth > 0)
    pairs, counts = np.unique(np.stack([pred[both], truth[both]]), axis=1,
                              return_counts=True)
    pa = np.bincount(pred.ravel())
    ta = np.bincount(truth.ravel())
    iou = counts / (pa[pairs[0]] + ta[pairs[1]] - counts)
    good = iou > 0.5
    return dict(zip(pairs[0][good].tolist(), pairs[1][good].tolist(), strict=True))


def _prior(labels, d):
    """The field's single-nucleus area, measured once over all its labels: the median
    and the mode (of the log areas) of the labels of solidity 0.93 or more and at least
    0.3 nucleus areas."""
    from skimage.measure import regionprops

    unit = np.pi * d * d / 4
    areas = np.array([r.area for r in regionprops(labels)
                      if r.area >= 0.3 * unit and r.solidity >= 0.93], float)
    if areas.size < 5:
        return unit, unit
    la = np.log(areas)
    grid = np.linspace(la.min(), la.max(), 200)
    bw = 1.06 * la.std() * la.size ** -0.2
    dens = np.exp(-0.5 * ((grid[:, None] - la[None]) / max(bw, 1e-3)) ** 2).sum(1)
    return float(np.median(areas)), float(np.exp(grid[np.argmax(dens)]))


def _two_domes_gain(image, own, ring):
    """``_domes._two_domes`` with loose gates: (part, gain, level ratio, share) or None."""
    from napari_tessella.nuclei import _domes as dm

    return dm._two_dome_fit(image, own, ring, _LOOSE[1], _LOOSE[2])


def _shape(own, part, d):
    """The cut's shape: the label's solidity, its distance-transform maxima (at least d / 4
    apart and d / 8 deep), the neck (the cut's length / the smaller part's inscribed
    diameter) and the depth of the cut (the distance map on the cut / its smaller maximum)."""
    from skimage.feature import peak_local_max
    from skimage.measure import regionprops

    pad = np.pad(own, 2)
    dt = ndi.distance_transform_edt(pad)
    peaks = peak_local_max(dt, min_distance=max(1, int(d / 4)), threshold_abs=d / 8,
                           exclude_border=False)
    solidity = regionprops(pad.astype(np.uint8))[0].solidity
    a = np.pad(part, 2)
    b = pad & ~a
    cut = a & ndi.binary_dilation(b)  # the part's pixels on the cut
    da = ndi.distance_transform_edt(a).max()
    db = ndi.distance_transform_edt(b).max()
    width = int(np.count_nonzero(cut))
    depth = float(dt[cut].max() / min(dt[a].max(), dt[b].max())) if width else 1.0
    return dict(solidity=float(solidity), maxima=len(peaks),
                neck=float(width / max(2 * min(da, db), 1e-9)), depth=depth,
                inscribed=float(dt.max()))


def _laid(final, j, box, part_full, own_full):
    """The final label ``j`` cut as the dome label's part: its pixels in the part, or
    outside the dome label nearer the part, one new label; None if either is empty."""
    f = final[box] == j
    dist_in = ndi.distance_transform_edt(~part_full)
    dist_out = ndi.distance_transform_edt(~(own_full & ~part_full))
    a = f & (dist_in < dist_out)
    if not a.any() or not (f & ~a).any():
        return None
    return a, f & ~a


def measure_field(seed, psf):
    from nuclei_dense_heldout import challenge_field

    from napari_tessella._label_image import _crosses_dilated
    from napari_tessella.nuclei import _recipe, seeded_watershed

    cap = {}
    orig = _recipe._split_fat_by_domes

    def wrap(labels, smooth, level, d, first, image=None):
        out = orig(labels, smooth, level, d, first, image=image)
        cap["L"], cap["work"], cap["d"] = out[0].copy(), image, d
        return out

    _recipe._split_fat_by_domes = wrap
    neck, _recipe._NECK_DOMES = getattr(_recipe, "_NECK_DOMES", False), False  # the base's
    try:
        image, truth = challenge_field(seed, psf=psf)
        final = seeded_watershed(image).labels
    finally:
        _recipe._split_fat_by_domes, _recipe._NECK_DOMES = orig, neck
    matched = _matches(final, truth)
    rec = dict(seed=seed, psf=psf, M=len(matched), P=int(len(np.unique(final)) - 1),
               T=int(len(np.unique(truth)) - 1), cands=[], dense="L" in cap)
    if "L" not in cap or cap["L"].shape != final.shape:
        return rec
    labels, work, d = cap["L"], cap["work"], cap["d"]
    from napari_tessella.nuclei._orient import TURNS

    # the dome step works in the orientation the image's content gives: the final labels
    # and the truth turned into it (the turn whose foreground meets the dome labels' most)
    turn = max(TURNS.values(), key=lambda f: np.count_nonzero((f(final) > 0) & (labels > 0)))
    final, truth = np.ascontiguousarray(turn(final)), np.ascontiguousarray(turn(truth))
    median, mode = _prior(labels, d)
    rec.update(d=d, median=median, mode=mode, unit=np.pi * d * d / 4)
    sizes = np.bincount(labels.ravel())
    boxes = ndi.find_objects(labels)
    pad = 6
    for i in np.flatnonzero(sizes >= _LEAST * median).tolist():
        if i == 0 or boxes[i - 1] is None:
            continue
        box = tuple(slice(max(0, s.start - pad), min(m, s.stop + pad))
                    for s, m in zip(boxes[i - 1], labels.shape, strict=True))
        sub = labels[box]
        own = sub == i
        ring = _crosses_dilated(own, 3) & (sub == 0)
        fit = _two_domes_gain(work[box], own, ring)
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
        # truth inside j that j matched; a piece can now match a truth j did not
        c = dict(area=float(sizes[i]), gain=gain, level=level, share=share,
                 delta=after - before, **_shape(own, part, d))
        rec["cands"].append(c)
    return rec


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


def rule_f1(recs, keep, prior="median"):
    """F1 over the fields before and after cutting the candidates ``keep(c, prior)`` says,
    with the fields better and worse, the cuts and the matches they gain."""
    m0 = p0 = t0 = m1 = p1 = 0
    better = worse = cuts = gained = 0
    for r in recs:
        dm = dc = 0
        for c in r["cands"]:
            if keep(c, r.get(prior, 1.0)):
                dm += c["delta"]
                dc += 1
        m0 += r["M"]
        p0 += r["P"]
        t0 += r["T"]
        m1 += r["M"] + dm
        p1 += r["P"] + dc
        f0 = 2 * r["M"] / (r["P"] + r["T"])
        f1 = 2 * (r["M"] + dm) / (r["P"] + dc + r["T"])
        better += f1 > f0 + 1e-12
        worse += f1 < f0 - 1e-12
        cuts += dc
        gained += dm
    mean0 = np.mean([2 * r["M"] / (r["P"] + r["T"]) for r in recs])
    mean1 = mean0 + np.mean([
        2 * (r["M"] + sum(c["delta"] for c in r["cands"] if keep(c, r.get(prior, 1.0))))
        / (r["P"] + sum(1 for c in r["cands"] if keep(c, r.get(prior, 1.0))) + r["T"])
        - 2 * r["M"] / (r["P"] + r["T"]) for r in recs])
    return dict(f1=(float(mean0), float(mean1)), better=better, worse=worse, cuts=cuts,
                gained=gained)


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        from multiprocessing import Pool

        out, first, last, psf = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        jobs = int(sys.argv[6]) if len(sys.argv) > 6 else 1
        os.makedirs(out, exist_ok=True)
        tasks = [(out, s, psf) for s in range(first, last + 1)]
        with Pool(jobs) as pool:
            for s in pool.imap_unordered(_measure_one, tasks):
                print(s, flush=True)


def _gate(area=(1.0, 1.8), gain=0.6, solidity=1.0, neck=9.0, level=0.0, share=0.0):
    """A rule: a candidate of ``area`` priors (lower, upper), the fit's gain at least
    ``gain``, the label's solidity at most ``solidity``, the neck at most ``neck``, the
    dimmer dome at least ``level`` of the brighter, the smaller part at least ``share``."""
    def keep(c, prior):
        return (area[0] <= c["area"] / prior < area[1] and c["gain"] >= gain
                and c["solidity"] <= solidity and c["neck"] <= neck
                and c["level"] >= level and c["share"] >= share)
    return keep


def _classes(recs, prior="median"):
    """Per bin of area in priors: cuts, matches gained and lost, by gain and neck."""
    rows = []
    for lo, hi in ((1.0, 1.4), (1.4, 1.8), (1.8, 2.6), (2.6, 99)):
        for g in (0.3, 0.6, 1.0):
            for nk in (9.0, 1.4, 1.2):
                cs = [c for r in recs for c in r["cands"]
                      if lo <= c["area"] / r.get(prior, 1.0) < hi and c["gain"] >= g
                      and c["neck"] <= nk]
                rows.append((lo, hi, g, nk, len(cs), sum(c["delta"] > 0 for c in cs),
                             sum(c["delta"] for c in cs if c["delta"] > 0),
                             -sum(c["delta"] for c in cs if c["delta"] < 0)))
    return rows


if __name__ == "__main__" and sys.argv[1] in ("classes", "rule"):
    dirs = [a for a in sys.argv[2:] if not a.startswith("--") and "=" not in a]
    prior = "mode" if "--mode" in sys.argv else "unit" if "--unit" in sys.argv else "median"
    recs = [r for r in _load(dirs) if r.get("dense") and "median" in r]
    print(f"{len(recs)} fields on the dense path; prior = {prior}")
    if "--grid" in sys.argv:  # the gates tried on the tuning seeds, best first
        import itertools

        rows = []
        for lo, hi, g, nk, lv in itertools.product((1.0, 1.2, 1.4), (1.8, 2.2, 99.0),
                                                   (0.3, 0.6, 1.0), (1.1, 1.2, 1.3, 1.4),
                                                   (0.0, 0.5)):
            spec = dict(area=(lo, hi), gain=g, neck=nk, level=lv)
            rows.append((rule_f1(recs, _gate(**spec), prior), spec))
        rows.sort(key=lambda r: -r[0]["f1"][1])
        for res, spec in rows[:15]:
            print(spec, res)
    elif sys.argv[1] == "classes":
        print("area/prior  gain>=  neck<=  cuts  +matches  -matches")
        for lo, hi, g, nk, n, _, plus, minus in _classes(recs, prior):
            print(f"{lo:.1f}-{hi:<4.1f}  {g:5.1f}  {nk:6.1f}  {n:4d}  {plus:8d}  {minus:8d}")
    else:
        spec = eval(sys.argv[sys.argv.index("--gates") + 1])  # a dict of _gate's arguments
        print(spec, rule_f1(recs, _gate(**spec), prior))


def end_to_end(seeds, psf):
    """F1 of the defaults without and with ``_recipe._NECK_DOMES``, field by field."""
    from nuclei_dense_heldout import challenge_field

    from napari_tessella.nuclei import _recipe, score_segmentation, seeded_watershed

    rows = []
    for s in seeds:
        image, truth = challenge_field(s, psf=psf)
        f = []
        for on in (False, True):
            _recipe._NECK_DOMES = on
            f.append(score_segmentation(seeded_watershed(image).labels, truth)["f1"])
        _recipe._NECK_DOMES = True
        rows.append(f)
        print(s, f"{f[0]:.4f} {f[1]:.4f}", flush=True)
    a = np.array(rows)
    print(f"psf {psf}, {len(seeds)} fields: F1 {a[:, 0].mean():.4f} -> {a[:, 1].mean():.4f}, "
          f"better {(a[:, 1] > a[:, 0]).sum()}, worse {(a[:, 1] < a[:, 0]).sum()}")


if __name__ == "__main__" and sys.argv[1] == "end":  # end FIRST LAST PSF
    end_to_end(range(int(sys.argv[2]), int(sys.argv[3]) + 1), float(sys.argv[4]))
