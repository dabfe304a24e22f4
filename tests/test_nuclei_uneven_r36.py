"""Round 36 (issue 14): a dim nucleus on a saturated cell's glow whose outline the glow
search's first pass finds, but of which the foreground cut drew only a sliver, gets the
outline, the sliver taken in (``nuclei/_slivers._with_slivers``, called from
``nuclei/_dim._with_glow_dim``); before, the outline was dropped because it did not lie
on the background, and the sliver (a third of the nucleus) left the nucleus missing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella.nuclei._dim import _with_glow_dim
from napari_tessella.nuclei._foreground import _flatten

D = 16.0


def _glow_with_dim_disc(dist=1.6):
    """(working image before the flattening, after it, the dim disc): a saturated cell of
    3000, its glow (a Gaussian of 1.5 d at 10 %) and a disc of contrast 60 ``dist`` d
    from it."""
    rr, cc = np.indices((160, 160), dtype=float)
    cell = np.hypot(rr - 80, cc - 60) <= 5
    image = ndi.gaussian_filter(3000.0 * cell, 1.0)
    glow = ndi.gaussian_filter(3000.0 * cell, 1.5 * D)
    image += 0.1 * 3000 * glow / glow.max()
    disc = np.hypot(rr - 80, cc - 60 - dist * D) <= 8
    image += ndi.gaussian_filter(60.0 * disc, 1.0)
    image += 100.0 + np.random.default_rng(0).normal(0, 2.0, image.shape)
    return image, _flatten(image, D), disc


def _labels_with(disc, part):
    """The saturated cell as label 2 and ``part`` of the disc as label 1."""
    rr, cc = np.indices(disc.shape)
    labels = np.zeros(disc.shape, np.int32)
    labels[part] = 1
    labels[np.hypot(rr - 80, cc - 60) <= 6] = 2
    return labels


def test_a_sliver_of_a_dim_nucleus_on_a_glow_is_taken_into_its_outline():
    raw, flat, disc = _glow_with_dim_disc()
    cc = np.indices(disc.shape)[1]
    sliver = disc & (cc > 60 + 1.6 * D + 2)  # its far third, 70 of 198 pixels
    labels = _labels_with(disc, sliver)
    peak = np.array([np.inf, 50.0, 3000.0])
    out, markers, pk, added = _with_glow_dim(labels, labels.copy(), peak, flat, 3.0, 20.0, D,
                                             30.0, raw=raw)
    assert added
    ids = np.unique(out[disc])
    assert ids.size == 1 and ids[0] not in (0, 1, 2)  # one new label over the whole disc
    assert not (out == 1).any() and np.isinf(pk[1])  # the sliver taken in
    assert (out[labels == 2] == 2).all()  # the cell is left
    assert markers[disc].max() > 0


def test_a_label_that_fills_the_outline_is_left_as_it_is():
    raw, flat, disc = _glow_with_dim_disc()
    # the nucleus found with its blurred rim: 294 pixels of the outline's 315
    whole = ndi.binary_dilation(disc, iterations=2)
    labels = _labels_with(disc, whole)
    peak = np.array([np.inf, 50.0, 3000.0])
    out = _with_glow_dim(labels, labels.copy(), peak, flat, 3.0, 20.0, D, 30.0, raw=raw)[0]
    assert (out[whole] == 1).all() and (out == 1).sum() == whole.sum()


@settings(max_examples=40, deadline=None)
@given(share=st.floats(0.2, 0.7), side=st.sampled_from(["far", "near", "top", "bottom"]))
def test_any_sliver_side_gives_the_disc_and_no_other_label_changes(share, side):
    # (a sliver under a tenth of the outline, 0.15 of the disc on its top or bottom, is
    # the first pass's: it adds the outline beside it and leaves the sliver, as before)
    raw, flat, disc = _glow_with_dim_disc()
    rr, cc = np.indices(disc.shape)
    r0, c0 = 80, 60 + 1.6 * D
    coord = {"far": cc - c0, "near": c0 - cc, "top": r0 - rr, "bottom": rr - r0}[side]
    cut = np.quantile(coord[disc], 1 - share)
    sliver = disc & (coord >= cut)
    labels = _labels_with(disc, sliver)
    labels[20:40, 130:150] = 3  # a nucleus far from the glow: never touched
    peak = np.array([np.inf, 50.0, 3000.0, 80.0])
    out = _with_glow_dim(labels, labels.copy(), peak, flat, 3.0, 20.0, D, 30.0, raw=raw)[0]
    assert (out[labels == 3] == 3).all() and (out[labels == 2] == 2).all()
    assert not (out == 1).any()  # the sliver never stays on its own
    assert (out[disc] == out[sliver][0]).mean() >= 0.9  # the disc is one label
