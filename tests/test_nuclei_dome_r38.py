"""Round 38 (issue 14): a dim nucleus that the trim splits off a saturated cell's glow by
its steep rim (``nuclei/_edges._glow_nuclei`` before the trim) is kept from the unsharp
drop (``nuclei/_cues._drop_unsharp``'s ``kept``) when its rim is steeper than the glow's
own fall, as the faint ones were; before, only the faint ones were, and a nucleus on a
bright glow, whose ring is the glow, was dropped as a smudge."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella.nuclei._recipe import (
    _RECUT,
    _SHARP,
    _TRIM,
    _core_peak,
    _drop_unsharp,
    _trim_to_own_peak,
)

D = 16.0
LEVEL = 100.0


def _field(contrast, dist, blur, frac=0.1, seed=0, glow_under=None):
    """(working image, the dim disc): a saturated cell of 3000, its glow (a Gaussian of
    1.5 d at ``frac`` of the cell) and a disc of ``contrast`` ``dist`` d from it, its
    edge blurred by ``blur`` pixels, on a background of 100. ``glow_under``: a list the
    glow's median over the disc is put in."""
    rr, cc = np.indices((160, 160), dtype=float)
    cell = np.hypot(rr - 80, cc - 60) <= 5
    image = ndi.gaussian_filter(3000.0 * cell, 1.0)
    glow = ndi.gaussian_filter(3000.0 * cell, 1.5 * D)
    image += frac * 3000 * glow / glow.max()
    disc = np.hypot(rr - 80, cc - 60 - dist * D) <= 8
    if glow_under is not None:
        glow_under.append(float(np.median(frac * 3000 * glow[disc] / glow.max())))
    if contrast:
        image += ndi.gaussian_filter(contrast * disc, blur)
    image += LEVEL + np.random.default_rng(seed).normal(0, 2.0, image.shape)
    return image, disc


def _trimmed_and_kept(image):
    """The labels after the trim to each nucleus's own peak, the pixels it rescued, and
    the labels after the unsharp drop (with those pixels kept), as the recipe runs them."""
    labels, _ = ndi.label(ndi.binary_opening(image > LEVEL + 25, iterations=2))
    height = ndi.distance_transform_edt(labels > 0)
    out, rescued = _trim_to_own_peak(labels, image, LEVEL, height, D)
    peak = _core_peak(out, image, height, LEVEL)
    needed = np.full(int(out.max()) + 1, 30.0)
    after = _drop_unsharp(out, image, LEVEL, D, peak, needed, sharp=_SHARP, recut=_RECUT,
                          trim=_TRIM, kept=rescued)[0]
    return out, rescued, after


def test_a_steep_dim_nucleus_split_off_a_glow_is_not_dropped_as_unsharp():
    image, disc = _field(500, 1.5, 1.5)
    out, rescued, after = _trimmed_and_kept(image)
    assert (out[disc] > 0).mean() > 0.9  # the trim split it off the glow
    assert rescued is not None and rescued[disc].mean() > 0.9
    assert (after[disc] > 0).mean() > 0.9  # and it stays (on the base: dropped, 0)
    assert np.unique(after[disc & (after > 0)]).size == 1


def test_the_glow_alone_gives_nothing_kept():
    image, disc = _field(0, 1.5, 1.5)
    _, rescued, after = _trimmed_and_kept(image)
    assert rescued is None or not rescued.any()
    assert not (after[disc] > 0).any()
    rr, cc = np.indices(image.shape)
    away = np.hypot(rr - 80, cc - 60) > 0.6 * D  # off the cell: no piece of its glow
    assert not (after[away] > 0).any()


@settings(max_examples=25, deadline=None)
@given(contrast=st.sampled_from([300.0, 500.0, 800.0]), dist=st.sampled_from([1.2, 1.5]),
       blur=st.sampled_from([1.0, 1.5]), frac=st.sampled_from([0.1, 0.2]),
       seed=st.integers(0, 50))
def test_a_nucleus_split_off_a_glow_is_never_dropped_after(contrast, dist, blur, frac, seed):
    under = []
    image, disc = _field(contrast, dist, blur, frac, seed, under)
    out, _, after = _trimmed_and_kept(image)
    # split off by the trim, and standing over the glow for at least half its contrast
    if (out[disc] > 0).mean() > 0.9 and contrast >= under[0]:
        assert (after[disc] > 0).mean() > 0.9

