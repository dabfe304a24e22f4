"""Round 34: the in-memory recipe in two stages, the decision to sharpen between them
(``nuclei.watershed._prepared`` / ``_segmented``, ``nuclei._deblur``)."""

import numpy as np
import pytest
from _benchmarks import benchmark

import napari_tessella.nuclei.watershed as ws
from napari_tessella.synthetic import synthetic_nuclei


def _dense(psf):
    """A challenge-like dense field (8-bit) under a PSF widened ``psf`` times."""
    return benchmark("nuclei_dense_heldout").challenge_field(700, psf=psf)[0]


def _sparse():
    return synthetic_nuclei(seed=700).image


def _first_stage(image):
    img = np.asarray(image, dtype=np.float64)
    return ws._prepared(img, None, None, 0, object_diameter=None, sigma=None,
                        threshold="auto", min_size=None, auto=True)


def test_the_first_stage_reports_the_dense_gate():
    dense, sparse = _first_stage(_dense(2.0)), _first_stage(_sparse())
    assert dense.shoulders and not sparse.shoulders
    assert isinstance(dense, ws._Prepared) and dense.smooth.ndim == 2


def _spy(real, outputs):
    """``real``, each output appended to ``outputs``."""
    def spied(*args, **kwargs):
        outputs.append(real(*args, **kwargs))
        return outputs[-1]
    return spied


@pytest.mark.parametrize(("image", "prepared", "asked"), [
    (_dense(2.0), 2, 1),  # dense, wide blur: segmented once, sharpened
    (_dense(1.0), 1, 1),  # dense, narrow blur: the blur measured, not sharpened
    (_sparse(), 1, 0),  # sparse: the blur not even measured
], ids=["dense wide", "dense narrow", "sparse"])
def test_the_field_is_sharpened_between_the_stages(monkeypatch, image, prepared, asked):
    calls = {"_prepared": [], "_segmented": [], "_wide_blur": []}
    for name in calls:
        monkeypatch.setattr(ws, name, _spy(getattr(ws, name), calls[name]))
    result = ws.seeded_watershed(image)
    assert len(calls["_prepared"]) == prepared
    assert len(calls["_wide_blur"]) == asked
    assert len(calls["_segmented"]) == 1  # the first stage's values, never recomputed
    assert isinstance(result, ws.WatershedResult)
    if prepared == 2:  # the sharpened field's own diameter, and no gate asked again
        assert calls["_wide_blur"][0] is not None
        assert result.object_diameter == calls["_prepared"][1].diameter
