"""Per-object breakdown of the default nuclei errors on the cell-line fields (round 10).

For every missing nucleus of ``benchmarks/nuclei_cellline.py``'s fields: its median over
its local background, its contrast on the flattened working image and on its ring, its
distance to the nearest saturated cell (in d), and the step of ``_segment_work`` that
lost it (its pixels followed through the stages: ``mask`` the log-Otsu foreground,
``first`` the first watershed after the size filter, ``trim``, ``split``, ``sized`` the
minimum size, ``unsharp``, ``rim``, ``edges``; per stage o = its own label, m = merged, b
= background). For every spurious object: area (nucleus areas), distance to a saturated
cell, border contact, elongation, the share of it on truth nuclei, its contrast. One JSON
line per object.

Usage::

    python benchmarks/nuclei_breakdown.py KIND SEEDS   # e.g. dim 0,1,2
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nuclei_cellline as bench

from napari_tessella.nuclei import _recipe, seeded_watershed
from napari_tessella.nuclei import watershed as _watershed
from napari_tessella.nuclei._orient import of_image, to_canonical

STAGES = ["mask", "first", "trim", "split", "sized", "unsharp", "rim", "edges"]
REC: dict = {}


def _record(name, pick):
    f = getattr(_recipe, name)

    def wrapped(*a, **k):
        out = f(*a, **k)
        pick(a, out)
        return out

    setattr(_recipe, name, wrapped)


def _keep(key, value):
    # the small blobs' own passes (_recipe._with_small_blobs) run the same steps on boxes:
    # only the whole working image's stages are kept
    if key != "smooth" and np.shape(value) != REC["smooth"].shape:
        return
    REC[key] = np.array(value, copy=True)


def _sized(a, _out):
    if a[0].shape == REC.get("split", np.empty(0)).shape and len(a) > 3 and a[3] is not None \
            and "sized" not in REC:
        _keep("sized", a[0])


_record("_trim_to_own_peak", lambda a, o: (_keep("first", a[0]), _keep("trim", o[0])))
_record("_split_merges", lambda a, o: _keep("split", o[0]))
_record("_core_peak", _sized)
_record("_drop_unsharp", lambda a, o: _keep("unsharp", o[0]))
_record("_rim_outlines", lambda a, o: _keep("rim", o[0]))
_record("_edges_and_glows", lambda a, o: _keep("edges", o[0]))
_segment = _recipe._segment_work


def _segment_work(smooth, mask, **k):
    REC.clear()
    _keep("smooth", smooth)
    _keep("mask", mask)
    REC["level"] = k["level"]
    return _segment(smooth, mask, **k)


_watershed._segment_work = _segment_work


def _status(lab, t, ref_w):
    own = ref_w == t
    if not own.any():  # no pixel at the working grid's sample points (a sliver left)
        return "-"
    if lab.dtype == bool:
        return "o" if lab[own].mean() > 0.5 else "b"
    ids, cnt = np.unique(lab[own], return_counts=True)
    j = ids[np.argmax(cnt)]
    if j == 0:
        return "b"
    o_ids, o_cnt = np.unique(ref_w[lab == j], return_counts=True)
    others = o_ids[(o_cnt > 0.25 * own.sum()) & (o_ids > 0)]
    return "o" if others.size <= 1 else "m"


def _edge_touch(m):
    return bool(m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any())


def breakdown(kind, seed):
    img, ref = bench.make(kind, seed)
    # the stages are recorded in the orientation the recipe works in (round 19, _orient):
    # the field and its truth are put in it first (else a flipped field's stages were
    # compared with the truth as drawn)
    orient = of_image(np.asarray(img, dtype=np.float64))
    img, ref = (np.ascontiguousarray(to_canonical(a, orient)) for a in (img, ref))
    res = seeded_watershed(img)
    lab, d = res.labels, res.object_diameter
    smooth, level = REC["smooth"], REC["level"]
    # the working image is the ceiling of the shape over the factor (453 px at 2: 227)
    f = max(1, round(img.shape[0] / smooth.shape[0]))
    rows, cols = (np.minimum(f // 2 + f * np.arange(n), size - 1)  # last block: partial
                  for n, size in zip(smooth.shape, img.shape, strict=True))
    ref_w = ref[np.ix_(rows, cols)]
    n = int(ref.max())
    table = np.zeros((lab.max() + 1, n + 1), np.int64)
    np.add.at(table, (lab.ravel(), ref.ravel()), 1)
    seg_to_ref, ref_to_seg = table[1:].argmax(1), table[:, 1:].argmax(0)
    med = np.nan_to_num(ndi.median(img, ref, np.arange(1, n + 1)))
    near = ndi.binary_dilation(ref > 0, iterations=3)
    far = ndi.distance_transform_edt(~near) > 2
    bright = [i for i in range(1, n + 1) if med[i - 1] > 4 * np.median(med)]
    with np.errstate(invalid="ignore"):  # painted-over labels: no centre (NaN, unused)
        cents = np.array(ndi.center_of_mass(np.ones_like(ref), ref, np.arange(1, n + 1)))
    nucleus = np.pi * d * d / 4
    rows = []
    present = np.bincount(ref.ravel(), minlength=n + 1)[1:] > 0
    for t in range(1, n + 1):
        # a truth label painted over by a later nucleus has no pixel left: not an object
        if not present[t - 1] or ref_to_seg[t - 1] != 0 or t in bright:
            continue
        m = ref == t
        dt = ndi.distance_transform_edt(~m)
        ring = (dt > 0.3 * d) & (dt < d) & ~near
        mw = ref_w == t
        ring_w = ndi.binary_dilation(mw, iterations=max(2, int(d / f / 3))) & ~mw & (ref_w == 0)
        st = "".join(_status(REC[s], t, ref_w) for s in STAGES)
        rows.append(dict(
            kind="missing", seed=seed, t=t,
            ratio=round(float(med[t - 1] / np.median(img[ring])), 2) if ring.any() else None,
            flat=round(float(np.median(smooth[mw]) - level), 1),
            flatring=round(float(np.median(smooth[ring_w]) - level), 1) if ring_w.any() else None,
            dbright=round(min([float(np.hypot(*(cents[t - 1] - cents[b - 1]))) for b in bright]
                              or [np.inf]) / d, 2),
            area=round(float(m.sum() / nucleus), 2), border=_edge_touch(m),
            lost=next((s for s, v in zip(STAGES, st, strict=True) if v not in "o-"), "final"),
            stages=st))
    for j in np.flatnonzero(seg_to_ref == 0) + 1:
        m = lab == j
        cm = np.array(ndi.center_of_mass(m))
        rr, cc = np.nonzero(m)
        ev = np.linalg.eigvalsh(np.cov(np.stack([rr, cc]))) if rr.size > 2 else [1.0, 1.0]
        rows.append(dict(
            kind="spurious", seed=seed, area=round(float(m.sum() / nucleus), 2),
            dbright=round(min([float(np.hypot(*(cm - cents[b - 1]))) for b in bright]
                              or [np.inf]) / d, 2),
            border=_edge_touch(m), elong=round(float(np.sqrt(ev[1] / max(ev[0], 1e-9))), 1),
            on_truth=round(float(table[j, 1:].sum() / m.sum()), 2),
            contrast=round(float(np.median(img[m]) / np.median(img[far])), 2)))
    return rows


if __name__ == "__main__":
    for s in sys.argv[2].split(","):
        for row in breakdown(sys.argv[1], int(s)):
            print(json.dumps(row))
