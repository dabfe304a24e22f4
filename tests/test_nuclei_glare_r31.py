"""Round 31: wide glare streaks told from elongated nuclei by a flat ridge and a shallow
rim (``nuclei/_ridge.py``, called from ``_edges._streaks``)."""

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._edges import _streaks
from napari_tessella.nuclei._ridge import _ridge_spread, _rim_steepness


def _field():
    """Working-resolution field (d = 20 px): a wide glare streak (a line blurred by a
    quarter of d), a textured elongated nucleus and a smooth one with a steep rim (the
    U2OS kind), each of aspect 2.5; labels cut at 0.35 of the unit contrast."""
    d = 20.0
    rr, cc = np.indices((150, 130), dtype=float)
    line = np.zeros(rr.shape)
    line[40, 25:100] = 1.0  # 3.75 d long
    streak = ndi.gaussian_filter(line, 5.0)
    streak /= streak.max()
    ellipse = ((rr - 85) / 6.5) ** 2 + ((cc - 35) / 16) ** 2 <= 1
    textured = ndi.gaussian_filter(ellipse * (1.0 + 0.3 * np.sin(cc / 2.0)), 1.0)
    smooth_one = ndi.gaussian_filter(((((rr - 125) / 6.5) ** 2 + ((cc - 80) / 16) ** 2) <= 1)
                                     * 1.0, 1.5)
    img = streak + textured + smooth_one
    labels, n = ndi.label(img > 0.35)
    assert n == 3
    ids = [labels[40, 55], labels[85, 35], labels[125, 80]]
    return img, labels, ids, d


def test_wide_streak_dropped_elongated_nuclei_kept():
    img, labels, (streak, textured, smooth_one), d = _field()
    flags = _streaks(labels, d, smooth=img, level=0.0)
    assert flags[streak]
    assert not flags[textured] and not flags[smooth_one]
    # the shape rules of rounds 8c and 11 alone keep this streak: too wide for them
    assert not _streaks(labels, d)[streak]


def test_ridge_and_rim_cues_each_needed():
    img, labels, (streak, textured, smooth_one), d = _field()
    boxes = ndi.find_objects(labels)

    def spread(i):
        own = labels == i
        return _ridge_spread(img, own, ndi.distance_transform_edt(own), 0.0)

    def steep(i):
        return _rim_steepness(labels, img, 0.0, d, i, boxes[i - 1])

    # the streak is flat along its ridge and shallow at its rim
    assert spread(streak) < 0.26 and steep(streak) < 3.5
    # a textured nucleus: a steep rim and a varying ridge
    assert spread(textured) >= 0.26 and steep(textured) >= 3.5
    # a smooth nucleus is as flat along its ridge as glare: only its rim tells it
    assert spread(smooth_one) < 0.26 and steep(smooth_one) >= 3.5
