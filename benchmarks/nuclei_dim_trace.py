"""Trace: which step of the recipe loses each dim nucleus beside a bright cell (issue 14).

The dim nuclei of the cell-line fields (:mod:`nuclei_cellline`) are those a field places
1-2 d from a bright or saturated cell (in ``uneven d32`` the 8 placed there). The recipe
(:func:`napari_tessella.nuclei.seeded_watershed`) is run once per field with the labels
after each of its steps kept (the working image's labels, enlarged to full resolution in
the orientation the recipe works in; the last step is the outlines at full resolution,
the result). A dim nucleus matched at IoU < 0.5 at the end is lost:

- at **cut** when under half of it is foreground in the mask the watershed floods (the
  global cut and the dim search's pixels, after the minimum size);
- at **watershed** when no label of the flood or of any later step matches it at
  IoU >= 0.5;
- else at the last step after which its best IoU falls from >= 0.5 to under 0.5.

The label holding most of it at the end is **half** (it lies on the nucleus for at least
0.7 of itself), **glow** (on it for less, on other nuclei for under 0.2: the rest is
background), **merged** (0.2 of the label or more on other nuclei) or **none** (no label
holds 0.2 of the nucleus). Each field's errors (split/merged/spurious/missing, as
``benchmarks/coelho2009.py``) are kept too, so that two trees are compared field by
field: ``--json PATH`` writes them, ``--compare A.json B.json`` reads two such runs.

Usage::

    PYTHONPATH=src python benchmarks/nuclei_dim_trace.py --seeds 17600-17629 \
        [--kinds dim,mixed d28] [--json out.json]
    python benchmarks/nuclei_dim_trace.py --compare base.json mine.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import nuclei_cellline as cl

#: the kinds with dim nuclei beside bright or saturated cells
KINDS = ("dim", "halo", "fibroblast", "mixed d28", "uneven d32")
#: the steps of ``_segment_work`` whose labels are kept, by the name the recipe calls
STEPS = ("_trim_to_own_peak", "_dim_kept", "_split_at_necks_of", "_split_clusters",
         "_split_at_necks", "_split_at_waists", "_split_merges", "_split_at_steps",
         "_split_crowds", "_drop_unsharp", "_drop_streaks", "_rim_outlines",
         "_edges_and_glows", "_without_border_specks", "_drop_ended", "_fill_enclosed",
         "_with_glow_dim", "_with_over_glow", "_with_shoulders", "_with_pairs",
         "_drop_glow_pieces", "_with_small_blobs")
#: the kinds of error a field's row keeps (``score_segmentation``'s)
ERRORS = ("split", "merged", "spurious", "missing")


def dim_ids(kind: str, seed: int) -> list[int]:
    """The truth ids of the dim nuclei a ``kind`` field places beside its bright cells
    (the field's own first draws, repeated)."""
    if kind == "uneven d32":
        rng = np.random.default_rng([seed, 1010])
        d, side, n_bright, n_dim = 32, 448, 3, 8
    else:
        d, side, _, n_dim, n_bright, _ = cl.KINDS[kind]
        rng = np.random.default_rng([seed, sum(map(ord, kind))])
    rng.uniform(80, 160)
    rng.uniform(1.5, 3.0)
    shape = (side, side)
    bright = cl._place(rng, n_bright, shape, d, 1.2, [])
    dim = cl._place(rng, n_dim, shape, d, 0.9, bright, near=bright)
    return list(range(len(bright) + 1, len(bright) + len(dim) + 1))


@contextlib.contextmanager
def traced(steps: list):
    """Within: each ``seeded_watershed`` call appends ``(name, labels)`` to ``steps``
    (working resolution, the recipe's orientation) and ``("prep", (factor, shape,
    orient))``; only the outermost of nested recipe steps is kept."""
    from napari_tessella.nuclei import _recipe, watershed

    depth = [0]
    saved = {}

    def wrap(name, pick):
        fn = getattr(_recipe, name)

        def inner(*args, **kwargs):
            depth[0] += 1
            try:
                out = fn(*args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0:
                for label, arr in pick(args, out):
                    steps.append((label, np.array(arr, copy=True)))
            return out

        saved[name] = fn
        setattr(_recipe, name, inner)

    def first(out):
        return out[0] if isinstance(out, tuple) else out

    wrap("_flood", lambda a, o: [("cut", a[2]), ("watershed", o)])
    wrap("_core_peak", lambda a, o: [("min size", a[0])])
    for name in STEPS:
        if hasattr(_recipe, name):
            wrap(name, lambda a, o, n=name: [(n.strip("_"), first(o))])
    segmented = watershed._segmented

    def seg(prep, *args, **kwargs):
        del steps[:]  # (a dense field's sharpened second run: its own steps)
        steps.append(("prep", (prep.factor, prep.full_shape, kwargs.get("orient"))))
        return segmented(prep, *args, **kwargs)

    watershed._segmented = seg
    try:
        yield
    finally:
        watershed._segmented = segmented
        for name, fn in saved.items():
            setattr(_recipe, name, fn)


def _enlarged(lab, factor, shape):
    out = np.repeat(np.repeat(lab, factor, 0), factor, 1)[:shape[0], :shape[1]]
    return out


def _ious(nucleus, labels, sizes):
    """(best IoU, id of the label holding most of it, share of it held)."""
    ids, inter = np.unique(labels[nucleus], return_counts=True)
    inter, ids = inter[ids > 0], ids[ids > 0]
    if not ids.size:
        return 0.0, 0, 0.0
    area = int(nucleus.sum())
    iou = inter / (area + sizes[ids] - inter)
    most = int(np.argmax(inter))
    return float(iou.max()), int(ids[most]), float(inter[most] / area)


def trace_field(kind: str, seed: int) -> dict:
    """One field: its errors and, per dim nucleus, the step that loses it and the mode."""
    from napari_tessella.nuclei import score_segmentation, seeded_watershed
    from napari_tessella.nuclei._orient import to_canonical

    img, truth = cl.make(kind, seed)
    steps: list = []
    with traced(steps):
        final = seeded_watershed(img).labels
    errors = {k: v for k, v in score_segmentation(final, truth).items()
              if k in (*ERRORS, "errors")}
    factor, shape, orient = steps[0][1]
    canon = truth if orient is None else to_canonical(truth, orient)
    names, stacks = [], []
    for name, arr in steps[1:]:
        names.append(name)
        stacks.append(_enlarged(arr, factor, shape))
    cut = stacks[names.index("cut")] > 0
    labelled = [(n, s, np.bincount(s.ravel())) for n, s in zip(names, stacks, strict=True)
                if n != "cut"]
    final_sizes = np.bincount(final.ravel())
    lost = []
    for i in dim_ids(kind, seed):
        nucleus = truth == i
        if not nucleus.any():
            continue
        best, held, share = _ious(nucleus, final, final_sizes)
        if best >= 0.5:
            continue
        on_c = canon == i
        if cut[on_c].mean() < 0.5:
            stage = "cut"
        else:
            curve = [_ious(on_c, s, z)[0] for _, s, z in labelled] + [best]
            stage = "watershed"
            for k in range(len(curve) - 1, 0, -1):
                if curve[k - 1] >= 0.5 > curve[k]:
                    stage = "outlines" if k == len(curve) - 1 else labelled[k][0]
                    break
        if share < 0.2:
            mode = "none"
        else:
            label = final == held
            on = float((label & nucleus).sum() / label.sum())
            other = float((label & (truth > 0) & ~nucleus).sum() / label.sum())
            mode = "half" if on >= 0.7 else "merged" if other >= 0.2 else "glow"
        lost.append({"id": i, "stage": stage, "mode": mode, "iou": round(best, 3)})
    return {"kind": kind, "seed": seed, "dim": len(dim_ids(kind, seed)), "lost": lost,
            **errors}


def _table(rows):
    stages = Counter(x["stage"] for r in rows for x in r["lost"])
    kinds = sorted({r["kind"] for r in rows}, key=KINDS.index)
    print(f"{len(rows)} fields, {sum(r['dim'] for r in rows)} dim nuclei, "
          f"{sum(len(r['lost']) for r in rows)} lost; errors {sum(r['errors'] for r in rows)}")
    print("stage               all  " + " ".join(f"{k:>10}" for k in kinds)
          + "   half/glow/merged/none")
    for stage, n in stages.most_common():
        per = [sum(x["stage"] == stage for r in rows if r["kind"] == k for x in r["lost"])
               for k in kinds]
        modes = Counter(x["mode"] for r in rows for x in r["lost"] if x["stage"] == stage)
        print(f"{stage:<18} {n:4d}  " + " ".join(f"{p:10d}" for p in per)
              + "   " + "/".join(str(modes[m]) for m in ("half", "glow", "merged", "none")))


def _sign_p(better: int, worse: int) -> float:
    """The two-sided sign test's p over the fields that changed."""
    n = better + worse
    tail = sum(math.comb(n, k) for k in range(min(better, worse) + 1)) / 2.0**n
    return min(1.0, 2 * tail)


def _compare(a_path, b_path):
    a = {(r["kind"], r["seed"]): r for r in json.loads(Path(a_path).read_text())}
    b = {(r["kind"], r["seed"]): r for r in json.loads(Path(b_path).read_text())}
    keys = [k for k in a if k in b]
    for kind in sorted({k[0] for k in keys}, key=KINDS.index):
        ks = [k for k in keys if k[0] == kind]
        ea, eb = (sum(x[k]["errors"] for k in ks) for x in (a, b))
        better = sum(b[k]["errors"] < a[k]["errors"] for k in ks)
        worse = sum(b[k]["errors"] > a[k]["errors"] for k in ks)
        la, lb = (sum(len(x[k]["lost"]) for k in ks) for x in (a, b))
        parts = ["/".join(str(sum(x[k][e] for k in ks)) for e in ERRORS) for x in (a, b)]
        print(f"{kind:<12} {len(ks):3d} fields  errors {ea} ({parts[0]}) -> {eb} "
              f"({parts[1]})  better/worse {better}/{worse} (sign test p = "
              f"{_sign_p(better, worse):.2f})  dim lost {la} -> {lb}")
    print("A:")
    _table([a[k] for k in keys])
    print("B:")
    _table([b[k] for k in keys])


def _seeds(text):
    lo, _, hi = text.partition("-")
    return range(int(lo), int(hi or lo) + 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="17600-17609", help="first-last")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated")
    p.add_argument("--json", default=None, help="write the fields' rows here")
    p.add_argument("--compare", nargs=2, default=None, help="two --json files")
    args = p.parse_args(argv)
    if args.compare:
        _compare(*args.compare)
        return 0
    rows = []
    for kind in args.kinds.split(","):
        for seed in _seeds(args.seeds):
            rows.append(trace_field(kind, seed))
            r = rows[-1]
            print(f"{kind:<12} {seed} errors {r['errors']:3d} lost {len(r['lost']):2d}/"
                  f"{r['dim']:2d} " + " ".join(f"{x['id']}:{x['stage']}/{x['mode']}"
                                               for x in r["lost"]), flush=True)
    _table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
