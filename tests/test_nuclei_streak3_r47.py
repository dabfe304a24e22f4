"""Round 47: glare streaks that meet a nucleus or the border at an end are dropped, after
the outline steps, so that the nucleus does not grow into their place.

Round 45's rule (``_glare._drop_streaks``) keeps a coherent label on the image border or
touching a label under its coherence bar. Round 46 found where the contact lies tells a
streak cut across (it meets them at an end of its length) from a cap or a piece of a split
nucleus (along its side), but a streak dropped at that step left its place to the rim
outlines and glow steps, which grew the nucleus it touched into it. Such a streak is now
put aside (``ended``) and dropped by ``_glare._drop_ended`` after those steps. Every test
here fails on the code before the rule.
"""

import numpy as np
from _benchmarks import benchmark
from scipy import ndimage as ndi

from napari_tessella.nuclei import score_segmentation, seeded_watershed

RR, CC = np.mgrid[:60, :80].astype(float)


def _bar_on_a_disc():
    """A blurred bar whose end a disc's label cuts off (the watershed's line across it) on
    a 60 x 80 field: the image, the labels, the bar's and the disc's ids."""
    image = ndi.gaussian_filter(((abs(RR - 30) < 3) & (abs(CC - 30) < 20)) * 1.0, 2.0)
    image += ndi.gaussian_filter((np.hypot(RR - 30, CC - 58) < 8) * 1.0, 2.0)
    labels = ndi.label(image > 0.3)[0].astype(np.int32)
    bar = labels[30, 30]
    labels[(labels == bar) & (CC >= 50)] = labels.max() + 1
    return image, labels, bar, labels[30, 58]


def test_a_streak_ending_on_a_nucleus_waits_for_the_outline_steps():
    """The bar is not dropped at the coherence step but put aside, and dropped later with
    the disc's label untouched."""
    from napari_tessella.nuclei._glare import _drop_ended, _drop_streaks

    image, labels, bar, disc = _bar_on_a_disc()
    ended = []
    out, dropped = _drop_streaks(labels.copy(), image, ended=ended)
    assert not dropped and (out == bar).any()
    assert ended == [bar]
    later, dropped = _drop_ended(out.copy(), ended)
    assert dropped and not (later == bar).any()
    assert ((later == disc) == (labels == disc)).all()


def test_a_bar_cut_along_its_length_by_the_border_is_not_put_aside():
    """A band whose long side is the image border (a nucleus's cap meets it so) is kept
    and not put aside."""
    from napari_tessella.nuclei._glare import _drop_streaks

    image = ndi.gaussian_filter(((abs(RR - 30) < 3) & (abs(CC - 40) < 25)) * 1.0, 2.0)[29:]
    labels = ndi.label(image > 0.3)[0].astype(np.int32)
    ended = []
    out, dropped = _drop_streaks(labels.copy(), image, ended=ended)
    assert not dropped and ended == [] and (out == 1).any()


def test_a_tuning_field_with_a_streak_ending_on_a_nucleus():
    """``fibroblast d74`` seed 8016 (a tuning field): the base keeps one spurious label, a
    streak piece that touches a nucleus at its end; the rule leaves none, and the nucleus
    it touched is still found."""
    image, truth = benchmark("nuclei_cellline").make("fibroblast d74", 8016)
    scores = score_segmentation(seeded_watershed(image).labels, truth)
    assert scores["spurious"] == 0
    assert scores["missing"] == 0 and scores["split"] == 0 and scores["merged"] == 0
