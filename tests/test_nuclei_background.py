"""The background level and noise of the "auto" threshold (nuclei._background), and the
blurred dense fields whose background is a minority of the pixels (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella.nuclei import score_segmentation, seeded_watershed
from napari_tessella.nuclei._background import _hist_mode, _level_and_noise
from napari_tessella.synthetic import synthetic_nuclei


def blurred_dense_field(seed, side=256, d=22):
    """Nuclei of ``d`` px, centres at least 0.8 d apart, covering ~60 % of the field, blurred
    by a further Gaussian of 0.1 d (the held-out field of ``benchmarks/nuclei_heldout.py``)."""
    n = round(0.6 * side * side / (np.pi * d * d / 4))
    nuc = synthetic_nuclei((side, side), n_nuclei=n, diameter=d, brightness_range=(0.4, 1.0),
                           min_separation=0.8, seed=seed)
    return ndi.gaussian_filter(nuc.image, 0.1 * d), nuc.labels


def histogram(values, bins=65536):
    counts, edges = np.histogram(values, bins=bins)
    return counts, edges[:-1] / 2 + edges[1:] / 2, float(edges[1] - edges[0])


def test_background_peak_is_found_under_flanks():
    rng = np.random.default_rng(0)
    # a background of noise 0.01 at 0.1 (20 % of the pixels) under flanks spread evenly
    # from it to 1: the median and spread of the pixels below 0.5 are the flanks'
    values = np.concatenate([rng.normal(0.1, 0.01, 20_000), rng.uniform(0.1, 1, 80_000)])
    counts, centres, width = histogram(values)
    mode, spread = _hist_mode(counts.astype(float), centres, width, 0.2)
    assert mode == pytest.approx(0.1, abs=0.005)
    assert spread == pytest.approx(0.01, rel=0.2)
    # a half peak at the lowest value (the floor of the local background's opening)
    half = np.abs(rng.normal(0, 0.01, 20_000))
    counts, centres, width = histogram(np.concatenate([half, rng.uniform(0, 1, 80_000)]))
    mode, spread = _hist_mode(counts.astype(float), centres, width, 0.2)
    assert mode < 0.005 and spread == pytest.approx(0.01, rel=0.3)


def test_flanks_below_otsu_do_not_set_the_noise():
    rng = np.random.default_rng(1)
    values = np.concatenate([np.abs(rng.normal(0, 0.003, 8_000)), rng.uniform(0, 1, 92_000)])
    counts, centres, width = histogram(values)
    level, noise = _level_and_noise(counts, centres, width, otsu=0.5)
    # was: Otsu looked like a split of the noise (0.5 - 0.25 < 1.8 x 0.18) and the whole
    # image's median, 0.45, became the background
    assert level < 0.25 and noise < 0.05
    # a background peak that holds most of the pixels below Otsu: its median and spread
    values = np.concatenate([rng.normal(0.1, 0.01, 60_000), rng.uniform(0.1, 1, 40_000)])
    counts, centres, width = histogram(values)
    level, noise = _level_and_noise(counts, centres, width, otsu=0.5)
    assert level == pytest.approx(np.median(values[values <= 0.5]), abs=2 * width)


@pytest.mark.parametrize("seed", [20, 21])
def test_blurred_dense_field_keeps_its_nuclei(seed):
    # before: the fallback to the whole image's level (seed 20) or a log-Otsu cut above the
    # nuclei (seed 21) lost every nucleus, F1 0.00 on both
    image, truth = blurred_dense_field(seed)
    score = score_segmentation(seeded_watershed(image).labels, truth)
    assert score["f1"] >= 0.85 and score["mean_iou"] >= 0.7, score


def test_blurred_dense_field_chunked_equals_in_memory():
    # the chunked path finds the same level, noise and cut from its summed histograms, and
    # with chunks of ~12 nuclei the same nuclei, pixel for pixel. (With chunks of 6 x 7
    # nuclei, 128 x 160 px, 10 of 392 differ: the foreground of a blurred dense field is
    # joined over more than the chunks' margin, see seeded_watershed_chunked.)
    da = pytest.importorskip("dask.array")
    from test_chunked_watershed import crossing_objects, same_up_to_numbering

    image, truth = blurred_dense_field(20, side=512)
    memory = seeded_watershed(image)
    assert score_segmentation(memory.labels, truth)["f1"] >= 0.85
    chunked = seeded_watershed(da.from_array(image, chunks=(256, 256)))
    labels = chunked.labels.compute()
    assert chunked.threshold == pytest.approx(memory.threshold, rel=1e-6)
    assert crossing_objects(labels, (256, 256)) > 20
    assert same_up_to_numbering(memory.labels, labels)


def test_peak_is_never_narrower_than_the_known_noise():
    # the diameter estimate's overview is flattened by a grey opening of the image smoothed
    # by 1 px only: where vignetting and a ramp make the opening touch it, a spike of values
    # just above 0 (no noise in it) is the histogram's sharpest peak. Its width (0.56 counts
    # on the u2os-like field 12, whose pixel noise is 12.9) took the noise to 8.2 instead
    # of 121: the log's offset collapsed, 42 % of the overview became foreground and the
    # estimate 321 px for 90-px nuclei. The noise given (``spread``, from pixel
    # differences) bounds the peak's width from below.
    rng = np.random.default_rng(2)
    values = np.concatenate([np.zeros(7_000), rng.exponential(0.5, 8_000),
                             rng.normal(30, 13, 12_000).clip(0), rng.uniform(0, 600, 30_000)])
    counts, centres, width = histogram(values)
    noise = _level_and_noise(counts, centres, width, otsu=1800.0, spread=13.0)[1]
    assert noise >= 13.0
    # without a known noise the peak's own width is taken (the watershed paths: unchanged)
    assert _level_and_noise(counts, centres, width, otsu=1800.0)[1] < 13.0
