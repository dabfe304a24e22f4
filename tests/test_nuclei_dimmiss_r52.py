"""Round 52: the glow search's joined outlines, once cut between their points, each tested
again for a label of its own (:func:`._carve._add_or_carve`, ``_SPLIT_NEW``)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from nuclei_cellline import make

from napari_tessella.nuclei import seeded_watershed


def _best_iou(labels, truth):
    ids, counts = np.unique(labels[truth], return_counts=True)
    best = 0.0
    for i, c in zip(ids, counts, strict=True):
        if i:
            best = max(best, c / (truth.sum() + (labels == i).sum() - c))
    return best


def test_a_dim_nucleus_under_joined_glow_outlines_is_found():
    """Tuning field `mixed d28` 13608: dim nucleus 9, 0.26 d from a saturated cell, under
    an outline of the glow search joined to a neighbour's that touches a label; the
    base leaves it with no label (IoU 0), the rule outlines it. Fails on the base."""
    img, ref = make("mixed d28", 13608)
    labels = seeded_watershed(img).labels
    assert _best_iou(labels, ref == 9) >= 0.5
