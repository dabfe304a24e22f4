"""Round 59: two blurred nuclei in one dense label, cut by the odds of their cues."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella.nuclei import _domes, _recipe
from napari_tessella.nuclei._pair_odds import _split_by_odds

D = 20.0  # the nucleus diameter of these fields, px


def _field(centres, radii, levels, shape=(64, 84), off=(0, 0)):
    """Blurred domes (each a level, falling 40 % to its rim), their one label (the blur
    over a cut) and the truth (each pixel to its dome)."""
    yy, xx = np.indices(shape, dtype=float)
    light = np.zeros(shape)
    truth = np.zeros(shape, np.int32)
    for k, ((r0, c0), r, lv) in enumerate(zip(centres, radii, levels, strict=True), 1):
        q = np.hypot(yy - r0 - off[0], xx - c0 - off[1]) / r
        light += np.where(q <= 1, lv * (0.6 + 0.4 * np.sqrt(np.clip(1 - q, 0, 1))), 0)
        truth[(q <= 1) & (truth == 0)] = k
    image = ndi.gaussian_filter(light, 3.0) + 0.02
    return image, (image > 0.25).astype(np.int32), truth


@pytest.mark.parametrize("dimmer", [0.45, 0.55])
def test_a_pair_the_dome_gates_keep_whole_is_cut_one_nucleus_a_part(dimmer):
    # two touching nuclei blurred into one label, the second under 0.65 of the first's
    # level: the dome step's gates leave it whole, the odds of its cut's cues do not
    image, labels, truth = _field([(32, 28), (32, 45)], [10, 9], [1.0, dimmer])
    assert labels.max() == 1
    kept, _ = _domes._split_by_domes(labels, image, 0.2, D, 2, image=image)
    assert kept.max() == 1
    out, points = _split_by_odds(labels, image, 0.2, D, 2)
    assert len(points) == 1 and set(np.unique(out)) == {0, 1, 2}
    held = set()
    for k in (1, 2):  # each part mostly one nucleus, a different one
        part = truth[out == k]
        part = part[part > 0]
        assert np.bincount(part).max() >= 0.9 * part.size
        held.add(int(np.bincount(part).argmax()))
    assert held == {1, 2}
    assert labels.max() == 1  # the input is not modified


def test_one_nucleus_stays_whole():
    image, labels, _ = _field([(32, 40)], [13], [1.0])
    out, points = _split_by_odds(labels, image, 0.2, D, 2)
    assert len(points) == 0 and out is labels


def test_the_same_cut_anywhere_in_the_image():
    # a chunk's window sees the label shifted: the cut moves with it, pixel for pixel
    image, labels, _ = _field([(32, 28), (32, 45)], [10, 9], [1.0, 0.5])
    shifted, slabels, _ = _field([(32, 28), (32, 45)], [10, 9], [1.0, 0.5], shape=(80, 100),
                                 off=(7, 11))
    a, _ = _split_by_odds(labels, image, 0.2, D, 2)
    b, _ = _split_by_odds(slabels, shifted, 0.2, D, 2)
    assert np.array_equal(a[a > 0], b[7:71, 11:95][a > 0])


def test_the_step_is_on_in_the_recipe():
    assert _recipe._PAIR_ODDS is True
