"""Dim nuclei on a glow's steep flank, found on the image before its flattening (round 32).

The flattening's grey opening (:func:`._foreground._flatten`) fits its box on the glow's
side of a dim nucleus 1-2 d from a saturated cell and takes most of the nucleus's plateau
off with the glow: :func:`._dim._glow_dim` reads the candidates its first pass left on
the working image before the flattening, over the same ring surface, and
:func:`_with_unflat` adds their outlines here. The foreground cut has often found a
sliver of such a nucleus, a label wholly inside its outline: the outline takes it in.
"""

from __future__ import annotations

import numpy as np

from ._small import _with_new_peaks

#: a label with at least this share of its pixels inside an outline is a piece of it
_PIECE = 0.8
#: an outline is added when at least this share of it lies on the background (the rest on
#: its pieces, or at most a tenth of it on other labels)
_FREE = 0.5


def _with_unflat(labels, markers, peak, smooth, least, comp, k, points):
    """``labels`` with the outlines ``comp`` (1..``k``, one point of ``points`` each)
    added as labels of their own when they keep ``least`` background pixels, at least
    ``_FREE`` of them, and at most a tenth of them lie on labels that are not their
    pieces (``_PIECE`` of a label inside the outline): those pieces are taken in whole.
    Returns the labels, markers, peaks and whether anything was added.

    Every choice is by pixel counts of one outline and the labels under it: no order
    between outlines (a label can be a piece of one outline only)."""
    on = comp > 0
    if k == 0 or not on.any():
        return labels, markers, peak, False
    n = int(labels.max()) + 1
    size = np.bincount(comp.ravel(), minlength=k + 1)
    pairs, counts = np.unique(comp[on].astype(np.int64) * n + labels[on], return_counts=True)
    part_of, label_of = np.divmod(pairs, n)
    lsize = np.bincount(labels.ravel(), minlength=n)
    piece = (label_of > 0) & (counts >= _PIECE * lsize[label_of])
    free = np.bincount(part_of[label_of == 0], counts[label_of == 0], minlength=k + 1)
    other = np.bincount(part_of[(label_of > 0) & ~piece], counts[(label_of > 0) & ~piece],
                        minlength=k + 1)
    new = (free >= least) & (free >= _FREE * size) & (10 * other <= size)
    new[0] = False
    if not new.any():
        return labels, markers, peak, False
    ids = np.flatnonzero(new)
    first = max(peak.size, n)
    table = np.zeros(k + 1, np.int64)
    table[ids] = first + np.arange(ids.size)
    taken = piece & new[part_of]
    owner = np.zeros(n, np.int64)  # each piece taken in: its outline's new id
    owner[label_of[taken]] = table[part_of[taken]]
    out = labels.astype(np.int64)
    owned = owner[labels]  # per pixel: the new id of the outline taking its label in
    mine = on & new[comp] & ((labels == 0) | (owned == table[comp]))
    out[owned > 0] = owned[owned > 0]
    out[mine] = table[comp[mine]]
    markers = markers.copy()
    at = points & mine
    markers[at] = int(markers.max()) + comp[at]
    peak = _with_new_peaks(peak, first, smooth, out, table[ids])
    peak[label_of[taken]] = np.inf  # gone, taken in
    return out.astype(np.int32), markers, peak, True
