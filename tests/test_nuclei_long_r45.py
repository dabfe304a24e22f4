"""Round 45: a long nucleus's end is not a nucleus of its own (issue 14).

A long wavy nucleus (aspect 2-3) is measured by its short axis, so the disc of diameter
``d`` that sets the neck cut's least part (``_shape._NECK_PART``, 0.4 of its area) is a
third to a half of the nucleus, and a pinch of its wavy outline cut off an end of
0.4-0.6 disc areas. The rule (``_long._least_neck_part``): a long object's neck cut
leaves at least ``_LONG_PART`` disc areas on each side. The long-object test fails on the
code before it; touching round nuclei are cut as before.
"""

import numpy as np
import pytest

from napari_tessella.nuclei._long import _LONG_PART, _least_neck_part, _part_too_small
from napari_tessella.nuclei._shape import _NECK_PART, _split_at_necks

D = 20.0
UNIT = np.pi * D * D / 4


def _long_notched(x0):
    """An ellipse of semi-axes 20 and 7 px (aspect 2.9, width 0.7 d for d 20) pinched on
    both flanks by 2.5 px at ``x0`` px from its centre (a neck of 0.45 d)."""
    rr, cc = np.mgrid[:40, :60].astype(float)
    y, x = rr - 20, cc - 30
    obj = (x / 20) ** 2 + (y / 7) ** 2 <= 1
    w = 7 * np.sqrt(1 - (x0 / 20) ** 2)
    for s in (1, -1):
        obj &= np.hypot(x - x0, y - s * (w + 0.5)) > 3
    return obj


@pytest.mark.parametrize("x0", [4.0, 6.0])
def test_long_pinched_nucleus_is_not_cut(x0):
    """The neck leaves an end of 0.45-0.51 disc areas: the base cut it off; kept whole."""
    obj = _long_notched(x0)
    out, _ = _split_at_necks(obj.astype(np.int32), np.zeros(obj.shape, np.int32), D)
    assert out.max() == 1
    assert np.array_equal(out > 0, obj)


@pytest.mark.parametrize("sep", [17.0, 19.0])
def test_touching_round_nuclei_still_cut(sep):
    """Two discs of diameter d, 0.85-0.95 d apart: cut in two, each about a disc area."""
    rr, cc = np.mgrid[:40, :70].astype(float)
    pair = (np.hypot(rr - 20, cc - 25) <= 10) | (np.hypot(rr - 20, cc - 25 - sep) <= 10)
    out, _ = _split_at_necks(pair.astype(np.int32), np.zeros(pair.shape, np.int32), D)
    sizes = np.bincount(out.ravel())[1:] / UNIT
    assert out.max() == 2
    assert np.all(sizes > 0.9)


def test_least_part_by_the_object_shape():
    """A disc's cut keeps the base's least part, a long ellipse's the larger one."""
    rr, cc = np.mgrid[:60, :60]
    disc = np.hypot(rr - 30, cc - 30) <= 12
    ellipse = ((cc - 30) / 24) ** 2 + ((rr - 30) / 8) ** 2 <= 1
    assert _least_neck_part(disc, UNIT, _NECK_PART) == pytest.approx(_NECK_PART * UNIT)
    assert _least_neck_part(ellipse, UNIT, _NECK_PART) == pytest.approx(_LONG_PART * UNIT)


@pytest.mark.parametrize("share", [0.1, 0.39, 0.4, 0.5, 0.59, 0.6, 0.61, 1.0])
def test_lazy_check_agrees_with_the_least_part(share):
    """The check the neck cut calls reads the moments only when the answer needs them, and
    always answers as the least part does, on a round and on a long object."""
    rr, cc = np.mgrid[:60, :60]
    disc = np.hypot(rr - 30, cc - 30) <= 12
    ellipse = ((cc - 30) / 24) ** 2 + ((rr - 30) / 8) ** 2 <= 1
    smaller = round(share * UNIT)
    for obj in (disc, ellipse):
        expected = smaller < _least_neck_part(obj, UNIT, _NECK_PART)
        assert _part_too_small(obj, smaller, UNIT, _NECK_PART) == expected
