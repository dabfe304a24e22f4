"""The shared low-level helpers of label images."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from napari_tessella._label_image import _widened


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
