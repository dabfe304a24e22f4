"""Round 47 (issue 14): dim nuclei beside a saturated cell's glow, read over a glow model
fitted per sector round the cell (``nuclei/_glow_model.py``; round 46's measured candidate).

The field case below fails on the code before round 47 (the three dim nuclei beside the
glow are missing: no label covers most of them). See ``docs/nuclei.md``, round 47
(dimglow).
"""

from __future__ import annotations

import numpy as np
from _benchmarks import benchmark, chunked_as_in_memory, iou_of_best

from napari_tessella.nuclei import seeded_watershed
from napari_tessella.nuclei._glow_model import _with_over_glow


def test_dim_nuclei_beside_a_saturated_cell_are_found_over_its_glow():
    image, truth = benchmark("nuclei_cellline").make("dim", 7807)  # a tuning field
    labels = seeded_watershed(image).labels
    for t in (8, 9, 13):  # dim nuclei 1-2 d from a saturated cell
        assert iou_of_best(labels, truth == t) >= 0.5


def test_the_chunked_path_reads_the_same_glow():
    image, _ = benchmark("nuclei_cellline").make("dim", 7807)
    assert chunked_as_in_memory(image, chunks=(128, 160))


def test_no_saturated_cell_adds_nothing():
    rng = np.random.default_rng(0)
    smooth = rng.normal(10.0, 1.0, (64, 64))
    labels = np.zeros((64, 64), np.int32)
    labels[10:20, 10:20] = 1
    markers, peak = labels.copy(), np.array([np.inf, 12.0])
    out = _with_over_glow(labels, markers, peak, smooth, 1.0, 16, 10, smooth, smooth)
    assert out[0] is labels and out[3] is False
