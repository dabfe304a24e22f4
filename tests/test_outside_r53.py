"""Round 53: what lies outside an image (NaN or infinite pixels, a constant frame) is read
by one mechanism (``napari_tessella._outside``), in the core, for every entry point: the
command line and scripts as the widgets, the chunked path as the in-memory one.

Failing on the round's base: the command line and a script on a NaN-padded image, the
chunked path on a framed field, a saturated frame, the mechanism's box and the frame's
seeds, the widgets' copy gone. Guards (pass on both): a black frame gives the cropped
field's nuclei; the core functions still refuse NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_partition as _same_up_to_numbering

from napari_tessella.synthetic import synthetic_nuclei


@pytest.fixture(scope="module")
def field16():
    """A 16-bit field of 14 nuclei (that of tests/test_user2_r52.py)."""
    field = synthetic_nuclei((200, 240), n_nuclei=14, diameter=28.0, seed=5).image
    return (field.clip(0) / field.max() * 3000 + 200).astype(np.uint16)


def _framed(field, value, top=20, left=20, bottom=20, right=20):
    rows, cols = field.shape
    framed = np.full((rows + top + bottom, cols + left + right), value, field.dtype)
    framed[top:top + rows, left:left + cols] = field
    return framed, (slice(top, top + rows), slice(left, left + cols))


def _nan_padded():
    """Discs on a noisy background, with 20 NaN columns on the left and a NaN hole."""
    rng = np.random.default_rng(0)
    img = rng.normal(10, 1, (120, 160)).astype(np.float32)
    yy, xx = np.ogrid[:120, :160]
    for r, c in ((30, 40), (60, 80), (90, 120), (40, 110)):
        img[(yy - r) ** 2 + (xx - c) ** 2 < 100] += 50
    img[:, :20] = np.nan
    img[100:110, 40:50] = np.nan
    return img


# --- 1. a frame through the one mechanism


def test_a_black_frame_gives_the_cropped_fields_nuclei(field16):
    """A guard (passes on the base): the frame is outside, the nuclei those of the field
    alone, seeds shifted, nothing on the frame."""
    from napari_tessella import seeded_watershed

    framed, box = _framed(field16, 0, 20, 30, 10, 25)
    alone, result = seeded_watershed(field16), seeded_watershed(framed)
    np.testing.assert_array_equal(result.labels[box], alone.labels)
    np.testing.assert_array_equal(result.territories[box], alone.territories)
    assert result.labels.sum() == alone.labels.sum()
    assert result.territories.sum() == alone.territories.sum()
    np.testing.assert_allclose(result.seeds, np.asarray(alone.seeds) + np.array([20, 30]))


@pytest.mark.parametrize("value", [3200, 65535])
def test_a_saturated_frame_gives_the_cropped_fields_nuclei(field16, value):
    """A constant frame at the image's maximum (a saturated padding; 3200: the field's
    own brightest value) is outside as a black one is (fails on the base: the frame was
    foreground, 5,600 pixels of objects, and 24 or 4 nuclei came out for 13)."""
    from napari_tessella import seeded_watershed

    framed, box = _framed(field16, value)
    alone, result = seeded_watershed(field16), seeded_watershed(framed)
    np.testing.assert_array_equal(result.labels[box], alone.labels)
    assert not result.labels[:20].any() and not result.territories[:, -20:].any()


def test_the_frame_is_found_by_the_packages_box_and_cropped_by_the_mechanism(
        monkeypatch, field16):
    """``nuclei.watershed`` asks ``_outside.frame_part`` (whose box is ``_mask_box``'s)
    and has no hand-written copy left (fails on the base: ``_inside_frame`` and
    ``_framed``)."""
    from napari_tessella import _outside, seeded_watershed
    from napari_tessella._label_image import _mask_box
    from napari_tessella.nuclei import watershed

    assert not hasattr(watershed, "_inside_frame") and not hasattr(watershed, "_framed")
    boxes = []

    def spy(mask, *args, **kwargs):
        boxes.append(_mask_box(mask, *args, **kwargs))
        return boxes[-1]

    monkeypatch.setattr(_outside, "_mask_box", spy)
    framed, box = _framed(field16, 0)
    seeded_watershed(framed, object_diameter=28.0)
    assert boxes[0] == box


def test_seeds_on_the_frame_are_left_out_and_the_others_shifted(field16):
    """Points on the frame are left out as the NaN path leaves them (fails on the base,
    which returned them with the others)."""
    from napari_tessella import seeded_watershed

    framed, box = _framed(field16, 0)
    alone = seeded_watershed(field16)
    points = np.vstack([np.asarray(alone.seeds) + 20, [[5.0, 5.0], [100.0, 270.0]]])
    result = seeded_watershed(framed, seeds=points)
    expected = seeded_watershed(field16, seeds=np.asarray(alone.seeds))
    np.testing.assert_array_equal(result.labels[box], expected.labels)
    np.testing.assert_allclose(result.seeds, points[:-2])


@pytest.mark.parametrize(("value", "flat_inside"), [(0, 0), (0, 9), (0, 40), (7, 0),
                                                    (65535, 5)])
def test_the_lazy_frame_is_the_in_memory_frame(value, flat_inside):
    """The chunked path's frame (counts per row and column, one pass) is the in-memory
    one (``_mask_box`` of the pixels off the frame's value), also with some of the
    frame's value inside the box (under and over 1 %)."""
    import dask.array as da

    from napari_tessella._outside import frame_part, frame_part_lazy

    rng = np.random.default_rng(value + flat_inside)
    img = rng.integers(10, 60000, (60, 70)).astype(np.uint16)
    img[:6], img[:, -3:] = value, value
    if value not in (0, 65535):
        img[img < value] = value + 1  # (the frame's value is the image's minimum)
    inside = img[6:, :-3]
    inside[np.unravel_index(rng.choice(inside.size, flat_inside, replace=False),
                            inside.shape)] = value
    part = frame_part(img, img.astype(np.float64))
    lazy = frame_part_lazy(da.from_array(img, chunks=(17, 23)))
    assert (part is None) == (lazy is None) == (flat_inside > 0.01 * inside.size)
    if part is not None:
        assert part.box == lazy.box == (slice(6, 60), slice(0, 67))
        np.testing.assert_array_equal(part.image, lazy.image.compute())


# --- 3. the chunked path on a framed field


@pytest.mark.parametrize("value", [0, 65535])
def test_the_chunked_path_agrees_with_memory_on_a_framed_field(field16, value):
    """Chunk by chunk, a framed field gives the in-memory nuclei and territories (fails
    on the base, whose chunked path segmented the frame with the field)."""
    import dask.array as da

    from napari_tessella import seeded_watershed

    framed, _ = _framed(field16, value, 20, 30, 10, 25)
    memory = seeded_watershed(framed)
    for chunks in (96, 128):
        lazy = seeded_watershed(da.from_array(framed, chunks=chunks))
        labels, territories = lazy.labels.compute(), lazy.territories.compute()
        assert _same_up_to_numbering(labels, memory.labels), chunks
        assert _same_up_to_numbering(territories, memory.territories), chunks
        assert not labels[:20].any() and not territories[:, :30].any()


# --- 2. NaN reading in the core: scripts and the command line


def test_a_script_segments_a_nan_padded_image_and_is_told_how_many_pixels():
    """``threshold_label_finite`` from a script (fails on the base: no such function; the
    core refused the image): no object on a NaN pixel, the method of the finite pixels,
    one sentence saying how many pixels were read as outside."""
    from napari_tessella import threshold_label, threshold_label_finite

    img = _nan_padded()
    labels, said, measured = threshold_label_finite(img, "otsu", min_size=20)
    assert labels.max() == 4 and not labels[np.isnan(img)].any()
    assert said.startswith("2500 pixels (13 % of the image) are NaN or infinite: read as "
                           "outside the image")
    assert np.isfinite(measured).all()
    crop = img[:, 20:].copy()
    crop[100:110, 20:30] = np.nanpercentile(crop, 1)
    np.testing.assert_array_equal(labels[:, 20:] > 0,
                                  threshold_label(crop, "otsu", min_size=20) > 0)
    with pytest.raises(ValueError, match="NaN or infinite"):  # the core itself: as before
        threshold_label(img, "otsu")


def test_a_script_finds_atoms_and_nuclei_on_a_nan_padded_image():
    """``find_atoms_finite`` and ``seeded_watershed_finite``, public (fails on the base:
    not in the package's namespace)."""
    import napari_tessella as nt

    img = _nan_padded()
    result, said, _ = nt.seeded_watershed_finite(img, object_diameter=20)
    assert result.labels.max() == 4 and said
    atoms, said, _ = nt.find_atoms_finite(img, separation=30)
    pixel = np.round(atoms.positions).astype(int)
    assert len(atoms.positions) and said
    assert np.isfinite(img[pixel[:, 0], pixel[:, 1]]).all()


@pytest.mark.parametrize("command", ["threshold-label", "watershed", "lattice", "atoms"])
def test_the_command_line_segments_a_nan_padded_image(tmp_path, capsys, command):
    """``tessella threshold-label`` (and the others) on a NaN-padded image: done, with the
    sentence (fails on the base: 'image contains 2500 NaN or infinite pixel(s)', exit 1)."""
    import tifffile

    from napari_tessella.cli import main

    path = tmp_path / "mosaic.tif"
    tifffile.imwrite(path, _nan_padded())
    extra = {"threshold-label": ["--threshold", "otsu", "--min-size", "20"],
             "lattice": ["--threshold", "otsu"],
             "watershed": [], "atoms": ["--separation", "30"]}[command]
    code = main([command, str(path), *extra, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert ("tessella: note: " in err and "2500 pixels (13 % of the image) are NaN or "
            "infinite: read as outside the image (no object there)" in err)
    if command in ("threshold-label", "watershed"):
        labels = tifffile.imread(tmp_path / "out" / "mosaic_labels.tif")
        assert labels.max() == 4 and not labels[:, :20].any()


def test_the_widgets_read_nan_through_the_core():
    """The widgets' own copy of the reading is gone (fails on the base:
    ``_widgets._outside``): they call ``_finite``."""
    import importlib.util

    from napari_tessella._widgets import atoms, threshold_label

    assert importlib.util.find_spec("napari_tessella._widgets._outside") is None
    assert threshold_label.threshold_label_finite.__module__ == "napari_tessella._finite"
    assert "find_atoms_finite" in vars(atoms)
