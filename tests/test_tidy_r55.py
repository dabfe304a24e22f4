"""Round 55's structure mends: each work done once, the results bit for bit the same."""

import numpy as np
import pytest
import scipy.fft
from _benchmarks import calls_of

from napari_tessella._finite import find_atoms_finite
from napari_tessella.synthetic import synthetic_lattice


@pytest.mark.parametrize("dark", [False, True])
def test_one_autocorrelation_serves_the_widths_and_the_separation(monkeypatch, dark):
    """Columns round in pixels on oblong pixels: the columns' widths (linear) and
    find_atoms' separation (windowed) are both made by ``atoms._autocorrelation``, and
    the columns are those of square pixels (fails on the base: the widths made their own
    copy, and ``atoms`` had no such helper)."""
    from napari_tessella import _square, atoms

    lat = synthetic_lattice((96, 96), spacing=8.0, gaussian_noise=0.1, seed=1)
    image = 1.0 - lat.image if dark else lat.image
    sampling = (np.sqrt(0.5), np.sqrt(2.0))
    square = find_atoms_finite(image, refine="com", dark=dark).result
    made = calls_of(monkeypatch, atoms, "_autocorrelation")
    monkeypatch.setattr(_square, "_autocorrelation", atoms._autocorrelation)
    ffts = calls_of(monkeypatch, scipy.fft, "irfft2")
    res = find_atoms_finite(image, sampling=sampling, refine="com", dark=dark).result
    assert len(made) == len(ffts) == 2
    np.testing.assert_array_equal(res.positions, square.positions)
    assert res.separation == square.separation


def test_the_linear_autocorrelation_is_the_images_own():
    """``_autocorrelation(linear=True)`` at small lags is the normalised image correlated
    with itself, without wrap-around (scipy.signal.correlate, directly)."""
    from scipy.signal import correlate

    from napari_tessella.atoms import _autocorrelation

    rng = np.random.default_rng(3)
    img = rng.normal(size=(20, 27)) * 1e200  # near the float's top: scale-free
    ac = _autocorrelation(img, linear=True)
    norm = img / 2.0**665
    norm = (norm - norm.mean()) / np.ptp(norm)
    direct = correlate(norm, norm, mode="full", method="direct")
    centre = np.array(norm.shape) - 1
    for dr in range(-5, 6):
        for dc in range(-5, 6):
            assert np.isclose(ac[dr, dc], direct[centre[0] + dr, centre[1] + dc],
                              rtol=1e-9, atol=1e-12)


def test_a_frame_is_read_once_for_the_watershed(monkeypatch):
    """The Seeded watershed of a field in a mid-grey frame: the frame's masks are made once
    (by ``frame_of``, which says it) and handed to the core, with the core's own nuclei
    (fails on the base: the core made them again)."""
    from napari_tessella import _outside, seeded_watershed
    from napari_tessella._finite import frame_of, seeded_watershed_finite
    from napari_tessella.synthetic import synthetic_nuclei

    field = synthetic_nuclei((160, 200), n_nuclei=10, diameter=28.0, seed=5).image
    field = (field.clip(0) / field.max() * 3000 + 200).astype(np.uint16)
    framed = np.full((200, 250), 1500, np.uint16)
    framed[15:175, 30:230] = field
    alone = seeded_watershed(framed)
    calls = calls_of(monkeypatch, _outside, "_mask_box")
    said = frame_of(framed).message()
    once = len(calls)
    run = seeded_watershed_finite(framed)
    assert once >= 1 and len(calls) == 2 * once
    assert run.said == said
    np.testing.assert_array_equal(run.result.labels, alone.labels)
    np.testing.assert_array_equal(run.result.territories, alone.territories)
