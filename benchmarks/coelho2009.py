"""Benchmark: nuclear segmentation on the U2OS hand-segmented images of Coelho et al. 2009.

Scores, on every image of the collection, with the paper's error classes
(:func:`napari_tessella.nuclei.score_segmentation`):

(a) ``seeded_watershed(img)`` — the project's defaults, no parameter;
(b) the tutorial recipe ``seeded_watershed(img, sigma=16, seeds="regional_maxima",
    landscape="distance", threshold="otsu")``;
(c) Otsu after a Gaussian of σ 8 + connected components
    (``threshold_label(img, "otsu", smooth_sigma=8)``);
(d) ``voronoi_otsu_labeling`` of napari-segment-blobs-and-things-with-membranes with its
    defaults, if that package is installed (skipped with a note otherwise).

Usage::

    python benchmarks/coelho2009.py [--data DIR] [--limit N]

The data folder defaults to ``../shared/data/coelho2009_u2os`` beside the repository root
(``images/dna-N.png`` and ``labels/dna-N.png``). Reference figures (errors per image):
second human annotator 5.6, best automatic method of the paper 8.2.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "coelho2009_u2os"


def _methods():
    from napari_tessella import seeded_watershed, threshold_label

    methods = {
        "defaults": lambda img: seeded_watershed(img).labels,
        "tutorial": lambda img: seeded_watershed(img, sigma=16, seeds="regional_maxima",
                                                 landscape="distance",
                                                 threshold="otsu").labels,
        "otsu_s8_cc": lambda img: threshold_label(img, "otsu", smooth_sigma=8),
    }
    notes = []
    try:
        from napari_segment_blobs_and_things_with_membranes import voronoi_otsu_labeling
    except ImportError as exc:  # optional dependency
        notes.append(f"nsbatwm skipped: napari-segment-blobs-and-things-with-membranes not "
                     f"importable ({exc})")
    else:
        methods["nsbatwm"] = lambda img: np.asarray(voronoi_otsu_labeling(img))
    return methods, notes


def _image_paths(data: Path, limit: int | None):
    images = sorted((data / "images").glob("dna-*.png"),
                    key=lambda p: int(re.findall(r"\d+", p.stem)[0]))
    return images[:limit] if limit else images


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"folder with images/ and labels/ (default {DEFAULT_DATA})")
    parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    parser.add_argument("--only", default=None,
                        help="comma-separated subset of methods (default: all)")
    args = parser.parse_args(argv)

    from skimage.io import imread

    from napari_tessella.nuclei import score_segmentation

    paths = _image_paths(args.data, args.limit)
    if not paths:
        print(f"no images found in {args.data / 'images'}", file=sys.stderr)
        return 1
    methods, notes = _methods()
    if args.only:
        methods = {k: v for k, v in methods.items() if k in args.only.split(",")}
    pairs = [(imread(p), imread(args.data / "labels" / p.name)) for p in paths]

    keys = ("split", "merged", "spurious", "missing", "errors", "mean_iou", "f1")
    for fn in methods.values():
        fn(pairs[0][0])  # warm-up (imports, caches) outside the timing
    # the methods take turns on each image, so a change in the machine's speed during the
    # run (other load) affects them alike and the ratios stay fair
    scores = {name: [] for name in methods}
    seconds = dict.fromkeys(methods, 0.0)
    for img, ref in pairs:
        for name, fn in methods.items():
            t0 = time.perf_counter()
            pred = fn(img)
            seconds[name] += time.perf_counter() - t0
            scores[name].append(score_segmentation(pred, ref))
    rows = {}
    for name in methods:
        row = {k: float(np.mean([s[k] for s in scores[name]])) for k in keys}
        row["sec"] = seconds[name] / len(pairs)
        rows[name] = row

    print(f"Coelho 2009 U2OS, {len(pairs)} images ({args.data})")
    header = (f"{'method':<12}{'split':>7}{'merged':>8}{'spurious':>9}{'missing':>8}"
              f"{'err/img':>9}{'meanIoU':>9}{'F1@0.5':>8}{'s/img':>8}{'vs nsbatwm':>11}")
    print(header)
    print("-" * len(header))
    ref_sec = rows.get("nsbatwm", {}).get("sec")
    for name, r in rows.items():
        ratio = f"{ref_sec / r['sec']:.2f}x" if ref_sec else "n/a"
        print(f"{name:<12}{r['split']:>7.2f}{r['merged']:>8.2f}{r['spurious']:>9.2f}"
              f"{r['missing']:>8.2f}{r['errors']:>9.2f}{r['mean_iou']:>9.3f}{r['f1']:>8.3f}"
              f"{r['sec']:>8.3f}{ratio:>11}")
    print("(vs nsbatwm = nsbatwm seconds per image / method seconds per image; >1 = faster)")
    print("Reference errors/image: second human 5.6, best automatic in the paper 8.2")
    for note in notes:
        print("note:", note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
