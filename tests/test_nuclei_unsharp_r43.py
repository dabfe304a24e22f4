"""Round 43: the dim nuclei beside a saturated cell's glow are not lost at the unsharp drop.

Issue 14's rounds 42 and 43 left ``_drop_unsharp`` (its higher cut) as a cause of dim
nuclei halved or dropped beside a glow. Traced object by object on round 43's tuning
fields (``dim`` and ``mixed d28`` 4500-4511, docs/nuclei.md), the drop changed one label
of the 180 dim nuclei beside a saturated cell that reached it (and that nucleus was found
again later); the 59 missing or split were lost before it (under the dim cut, or merged
into the saturated cell's label by the first watershed and not split off its glow); with
the drop switched off, 1 of them was found and 2 found ones came out split. This file
keeps that measurement: on two of those fields, switching the drop off finds no such
nucleus that the drop loses. It passes on the base: no rule was kept.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import _recipe, seeded_watershed


def _best_iou(labels, truth, ids):
    """Per truth id: the IoU of its best-overlapping label (0 when the background)."""
    out = {}
    for t in ids:
        own = truth == t
        got, cnt = np.unique(labels[own], return_counts=True)
        j = got[np.argmax(cnt)]
        out[int(t)] = 0.0 if j == 0 else float(
            cnt.max() / np.count_nonzero(own | (labels == j)))
    return out


@pytest.mark.parametrize("kind, seed", [("dim", 4501), ("mixed d28", 4500)])
def test_dim_nuclei_beside_a_glow_are_not_lost_at_the_unsharp_drop(kind, seed, monkeypatch):
    img, truth = benchmark("nuclei_cellline").make(kind, seed)
    ids = np.arange(1, int(truth.max()) + 1)
    med = np.nan_to_num(ndi.median(img, truth, ids))
    saturated = ids[med > 4 * np.median(med)]
    assert saturated.size  # the field has saturated cells
    res = seeded_watershed(img)
    gap = ndi.distance_transform_edt(~np.isin(truth, saturated))
    near = [t for t in ids if t not in saturated and (truth == t).any()
            and gap[truth == t].min() <= 2 * res.object_diameter]
    assert len(near) >= 8
    with_drop = _best_iou(res.labels, truth, near)
    monkeypatch.setattr(_recipe, "_drop_unsharp", lambda labels, smooth, level, d, peak, *a, **k:
                        (labels, peak))
    without = _best_iou(seeded_watershed(img).labels, truth, near)
    # every such nucleus found (IoU >= 0.5) without the drop is found with it
    assert [t for t in near if without[t] >= 0.5 and with_drop[t] < 0.5] == []
