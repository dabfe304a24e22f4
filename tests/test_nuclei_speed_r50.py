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

