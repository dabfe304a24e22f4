"""Round 35: the diameter estimate of textured nuclei whose foci alone pass its foreground
is measured again below the cut, where their bodies are (``nuclei._bodies``)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import estimate_object_diameter
from napari_tessella.nuclei._bodies import _FOCI_SHARE, _WIDER, lowered_cut, reads_foci, wider


def _foci_field(grown: bool):
    """Two foreground components: one holding four foci (pieces of 3x3), one a nucleus
    read whole (a piece of 12x12); ``grown``: the foci's nucleus restored whole."""
    fg = np.zeros((40, 60), dtype=np.intp)
    fg[4:24, 4:24] = 1
    fg[4:20, 34:50] = 2
    pieces = np.zeros_like(fg)
    for i, (r, c) in enumerate([(6, 6), (6, 16), (16, 6), (16, 16)], start=1):
        pieces[r:r + 3, c:c + 3] = i
    pieces[6:18, 36:48] = 5
    whole = pieces > 0
    if grown:
        whole[5:22, 5:22] = True
    regions, m = ndi.label(whole)
    return fg, 2, pieces, 5, regions, m


def test_foci_left_alone_are_read():
    fg, n, pieces, k, regions, m = _foci_field(grown=False)
    # the foci hold 36 of the 180 measured pixels: a share of 0.2
    share = 36 / 180
    assert reads_foci(fg, n, pieces, k, regions, m) == (share >= _FOCI_SHARE)
    # the nucleus read whole smaller: the foci weigh more
    small = pieces.copy()
    small[small == 5] = 0
    small[8:14, 38:44] = 5
    regions, m = ndi.label(small > 0)
    assert reads_foci(fg, n, small, k, regions, m)


def test_foci_restored_whole_are_not_read():
    assert not reads_foci(*_foci_field(grown=True))


def test_two_pieces_in_a_component_are_no_foci():
    fg, n, pieces, _, regions, m = _foci_field(grown=False)
    pieces[pieces >= 3] = 0  # two foci left, and the nucleus read whole is gone
    pieces[pieces > 0] = ndi.label(pieces > 0)[0][pieces > 0]
    regions, m = ndi.label(pieces > 0)
    assert not reads_foci(fg, n, pieces, int(pieces.max()), regions, m)


def test_wider_takes_the_bodies_only_when_clearly_wider():
    assert wider(4.0, lambda: 4.0 * _WIDER) == 4.0 * _WIDER
    assert wider(4.0, lambda: 4.0 * _WIDER * 0.99) == 4.0
    assert wider(4.0, lambda: 2.0) == 4.0

    def empty():
        raise ValueError("no foreground found")

    assert wider(4.0, empty) == 4.0


def test_lowered_cut_stays_above_the_noise():
    assert lowered_cut(10.0, 110.0, 1.0) == pytest.approx(40.0)
    assert lowered_cut(10.0, 20.0, 2.0) == pytest.approx(18.0)


def test_mixed_field_read_by_its_foci_is_measured_by_its_bodies():
    # mixed d28 seed 472: the log-Otsu cut lies inside the dim bodies; the estimate read
    # the foci (13.8 px for nuclei of 27.7, 0.50) before this rule
    image, truth = benchmark("nuclei_cellline").make("mixed d28", 472)
    area = np.bincount(truth.ravel())[1:]
    true_d = float(np.median(2 * np.sqrt(area[area > 0] / np.pi)))
    assert 0.75 * true_d < estimate_object_diameter(image) < 1.33 * true_d
