"""seeded_watershed defaults on crowded fields (issue 14): touching nuclei separated, chains,
seams, gaps, waists, necks and merges; dense fields not tuned on."""

from __future__ import annotations

import numpy as np

from napari_tessella import seeded_watershed
from napari_tessella.nuclei import score_segmentation
from napari_tessella.synthetic import synthetic_nuclei


def test_dense_touching_nuclei_are_separated():
    # 125 nuclei of 20 px, centres >= 0.75 d apart, a 30 % darker seam where they touch:
    # F1 0.50 (clusters of many nuclei merged) before clusters were split at their intensity
    # steps (0.815 after; the merges left were mostly pairs), 0.90 (7 merged) since pairs
    # of 1.5-3 nucleus areas are split where a seam or a brightness step parts them
    nuc = synthetic_nuclei((256, 256), n_nuclei=125, diameter=20, brightness_range=(0.4, 1.0),
                           min_separation=0.75, seam=0.3, seed=0)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    # (0.918, 5 merged, since a line 5 % darker than the dimmer part counts as a seam)
    assert s["f1"] >= 0.89 and s["merged"] <= 7, s


def test_parts_join_through_chains_unless_a_valley_or_a_step_parts_them():
    """Four parts in a row: 1|2 a seam (valley), 2|3 the same brightness (joined), 3|4 a
    step (parted); and a fifth part touching 1 and 3 at their brightness joins them (a
    chain 1-5-3 across the seam): the parts are what joins reach, whatever their order."""
    from napari_tessella.nuclei._cues import _join_unless_parted

    split = np.repeat(np.repeat(np.array([[1, 2, 3, 4]]), 10, axis=1), 12, axis=0)
    contrast = np.where(split == 4, 0.3, 1.0)
    contrast[:, 9:11] = 0.1  # the seam between parts 1 and 2
    out = _join_unless_parted(split, contrast, valley=0.5, step=0.6)
    assert out[0, 0] != out[0, 15] and out[0, 15] == out[0, 25] and out[0, 25] != out[0, 35]
    assert len(np.unique(out)) == 3 and out.min() > 0
    split[:4, :30] = 5  # a bridge along the top, as bright as 1 and 3
    contrast[:4] = 1.0
    out = _join_unless_parted(split, contrast, valley=0.5, step=0.6)
    assert len({out[0, 0], out[8, 5], out[8, 15], out[8, 25]}) == 1 and out[8, 35] != out[8, 5]


def test_dense_field_of_10_px_nuclei():
    # 125 nuclei of 10 px in 128²: the diameter estimate's cut lay in the noise (estimated
    # 1.1x the truth; 12.7 errors, F1 0.881 over seeds 0-2); 3.3 errors, F1 0.940 since a
    # cut within the noise is refused
    scores = [score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
              for nuc in (synthetic_nuclei((128, 128), n_nuclei=125, diameter=10, seam=0.3,
                                           brightness_range=(0.4, 1.0), min_separation=0.75,
                                           seed=seed) for seed in range(3))]
    assert np.mean([s["f1"] for s in scores]) >= 0.91, scores
    assert np.mean([s["errors"] for s in scores]) <= 7, scores


def _dense_f1(**kw):
    """Mean F1 over seeds 0-2 of the stress test's dense field (125 nuclei of 20 px in 256²,
    centres >= 0.75 d apart, brightness 0.4-1.0) with ``kw``."""
    kw = {"brightness_range": (0.4, 1.0), **kw}
    scores = [score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
              for nuc in (synthetic_nuclei((256, 256), n_nuclei=125, diameter=20,
                                           min_separation=0.75, seed=seed, **kw)
                          for seed in range(3))]
    return float(np.mean([s["f1"] for s in scores])), scores


def test_gaps_enclosed_by_touching_nuclei_are_not_filled():
    # a ring of nuclei around a gap of background: the gap filled made one blob whose
    # distance transform peaked at the gap's centre (no neck), and the ring was merged
    from napari_tessella.nuclei._shape import _fill_small_holes

    mask = np.zeros((80, 80), bool)
    yy, xx = np.indices(mask.shape)
    for angle in np.linspace(0, 2 * np.pi, 7)[:-1]:  # 6 discs of d 20 around a gap
        cy, cx = 40 + 17 * np.sin(angle), 40 + 17 * np.cos(angle)
        mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= 100
    mask[10:14, 60:64] = True
    mask[11:13, 61:63] = False  # a hole of 4 px inside a speck
    filled = _fill_small_holes(mask, 20.0)
    assert not filled[40, 40]  # the gap (~1 nucleus area) stays background
    assert filled[11:13, 61:63].all()  # the small hole is filled
    assert (filled & ~mask).sum() == 4


def test_dense_touching_nuclei_without_a_seam():
    # touching nuclei with no darker seam between them (flat, or dome-shaped: brighter at
    # the centre); F1 0.694 (flat) and 0.809 (domes 30 %) while every hole of the
    # foreground was filled; 0.814 and 0.896 once only holes below a quarter of a nucleus
    # were; 0.841 and 0.907 with the neck cut; 0.874 and 0.936 with the waist cut (issue 14)
    flat, scores = _dense_f1()
    assert flat >= 0.86, scores
    dome, scores = _dense_f1(dome=0.3)
    assert dome >= 0.92, scores


def test_dense_fields_not_tuned_on():
    # the waist cut was chosen on seeds 0-2 of the 20-px field; other seeds, and a field of
    # nuclei of 36 px (F1 before it: 0.828 and 0.804 on seeds 3-5; after: 0.873, 0.857)
    flat = [score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)["f1"]
            for nuc in (synthetic_nuclei((256, 256), n_nuclei=125, diameter=20,
                                         brightness_range=(0.4, 1.0), min_separation=0.75,
                                         seed=seed) for seed in (3, 4, 5))]
    assert np.mean(flat) >= 0.85, flat
    large = [score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)["f1"]
             for nuc in (synthetic_nuclei((384, 384), n_nuclei=69, diameter=36,
                                          brightness_range=(0.4, 1.0), min_separation=0.75,
                                          seed=seed) for seed in (3, 4, 5))]
    assert np.mean(large) >= 0.84, large


def test_elongated_nuclei_are_not_cut_at_a_waist():
    # nuclei up to twice as long as wide, apart or packed: a single nucleus has no waist.
    # Packed, the merge split of round 7 (k-means of crowded concave objects) cuts one of
    # them on seed 3 (split 0 -> 1, merged 2 -> 1, F1 0.974 both; seed 4: 0.966 -> 0.983).
    # Round 11's estimate for elongated nuclei (21.4 -> 21.9 px, truth 23.2) merges one more
    # packed pair on seed 3 (merged 1 -> 2, F1 0.974 -> 0.957; seed 4 0.983): the splits
    # stay bounded per seed, F1 is held over both seeds (0.970) and per seed at 0.95
    for kw, splits in ((dict(shape=(512, 512), n_nuclei=44, diameter=30, min_separation=1.2),
                        0),
                       (dict(shape=(288, 288), n_nuclei=59, diameter=24, min_separation=0.8),
                        1)):
        f1 = []
        for seed in (3, 4):
            nuc = synthetic_nuclei(aspect=2.0, seed=seed, **kw)
            score = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
            assert score["split"] <= splits and score["f1"] >= 0.95, (kw, seed, score)
            f1.append(score["f1"])
        assert np.mean(f1) >= 0.965, (kw, f1)


def test_waist_cut_splits_a_crowded_pair_only():
    from napari_tessella.nuclei._shape import _split_at_waists

    yy, xx = np.indices((100, 140))

    def disc(cy, cx, r):
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r

    # two nuclei of d 20 pressed together, centres 0.7 d apart: each side of the contact
    # pinches in by ~0.07 d only (below the neck cut's d/10), the width across by 0.14 d
    pair = disc(50, 63, 10) | disc(50, 77, 10)
    ellipse = ((yy - 50) / 9.3) ** 2 + ((xx - 70) / 18) ** 2 <= 1  # one elongated nucleus
    around = [disc(50, 41, 10), disc(50, 99, 10), disc(27, 70, 10), disc(73, 70, 10)]
    for mask, crowded, parts in ((pair, True, 2), (pair, False, 1), (ellipse, True, 1)):
        labels = mask.astype(np.int32)
        if crowded:
            for k, other in enumerate(around, start=2):
                labels[other] = k
        markers = np.zeros_like(labels)
        markers[50, 70] = 1
        out, seeds = _split_at_waists(labels, markers, 20.0)
        assert np.unique(out[mask]).size == parts, (crowded, parts)
        assert np.unique(seeds[mask & (seeds > 0)]).size == parts
        if parts == 2:  # cut at the contact (column 70)
            assert out[50, 60] != out[50, 80]
            assert np.unique(out[:, :69][pair[:, :69]]).size == 1


def test_neck_cut_splits_a_pinched_pair_only():
    from napari_tessella.nuclei._shape import _split_at_necks

    yy, xx = np.indices((60, 80))

    def disc(cy, cx, r):
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r

    # two nuclei of d 20 whose centres are 0.8 d apart: one object, pinched on both sides
    pair = disc(30, 32, 10) | disc(30, 48, 10)
    # one nucleus of the same area, elongated (an ellipse), and a kidney-shaped one
    # (a single concavity)
    ellipse = ((yy - 30) / 9.5) ** 2 + ((xx - 40) / 18) ** 2 <= 1
    kidney = ((yy - 30) / 13) ** 2 + ((xx - 40) / 20) ** 2 <= 1
    kidney &= ~disc(46, 40, 9)
    for mask, parts in ((pair, 2), (ellipse, 1), (kidney, 1)):
        labels = mask.astype(np.int32)
        markers = np.zeros_like(labels)
        markers[30, 40] = 1
        out, seeds = _split_at_necks(labels, markers, 20.0)
        assert np.unique(out[mask]).size == parts and (out[~mask] == 0).all()
        assert np.unique(seeds[seeds > 0]).size == parts
    out, _ = _split_at_necks(pair.astype(np.int32), np.zeros((60, 80), np.int32), 20.0)
    # the cut lies at the contact (column 40), each side holds one nucleus
    assert out[30, 30] != out[30, 50]
    assert all(abs(int((out == k).sum()) - int(pair.sum()) / 2) < 0.1 * pair.sum()
               for k in np.unique(out[pair]))


def test_diameter_of_dense_clusters_of_equal_brightness():
    # touching domes of similar brightness (0.7-1.0): cut at half their contrast they stay
    # joined, and the area-weighted median of the components' inscribed radii was a
    # cluster's (estimated 1.17 / 1.38 / 1.08 x the truth, F1 0.627); weighing each
    # component as its inscribed disc at most gives 1.00 / 0.96 / 0.97 (F1 0.828 with the
    # neck cut; 0.710 without the new estimate)
    from napari_tessella.nuclei import estimate_object_diameter

    kw = dict(dome=0.3, brightness_range=(0.7, 1.0))
    for seed in range(3):
        nuc = synthetic_nuclei((256, 256), n_nuclei=125, diameter=20, min_separation=0.75,
                               seed=seed, **kw)
        assert 0.9 <= estimate_object_diameter(nuc.image) / 20 <= 1.08
    f1, scores = _dense_f1(**kw)
    assert f1 >= 0.80, scores


def test_dense_fields_of_small_nuclei_not_tuned_on():
    # held-out fields of round 7 (issue 14), never run while choosing the merge split:
    # 14-px nuclei at ~40 photons, and 12-px nuclei with centres 0.7 d apart and more
    # noise. Before it (waist and neck cuts only) F1 0.801 and 0.809 on these seeds, most
    # errors merged pairs and triples; after: 0.928 and 0.883
    def f1(side, d, seeds, **kw):
        n = round(0.6 * side * side / (np.pi * d * d / 4))
        scores = []
        for seed in seeds:
            nuc = synthetic_nuclei((side, side), n_nuclei=n, diameter=d, seed=seed,
                                   brightness_range=(0.4, 1.0), **kw)
            scores.append(score_segmentation(seeded_watershed(nuc.image).labels,
                                             nuc.labels)["f1"])
        return float(np.mean(scores)), scores

    photons, scores = f1(192, 14, (20, 21, 22), min_separation=0.75, photons=40,
                         background=0.2)
    assert photons >= 0.88, scores
    small, scores = f1(160, 12, (20, 21, 22), min_separation=0.7, noise=0.03)
    assert small >= 0.85, scores


def test_merge_split_needs_crowding_and_concavity():
    from napari_tessella.nuclei._merges import _split_merges

    yy, xx = np.indices((140, 140))

    def disc(cy, cx, r):
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r

    # three nuclei of d 20 packed in a triangle (centres 0.85 d apart): no waist across a
    # long axis, but concave, and three times the area of the nuclei around it
    triple = disc(63, 70, 10) | disc(78, 61, 10) | disc(78, 79, 10)
    big = disc(72, 70, 17)  # one large round nucleus of about the same area: convex
    around = [disc(70, 38, 10), disc(70, 102, 10), disc(42, 70, 10), disc(102, 62, 10),
              disc(100, 90, 10)]
    for mask, crowded, parts in ((triple, True, 3), (triple, False, 1), (big, True, 1)):
        labels = mask.astype(np.int32)
        if crowded:
            for k, other in enumerate(around, start=2):
                labels[other & ~mask] = k
        markers = np.zeros_like(labels)
        markers[72, 70] = 1
        out, seeds = _split_merges(labels, markers, 20.0, labels > 0, 0.0)
        assert np.unique(out[mask]).size == parts, (crowded, parts)
        assert np.unique(seeds[mask & (seeds > 0)]).size == parts
        if parts == 3:  # one part per nucleus
            assert len({out[62, 70], out[80, 58], out[80, 82]}) == 3
