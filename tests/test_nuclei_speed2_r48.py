"""Round 48's second speed-up: each faster step gives exactly what the call it replaces
gives (the labels of the 48 U2OS images are identical to the bit)."""

import numpy as np

from napari_tessella.nuclei.diameter import _present


def test_present_is_numpy_unique():
    rng = np.random.default_rng(0)
    for size, n in ((50, 0), (50, 7), (2_000, 500), (10**6, 300)):  # the last: unique's path
        keys = rng.integers(0, size, n).astype(np.int64)
        got, want = _present(keys, size), np.unique(keys)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
