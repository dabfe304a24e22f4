"""seeded_watershed defaults: scoring, accuracy on real U2OS nuclei, dim nuclei kept."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed, threshold_label
from napari_tessella.nuclei import score_segmentation
from napari_tessella.synthetic import synthetic_nuclei

SHARED_DATA = Path(
    os.environ.get("NAPARI_TESSELLA_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
U2OS = SHARED_DATA / "coelho2009_u2os"


# ----------------------------------------------------------------------------- scoring
def _square(img, r0, c0, side, value):
    img[r0:r0 + side, c0:c0 + side] = value


@pytest.fixture
def one_error_of_each_class():
    """Reference A..E; the segmentation splits A, merges B+C, misses D, adds a speck."""
    ref = np.zeros((60, 80), np.int32)
    _square(ref, 2, 2, 10, 1)     # A
    _square(ref, 20, 2, 10, 2)    # B
    _square(ref, 20, 13, 10, 3)   # C, one pixel column away from B
    _square(ref, 40, 2, 10, 4)    # D
    _square(ref, 40, 40, 10, 5)   # E
    pred = np.zeros_like(ref)
    pred[2:12, 2:8] = 1           # 60 % of A
    pred[2:12, 8:12] = 2          # 40 % of A
    pred[20:30, 2:23] = 3         # B, the gap and C in one object
    _square(pred, 40, 40, 10, 4)  # E, exactly
    _square(pred, 2, 60, 5, 5)    # speck on the reference background
    return pred, ref


def test_score_each_error_class_once(one_error_of_each_class):
    pred, ref = one_error_of_each_class
    s = score_segmentation(pred, ref)
    assert (s["split"], s["merged"], s["spurious"], s["missing"]) == (1, 1, 1, 1)
    assert s["errors"] == 4
    assert (s["n_pred"], s["n_ref"]) == (5, 5)
    # IoU >= 0.5 pairs: the 60 % part of A and E  ->  F1 = 2*2 / (5 + 5)
    assert s["f1"] == pytest.approx(0.4)


def test_score_is_label_value_and_dtype_independent(one_error_of_each_class):
    pred, ref = one_error_of_each_class
    relabelled = np.where(pred > 0, pred * 7 + 100, 0).astype(np.uint16)
    assert score_segmentation(relabelled, ref.astype(np.uint8)) == score_segmentation(pred, ref)


def test_score_perfect_and_empty():
    ref = np.zeros((20, 20), np.int32)
    _square(ref, 2, 2, 5, 1)
    _square(ref, 10, 10, 5, 2)
    s = score_segmentation(ref, ref)
    assert s["errors"] == 0 and s["f1"] == 1.0 and s["mean_iou"] == 1.0
    s = score_segmentation(np.zeros_like(ref), ref)
    assert s["missing"] == 2 and s["errors"] == 2 and s["f1"] == 0.0
    s = score_segmentation(ref, np.zeros_like(ref))
    assert s["spurious"] == 2 and s["errors"] == 2


def test_score_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        score_segmentation(np.zeros((3, 3), int), np.zeros((3, 4), int))


# ------------------------------------------------------------------ real U2OS images
# Measured with the defaults on these three images (see docs/nuclei.md); the floors sit
# just below, so a change that loses accuracy on real nuclei fails here.
U2OS_FLOORS = {  # image: (max errors, min F1 at IoU >= 0.5); measured: errors, F1
    "dna-0": (2, 0.97),  # 1, 0.989
    # a small nucleus with a dim cap: its bright part is below the minimum size, π (d/3)²
    "dna-1": (4, 0.95),  # 3, 0.960
    # 2, 0.979 until issue 14; 4, 0.958 since (the local background and the foci cap
    # trade a little here for images with foci, halos and ramps; see docs/nuclei.md)
    "dna-2": (4, 0.95),
    # a few very bright apoptotic bodies: the diameter was estimated from them (36 px
    # instead of ~90) until the estimate used the auto foreground; then 11 errors, F1 0.794
    # (several nuclei are not in the hand labels: the F1 cannot be high here)
    # 7, 0.885 until issue 14; 8, 0.852 since
    "dna-11": (8, 0.84),
}


@pytest.mark.parametrize("name", sorted(U2OS_FLOORS))
def test_defaults_accuracy_on_u2os(name):
    img_path = U2OS / "images" / f"{name}.png"
    ref_path = U2OS / "labels" / f"{name}.png"
    if not (img_path.exists() and ref_path.exists()):
        pytest.skip(f"shared U2OS data not found at {U2OS} (expected ../shared/data beside the "
                    "repository root, or set NAPARI_TESSELLA_SHARED_DATA)")
    from skimage.io import imread

    image, ref = imread(img_path), imread(ref_path)
    s = score_segmentation(seeded_watershed(image).labels, ref)
    max_errors, min_f1 = U2OS_FLOORS[name]
    assert s["errors"] <= max_errors, s
    assert s["f1"] >= min_f1, s


# --------------------------------------------------------- dim nuclei beside bright ones
def _best_iou(pred, ref, ids):
    out = []
    for i in ids:
        m = ref == i
        values, counts = np.unique(pred[m], return_counts=True)
        j = values[counts.argmax()]
        out.append(0.0 if j == 0 else (m & (pred == j)).sum() / (m | (pred == j)).sum())
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 2])
def test_dim_nuclei_next_to_bright_ones_are_found(seed):
    nuc = synthetic_nuclei((512, 512), n_nuclei=40, diameter=30, brightness_range=(0.1, 1.0),
                           seed=seed)
    ids = np.arange(1, int(nuc.labels.max()) + 1)
    brightness = ndi.mean(nuc.image, nuc.labels, ids)
    dim = brightness < 0.3
    assert dim.sum() >= 5  # the case is really there
    # a global Otsu loses most of them: the test would catch a return to it
    otsu = _best_iou(threshold_label(nuc.image, "otsu", smooth_sigma=1.5), nuc.labels, ids[dim])
    assert (otsu < 0.5).sum() >= dim.sum() // 2

    result = seeded_watershed(nuc.image)
    iou = _best_iou(result.labels, nuc.labels, ids[dim])
    assert (iou >= 0.5).all(), iou
    s = score_segmentation(result.labels, nuc.labels)
    assert s["errors"] <= 1 and s["f1"] >= 0.95, s


def _dim_nuclei_and_bright_specks(seed=0):
    """Dim nuclei (diameter 40) and a few small specks 20x brighter (diameter 12), one
    touching each of three nuclei: an apoptotic body or a mitotic cell beside a nucleus."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[:400, :400]
    labels = np.zeros((400, 400), np.int32)
    centres = [(70 + 130 * i, 70 + 130 * j) for i in range(3) for j in range(3)]
    for k, (r, c) in enumerate(centres, 1):
        labels[(rr - r) ** 2 + (cc - c) ** 2 <= 20**2] = k
    image = np.where(labels > 0, rng.uniform(0.05, 0.1, len(centres) + 1)[labels], 0.0)
    for r, c in [*centres[:3], (135, 135), (265, 265)]:
        dr = 25 if (r, c) in centres else 0  # on the rim of a nucleus, or alone
        image[(rr - r - dr) ** 2 + (cc - c) ** 2 <= 6**2] = 2.0
    image = ndi.gaussian_filter(image, 1.5) + rng.normal(0, 0.003, image.shape)
    return image, labels


def test_diameter_is_the_nuclei_not_a_few_bright_specks():
    from napari_tessella import estimate_object_diameter

    image, _ = _dim_nuclei_and_bright_specks()
    # the nuclei's diameter (40), not the specks' (12) that a global Otsu would keep alone
    assert 34 <= estimate_object_diameter(image) <= 46


def test_dim_nucleus_touching_a_bright_speck_is_kept():
    """Flooded from the speck's seed, a dim nucleus was erased by the cut at 30 % of the
    speck's peak; what the cut removes is now a nucleus of its own when wide enough."""
    image, labels = _dim_nuclei_and_bright_specks()
    result = seeded_watershed(image, object_diameter=40)
    iou = _best_iou(result.labels, labels, np.arange(1, 10))
    assert (iou >= 0.7).all(), iou


def test_defaults_are_scale_free():
    """The same scene drawn at two magnifications gives the same nuclei."""
    scores = []
    for diameter, shape in ((16, (256, 256)), (48, (768, 768))):
        nuc = synthetic_nuclei(shape, n_nuclei=30, diameter=diameter,
                               brightness_range=(0.2, 1.0), seed=4)
        scores.append(score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels))
    for s in scores:
        assert s["errors"] <= 2 and s["f1"] >= 0.9, s


def test_brightness_scale_does_not_matter():
    nuc = synthetic_nuclei((384, 384), n_nuclei=30, diameter=30, brightness_range=(0.1, 1.0),
                           seed=1)
    a = seeded_watershed(nuc.image).labels
    b = seeded_watershed(nuc.image * 1000.0 + 50.0).labels
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("zoom", [0.5, 1.5])
def test_real_nuclei_at_another_magnification(u2os_pair, zoom):
    """The defaults follow the nuclei's size: the same U2OS field imaged at another
    magnification (resampled, hand labels resampled with it) scores as the original."""
    from skimage.transform import rescale

    image, reference = u2os_pair
    original = score_segmentation(seeded_watershed(image).labels, reference)
    image2 = rescale(image.astype(float), zoom, anti_aliasing=zoom < 1)
    reference2 = rescale(reference, zoom, order=0, preserve_range=True,
                         anti_aliasing=False).astype(np.int32)
    s = score_segmentation(seeded_watershed(image2).labels, reference2)
    assert s["errors"] <= original["errors"] + 2 and s["f1"] >= original["f1"] - 0.03, (
        s, original)


def test_minimum_size_keeps_a_spread_population_and_drops_fragments():
    """Nuclei from 0.75x to 1.3x the mean diameter are all kept; blobs of half the
    diameter (a quarter of the area: fragments, debris) are dropped by the default
    minimum size, and kept when the user lowers it."""
    rng = np.random.default_rng(1)
    rr, cc = np.mgrid[:700, :600]
    image = np.zeros(rr.shape)
    truth = np.zeros(rr.shape, int)
    diameters = np.linspace(0.75, 1.3, 25) * 36
    for i, dm in enumerate(diameters):
        r, c = divmod(i, 5)
        inside = (rr - 60 - 115 * r) ** 2 + (cc - 60 - 115 * c) ** 2 < (dm / 2) ** 2
        image[inside] = rng.uniform(0.5, 1.0)
        truth[inside] = i + 1
    fragments = [(645, 60 + 115 * c) for c in range(5)]
    for r, c in fragments:
        image[(rr - r) ** 2 + (cc - c) ** 2 < 9**2] = 0.8
    image = ndi.gaussian_filter(image, 1.8) + rng.normal(0, 0.02, image.shape)

    labels = seeded_watershed(image).labels
    found = [np.bincount(labels[truth == i + 1]).argmax() > 0 for i in range(25)]
    assert all(found), diameters[~np.array(found)]
    assert not any(labels[r, c] for r, c in fragments)
    assert labels.max() == 25
    kept = seeded_watershed(image, min_size=100).labels
    assert all(kept[r, c] for r, c in fragments)


# ------------------------------------------------ harder conditions (issue 14), synthetic
def test_uneven_background_ramp_does_not_lose_dim_nuclei():
    # a ramp + bump of 0.65 (the median nucleus is ~0.65 above the background): before the
    # local background, the dim nuclei on the dark side were lost (F1 0.88, 3 missing)
    nuc = synthetic_nuclei((512, 512), n_nuclei=40, diameter=30, brightness_range=(0.3, 1.0),
                           background=0.2, ramp=0.65, seed=0)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    assert s["missing"] == 0 and s["f1"] >= 0.95, s
    # a dim nucleus (408, 16) pressed against one twice as bright was merged with it: the
    # pair split kept them apart (a brightness step) but divided them along the distance
    # transform's neck, which gave most of the dim one to the bright one; divided along the
    # image's gradient since 2026-11-30: no error left
    assert s["errors"] == 0, s


def _matched_area_ratios(labels, truth):
    """Per truth nucleus, the area of the label covering most of it over its own."""
    ratios = []
    for i in range(1, int(truth.max()) + 1):
        inside = truth == i
        j = np.bincount(labels[inside]).argmax()
        if j:
            ratios.append(np.count_nonzero(labels == j) / np.count_nonzero(inside))
    return np.array(ratios)


def test_outlines_sit_on_the_edge():
    # blurred flat nuclei: the truth's outline is where the blurred step is half-way
    # between the nucleus and the background. Cut at 30 % of each nucleus's peak the
    # outlines were 13 % too large in area (mean IoU 0.86); cut half-way between the body
    # at the rim and the background, 1.00 (0.96)
    nuc = synthetic_nuclei((512, 512), n_nuclei=40, diameter=30, brightness_range=(0.3, 1.0),
                           background=0.2, ramp=0.65, seed=0)
    labels = seeded_watershed(nuc.image).labels
    assert score_segmentation(labels, nuc.labels)["mean_iou"] >= 0.94
    ratios = _matched_area_ratios(labels, nuc.labels)
    assert 0.96 <= np.median(ratios) <= 1.04, np.median(ratios)


def _textured(seed=1):
    return synthetic_nuclei((512, 512), n_nuclei=40, diameter=30,
                            brightness_range=(0.3, 1.0), chromocenters=6, seed=seed)


def test_textured_nuclei_are_whole():
    # seeds 0-2: no split, 2 missing, mean F1 0.965 (0.954 before the diameter estimate
    # measured textured nuclei whole, at 30 px instead of 23, and glare was cut at 0.4)
    scores = [score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
              for nuc in map(_textured, range(3))]
    assert sum(s["split"] for s in scores) == 0, scores
    assert sum(s["missing"] for s in scores) <= 3, scores
    assert np.mean([s["f1"] for s in scores]) >= 0.95, scores


def test_textured_outlines_reach_the_edge():
    # nuclei with chromocenters whose nucleoplasm thins towards the rim: cut half-way
    # between the body inside the rim and the background, their outlines had 0.84 of the
    # truth's area (median over seeds 0-2; mean IoU 0.733); moved out to the level of
    # their edge (nuclei/_edges.py), 0.99 (0.828). Flat nuclei: test_outlines_sit_on_the_edge
    ious, ratios = [], []
    for nuc in map(_textured, range(3)):
        labels = seeded_watershed(nuc.image).labels
        ious.append(score_segmentation(labels, nuc.labels)["mean_iou"])
        ratios.append(_matched_area_ratios(labels, nuc.labels))
    assert np.mean(ious) >= 0.79, ious
    assert 0.93 <= np.median(np.concatenate(ratios)) <= 1.07, np.median(np.concatenate(ratios))


def test_diameter_of_textured_nuclei():
    from napari_tessella.nuclei import estimate_object_diameter

    # bright chromocenters alone pass half a nucleus's maximum: the estimate measured the
    # foci (~12 px) until it recognised such nuclei (issue 14); 23 px on average over seeds
    # 0-2 (15 px for seed 2, whose nuclei hold one or two pieces of foci) until they were
    # recognised by foci covering little of the nucleus and measured at 30 % of its median
    for seed in range(3):
        assert 27 < estimate_object_diameter(_textured(seed).image) < 33, seed


def test_combined_hard_field():
    # foci, two saturated cells with halos, debris, 1.5-2x dim nuclei on an uneven
    # background: this field had 17 errors, F1 0.67 before issue 14 (12, F1 0.84 after;
    # over seeds 0-2: 8.7 -> 9.7 errors, F1 0.83 -> 0.86: nucleus-sized glare remains)
    nuc = synthetic_nuclei((512, 512), n_nuclei=40, diameter=30, brightness_range=(0.5, 1.0),
                           chromocenters=5, background=1.0, saturated=2, debris=16, ramp=0.5,
                           seed=1)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    # 4 errors (2 spurious), F1 0.94 since objects that fade into their ring are dropped;
    # 3 errors (1 spurious), F1 0.935 with the edge cut at 0.40; 2, F1 0.949 since bright
    # cells in their glow are cut higher instead of dropped
    assert s["missing"] <= 2 and s["spurious"] <= 3 and s["errors"] <= 5, s
    assert s["f1"] >= 0.92, s


def test_glare_is_not_a_nucleus():
    # 24 specks and nucleus-sized smudges of glare: 12 spurious objects before glare was
    # told from nuclei by how sharply each stands out of its ring (8 after; 0 since that cut
    # is 0.40 and the diameter is estimated right)
    nuc = synthetic_nuclei((512, 512), n_nuclei=40, diameter=30, brightness_range=(0.3, 1.0),
                           debris=24, seed=0)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    assert s["missing"] == 0 and s["spurious"] <= 2 and s["f1"] >= 0.95, s


def test_saturated_cell_in_its_glow_is_kept():
    # three saturated cells with an out-of-focus glow among dim nuclei: the 30 % cut of a
    # saturated cell takes in its glow, which fades into its ring, and the edge cue dropped
    # it (3 missing, F1 0.92); cut at half its contrast it shows its own sharp edge (1, 0.95)
    nuc = synthetic_nuclei((512, 512), n_nuclei=40, diameter=30, brightness_range=(0.5, 1.0),
                           background=1.0, saturated=3, seed=0)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    assert s["missing"] <= 2 and s["errors"] <= 4 and s["f1"] >= 0.93, s


def test_dim_nuclei_on_a_saturated_cells_glow():
    # dim nuclei 1.3-2x above the background beside three saturated cells: the dim nuclei
    # on a cell's glow were merged with it (seeds 0-2: 4.0 errors, 1.7 merged, F1 0.917);
    # with the glow's radial profile subtracted (nuclei/_edges.py) 1.0 error, F1 0.987
    scores = [score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
              for nuc in (synthetic_nuclei(seed=s, brightness_range=(0.3, 1.0), background=1.0,
                                           saturated=3) for s in range(3))]
    assert sum(s["merged"] for s in scores) <= 1, scores
    assert np.mean([s["errors"] for s in scores]) <= 2.5, scores
    assert np.mean([s["f1"] for s in scores]) >= 0.96, scores


def test_edge_sharpness_tells_a_nucleus_from_a_smudge():
    from napari_tessella.nuclei._cues import _edge_sharpness

    rr, cc = np.mgrid[:120, :240]
    disc = ndi.gaussian_filter(1.0 * ((rr - 60) ** 2 + (cc - 60) ** 2 <= 10**2), 1.0)
    smudge = np.exp(-((rr - 60) ** 2 + (cc - 180) ** 2) / (2 * 10.0**2))  # sigma d/2
    image = disc + smudge
    labels = np.where(image > 0.3, 1 + (cc > 120), 0)
    sharp = _edge_sharpness(labels, image, 0.0, 20.0)
    assert sharp[1] > 0.6 and sharp[2] < 0.33, sharp
    assert sharp[0] == np.inf  # the background is never dropped as unsharp


def test_generator_conditions_are_off_by_default():
    plain = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4)
    again = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4, chromocenters=0,
                             saturated=0, debris=0, background=0.0, ramp=0.0, seam=0.0,
                             dome=0.0, photons=0.0, aspect=1.0)
    np.testing.assert_array_equal(plain.image, again.image)
    long = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4, aspect=2.0)
    np.testing.assert_array_equal(long.centers, plain.centers)
    for truth in (plain, long):  # elongated: longer than wide, the area about the same
        from skimage.measure import regionprops
        props = regionprops(truth.labels)
        ratio = [p.axis_major_length / p.axis_minor_length for p in props]
        if truth is plain:
            assert max(ratio) <= 1.6, ratio
        else:
            assert max(ratio) > 1.6, ratio
    hard = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4, chromocenters=4,
                            saturated=1, debris=4, background=1.0, ramp=0.5)
    np.testing.assert_array_equal(hard.labels, plain.labels)  # the truth is the same
    assert hard.image.max() <= 1.0 + 3 * 1.0 + 1e-6  # saturated: clipped


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


def test_real_nuclei_with_added_foci():
    # a U2OS image with five bright foci (2.5x the nucleus's contrast) in every hand-labelled
    # nucleus: 12 errors, F1 0.80 before issue 14 (the foci were taken for nuclei)
    img_path, ref_path = U2OS / "images" / "dna-0.png", U2OS / "labels" / "dna-0.png"
    if not (img_path.exists() and ref_path.exists()):
        pytest.skip(f"shared U2OS data not found at {U2OS}")
    import importlib.util

    from skimage.io import imread

    bench = Path(__file__).resolve().parents[1] / "benchmarks" / "coelho2009_augmented.py"
    spec = importlib.util.spec_from_file_location("coelho2009_augmented", bench)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    image, ref = imread(img_path), imread(ref_path)
    s = score_segmentation(seeded_watershed(module.augment(image, ref, "foci")).labels, ref)
    assert s["errors"] <= 3 and s["f1"] >= 0.95, s


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


@pytest.mark.parametrize("seed", range(3))
def test_a_few_small_nuclei_in_a_large_image(seed):
    # 5 nuclei of 15 px in 1024² (0.08 % of the pixels): Otsu split the background's
    # noise, the diameter was estimated at 3.8 px and ~1,100 specks of noise became
    # nuclei (F1 0) until a cut within 4 noise deviations of the background was refused
    nuc = synthetic_nuclei((1024, 1024), n_nuclei=5, diameter=15, seed=seed)
    result = seeded_watershed(nuc.image)
    assert 12 < result.object_diameter < 18, result
    s = score_segmentation(result.labels, nuc.labels)
    assert s["errors"] == 0 and s["f1"] == 1.0, s
    # ... and in low light: 3 nuclei, 30 photons above a background of 6
    dim = synthetic_nuclei((1024, 1024), n_nuclei=3, diameter=15, seed=seed, photons=30,
                           background=0.2)
    s = score_segmentation(seeded_watershed(dim.image).labels, dim.labels)
    assert s["errors"] <= 1 and s["f1"] >= 0.8, s


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


def test_noise_alone_is_no_nucleus():
    # pure noise gave 238 (Gaussian) and 150 (Poisson) nuclei of 4 px before the cut had
    # to stand 4 noise deviations above the background
    rng = np.random.default_rng(0)
    for img in (rng.normal(0, 1, (256, 256)), rng.poisson(5, (256, 256)).astype(float)):
        assert seeded_watershed(img).labels.max() == 0


def test_generator_dome_and_photons():
    plain = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4, noise=0)
    dome = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4, noise=0, dome=0.4)
    np.testing.assert_array_equal(dome.labels, plain.labels)
    # brighter at the centre than at the rim, never brighter than the flat nucleus
    inner = ndi.binary_erosion(plain.labels > 0, iterations=4)
    assert (dome.image <= plain.image + 1e-6).all()
    assert dome.image[inner].mean() > dome.image[(plain.labels > 0) & ~inner].mean()
    counts = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=4, photons=25,
                              background=0.2)
    assert np.array_equal(counts.image, np.round(counts.image))  # photon counts
    assert 2 < np.median(counts.image[counts.labels == 0]) < 8  # ~ 0.2 x 25


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


@pytest.mark.parametrize("exponent", [1023, 1000, -1000, -1060])
def test_watershed_is_the_same_on_an_image_times_a_huge_or_tiny_power_of_two(exponent):
    """A finite image near the largest float was refused as holding NaN (its smoothing
    overflowed), and a subnormal one failed in the threshold: both give the nuclei of the
    image itself, and the threshold in their own units."""
    image = synthetic_nuclei(seed=0).image.astype(np.float64)
    base = seeded_watershed(image)
    scaled = seeded_watershed(np.ldexp(image, exponent))
    np.testing.assert_array_equal(scaled.labels, base.labels)
    np.testing.assert_array_equal(scaled.territories, base.territories)
    assert scaled.threshold == pytest.approx(np.ldexp(base.threshold, exponent), rel=1e-9)
    given = seeded_watershed(np.ldexp(image, exponent), threshold=np.ldexp(0.1, exponent))
    assert given.labels.max() > 0.8 * base.labels.max()


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
    from napari_tessella.nuclei._shape import _split_merges

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
