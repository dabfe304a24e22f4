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
