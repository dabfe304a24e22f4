"""Round 31: dim nuclei wholly outside every label (``nuclei._missing``)."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._missing import _with_missing


def _field(dim_kind):
    """A 96² flattened field, d = 16: one bright labelled nucleus on the left, and on the
    right a dim object of contrast 20 over a background of 1: a blurred disc (a nucleus,
    a step at its edge) or a wide Gaussian glow (no edge of its own)."""
    rr, cc = np.indices((96, 96), dtype=float)
    bright = np.hypot(rr - 48, cc - 20) <= 8
    img = np.where(bright, 100.0, 0.0)
    if dim_kind == "nucleus":
        img += np.where(np.hypot(rr - 48, cc - 66) <= 8, 20.0, 0.0)
        img = ndi.gaussian_filter(img, 1.5)
    else:
        img = ndi.gaussian_filter(img, 1.5)
        img += 20.0 * np.exp(-((rr - 48) ** 2 + (cc - 66) ** 2) / (2 * 8.0 ** 2))
    img += 1.0
    labels = ndi.label(img > 40)[0].astype(np.int32)
    return img, labels


def _run(img, labels, mask=None):
    markers = np.where(labels > 0, 1, 0).astype(np.int32)
    peak = np.array([np.inf, 100.0])
    mask = labels > 0 if mask is None else mask
    return _with_missing(labels, markers, peak, img, 5.0, 16.0, 20.0, mask)


def test_a_dim_nucleus_outside_every_label_is_added():
    img, labels = _field("nucleus")
    out, markers, peak, added = _run(img, labels)
    assert added
    new = out == 2
    assert new[48, 66] and 120 <= new.sum() <= 260  # its own disc (201 px), not the field
    assert peak.size == 3 and 15 < peak[2] < 25 and (markers[new] > 0).all()
    assert (out[labels > 0] == 1).all()  # the bright nucleus untouched


def test_a_glow_without_an_edge_is_not_added():
    img, labels = _field("glow")
    out, _, _, added = _run(img, labels)
    assert not added and (out == labels).all()


def test_a_dim_object_mostly_in_the_foreground_is_left_to_the_recipe():
    img, labels = _field("nucleus")
    out, _, _, added = _run(img, labels, mask=img > 8)
    assert not added and (out == labels).all()


def test_the_glow_is_left_out_by_its_edge_alone(monkeypatch):
    """Its size, shape and place are a nucleus's: only the rim and sharpness tests drop it."""
    import napari_tessella.nuclei._missing as missing

    monkeypatch.setattr(missing, "_STEEP", 0.0)
    monkeypatch.setattr(missing, "_SHARP", 0.0)
    img, labels = _field("glow")
    assert _run(img, labels)[3]
