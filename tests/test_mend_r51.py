"""Round 51: the core's advice kept apart from its refusal (``_validation.AdvisedError``),
and the widgets' words for it read from the error's parts, not found in its text.

On the base (d4e865f) every test here fails but the two that guard what stays: the
scripts' messages, word for word, and a plane of a stack naming itself before the viewer's
advice."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from _widget_helpers import discs

from napari_tessella import lattice, threshold_label

#: the core's messages as scripts read them before round 51, word for word
_NAN = ("image contains 3 NaN or infinite pixel(s); replace them (e.g. with np.nan_to_num) "
        "before segmenting.")
_DUPLICATE = ("points has 1 duplicate point(s) (e.g. point 1 repeats point 0 at (10.0, "
              "10.0)); remove them first, e.g. with np.unique(points, axis=0). Results are "
              "index-aligned with the points given, so duplicates are not merged silently.")


def _nan_image():
    image = discs()
    image[0, :3] = np.nan
    return image


def _raised(call):
    with pytest.raises(ValueError) as info:
        call()
    return info.value


def test_scripts_read_the_same_messages():
    """``str(err)`` is what it was (passes on the base too: the guard of the scripts)."""
    assert str(_raised(lambda: threshold_label(_nan_image(), "otsu"))) == _NAN
    points = np.array([[10.0, 10.0], [10.0, 10.0], [40.0, 60.0], [70.0, 20.0]])
    assert str(_raised(lambda: lattice(points))) == _DUPLICATE


def test_the_advice_is_kept_apart_and_survives_pickling():
    """The refusal, the topic and the advice's blanks are parts of the error (a process
    scheduler pickles it: it comes back whole)."""
    from napari_tessella._validation import NON_FINITE, AdvisedError

    err = _raised(lambda: threshold_label(_nan_image(), "otsu"))
    assert isinstance(err, AdvisedError) and err.topic == NON_FINITE
    assert err.what == "image contains 3 NaN or infinite pixel(s)"
    assert err.words == {"doing": "segmenting"} and "np.nan_to_num" in err.advice
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is AdvisedError and str(back) == str(err)
    assert (back.what, back.topic, back.words) == (err.what, err.topic, err.words)
    on = err.prefixed("plane 2: ")
    assert str(on) == "plane 2: " + str(err) and on.topic == err.topic


def test_every_topic_of_the_core_has_the_viewers_words():
    """The pairing: a topic the core advises on without words in the widgets would reach
    the viewer in Python words."""
    from napari_tessella._validation import ADVICE
    from napari_tessella._widgets._errors import _VIEWER_ADVICE

    assert set(_VIEWER_ADVICE) == set(ADVICE)
    for topic, said in _VIEWER_ADVICE.items():
        assert "np.unique" not in said and "e.g. with np." not in said, topic


def test_the_viewers_words_do_not_hang_on_the_cores_wording(monkeypatch):
    """The core's advice reworded: the viewer still says its own (the base replaced the
    core's text, which would then be shown as it is, Python advice and all)."""
    from napari_tessella import _validation
    from napari_tessella._widgets._base import in_viewer_words

    monkeypatch.setitem(_validation.ADVICE, _validation.NON_FINITE,
                        "call numpy.nan_to_num on it before {doing}.")
    err = _raised(lambda: threshold_label(_nan_image(), "otsu"))
    assert "call numpy.nan_to_num" in str(err)  # the scripts' words changed ...
    said = in_viewer_words(err)  # ... the viewer's did not
    assert said.startswith("image contains 3 NaN or infinite pixel(s): such pixels")
    assert "napari's console" in said and "numpy.nan_to_num" not in said
    assert in_viewer_words(ValueError("plain")) == "plain"


def test_a_plane_of_a_stack_names_itself_before_the_viewers_advice(make_napari_viewer):
    """'all planes' on a stack whose second plane holds NaN pixels: the plane said first,
    then the viewer's words (passes on the base, whose text replacement found the advice
    after the plane's name; a guard of ``_on_plane``)."""
    from napari_tessella._widgets import ThresholdLabelWidget

    viewer = make_napari_viewer()
    stack = np.stack([discs(), _nan_image()])
    widget = ThresholdLabelWidget(viewer)
    widget.live_preview.value = False
    widget.image.value = viewer.add_image(stack, name="st")
    widget._planes.value = "all planes"
    # (since round 52 the widget reads NaN pixels as outside the sample: the plane is
    # labelled, and its NaN pixels are said after its name, without advice)
    assert widget() is not None
    status = widget._status.value
    assert "plane 1: 3 pixels (0.018 % of the image) are NaN or infinite: read as" in status
    assert "np.nan_to_num" not in status


def test_a_length_refused_on_a_plane_of_a_stack_is_said_in_the_fields_words(
        make_napari_viewer, lattice_image):
    """A column spacing over half the image on 'all planes': the base rebuilt the error as
    ``LengthError(text)``, which raised a TypeError of its arguments instead."""
    from napari_tessella._widgets import FindAtomsWidget

    viewer = make_napari_viewer()
    layer = viewer.add_image(np.stack([lattice_image, lattice_image]), name="st",
                             scale=(1, 0.5, 0.5), units=("", "nm", "nm"))
    widget = FindAtomsWidget(viewer)
    widget.image.value = layer
    widget._planes.value = "all planes"
    widget.separation.value = 20.0  # 40 pixels of a 64-pixel plane
    assert widget() is None
    status = widget._status.value
    assert "plane 0: a column spacing of 20 nm is over half" in status, status
    assert "positional argument" not in status
