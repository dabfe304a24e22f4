"""Round 35: a flanked field nearly as dense as the shoulders' gate asks has its blur
measured, so a dense field under a very wide PSF is sharpened (``nuclei._deblur._measured``,
``nuclei._background._dense_share``)."""

import dask.array as da
import numpy as np
import pytest
from _benchmarks import benchmark, dense_score

import napari_tessella.nuclei._chunked as ch
import napari_tessella.nuclei.watershed as ws
from napari_tessella.nuclei._background import _DENSE, _dense_share, _shoulder_gate
from napari_tessella.nuclei._deblur import _NEAR, _measured


def test_the_share_is_counted_on_flanked_fields_only():
    centres = np.arange(10.0)
    counts = np.array([5, 5, 5, 5, 5, 3, 3, 3, 3, 3], dtype=float)  # 15 of 40 above 4.5
    # the cut's value: level + exp(cut) - eps = 0 + exp(0) + 3.5 = 4.5
    assert _dense_share(counts, centres, True, 0.0, -3.5, 0.0) == pytest.approx(15 / 40)
    assert _dense_share(counts, centres, False, 0.0, -3.5, 0.0) == 0.0


def test_the_blur_is_measured_from_a_lower_share_than_the_shoulders_gate():
    assert _NEAR < _DENSE
    for share in (0.0, 0.39):
        assert not _measured(share) and not _shoulder_gate(share)
    assert _measured(0.42) and not _shoulder_gate(0.42)  # nearly dense: measured only
    assert _measured(0.5) and _shoulder_gate(0.5)


def _field(psf):
    return benchmark("nuclei_dense_heldout").challenge_field(914, psf=psf)[0]


def _with_share(real, share):
    """``real`` (a function returning the dense share last) returning ``share`` instead."""

    def forced(*args, **kwargs):
        *rest, _ = real(*args, **kwargs)
        return (*rest, share)

    return forced


@pytest.mark.parametrize("share, measured", [(0.42, True), (0.39, False), (0.0, False)])
def test_a_nearly_dense_field_measures_its_blur_without_cutting_shoulders(
        monkeypatch, share, measured):
    seen, preps = [], []
    real_prepared = ws._prepared

    def spy_prepared(*args, **kwargs):
        preps.append(real_prepared(*args, **kwargs))
        return preps[-1]

    monkeypatch.setattr(ws, "_auto_params_logged", _with_share(ws._auto_params_logged, share))
    monkeypatch.setattr(ws, "_prepared", spy_prepared)
    monkeypatch.setattr(ws, "_wide_blur", lambda crop, d: seen.append(d))  # (None: not wide)
    ws.seeded_watershed(_field(2.5))
    assert bool(seen) == measured
    assert preps[0].shoulders is False  # below _DENSE: no shoulders cut unsharpened


def test_the_chunked_path_measures_the_same_fields(monkeypatch):
    seen = []
    real = ch._auto_params_from_hist
    monkeypatch.setattr(ch, "_auto_params_from_hist", _with_share(real, 0.42))
    monkeypatch.setattr(ch, "_wide_blur", lambda crop, d: seen.append(d))
    ws.seeded_watershed(da.from_array(_field(2.5), chunks=128))
    assert seen  # measured on the share, as in memory


def test_a_dense_field_under_a_very_wide_psf_just_under_the_gate_is_sharpened():
    # challenge-like field 914 (8 bit) at PSF x2.5: blur 4.9 px (0.28 d), flanked, 0.444
    # of it above the cut; round 34 left it unsharpened: 38 nuclei missing, F1 0.41
    first = ws._prepared(np.asarray(_field(2.5), dtype=np.float64), None, None, 0,
                         object_diameter=None, sigma=None, threshold="auto", min_size=None,
                         auto=True)
    assert not first.shoulders and _NEAR <= first.share < _DENSE
    score = dense_score(914, psf=2.5)
    assert score["f1"] > 0.7 and score["missing"] < 20
