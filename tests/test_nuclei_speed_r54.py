"""Round 54 (issue 14, speed): the rewrites give the values of the full computation.

Two steps of the recipe read less than they did: the glare's structure tensor sums the
gradient at the labelled pixels only, and the merge test skips an object's convex hull
when a bound from the lines touching it already puts its solidity above the level.
Their contract: the same values and decisions, bit for bit, so the same labels.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella.nuclei._glare import _gradient_axes
from napari_tessella.synthetic import synthetic_nuclei


def _field(seed=3, shape=(160, 200)):
    """A field of touching nuclei, some cut by the image's sides, its labels and the
    image smoothed as the recipe's working image is."""
    nuc = synthetic_nuclei(shape, n_nuclei=30, diameter=22, seed=seed, noise=0.03)
    return nuc.labels.astype(np.int32), ndi.gaussian_filter(nuc.image.astype(float), 1.0)


def _full_axes(labels, smooth):
    """The structure tensor's coherence and angle per label from the whole image's
    gradient (the computation before round 54)."""
    n = int(labels.max())
    rows, cols = np.gradient(smooth.astype(np.float64, copy=False))

    def summed(values):
        return np.bincount(labels.ravel(), weights=values.ravel(), minlength=n + 1)

    jrr, jcc, jrc = summed(rows * rows), summed(cols * cols), summed(rows * cols)
    coherence = np.hypot(jrr - jcc, 2 * jrc) / np.maximum(jrr + jcc, 1e-12)
    return coherence, 0.5 * np.arctan2(2 * jrc, jrr - jcc)


def test_gradient_axes_are_the_whole_gradients_per_label():
    """Every label's coherence and angle are those of the whole image's gradient, bit for
    bit: nuclei fields (labels on the image's sides), random labels with gaps in their
    ids on images of 2 rows or columns and up, values from 1e-5 to 1e5, float32 images."""
    cases = [_field(seed) for seed in (3, 4)]
    rng = np.random.default_rng(54)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(2, 30, 2))
        image = rng.normal(size=(h, w)) * 10 ** rng.uniform(-5, 5)
        labels = rng.integers(0, 6, (h, w)) * (rng.random((h, w)) < 0.5)
        cases.append((labels, image if rng.random() < 0.8 else image.astype(np.float32)))
    for labels, image in cases:
        want, got = _full_axes(labels, image), _gradient_axes(labels, image)
        for a, b in zip(want, got, strict=True):
            assert np.array_equal(a[1:], b[1:])


def test_gradient_axes_of_an_image_too_small_for_numpy_fail_as_numpy():
    """An image of one row: ``np.gradient``'s error, as before."""
    with pytest.raises(ValueError):
        _gradient_axes(np.ones((1, 5), int), np.arange(5.0)[None])


def _pixel_sets(seed=54, count=1500):
    """Pixel sets as the merge test reads them (``np.argwhere`` order, offset far from
    the origin): random speckle of every density, ellipses, single rows and columns,
    L and ring shapes."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        h, w = (int(v) for v in rng.integers(1, 45, 2))
        yy, xx = np.mgrid[:h, :w]
        shape = k % 4
        if shape == 0:
            m = rng.random((h, w)) < rng.uniform(0.05, 1.0)
        elif shape == 1:
            m = ((yy - h / 2) / (h / 2 + 0.1)) ** 2 + ((xx - w / 2) / (w / 2 + 0.1)) ** 2 < 1
        elif shape == 2:
            m = (yy < max(1, h // 3)) | (xx < max(1, w // 3))
        else:
            r = ((yy - h / 2) / (h / 2 + 0.1)) ** 2 + ((xx - w / 2) / (w / 2 + 0.1)) ** 2
            m = (r < 1) & (r > rng.uniform(0.0, 0.8))
        points = np.argwhere(m).astype(np.float64)
        if len(points):
            out.append(points + rng.integers(0, 1000, 2))
    return out


def test_surely_solid_only_when_the_hull_says_so():
    """Whenever the bound says the solidity is above a level, ``_solidity`` (qhull's
    hull) is above it: over many pixel sets and levels, never a wrong answer; and it
    decides most compact objects (it would be no shortcut otherwise)."""
    from napari_tessella.nuclei._hull import _surely_solid
    from napari_tessella.nuclei._merges import _MERGE_SOLIDITY, _solidity

    decided = compact = 0
    for points in _pixel_sets():
        solidity = _solidity(points)
        for level in (0.5, 0.8, _MERGE_SOLIDITY, 0.95, 0.99, 0.999):
            if _surely_solid(points, level):
                assert solidity > level
        if solidity > 0.95 and len(points) > 40:
            compact += 1
            decided += _surely_solid(points, _MERGE_SOLIDITY)
    assert compact > 200 and decided == compact


def test_split_merges_is_unchanged_without_the_bound(monkeypatch):
    """The merge split gives the same labels and markers with the bound as with the hull
    alone, on fields of touching nuclei (some concave merges among them: the hull still
    decides those)."""
    from napari_tessella.nuclei import _merges

    split = 0
    for seed in (3, 7, 11):
        nuc = synthetic_nuclei((200, 240), n_nuclei=60, diameter=22, seed=seed, noise=0.03)
        labels = nuc.labels.astype(np.int32)
        # merged pairs: every fourth nucleus joined to the next one it touches
        for i in range(1, int(labels.max()), 4):
            labels[labels == i + 1] = i
        labels = np.unique(labels, return_inverse=True)[1].reshape(labels.shape).astype(np.int32)
        smooth = ndi.gaussian_filter(nuc.image.astype(float), 1.0)
        markers = np.zeros_like(labels)
        level = float(np.quantile(smooth, 0.2))
        fast = _merges._split_merges(labels, markers, 22.0, smooth, level)
        monkeypatch.setattr(_merges, "_surely_solid", lambda points, level: False)
        slow = _merges._split_merges(labels, markers, 22.0, smooth, level)
        monkeypatch.undo()
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
        split += int(fast[0].max()) > int(labels.max())
    assert split  # (a merge was split: the hull decided it)
