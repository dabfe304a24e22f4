"""Round 43 (issue 14): the nuclei that ``_shape._split_merges`` cuts in a dense field are
mostly whole again at the end, which is why moving its cut to the neck was not kept.

``_split_merges`` shares a crowded object's pixels among k parts by k-means of their
coordinates: two nuclei of unequal size part through the middle, not at their neck. On the
dense tuning fields 4300-4315 it divides 52 / 54 / 57 nuclei at PSF x1 / x1.5 / x2 (two
labels each holding at least a fifth of the nucleus), and only 9 / 17 / 8 of them are still
divided at the end: the later steps of the dense path (the boundaries moved half-way
between cores, a cut nucleus joined) redraw most of the cuts. Redrawing the parts along the
distance map's neck, by a Gaussian mixture, or even by the truth itself gave no gain beyond
noise (see ``docs/nuclei.md``, round 43). This test keeps that finding honest: if the later
steps stop redrawing the cuts, the placement matters again. It passes on the code before
round 43 as well (no rule was kept).
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark

from napari_tessella.nuclei import _recipe, seeded_watershed


def _divided(labels, truth, share=0.2) -> set:
    """The truth nuclei that two or more labels each hold at least ``share`` of (of the
    nucleus's labelled pixels)."""
    table = np.zeros((int(truth.max()) + 1, int(labels.max()) + 1), np.int64)
    np.add.at(table, (truth.ravel(), labels.ravel()), 1)
    table[:, 0] = 0
    held = (table > 0) & (table >= share * np.maximum(table.sum(axis=1), 1)[:, None])
    return set(np.flatnonzero(held.sum(axis=1) > 1).tolist()) - {0}


@pytest.mark.parametrize(("seed", "psf"), [(4315, 1.5), (4305, 2.0)])
def test_the_nuclei_the_merge_split_cuts_are_mostly_whole_at_the_end(monkeypatch, seed, psf):
    image, truth = benchmark("nuclei_dense_heldout").challenge_field(seed, psf=psf)
    cut = []
    real = _recipe._split_merges

    def recorded(labels, markers, *args, **kwargs):
        out, seeds = real(labels, markers, *args, **kwargs)
        if labels.shape == truth.shape:  # the whole field (not a small blob's box)
            cut.append(_divided(out, truth) - _divided(labels, truth))
        return out, seeds

    monkeypatch.setattr(_recipe, "_split_merges", recorded)
    final = _divided(seeded_watershed(image).labels, truth)
    assert len(cut) == 1
    assert len(cut[0]) >= 3  # the step does cut nuclei here (9 and 4 on the base) ...
    assert len(cut[0] & final) <= len(cut[0]) // 2  # ... and most end whole (2 and 0)
