"""Nuclei whose outline took in a glow piece the re-seeding joined to them (issue 14,
round 47, ``nuclei/_under_cut._without_pieces_under_body``).

The trim cuts each flood label at a fraction of its own peak; a label on a bright cell's
glow keeps the part of the glow above a fraction of the glow's peak. The re-seeding that
follows labels the trimmed foreground again as one mask, so a glow piece touching a
nucleus with no neck between them came out as one label with it, two to three times the
nucleus's area: a spurious label and a missing nucleus. A piece that never rises to half
the body of the brightest piece it was joined with is taken out again. These fields are
round 47's tuning seeds; the test fails on the round's base.
"""

from __future__ import annotations

import pytest
from _benchmarks import benchmark, iou_of_best

from napari_tessella.nuclei import seeded_watershed


@pytest.mark.parametrize(("seed", "nuclei"), [(8728, (4,)), (8731, (29,)), (8737, (2, 5))])
def test_a_glow_piece_joined_to_a_nucleus_is_taken_out_of_its_outline(seed, nuclei):
    # base: IoU 0.39 (8728: 4); 0.41 (8731: 29); 0.37 and 0.30 (8737: 2, 5), each label
    # 2.4-2.7 times its nucleus's area
    image, truth = benchmark("nuclei_cellline").make("halo", seed)
    labels = seeded_watershed(image).labels
    for i in nuclei:
        assert iou_of_best(labels, truth == i) >= 0.5
