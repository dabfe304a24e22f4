"""Round 56: a fill inside four bands (a fifth constant value that is too common to be a
frame's), and fills read chunk by chunk.

Failing on the round's base: section 1's four-band cases with a band narrower than
``FILL_RUN`` (a rotation's fill inside four bands of four other values: the peeling met
a fifth value and read a ramp, no frame was found, the bands were read as fills but the
corners' triangles were not, and they became objects); its one-to-three-band cases and
the ramp guard pass on both.
"""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import same_partition
from _shapes import filled_fields, noisy_field
from scipy import ndimage as ndi

from napari_tessella import seeded_watershed_finite, threshold_label_finite

TL = {"smooth_sigma": 2.0, "min_size": 30}


@pytest.fixture(scope="module")
def field():
    """A float field of 14 nuclei, 200-3200 with noise of 5 (round 55's)."""
    return noisy_field()


def _banded(field, angle, fill, bands, widths):
    """``field`` rotated by ``angle`` with ``fill`` (and with NaN there), then bands of
    the values ``bands`` (right, top, left, bottom: None leaves a side bare) ``widths``
    wide (top, bottom, left, right), pasted one over another as round 55's property."""
    image = ndi.rotate(field, angle, reshape=True, cval=fill, order=1)
    nan = ndi.rotate(field, angle, reshape=True, cval=np.nan, order=1)
    right, top, left, bottom = bands
    wt, wb, wl, wr = (w if b is not None else 0
                      for w, b in zip(widths, (top, bottom, left, right), strict=True))
    pads = ((wt, wb), (wl, wr))
    image = np.pad(image, pads, constant_values=np.nan)
    nan = np.pad(nan, pads, constant_values=np.nan)
    if right is not None:
        image[:, image.shape[1] - wr:] = right
    if top is not None:
        image[:wt] = top
    if left is not None:
        image[:, :wl] = left
    if bottom is not None:
        image[image.shape[0] - wb:] = bottom
    assert np.isfinite(image).all()
    return image, nan


def _same_objects(image, nan):
    got = seeded_watershed_finite(image).result.labels
    assert same_partition(got, seeded_watershed_finite(nan).result.labels)
    assert same_partition(threshold_label_finite(image, **TL).labels,
                          threshold_label_finite(nan, **TL).labels)


# --- 1. a fill inside four bands: its value is a fifth, too common to be a frame's


def test_a_rotations_fill_inside_four_bands_of_other_values(field):
    """The case round 55's property test met under another seed: a field rotated 9° with
    a fill of 1500, bands of -7.5, 150, 2222.5 and 4000 on its four sides: the objects of
    the same image with NaN on the fill and the bands (the base: 18 nuclei against 13)."""
    image, nan = _banded(field, 9, 1500.0, (-7.5, 150.0, 2222.5, 4000.0), (10, 20, 3, 14))
    kept = image.copy()
    assert seeded_watershed_finite(nan).result.labels.max() == 13
    _same_objects(image, nan)
    np.testing.assert_array_equal(image, kept)
    said = threshold_label_finite(image, **TL).said
    assert "a constant fill of" in said and "1500" in said and "in its corners" in said


@pytest.mark.parametrize("bands", [
    (None, None, 2222.5, None),
    (4000.0, None, None, -7.5),
    (150.0, 0.0, 65535.0, None),
    (0.0, 150.0, 4000.0, 65535.0),
    (2222.5, 65535.0, -7.5, 0.0),
])
@pytest.mark.parametrize("angle", [9, 25])
@pytest.mark.parametrize("widths", [(6, 11, 4, 9), (10, 20, 3, 14)])
def test_a_rotations_fill_inside_one_to_four_bands(field, bands, angle, widths):
    """A fill of 1500 inside one, two, three and four bands: the image's own objects."""
    _same_objects(*_banded(field, angle, 1500.0, bands, widths))


def test_a_ramp_is_still_no_frame():
    """A noiseless ramp's rows are each their own value: past the fourth value, one that
    is not too common still says a ramp, not a frame of four rows (round 54's guard; a
    mend that refused every fifth value would peel its first four rows)."""
    from napari_tessella._outside import frame_part

    for rows in (40, 9):
        ramp = np.repeat(np.arange(float(rows))[:, None], 50, axis=1)
        ramp[3:rows - 3, 10:40] += np.random.default_rng(0).normal(0, 3, (rows - 6, 30))
        assert frame_part(ramp, ramp) is None


# --- 2. fills read chunk by chunk, as in memory


def _filled_cases(field):
    return {**filled_fields(field),
            "four bands and a fill": _banded(field, 9, 1500.0, (-7.5, 150.0, 2222.5, 4000.0),
                                             (10, 20, 3, 14))[0]}


@pytest.mark.parametrize("case", ["rotated 17, fill 0", "rotated 40, fill 1500",
                                  "uint16 rotated 17, fill 65535", "missing tile",
                                  "four bands and a fill"])
def test_chunked_threshold_label_reads_a_fill(field, case):
    """Chunk by chunk (64, 96, 128 and 64 × 160) as in memory, the same sentence (the base
    segmented the fill with the field chunk by chunk and said so)."""
    import dask.array as da

    image = _filled_cases(field)[case]
    memory = threshold_label_finite(image, **TL)
    assert "constant fill of" in memory.said
    for chunks in (64, 96, 128, (64, 160)):
        lazy = threshold_label_finite(da.from_array(image, chunks=chunks), **TL)
        assert same_partition(lazy.labels.compute(), memory.labels), chunks
        assert lazy.said == memory.said


@pytest.mark.parametrize("params", [{"exclude_border": True}, {"dark_objects": True},
                                    {"threshold": "li"}, {"threshold": 100.0},
                                    {"threshold": "mean", "opening": 3}])
def test_chunked_fill_with_the_other_parameters(field, params):
    """``exclude_border`` (the objects touching the fill dropped), dark objects (the fill
    given the 99th percentile), another method, a number under the fill's level."""
    import dask.array as da

    params = {**TL, **params}
    threshold = params.pop("threshold", "otsu")
    image = _filled_cases(field)["rotated 40, fill 1500"]
    memory = threshold_label_finite(image, threshold, **params).labels
    lazy = threshold_label_finite(da.from_array(image, chunks=96), threshold, **params)
    assert same_partition(lazy.labels.compute(), memory)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64])
def test_the_lazy_percentile_is_numpys(monkeypatch, dtype):
    """The fill's level, exactly numpy's percentile of the pixels inside, also when the
    values must be narrowed by histograms before they are sorted (a few sorted at most)."""
    import dask.array as da

    from napari_tessella import _fills

    monkeypatch.setattr(_fills, "GATHER", 40)
    rng = np.random.default_rng(int(np.dtype(dtype).itemsize))
    x = rng.normal(100, 40, 4999).clip(0, 250).astype(dtype)
    x[:500] = x[0]  # (one value many times)
    lazy = da.from_array(x, chunks=700)
    for q in (1.0, 50.0, 99.0):
        assert _fills.percentile_lazy(lazy, q, x.size) == float(np.percentile(x, q))


@pytest.mark.parametrize("case", ["rotated 17, fill 0", "uint16 rotated 17, fill 65535",
                                  "missing tile", "four bands and a fill"])
@pytest.mark.parametrize("exclude_border", [False, True])
def test_the_chunked_watershed_reads_a_fill(field, case, exclude_border):
    """The chunked watershed (chunks 64 and 128) gives memory's nuclei on a filled field,
    with ``exclude_border`` too, and no warning (the base warned that it segmented the
    fill with the field, and did)."""
    import warnings

    import dask.array as da

    from napari_tessella import seeded_watershed

    image = _filled_cases(field)[case]
    memory = seeded_watershed(image, exclude_border=exclude_border).labels
    for chunks in (64, 128):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lazy = seeded_watershed(da.from_array(image, chunks=chunks),
                                    exclude_border=exclude_border)
        labels = lazy.labels.compute()
        assert same_partition(labels, memory), chunks
        assert not labels[np.isnan(_nan_of(field, case))].any()


def _nan_of(field, case):
    """The same case with NaN on its fill and bands."""
    tile = field.copy()
    tile[:90, :110] = np.nan
    return {
        "rotated 17, fill 0": ndi.rotate(field, 17, reshape=True, cval=np.nan, order=1),
        "uint16 rotated 17, fill 65535": ndi.rotate(
            field.clip(0).astype(np.uint16).astype(np.float64), 17, reshape=True,
            cval=np.nan, order=1),
        "missing tile": tile,
        "four bands and a fill": _banded(field, 9, 1500.0, (-7.5, 150.0, 2222.5, 4000.0),
                                         (10, 20, 3, 14))[1],
    }[case]
