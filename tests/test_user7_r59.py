"""Round 59: the plugin tried as a microscopist would, in a real viewer, and the failures
found written down as tests (each failed before its fix).

- A float32 image of very large or very small values (a raw detector's counts scaled to
  1e25, a calibrated image in units of 1e-26): the Seeded watershed worked it in float32
  and its gradient's squares overflowed (RuntimeWarning "overflow encountered in
  multiply", shown in the viewer) above ~2**64, and were lost below ~2**-75 (other nuclei,
  silently). An image times a power of two gives the same nuclei, whatever its dtype.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from napari_tessella import estimate_object_diameter, seeded_watershed
from napari_tessella.synthetic import synthetic_lattice

da = pytest.importorskip("dask.array")

#: 64 bright columns 8 pixels apart: the watershed's nuclei in miniature, fast
COLUMNS = synthetic_lattice((64, 64), spacing=8.0, seed=0).image.astype(np.float64)


def _labels(image):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow is a failure, not a console line
        return np.asarray(seeded_watershed(image).labels)


@pytest.mark.parametrize("exponent", [-90, -80, 70, 90])
def test_float32_image_of_extreme_values_gives_its_nuclei(exponent):
    reference = seeded_watershed(COLUMNS.astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = seeded_watershed(np.ldexp(COLUMNS, exponent).astype(np.float32))
    np.testing.assert_array_equal(scaled.labels, reference.labels)
    # the threshold said in the image's own units
    assert scaled.threshold == pytest.approx(np.ldexp(reference.threshold, exponent),
                                             rel=1e-6)


@pytest.mark.parametrize("exponent", [-80, 70])
def test_float32_chunked_image_of_extreme_values_gives_its_nuclei(exponent):
    reference = _labels(da.from_array(COLUMNS.astype(np.float32), chunks=32))
    lazy = da.from_array(np.ldexp(COLUMNS, exponent).astype(np.float32), chunks=32)
    np.testing.assert_array_equal(_labels(lazy), reference)


def test_float32_diameter_of_extreme_values_is_the_same():
    reference = estimate_object_diameter(COLUMNS.astype(np.float32))
    for exponent in (-80, 70):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            found = estimate_object_diameter(np.ldexp(COLUMNS, exponent).astype(np.float32))
        assert found == pytest.approx(reference, rel=1e-6)


@given(dtype=st.sampled_from(["float32", "float64"]),
       exponent=st.integers(-120, 120),
       offset=st.sampled_from([0.0, -0.45]),
       flip=st.booleans())
def test_a_power_of_two_never_changes_the_nuclei(dtype, exponent, offset, flip):
    """The dtype, the image's magnitude (times 2**exponent, exact), a dark offset and a
    flip vary as images do; the nuclei are those of the plain image (flipped back)."""
    plain = COLUMNS + offset
    if flip:
        plain = plain[:, ::-1]
    reference = _labels(plain.astype(dtype))
    found = _labels(np.ldexp(plain, exponent).astype(dtype))
    np.testing.assert_array_equal(found, reference)


def test_watershed_widget_on_a_float32_image_of_1e25(make_napari_viewer):
    """In the viewer: a result, not a warning or an error, and the input left as it is."""
    from napari_tessella._widgets import SeededWatershedWidget

    viewer = make_napari_viewer()
    data = (COLUMNS * 1e25).astype(np.float32)
    viewer.add_image(data, name="counts")
    kept = data.copy()
    widget = SeededWatershedWidget(viewer)
    widget.image.value = viewer.layers["counts"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert widget() is not None, widget._status.value
    np.testing.assert_array_equal(viewer.layers["counts"].data, kept)
    expected = _labels(COLUMNS.astype(np.float32))
    assert viewer.layers["counts nuclei"].data.max() == expected.max()
