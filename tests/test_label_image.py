"""The shared low-level helpers of label images."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from napari_tessella._label_image import _label_moments, _widened


def test_widened_box_is_clipped_to_the_image():
    labels = np.zeros((10, 12), dtype=np.int32)
    labels[0:3, 9:12] = 1  # in a corner: clipped on two sides
    labels[4:6, 4:7] = 2  # inside: widened on all four
    first, second = ndi.find_objects(labels)
    assert _widened(first, 2, labels.shape) == (slice(0, 5), slice(7, 12))
    assert _widened(second, 2, labels.shape) == (slice(2, 8), slice(2, 9))
    assert _widened(second, 0, labels.shape) == second
    # the four copies it replaced indexed the same pixels (NumPy clips a slice's end)
    for box in (first, second):
        loose = tuple(slice(max(s.start - 3, 0), s.stop + 3) for s in box)
        assert np.array_equal(labels[loose], labels[_widened(box, 3, labels.shape)])


def test_label_moments_match_each_labels_own_covariance():
    rng = np.random.default_rng(3)
    labels, n = ndi.label(ndi.gaussian_filter(rng.random((60, 70)), 2) > 0.5)
    assert n >= 5
    count, mean_r, mean_c, var_r, var_c, cov = _label_moments(labels, n + 2)  # 2 absent
    for i in range(1, n + 1):
        pts = np.argwhere(labels == i).astype(float)
        assert count[i] == len(pts)
        np.testing.assert_allclose([mean_r[i], mean_c[i]], pts.mean(axis=0), rtol=1e-12)
        c = np.cov(pts.T, bias=True)
        np.testing.assert_allclose([var_r[i], var_c[i], cov[i]], [c[0, 0], c[1, 1], c[0, 1]],
                                   rtol=1e-9, atol=1e-12)
    assert count[n + 1] == 0 and var_r[n + 1] == 0 and cov[n + 2] == 0
    some = [2, 4]  # only those: the others absent, theirs unchanged
    sub = _label_moments(labels, n, some)
    assert sub[0][1] == 0 and sub[3][1] == 0
    for k in range(6):
        np.testing.assert_array_equal(sub[k][some], _label_moments(labels, n)[k][some])
