"""Round 43 (issue 14): most nuclei that ``_merges._split_merges`` cuts in a dense field are
still divided at the end, measured in the orientation the recipe works in.

``_split_merges`` shares a crowded object's pixels among k parts by k-means of their
coordinates. The recipe works on the image turned into an orientation of its own
(``nuclei/_orient.py``), so the step's labels must be compared with the truth turned the
same way. Measured so on the dense tuning fields 4300-4315 at PSF x1 / x1.5 / x2, the step
divides 69 / 74 / 80 nuclei (two labels each holding at least a fifth of the nucleus) and
44 / 39 / 39 of them are still divided at the end (26 / 27 / 26 counted split, of 54 / 69 /
62 split nuclei), most in objects cut into more parts than they hold nuclei; ``_join``
makes most of those that are whole again. Round 43's first trace compared the turned
labels with the unturned truth and found the opposite (9 / 17 / 8 still divided; on 4315 at
x1.5 it counted 9 cut and 2 divided at the end, where there are 5 and 5). See
``docs/nuclei.md``, round 43. These fields are all turned (not the identity), so a test that
forgot the turn fails here. No rule was kept: this passes on the code before round 43 too.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, pixel_table

from napari_tessella.nuclei import _merges, _recipe, seeded_watershed, watershed
from napari_tessella.nuclei._orient import IDENTITY, to_canonical


def _divided(labels, truth, share=0.2) -> set:
    """The truth nuclei that two or more labels each hold at least ``share`` of (of the
    nucleus's labelled pixels)."""
    table = pixel_table(labels, truth)
    table[:, 0] = 0
    held = (table > 0) & (table >= share * np.maximum(table.sum(axis=1), 1)[:, None])
    return set(np.flatnonzero(held.sum(axis=1) > 1).tolist()) - {0}


@pytest.mark.parametrize(("seed", "psf"), [(4315, 1.5), (4311, 1.0), (4311, 2.0)])
def test_the_nuclei_the_merge_split_cuts_mostly_stay_divided(monkeypatch, seed, psf):
    image, truth = benchmark("nuclei_dense_heldout").challenge_field(seed, psf=psf)
    turns, cut = [], []
    real_orient, real_split = watershed.of_image, _recipe._split_merges

    def orient(*args, **kwargs):  # the orientation the recipe works in (the last chosen:
        turns.append(real_orient(*args, **kwargs))  # a sharpened run chooses it again)
        return turns[-1]

    def recorded(labels, markers, *args, **kwargs):
        out, seeds = real_split(labels, markers, *args, **kwargs)
        if labels.shape == truth.shape:  # the whole field (not a small blob's box)
            turned = np.ascontiguousarray(to_canonical(truth, turns[-1]))
            cut.append(_divided(out, turned) - _divided(labels, turned))
        return out, seeds

    # the step as round 43 measured it: round 44's check that leaves a split whole when
    # none of its parts has a distance-map peak of its own (``_own_peaks``) is turned off
    # (with it the step cuts 2 nuclei on 4315 x1.5 and on 4311 x2)
    monkeypatch.setattr(_merges, "_no_part_own_peak", lambda *args: False)
    monkeypatch.setattr(watershed, "of_image", orient)
    monkeypatch.setattr(_recipe, "_split_merges", recorded)
    final = _divided(seeded_watershed(image).labels, truth)  # turned back: the image's frame
    assert turns[-1] != IDENTITY  # the turn matters on this field
    assert len(cut) == 1
    assert len(cut[0]) >= 4  # the step cuts nuclei here (5, 9, 6 on the base) ...
    assert len(cut[0] & final) > len(cut[0]) // 2  # ... and most stay divided (5, 9, 4)
