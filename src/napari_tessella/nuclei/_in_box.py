"""Per-label measures read for a few labels only, taken in the box around those labels
(round 49: the same values as over the whole working image, at a fraction of its cost)."""

from __future__ import annotations

import numpy as np

from .._label_image import _per_label, _widened


def _box_around(labels: np.ndarray, ids: np.ndarray, margin: int):
    """The box (a pair of slices) of the pixels of the labels ``ids`` of ``labels``,
    widened by ``margin`` pixels and clipped to the array; None when none is present."""
    pick = np.zeros(int(labels.max()) + 1, bool)
    pick[ids[(ids > 0) & (ids < pick.size)]] = True
    at = _per_label(pick, labels)
    rows = np.flatnonzero(at.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(at.any(axis=0))
    return _widened((slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)), margin,
                    labels.shape)


def _in_box_of(ids, reach: float, measure, labels, image, *args):
    """``measure(labels, image, *args)`` (one value per label 0..n of ``labels``) for the
    labels ``ids`` only, inf for the others, taken over the box of their pixels widened by
    ``2 ceil(reach) + 1`` (``reach`` at least 1).

    The same values, when ``measure`` reads, for a label, only the pixels within ``reach``
    of a pixel within ``reach`` of it (:func:`._cues._edge_sharpness`: a pixel of its ring
    lies within the ring's reach of it, and whether it is a ring pixel and which label is
    nearest to it are read within that reach again), and where it reaches the array's
    sides it finds the box's sides there too. Its other labels, cut by the box, are not
    read. The rings of the few labels a step looks at again (those fading into their
    ring, glows) cost the whole image's rings before."""
    n = int(labels.max())
    out = np.full(n + 1, np.inf)
    ids = np.asarray(ids, dtype=np.intp)
    box = _box_around(labels, ids, 2 * int(np.ceil(max(reach, 1.0))) + 1) if n else None
    if box is None:
        return out
    found = measure(labels[box], image[box], *args)
    ids = ids[(ids > 0) & (ids < found.size)]
    out[ids] = found[ids]
    return out
