"""Round 43: the worst fields' largest cause, the top of a broad glow in the foreground.

Issue 14's round 43 scanned 380 tuning fields (the eight cell-line kinds, seeds
5000-5039, and the dense challenge fields 5000-5019 at three PSFs, docs/nuclei.md) for
fields far below their kind's median F1 and traced their errors object by object to the
step that made them. The largest cause (60 of the 76 objects wrong on the seven outlier
fields, most of three of them: ``uneven d32`` 5005 and 5034, ``halo`` 5014) is the top of
a broad glow or illumination patch taken into the foreground by the first cut: the local
background is a grey opening by a square (``_foreground._flatten``), flat on top, so
under a bump much wider than a nucleus it stays below the bump's curved top by about
``A (1 - exp(-r^2 / s^2))`` (``r`` the square's half-side, ``s`` the bump's width), and
that residue is cut out as objects that swallow or hide the nuclei on it. No rule was
kept; this file keeps the measurement (it passes on the base).
"""

from __future__ import annotations

import numpy as np
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import seeded_watershed
from napari_tessella.nuclei._foreground import _BG_R, _flatten


def test_the_square_opening_leaves_a_broad_bumps_top_above_the_background():
    d, width, height = 20.0, 80.0, 1000.0  # a bump four square half-sides wide
    rr, cc = np.indices((301, 301), dtype=np.float64) - 150.0
    bump = height * np.exp(-(rr**2 + cc**2) / (2 * width**2))
    residue = _flatten(bump, d)
    r = max(1, round(_BG_R * d))
    expected = height * (1 - np.exp(-(r**2) / width**2))  # the square's corner, r sqrt 2 away
    assert abs(residue[150, 150] - expected) < 0.1 * expected
    assert residue[150, 150] > 0.05 * height  # a few % of the glow: a dim nucleus's contrast


def test_the_glow_pieces_of_an_outlier_field_lie_on_its_glows_top():
    img, truth = benchmark("nuclei_cellline").make("uneven d32", 5034)
    labels = seeded_watershed(img).labels
    ids = np.arange(1, int(labels.max()) + 1)
    on_truth = ndi.mean(truth > 0, labels, ids)
    area = ndi.sum(np.ones_like(labels), labels, ids)
    # labels larger than a nucleus and mostly on the background (scored as spurious, with
    # the nuclei they took in missing or merged): the base's outlier (F1 0.80) has four
    pieces = ids[(on_truth < 0.5) & (area > 1000)]
    assert pieces.size >= 3
    glow = ndi.gaussian_filter(img.astype(np.float64), 64)  # the broad illumination
    top = np.quantile(glow[truth == 0], 0.75)
    assert all(ndi.mean(glow, labels, i) > top for i in pieces)
