"""Draw the nuclei figures of ``docs/nuclei.md`` from the generators, with the current code.

One figure per failure mode (``docs/images/nuclei_*.png``), each panel a crop at full
resolution (or enlarged 2x by whole pixels) of a field with known truth, segmented with
``seeded_watershed(image)`` (the defaults, no parameter) on the *whole* field:

- our outlines yellow; the truth's blue where it lies more than a pixel from ours;
- errors as ``score_segmentation`` assigns them on the whole field: merged objects red,
  spurious objects magenta, the pieces of a split nucleus orange, missing nuclei cyan
  (their true outline, thick);
- under each panel: the field, its seed, the crop, and the whole field's errors
  (split/merged/spurious/missing) and F1 at IoU 0.5.

Fields: ``synthetic_nuclei`` (the stress test's fields), ``cellline_field`` of
``benchmarks/nuclei_cellline.py``, the dense fields of ``benchmarks/nuclei_heldout.py`` and
``benchmarks/nuclei_dense_blur.py``, and, when the U2OS images (Coelho et al. 2009) are in
``../shared/data/coelho2009_u2os`` (or ``--data``), the augmented U2OS images of
``nuclei_cellline.u2os_like`` and ``coelho2009_augmented.augment``; without them those panels
are skipped with the reason printed (a figure left with no panel is not written).

Core only (no napari); the captions are drawn with Pillow, which scikit-image requires.
Deterministic: the same code gives the same PNG files.

Usage::

    python docs/make_nuclei_figures.py [--out docs/images] [--data DIR] [--only NAME ...]
    python docs/make_nuclei_figures.py --quick --out /tmp/figs   # one small panel
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage.segmentation import find_boundaries

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DATA = ROOT.parent / "shared" / "data" / "coelho2009_u2os"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))  # nuclei_dense_blur imports nuclei_heldout

OURS = (255, 215, 0)
TRUTH = (70, 150, 255)
MERGED = (255, 40, 40)
SPURIOUS = (255, 0, 255)
SPLIT = (255, 140, 0)
MISSING = (0, 255, 255)
LEGEND = [("ours", OURS), ("truth where it differs", TRUTH), ("merged", MERGED),
          ("spurious", SPURIOUS), ("split", SPLIT), ("missing", MISSING)]


def _bench(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Skip(Exception):
    """A panel that cannot be drawn here (its data is missing)."""


@dataclass
class Panel:
    title: str
    make: object  # () -> (image, truth labels)
    crop: tuple | int | None = None  # (row0, row1, col0, col1); a side: that square
    # centred on the brightest spot (a saturated cell); None: the whole field
    zoom: int = 1
    note: str = ""


@dataclass
class Figure:
    name: str
    panels: list = field(default_factory=list)


# ----------------------------------------------------------------------------- fields
def _sn(**kw):
    def make():
        from napari_tessella.synthetic import synthetic_nuclei

        nuc = synthetic_nuclei(**kw)
        return nuc.image, nuc.labels
    return make


def _stress(name, seed):
    def make():
        stress = _bench("nuclei_stress")
        gen, post = stress.conditions()[name]
        nuc = gen(seed)
        return (nuc.image if post is None else post(nuc.image)), nuc.labels
    return make


def _cellline(kind, seed):
    def make():
        return _bench("nuclei_cellline").cellline_field(kind, seed)
    return make


def _uneven(seed):
    def make():
        return _bench("nuclei_cellline").uneven_field(seed)
    return make


def _heldout(name, seed, round7=False):
    def make():
        held = _bench("nuclei_heldout")
        nuc = (held.round7_conditions() if round7 else held.conditions())[name](seed)
        return nuc.image, nuc.labels
    return make


def _dense_blur(d, sep, blur, seed):
    def make():
        fields = _bench("nuclei_dense_blur").conditions(sizes=(d,), packing=(sep,), blur=(blur,))
        nuc = next(iter(fields.values()))(seed)
        return nuc.image, nuc.labels
    return make


def _challenge(seed):
    def make():
        return _bench("nuclei_dense_heldout").challenge_field(seed)
    return make


def _nucleoli(seed, depth, radius, count, d, separation):
    """A field of benchmarks/nuclei_nucleoli.py's grid (its layouts: 1.3 apart, 0.8)."""
    def make():
        grid = _bench("nuclei_nucleoli")
        layout = {v: k for k, v in grid.LAYOUTS.items()}[separation]
        return grid.field(dict(depth=depth, radius=radius, count=count, layout=layout, d=d),
                          seed)
    return make


def _need_data(data):
    if not (data / "images").is_dir():
        raise Skip(f"no U2OS images in {data} (Coelho et al. 2009; pass --data DIR)")


def _u2os_like(seed, data):
    def make():
        _need_data(data)
        return _bench("nuclei_cellline").u2os_like(seed, data)
    return make


def _u2os_augmented(index, kind, data):
    """Image ``index`` of every third U2OS image, changed by ``kind`` as the benchmark does."""
    def make():
        from skimage.io import imread

        _need_data(data)
        paths = sorted((data / "images").glob("dna-*.png"),
                       key=lambda p: int(re.findall(r"\d+", p.stem)[0]))[::3]
        img = imread(paths[index]).astype(np.float64)
        ref = imread(data / "labels" / paths[index].name).astype(np.int32)
        return _bench("coelho2009_augmented").augment(img, ref, kind, seed=index), ref
    return make


def figures(data: Path = DATA) -> list[Figure]:
    """Every figure of docs/nuclei.md, in the order of its failure modes."""
    low = dict(shape=(512, 512), n_nuclei=40, diameter=30, brightness_range=(0.3, 1.0))
    lower = (256, 512, 0, 256)
    return [
        Figure("nuclei_textured", [
            Panel("textured (synthetic_nuclei, 6 chromocenters), seed 0",
                  _sn(**low, chromocenters=6, seed=0), lower),
            Panel("cell line 'fibroblast' (5-15 chromocenters, glows, 12 bit), seed 0",
                  _cellline("fibroblast", 0)),
        ]),
        Figure("nuclei_saturated", [
            Panel("saturated (3 cells, dim nuclei 1.5-2x), seed 0",
                  _sn(**{**low, "brightness_range": (0.5, 1.0)}, background=1.0,
                      saturated=3, seed=0), (150, 406, 150, 406)),
            Panel("dim 1.3-2x + saturated (stress test), seed 0",
                  _stress("dim 1.3-2x + saturated", 0), (0, 256, 256, 512)),
            Panel("cell line 'dim' (14 dim nuclei beside 3 saturated cells), seed 0",
                  _cellline("dim", 0)),
        ]),
        Figure("nuclei_glows", [
            Panel("cell line 'uneven d32' (3 saturated cells with glows, light 2-3x "
                  "uneven), seed 422", _uneven(422)),
            Panel("cell line 'uneven d32', seed 437", _uneven(437)),
        ]),
        Figure("nuclei_debris", [
            Panel("debris (24 specks and smudges of glare), seed 0",
                  _sn(**low, debris=24, seed=0), lower),
            Panel("cell line 'fibroblast' (glare streaks 2-5 d long, specks, glows), seed 2",
                  _cellline("fibroblast", 2)),
        ]),
        Figure("nuclei_ramp", [
            Panel("ramp (background 0.2 + ramp and bump 0.65), seed 0",
                  _sn(**low, background=0.2, ramp=0.65, seed=0), lower),
            Panel("vignetting to 30 % + ramp (stress test), seed 0",
                  _stress("vignette 70 % + ramp", 0), (256, 512, 256, 512)),
        ]),
        Figure("nuclei_dense", [
            Panel("dense d20, seam 30 % (stress test), seed 0",
                  _stress("dense d20 seam .3", 0)),
            Panel("dense d12, centres 0.7 d, noise 0.03 (held out, round 7), seed 20",
                  _heldout("d12 sep .7 noise .03", 20, round7=True), zoom=2),
        ]),
        Figure("nuclei_dense_noseam", [
            Panel("dense d20, no seam (stress test), seed 0",
                  _stress("dense d20 no seam", 0), zoom=2),
        ]),
        Figure("nuclei_dense_crowded", [
            Panel("dense d18, centres 0.65 d, 65 % cover (round 7 held out), seed 20",
                  _heldout("d18 sep .65 fill .65", 20, round7=True), zoom=2),
            Panel("challenge-like dense field (round 13 tuning seed), seed 111",
                  _challenge(111), zoom=2),
        ]),
        Figure("nuclei_dense_blur", [
            Panel("dense d22, centres 0.8 d, extra blur 0.1 d (round 7 held out), seed 20",
                  _heldout("d22 sep .8 blur 0.1 d", 20, round7=True), zoom=2),
            Panel("dense d18, centres 0.65 d, extra blur 0.15 d (dense_blur), seed 30",
                  _dense_blur(18, 0.65, 0.15, 30), zoom=2),
        ]),
        Figure("nuclei_two_sizes", [
            Panel("two sizes: 20 nuclei of 30 px and 20 of 15 px (round 15), seed 10",
                  _sn(shape=(512, 512), n_nuclei=20, diameter=30, small=20, seed=10)),
        ]),
        Figure("nuclei_nucleoli", [
            Panel("nucleoli 60 % darker, radius 0.3 d, 1 per nucleus, d 20 (held out), "
                  "seed 10", _nucleoli(10, 0.6, 0.3, 1, 20.0, 1.3), (0, 192, 0, 192), 2),
            Panel("touching (centres 0.8 d), 1-3 nucleoli 60 % darker, radius 0.2 d, d 40, "
                  "seed 10", _nucleoli(10, 0.6, 0.2, 3, 40.0, 0.8), (0, 384, 0, 384)),
            Panel("what is left: 1-3 nucleoli 90 % darker, radius 0.3 d, d 20, seed 10",
                  _nucleoli(10, 0.9, 0.3, 3, 20.0, 1.3), (0, 192, 0, 192), 2),
        ]),
        Figure("nuclei_u2os_like", [
            Panel("u2os-like (U2OS + foci, 2 saturated, ramp, vignetting, 12 bit), seed 0",
                  _u2os_like(0, data), 512),
            Panel("U2OS every 3rd, image 0, + ramp, foci and glow ('all'), hand labels",
                  _u2os_augmented(0, "all", data), 512),
        ]),
        Figure("nuclei_combined", [
            Panel("combined (foci, 2 saturated, 16 debris, ramp 0.5, dim), seed 1",
                  _sn(**{**low, "brightness_range": (0.5, 1.0)}, chromocenters=5,
                      background=1.0, saturated=2, debris=16, ramp=0.5, seed=1)),
        ]),
    ]


def quick_figures() -> list[Figure]:
    """One small panel (the --quick check that the script still runs)."""
    return [Figure("nuclei_quick", [
        Panel("quick: 128² field, 8 nuclei of 24 px, ramp, 2 specks, seed 0",
              _sn(shape=(128, 128), n_nuclei=8, diameter=24, debris=2, background=0.2,
                  ramp=0.5, seed=0))])]


# ----------------------------------------------------------------------------- drawing
def error_classes(labels, truth):
    """Our ids merged / spurious / split pieces, truth ids missing (score_segmentation's
    assignment: each object to the object of the other image it overlaps most)."""
    p_ids, p = np.unique(labels.ravel(), return_inverse=True)
    r_ids, r = np.unique(truth.ravel(), return_inverse=True)
    if p_ids[0] != 0:
        p_ids, p = np.concatenate([[0], p_ids]), p + 1
    if r_ids[0] != 0:
        r_ids, r = np.concatenate([[0], r_ids]), r + 1
    table = np.bincount(p * len(r_ids) + r, minlength=len(p_ids) * len(r_ids)).reshape(
        len(p_ids), len(r_ids))
    seg_to_ref = table[1:].argmax(axis=1)
    ref_to_seg = table[:, 1:].argmax(axis=0)
    hits_ref = np.bincount(seg_to_ref, minlength=len(r_ids))
    hits_seg = np.bincount(ref_to_seg, minlength=len(p_ids))
    ours = p_ids[1:]
    merged = ours[hits_seg[1:] > 1]
    spurious = ours[seg_to_ref == 0]
    split_refs = np.flatnonzero(hits_ref > 1)
    split = ours[np.isin(seg_to_ref, split_refs[split_refs > 0])]
    missing = r_ids[1:][ref_to_seg == 0]
    return merged, spurious, split, missing


def _display(image):
    """Grey levels: 0.5-99.7 % of the crop, gamma 0.6 (dim nuclei visible, saturated white)."""
    img = np.asarray(image, dtype=np.float64)
    lo, hi = np.percentile(img, [0.5, 99.7])
    grey = np.clip((img - lo) / max(hi - lo, 1e-12), 0, 1) ** 0.6
    return np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=2)


def bright_crop(image, side):
    """(row0, row1, col0, col1) of the ``side``² window centred on the brightest spot."""
    from scipy import ndimage as ndi

    smooth = ndi.uniform_filter(np.asarray(image, dtype=np.float64), 15)
    r, c = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    r0 = int(np.clip(r - side // 2, 0, max(0, image.shape[0] - side)))
    c0 = int(np.clip(c - side // 2, 0, max(0, image.shape[1] - side)))
    return r0, r0 + side, c0, c0 + side


def draw_panel(image, labels, truth, crop=None, zoom=1):
    """RGB array of the crop with outlines and the whole field's error marks."""
    merged, spurious, split, missing = error_classes(labels, truth)
    if crop is not None:
        r0, r1, c0, c1 = crop
        image, labels, truth = (a[r0:r1, c0:c1] for a in (image, labels, truth))
    rgb = _display(image)
    ours = find_boundaries(labels, mode="inner")
    true = find_boundaries(truth, mode="inner")
    near_ours = find_boundaries(labels, mode="thick")
    rgb[true & ~near_ours] = TRUTH
    rgb[ours] = OURS
    for ids, colour in ((split, SPLIT), (spurious, SPURIOUS), (merged, MERGED)):
        rgb[ours & np.isin(labels, ids)] = colour
    miss = np.isin(truth, missing)
    rgb[find_boundaries(np.where(miss, truth, 0), mode="thick") & (miss | (truth == 0))] = MISSING
    if zoom > 1:
        rgb = rgb.repeat(zoom, axis=0).repeat(zoom, axis=1)
    return rgb


def _font(size=13):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def compose(tiles, captions, pad=6):
    """Tiles side by side, each with its caption below, and the colour legend."""
    font = _font()
    line = 16
    wrapped = []
    for tile, text in zip(tiles, captions, strict=True):
        width = max(20, tile.shape[1] // 7)
        wrapped.append([w for part in text.split("\n") for w in textwrap.wrap(part, width)])
    height = max(t.shape[0] + line * len(w) for t, w in zip(tiles, wrapped, strict=True))
    height += pad * 3 + line
    width = sum(t.shape[1] for t in tiles) + pad * (len(tiles) + 1)
    width = max(width, 560)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = pad
    for tile, lines in zip(tiles, wrapped, strict=True):
        canvas.paste(Image.fromarray(tile), (x, pad))
        for k, text in enumerate(lines):
            draw.text((x, tile.shape[0] + 2 * pad + k * line), text, fill=(0, 0, 0), font=font)
        x += tile.shape[1] + pad
    x, y = pad, height - line - pad // 2
    for text, colour in LEGEND:
        draw.rectangle((x, y + 3, x + 10, y + 13), fill=colour, outline=(0, 0, 0))
        draw.text((x + 14, y), text, fill=(0, 0, 0), font=font)
        x += 14 + int(draw.textlength(text, font=font)) + 14
    return canvas


def render(fig: Figure, out: Path):
    """Segment each panel's field, draw it, write ``out/<name>.png``; one summary line per
    panel. Returns the panels' scores (whole field), or None when no panel could be drawn."""
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    tiles, captions, scores = [], [], []
    for k, panel in enumerate(fig.panels):
        try:
            image, truth = panel.make()
        except Skip as why:
            print(f"  {fig.name} ({chr(97 + k)}) skipped: {why}")
            continue
        t0 = time.process_time()
        labels = seeded_watershed(image).labels
        cpu = time.process_time() - t0
        s = score_segmentation(labels, truth)
        crop = (bright_crop(image, panel.crop) if isinstance(panel.crop, int)
                else panel.crop)
        tiles.append(draw_panel(image, labels, truth, crop, panel.zoom))
        where = ("whole field" if crop is None else
                 f"rows {crop[0]}-{crop[1] - 1}, cols {crop[2]}-{crop[3] - 1}")
        if panel.zoom > 1:
            where += f" at {panel.zoom}x"
        captions.append(
            f"({chr(97 + len(tiles) - 1)}) {panel.title}; {where} of {image.shape[0]}x"
            f"{image.shape[1]}\nwhole field: {s['errors']} errors (split {s['split']}, "
            f"merged {s['merged']}, spurious {s['spurious']}, missing {s['missing']}), "
            f"F1 {s['f1']:.3f}, mean IoU {s['mean_iou']:.3f}")
        scores.append(s)
        print(f"  {fig.name} ({chr(97 + len(tiles) - 1)}) {panel.title}: {s['errors']} errors "
              f"({s['split']}/{s['merged']}/{s['spurious']}/{s['missing']}), F1 {s['f1']:.3f},"
              f" mean IoU {s['mean_iou']:.3f}; segmentation {cpu:.2f} s CPU", flush=True)
    if not tiles:
        print(f"  {fig.name}: no panel drawn, file left as it is")
        return None
    out.mkdir(parents=True, exist_ok=True)
    compose(tiles, captions).save(out / f"{fig.name}.png", optimize=True)
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--data", type=Path, default=DATA,
                        help="the Coelho 2009 U2OS folder (images/, labels/)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these figures (e.g. nuclei_textured)")
    parser.add_argument("--quick", action="store_true",
                        help="one small panel only (checks that the script runs)")
    args = parser.parse_args(argv)
    figs = quick_figures() if args.quick else figures(args.data)
    if args.only:
        unknown = set(args.only) - {f.name for f in figs}
        if unknown:
            parser.error(f"unknown figure(s): {', '.join(sorted(unknown))}")
        figs = [f for f in figs if f.name in args.only]
    t0 = time.process_time()
    for fig in figs:
        print(f"{fig.name}.png")
        render(fig, args.out)
    print(f"done in {time.process_time() - t0:.1f} s CPU; figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))  # this checkout's code, installed or not
    sys.exit(main())
