"""The glow's-slope pieces rule (round 35, ``nuclei._flux``): a label cut from a glow's
slope has the image rising inwards on about half of its rim only, a nucleus all round."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._flux import _INFLOW, _drop_glow_pieces, _rim_inflow


def _field():
    """A wide glow centred above the field at (-40, 60), a flat blurred nucleus on its
    slope at (50, 110) and a disc-shaped piece of the slope at (125, 60), labelled 1, 2."""
    rows, cols = np.mgrid[:160, :160].astype(float)
    image = 1000 * np.exp(-((rows + 40) ** 2 + (cols - 60) ** 2) / (2 * 70.0**2))
    nucleus = (rows - 50) ** 2 + (cols - 110) ** 2 <= 12**2
    image += ndi.gaussian_filter(400.0 * nucleus, 2.0)
    labels = np.zeros(image.shape, np.int32)
    labels[nucleus] = 1
    labels[(rows - 125) ** 2 + (cols - 60) ** 2 <= 12**2] = 2
    return ndi.gaussian_filter(image, 1.0), labels


def test_rim_inflow_nucleus_all_round_glow_piece_half():
    image, labels = _field()
    share = _rim_inflow(labels, image)
    assert share[1] > 0.9
    assert 0.3 < share[2] < _INFLOW


def test_drop_glow_pieces_keeps_the_nucleus_only():
    image, labels = _field()
    out = _drop_glow_pieces(labels, image)
    assert set(np.unique(out)) == {0, 1}
    assert (out[labels == 1] == 1).all()
    # nothing to drop: the labels come back unchanged
    kept = np.where(labels == 2, 0, labels)
    assert _drop_glow_pieces(kept, image) is kept


def test_rim_inflow_reads_the_background_side_only():
    """A dim nucleus touching a brighter one: the image falls towards the brighter one
    along their contact, which is no rim (a crowded nucleus is no glow's piece)."""
    rows, cols = np.mgrid[:80, :120].astype(float)
    dim = (rows - 40) ** 2 + (cols - 40) ** 2 <= 15**2
    bright = ((rows - 40) ** 2 + (cols - 70) ** 2 <= 15**2) & ~dim
    image = ndi.gaussian_filter(300.0 * dim + 3000.0 * bright, 2.0)
    labels = dim + 2 * bright.astype(np.int32)
    share = _rim_inflow(labels, image)
    assert share[1] > _INFLOW and share[2] > 0.9


def test_rim_inflow_same_in_a_shifted_window():
    """A window of the image (a chunk's, from another origin) gives the same shares."""
    image, labels = _field()
    whole = _rim_inflow(labels, image)
    part = _rim_inflow(labels[20:150, 30:140], image[20:150, 30:140])
    np.testing.assert_array_equal(whole, part)


def test_drop_glow_pieces_not_on_dense_fields():
    image, labels = _field()
    assert _drop_glow_pieces(labels, image, dense=True) is labels
