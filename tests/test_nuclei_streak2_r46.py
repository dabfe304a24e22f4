"""Round 46: glare streaks that end on a nucleus or run off the image are dropped too.

Round 45's rule (``_glare._drop_streaks``) kept every coherent label on the image border
or touching a label under its coherence bar. Where the contact lies now decides
(``_glare._contacts``): a streak cut across by a nucleus or the border meets it at an end
of its length; a cap cut by the border, or a piece of a split nucleus, meets it along its
side. The tuning field and the first two cases fail on the code before the rule.
"""

import numpy as np
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import score_segmentation, seeded_watershed
from napari_tessella.nuclei._glare import _COHERENT, _drop_streaks, _gradient_coherence

RR, CC = np.mgrid[:60, :80].astype(float)


def _bar(rows=30, cols=40, half=(3, 25)):
    """A blurred straight bar on a 60 x 80 field."""
    box = (abs(RR - rows) < half[0]) & (abs(CC - cols) < half[1])
    return ndi.gaussian_filter(box * 1.0, 2.0)


def test_a_streak_ending_on_a_nucleus_is_dropped():
    """A bar whose end a disc's label cuts off (the watershed's line across it): the bar
    is dropped, the disc kept."""
    image = _bar(cols=30, half=(3, 20))
    image += ndi.gaussian_filter((np.hypot(RR - 30, CC - 58) < 8) * 1.0, 2.0)
    labels = ndi.label(image > 0.3)[0].astype(np.int32)
    bar = labels[30, 30]
    labels[(labels == bar) & (CC >= 50)] = labels.max() + 1
    disc = labels[30, 58]
    coherence = _gradient_coherence(labels, image)
    assert coherence[bar] >= _COHERENT > coherence[disc]
    out, dropped = _drop_streaks(labels, image)
    assert dropped and not (out == bar).any() and (out == disc).any()


def test_a_streak_running_off_the_image_is_dropped():
    """A bar the image's left side cuts across is dropped."""
    image = _bar()[:, 30:]
    labels = ndi.label(image > 0.3)[0].astype(np.int32)
    assert _gradient_coherence(labels, image)[1] >= _COHERENT
    out, dropped = _drop_streaks(labels.copy(), image)
    assert dropped and not out.any()


def test_a_bar_cut_along_its_length_by_the_border_is_kept():
    """A band whose long side is the image border (a nucleus's cap meets it so) is kept."""
    image = _bar()[29:]
    labels = ndi.label(image > 0.3)[0].astype(np.int32)
    assert _gradient_coherence(labels, image)[1] >= _COHERENT
    out, dropped = _drop_streaks(labels.copy(), image)
    assert not dropped and (out == 1).any()


def test_a_tuning_field_with_a_streak_ending_on_a_nucleus():
    """``fibroblast d74`` seed 8016 (a tuning field): the base kept one spurious label (a
    streak piece touching a nucleus at its end); the rule leaves none and changes nothing
    else."""
    image, truth = benchmark("nuclei_cellline").make("fibroblast d74", 8016)
    scores = score_segmentation(seeded_watershed(image).labels, truth)
    assert scores["spurious"] == 0
    assert scores["missing"] == 0 and scores["split"] == 0 and scores["merged"] == 0
