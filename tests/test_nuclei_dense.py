"""Dense fields of small touching nuclei (issue 14, round 10): the crowded-pair step split
and the neck cut of small pairs."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed
from napari_tessella.nuclei import score_segmentation
from napari_tessella.synthetic import synthetic_nuclei

D = 20.0
MIN_SIZE = np.pi * (D / 3) ** 2  # the default minimum size at d 20


def _disc(shape, cy, cx, r):
    yy, xx = np.indices(shape)
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def _steps(smooth, mask):
    from napari_tessella.nuclei._cues import _split_at_steps

    labels = mask.astype(np.int32)
    markers = np.zeros_like(labels)
    markers[np.unravel_index(np.argmax(ndi.distance_transform_edt(mask)), mask.shape)] = 1
    return _split_at_steps(labels, markers, smooth, D, MIN_SIZE, 0.0, [1], step=0.8,
                           depth=1 / 6, body=0.2, bright_cell=3.0, gradient=0.05)


def test_step_split_parts_a_dim_and_a_bright_nucleus_only():
    shape = (60, 90)
    left, right = _disc(shape, 30, 38, 10), _disc(shape, 30, 51, 10)  # 0.65 d apart
    pair = left | right
    nearer = np.indices(shape)[1] < 44.5  # the overlap goes to the nearer centre
    image = np.where(left & nearer, 1.0, 0.0) + np.where(right & ~(left & nearer), 0.5, 0.0)
    out, seeds = _steps(ndi.gaussian_filter(image, 1.0), pair)
    assert np.unique(out[pair]).size == 2 and (out[~pair] == 0).all()
    assert np.unique(seeds[seeds > 0]).size == 2
    assert out[30, 34] != out[30, 56]  # each centre in its own part
    # the parts meet at the step (column 44-45), not along the middle of the object
    cut = [c for c in range(30, 60) if out[30, c] != out[30, c - 1] and out[30, c]]
    assert cut and abs(cut[0] - 45) <= 2, cut
    # the same pair, equally bright: no step, left whole
    flat = ndi.gaussian_filter(pair.astype(float), 1.0)
    out, _ = _steps(flat, pair)
    assert np.unique(out[pair]).size == 1
    # one elongated nucleus of the same area whose body dims towards its rim (a dome
    # falling to 40 % at the edge): its dim class is a thin ring, not a nucleus
    yy, xx = np.indices(shape)
    q = ((yy - 30) / 10.5) ** 2 + ((xx - 44.5) / 16.5) ** 2
    one = q <= 1
    dome = np.where(one, 0.4 + 0.6 * np.sqrt(np.clip(1 - q, 0, 1)), 0.0)
    out, _ = _steps(ndi.gaussian_filter(dome, 1.0), one)
    assert np.unique(out[one]).size == 1


def test_crowded_pairs_need_a_crowd_of_smaller_nuclei():
    from napari_tessella.nuclei._shape import _crowded_pairs

    shape = (120, 140)
    pair = _disc(shape, 60, 63, 10) | _disc(shape, 60, 77, 10)  # 1.6 nucleus areas
    around = [_disc(shape, 60, 41, 10), _disc(shape, 60, 99, 10), _disc(shape, 37, 70, 10),
              _disc(shape, 83, 70, 10), _disc(shape, 36, 94, 10)]
    for k_around, expect in ((5, [1]), (4, [1]), (3, [])):
        labels = pair.astype(np.int32)
        for k, other in enumerate(around[:k_around], start=2):
            labels[other & ~pair] = k
        assert _crowded_pairs(labels, D).tolist() == expect, k_around
    # the same crowd around a nucleus of their own size: nothing to look at
    labels = _disc(shape, 60, 70, 10).astype(np.int32)
    for k, other in enumerate(around, start=2):
        labels[other] = k
    assert _crowded_pairs(labels, D).tolist() == []


def test_neck_cut_splits_a_pinched_pair_of_small_nuclei():
    # two nuclei of 16 px (centres 0.8 of that apart) where the typical nucleus is 20 px
    # (crowded fields: the estimate runs ~8 % large): 1.2 nucleus areas, below the 1.5 the
    # neck cut looked at before round 10, whatever the depth of its neck
    from napari_tessella.nuclei._shape import _split_at_necks

    shape = (50, 70)
    pair = _disc(shape, 25, 28.6, 8) | _disc(shape, 25, 41.4, 8)
    assert 1.0 < pair.sum() / (np.pi * D * D / 4) < 1.5
    labels = pair.astype(np.int32)
    markers = np.zeros_like(labels)
    markers[25, 35] = 1
    out, seeds = _split_at_necks(labels, markers, D)
    assert np.unique(out[pair]).size == 2 and out[25, 26] != out[25, 44]
    assert np.unique(seeds[seeds > 0]).size == 2
    # one round nucleus of that area has no neck
    one = _disc(shape, 25, 35, 11)
    out, _ = _split_at_necks(one.astype(np.int32), markers, D)
    assert np.unique(out[one]).size == 1


def _f1(side, d, seeds, fill=0.6, **kw):
    n = round(fill * side * side / (np.pi * d * d / 4))
    scores = []
    for seed in seeds:
        nuc = synthetic_nuclei((side, side), n_nuclei=n, diameter=d, seed=seed,
                               brightness_range=(0.4, 1.0), **kw)
        scores.append(score_segmentation(seeded_watershed(nuc.image).labels,
                                         nuc.labels)["f1"])
    return float(np.mean(scores)), scores


def test_crowded_fields_of_small_nuclei():
    # round 7's held-out fields, the tuning set of round 10: the most crowded one (18-px
    # nuclei, centres 0.65 d apart, 65 % cover; F1 0.819 before round 10, 0.830 after,
    # 0.824 with round 11's estimate for elongated nuclei: 19.44 -> 19.87 px on seed 20,
    # truth 18, one more merge; 0.836 with round 13's split of crowded objects that no disc
    # covers) and 14-px nuclei at ~40 photons (0.928 -> 0.945)
    crowded, scores = _f1(240, 18, (20, 21, 22), fill=0.65, min_separation=0.65)
    assert crowded >= 0.832, scores
    photons, scores = _f1(192, 14, (20, 21, 22), min_separation=0.75, photons=40,
                          background=0.2)
    assert photons >= 0.94, scores


def _crowd_split(obj, around, shape):
    from napari_tessella.nuclei._crowd import _split_crowds

    labels = obj.astype(np.int32)
    for k, (cy, cx) in enumerate(around, start=2):
        labels[_disc(shape, cy, cx, 9) & ~obj] = k
    markers = np.zeros_like(labels)
    markers[60, 75] = 1
    out, seeds = _split_crowds(labels, markers, D, (labels > 0).astype(float), 0.0)
    assert (out[~obj] == labels[~obj]).all()  # the neighbours are left as they were
    return out, seeds


def test_crowded_object_no_disc_covers_is_split_in_two():
    # round 13: two 20-px nuclei 0.7 of that apart, of one brightness, among six single
    # nuclei of 18 px: 1.8 times their largest inscribed disc, solidity 0.91
    shape = (120, 150)
    pair = _disc(shape, 60, 68, 10) | _disc(shape, 60, 82, 10)
    around = [(60, 45), (60, 105), (36, 63), (36, 87), (84, 63), (84, 87)]
    out, seeds = _crowd_split(pair, around, shape)
    assert np.unique(out[pair]).size == 2 and out[60, 64] != out[60, 86]
    assert np.unique(seeds[pair & (seeds > 0)]).size == 2
    # with only three nuclei around it there is no crowd to compare with
    out, _ = _crowd_split(pair, around[:3], shape)
    assert np.unique(out[pair]).size == 1
    # one nucleus as long (aspect 1.8, 1.8 times its inscribed disc) is convex: left whole
    yy, xx = np.indices(shape)
    one = ((yy - 60) / 9) ** 2 + ((xx - 75) / 16.5) ** 2 <= 1
    out, _ = _crowd_split(one, around, shape)
    assert np.unique(out[one]).size == 1


def test_crowded_object_more_ragged_than_two_nuclei_is_left_whole():
    # a nucleus with a thin tail (a piece of glow, 5 x 84 px) among six larger nuclei: 1.4
    # times their area, 2.5 times its inscribed disc, so more than 1.2 x 2 of them; as two
    # nuclei it would part at the tail (it does with no such limit), as three the parts are
    # too small
    from napari_tessella.nuclei._crowd import _split_crowds

    shape = (160, 200)
    obj = _disc(shape, 80, 60, 9)
    obj[78:83, 60:144] = True
    labels = obj.astype(np.int32)
    for k, (cy, cx) in enumerate([(80, 36), (52, 60), (108, 60), (56, 100), (104, 100),
                                  (80, 165)], start=2):
        labels[_disc(shape, cy, cx, 12) & ~obj] = k
    markers = np.zeros_like(labels)
    markers[80, 60] = 1
    out, _ = _split_crowds(labels, markers, D, (labels > 0).astype(float), 0.0)
    assert np.array_equal(out, labels)


def test_most_crowded_field_round13_tuning_seeds():
    # round 13's tuning seeds of the most crowded proxy (18-px nuclei, centres 0.65 d
    # apart, 65 % cover): F1 0.797 before round 13 (14.7 merged per field), 0.825 after
    crowded, scores = _f1(240, 18, (40, 41, 42, 43, 44, 45), fill=0.65, min_separation=0.65)
    assert crowded >= 0.815, scores
