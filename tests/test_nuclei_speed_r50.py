"""Round 50 (issue 14, speed): the shortcuts give the values of the full computation.

Each helper here replaces a step by a cheaper one (a partition for a sort, a read at a
few pixels for a whole array, ...); its contract is that the values are those of the
full step, bit for bit, on inputs like the recipe's.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._background import _robust_level
from napari_tessella.synthetic import synthetic_nuclei


def _field(seed=3, shape=(160, 200)):
    """A field of touching nuclei, some cut by the image's sides, its labels and the
    image smoothed as the recipe's working image is."""
    nuc = synthetic_nuclei(shape, n_nuclei=30, diameter=22, seed=seed, noise=0.03)
    return nuc.labels.astype(np.int32), ndi.gaussian_filter(nuc.image.astype(float), 1.0)


def _numpy_robust(values):
    level = float(np.median(values))
    return level, 1.4826 * float(np.median(np.abs(values - level)))


def test_robust_level_is_numpys_medians():
    """The median and the deviation from two partitions are ``np.median``'s, bit for bit:
    the lag differences of smoothed fields (the diameter estimate's noise), odd and even
    counts, many ties, signed values, a 2-d array, one and two values."""
    cases = []
    for seed in (3, 4, 5):
        _, smooth = _field(seed)
        cases.append((smooth[:, 3:] - smooth[:, :-3]).ravel())
        cases.append(cases[-1][:-1])  # an odd count
    rng = np.random.default_rng(0)
    cases += [np.round(rng.normal(size=1001), 1), np.round(rng.normal(size=1000), 1),
              rng.normal(size=(31, 17)), rng.integers(0, 3, 64).astype(float),
              np.array([2.5]), np.array([1.0, -3.0]), -np.abs(rng.normal(size=77))]
    for values in cases:
        assert _robust_level(values) == _numpy_robust(values)


def test_robust_level_with_a_nan_or_other_type_is_numpys():
    values = np.linspace(-1, 1, 101)
    values[7] = np.nan
    level, dev = _robust_level(values)
    assert np.isnan(level) and np.isnan(dev)
    ints = np.arange(11) ** 2
    assert _robust_level(ints) == _numpy_robust(ints)
    f32 = np.linspace(0, 1, 50, dtype=np.float32) ** 2
    assert _robust_level(f32) == _numpy_robust(f32)


def test_gradient_at_is_the_whole_gradient_read_there():
    """``_edges._gradient_at`` equals ``np.hypot(*np.gradient(img))[used]`` bit for bit:
    pixels anywhere (the array's sides and corners too, where numpy's differences are
    one-sided), a band around a label as ``_edge_outlines`` reads, float32, two rows."""
    from napari_tessella.nuclei._edges import _gradient_at

    labels, smooth = _field(4)
    rng = np.random.default_rng(1)
    band = ndi.binary_dilation(labels == 5, iterations=3) & ~ndi.binary_erosion(labels == 5)
    cases = [(smooth, band), (smooth, rng.random(smooth.shape) < 0.3),
             (smooth[40:90, 10:70], np.ones((50, 60), bool)),
             (smooth.astype(np.float32), rng.random(smooth.shape) < 0.1),
             (smooth[:2, :9], np.ones((2, 9), bool)), (smooth, np.zeros(smooth.shape, bool))]
    for img, used in cases:
        full = np.hypot(*np.gradient(img))[used]
        got = _gradient_at(img, used)
        assert got.dtype == full.dtype and np.array_equal(got, full)


def test_edge_outlines_with_the_read_gradient_are_the_whole_gradients(monkeypatch):
    """``_edge_outlines`` (each textured label's band in its box) gives the same labels
    and peaks with its gradient read at the band's pixels as with numpy's whole gradient
    of each box: the band lies inside the box, so every pixel read has its neighbours."""
    from napari_tessella.nuclei import _edges

    for seed in (3, 6):
        labels, smooth = _field(seed)
        small = ndi.binary_erosion(labels > 0, iterations=2) * labels  # tight outlines
        n = int(small.max())
        peak = np.full(n + 1, -np.inf)
        np.maximum.at(peak, small.ravel(), smooth.ravel())
        level = float(np.percentile(smooth, 10))
        textured = np.zeros(n + 1, dtype=bool)
        textured[1:] = True
        args = (small, smooth, level, 22.0, peak, textured)
        got = _edges._edge_outlines(*args, trim=0.5)
        with monkeypatch.context() as m:
            m.setattr(_edges, "_gradient_at", lambda img, used: np.hypot(*np.gradient(img))[used])
            full = _edges._edge_outlines(*args, trim=0.5)
        assert got[2] and np.array_equal(got[0], full[0]) and np.array_equal(got[1], full[1])
        assert not np.array_equal(got[0], small)  # outlines did move


def test_the_label_structures_are_scipys_defaults():
    """``_structure(2)`` and ``_structure(2, 2)`` (passed to ``ndi.label`` so that scipy
    does not make its structure again on every call; ``_FOUR`` and ``_EIGHT`` before round
    51) are scipy's 4- and 8-connected structures, cannot be changed in place, and label a
    mask as scipy's default and its 8-connectivity do."""
    from napari_tessella._label_image import _structure

    four, eight = _structure(2), _structure(2, 2)
    assert np.array_equal(four, ndi.generate_binary_structure(2, 1))
    assert np.array_equal(eight, ndi.generate_binary_structure(2, 2))
    assert not four.flags.writeable and not eight.flags.writeable
    labels, _ = _field(5)
    mask = ndi.binary_erosion(labels > 0) ^ (labels == 3)
    for got, want in ((ndi.label(mask, four), ndi.label(mask)),
                      (ndi.label(mask, eight), ndi.label(mask, np.ones((3, 3), bool)))):
        assert got[1] == want[1] and np.array_equal(got[0], want[0])


def test_flood_components_by_connectivity():
    """``_basins._flood`` given no components labels them with its connectivity's
    structure: the same flood as skimage's watershed at 4- and 8-connectivity."""
    from skimage.segmentation import watershed

    from napari_tessella.nuclei._basins import _flood

    labels, smooth = _field(7)
    mask = labels > 0
    markers = ndi.label(ndi.binary_erosion(mask, iterations=6))[0]
    for connectivity in (1, 2):
        want = watershed(-smooth, markers, mask=mask, connectivity=connectivity)
        assert np.array_equal(_flood(-smooth, markers, mask, connectivity), want)
