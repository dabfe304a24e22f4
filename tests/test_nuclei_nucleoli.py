"""Nuclei with dark nucleoli (issue 14): the generator's option, the diameter estimate and
the defaults on fields of such nuclei, and holes that one nucleus encloses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed
from napari_tessella.nuclei import estimate_object_diameter, score_segmentation
from napari_tessella.synthetic import synthetic_nuclei


def _field(seed, depth, radius, count=1, d=20.0, separation=1.3):
    n = round(40 * (30 / d) ** 2)  # as benchmarks/nuclei_nucleoli.py
    return synthetic_nuclei((512, 512), n_nuclei=n, diameter=d, seed=seed,
                            min_separation=separation, nucleoli=count,
                            nucleoli_depth=(depth, depth), nucleoli_size=(radius, radius))


def _enclosed_holes(labels) -> int:
    """Pixels of background components that one label alone encloses."""
    holes, n = ndi.label(labels == 0)
    edge = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
    count = 0
    for i in range(1, n + 1):
        if i in edge:
            continue
        hole = holes == i
        ring = ndi.binary_dilation(hole, np.ones((3, 3), bool)) & ~hole
        if np.unique(labels[ring]).size == 1:
            count += int(hole.sum())
    return count


def test_generator_nucleoli_off_is_the_same_image():
    for seed in (0, 3):
        plain = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=seed,
                                 chromocenters=2)
        off = synthetic_nuclei((128, 128), n_nuclei=5, diameter=20, seed=seed,
                               chromocenters=2, nucleoli=0, nucleoli_depth=(0.9, 0.9),
                               nucleoli_size=(0.3, 0.3))
        np.testing.assert_array_equal(plain.image, off.image)


def test_generator_nucleoli_are_dark_holes_and_the_truth_is_unchanged():
    plain = synthetic_nuclei((256, 256), n_nuclei=10, diameter=30, seed=2)
    dark = synthetic_nuclei((256, 256), n_nuclei=10, diameter=30, seed=2, nucleoli=2,
                            nucleoli_depth=(0.8, 0.8), nucleoli_size=(0.2, 0.2))
    np.testing.assert_array_equal(dark.labels, plain.labels)
    np.testing.assert_array_equal(dark.centers, plain.centers)
    # the same noise: only darker, and darkest well inside the nuclei
    change = dark.image.astype(np.float64) - plain.image
    assert change.max() <= 1e-6
    inner = ndi.distance_transform_edt(plain.labels > 0) > 2
    assert np.all(change[~(plain.labels > 0)] > -0.5)
    # each nucleus holds at least one nucleolus: a disc of radius 0.2 d, 80 % darker
    for i in range(1, int(plain.labels.max()) + 1):
        own = (plain.labels == i) & inner
        assert change[own].min() < -0.5 * plain.image[own].max(), i
    with pytest.raises(ValueError):
        synthetic_nuclei((64, 64), n_nuclei=2, nucleoli=1, nucleoli_depth=(0.6, 0.3))
    with pytest.raises(ValueError):
        synthetic_nuclei((64, 64), n_nuclei=2, nucleoli=1, nucleoli_size=(0.1, 0.7))
    with pytest.raises(ValueError):
        synthetic_nuclei((64, 64), n_nuclei=2, nucleoli=-1)


def test_diameter_of_nuclei_with_large_nucleoli():
    # the half-maximum cut of a nucleus with a nucleolus 60 % darker, radius 0.3 d, is a
    # ring: main estimated these 20 px nuclei at 9.9 px (and split 40 of 90 in two)
    nuc = _field(10, 0.6, 0.3)
    assert 16 <= estimate_object_diameter(nuc.image) <= 24


@pytest.mark.parametrize("seed", [10, 11])
def test_nuclei_with_large_dark_nucleoli_are_not_split(seed):
    # held-out seeds of the nucleoli grid: main split 39 and 36 of the 90 nuclei
    nuc = _field(seed, 0.6, 0.3)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    assert s["split"] <= 2 and s["f1"] >= 0.97, s


def test_touching_nuclei_with_nucleoli_stay_apart():
    # touching nuclei (centres 0.8 d apart) with 1-3 nucleoli of 0.2 d, 60 % darker
    nuc = _field(10, 0.6, 0.2, count=3, d=40.0, separation=0.8)
    s = score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels)
    assert s["split"] + s["merged"] <= 2 and s["f1"] >= 0.95, s


@pytest.mark.parametrize("seed, d", [(11, 40.0), (10, 20.0)])
def test_a_nucleolus_below_the_outline_cut_is_not_a_hole(seed, d):
    # nucleoli 90 % darker, radius 0.3 d: main left 3851 and 3513 px of holes in these
    # fields; a nucleolus is part of its nucleus
    nuc = _field(seed, 0.9, 0.3, d=d)
    labels = seeded_watershed(nuc.image).labels
    assert _enclosed_holes(labels) <= 20


def test_fill_enclosed_keeps_gaps_between_touching_nuclei():
    from napari_tessella.nuclei._recipe import _fill_enclosed

    rr, cc = np.mgrid[:80, :80]
    labels = np.zeros((80, 80), np.int32)
    for k in range(6):  # six discs around a gap
        a = 2 * np.pi * k / 6
        labels[(rr - 40 - 16 * np.cos(a)) ** 2 + (cc - 40 - 16 * np.sin(a)) ** 2 <= 81] = k + 1
    labels[(rr - 40) ** 2 + (cc - 40) ** 2 <= 36] = 0
    ring = np.where(((rr - 40) ** 2 + (cc - 70) ** 2 <= 64)
                    & ((rr - 40) ** 2 + (cc - 70) ** 2 > 9), 7, 0)
    labels = np.where(ring > 0, ring, labels).astype(np.int32)
    out = _fill_enclosed(labels)
    assert out[40, 40] == 0  # the gap borders six nuclei
    assert out[40, 70] == 7  # the hole of one ring is its own
    np.testing.assert_array_equal(out[labels > 0], labels[labels > 0])


@given(hnp.arrays(np.int32, st.tuples(st.integers(3, 24), st.integers(3, 24)),
                  elements=st.integers(0, 3)))
def test_fill_enclosed_only_fills_background_one_label_encloses(labels):
    from napari_tessella.nuclei._recipe import _fill_enclosed

    out = _fill_enclosed(labels)
    np.testing.assert_array_equal(out[labels > 0], labels[labels > 0])
    np.testing.assert_array_equal(_fill_enclosed(out), out)  # idempotent
    changed = out != labels
    if changed.any():
        holes, _ = ndi.label(labels == 0)
        for i in np.unique(holes[changed]):
            hole = holes == i
            assert not (hole[0].any() or hole[-1].any() or hole[:, 0].any()
                        or hole[:, -1].any())
            ring = ndi.binary_dilation(hole, np.ones((3, 3), bool)) & ~hole
            assert np.unique(labels[ring]).size == 1
            assert np.all(out[hole] == labels[ring][0])
