"""The classes of unmatched nuclei of ``benchmarks/nuclei_dense_misses.py`` (round 25), on
label images drawn by hand: each true nucleus lands in the class its labels make."""

from __future__ import annotations

import numpy as np
from _benchmarks import benchmark


def _truth():
    """Five 10 x 10 true nuclei in a row, 2 px apart."""
    truth = np.zeros((14, 62), np.int32)
    for i in range(5):
        truth[2:12, 2 + 12 * i:12 + 12 * i] = i + 1
    return truth


def test_each_unmatched_nucleus_in_its_class():
    classes = benchmark("nuclei_dense_misses").classes
    truth = _truth()
    pred = np.zeros_like(truth)
    pred[truth == 1] = 1  # matched
    pred[2:12, 14:36] = 2  # one label over nuclei 2 and 3 and the gap: merged (IoU 0.45)
    pred[2:12, 38:42] = 3  # nucleus 4: 4 of its 10 columns (IoU 0.4) ...
    pred[2:12, 44:60] = 4  # ... 4 more in the label of nucleus 5 (its IoU 0.625)
    count, ious, ratios = classes(pred, truth)
    assert count["matched"] == 2  # nuclei 1 and 5
    assert sorted(ratios) == [1.0, 1.6] and sorted(ious) == [0.625, 1.0]
    assert count["in merged"] == 2  # nuclei 2 and 3
    assert count["straddled"] == 1  # nucleus 4: label 4 lies mostly on nucleus 5
    assert count["fragments"] == count["background"] == 0
    pred[pred == 4] = 0  # nucleus 4: the fragment only; nucleus 5 bare
    count, _, _ = classes(pred, truth)
    assert count["fragments"] == 1 and count["background"] == 1 and count["straddled"] == 0
