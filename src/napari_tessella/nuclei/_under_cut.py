"""Glow pieces the re-seeding joins to a nucleus though they never reach its body (round 47).

The trim (:func:`._recipe._trim_to_own_peak`) cuts every label of the first flood at a
fraction of its own peak; a flood label on a bright cell's out-of-focus glow keeps the part
of the glow above a fraction of *the glow's* peak. The re-seeding that follows
(:func:`._markers._split_at_necks_of`) labels the trimmed foreground again as one mask, and
where such a glow piece touches a nucleus's trimmed outline, with no neck between them, the
two come out as one label: the nucleus's outline takes in the glow (round 46's spurious
labels, 44 on 160 fields; traced in round 47 to this step on every cell-line kind).

A piece of the trim whose brightest pixel stays under ``_BODY_SHARE`` of the body of the
brightest piece it was joined with (the median of that piece's core, over the background)
is no part of that nucleus: it is taken out of the label. The halves of a nucleus the trim
cut in two (two seeds in one nucleus) are joined as before: each half rises to the body.
"""

from __future__ import annotations

import numpy as np

from .._label_image import _only, _per_label
from ._cues import _label_max, _label_quantile

#: a piece joined to a brighter one whose maximum contrast stays under this share of the
#: brighter piece's core median contrast is no part of it (tuning fields 8720-8729: glow
#: pieces 0.11-11.7, a third of them under 0.6; the halves of one nucleus 0.52-2.3, 3 of 35
#: under 0.6)
_BODY_SHARE = 0.6


def _without_pieces_under_body(labels, pieces, smooth, level, height):
    """``labels`` (the re-seeded ones) without the parts of the trimmed ``pieces`` whose
    largest ``smooth`` (over the whole piece) is under ``_BODY_SHARE`` of the body contrast
    of the brightest piece the label holds (the median of ``smooth`` over its core, its
    pixels where ``height``, the distance the trim's cores were read on, is at least half
    its largest value in the piece); and whether any pixel was removed."""
    both = (labels > 0) & (pieces > 0)
    if not both.any():
        return labels, False
    n = int(pieces.max())
    m = n + 1
    pair, at = np.unique(labels[both].astype(np.int64) * m + pieces[both], return_inverse=True)
    owner, piece = pair // m, pair % m
    if np.unique(owner).size == pair.size:  # no label holds two pieces
        return labels, False
    core = _only(pieces, height >= _per_label(0.5 * _label_max(height, pieces, n), pieces))
    body = _label_quantile(smooth, core, n, 0.5) - level
    highest = np.full(int(owner.max()) + 1, -np.inf)
    np.maximum.at(highest, owner, body[piece])
    under = _label_max(smooth, pieces, n)[piece] - level < _BODY_SHARE * highest[owner]
    if not under.any():
        return labels, False
    out = labels.copy()
    out[both] = np.where(under[at], 0, labels[both])
    return out, True
