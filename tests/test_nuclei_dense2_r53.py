"""Round 53: a dense label too large for its inscribed disc is cut along the boundary of
its two domes' parts, with gates looser than the round-50 step's
(:func:`napari_tessella.nuclei._domes._split_fat_by_domes`). All three fail on the base,
which has no such step (ImportError); the first also checks that the round-50 step alone
leaves the pair whole (its dimmer dome is under that step's level gate)."""

import numpy as np

from napari_tessella.nuclei._domes import (
    _dome,
    _split_by_domes,
    _split_fat_by_domes,
    _too_large,
)

D = 13.0  # the nucleus diameter the steps are given, px


def _field(domes, shape=(40, 64), seed=0):
    """Domes ``(level, cy, cx, a, b)`` on a background of 10 with noise of 1, and the
    label of everything over a quarter of the dimmest level."""
    yy, xx = np.indices(shape).astype(float)
    image = np.full(shape, 10.0)
    for level, cy, cx, a, b in domes:
        image += _dome(np.array([cy, cx, np.log(a), np.log(b), 0.0, level, 0.3]), yy, xx,
                       1.5)
    image += np.random.default_rng(seed).normal(0, 1.0, shape)
    labels = (image > 10 + 0.25 * min(dome[0] for dome in domes)).astype(np.int32)
    return image, labels


def test_an_unequal_pair_too_large_for_its_disc_is_cut_between_its_domes():
    image, labels = _field([(100, 20, 22, 8, 8), (55, 20, 40, 8, 8)])
    assert _too_large(labels, D).tolist() == [1]
    _, points = _split_by_domes(labels, image, None, D, 2)
    assert len(points) == 0  # the round-50 gates turn it down (level 0.55 < 0.65)
    out, points = _split_fat_by_domes(labels, image, None, D, 2)
    assert len(points) == 1
    left, right = out[20, 22], out[20, 40]
    assert {left, right} == {1, 2}
    sizes = np.bincount(out.ravel())[1:]
    assert sizes.min() > 0.4 * sizes.sum()


def test_a_round_single_dome_is_not_too_large():
    _, labels = _field([(100, 20, 32, 10, 10)])
    assert _too_large(labels, D).size == 0


def test_a_long_single_dome_too_large_for_its_disc_stays_whole():
    image, labels = _field([(100, 20, 32, 17, 7)])
    assert _too_large(labels, D).tolist() == [1]
    out, points = _split_fat_by_domes(labels, image, None, D, 2)
    assert len(points) == 0 and out is labels
