"""Round 56: a dense field's label both large and long, fitted with two domes without the
level gate (``_domes._split_long_by_domes``)."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei import _domes, _recipe


def _pair(dim=0.45, gap=15.0, seed=0):
    """Two touching blurred discs (radius 8 px), the second ``dim`` times as bright, and
    the one label over both."""
    yy, xx = np.mgrid[:48, :64].astype(float)
    light = ((np.hypot(yy - 24, xx - 24) <= 8) * 1.0
             + (np.hypot(yy - 24, xx - 24 - gap) <= 8) * dim)
    image = ndi.gaussian_filter(light, 2.0)
    image += np.random.default_rng(seed).normal(0, 0.01, image.shape)
    labels = ndi.label(image > 0.2)[0].astype(np.int32)
    assert labels.max() == 1
    return image, labels


def test_a_large_long_label_of_two_unequal_domes_is_split():
    image, labels = _pair()
    assert _domes._large_and_long(labels, 16.0).tolist() == [1]
    # the round-50 gates leave it whole: its dimmer dome is under their level gate
    _kept, points = _domes._split_by_domes(labels, image, 0.0, 16.0, 2, image=image,
                                           ids=np.array([1]))
    assert len(points) == 0
    out, points = _domes._split_long_by_domes(labels, image, 0.0, 16.0, 2, image=image)
    assert len(points) == 1 and set(np.unique(out)) == {0, 1, 2}
    # the cut lies between the two centres
    assert out[24, 24] != out[24, 24 + 15] and out[24, 24] > 0 and out[24, 39] > 0


def test_a_round_or_small_label_is_no_candidate():
    yy, xx = np.mgrid[:48, :64].astype(float)
    disc = (np.hypot(yy - 24, xx - 30) <= 12).astype(np.int32)  # large, round
    assert _domes._large_and_long(disc, 16.0).size == 0
    _image, labels = _pair()
    assert _domes._large_and_long(labels, 24.0).size == 0  # long, but small for d = 24


def test_the_step_is_switched_on_in_the_recipe():
    assert _recipe._LONG_DOMES is True
