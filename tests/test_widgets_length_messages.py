"""Lengths and areas in the widgets' messages: the core's length errors carry their
lengths as numbers (no parsing of their text), the widgets say them in the field's unit and
words, and a min size or area that removed every object is named in the field's units.
Each test fails on the behaviour it fixed."""

from __future__ import annotations

import pytest
from _widget_helpers import discs

from napari_tessella import find_atoms
from napari_tessella._validation import LengthError
from napari_tessella._widgets import (
    FindAtomsWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)
from napari_tessella.synthetic import synthetic_nuclei

# --- the core's length errors carry their lengths


@pytest.mark.parametrize(("separation", "lengths", "text"), [
    (40.0, {"value": 40.0, "limit": 32.0}, "separation=40 pixels is over half the image's "
     "shorter side (shape (64, 64)): at most 32 pixels."),
    (1.5, {"value": 1.5, "limit": 2}, "separation must be >= 2 pixels; got 1.5 pixels."),
])
def test_a_spacing_error_carries_its_lengths(lattice_image, separation, lengths, text):
    with pytest.raises(LengthError) as info:
        find_atoms(lattice_image, separation=separation)
    err = info.value
    assert isinstance(err, ValueError)  # callers catching ValueError see no change
    assert err.name == "separation" and err.lengths == lengths
    assert str(err) == text
    assert err.in_units(lambda v: f"{v / 2:g} nm").endswith("nm.")


def test_a_length_larger_than_the_image_carries_its_lengths(lattice_image):
    from napari_tessella import threshold_label

    with pytest.raises(LengthError) as info:
        threshold_label(lattice_image, threshold="otsu", smooth_sigma=100)
    assert info.value.name == "smooth_sigma"
    assert info.value.lengths == {"value": 100.0, "limit": 64}


def test_length_error_takes_the_callers_words_without_string_surgery(lattice_image):
    with pytest.raises(LengthError) as info:
        find_atoms(lattice_image, separation=40.0)
    err = info.value
    assert "separation" not in err.template  # the length is named through its slots
    text = err.in_units(lambda v: f"{v / 2:g} nm", the="the spacing", named="a spacing of ")
    assert text.startswith("a spacing of 20 nm is over half") and text.endswith("16 nm.")
    with pytest.raises(LengthError) as info:
        find_atoms(lattice_image, separation=1.0)
    assert info.value.in_units(str, the="the spacing").startswith("the spacing must be >= 2")


# --- the widgets say them in the field's unit


def test_find_atoms_leaves_the_spacing_rule_to_the_core(viewer, lattice_image, monkeypatch):
    """A spacing over half the image reaches find_atoms, whose check answers (the widget
    checked the same rule itself first); the message is in the field's unit and words."""
    from napari_tessella import _square  # (find_atoms_finite's call, through find_on_square)

    given = []
    core = _square.find_atoms

    def spy(image, **params):
        given.append(params["separation"])
        return core(image, **params)

    monkeypatch.setattr(_square, "find_atoms", spy)
    layer = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.separation.value = 20.0  # 40 pixels of a 64-pixel image
    assert widget() is None
    assert given == [pytest.approx(40.0)]
    assert widget._status.value == ("⚠ a column spacing of 20 nm is over half the image's "
                                    "shorter side (shape (64, 64)): at most 16 nm.")
    assert "lat columns" not in viewer.layers


def test_a_spacing_under_two_pixels_is_said_in_the_fields_unit(viewer, lattice_image):
    """0.4 nm on pixels of 0.5 nm is 0.8 pixels: the message said "'column spacing' (in
    pixels) must be >= 2 pixels; got 0.8", a number the user never typed."""
    layer = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="nm")
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget.separation.value = 0.4
    assert widget() is None
    assert widget._status.value == "⚠ the column spacing must be >= 1 nm; got 0.4 nm."


def test_a_diameter_larger_than_the_image_is_said_in_the_fields_unit(viewer, lattice_image):
    """The diameter field is in µm; the core refuses it in pixels (a length over the image's
    longest side): the message named 'object diameter' (in pixels)=400.0 pixels."""
    layer = viewer.add_image(lattice_image, name="dna", scale=(0.5, 0.5), units="um")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = layer
    widget.object_diameter.value = 200.0
    assert widget() is None
    status = widget._status.value
    assert status.startswith("⚠ an object diameter of 200 µm is larger than the image")
    assert "longest side 32 µm" in status and "pixels" not in status


def test_an_opening_in_pixels_stays_in_pixels(viewer, lattice_image):
    """The opening field is in pixels: its error is not converted into the layer's unit."""
    layer = viewer.add_image(lattice_image[:, :40], name="img", scale=(0.5, 0.5), units="nm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = layer
    widget.opening.max = 1000
    widget.opening.value = 50
    assert widget() is None
    assert "'opening'=50 pixels is larger than the image" in widget._status.value


# --- a min size or area said in its field's units


def test_no_objects_says_the_min_size_in_the_fields_units(viewer, lattice_image):
    """The min size field is an area in µm²: "the min size of 400 px" named pixels."""
    image = viewer.add_image(lattice_image, name="lat", scale=(0.5, 0.5), units="µm")
    widget = ThresholdLabelWidget(viewer)
    widget.image.value = image
    widget.min_size.value = 100.0  # µm², 400 px: larger than every column
    widget()
    assert "0 objects" in widget._status.value
    assert "the min size of 100 µm² = 400 px" in widget._status.value


def test_watershed_says_its_min_size_in_the_fields_units(viewer):
    nuclei = synthetic_nuclei(seed=1).image
    image = viewer.add_image(nuclei, name="syn", scale=(0.5, 0.5), units="µm")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.min_area.value = 25.0  # µm², 100 px
    widget()
    assert "min size 25 µm² = 100 px" in widget._status.value
    plain = viewer.add_image(nuclei, name="plain")
    widget.image.value = plain
    widget.min_area.value = 100.0
    widget()
    assert "min size 100 px²" in widget._status.value


@pytest.mark.parametrize("unit", ["µm", None])
def test_the_estimated_min_size_is_the_one_the_run_uses(viewer, unit):
    """At 0.3338 µm pixels the estimate said "nuclei under 35 µm² (314 px)" and the run
    "min size 34.88 µm² = 313 px" for the same default: the estimate came from the
    unrounded diameter, the run from the field's (kept to a tenth of a pixel)."""
    pixel = 0.3338
    geo = {"scale": (pixel, pixel), "units": unit} if unit else {}
    viewer.add_image(synthetic_nuclei(seed=1).image, name="dapi", **geo)
    widget = SeededWatershedWidget(viewer)
    assert widget.estimate_diameter() is not None
    estimate = widget._status.value
    said = estimate.split("nuclei under ")[1].split(" are dropped")[0]
    assert widget() is not None
    run = widget._status.value.split("min size ")[1].split(", ")[0]
    assert said == run, (estimate, widget._status.value)
    assert said.endswith(" px" if unit else " px²")


def test_a_min_area_that_removes_every_nucleus_is_named(viewer):
    """A min nucleus area typed far too large: '0 nuclei' said nothing of why (Threshold
    & label names the filter that removed its objects)."""
    image = viewer.add_image(discs(), name="dna", scale=(0.5, 0.5), units="µm")
    widget = SeededWatershedWidget(viewer)
    widget.image.value = image
    widget.min_area.value = 10_000.0  # µm²: far above a nucleus of 11 µm
    assert widget() is not None
    assert widget._status.value.startswith("0 nuclei")
    assert "the min nucleus area of 1e+04 µm² = 40000 px may have removed them all" in (
        widget._status.value)
