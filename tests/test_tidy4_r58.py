"""Round 58's tidy (no label changes): a checked number of -0.0 comes back as +0.0, so no
library downstream reads its sign; a synthetic dumbbell angle is checked as the other
numbers are; the seeded watershed relabels its length and area fields in the one hook
Threshold & label uses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from napari_tessella import compute_threshold
from napari_tessella._numbers import finite_number, number_pair, size_in_image
from napari_tessella.synthetic import synthetic_dumbbells

# --- 1. a zero without its sign, for every checked parameter


def _positive_zero(x: float) -> bool:
    return x == 0 and math.copysign(1.0, x) == 1.0


@given(minimum=st.one_of(st.none(), st.floats(-1e6, 0.0)),
       maximum=st.one_of(st.none(), st.floats(0.0, 1e6)),
       unit=st.sampled_from(["", "pixels", "nm"]),
       zero=st.sampled_from([-0.0, np.float64(-0.0), np.float32(-0.0)]))
def test_a_checked_minus_zero_comes_back_as_plus_zero(minimum, maximum, unit, zero):
    """Every bound that lets -0.0 pass (``>= 0``, ``<= 0``, none) gives +0.0 back: NumPy
    reads a zero's sign (its normal refused ``scale=-0.0``). Fails on the base (-0.0)."""
    x = finite_number(zero, "noise", minimum=minimum, maximum=maximum, unit=unit)
    assert _positive_zero(x)
    assert _positive_zero(size_in_image(zero, "sigma", (8, 8)))
    assert all(_positive_zero(v) for v in number_pair((zero, -0.0), "offset"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_checked_number_is_itself(value):
    """Any other finite number comes back as itself, to the bit."""
    x = finite_number(value, "threshold")
    assert x == value and (value == 0 or math.copysign(1.0, x) == math.copysign(1.0, value))


def test_a_threshold_of_minus_zero_is_zeros():
    """``compute_threshold(image, -0.0)``, a public function that passes a number through,
    gives the threshold of ``0.0``, sign and all. Fails on the base (-0.0)."""
    image = np.linspace(-1.0, 1.0, 64).reshape(8, 8)
    minus, plus = compute_threshold(image, -0.0), compute_threshold(image, 0.0)
    assert _positive_zero(minus) and repr(minus) == repr(plus)


# --- 1b. a synthetic dumbbell angle is checked as the other numbers are


@pytest.mark.parametrize("angle, error", [(float("nan"), ValueError),
                                          (float("inf"), ValueError),
                                          (None, TypeError), (True, TypeError)])
def test_a_dumbbell_angle_that_is_no_number_of_degrees_is_refused(angle, error):
    """A NaN or infinite angle made an empty lattice (every dumbbell fell outside) with
    no word why, None failed in ``float()``'s words and True was 1 degree. Fails on the
    base."""
    with pytest.raises(error, match=r"^angle must be a (finite )?number \(degrees\)"):
        synthetic_dumbbells((64, 64), angle=angle)


def test_a_dumbbell_angle_still_takes_numbers_and_random():
    """NumPy numbers and 'random' as before; an unknown word in the same sentence."""
    a = synthetic_dumbbells((64, 64), angle=np.float32(20.0), seed=3)
    b = synthetic_dumbbells((64, 64), angle=20, seed=3)
    assert np.allclose(a.positions, b.positions) and len(a.positions) > 0
    assert len(synthetic_dumbbells((64, 64), angle="random", seed=3).positions) > 0
    with pytest.raises(ValueError, match="angle must be a number of degrees or 'random'"):
        synthetic_dumbbells((64, 64), angle="north")


# --- 2. one path labels the unit fields: a layer chosen, its pixel size changed

UNIT_WIDGETS = ["SeededWatershedWidget", "ThresholdLabelWidget", "FindAtomsWidget"]


def _fields(widget) -> list:
    """Each unit field's label, decimals and step."""
    fields = [getattr(widget, entry[0]) for entry in widget._unit_fields]
    return [(f.label, f.native.decimals(), f.step) for f in fields]


@pytest.mark.parametrize("kind", UNIT_WIDGETS)
def test_a_layer_chosen_and_a_pixel_size_given_label_the_fields_alike(viewer, kind):
    """The fields of a widget on an image in mm (pixels of 0.65 µm), and those of one on
    a plain image then given the same pixel size: the same labels, decimals and steps (the
    watershed's diameter and area took their decimals in their own handler of a chosen
    layer, the other widgets in theirs)."""
    from _widget_helpers import discs, widget_on

    in_mm = viewer.add_image(discs(), name="mm", scale=(6.5e-4, 6.5e-4), units="mm")
    plain = viewer.add_image(discs(), name="plain")
    chosen, moved = widget_on(kind, viewer, in_mm), widget_on(kind, viewer, plain)
    assert all(label.endswith(("(px)", "(px²)")) for label, *_ in _fields(moved))
    assert all(label.endswith(("(mm)", "(mm²)")) for label, *_ in _fields(chosen))
    plain.scale, plain.units = in_mm.scale, in_mm.units
    assert _fields(moved) == _fields(chosen)
    chosen.image.value = plain  # the same units: nothing to change
    assert _fields(moved) == _fields(chosen)


def test_no_widget_labels_its_unit_fields_by_its_own_path():
    """The one hook, :meth:`_DockWidget._units_changed`, called on a layer chosen and on
    its pixel size changed; no widget connects it itself or relabels its fields in its own
    handler (the watershed's and Threshold & label's were near-copies). Fails on the base."""
    import inspect

    from napari_tessella import _widgets

    for kind in UNIT_WIDGETS:
        cls = getattr(_widgets, kind)
        assert "_units_changed" not in inspect.getsource(cls.__init__), kind
        assert all(len(entry) == 3 for entry in cls._unit_fields), kind
    for kind in ("SeededWatershedWidget", "ThresholdLabelWidget"):
        assert "_units_changed" not in vars(getattr(_widgets, kind)), kind


# --- 3. one function finds a lazy image's frame, the box inside it and its fills


@pytest.mark.parametrize("framed", [False, True])
def test_a_lazy_frame_and_its_fills_are_found_once(framed):
    """``_outside.frame_and_fills_lazy``: the frame peeled off (a black one of 12 pixels
    here), the box inside it and the fills in that box (as runs, or their values alone),
    which Threshold & label's chunked path and the watershed's each found in their own
    four lines. Fails on the base (no such function)."""
    import dask.array as da
    from _shapes import noisy_field
    from scipy import ndimage as ndi

    from napari_tessella._fills import _lines, fill_runs_lazy, fills_lazy
    from napari_tessella._lazy import _compute
    from napari_tessella._outside import frame_and_fills_lazy, frame_part_lazy

    field = ndi.rotate(noisy_field(), 40, reshape=True, cval=1500.0, order=1)
    image = np.pad(field, 12, constant_values=0.0) if framed else field
    arr = da.from_array(image, chunks=96)
    lines = _compute(*_lines(arr))
    frame, inner, fills = frame_and_fills_lazy(arr, lines)
    alone = frame_part_lazy(arr, None, lines)
    assert (frame is None) == (alone is None) == (not framed)
    assert framed or inner is arr
    assert not framed or (frame.box == alone.box and inner.shape == field.shape)
    assert np.array_equal(inner.compute(), field)
    runs = fill_runs_lazy(inner, _compute(*_lines(inner)))
    assert [v for v, _ in fills] == [v for v, _ in runs] == [1500.0]
    assert all(np.array_equal(a, b) for (_, x), (_, y) in zip(fills, runs, strict=True)
               for a, b in zip(x, y, strict=True))
    assert frame_and_fills_lazy(arr, lines, find=fills_lazy)[2] == (1500.0,)
    small = arr[:7, :7]  # under FILL_RUN on a side: no fill looked for
    assert frame_and_fills_lazy(small, _compute(*_lines(small)))[2] == []


def test_no_chunked_path_looks_for_a_frame_and_fills_by_itself():
    """The two chunked paths call the one function (their four lines were near-copies)."""
    import inspect

    from napari_tessella import _finite
    from napari_tessella.nuclei import _chunked_fills

    for module in (_finite, _chunked_fills):
        source = inspect.getsource(module)
        assert "frame_and_fills_lazy(" in source and "frame_part_lazy(" not in source
