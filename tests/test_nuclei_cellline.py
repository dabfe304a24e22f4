"""The nuclei defaults on cell-line fields they were not tuned on (issue 14): flat nuclei
with 5-15 chromocenters, saturated mitotic cells with long glows, dim nuclei beside them,
glare, vignetting, a 12-bit camera (``benchmarks/nuclei_cellline.py``, its tuned seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark

from napari_tessella.nuclei import (
    estimate_object_diameter,
    score_segmentation,
    seeded_watershed,
)


@pytest.fixture(scope="module")
def cellline():
    return benchmark("nuclei_cellline")


def _true_diameter(labels):
    area = np.bincount(labels.ravel())[1:]
    return float(np.median(2 * np.sqrt(area[area > 0] / np.pi)))


@pytest.mark.parametrize("kind", ["fibroblast", "halo", "dim"])
def test_diameter_against_the_local_background(cellline, kind):
    # glows of saturated cells, vignetting and a ramp put the estimate's log-Otsu cut
    # above the ordinary nuclei, whose chromocenters alone were measured: 29-31 px for
    # 40-px textured nuclei, 11-14 px beside glows, 10-15 px for 36-px dim nuclei
    for seed in (0, 1, 2):
        image, truth = cellline.cellline_field(kind, seed)
        ratio = estimate_object_diameter(image) / _true_diameter(truth)
        assert 0.8 < ratio < 1.2, (kind, seed, ratio)


def test_nuclei_beside_glowing_cells(cellline):
    # measured: F1 0.933 / 0.067 / 0.237 before (nuclei measured by their foci, so cut
    # into them), 0.947 / 0.800 / 0.918 with the local background in the estimate, 0.966 /
    # 0.821 / 0.935 with bright cells cut at their own peak
    scores = [score_segmentation(seeded_watershed(image).labels, truth)
              for image, truth in (cellline.cellline_field("halo", s) for s in (0, 1, 2))]
    assert np.mean([s["f1"] for s in scores]) >= 0.85, scores
    assert np.mean([s["errors"] for s in scores]) <= 8, scores
    assert sum(s["split"] for s in scores) <= 1, scores


def test_dim_nuclei_beside_saturated_cells(cellline):
    # dim nuclei 1.5-2x above the background, 1-2 d from saturated cells: F1 0.31 / 0.04 /
    # 0.34 before, 0.71 / 0.84 / 0.75 after (the glows still swallow some: docs/nuclei.md)
    scores = [score_segmentation(seeded_watershed(image).labels, truth)
              for image, truth in (cellline.cellline_field("dim", s) for s in (0, 1, 2))]
    assert np.mean([s["f1"] for s in scores]) >= 0.7, scores
    assert sum(s["split"] for s in scores) <= 1, scores


def test_glare_streaks_are_not_nuclei(cellline):
    # glare streaks 2-5 d long outside the nuclei were kept as objects: 13 spurious objects
    # on these six fields before (8 fibroblast, 5 halo), 8 with the streak cue, 5 with the
    # glow cues too (docs/nuclei.md, round 8c)
    fields = [cellline.cellline_field(kind, s) for kind in ("fibroblast", "halo")
              for s in (0, 1, 2)]
    scores = [score_segmentation(seeded_watershed(image).labels, truth)
              for image, truth in fields]
    assert sum(s["spurious"] for s in scores) <= 10, scores
    assert sum(s["missing"] for s in scores) <= 14, scores


def test_streak_cue_tells_a_streak_from_nuclei():
    from napari_tessella.nuclei._edges import _streaks

    d = 20.0
    labels = np.zeros((120, 160), np.int32)
    rr, cc = np.indices(labels.shape)
    labels[(rr - 30) ** 2 / 12**2 + (cc - 30) ** 2 / 8**2 <= 1] = 1  # a nucleus, aspect 1.5
    labels[(rr - 30) ** 2 / 9**2 + (cc - 60) ** 2 / 16**2 <= 1] = 2  # elongated, 1.8
    labels[80:84, 20:120] = 3  # a streak 5 d long, 0.2 d wide
    labels[(rr - 90) ** 2 + (cc - 140) ** 2 <= 10**2] = 4  # a round nucleus
    labels[116:120, 150:160] = 5  # a sliver of a nucleus cut by the border: short
    assert _streaks(labels, d).tolist() == [False, False, False, True, False, False]


def test_glows_of_saturated_cells_are_not_nuclei(cellline):
    # the glows whose ring the local background's box left dark (rim sharpness 0.42-0.64)
    # were kept as objects holding the dim nuclei on them: 16 spurious and 4 merged on
    # these three fields before, 7 and 1 after (F1 0.767 -> 0.807; docs/nuclei.md, round 8c)
    scores = [score_segmentation(seeded_watershed(image).labels, truth)
              for image, truth in (cellline.cellline_field("dim", s) for s in (0, 1, 2))]
    assert sum(s["spurious"] for s in scores) <= 9, scores
    assert sum(s["merged"] for s in scores) <= 2, scores
    assert np.mean([s["f1"] for s in scores]) >= 0.79, scores


def test_u2os_like_diameter_with_saturated_cells(cellline):
    # held-out u2os-like field 12 (U2OS hand labels, two nuclei saturated with a glow, a
    # ramp and vignetting): 321 px for ~90-px nuclei once the background noise came from
    # the histogram, whose sharpest peak in the estimate's flattened overview was the
    # opening's floor (docs/nuclei.md, round 8d); 94 px with the pixel noise bounding it
    if not (cellline.U2OS / "images").exists():
        pytest.skip(f"shared test data not found at {cellline.U2OS}")
    image, truth = cellline.u2os_like(12)
    ratio = estimate_object_diameter(image) / _true_diameter(truth)
    assert 0.8 < ratio < 1.2, ratio


def test_a_glow_is_not_its_own_reference(cellline, monkeypatch):
    # at a low cut (the chain of round 8d: 154 counts instead of 227 on the estimate's
    # flattened overview of held-out u2os-like 12) the glows of the two saturated cells
    # became compact regions holding nuclei, and _whole_textured took each for one textured
    # nucleus: its "at most 4x the typical piece" reference was area-weighted, and the two
    # saturated cells *were* the typical piece (11.3 reduced px); radius 42 and 32, the
    # estimate's median radius 31 (nuclei ~13). Each region is now judged against the pieces
    # outside it (docs/nuclei.md, round 8e)
    from scipy import ndimage as ndi

    from napari_tessella.nuclei import diameter
    from napari_tessella.nuclei._cues import _label_max
    from napari_tessella.nuclei._outlines import _above_own_fraction

    if not (cellline.U2OS / "images").exists():
        pytest.skip(f"shared test data not found at {cellline.U2OS}")
    calls = []
    real = diameter._whole_textured

    def spy(mask, small, labels, n, level, *parts):
        calls.append((small, labels, level))
        return real(mask, small, labels, n, level, *parts)

    monkeypatch.setattr(diameter, "_whole_textured", spy)
    estimate_object_diameter(cellline.u2os_like(12)[0])
    monkeypatch.undo()
    small, labels, level = calls[-1]  # the flattened overview
    cut = 0.5 * (level + float(small[labels > 0].min()))  # halfway down to the background
    low, n = ndi.label(small > cut)
    peak = _label_max(small, low, n)
    peak[0] = np.inf
    mask = _above_own_fraction(small, low, level, 0.5, peak) > 0
    kept = diameter._whole_textured(mask, small, low, n, level)
    regions, m = ndi.label(kept)
    radius = _label_max(ndi.distance_transform_edt(kept), regions, m)[1:]
    assert radius.max() < 20, np.sort(radius)[-4:]  # nuclei ~13, the glows 32 and 42


def test_dim_nuclei_below_the_global_cut(cellline):
    # round 10: dim nuclei 1.3-2x over their local background lay under the log-Otsu cut
    # (pulled up by saturated cells and bright nuclei), or were found by a sliver and then
    # outlined at that cut; missing on dim seeds 0 and 1: 4 + 5 before, 3 + 4 after
    scores = [score_segmentation(seeded_watershed(image).labels, truth)
              for image, truth in (cellline.cellline_field("dim", s) for s in (0, 1))]
    assert sum(s["missing"] for s in scores) <= 7, scores
    assert sum(s["spurious"] for s in scores) <= 2, scores
    # the nucleus of seed 0 the global cut halved (truth 7, median 1.7x its background)
    image, truth = cellline.cellline_field("dim", 0)
    labels = seeded_watershed(image).labels
    own = truth == 7
    ids, counts = np.unique(labels[own], return_counts=True)
    best = ids[np.argmax(counts)]
    assert best > 0  # on main the background covered most of it (415 of 909 pixels)
    assert np.count_nonzero(own & (labels == best)) > 0.5 * np.count_nonzero(own)  # 463


def test_dim_nuclei_cue_keeps_an_edge_not_a_smudge():
    from scipy import ndimage as ndi

    from napari_tessella.nuclei._dim import _dim_nuclei

    rr, cc = np.indices((90, 180))
    disc = np.hypot(rr - 45, cc - 45) <= 10
    smooth = ndi.gaussian_filter(30.0 * disc, 1.0)  # a dim nucleus: a blurred step
    smooth += 30.0 * np.exp(-((rr - 45) ** 2 + (cc - 130) ** 2) / (2 * 8.0**2))  # a smudge
    none = np.zeros(smooth.shape, bool)
    kw = dict(most=3.0, steep=2.5, sharp=0.8)
    out = _dim_nuclei(smooth, none, 0.0, 9.0, 20.0, np.pi * (20 / 3) ** 2, **kw)
    assert np.count_nonzero(out & disc) >= 0.9 * np.count_nonzero(disc)
    assert not out[:, 90:].any()  # the smudge's rim is neither steep nor sharp
    assert not (out & ~ndi.binary_dilation(disc, iterations=2)).any()
    # a part the foreground holds already is left as it is; nothing above the low level
    assert (_dim_nuclei(smooth, smooth > 9.0, 0.0, 9.0, 20.0, 140.0, **kw)
            == (smooth > 9.0)).all()
    assert not _dim_nuclei(smooth, none, 0.0, 100.0, 20.0, 140.0, **kw).any()


def test_streak_cue_tells_glare_pieces_and_wide_streaks_from_nuclei():
    # round 11: pieces of glare cut short by the nucleus they cross (shorter than 1.5 d)
    # and wide streaks (radius above 0.26 d) were kept by the round-8c rule
    from napari_tessella.nuclei._edges import _streaks

    d = 20.0
    labels = np.zeros((160, 200), np.int32)
    rr, cc = np.indices(labels.shape)
    labels[(rr - 30) ** 2 + (cc - 40) ** 2 <= 10**2] = 1  # a round nucleus
    labels[28:32, 51:75] = 2  # a glare piece 1.4 d long ending on it
    labels[60:64, 20:44] = 3  # the same piece alone: a sliver, not a streak by its shape
    labels[(rr - 60) ** 2 / 4**2 + (cc - 100) ** 2 / 14**2 <= 1] = 4  # a thin nucleus
    labels[(rr - 73) ** 2 + (cc - 100) ** 2 <= 9**2] = 5  # touching its side, not its end
    labels[100:112, 20:120] = 6  # a streak 5 d long and 0.6 d wide
    labels[0:4, 150:168] = 7  # the cap of a nucleus cut by the border, touching nothing
    labels[(rr - 140) ** 2 / 9**2 + (cc - 150) ** 2 / 12**2 <= 1] = 8  # a nucleus, and an
    labels[(rr - 140) ** 2 / 6.5**2 + (cc - 178) ** 2 / 16**2 <= 1] = 9  # elongated one at its tip
    assert _streaks(labels, d).tolist() == [False, False, True, False, False, False, True,
                                            False, False, False]


def test_glare_pieces_on_fields_never_tuned_on(cellline):
    # round 11, seeds 20-29 of dim/fibroblast/halo scanned once the cue was fixed: it
    # changed these five fields only, one spurious object fewer on each (wide streaks and
    # pieces of glare ending on a nucleus), no nucleus lost: 11 spurious before, 6 after
    # (missing 6 on both; 7 with the dense round's step split merged: halo 25)
    fields = [cellline.cellline_field(kind, s) for kind, s in
              (("dim", 29), ("fibroblast", 26), ("halo", 25), ("halo", 26), ("halo", 28))]
    scores = [score_segmentation(seeded_watershed(image).labels, truth)
              for image, truth in fields]
    assert sum(s["spurious"] for s in scores) <= 7, scores
    assert sum(s["missing"] for s in scores) <= 7, scores


def test_elongated_textured_nuclei_measured_whole(cellline):
    # round 11: fibroblast-like nuclei of aspect 1.5-3 with chromocenters (the benchmark's
    # held-out "elongated" kind, other seeds). Not compact (area > 1.5 of their inscribed
    # disc), they were measured by their foci: 13-14 px for 50-57 px nuclei, F1 0.0-0.02
    for seed in (0, 1):
        img, ref = cellline.elongated_field(seed)
        d = estimate_object_diameter(img)
        assert 0.6 * _true_diameter(ref) <= d <= 1.1 * _true_diameter(ref), (seed, d)
        score = score_segmentation(seeded_watershed(img).labels, ref)
        assert score["f1"] >= 0.88 and score["errors"] <= 8, (seed, score)


def test_ellipse_share_tells_one_elongated_nucleus_from_a_pair():
    from napari_tessella.nuclei.diameter import _ellipse_share

    rr, cc = np.indices((80, 120))
    ellipse = ((rr - 40) / 14.0) ** 2 + ((cc - 60) / 42.0) ** 2 <= 1  # aspect 3
    pair = (np.hypot(rr - 40, cc - 40) <= 18) | (np.hypot(rr - 40, cc - 76) <= 18)
    for mask, low, high in ((ellipse, 0.95, 1.05), (pair, 0.0, 0.9)):
        regions = mask.astype(np.int32)
        area = np.bincount(regions.ravel(), minlength=2)
        share = _ellipse_share(regions, 1, area, np.array([1]))
        assert low <= share[1] <= high, share


def _ellipses(aspect, d=40.0, side=512, seed=0):
    """(image, truth) of flat blurred ellipses of equivalent diameter ``d``, 90 px apart,
    in random orientations."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    rr, cc = np.indices((side, side), dtype=float)
    img, lab = np.zeros((side, side)), np.zeros((side, side), np.int32)
    a, b = d / 2 * np.sqrt(aspect), d / 2 / np.sqrt(aspect)
    for i, (r0, c0) in enumerate(np.ndindex(5, 5), start=1):
        r0, c0, t = 40 + 90 * r0, 40 + 90 * c0, rng.uniform(0, np.pi)
        u = (rr - r0) * np.cos(t) + (cc - c0) * np.sin(t)
        v = -(rr - r0) * np.sin(t) + (cc - c0) * np.cos(t)
        inside = (u / a) ** 2 + (v / b) ** 2 <= 1
        lab[inside], img[inside] = i, rng.uniform(0.6, 1.0)
    return ndi.gaussian_filter(img, 1.5) + 0.1 + rng.normal(0, 0.02, img.shape), lab


def test_elongated_nuclei_not_measured_by_their_short_axis(monkeypatch):
    # aspect 2.5: the inscribed disc is the short axis, 0.68 of the equivalent diameter
    # on main (27.3 px for 40); measured as the compact nucleus of its area: 0.81
    img, ref = _ellipses(2.5)
    d = estimate_object_diameter(img)
    assert 0.76 * _true_diameter(ref) <= d <= _true_diameter(ref), d
    # compact nuclei (aspect 1.2) keep the inscribed-disc estimate the recipe was set on
    from napari_tessella.nuclei import diameter

    img, ref = _ellipses(1.2)
    d = estimate_object_diameter(img)
    monkeypatch.setattr(diameter, "_elongated_radius",
                        lambda labels, n, radius, area, dist: radius)
    assert estimate_object_diameter(img) == d


def _best_iou(labels, truth, t):
    own = truth == t
    ids, counts = np.unique(labels[own], return_counts=True)
    best = ids[np.argmax(counts)]
    if best == 0:
        return 0.0
    return np.count_nonzero(own & (labels == best)) / np.count_nonzero(own | (labels == best))


def test_nucleus_outlined_high_on_its_edge_is_not_dropped(cellline):
    # round 13 (its own tuning seeds): a textured nucleus cut at 30 % of its foci-capped
    # peak is outlined high on its blurred edge, so the ring just outside lies on its own
    # flank (sharpness 0.35-0.39, under the 0.4 cut); its rim is a nucleus's steep edge
    # (3.6-3.9 x contrast / d; glows 1.0-2.3). Both were dropped as glare before (IoU 0)
    image, truth = cellline.cellline_field("halo", 30)
    assert _best_iou(seeded_watershed(image).labels, truth, 13) >= 0.8  # 0.89
    # fibroblast 31: IoU 0.54 as drawn, 0.49-0.50 flipped up-down, rotated or transposed
    # (round 19); since then every orientation gives 0.496 (the content's orientation)
    image, truth = cellline.cellline_field("fibroblast", 31)
    assert _best_iou(seeded_watershed(image).labels, truth, 6) >= 0.45


def test_steep_rim_keeps_only_what_fades_into_a_lit_ring():
    from scipy import ndimage as ndi

    from napari_tessella.nuclei._cues import _EDGE_STEEP, _drop_unsharp

    # a smudge fades into its ring and its rim is gentle: dropped whatever the rim rule
    rr, cc = np.indices((80, 80)).astype(float)
    smooth = 100.0 * np.exp(-((rr - 40) ** 2 + (cc - 40) ** 2) / (2 * 8.0**2))
    labels = (smooth > 30).astype(np.int32)
    peak, needed = np.array([np.inf, 100.0]), np.array([1.0, 50.0])
    kw = dict(sharp=0.4, recut=0.5, trim=0.3)
    assert not _drop_unsharp(labels.copy(), smooth, 0.0, 20.0, peak, needed, **kw)[0].any()
    # a blurred step outlined on its edge: sharp, kept with or without the rim rule
    step = ndi.gaussian_filter(100.0 * (np.hypot(rr - 40, cc - 40) <= 10), 1.5)
    disc = (step > 50).astype(np.int32)
    for steep in (0.0, _EDGE_STEEP):
        out = _drop_unsharp(disc.copy(), step, 0.0, 20.0, peak, needed, steep=steep, **kw)[0]
        assert (out == disc).all()


def test_dim_nucleus_steeper_than_the_glow_is_split_off(cellline):
    # round 14: a dim nucleus 1.4x its ring, 1.2 d from a saturated cell (fibroblast seed
    # 30, nucleus 7) was one object with the cell at the first watershed; its rim is 0.88
    # of the glow step's bound but 4.7x the glow's own fall: split off and kept (before:
    # missing, the labels had no object on it)
    image, truth = cellline.cellline_field("fibroblast", 30)
    labels = seeded_watershed(image).labels
    own = truth == 7
    ids, counts = np.unique(labels[own], return_counts=True)
    j = ids[np.argmax(counts)]
    assert j > 0
    iou = np.sum(own & (labels == j)) / np.sum(own | (labels == j))
    assert iou >= 0.5, iou


def test_unsharp_drop_spares_nuclei_split_off_a_glow():
    # a disc fading into a lit ring (a dim nucleus on a glow) is dropped as unsharp unless
    # its pixels are marked as split off a glow by their steep rim (round 14)
    from napari_tessella.nuclei._cues import _drop_unsharp

    yy, xx = np.mgrid[:80, :80]
    r = np.hypot(yy - 40, xx - 40)
    smooth = (100.0 * np.exp(-r / 30.0) + 40.0 * (r < 10)).astype(np.float64)
    labels = (r < 10).astype(np.int32)
    peak = np.array([np.inf, float(smooth.max())])
    needed = np.array([1.0, 50.0])
    kw = dict(sharp=0.4, recut=0.5, trim=0.3)
    assert not _drop_unsharp(labels.copy(), smooth, 0.0, 20.0, peak, needed, **kw)[0].any()
    kept = _drop_unsharp(labels.copy(), smooth, 0.0, 20.0, peak, needed, kept=labels > 0,
                         **kw)[0]
    assert (kept == labels).all()
