"""Unsharp labels held in by kept nuclei (issue 14, round 41).

On a dense field a dim nucleus between brighter ones measures unsharp against its d/10
ring: the ring lies on its neighbours' flanks. Its rim is then judged against the fixed
bar of a sharp field's nuclei. A glow or a halo around a saturated cell lies apart: its
ring is on the background, not on other nuclei. A label the unsharp test would drop is
kept when it stands out of its wider ring and kept nuclei hold a share of its outer ring.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _square_dilated, _widened

#: the share of a label's outer ring (8-connected, one pixel) on kept labels
_TOUCH = 0.25
#: ... and its sharpness against its wider ring (``_cues._WIDE_RING``) at least this
_TOUCH_WIDE = 1.0


def _held_in(labels, unsharp, wide) -> np.ndarray:
    """Per label 0..n, True for the ``unsharp`` labels (a boolean per label) whose
    sharpness against the wider ring (``wide``, per label) is at least ``_TOUCH_WIDE``
    and whose outer ring lies at least ``_TOUCH`` on labels that are not unsharp.

    Read in each label's box widened by one pixel: whole pixels, the same in any window
    that holds the label and its ring."""
    out = np.zeros(unsharp.shape, bool)
    ids = np.flatnonzero(unsharp & (wide >= _TOUCH_WIDE))
    if ids.size == 0:
        return out
    boxes = ndi.find_objects(labels)
    for i in ids.tolist():
        if i > len(boxes) or boxes[i - 1] is None:
            continue
        box = _widened(boxes[i - 1], 1, labels.shape)
        sub = labels[box]
        obj = sub == i
        ring = _square_dilated(obj) & ~obj
        near = sub[ring]
        on = (near > 0) & ~unsharp[near]
        out[i] = on.mean() >= _TOUCH if near.size else False
    return out
