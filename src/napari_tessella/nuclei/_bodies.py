"""The diameter estimate of textured nuclei whose bright foci alone pass its foreground:
measured again below the foreground's cut, where their dim bodies are (round 35).

The estimate's foreground is the log-Otsu cut. With chromocenters 2-4x (and more) brighter
than the nucleoplasm, Otsu may split the foci and the brightest nucleoplasm from the dim
rest: the cut lies inside the nuclei's bodies, each foreground component holds a ragged
part of a nucleus around its foci, the cut at half its maximum keeps the foci, and the
regions ``diameter._whole_textured`` would restore are that ragged part (not compact):
the estimate is the foci's (a mixed field of 28-px nuclei was estimated at 13.8 px, its
segmentation lost 29 of 54 nuclei; with the foci 8-12x the nucleoplasm, 13 of 20 such
fields fell below 0.75 of their nuclei).

Such an estimate is recognised by its weight: ``_FOCI_SHARE`` or more of the area of the
measured components lies in pieces of the cut at half the maximum that nothing restored
and that lie ``_MIN_PIECES`` or more in one foreground component (a field of nuclei read
whole holds at most 0.17 so). It is measured again with the foreground at ``_LOWER`` of
the cut's contrast (as the recipe's dim nuclei are looked for, ``_foreground._dim_level``,
at least ``_FLOOR`` noise deviations over the background), where the bodies pass whole,
and that estimate is taken when it is at least ``_WIDER`` times the first (bodies around
the foci, not the same objects again).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._cues import _label_max

#: pieces of the half-maximum cut that count as foci lie this many in one component
_MIN_PIECES = 3
#: the estimate reads foci when such pieces hold this share of the measured area
_FOCI_SHARE = 0.25
#: the foreground measured again at this fraction of the cut's contrast ...
_LOWER = 0.3
#: ... and at least this many deviations of the noise over the background
_FLOOR = 4.0
#: the estimate so measured is taken when at least this many times the first
_WIDER = 1.25


class FirstCut(NamedTuple):
    """The foreground cut of the measurement that read foci: its noise ``spread``, its
    ``cut`` and its background ``level``, as that measurement found them; the second
    measurement, of the same image, cuts below it (:func:`lowered_cut`) and does not look
    for them again."""

    spread: float
    cut: float
    level: float


def lowered_cut(level: float, cut: float, spread: float) -> float:
    """The foreground cut of the second measurement: ``_LOWER`` of the contrast of ``cut``
    over the background ``level``, at least ``_FLOOR`` times the noise ``spread``."""
    return float(level + max(_LOWER * (cut - level), _FLOOR * spread))


def reads_foci(fg, n: int, pieces, k: int, regions, m: int) -> bool:
    """Whether the measured components ``regions`` (``m`` of them, the pieces of the cut at
    half the maximum, some grown into whole textured nuclei) are mostly foci: pieces
    ``pieces`` (``k``) left as they are, lying ``_MIN_PIECES`` or more in one foreground
    component of ``fg`` (``n``), holding ``_FOCI_SHARE`` of the regions' area or more."""
    if k == 0:
        return False
    size = np.bincount(pieces.ravel(), minlength=k + 1)
    owner = _label_max(fg, pieces, k).astype(np.intp)  # a piece lies in one component
    owner[0] = 0
    count = np.bincount(owner[1:], minlength=n + 1)
    area = np.bincount(regions.ravel(), minlength=m + 1)
    alone = area[_label_max(regions, pieces, k).astype(np.intp)] == size
    foci = alone & (count[owner] >= _MIN_PIECES)
    foci[0] = False
    return bool(size[foci].sum() >= _FOCI_SHARE * area[1:].sum())


def wider(first: float, again) -> float:
    """``first``, or the estimate ``again()`` measured below the cut when at least
    ``_WIDER`` times it (no foreground there: ``first``)."""
    try:
        second = again()
    except ValueError:
        return first
    return second if second >= _WIDER * first else first
