"""Where the chunked seeded watershed differs from the in-memory one (issue 14).

For every field and chunk shape, :func:`napari_tessella.nuclei.seeded_watershed` on the
image in memory and :func:`~napari_tessella.nuclei.seeded_watershed_chunked` on it as a
dask array (synchronous scheduler) are matched object by object: an object differs when
its best match on the other side has an IoU below 0.99, or when it has none. Printed per
field and chunk shape: the differing objects on either side, and for each its distance to
the nearest chunk border and its size (the side of its bounding box), both in object
diameters ``d``, and the errors of both results against the truth. Fields: the cell-line
fields of ``nuclei_cellline.py`` (tuned seeds; ``--heldout``: the held-out seeds and
kinds), the blurred dense fields of ``nuclei_dense_blur.py`` (``--dense``), and 512²
challenge-like dense fields of ``nuclei_dense_heldout.py`` (its tuning seeds 111-116 at
PSF x2, x1.5, x1, or ``--psf``; chunks 256, 128x160, 128, 200x150 unless given): drawn whole
(``--large``: ``challenge_field(seed, side=512, n=500, psf)``) or four 256² fields side by
side (``--tiled``: seeds s, s+20, s+40, s+60; round 28). Also printed: how many chunks
were segmented again with a wider window (``nuclei._reach``; none before round 29)::

    python benchmarks/chunked_agreement.py [--heldout] [--dense] [--large] [--tiled]
                                           [--kinds a,b] [--chunks default,512,256,128x160]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

THRESHOLD = 0.99  # an object differs below this IoU with its best match


def differing(a, b):
    """Ids of ``a`` whose best match in ``b`` has an IoU below THRESHOLD (or none)."""
    fg = (a > 0) | (b > 0)
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    key = a[fg].astype(np.int64) * nb + b[fg]
    pairs, inter = np.unique(key, return_counts=True)
    pa, pb = pairs // nb, pairs % nb
    size_a = np.bincount(a.ravel(), minlength=na)
    size_b = np.bincount(b.ravel(), minlength=nb)
    ok = (pa > 0) & (pb > 0)
    iou = np.zeros(pairs.size)
    iou[ok] = inter[ok] / (size_a[pa[ok]] + size_b[pb[ok]] - inter[ok])
    best = np.zeros(na)
    np.maximum.at(best, pa[ok], iou[ok])
    ids = np.flatnonzero(size_a[1:]) + 1
    return ids[best[ids] < THRESHOLD]


def where(labels, ids, edges, d):
    """(distance to the nearest chunk border, bounding-box side), in d, per id; ``edges``:
    the chunk borders, full-resolution pixels, per axis."""
    from scipy import ndimage as ndi

    boxes = ndi.find_objects(labels)
    out = []
    for i in ids:
        box = boxes[i - 1]
        dist = np.inf
        for axis, (sl, borders) in enumerate(zip(box, edges, strict=True)):
            if borders.size == 0:
                continue
            coords = np.flatnonzero((labels[box] == i).any(axis=1 - axis)) + sl.start
            # a border lies between pixels edge-1 and edge: distance from the object
            gap = np.abs(borders[None, :] - 0.5 - coords[:, None]).min()
            dist = min(dist, float(gap) - 0.5)
        side = max(sl.stop - sl.start for sl in box)
        out.append((dist / d, side / d))
    return out


def fields(args):
    """name -> (image, truth)."""
    if args.large or args.tiled:
        from nuclei_dense_heldout import TUNING, challenge_field

        for psf in [float(x) for x in args.psf.split(",")]:
            for s in TUNING:
                if args.large:
                    yield f"x{psf} {s} 512", *challenge_field(s, side=512, n=500, psf=psf)
                    continue
                four = [challenge_field(s + k, psf=psf) for k in (0, 20, 40, 60)]
                img = np.block([[four[0][0], four[1][0]], [four[2][0], four[3][0]]])
                # the truths' ids apart (each field numbers its nuclei from 1)
                ids = [f[1] + (f[1] > 0) * 10**6 * k for k, f in enumerate(four)]
                truth = np.block([[ids[0], ids[1]], [ids[2], ids[3]]])
                truth = np.unique(truth, return_inverse=True)[1].reshape(truth.shape)
                yield f"x{psf} {s} tiled", img, truth.astype(np.int32)
        return
    if args.dense:
        from nuclei_dense_blur import conditions

        conds = conditions(sizes=(12, 22, 30), packing=(0.65, 0.9), blur=(0.1, 0.15))
        for name, make in conds.items():
            nuc = make(30)
            yield name, nuc.image, nuc.labels
        return
    from nuclei_cellline import HELDOUT, TUNED, U2OS, make

    plan = HELDOUT if args.heldout else TUNED
    if args.kinds:
        plan = {k: v for k, v in plan.items() if k in args.kinds.split(",")}
    if not U2OS.exists():
        plan.pop("u2os-like", None)
    for kind, seeds in plan.items():
        for s in seeds:
            img, ref = make(kind, s)
            yield f"{kind} {s}", img, ref


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--heldout", action="store_true")
    p.add_argument("--dense", action="store_true", help="the blurred dense fields")
    p.add_argument("--kinds", default=None)
    p.add_argument("--large", action="store_true", help="512² dense fields drawn whole")
    p.add_argument("--tiled", action="store_true", help="four 256² dense fields side by side")
    p.add_argument("--psf", default="2,1.5,1", help="--large/--tiled: the PSF widths")
    p.add_argument("--chunks", default=None)
    args = p.parse_args(argv)
    if args.chunks is None:
        args.chunks = "256,128x160,128,200x150" if args.large or args.tiled else "default,512,256"
    import dask
    import dask.array as da

    from napari_tessella.nuclei import _chunked, score_segmentation, seeded_watershed

    seen = []  # the working chunks' edges and the factor of the last run
    blocks = _chunked.raw_blocks

    def spy(stored, edges, margin, plan):
        seen[:] = [edges, plan["factor"]]
        return blocks(stored, edges, margin, plan)

    _chunked.raw_blocks = spy
    again = [0]  # chunks segmented again, wider (round 29; absent before)
    if hasattr(_chunked, "widen"):
        widen = _chunked.widen

        def counted(*a, **k):
            out = widen(*a, **k)
            again[0] += out[2]
            return out

        _chunked.widen = counted

    shapes = []
    for c in args.chunks.split(","):
        if c == "default":
            shapes.append(None)
        else:
            r, _, col = c.partition("x")
            shapes.append((int(r), int(col or r)))
    # fields differing, objects, errors m/c, chunks, chunks segmented again
    total = {str(c): [0, 0, 0, 0, 0, 0] for c in shapes}
    nuclei = 0
    cpu = {"memory": 0.0, "chunked": 0.0}
    with dask.config.set(scheduler="synchronous"):
        for name, img, ref in fields(args):
            t0 = time.process_time()
            mem = seeded_watershed(img)
            cpu["memory"] += time.process_time() - t0
            d = mem.object_diameter
            nuclei += int(np.unique(mem.labels).size - 1)
            err_m = score_segmentation(mem.labels, ref)["errors"]
            for c in shapes:
                chunks = c or (2048, 2048)
                t0 = time.process_time()
                before = again[0]
                res = _chunked.seeded_watershed_chunked(da.from_array(img, chunks=chunks))
                lab = res.labels.compute()
                borders = [np.asarray(e[1:-1]) * seen[1] for e in seen[0]]
                cpu["chunked"] += time.process_time() - t0
                err_c = score_segmentation(lab, ref)["errors"]
                only_m = differing(mem.labels, lab)
                only_c = differing(lab, mem.labels)
                t = total[str(c)]
                t[0] += bool(only_m.size or only_c.size)
                t[1] += max(only_m.size, only_c.size)
                t[2] += err_m
                t[3] += err_c
                t[4] += (len(seen[0][0]) - 1) * (len(seen[0][1]) - 1)
                t[5] += again[0] - before
                if only_m.size or only_c.size:
                    desc = " ".join(
                        f"{side}:{dist:.2f}d/{size:.1f}d"
                        for side, lab_, ids in (("m", mem.labels, only_m), ("c", lab, only_c))
                        for dist, size in where(lab_, ids, borders, d))
                    print(f"{name:<28} {c!s:<11} d {d:5.1f}  differ {only_m.size}/"
                          f"{only_c.size}  errors {err_m}/{err_c}  {desc}", flush=True)
    print(f"{nuclei} nuclei in memory; per chunk shape: fields differing, objects "
          "differing, errors in memory / chunked, working chunks segmented again wider")
    for c, t in total.items():
        print(f"  {c:<11} {t[0]} fields, {t[1]} objects, errors {t[2]} / {t[3]}, "
              f"again {t[5]} of {t[4]} chunks")
    print(f"CPU: in memory {cpu['memory']:.1f} s, chunked {cpu['chunked']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
