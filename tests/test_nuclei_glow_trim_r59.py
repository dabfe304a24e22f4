"""Round 59 (issue 14): a label beside a saturated cell that holds a piece of the cell's
modelled glow is trimmed to its part over the glow, and a label that is only glow goes
(``nuclei/_glow_trim.py``). The module is new: these fail on the code before round 59.
"""

from __future__ import annotations

import numpy as np

from napari_tessella.nuclei._glow_trim import _trimmed_to_glow


def _field(radius=7):
    """A saturated cell with a radial glow, a dim nucleus of ``radius`` on the glow, the
    background."""
    rng = np.random.default_rng(59)
    rr, cc = np.indices((128, 128), dtype=np.float64)
    dist = np.hypot(rr - 64, cc - 40)
    cell = dist <= 7
    img = 100.0 + 600.0 * np.exp(-((dist - 7).clip(0) / 14.0) ** 2)
    nucleus = np.hypot(rr - 64, cc - 72) <= radius
    img[nucleus] += 80.0
    img[cell] = 4095.0
    return img + rng.normal(0.0, 2.0, img.shape), cell, nucleus


def _iou(a, b):
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def test_a_nucleus_joined_with_a_glow_piece_keeps_its_part_over_the_glow():
    img, cell, nucleus = _field()
    labels = np.zeros(img.shape, np.int32)
    labels[cell] = 1
    labels[58:71, 52:66] = 2  # a piece of glow between the cell and the nucleus
    labels[nucleus] = 2
    out, changed = _trimmed_to_glow(labels, img, cell, 10.0, 16, 10)
    assert changed
    assert _iou(labels == 2, nucleus) < 0.6  # the label before: the nucleus and the glow
    assert _iou(out == 2, nucleus) > 0.75
    assert (out[cell] == 1).all()  # the saturated cell's own label is not read
    assert (labels[58:71, 52:66] == 2).all()  # the input is left as it was


def test_a_label_of_glow_alone_goes_and_a_nucleus_alone_stays():
    img, cell, nucleus = _field()
    labels = np.zeros(img.shape, np.int32)
    labels[nucleus] = 2
    labels[30:40, 35:45] = 3  # glow only, above the cell
    out, changed = _trimmed_to_glow(labels, img, cell, 10.0, 16, 10)
    assert changed
    assert not (out == 3).any()
    assert np.array_equal(out == 2, labels == 2)


def test_no_saturated_cell_changes_nothing():
    img, _, nucleus = _field()
    labels = nucleus.astype(np.int32)
    out, changed = _trimmed_to_glow(labels, img, np.zeros(img.shape, bool), 10.0, 16, 10)
    assert out is labels and not changed


def test_a_label_whose_part_over_the_glow_is_under_a_nucleus_is_left_as_it_was():
    img, cell, small = _field(radius=4)  # 0.2 nucleus areas over the glow
    labels = np.zeros(img.shape, np.int32)
    labels[58:71, 52:66] = 2
    labels[small] = 2
    out, _ = _trimmed_to_glow(labels, img, cell, 10.0, 16, 10)
    assert np.array_equal(out, labels)
