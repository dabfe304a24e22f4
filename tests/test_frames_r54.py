"""Round 54: a frame of any constant value (a mosaic's mid-grey padding, a registration's
fill, 0 amid a background-subtracted image's negative noise), or of a few values pasted
one over another, is outside the image, for the Seeded watershed (in memory and chunk by
chunk), Threshold & label, Find atoms and the command line alike; the chunked path finds
it in the edge lines its first pass reads, with no read of its own.

Failing on the round's base: every test of sections 1-3 (a frame between the image's
extremes or of two values was segmented with the field; Threshold & label and Find atoms
read no frame at all) and the property test; in section 4 the flat rectangle (the base
cropped to it, a constant image) and the lazy look-up with the first pass's lines (no
such argument). Guards (pass on both): truly flat backgrounds are not frames.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_partition as _same_up_to_numbering
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei


@pytest.fixture(scope="module")
def field16():
    """A 16-bit field of 14 nuclei (that of tests/test_outside_r53.py): 200 to 3200, 37 %
    of it at exactly 200 (its clipped background)."""
    field = synthetic_nuclei((200, 240), n_nuclei=14, diameter=28.0, seed=5).image
    return (field.clip(0) / field.max() * 3000 + 200).astype(np.uint16)


@pytest.fixture(scope="module")
def alone(field16):
    from napari_tessella import seeded_watershed

    return seeded_watershed(field16)


def _framed(field, sides, widths=(20, 30, 10, 25)):
    """``field`` in bands of the values ``sides`` (top, bottom, left, right; pasted in
    that order, so the left and right bands run the full height) of ``widths``."""
    top, left, bottom, right = widths
    rows, cols = field.shape
    out = np.zeros((rows + top + bottom, cols + left + right), field.dtype)
    out[:top], out[out.shape[0] - bottom:] = sides[0], sides[1]
    out[:, :left], out[:, out.shape[1] - right:] = sides[2], sides[3]
    box = (slice(top, top + rows), slice(left, left + cols))
    out[box] = field
    return out, box


def _offset(box) -> np.ndarray:
    return np.array([box[0].start, box[1].start], dtype=np.float64)


def _only_in_box(whole, box, expected):
    np.testing.assert_array_equal(whole[box], expected)
    rest = np.asarray(whole).copy()
    rest[box] = 0
    assert not rest.any()


MID = (1500, 1500, 1500, 1500)  # a mosaic's mid-grey padding (the field: 200-3200)
TWO = (0, 65535, 0, 65535)  # black on two sides, saturated on the others
PASTES = (1000, 1000, 0, 0)  # grey bands over black ones
FRAMES = {"mid": MID, "two": TWO, "pastes": PASTES, "four": (7, 4000, 2500, 900)}


# --- 1. the Seeded watershed, in memory and chunk by chunk


@pytest.mark.parametrize("kind", list(FRAMES))
def test_a_frame_of_any_values_gives_the_fields_nuclei(field16, alone, kind):
    """A mid-grey frame, black and saturated sides, grey pasted over black, four values:
    the field's nuclei, territories and seeds, shifted, nothing on the frame (the base
    segmented the frame with the field: objects on and along it)."""
    from napari_tessella import seeded_watershed

    framed, box = _framed(field16, FRAMES[kind])
    result = seeded_watershed(framed)
    _only_in_box(result.labels, box, alone.labels)
    _only_in_box(result.territories, box, alone.territories)
    np.testing.assert_allclose(result.seeds, alone.seeds + _offset(box))


def test_a_fill_of_0_amid_negative_noise_is_outside(field16, alone):
    """A background-subtracted float field (noise on both sides of 0) in a band of exact
    0.0 on two sides: 0 lies between its extremes."""
    from napari_tessella import seeded_watershed

    rng = np.random.default_rng(3)
    field = field16.astype(np.float64) - 260.0 + rng.normal(0, 0.5, field16.shape)
    assert field.min() < 0 < field.max()
    framed, box = _framed(field, (0.0, 0.0, 0.0, 0.0), (0, 40, 15, 0))
    expected = seeded_watershed(field)
    result = seeded_watershed(framed)
    _only_in_box(result.labels, box, expected.labels)


@pytest.mark.parametrize("kind", ["mid", "two", "pastes"])
def test_chunked_agrees_with_memory_on_mid_and_two_value_frames(field16, alone, kind):
    """Chunk by chunk at three chunk sizes, as in memory: the field's nuclei (0 objects
    differ), nothing on the frame."""
    import dask.array as da

    from napari_tessella import seeded_watershed

    framed, box = _framed(field16, FRAMES[kind])
    for chunks in (96, 128, 160):
        lazy = seeded_watershed(da.from_array(framed, chunks=chunks))
        labels, territories = lazy.labels.compute(), lazy.territories.compute()
        assert _same_up_to_numbering(labels[box], alone.labels), chunks
        assert _same_up_to_numbering(territories[box], alone.territories), chunks
        labels[box] = territories[box] = 0
        assert not labels.any() and not territories.any(), chunks


def test_the_chunked_frame_comes_from_the_first_pass(monkeypatch, field16):
    """The lazy frame is looked for in the edge lines the first pass computed: with none of
    them constant, no read is made for it (round 53 read the edge chunks once more)."""
    import dask.array as da

    from napari_tessella import _outside

    computed = []

    def spy(*args, **kwargs):
        computed.append(len(args))
        return real(*args, **kwargs)

    real = _outside._compute
    monkeypatch.setattr(_outside, "_compute", spy)
    lazy = da.from_array(field16, chunks=64)
    lines = tuple(np.asarray(line) for line in _outside._lines(field16))
    assert _outside.frame_part_lazy(lazy, None, lines) is None and not computed
    framed, box = _framed(field16, MID)
    lines = tuple(np.asarray(line) for line in _outside._lines(framed))
    assert _outside.frame_part_lazy(da.from_array(framed, chunks=64), None, lines).box == box


# --- 2. Threshold & label, Find atoms and the command line read it too


@pytest.mark.parametrize("kind", ["mid", "two"])
def test_threshold_label_reads_the_frame(field16, kind):
    """``threshold_label_finite`` (the widget's and the command line's call): the field's
    objects, with a method's threshold of the field alone, and the sentence."""
    from napari_tessella import threshold_label, threshold_label_finite
    from napari_tessella._finite import smoothed_threshold_finite
    from napari_tessella.threshold import smoothed_threshold

    framed, box = _framed(field16, FRAMES[kind])
    params = {"smooth_sigma": 2.0, "min_size": 30}
    labels, said, _ = threshold_label_finite(framed, "otsu", **params)
    _only_in_box(labels, box, threshold_label(field16, "otsu", **params))
    assert "constant frame of" in said and "read as outside the image" in said
    assert smoothed_threshold_finite(framed, "otsu", smooth_sigma=2.0) == pytest.approx(
        smoothed_threshold(field16, "otsu", smooth_sigma=2.0))


@pytest.mark.parametrize("value", [0.0, 0.4, 5.0])
def test_find_atoms_reads_the_frame(value):
    """``find_atoms_finite``: the columns of the lattice alone, shifted, none on the frame
    (0.4: a fill between the lattice's extremes; 0 and 5: below and above)."""
    from napari_tessella import find_atoms, find_atoms_finite

    lattice = synthetic_lattice((120, 140), spacing=9.0, seed=2).image
    framed, box = _framed(lattice, (value,) * 4, (12, 9, 15, 7))
    found, said, _ = find_atoms_finite(framed, separation=9.0)
    alone = find_atoms(lattice, separation=9.0)
    np.testing.assert_allclose(found.positions, alone.positions + _offset(box), atol=1e-9)
    assert "constant frame of" in said


@pytest.mark.parametrize("command", ["threshold-label", "watershed"])
def test_the_command_line_reads_a_mid_grey_frame(tmp_path, capsys, field16, alone, command):
    """``tessella watershed`` / ``threshold-label`` on a mosaic padded with mid-grey: the
    field's objects, nothing on the frame, and the note."""
    import tifffile

    from napari_tessella import threshold_label
    from napari_tessella.cli import main

    framed, box = _framed(field16, MID)
    path = tmp_path / "mosaic.tif"
    tifffile.imwrite(path, framed)
    extra = ["--threshold", "otsu", "--min-size", "30"] if command == "threshold-label" else []
    code = main([command, str(path), *extra, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "are a constant frame of 1500 around the field: read as outside the image" in err
    labels = tifffile.imread(tmp_path / "out" / "mosaic_labels.tif")
    expected = (alone.labels if command == "watershed"
                else threshold_label(field16, "otsu", min_size=30))
    assert _same_up_to_numbering(labels[box], expected)
    labels[box] = 0
    assert not labels.any()


# --- 3. the property: any widths, any values


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths=st.tuples(*[st.integers(0, 30)] * 4),
       values=st.lists(st.sampled_from([0, 1, 201, 350, 1234, 2999, 3200, 3201, 65535])
                       | st.integers(201, 65535), min_size=4, max_size=4))
def test_any_frame_gives_the_field_alone_shifted(field16, alone, widths, values):
    """Bands of random widths (0 to 30 on each side) and random constant values (below,
    inside and above the field's range; each side its own), on the 16-bit nuclei field:
    the field alone's labels and seeds, shifted. (200, the field's own clipped
    background, runs on inside: no frame value.)"""
    from napari_tessella import seeded_watershed

    framed, box = _framed(field16, values, widths)
    result = seeded_watershed(framed)
    _only_in_box(result.labels, box, alone.labels)
    np.testing.assert_allclose(result.seeds, alone.seeds + _offset(box))


# --- 4. what is no frame


def test_a_flat_background_that_runs_on_inside_is_no_frame(field16):
    """Guards (pass on both): a synthetic field's exact 0, a clipped 8-bit background, a
    saturated object touching the edge, a mid-grey background between dark and bright
    objects: no frame."""
    from napari_tessella._outside import frame_part

    nuclei = synthetic_nuclei((150, 160), n_nuclei=10, diameter=24.0, noise=0.0, seed=1)
    clean = np.round(nuclei.image.clip(0) / nuclei.image.max() * 200).astype(np.uint8)
    clipped = (field16.astype(int) // 12 - 30).clip(0).astype(np.uint8)  # background 0
    bright = field16.copy()  # a large object clipped at 3200, cut by two edges
    yy, xx = np.ogrid[:200, :240]
    bright[(yy + 10) ** 2 + (xx - 40) ** 2 < 70**2] = 3200
    bright[:, 0] = bright[-1] = 200  # (and two edges at the clipped background)
    three = np.full((80, 90), 100, np.uint8)
    three[10:30, 10:30], three[40:70, 50:80] = 0, 255
    for img in (clean, clipped, bright, three):
        assert img[-1].min() == img[-1].max() or img[:, 0].min() == img[:, 0].max()
        assert frame_part(img, img.astype(np.float64)) is None


def test_a_flat_rectangle_and_a_ramp_are_no_frame():
    """One flat rectangle on a flat background has nothing inside (the base cropped to it
    and handed the core a constant image), and a noiseless ramp of more than four rows'
    values is no frame of four pastes."""
    from napari_tessella._outside import FRAME_VALUES, frame_part

    rect = np.zeros((40, 50))
    rect[10:30, 12:40] = 1.0
    ramp = np.repeat(np.arange(40.0)[:, None], 50, axis=1)
    ramp[15:25, 10:40] += np.random.default_rng(0).normal(0, 3, (10, 30))
    assert FRAME_VALUES == 4
    assert frame_part(rect, rect) is None and frame_part(ramp, ramp) is None


def test_the_sentence_names_every_value(field16):
    """The sentence says the frame's values."""
    from napari_tessella._finite import frame_of

    framed, box = _framed(field16, TWO)
    part = frame_of(framed)
    assert part.box == box and part.values == (0.0, 65535.0)
    assert "a constant frame of 0 and 65535 around the field" in part.message()
