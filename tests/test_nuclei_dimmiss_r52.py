"""Round 52: dim nuclei in wide unlabelled regions over the level (:func:`_missing._free_dim`)."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei import _missing

D = 24


def _field(shape=(160, 160), seed=0):
    rng = np.random.default_rng(seed)
    rr, cc = np.indices(shape, dtype=np.float64)
    return rr, cc, rng.normal(0, 0.5, shape)


def test_a_flat_dim_nucleus_in_a_free_region_is_outlined():
    rr, cc, noise = _field()
    disc = np.hypot(rr - 80, cc - 80) <= D / 2
    smooth = ndi.gaussian_filter(10.0 * disc, 1.0) + noise + 3.0  # all of it over the level
    labels = np.zeros(smooth.shape, np.int32)
    found, points = _missing._free_dim(labels, smooth, 2.0, 4.0, D, np.zeros_like(disc))
    assert found is not None and points.sum() == 1
    iou = (found & disc).sum() / (found | disc).sum()
    assert iou > 0.7


def test_a_smooth_bump_of_the_same_contrast_is_not():
    """A Gaussian bump (a glow's fall-off, an out-of-focus smudge) passes the glow search's
    contrast and size tests; its edge is not a nucleus's (the steepness test)."""
    rr, cc, noise = _field()
    bump = 12.0 * np.exp(-(np.hypot(rr - 80, cc - 80) ** 2) / (2 * (D / 3.5) ** 2))
    smooth = bump + noise + 3.0
    labels = np.zeros(smooth.shape, np.int32)
    found, _ = _missing._free_dim(labels, smooth, 2.0, 4.0, D, np.zeros(smooth.shape, bool))
    assert found is None


def test_nothing_is_read_next_to_a_label():
    """A maximum within ``_FREE_GAP`` d of a label is no candidate: the disc labelled."""
    rr, cc, noise = _field()
    disc = np.hypot(rr - 80, cc - 80) <= D / 2
    smooth = ndi.gaussian_filter(10.0 * disc, 1.0) + noise + 3.0
    labels = disc.astype(np.int32)
    found, _ = _missing._free_dim(labels, smooth, 2.0, 4.0, D, np.zeros_like(disc))
    assert found is None
