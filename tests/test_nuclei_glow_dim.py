"""Dim nuclei on the glow of a saturated cell (issue 14, round 17).

A condensed mitotic or apoptotic cell 80x brighter than the background, with an
out-of-focus glow (a Gaussian of 1.5 d at 7 % of its level), and four dim nuclei
0.6-0.9x the background above it, 1.2-1.5 d from it, among a grid of ordinary nuclei.
The glow joins the saturated cell and the dim nuclei into one label of several nucleus
areas whose rim, made of the dim nuclei's edges, is not lost in the glow: on main that
label was not taken for a saturated cell in its glow, and its dim nuclei came out as one
object with the glow, or missing.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella.nuclei import seeded_watershed
from napari_tessella.nuclei._edges import _bright_cells
from napari_tessella.scoring import score_segmentation

D = 36
SIDE = 448
BG = 100.0
GLOW_IDS = range(1, 6)  # the saturated cell (1) and its four dim nuclei (2-5)


def glow_field(seed: int, d: float = D, side: int = SIDE):
    """(image in counts, truth): a saturated cell, its glow, dim nuclei on the glow, and
    ordinary nuclei on a grid 1.5 d apart, at least 2.6 d from the saturated cell."""
    rng = np.random.default_rng(seed)
    rr, cc = np.indices((side, side), dtype=float)
    labels = np.zeros((side, side), np.int32)
    signal = np.zeros((side, side))
    centre = np.array([side / 2, side / 2]) + rng.uniform(-10, 10, 2)

    def disc(c, r, level, i):
        inside = np.hypot(rr - c[0], cc - c[1]) <= r
        labels[inside] = i
        signal[inside] = level

    disc(centre, 0.3 * d, 80 * BG, 1)
    angle = rng.uniform(0, 2 * np.pi)
    for j in range(4):
        a = angle + j * np.pi / 2 + rng.uniform(-0.3, 0.3)
        c = centre + rng.uniform(1.2, 1.5) * d * np.array([np.cos(a), np.sin(a)])
        disc(c, d / 2 * rng.uniform(0.9, 1.1), BG * rng.uniform(0.6, 0.9), 2 + j)
    k = 6
    for r0 in np.arange(0.75 * d, side - 0.6 * d, 1.5 * d):
        for c0 in np.arange(0.75 * d, side - 0.6 * d, 1.5 * d):
            c = np.array([r0, c0]) + rng.uniform(-4, 4, 2)
            if np.hypot(*(c - centre)) > 2.6 * d:
                disc(c, d / 2 * rng.uniform(0.9, 1.1), 2 * BG * rng.uniform(0.6, 1.0), k)
                k += 1
    signal = ndi.gaussian_filter(signal, d / 20)
    cell = ndi.gaussian_filter(np.where(labels == 1, signal, 0.0), 1.5 * d)
    glow = 0.07 * cell * (signal[labels == 1].mean() / cell.max())
    image = np.minimum(rng.poisson(signal + glow + BG), 4095)  # a 12-bit camera
    return image.astype(np.float32), labels


def _found(labels, ref, ids):
    """How many of the truth ``ids`` have a label of IoU >= 0.5 with them."""
    hits = 0
    for t in ids:
        own = ref == t
        got, count = np.unique(labels[own], return_counts=True)
        j = got[np.argmax(count)]
        if j:
            inter = count.max()
            hits += inter / (own.sum() + np.count_nonzero(labels == j) - inter) >= 0.5
    return hits


@pytest.fixture(scope="module")
def results():
    out = []
    for seed in range(6):
        image, ref = glow_field(seed)
        out.append((ref, seeded_watershed(image).labels))
    return out


def test_dim_nuclei_on_a_glow_are_found(results):
    # main: 19 of 30 (seeds 4 and 5: 2 and 1 of 5); round 17: 26 of 30
    found = sum(_found(labels, ref, GLOW_IDS) for ref, labels in results)
    assert found >= 25, found


def test_glow_fields_errors(results):
    # main: 10 errors over the six fields (split/merged/spurious/missing); round 17: 3
    errors = sum(score_segmentation(labels, ref)["errors"] for ref, labels in results)
    assert errors <= 4, errors


def test_ordinary_nuclei_unchanged(results):
    # the grid of ordinary nuclei, far from the glow, is found whole on every field
    for ref, labels in results:
        ids = range(6, int(ref.max()) + 1)
        assert _found(labels, ref, ids) == len(ids)


def _cluster_case():
    """A saturated cell with dim nuclei joined by its glow into one label of five
    nucleus areas whose rim is steep (the dim nuclei's edges), and a lone nucleus
    holding a bright body (one nucleus area, its own sharp edge)."""
    d = 20.0
    rr, cc = np.indices((160, 160), dtype=float)
    smooth = np.zeros((160, 160))
    labels = np.zeros((160, 160), np.int32)
    r = np.hypot(rr - 50, cc - 50)
    smooth += 30 * np.exp(-0.5 * (r / 20) ** 2)  # the glow
    smooth[r <= 6] = 1000  # the saturated cell
    for a in (0, np.pi / 2, np.pi, 1.5 * np.pi):  # dim nuclei, sharp edges
        near = np.hypot(rr - 50 - 22 * np.cos(a), cc - 50 - 22 * np.sin(a)) <= 10
        smooth[near] += 40
    labels[(smooth > 20) & (r < 40)] = 1
    lone = np.hypot(rr - 125, cc - 125)
    smooth[lone <= 10] = 60
    smooth[lone <= 3] = 1000  # a bright body inside a nucleus
    labels[lone <= 10] = 2
    smooth = ndi.gaussian_filter(smooth, 1.0)
    peak = ndi.maximum(smooth, labels, np.arange(3))
    peak[0] = np.inf
    return labels, smooth, peak, d


def test_a_cluster_needs_no_lost_rim():
    labels, smooth, peak, d = _cluster_case()
    core = np.pi * (d / 6) ** 2
    area = np.pi * d * d / 4
    assert np.count_nonzero(labels == 1) > 3 * area  # a cluster
    # without the cluster rule the steep rim of the dim nuclei hides the saturated cell
    assert not _bright_cells(labels, smooth, 0.0, peak, d, core, sharp=0.4)[1]
    flags = _bright_cells(labels, smooth, 0.0, peak, d, core, sharp=0.4, cluster=3 * area)
    assert flags[1]
    assert not flags[2]  # one nucleus with a bright body keeps its own edge


def test_a_pair_split_off_a_glow_is_cut_at_its_neck():
    from napari_tessella.nuclei._edges import _at_necks

    rr, cc = np.indices((60, 90))
    pair = (np.hypot(rr - 30, cc - 28) <= 15) | (np.hypot(rr - 30, cc - 58) <= 15)
    d = 30.0
    necks = (1.5 * np.pi * d * d / 4, 0.1 * d, 0.05 * d)
    pieces = _at_necks(pair, 0.4 * np.pi * d * d / 4, necks)
    assert len(pieces) == 2
    assert sum(np.count_nonzero(p) for p in pieces) == np.count_nonzero(pair)
    one = np.hypot(rr - 30, cc - 40) <= 20  # one nucleus, however large: not cut
    assert len(_at_necks(one, 0.4 * np.pi * d * d / 4, necks)) == 1
    assert len(_at_necks(pair, 0.4 * np.pi * d * d / 4, None)) == 1  # no necks asked


def test_dim_beside_saturated_synthetic_field():
    # the stress test's `dim 1.3-2x + saturated`, seed 0 (main: 1 error, a spurious piece
    # of glow; with the glow's parts cut at their necks, none)
    from napari_tessella.synthetic import synthetic_nuclei

    nuc = synthetic_nuclei(seed=0, brightness_range=(0.3, 1.0), background=1.0, saturated=3)
    labels = seeded_watershed(nuc.image).labels
    assert score_segmentation(labels, nuc.labels)["errors"] == 0
