"""Round 55: what lies outside an image when it does not run the length of an edge (a
rotation's constant corner triangles, a mosaic's missing tile), NaN pixels beside a
frame, and the chunked Threshold & label's frame.

Failing on the round's base: sections 1-3 (a fill in the corners was segmented with the
field; Threshold & label and Find atoms read the NaN pixels only, not a frame beside
them; chunk by chunk Threshold & label read no frame; the chunked watershed said nothing
of a fill it segments with the field) and the property test. Guards (pass on both): a
saturated nucleus cut by a corner, a noisy background clipped at 0, a noiseless flat
background around one small nucleus. (Since round 56 the chunked paths read a fill as
memory does: section 3's test of the sentence that said it was not read asks for that.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _benchmarks import same_partition
from _shapes import noisy_field
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella import (
    find_atoms_finite,
    seeded_watershed,
    seeded_watershed_finite,
    threshold_label_finite,
)
from napari_tessella.synthetic import synthetic_lattice, synthetic_nuclei

TL = {"smooth_sigma": 2.0, "min_size": 30}


@pytest.fixture(scope="module")
def field():
    """A float field of 14 nuclei, 200-3200 with noise of 5 (no value recurs exactly)."""
    return noisy_field()


@pytest.fixture(scope="module")
def lattice():
    return synthetic_lattice((120, 140), spacing=9.0, seed=2).image


def _rotated(image, angle, fill):
    return ndi.rotate(image, angle, reshape=True, cval=fill, order=1)


def _same_points(p, q):
    p, q = np.asarray(p), np.asarray(q)
    return p.shape == q.shape and np.allclose(np.sort(p, axis=0), np.sort(q, axis=0))


# --- 1. fills in the corners: read as the NaN pixels of the same place are


@pytest.mark.parametrize("fill", [0.0, 1500.0, 65535.0])
def test_a_rotations_corners_are_outside(field, fill):
    """A field rotated 17 degrees (reshape) with a fill below, inside and above its range:
    the watershed's and Threshold & label's objects are those of the same rotation with
    NaN corners (the image's own pixels); nothing on the corners."""
    nan = _rotated(field, 17, np.nan)
    image = _rotated(field, 17, fill)
    kept = image.copy()
    ws, tl = seeded_watershed(image), threshold_label_finite(image, **TL)
    np.testing.assert_array_equal(image, kept)  # (the input is left as it was)
    assert same_partition(ws.labels, seeded_watershed_finite(nan).result.labels)
    assert same_partition(tl.labels, threshold_label_finite(nan, **TL).labels)
    assert not ws.labels[np.isnan(nan)].any() and not ws.territories[np.isnan(nan)].any()
    assert "constant fill of" in tl.said and "corners" in tl.said


@pytest.mark.parametrize("fill", [0.0, 0.4, 5.0])
def test_find_atoms_reads_a_rotations_corners(lattice, fill):
    """Find atoms on a rotated lattice: the columns of its NaN-cornered rotation."""
    found = find_atoms_finite(_rotated(lattice, 30, fill), separation=9.0).result
    ref = find_atoms_finite(_rotated(lattice, 30, np.nan), separation=9.0).result
    assert _same_points(found.positions, ref.positions)


@pytest.mark.parametrize("corner", [(slice(None, 90), slice(None, 110)),
                                    (slice(110, None), slice(130, None))])
def test_a_mosaics_missing_tile_is_outside(field, corner):
    """A constant rectangle in a corner (a missing tile): as NaN there."""
    image, nan = field.copy(), field.copy()
    image[corner], nan[corner] = 0.0, np.nan
    assert same_partition(seeded_watershed(image).labels,
                          seeded_watershed_finite(nan).result.labels)
    assert same_partition(threshold_label_finite(image, **TL).labels,
                          threshold_label_finite(nan, **TL).labels)


def test_exclude_border_drops_the_nuclei_a_fill_cuts(field):
    """With ``exclude_border`` a nucleus touching a corner's fill is cut by the data's
    edge, as one touching NaN there is."""
    image, nan = _rotated(field, 17, 0.0), _rotated(field, 17, np.nan)
    got = seeded_watershed(image, exclude_border=True)
    ref = seeded_watershed_finite(nan, exclude_border=True).result
    assert same_partition(got.labels, ref.labels)
    assert got.labels.max() < seeded_watershed(image).labels.max()


# --- 2. NaN pixels and a frame together


def _nan_and_frame(image, value=0.0):
    out = np.full((image.shape[0] + 30, image.shape[1] + 40), value)
    out[:, :15] = np.nan
    box = (slice(20, 20 + image.shape[0]), slice(15, 15 + image.shape[1]))
    out[box] = image
    return out, box


def test_threshold_label_reads_nan_and_a_frame(field):
    """A NaN band on the left and a frame of 0 on the other sides: the field alone's
    objects (the base read the NaN only and segmented the frame with the field)."""
    image, box = _nan_and_frame(field)
    got = threshold_label_finite(image, **TL)
    assert same_partition(got.labels[box], threshold_label_finite(field, **TL).labels)
    assert "NaN or infinite or a constant frame of 0" in got.said
    ws = seeded_watershed_finite(image).result.labels
    assert same_partition(ws[box], seeded_watershed(field).labels)


def test_find_atoms_reads_nan_and_a_frame(lattice):
    image, box = _nan_and_frame(lattice, 0.4)
    found = find_atoms_finite(image, separation=9.0).result.positions
    alone = find_atoms_finite(lattice, separation=9.0).result.positions
    assert _same_points(found - [box[0].start, box[1].start], alone)


# --- 3. chunk by chunk


@pytest.mark.parametrize("sides", [(1500,) * 4, (0, 65535, 0, 65535), (1000, 1000, 0, 0)])
def test_chunked_threshold_label_reads_a_frame(field, sides):
    """Chunk by chunk as in memory (64, 96 and 128), the frame's sentence said (the base
    segmented the frame with the field chunk by chunk)."""
    import dask.array as da

    image = np.zeros((260, 300))
    image[:20], image[-40:], image[:, :30], image[:, -30:] = sides
    image[20:220, 30:270] = field
    memory = threshold_label_finite(image, **TL)
    for chunks in (64, 96, 128):
        lazy = threshold_label_finite(da.from_array(image, chunks=chunks), **TL)
        assert same_partition(lazy.labels.compute(), memory.labels), chunks
        assert lazy.said == memory.said


def test_the_chunked_paths_read_a_fill(field):
    """A rotation's fill chunk by chunk: read as in memory since round 56 (no warning;
    Threshold & label's sentence memory's); a field whose corners are its own clipped
    background: nothing said."""
    import dask.array as da

    image = da.from_array(_rotated(field, 17, 0.0), chunks=96)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seeded_watershed(image)
    said = threshold_label_finite(image, **TL).said
    assert said == threshold_label_finite(_rotated(field, 17, 0.0), **TL).said
    assert "constant fill of 0" in said
    clipped = np.round(field).clip(260, None)  # (every corner at exactly 260)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert threshold_label_finite(da.from_array(clipped, chunks=96), **TL).said == ""


# --- 4. what is no fill


def test_a_saturated_nucleus_in_a_corner_is_no_fill(field):
    """A nucleus clipped at the maximum, cut by a corner (a round region at one value), and
    a noisy background clipped at 0 (its zeros recur everywhere) are no fill."""
    from napari_tessella._outside import frame_part

    sat = field.copy()
    yy, xx = np.ogrid[:200, :240]
    sat[np.hypot(yy, xx) < 30] = 4095.0
    assert frame_part(sat, sat) is None
    assert seeded_watershed(sat).labels[:10, :10].all()  # (the nucleus is kept)
    clipped = np.clip(field - 215.0, 0, None).round()  # (half the background at 0)
    clipped[:12, :12] = 0.0
    assert frame_part(clipped, clipped) is None


def test_a_flat_background_around_one_small_nucleus_is_no_fill():
    """A noiseless field of one small nucleus: its flat background, reached from every
    edge, is no fill (the pixels off it span a nucleus, not the image)."""
    from napari_tessella._outside import frame_part

    for diameter in (6.0, 12.0):
        image = synthetic_nuclei((120, 140), n_nuclei=1, diameter=diameter, noise=0.0,
                                 seed=1).image
        assert frame_part(image, image.astype(np.float64)) is None


# --- 5. the property: any fill on any side or corner, the field's own pixels


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # (shrinking: minutes)
@given(angle=st.sampled_from([0, 9, 25, 50]),
       values=st.lists(st.sampled_from([-7.5, 0.0, 150.0, 1500.0, 2222.5, 4000.0, 65535.0]),
                       min_size=5, max_size=5),
       widths=st.lists(st.integers(0, 25), min_size=4, max_size=4),
       tile=st.tuples(st.integers(0, 3), st.integers(8, 70), st.integers(8, 70)))
def test_any_fill_gives_the_images_own_objects(field, angle, values, widths, tile):
    """A field rotated with any fill (or a mosaic missing a tile of any value in a random
    corner), then padded in bands of any values on random sides (pasted over one
    another): the watershed's and Threshold & label's objects are those of the same image
    with NaN on every fill, read as outside (the image's own pixels; the field alone's
    where no fill covers it). Where that holds: the fill's value is none of the bands'
    (a band of the rotation's own fill value joins its triangles, and the rows and
    columns of runs are then no longer straight pieces)."""
    assume(values[0] not in values[1:])
    if angle:
        image, nan = _rotated(field, angle, values[0]), _rotated(field, angle, np.nan)
    else:  # a mosaic's missing tile, in one corner
        image, nan = field.copy(), field.copy()
        corner, rows, cols = tile
        r = slice(None, rows) if corner < 2 else slice(image.shape[0] - rows, None)
        c = slice(None, cols) if corner % 2 == 0 else slice(image.shape[1] - cols, None)
        image[r, c], nan[r, c] = values[0], np.nan
    top, bottom, left, right = widths
    pads = ((top, bottom), (left, right))
    image = np.pad(image, pads, constant_values=values[1])
    nan = np.pad(nan, pads, constant_values=np.nan)
    image[:top], image[:, :left] = values[2], values[3]  # (pasted over one another)
    image[image.shape[0] - bottom:] = values[4]
    kept = image.copy()
    got = seeded_watershed_finite(image).result.labels
    assert same_partition(got, seeded_watershed_finite(nan).result.labels)
    assert same_partition(threshold_label_finite(image, **TL).labels,
                          threshold_label_finite(nan, **TL).labels)
    np.testing.assert_array_equal(image, kept)
