"""Round 42: the glow step's reach is each saturated cell's own, so a chunk reads what memory does.

:func:`napari_tessella.nuclei._dim._glow_dim` reads a dim nucleus on a saturated cell's glow
when it lies within ``_GLOW_REACH`` d of the cell. Until round 41 that reach was measured from
the box of every saturated pixel in the array: with several small saturated cells spread over
a ``mixed d28`` field, a candidate 2 d from one cell was read in memory because the box of
all of them reached past it, and skipped in the chunks whose window held fewer of the cells
(field 3100, one nucleus in every chunk shape). Now each cell (component) has its own box
(:func:`napari_tessella.nuclei._saturated._cell_limits`), and a chunk's window holds every
cell within reach of its core (:func:`napari_tessella.nuclei._glow_model._glow_window`).
"""

from __future__ import annotations

import dask
import numpy as np
from _benchmarks import benchmark, iou_of_best, same_partition
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella.nuclei import seeded_watershed, seeded_watershed_chunked
from napari_tessella.nuclei._dim import _glow_dim
from napari_tessella.nuclei._glow_model import _glow_window
from napari_tessella.nuclei._saturated import _cell_limits, _saturated

D = 24.0
LEVEL, LOW = 0.0, 40.0
SIDE = 288


def _cells_field(cells, nuclei, peak, seed=0):
    """A flattened working image of ``SIDE``²: small saturated cells (radius 0.3 d, their
    peak ``peak`` times ``LOW``, with their glow) at ``cells`` and dim nuclei (radius
    0.45 d, 150 over the glow) at ``nuclei``."""
    rng = np.random.default_rng(seed)
    rr, cc = np.indices((SIDE, SIDE), dtype=float)
    img = np.zeros((SIDE, SIDE))
    for y, x in cells:
        cell = (np.hypot(rr - y, cc - x) <= 0.3 * D).astype(float)
        one = cell + ndi.gaussian_filter(cell, 1.5 * D) * 12.0
        img += one * (peak * LOW / one.max())
    for y, x in nuclei:
        img += ndi.gaussian_filter(np.where(np.hypot(rr - y, cc - x) <= 0.45 * D, 150.0, 0), 1.0)
    return img + rng.normal(0, 3.0, img.shape)


def test_each_saturated_cell_has_its_own_reach():
    # two cells far apart: the box of both reached a candidate beside neither (before
    # round 42); each cell's own box, widened, holds only what lies near it
    bright = np.zeros((300, 300), bool)
    bright[10:20, 10:20] = True
    bright[250:260, 250:260] = True
    near = (slice(10, 260), slice(10, 260))
    lim = _cell_limits(bright, near, 30, (False,) * 4, 10, (0, 0))
    assert lim.shape == (2, 4)
    inside = [bool(np.any((lim[:, 0] <= y - 10) & (y + 10 < lim[:, 1]) & (lim[:, 2] <= x - 10)
                          & (x + 10 < lim[:, 3]))) for y, x in ((40, 40), (150, 150), (230, 240))]
    assert inside == [True, False, True]


def test_a_cell_over_the_old_bar_is_its_pixels_over_it():
    # U2OS dna-26: a cell of 208 x low with a shoulder of 70-100 x of a condensed cell's
    # size; read with its shoulder, its disc took a dim nucleus's candidate
    img = np.zeros((100, 100))
    img[40:58, 40:58] = 85 * LOW  # 324 px: 0.72 nucleus areas over 70 x ...
    img[46:52, 46:52] = 200 * LOW  # ... around 36 px over 100 x
    assert _saturated(img, LOW, D).sum() == 36
    img[46:52, 46:52] = 95 * LOW  # a small clipped cell: the whole component
    assert _saturated(img, LOW, D).sum() == 324


def test_mixed_d28_3611s_dim_nucleus_beside_a_small_cell_is_found_alike_chunked():
    # round 41's base: none of the field's labels overlaps the nucleus at (294, 141) (IoU
    # 0.00; its small saturated cells under 100 x low, no glow step); round 42: 0.85, and
    # the chunked path gives the same objects
    img, truth = benchmark("nuclei_cellline").make("mixed d28", 3611)
    memory = seeded_watershed(img).labels
    assert iou_of_best(memory, truth == truth[294, 141]) >= 0.7
    with dask.config.set(scheduler="synchronous"):
        chunked = seeded_watershed_chunked(img, chunks=(128, 128)).labels.compute()
    assert same_partition(memory, chunked)


def _window_and_full(cells, nucleus, core, peak):
    """The glow step's points in ``core`` (slices) read on the whole field and on a chunk's
    window: the core with a margin of 2 d, grown to hold every cell within reach (as
    ``_chunk_task._needed_window`` does)."""
    img = _cells_field(cells, [nucleus], peak)
    full = _glow_dim(img, LEVEL, LOW, D, border=(True,) * 4)[1]
    m = int(2 * D)
    lo, hi = _glow_window(img, LOW, D, core, [max(0, s.start - m) for s in core],
                          [min(SIDE, s.stop + m) for s in core], m)
    win = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    part = _glow_dim(img[win], LEVEL, LOW, D,
                     border=(lo[0] == 0, hi[0] == SIDE, lo[1] == 0, hi[1] == SIDE))[1]
    want = np.zeros(img.shape, bool) if full is None else full
    got = np.zeros(img.shape, bool)
    if part is not None:
        got[win] = part
    return want[core], got[core]


def test_a_far_cell_does_not_reach_a_nucleus_beside_another():
    # mixed d28 3100's case: a dim nucleus 2.2 d above a small cell, a second cell 7 d off
    # to the side and above it; the box of both cells reached the nucleus (found in
    # memory), a chunk's window holding the near cell only did not
    want, got = _window_and_full([(200, 80), (40, 250)], (147, 80),
                                 (slice(120, 184), slice(50, 114)), 85.0)
    assert want.sum() == 1 and np.array_equal(want, got)


@settings(max_examples=12, deadline=None)
@given(st.tuples(st.integers(190, 210), st.integers(70, 90)),
       st.tuples(st.integers(20, 60), st.integers(200, SIDE - 20)),
       st.floats(-0.3, 0.3), st.floats(1.6, 2.4),
       st.tuples(st.integers(8, 56), st.integers(8, 56)), st.sampled_from([85.0, 150.0]))
def test_a_window_holding_the_cells_in_reach_reads_the_cores_candidates(
        near, far, tilt, dist, offset, peak):
    # a dim nucleus 1.6-2.4 d above a small cell, another cell far off: the candidates a
    # chunk's window reads in its core (around the nucleus) are the whole field's
    y, x = near
    nucleus = (y - dist * D * np.cos(tilt), x + dist * D * np.sin(tilt))
    core = tuple(slice(max(0, int(c) - o), min(SIDE, int(c) - o + 64))
                 for c, o in zip(nucleus, offset, strict=True))
    want, got = _window_and_full([near, far], nucleus, core, peak)
    assert np.array_equal(want, got)
