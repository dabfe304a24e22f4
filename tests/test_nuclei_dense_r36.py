"""Round 36: merged nuclei in dense blurred fields (``nuclei._deblur``).

The sharpening takes its Laplacian of the image smoothed at ``s = _SMOOTH * d``, which
blurs it by ``sigma^2 + s^2`` in all: it must run that much back, not ``sigma^2`` alone.
And dense fields blurred by 0.12-0.16 d (PSF x2 of the challenge-like fields, sigma 2-2.7
px) are sharpened too."""

import numpy as np
import pytest
from _benchmarks import benchmark, dense_score
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

import napari_tessella.nuclei.watershed as ws
from napari_tessella.nuclei._deblur import _SMOOTH, _WIDE, _sharpened


def _restored_amplitude(sigma, d, x):
    """The amplitude of a slow cosine after a blur of ``sigma`` and the sharpening, over
    its true amplitude; ``x``: the cosine's wavenumber squared times the total blur's
    variance over 2 (the first-order step leaves an error of about x^2 / 2)."""
    s = _SMOOTH * d
    k = np.sqrt(2 * x / (sigma * sigma + s * s))
    n = 512
    col = np.arange(n, dtype=np.float64)
    truth = 2.0 + np.cos(k * col)
    image = ndi.gaussian_filter(np.tile(truth, (8, 1)), sigma)
    out = _sharpened(image, sigma, d)[4]
    inner = slice(int(8 * (sigma + s)), n - int(8 * (sigma + s)))
    # (the amplitude by least squares on a cosine, a sine and a constant: a projection on
    # the cosine alone leaks when the window holds no whole number of periods, up to 0.003
    # at the widest blurs, where few periods remain)
    at = col[inner]
    basis = np.stack([np.cos(k * at), np.sin(k * at), np.ones_like(at)], axis=1)
    cos, sin, _ = np.linalg.lstsq(basis, out[inner], rcond=None)[0]
    return float(np.hypot(cos, sin))


@settings(max_examples=25, deadline=None)
@given(d=st.floats(10, 40), ratio=st.floats(_WIDE, 0.3), x=st.floats(0.05, 0.1))
def test_the_sharpening_runs_back_the_psf_and_its_own_smoothing(d, ratio, x):
    # a slow wave comes back at its true amplitude to within the first order's error
    # (x^2 / 2 <= 0.005) and the discrete filters' (<= 0.004 at the widest blurs: measured
    # on a grid of the whole domain); running back sigma^2 alone leaves s^2 k^2 / 2 of it
    # blurred, and fails this on 123 of 147 points of that grid
    gain = _restored_amplitude(ratio * d, d, x)
    assert abs(gain - 1.0) < 0.6 * x * x + 0.004


@pytest.mark.parametrize("sigma_d", [0.16, 0.25])
def test_named_wave_at_the_gate_and_above(sigma_d):
    assert _restored_amplitude(sigma_d * 20.0, 20.0, 0.1) == pytest.approx(1.0, abs=0.008)


def _sharpened_once(image) -> bool:
    calls = []
    real = ws._sharpened

    def spied(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    ws._sharpened = spied
    try:
        ws.seeded_watershed(image)
    finally:
        ws._sharpened = real
    return len(calls) == 1


def test_a_dense_field_blurred_by_an_eighth_of_a_diameter_is_sharpened():
    # seed 1401 at PSF x2: sigma 2.1 px, nuclei ~17 px (0.127 d): was left as it was
    image = benchmark("nuclei_dense_heldout").challenge_field(1401, psf=2.0)[0]
    assert _sharpened_once(image)


def test_the_same_field_under_the_narrow_psf_is_not_sharpened():
    image = benchmark("nuclei_dense_heldout").challenge_field(1401, psf=1.0)[0]
    assert not _sharpened_once(image)


def test_named_field_with_many_merged_pairs():
    # tuning seed 1408 at PSF x2: 15 merged objects before round 36
    m = dense_score(1408, psf=2.0)
    assert m["merged"] <= 8
    assert m["f1"] >= 0.88
