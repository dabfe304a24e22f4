"""Round 33: dense fields under a wide PSF, sharpened before they are segmented
(``nuclei._deblur``)."""

import numpy as np
import pytest
from scipy import ndimage as ndi

import napari_tessella.nuclei.watershed as ws
from napari_tessella.nuclei._deblur import (
    _blur_sigma,
    _sharpened,
    _sharpened_lazy,
    _wide_blur,
)


def _discs(sigma, side=160, seed=0):
    """A field of touching discs of radius 7-11 (brightness 0.3-1, light adding where
    they overlap), blurred by ``sigma``, with Poisson noise."""
    rng = np.random.default_rng(seed)
    rr, cc = np.indices((side, side))
    light = np.zeros((side, side))
    centres = []
    for _ in range(5000):
        c, r = rng.uniform(0, side, 2), rng.uniform(7, 11)
        if all(np.hypot(*(c - p)) >= 0.8 * (r + q) for p, q in centres):
            centres.append((c, r))
            light += np.where(np.hypot(rr - c[0], cc - c[1]) <= r, rng.uniform(0.3, 1), 0)
        if len(centres) == 60:
            break
    return rng.poisson(ndi.gaussian_filter(light, sigma) * 500 + 10).astype(np.uint16)


@pytest.mark.parametrize("sigma", [1.5, 3.0])
def test_the_blur_is_measured_from_the_spectrum(sigma):
    assert _blur_sigma(_discs(sigma)) == pytest.approx(sigma, rel=0.2)


def test_only_a_blur_of_a_few_tenths_of_a_diameter_is_wide():
    img = _discs(3.0)
    assert _wide_blur(img, 16.0) is not None  # 3 px of 16: 0.19 d
    assert _wide_blur(img, 30.0) is None  # 0.1 d
    assert _wide_blur(np.ones((16, 16)), 4.0) is None  # too small to measure


def test_sharpening_brings_back_the_valley_between_two_blurred_discs():
    rr, cc = np.indices((64, 96), dtype=float)
    light = ((np.hypot(rr - 32, cc - 41) <= 9) | (np.hypot(rr - 32, cc - 55) <= 9)) * 1.0
    blurred = ndi.gaussian_filter(light, 4.0) * 100  # two discs 14 px apart, 18 across
    assert blurred[32, 48] >= 0.99 * blurred[32, 41]  # no valley left after the blur
    sharp = _sharpened(blurred, 4.0, 16.0)
    assert sharp[32, 48] < 0.97 * sharp[32, 41]  # a valley again


def test_the_chunked_sharpening_is_the_in_memory_one():
    import dask.array as da

    img = _discs(3.0, side=100).astype(np.float64)
    want = _sharpened(img, 3.0, 16.0)
    for chunks in ((37, 41), (5, 100), (100, 3)):  # chunks narrower than the margin too
        got = _sharpened_lazy(da.from_array(img, chunks=chunks), 3.0, 16.0).compute()
        np.testing.assert_array_equal(got, want)


def test_a_sparse_field_never_measures_its_blur(monkeypatch):
    from napari_tessella.synthetic import synthetic_nuclei

    def refuse(crop, d):
        raise AssertionError("the blur of a sparse field was measured")

    monkeypatch.setattr(ws, "_wide_blur", refuse)
    result = ws.seeded_watershed(synthetic_nuclei(seed=0).image)
    assert result.labels.max() > 0


def test_a_wide_blur_segments_the_sharpened_image_once(monkeypatch):
    img = _discs(3.0)
    seen = []
    real = ws._sharpened

    def spy(image, sigma, d):
        seen.append(sigma)
        return real(image, sigma, d)

    monkeypatch.setattr(ws, "_wide_blur", lambda crop, d: 3.0)  # every gated field: wide
    monkeypatch.setattr(ws, "_sharpened", spy)
    monkeypatch.setattr(ws, "_auto_params_logged", _dense(ws._auto_params_logged))
    result = ws.seeded_watershed(img)
    assert seen == [3.0] and result.labels.max() > 0  # sharpened once, not again


def _dense(params):
    """``_auto_params_logged`` with the dense gate (the shoulders) forced on."""

    def gated(*args, **kwargs):
        *rest, _ = params(*args, **kwargs)
        return (*rest, True)

    return gated
