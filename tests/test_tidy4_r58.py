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
