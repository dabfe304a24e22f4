"""A dim nucleus on a glow that the flattening took in part is outlined whole (issue 14,
round 50, ``nuclei/_dim._glow_dim``'s ``_GLOW_UNFLAT``): the opening beside a saturated
cell's glow takes part of a dim nucleus off, and the outline read on the flattened image
stopped there; read on the image before the flattening too, the outline is the union."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from test_nuclei_glow_contrast import _flattened_glow


def _half_flattened():
    """The flattened glow of ``test_nuclei_glow_contrast`` with its dim disc (contrast 45,
    d 16), the disc's far half taken off as an opening fitted on the glow's side would
    (the pixels past its centre + 2 set to the background, noise and all), the image
    before the flattening (the whole disc, over a ramp), and the disc."""
    flat, disc = _flattened_glow()
    plain, _ = _flattened_glow(dim=False)
    rr, cc = np.indices(flat.shape, dtype=float)
    taken = ndi.binary_dilation(disc, iterations=3) & (cc > 88)
    cut = np.where(taken, plain, flat)
    raw = flat + 500.0 + 2.0 * rr
    return cut, raw, disc


def _own(found, disc):
    part = ndi.label(found)[0]
    assert part[disc].any()
    return part == np.bincount(part[disc]).argmax()


def test_the_outline_takes_the_part_the_flattening_took_off():
    from napari_tessella.nuclei._dim import _glow_dim

    cut, raw, disc = _half_flattened()
    found, _ = _glow_dim(cut, 3.0, 20.0, 16.0, raw=raw)
    assert found is not None
    own = _own(found, disc)
    assert (own & disc).sum() / (own | disc).sum() >= 0.6
    assert (own & ~ndi.binary_dilation(disc, iterations=4)).sum() <= 0.15 * disc.sum()
    # the same under a transpose and a flip: no order between candidates
    for turn in (np.transpose, np.flipud):
        again, _ = _glow_dim(np.ascontiguousarray(turn(cut)), 3.0, 20.0, 16.0,
                             raw=np.ascontiguousarray(turn(raw)))
        assert np.array_equal(again, turn(found))


def test_without_the_unflattened_reading_the_outline_stops_short(monkeypatch):
    """The case above on the base (the rule switched off): the outline holds only the
    half the flattening left."""
    from napari_tessella.nuclei import _dim

    monkeypatch.setattr(_dim, "_GLOW_UNFLAT", False)
    cut, raw, disc = _half_flattened()
    found, _ = _dim._glow_dim(cut, 3.0, 20.0, 16.0, raw=raw)
    assert found is not None
    own = _own(found, disc)
    assert (own & disc).sum() / (own | disc).sum() < 0.6


def test_a_glow_alone_gains_no_outline_from_the_unflattened_reading():
    """No disc on the glow: neither reading finds a nucleus there."""
    from napari_tessella.nuclei._dim import _glow_dim

    flat, _ = _flattened_glow(dim=False)
    rr = np.indices(flat.shape, dtype=float)[0]
    found, _ = _glow_dim(flat, 3.0, 20.0, 16.0, raw=flat + 500.0 + 2.0 * rr)
    assert found is None
