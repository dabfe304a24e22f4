"""Round 45: glare streaks are dropped by their gradient's coherence (issue 14).

A glare streak (a faint blurred line a few diameters long) makes a label that passes the
unsharp bar; its gradient points across its one axis everywhere, a nucleus's all round
its outline (``_glare._drop_streaks``, off the image border and off the dense path).
The tuning-field test fails on the code before the rule; round textured nuclei, a bar cut
by the image border and a coherent label touching an incoherent one are kept.
"""

import numpy as np
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import score_segmentation, seeded_watershed

D = 20.0


def _round_field():
    """Nine round textured nuclei (d 20 px) on a 200 x 200 field; (image, nuclei)."""
    rng = np.random.default_rng(45)
    rr, cc = np.mgrid[:200, :200].astype(float)
    nuclei = np.zeros((200, 200), np.int32)
    for i, (r0, c0) in enumerate(((30, 30), (30, 100), (30, 170), (100, 30), (100, 170),
                                  (170, 30), (170, 100), (170, 170), (80, 90)), start=1):
        nuclei[np.hypot(rr - r0, cc - c0) <= D / 2] = i
    tex = ndi.gaussian_filter(rng.normal(0, 1, nuclei.shape), 2.0)
    signal = 600.0 * (nuclei > 0) * (1 + 0.6 * tex / tex.std())
    image = ndi.gaussian_filter(signal, 1.0) + 100 + rng.normal(0, 5, nuclei.shape)
    return image.astype(np.float32), nuclei


def test_glare_streaks_of_a_tuning_field_are_dropped():
    """``fibroblast d74`` seed 7008 (a tuning field): the base kept 5 spurious labels (glare
    streaks among them); the rule leaves 1 and loses no nucleus."""
    bench = benchmark("nuclei_cellline")
    image, truth = bench.make("fibroblast d74", 7008)
    scores = score_segmentation(seeded_watershed(image).labels, truth)
    assert scores["spurious"] <= 2
    assert scores["missing"] == 0 and scores["split"] == 0 and scores["merged"] == 0


def test_round_textured_nuclei_are_kept():
    """Small round textured nuclei read incoherent: none dropped."""
    image, nuclei = _round_field()
    labels = seeded_watershed(image, object_diameter=D).labels
    assert all(np.unique(labels[nuclei == i]).size > 1 for i in range(1, 10))


def test_coherence_of_a_bar_and_a_disc():
    """A bar's gradient is coherent, a disc's is not; a bar on the border is kept."""
    from napari_tessella.nuclei._glare import _COHERENT, _drop_streaks, _gradient_coherence

    rr, cc = np.mgrid[:60, :60].astype(float)
    smooth = ndi.gaussian_filter(((abs(rr - 30) < 3) & (abs(cc - 30) < 20)) * 1.0, 2.0)
    smooth += ndi.gaussian_filter((np.hypot(rr - 10, cc - 10) < 6) * 1.0, 2.0)
    labels = ndi.label(smooth > 0.3)[0].astype(np.int32)
    bar, disc = labels[30, 30], labels[10, 10]
    coherence = _gradient_coherence(labels, smooth)
    assert coherence[bar] >= _COHERENT > coherence[disc]
    out, dropped = _drop_streaks(labels.copy(), smooth)
    assert dropped and not (out == bar).any() and (out == disc).any()
    out, dropped = _drop_streaks(labels[:, 20:].copy(), smooth[:, 20:])
    assert not dropped
    # a coherent label touching an incoherent one (a piece of a split nucleus) is kept
    rr, cc = np.mgrid[:60, :80].astype(float)
    joined = ndi.gaussian_filter(((abs(rr - 30) < 3) & (abs(cc - 30) < 20)) * 1.0, 2.0)
    joined += ndi.gaussian_filter((np.hypot(rr - 30, cc - 58) < 8) * 1.0, 2.0)
    touching = ndi.label(joined > 0.3)[0].astype(np.int32)
    piece = touching[30, 30]
    touching[(touching == piece) & (cc >= 50)] = touching.max() + 1
    coherence = _gradient_coherence(touching, joined)
    assert coherence[piece] >= _COHERENT > coherence[touching[30, 58]]
    out, dropped = _drop_streaks(touching, joined)
    assert not dropped and (out == piece).any()
