"""Shoulders (issue 14, round 22, ``nuclei._shoulders``): a dim nucleus on a brighter
neighbour's blurred flank, cut off by the valley of the curvature, on dense blurred fields
only. Tuning seeds of round 13 (111-116), never the held-out 101-106."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, dense_score

from napari_tessella.nuclei import _recipe, score_segmentation, seeded_watershed


@pytest.fixture(scope="module")
def dense():
    return benchmark("nuclei_dense_heldout")


def _matched(labels, truth):
    """The truth nuclei that one label matches with an IoU of 0.5 or more."""
    pairs, overlap = np.unique(np.stack([truth.ravel(), labels.ravel()]), axis=1,
                               return_counts=True)
    keep = (pairs[0] > 0) & (pairs[1] > 0)
    t_area, l_area = np.bincount(truth.ravel()), np.bincount(labels.ravel())
    iou = overlap[keep] / (t_area[pairs[0][keep]] + l_area[pairs[1][keep]] - overlap[keep])
    return set(pairs[0][keep][iou >= 0.5].tolist())


def test_shoulder_nuclei_of_a_blurred_dense_field_are_found(dense, monkeypatch):
    # Seed 116 x2: main F1 0.748 (12 missing); with the shoulders 0.763 (9). The nuclei
    # the shoulders find are found whole (IoU >= 0.5), not as crescents.
    image, truth = dense.challenge_field(116, psf=2.0)
    labels = seeded_watershed(image).labels
    m = score_segmentation(labels, truth)
    assert m["f1"] >= 0.758 and m["missing"] <= 10, m
    monkeypatch.setattr(_recipe, "_split_shoulders",
                        lambda labels, *a: (labels, np.empty((0, 2), np.int64)))
    without = seeded_watershed(image).labels
    assert len(_matched(labels, truth) - _matched(without, truth)) >= 3


def test_a_glow_field_with_flanks_is_not_touched(monkeypatch):
    # The cell-line u2os-like 1 field's pixels below Otsu are flanks too (a glow), but
    # less of it is foreground (0.391 against the dense fields' 0.508-0.590): the step
    # wrecked it (3 errors -> 10) before the foreground share gated it.
    cellline = benchmark("nuclei_cellline")
    if not cellline.U2OS.exists():
        pytest.skip("the U2OS images are not here")
    image, _ = cellline.make("u2os-like", 1)
    calls = []
    monkeypatch.setattr(_recipe, "_split_shoulders", lambda *a: calls.append(1))
    seeded_watershed(image)
    assert not calls


def test_a_dim_nucleus_beyond_its_bright_neighbours_rim_is_cut_whole():
    # Round 23. A dim nucleus (a quarter of its neighbour's brightness) 1.45 d from a
    # bright one, below the foreground: the maximum of its curvature lies ~0.9 d beyond the
    # bright one's label, where round 22 looked for none (0.7 d), and the pixels above
    # half its contrast held too little of it. Now a new label matching it (IoU >= 0.5).
    from scipy import ndimage as ndi

    from napari_tessella.nuclei._shoulders import _split_shoulders

    d = 20.0
    rr, cc = np.indices((80, 120))
    bright = np.hypot(rr - 40, cc - 35) <= d / 2
    dim = np.hypot(rr - 40, cc - 35 - 1.45 * d) <= d / 2
    smooth = ndi.gaussian_filter(bright * 1.0 + dim * 0.25, 3.0)
    labels = ndi.label(smooth > 0.3)[0].astype(np.int32)
    assert labels.max() == 1 and not labels[dim].any()
    out, points = _split_shoulders(labels, smooth, 0.0, d, 2)
    assert len(points) == 1 and out.max() == 2
    iou = np.count_nonzero((out == 2) & dim) / np.count_nonzero((out == 2) | dim)
    assert iou >= 0.5, iou
    assert np.array_equal(out == 1, labels == 1)  # the bright one keeps its pixels


def test_more_shoulder_nuclei_of_a_blurred_dense_field_are_found(dense):
    # Round 23: tuning seed 113 x2, the most crowded: F1 0.620 with 16 missing on main
    # (round 22's step), 0.655 with 12 now (shoulders up to 1.5 d from a label, their
    # background pixels from a fifth of their contrast).
    m = dense_score(113)
    assert m["f1"] >= 0.645 and m["missing"] <= 13, m

