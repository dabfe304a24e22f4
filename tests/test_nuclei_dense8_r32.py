"""Round 32 (dense8): flanks on crowded fields and the dim nuclei's level on dense fields."""

import numpy as np

from napari_tessella.nuclei import _background as B
from napari_tessella.nuclei._foreground import _dim_level


def _histogram(share_nuclei, background_share=0.4, n=200_000, seed=0):
    """Fine histogram of a flattened field: a narrow background peak near 0, flanks
    spread evenly up to Otsu (30) and nuclei above it on ``share_nuclei`` of the pixels."""
    rng = np.random.default_rng(seed)
    k = int(share_nuclei * n)
    b = int(background_share * (n - k))
    values = np.concatenate([np.abs(rng.normal(2, 1, b)), rng.uniform(0, 30, n - k - b),
                             rng.uniform(30, 100, k)])
    counts, edges = np.histogram(values, bins=65536, range=(values.min(), values.max()))
    return counts, edges[:-1] / 2 + edges[1:] / 2, float(edges[1] - edges[0])


def _ratios(counts, centres, width, otsu):
    keep = centres <= otsu
    level, dev = B._hist_robust(counts[keep], centres[keep], width)
    lower = np.where(keep, counts, 0)
    lower[0] = 0
    mode, peak = B._hist_mode(lower, centres, width, B._densest(lower, B._DENSEST) * width)
    return (level - mode) / peak, dev / peak


def test_crowded_field_with_wide_flanks_is_flanked():
    hist = _histogram(0.45)
    median, spread = _ratios(*hist, 30.0)
    assert median < B._FLANKS < spread  # the median test alone would miss these flanks
    _, noise, flanked = B._level_and_noise(*hist, 30.0, 1.0, False, with_flanked=True)
    assert flanked
    # the noise is then the geometric mean of the flanks' deviation and the peak's width
    counts, centres, width = hist
    keep = centres <= 30.0
    assert noise < 0.5 * B._hist_robust(counts[keep], centres[keep], width)[1]


def test_sparse_field_with_the_same_flanks_is_not():
    hist = _histogram(0.2)  # the same pixels below Otsu, a fifth of the field above it
    median, spread = _ratios(*hist, 30.0)
    assert median < B._FLANKS < spread
    assert not B._level_and_noise(*hist, 30.0, 1.0, False, with_flanked=True)[2]


def test_diameter_estimate_path_keeps_the_median_test():
    hist = _histogram(0.45)  # floor=True (the estimate's overview): as before round 32
    assert not B._level_and_noise(*hist, 30.0, 1.0, True, with_flanked=True)[2]


def test_dim_level_below_the_cut_on_dense_fields():
    level, eps, contrast = 20.0, 27.0, 25.0  # the log offset above the cut's contrast
    cut = float(np.log(contrast + eps))
    old = _dim_level(level, eps, cut)
    assert old > level + contrast  # the dim search's level above the foreground's cut
    new = _dim_level(level, eps, cut, noise=3.0)
    assert new == level + max(0.3 * contrast, 9.0)
    assert level < new < level + contrast
    assert _dim_level(level, eps, cut, None) == old  # other fields unchanged


def test_a_plateau_spike_above_the_median_is_not_a_background_peak():
    """A packed crop: the densest bins below Otsu are its nuclei's plateau, a narrow spike
    above the median of those pixels; their deviation is wide, but they are no flanks."""
    rng = np.random.default_rng(0)
    n, k = 200_000, 90_000
    values = np.concatenate([rng.uniform(0, 30, (n - k) * 2 // 3),
                             rng.normal(27, 0.05, (n - k) // 3), rng.uniform(30, 100, k)])
    counts, edges = np.histogram(values, bins=65536, range=(values.min(), values.max()))
    centres, width = edges[:-1] / 2 + edges[1:] / 2, float(edges[1] - edges[0])
    median, spread = _ratios(counts, centres, width, 30.0)
    assert median < 0 and spread > B._FLANKS
    assert not B._level_and_noise(counts, centres, width, 30.0, 1.0, False, with_flanked=True)[2]
