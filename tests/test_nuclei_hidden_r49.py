"""Round 49: a label the dim search on a glow drew over a part of a dim nucleus is grown by
the glow model to the piece it reads over it (``_glow_model._dim_parts_grown``).

On the base these two dim nuclei (cell-line tuning seeds of the round) lie under a label
of ``_dim._with_glow_dim`` that holds only 0.4-0.5 of them; the glow model never read
labelled pixels, so they were missed (their best label the background)."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, iou_of_best

from napari_tessella.nuclei import seeded_watershed


@pytest.mark.parametrize(("kind", "seed", "nucleus"), [("halo", 10642, 16), ("dim", 10643, 15)])
def test_dim_nucleus_under_a_part_label_is_found(kind, seed, nucleus):
    image, truth = benchmark("nuclei_cellline").make(kind, seed)
    labels = seeded_watershed(image).labels
    assert iou_of_best(labels, truth == nucleus) >= 0.5


def test_nothing_drawn_nothing_grown():
    from napari_tessella.nuclei._glow_model import _dim_parts_grown

    labels = np.zeros((40, 40), np.int32)
    labels[5:10, 5:10] = 1
    peak = np.array([np.inf, 1.0])
    img = np.zeros((40, 40))
    out, got, grown = _dim_parts_grown(labels, peak, img, img, img, img > 0, 1.0, 10.0, 4,
                                       np.array([], np.int64))
    assert out is labels and got is peak and not grown
