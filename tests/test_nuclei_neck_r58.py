"""Round 58: a dense label of 1.7 nucleus areas or more is cut along its two domes where
it narrows along the cut (:func:`napari_tessella.nuclei._domes._split_necked_by_domes`).
All three fail on the base, which has neither the step nor the neck gate (ImportError);
the first also checks that the base's two dome steps leave the pair whole."""

import numpy as np
from test_nuclei_dense2_r53 import _field

from napari_tessella.nuclei._domes import (
    _split_by_domes,
    _split_fat_by_domes,
    _split_necked_by_domes,
)

D = 16.0  # the nucleus diameter the steps are given, px: the pairs are 1.9-2.0 nucleus areas
LOOSE = (-1e9, 0.15, 0.3)  # two-dome gates that keep any cut in one piece each


def test_an_unequal_necked_pair_the_other_dome_steps_leave_whole_is_cut():
    for seed in range(3):
        image, labels = _field([(100, 20, 26, 7, 7), (60, 20, 38, 7, 7)], seed=seed)
        assert labels.max() == 1
        assert len(_split_by_domes(labels, image, None, D, 2)[1]) == 0
        assert len(_split_fat_by_domes(labels, image, None, D, 2)[1]) == 0
        out, points = _split_necked_by_domes(labels, image, None, D, 2)
        assert len(points) == 1
        assert {out[20, 24], out[20, 40]} == {1, 2}
        sizes = np.bincount(out.ravel())[1:]
        assert sizes.min() > 0.3 * sizes.sum()


def test_a_single_dome_cut_through_its_width_is_not_cut_by_the_neck_gate():
    for shape, seed in (((100, 20, 32, 10, 8), 1), ((100, 20, 32, 16, 8), 0)):
        image, labels = _field([shape], seed=seed)
        one = np.array([1])
        # with gates loose enough the two domes cut it, across its width ...
        assert len(_split_by_domes(labels, image, None, D, 2, ids=one, gates=LOOSE)[1]) == 1
        # ... which the neck gate turns down: no narrowing along that cut
        out, points = _split_by_domes(labels, image, None, D, 2, ids=one, gates=LOOSE,
                                      neck=1.1)
        assert len(points) == 0 and out is labels


def test_a_label_under_the_area_is_not_fitted():
    image, labels = _field([(100, 20, 26, 7, 7), (60, 20, 38, 7, 7)], seed=0)
    out, points = _split_necked_by_domes(labels, image, None, 2 * D, 2)
    assert len(points) == 0 and out is labels
