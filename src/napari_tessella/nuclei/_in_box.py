"""Per-label measures read for a few labels only, taken in the box around those labels
(round 49: the same values as over the whole working image, at a fraction of its cost)."""

from __future__ import annotations

import numpy as np

from .._label_image import _mask_box, _widened


def _box_around(labels: np.ndarray, ids: np.ndarray, margin: int = 0, boxes=None):
    """The box (a pair of slices) of the pixels of the labels ``ids`` of ``labels``,
    widened by ``margin`` pixels and clipped to the array; None when none is present.

    ``boxes``: ``ndi.find_objects`` of ``labels`` (or of labels each holding at least
    that label's pixels: a box that holds them), when the caller has them: their union,
    without a pass over the image (round 50; the pass is a lookup of every pixel's label,
    then a row and a column reduction)."""
    ids = np.asarray(ids, dtype=np.intp)
    if boxes is not None:
        held = [boxes[i - 1] for i in ids[(ids > 0) & (ids <= len(boxes))].tolist()]
        held = [box for box in held if box is not None]
        if not held:
            return None
        box = tuple(slice(min(b[a].start for b in held), max(b[a].stop for b in held))
                    for a in range(2))
        return _widened(box, margin, labels.shape)
    return _mask_box(labels, margin, ids)  # (one pass over the image)


def _in_box_of(ids, reach: float, measure, labels, image, *args, around=None):
    """``measure(labels, image, *args)`` (one value per label 0..n of ``labels``) for the
    labels ``ids`` only, inf for the others, taken over the box of their pixels widened by
    ``2 ceil(reach) + 1`` (``reach`` at least 1). ``around``: that box unwidened
    (:func:`_box_around`, or a box holding it), when the caller has it (round 50: the two
    measures of one step's labels find it once).

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
    if around is None and n:
        around = _box_around(labels, ids)
    if around is None or not n:
        return out
    box = _widened(around, 2 * int(np.ceil(max(reach, 1.0))) + 1, labels.shape)
    found = measure(labels[box], image[box], *args)
    ids = ids[(ids > 0) & (ids < found.size)]
    out[ids] = found[ids]
    return out
