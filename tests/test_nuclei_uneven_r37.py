"""Round 37 (issue 14): a dim nucleus on a saturated cell's glow dome, which neither the
flattening's square opening nor the glow search's ring surface follows, is found over the
glow's own radial profile (``nuclei/_radial._radial_rest``, the third pass of
``nuclei/_dim._glow_dim``); before, a steep dome (a glow of 1 d) hid a dim disc of
contrast 40 from both earlier passes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella.nuclei._dim import _glow_dim
from napari_tessella.nuclei._foreground import _flatten

D = 16.0


def _dome(dist=None, contrast=40.0, glow=1.0, n=220, seed=0):
    """(working image before the flattening, the dim disc or None): a saturated cell of
    5000 at the centre, its glow (a Gaussian of ``glow`` d, 800 at its top) and a disc of
    ``contrast`` ``dist`` d from the cell's centre, on 100 with noise of 2."""
    rr, cc = np.indices((n, n), dtype=float)
    c = n // 2
    cell = np.hypot(rr - c, cc - c) <= 0.3 * D
    img = np.full((n, n), 100.0)
    g = ndi.gaussian_filter(cell * 1.0, glow * D)
    img += 800.0 * g / g.max()
    img[cell] = 5000.0
    disc = None
    if dist is not None:
        disc = np.hypot(rr - c - dist * D * np.sin(0.7), cc - c - dist * D * np.cos(0.7)) <= D / 2
        img[disc] += contrast
    img += np.random.default_rng(seed).normal(0, 2.0, img.shape)
    return ndi.gaussian_filter(img, 1.0), disc


def _found(raw):
    """The glow search's outlines (first pass; second and third passes) on ``raw``."""
    first, _, more = _glow_dim(_flatten(raw, D), 0.0, 10.0, D, raw=raw, passes=True)
    return first, None if more is None else more[0]


@pytest.mark.parametrize("dist", [1.25, 1.5, 1.75])
def test_dim_disc_on_a_steep_dome_is_found(dist):
    raw, disc = _dome(dist)
    first, later = _found(raw)
    assert first is None or not (first & disc).any()
    assert later is not None
    assert (later & disc).sum() >= 0.9 * disc.sum()  # the whole disc ...
    assert (later & ~disc).sum() <= 1.2 * disc.sum()  # ... and its blurred rim, not the dome


def test_the_dome_alone_gives_no_outline():
    raw, _ = _dome(None)
    first, later = _found(raw)
    assert first is None or not first.any()
    assert later is None or not later.any()


@settings(max_examples=15, deadline=None)
@given(glow=st.floats(0.8, 2.0), dy=st.integers(-20, 20), dx=st.integers(-20, 20))
def test_radial_rest_takes_a_round_glow_off(glow, dy, dx):
    from napari_tessella.nuclei._radial import _radial_rest

    rr, cc = np.indices((200, 200), dtype=float)
    cell = np.hypot(rr - 100 - dy, cc - 100 - dx) <= 5
    g = ndi.gaussian_filter(1000.0 * cell, glow * D) + 100.0
    rest = _radial_rest(g, cell, 60)
    near = ndi.distance_transform_edt(~cell) <= 60
    # what is left is the spread within one whole-pixel ring, a small share of the dome
    assert np.abs(rest[near & ~cell]).max() <= 0.1 * np.ptp(g[near & ~cell])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10**6), top=st.integers(0, 30), left=st.integers(0, 30))
def test_radial_rest_is_the_same_in_a_window_holding_the_cell_and_reach(seed, top, left):
    from napari_tessella.nuclei._radial import _radial_rest

    rng = np.random.default_rng(seed)
    img = rng.normal(100, 10, (200, 200))
    cell = np.zeros(img.shape, bool)
    cell[95:105, 97:103] = True
    reach = 50
    whole = _radial_rest(img, cell, reach)
    win = (slice(top, 200 - (30 - top)), slice(left, 200 - (30 - left)))
    part = _radial_rest(img[win], cell[win], reach)
    near = (ndi.distance_transform_edt(~cell) <= reach)[win]
    assert np.array_equal(part[near], whole[win][near])
