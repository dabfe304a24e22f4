"""Round 52's mend: one box, one territory step, one decision that an image holds one
value, and the core's advice by topic on the command line as in the viewer. Which test
fails on the round's base is said in each docstring."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tessella import _finite, _lazy, _outside, _validation
from napari_tessella._finite import blank_plane, finite_part
from napari_tessella._label_image import _mask_box
from napari_tessella._validation import as_float_image


def _raised(call) -> BaseException:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    return info.value


# --- 1. the finite part's box is the package's one box


def test_the_finite_part_is_boxed_by_the_packages_box(monkeypatch):
    """``finite_part`` asks ``_mask_box`` for its box (fails on the base, whose
    ``_finite`` did its own pass and had no ``_mask_box``; since round 53 through the
    outside mask's mechanism, ``_outside.outside_part``)."""
    seen = []

    def spy(mask, *args, **kwargs):
        seen.append(mask.copy())
        return _mask_box(mask, *args, **kwargs)

    monkeypatch.setattr(_outside, "_mask_box", spy)
    img = np.full((30, 40), np.nan)
    img[5:20, 7:33] = np.arange(15 * 26).reshape(15, 26)
    img[10, 10] = np.inf
    part = finite_part(img)
    assert len(seen) == 1 and seen[0].sum() == 15 * 26 - 1
    assert part.box == (slice(5, 20), slice(7, 33)) and part.count == 30 * 40 - 15 * 26 + 1
    assert part.outside.sum() == 1 and part.outside[5, 3]


def test_the_box_of_a_mask_is_said_in_python_ints():
    """A box that prints as ``slice(5, 20, None)`` (fails on the base: numpy 2 printed
    ``slice(np.int64(5), ...)``, so ``finite_part``'s doctest needed its own box)."""
    mask = np.zeros((9, 9), bool)
    mask[2:5, 3:7] = True
    box = _mask_box(mask, 1)
    assert box == (slice(1, 6), slice(2, 8))
    assert all(type(v) is int for s in box for v in (s.start, s.stop))
    assert repr(_mask_box(mask)) == "(slice(2, 5, None), slice(3, 7, None))"


def test_a_box_of_no_finite_pixel_is_refused_as_before():
    """A guard (passes on the base): no finite pixel, or a finite part of one row."""
    with pytest.raises(ValueError, match="no finite pixel"):
        finite_part(np.full((5, 5), np.nan))
    one_row = np.full((5, 5), np.inf)
    one_row[2] = 1.0
    with pytest.raises(ValueError, match="span only 1"):
        finite_part(one_row)


# --- 2. the nuclei cut by non-finite pixels: the core's territory step


def _cut_result():
    """A watershed result of six nuclei in the box's frame, two of them on a seam of
    non-finite pixels (column 20), and its territories as the core gives them."""
    from napari_tessella._label_image import _nearest_label
    from napari_tessella.nuclei import WatershedResult

    labels = np.zeros((40, 60), np.int32)
    for i, (r, c) in enumerate(((8, 8), (8, 23), (30, 18), (20, 40), (32, 50), (6, 52)), 1):
        labels[max(r - 4, 0):r + 4, max(c - 4, 0):c + 4] = i
    outside = np.zeros(labels.shape, bool)
    outside[:, 20] = True
    labels[outside] = 0
    result = WatershedResult(labels=labels, territories=_nearest_label(labels),
                             seeds=np.zeros((0, 2)), object_diameter=8.0, sigma=1.0,
                             threshold=0.5)
    return result, outside


def test_the_cut_nuclei_territories_are_the_cores_nearest_label(monkeypatch):
    """``_without_cut`` gives the territories of the dropped nuclei by the core's
    ``_nearest_label`` (fails on the base, which computed its own transform), with the
    territories of the base's transform exactly."""
    from scipy import ndimage as ndi

    from napari_tessella._label_image import _nearest_label

    calls = []

    def spy(seeds, *args, **kwargs):
        calls.append(seeds.shape)
        return _nearest_label(seeds, *args, **kwargs)

    from napari_tessella import _outside  # (its home since round 55: the core uses it too)

    monkeypatch.setattr(_outside, "_nearest_label", spy)
    result, outside = _cut_result()
    kept = _finite._without_cut(result, outside)
    assert calls == [(40, 60)], "the cut nuclei's territories did not go through it"
    assert kept.labels.max() == 4  # nuclei 2 and 3 lay on the seam: dropped, renumbered
    # the base's own transform of the kept labels, for the dropped nuclei's territories
    near = ndi.distance_transform_edt(kept.labels == 0, return_distances=False,
                                      return_indices=True)
    lut = np.array([0, 1, 0, 0, 2, 3, 4])
    cut = np.isin(result.territories, [2, 3])
    expected = np.where(cut, kept.labels[tuple(near)], lut[result.territories])
    np.testing.assert_array_equal(kept.territories, expected)


def test_a_seam_that_cuts_every_nucleus_leaves_no_territory():
    """A guard (passes on the base): every nucleus cut, no territory left."""
    result, outside = _cut_result()
    outside[:] = True
    kept = _finite._without_cut(result, outside)
    assert not kept.labels.any() and not kept.territories.any()


# --- 3. one decision that a plane holds one value


@pytest.mark.parametrize(("plane", "said"), [
    (np.full((4, 4), np.nan), "no finite pixel (all NaN or infinite)"),
    (np.array([[np.inf, -np.inf], [np.nan, np.inf]]), "no finite pixel (all NaN or infinite)"),
    (np.array([[np.nan, 5.0], [np.nan, np.nan]]), "constant (all values 5)"),
    (np.array([[np.inf, 2.5], [2.5, -np.inf]]), "constant (all values 2.5)"),
    (np.full((3, 3), 7, np.uint16), "constant (all values 7)"),
    (np.ones((3, 3), bool), "constant (all values 1)"),
    (np.eye(3, dtype=bool), ""),
    (np.array([[np.inf, 1.0], [2.0, np.nan]]), ""),
    (np.full((3, 3), -0.0), "constant (all values -0)"),
])
def test_what_a_blank_plane_is(plane, said):
    """Edge cases of the one decision (a guard: the base's ``blank_plane`` said the same
    for these)."""
    assert blank_plane(plane) == said


def test_the_widgets_blank_plane_is_the_cores_blank_reason():
    """The plane's luminance, then the core's decision (fails on the base: no
    ``blank_reason``); an empty plane holds nothing to decide, float or not (the base
    said "no finite pixel" of an empty float plane and "" of an empty integer one)."""
    rgb = np.zeros((5, 5, 3))
    rgb[..., 1] = np.nan
    assert blank_plane(rgb) == _validation.blank_reason(np.full((5, 5), np.nan))
    assert blank_plane(np.full((4, 4, 3), 2.0)) == "constant (all values 2)"
    for empty in (np.zeros((0, 4)), np.zeros((0, 4), np.uint8)):
        assert blank_plane(empty) == _validation.blank_reason(empty) == ""
    assert _validation.blank_reason(np.array([1 + 1j, 1 + 1j])) == ""  # (the core refuses)


def test_a_plane_is_blank_exactly_when_the_core_refuses_it_as_constant():
    """An int64 plane of 2**60 and 2**60 + 1 is one value as the core's float64 copy:
    the core refuses it as constant, so the widgets must skip it as a blank plane (fails
    on the base: its ``blank_plane`` compared the integers and said "", so a stack's run
    stopped on the core's refusal)."""
    big = np.full((4, 4), 2 ** 60, np.int64)
    big[0, 0] += 1
    rng = np.random.default_rng(0)
    for plane in (big, np.full((5, 5), 3.0, np.float32), rng.random((5, 5)),
                  np.full((6, 6), 200, np.uint8), np.arange(36).reshape(6, 6)):
        why = blank_plane(plane)
        try:
            as_float_image(plane)
            refused = ""
        except ValueError as err:
            refused = str(err)
        assert bool(why) == bool(refused), (plane.dtype, why, refused)
        if why:
            assert refused == f"image is {why}: no threshold can separate objects."


def test_one_helper_decides_for_every_caller(monkeypatch):
    """``as_float_image``, ``blank_plane`` and the lazy path's check ask
    ``constant_reason`` (fails on the base, which had no such helper: three decisions)."""
    assert _lazy.constant_reason is _validation.constant_reason
    monkeypatch.setattr(_validation, "constant_reason", lambda lo, hi: "constant (stub)")
    monkeypatch.setattr(_lazy, "constant_reason", _validation.constant_reason)
    plane = np.eye(4)
    assert blank_plane(plane) == "constant (stub)"
    assert str(_raised(lambda: as_float_image(plane))).startswith("image is constant (stub)")
    assert "constant (stub)" in str(_raised(lambda: _lazy._check_values(0.0, 1.0, 0)))
    assert as_float_image(plane, allow_constant=True) is not None


def test_the_lazy_path_says_a_constant_image_as_the_in_memory_one():
    """A guard (the words passed on the base): the same sentence from both paths."""
    said = str(_raised(lambda: as_float_image(np.full((4, 4), 3, np.uint8))))
    assert str(_raised(lambda: _lazy._check_values(np.uint8(3), np.uint8(3), 0))) == said
    assert said == "image is constant (all values 3): no threshold can separate objects."


# --- 4. the core's advice by topic on the command line


def test_the_command_line_has_words_for_every_topic_of_the_core():
    """The pairing of the three tables (fails on the base: no command-line table, and the
    stack's and the lattice's advice were no topics)."""
    from napari_tessella._widgets._errors import _VIEWER_ADVICE
    from napari_tessella.cli import _CLI_ADVICE

    assert set(_CLI_ADVICE) == set(_validation.ADVICE) == set(_VIEWER_ADVICE)
    for topic, said in _CLI_ADVICE.items():
        assert "np." not in said and "=" not in said and "image[0]" not in said, topic


def test_the_command_line_does_not_hang_on_the_cores_wording(monkeypatch):
    """The core's advice reworded: the command line still says its own (fails on the
    base, which rewrote the core's text: "give separation= instead" was found by a
    pattern, a reworded advice would have reached the shell as Python)."""
    from napari_tessella.atoms import estimate_separation
    from napari_tessella.cli import _in_cli_words

    monkeypatch.setitem(_validation.ADVICE, _validation.NO_LATTICE,
                        "pass separation=<pixels> to find_atoms.")
    err = _raised(lambda: estimate_separation(np.zeros((2, 40)) + np.eye(2, 40)))
    assert "pass separation=<pixels>" in str(err)
    assert _in_cli_words(err, "find_atoms") == ("no periodic lattice found in the image: "
                                                "give --separation instead.")


def test_the_command_line_says_no_python_for_non_finite_pixels(tmp_path, capsys):
    """A float TIFF with NaN pixels (fails on the base, whose command line said
    "replace them (e.g. with np.nan_to_num) before segmenting"). Since round 53 only the
    chunked path refuses them (in memory they are read as outside the image)."""
    tifffile = pytest.importorskip("tifffile")
    from napari_tessella.cli import main

    img = np.zeros((48, 48), np.float32)
    img[10:30, 10:30] = 1.0
    img[0, :4] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", img)
    assert main(["threshold-label", str(tmp_path / "nan.tif"), "--chunked", "--out",
                 str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "image contains 4 NaN or infinite pixel(s): give such pixels a value" in err
    assert "np." not in err


def test_a_length_is_named_by_its_option_from_the_errors_parts():
    """A :class:`LengthError` said with its option from its parts (fails on the base,
    whose ``_in_cli_words`` took the message's text and found "separation=" in it; the
    words are the base's)."""
    from napari_tessella.atoms import find_atoms
    from napari_tessella.cli import _in_cli_words

    err = _raised(lambda: find_atoms(np.random.default_rng(0).random((32, 32)),
                                     separation=100))
    said = _in_cli_words(err, "find_atoms")
    assert said.startswith("--separation 100 pixels") and "separation=" not in said
    low = _raised(lambda: find_atoms(np.random.default_rng(0).random((32, 32)),
                                     separation=1))
    assert _in_cli_words(low, "find_atoms").startswith("--separation must be >= 2 pixels")


def test_the_scripts_and_the_viewer_keep_their_words_for_the_new_topics():
    """Python callers keep the keyword advice; the viewer says the field (fails on the
    base: plain ValueErrors, no topic)."""
    from napari_tessella._widgets._base import in_viewer_words
    from napari_tessella.atoms import estimate_separation

    err = _raised(lambda: estimate_separation(np.zeros((2, 40)) + np.eye(2, 40)))
    assert err.topic == _validation.NO_LATTICE
    assert str(err) == "no periodic lattice found in the image; give separation= instead."
    assert in_viewer_words(err) == ("no periodic lattice found in the image: give a column "
                                    "spacing instead.")
    stack = _raised(lambda: as_float_image(np.zeros((3, 8, 8))))
    assert stack.topic == _validation.STACK and str(stack).endswith(
        "got shape (3, 8, 8); pass one plane of a stack, e.g. image[0].")


# --- 5. duplicates found in the package


def test_one_sentence_refuses_non_finite_pixels_everywhere():
    """In memory, lazily and in the chunked measurement: one helper's sentence (fails on
    the base, where each wrote its own and there was no ``non_finite_pixels``)."""
    da = pytest.importorskip("dask.array")
    from napari_tessella import measure

    assert _lazy.non_finite_pixels is measure.non_finite_pixels \
        is _validation.non_finite_pixels
    img = np.zeros((16, 16))
    img[3, 4:6] = np.nan
    labels = np.zeros((16, 16), np.int32)
    labels[5:9, 5:9] = 1
    memory = _raised(lambda: as_float_image(img))
    lazy = _raised(lambda: _lazy._check_values(0.0, 1.0, 2))
    chunked = _raised(lambda: measure.measure_objects_chunked(
        da.from_array(labels, chunks=8), da.from_array(img, chunks=8)))
    assert str(memory) == str(lazy) == ("image contains 2 NaN or infinite pixel(s); replace "
                                        "them (e.g. with np.nan_to_num) before segmenting.")
    assert chunked.what == memory.what and chunked.words == {"doing": "measuring"}


def test_the_measurements_refuse_two_shapes_in_the_same_words():
    """A guard (the base said the same in both): one helper now."""
    da = pytest.importorskip("dask.array")
    from napari_tessella.measure import measure_objects, measure_objects_chunked

    labels, img = np.zeros((8, 8), np.int32), np.zeros((8, 9))
    said = str(_raised(lambda: measure_objects(labels, img)))
    lazy = str(_raised(lambda: measure_objects_chunked(da.from_array(labels),
                                                       da.from_array(img))))
    assert said == lazy == ("labels and image must have the same (row, column) shape; got "
                            "(8, 8) and (8, 9).")
