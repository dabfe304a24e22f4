"""Round 32 (issue 14): a dim nucleus on a saturated cell's steep glow, which the
flattening's opening takes most of, is found on the image before the flattening
(``nuclei/_dim._glow_dim``'s second pass), and its outline takes in the sliver of it the
foreground cut found (``nuclei/_unflat._with_unflat``)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._dim import _glow_dim
from napari_tessella.nuclei._foreground import _flatten
from napari_tessella.nuclei._unflat import _with_unflat

D = 16.0


def _steep_glow(dim=True):
    """(working image before the flattening, after it, the dim disc): a saturated cell of
    3000, its glow (a Gaussian of d at 20 %) and a disc of contrast 45 1.2 d from it."""
    rr, cc = np.indices((160, 160), dtype=float)
    cell = np.hypot(rr - 80, cc - 60) <= 5
    image = ndi.gaussian_filter(3000.0 * cell, 1.0)
    glow = ndi.gaussian_filter(3000.0 * cell, D)
    image += 0.2 * 3000 * glow / glow.max()
    disc = np.hypot(rr - 80, cc - 60 - 1.2 * D) <= 8
    if dim:
        image += ndi.gaussian_filter(45.0 * disc, 1.0)
    image += 100.0 + np.random.default_rng(0).normal(0, 2.0, image.shape)
    return image, _flatten(image, D), disc


def test_a_disc_on_a_steep_glow_is_found_before_the_flattening():
    raw, flat, disc = _steep_glow()
    found, _ = _glow_dim(flat, 3.0, 20.0, D, raw=raw)  # the first pass alone
    assert found is None or (found & disc).sum() < 0.6 * disc.sum()
    _, _, second = _glow_dim(flat, 3.0, 20.0, D, raw=raw, passes=True)
    assert second is not None
    outline, points = second
    assert (outline & disc).sum() >= 0.6 * disc.sum()
    assert (outline & ~ndi.binary_dilation(disc, iterations=4)).sum() <= 0.2 * disc.sum()
    assert points[disc].sum() == 1
    # without the raw image, or without asking for the passes, no second pass
    assert _glow_dim(flat, 3.0, 20.0, D, passes=True)[2] is None


def test_the_glow_alone_gives_no_second_pass_outline():
    raw, flat, disc = _steep_glow(dim=False)
    second = _glow_dim(flat, 3.0, 20.0, D, raw=raw, passes=True)[2]
    assert second is None or not (second[0] & ndi.binary_dilation(disc, iterations=8)).any()


def test_an_outline_takes_in_its_sliver_and_leaves_a_neighbour():
    labels = np.zeros((60, 60), np.int32)
    labels[20:26, 20:30] = 1  # a sliver wholly inside the outline
    labels[10:40, 44:58] = 2  # a neighbour the outline's rim touches
    comp = np.zeros_like(labels)
    comp[15:40, 15:46] = 1
    points = np.zeros(labels.shape, bool)
    points[27, 30] = True
    markers = (labels > 0).astype(np.int32) * labels
    peak = np.array([np.inf, 1.0, 2.0])
    smooth = np.ones(labels.shape)
    out, mark, pk, added = _with_unflat(labels, markers, peak, smooth, 50.0, comp, 1, points)
    assert added
    new = out[27, 30]
    assert new not in (0, 1, 2)
    assert (out[20:26, 20:30] == new).all() and not (out == 1).any()  # taken in
    assert (out[10:40, 44:58] == 2).all()  # the neighbour keeps all its pixels
    assert mark[27, 30] > 0 and np.isinf(pk[1])
    # mostly on a label that is no piece of it: not added
    comp2 = np.zeros_like(labels)
    comp2[10:40, 40:58] = 1
    assert not _with_unflat(labels, markers, peak, smooth, 50.0, comp2, 1, points)[3]
