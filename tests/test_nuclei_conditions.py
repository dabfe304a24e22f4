"""seeded_watershed defaults under harder conditions (issue 14), synthetic and real: ramps,
foci, glare, saturated cells in their glow, smudges, few small nuclei, noise, extreme values."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed
from napari_tessella.nuclei import score_segmentation
from napari_tessella.synthetic import synthetic_nuclei

SHARED_DATA = Path(
    os.environ.get("NAPARI_TESSELLA_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
U2OS = SHARED_DATA / "coelho2009_u2os"


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
