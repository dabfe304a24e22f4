"""Round 51: the dome split (:mod:`._domes`) made cheaper with the same labels."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei import _domes
from napari_tessella.nuclei._domes import _split_by_domes


def _domes_image(centres, levels, side=48, r=(9.0, 7.0)):
    rr, cc = np.indices((side, side), dtype=np.float64)
    light = np.zeros((side, side))
    inside = np.zeros((side, side), bool)
    for (r0, c0), level in zip(centres, levels, strict=True):
        q = ((rr - r0) / r[0]) ** 2 + ((cc - c0) / r[1]) ** 2
        light += np.where(q <= 1, level * (0.7 + 0.3 * np.sqrt(np.clip(1 - q, 0, 1))), 0)
        inside |= q <= 1
    image = ndi.gaussian_filter(light, 2.5) + 0.02
    return image, ndi.binary_dilation(inside, iterations=1).astype(np.int32)


def _counted_fits(monkeypatch):
    calls = []
    fit = _domes._fit

    def counted(yy, xx, z, k, *args):
        calls.append(k)
        return fit(yy, xx, z, k, *args)

    monkeypatch.setattr(_domes, "_fit", counted)
    return calls


def test_a_label_whose_two_domes_fail_the_level_gate_costs_one_fit(monkeypatch):
    """Two touching domes, the dimmer 0.3 of the brighter: the level gate keeps the label
    whole from the two-dome fit alone, so no one-dome fit is made (the base fitted both)."""
    calls = _counted_fits(monkeypatch)
    image, labels = _domes_image([(24, 16), (24, 31)], [1.0, 0.3])
    out, points = _split_by_domes(labels, image, 0.0, 16.0, 2)
    assert len(points) == 0 and out is labels
    assert calls == [2]


def test_a_split_label_still_reads_both_fits(monkeypatch):
    """A pair the step splits has both fits made, two domes first."""
    calls = _counted_fits(monkeypatch)
    image, labels = _domes_image([(24, 16), (24, 31)], [1.0, 0.75])
    _, points = _split_by_domes(labels, image, 0.0, 16.0, 2)
    assert len(points) == 1
    assert calls == [2, 1]
