"""Round 50: one elliptical dome against two in a dense field's label (:mod:`._domes`)."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._domes import _split_by_domes


def _domes(centres, levels, side=48, r=(9.0, 7.0)):
    rr, cc = np.indices((side, side), dtype=np.float64)
    light = np.zeros((side, side))
    inside = np.zeros((side, side), bool)
    for (r0, c0), level in zip(centres, levels, strict=True):
        q = ((rr - r0) / r[0]) ** 2 + ((cc - c0) / r[1]) ** 2
        light += np.where(q <= 1, level * (0.7 + 0.3 * np.sqrt(np.clip(1 - q, 0, 1))), 0)
        inside |= q <= 1
    image = ndi.gaussian_filter(light, 2.5) + 0.02
    return image, ndi.binary_dilation(inside, iterations=1).astype(np.int32)


def test_two_touching_domes_of_two_levels_are_split():
    image, labels = _domes([(24, 16), (24, 31)], [1.0, 0.75])
    out, points = _split_by_domes(labels, image, 0.0, 16.0, 2)
    assert len(points) == 1
    assert set(np.unique(out)) == {0, 1, 2}
    left = np.bincount(out[:, :23].ravel(), minlength=3)
    right = np.bincount(out[:, 25:].ravel(), minlength=3)
    assert left[1] > 5 * left[2] or left[2] > 5 * left[1]
    assert (right[1] > 5 * right[2]) != (left[1] > 5 * left[2])


def test_one_large_dome_stays_whole():
    image, labels = _domes([(24, 24)], [1.0], r=(14.0, 9.0))
    out, points = _split_by_domes(labels, image, 0.0, 16.0, 2)
    assert len(points) == 0
    assert out is labels
