"""Label-image helpers shared by the concepts: relabelling, border ids, nearest label."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def _relabel_sequential(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep the label ids where ``keep[id]`` is True and renumber them 1..n in order."""
    keep = keep.copy()
    keep[0] = False
    lut = np.zeros(keep.shape[0], dtype=np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lut[labels]


def _edge_ids(labels: np.ndarray, border=(True, True, True, True)) -> np.ndarray:
    """Labels on the sides of ``labels`` that are the image border (top, bottom, left, right)."""
    sides = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    parts = [side for side, on in zip(sides, border, strict=True) if on]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, labels.dtype)


def _nearest_label(seeds: np.ndarray, sampling=None) -> np.ndarray:
    """Each pixel's nearest nonzero seed value (exact EDT, ``sampling`` = pixel sizes)."""
    indices = ndi.distance_transform_edt(seeds == 0, sampling=sampling, return_distances=False,
                                         return_indices=True)
    return seeds[indices[0], indices[1]]


def _widened(box, pad: int, shape) -> tuple:
    """``box`` (a tuple of slices, as ``ndimage.find_objects`` gives) widened by ``pad``
    pixels on every side and clipped to ``shape``."""
    return tuple(slice(max(s.start - pad, 0), min(s.stop + pad, n))
                 for s, n in zip(box, shape, strict=True))
