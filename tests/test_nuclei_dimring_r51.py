"""A dim nucleus beside a glow whose outline stopped short is grown over a plane fitted just
outside it (issue 14, round 51, ``nuclei/_dim._glow_dim``'s ``_GLOW_REGROW``): the ring
of a candidate off its nucleus's centre lies partly on the nucleus and lifts the surface
its outline is cut from, so the outline holds only a part of the nucleus."""

from __future__ import annotations

import pytest
from _benchmarks import benchmark, iou_of_best


def _iou_of(truth, labels, t):
    return iou_of_best(labels, truth == t)


@pytest.fixture(scope="module")
def field():
    # a tuning field of round 51: its dim nucleus 6 lies beside a saturated cell's glow
    return benchmark("nuclei_cellline").uneven_field(12600)


def test_a_dim_nucleus_the_ring_cut_short_is_outlined_whole(field):
    from napari_tessella.nuclei import seeded_watershed

    image, truth = field
    labels = seeded_watershed(image).labels
    assert _iou_of(truth, labels, 6) >= 0.7


def test_without_the_regrowth_its_outline_stops_short(field, monkeypatch):
    """The same field on the base (the rule switched off): the nucleus's label holds
    under half of it, a missing nucleus."""
    from napari_tessella.nuclei import _dim, seeded_watershed

    monkeypatch.setattr(_dim, "_GLOW_REGROW", 0)
    image, truth = field
    labels = seeded_watershed(image).labels
    assert _iou_of(truth, labels, 6) < 0.5

