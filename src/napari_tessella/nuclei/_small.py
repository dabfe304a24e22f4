"""Whole small nuclei below the default minimum size.

The default minimum size, a disc of two thirds of the typical diameter ``d``, drops
fragments, debris and micronuclei, and with them every nucleus of a second, smaller
population: in a field of nuclei of 30 px and 15 px (a co-culture, a tissue of two cell
types), all the small ones. An object below the minimum size is a whole small nucleus
when its blob of the foreground holds no nucleus of the minimum size (one small nucleus,
or a few joined by the blur), and it is at least a disc of radius ``_SMALL_R`` d and
compact. Such blobs are segmented apart from the others (:func:`._recipe._segment_work`)
and their nuclei kept only when they are a population of the image
(:func:`_small_population`): a few small blobs beside a field of ordinary nuclei are
debris, micronuclei or a nucleus's fragments, which the annotators of the U2OS images
left out.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _per_label, _widened
from ._cues import _label_max

# an object below the minimum size is a whole small nucleus when its blob of the
# foreground holds no nucleus of the minimum size, and it has at least the area of a disc
# of this radius (x d) and is compact: its inscribed disc has at least _COMPACT of the
# radius of a disc of its area
_SMALL_R = 1 / 6
_COMPACT = 0.6
# ... and such nuclei are kept only when they are a population of the image: at least
# _SMALL_LEAST of them and _SMALL_SHARE of all its objects (a few small blobs beside a
# field of ordinary nuclei are debris, micronuclei or a nucleus's fragments)
_SMALL_LEAST = 3
_SMALL_SHARE = 0.2


def _padded(values, size: int, fill) -> np.ndarray:
    """``values`` (or nothing, for None) cut or padded with ``fill`` to ``size``."""
    values = np.asarray([] if values is None else values)[:size]
    return np.concatenate([values, np.full(size - values.size, fill)]).astype(
        type(fill) if isinstance(fill, bool) else float)


def _with_new_peaks(peak, first: int, smooth, labels, new) -> np.ndarray:
    """The peaks of ``labels`` after labels ``new`` (ids from ``first``) were added:
    ``peak`` padded with inf to ``first`` (ids that have none), then each new label's
    largest ``smooth``."""
    return np.concatenate([_padded(peak, first, np.inf), _labels_maximum(smooth, labels, new)])


def _labels_maximum(values, labels, ids) -> np.ndarray:
    """``ndi.maximum(values, labels, ids)`` (float64; 0 for an id without pixels) as
    :func:`._cues._label_max` takes it, one pass over the pixels: scipy's sorts them all
    (4.5 ms a call on a U2OS working image, against 0.3; round 59). The same maxima."""
    ids = np.asarray(ids, dtype=np.intp)
    n = max(int(labels.max()), int(ids.max()) if ids.size else 0)
    top = _label_max(values, labels, n)[ids]
    present = np.bincount(labels.ravel(), minlength=n + 1)[ids] > 0
    return np.where(present, top, 0.0)


def _with_new_labels(split, labels, markers, peak, smooth, level, d):
    """``split(labels, smooth, level, d, first)`` (the labels with new ones from id ``first``
    on, and one pixel per new label), with a marker at each new label's pixel and its peak
    (its largest ``smooth``, :func:`_with_new_peaks`); and whether any label was added."""
    first = max(peak.size, int(labels.max()) + 1)
    labels, points = split(labels, smooth, level, d, first)
    if not len(points):
        return labels, markers, peak, False
    new = np.arange(first, first + len(points))
    markers = markers.copy()
    markers[points[:, 0], points[:, 1]] = int(markers.max()) + 1 + np.arange(len(points))
    peak = _with_new_peaks(peak, first, smooth, labels, new)
    return labels, markers, peak, True


def _small_population(n_small: int, n_all: int) -> bool:
    """Whether ``n_small`` whole small nuclei (:func:`_whole_small`) among ``n_all``
    objects are a population of nuclei (``_SMALL_LEAST``, ``_SMALL_SHARE``), not debris."""
    return n_small >= max(_SMALL_LEAST, _SMALL_SHARE * n_all)


def _compact(comp, ids, sizes) -> np.ndarray:
    """Per id of ``ids`` (labels of ``comp``, areas ``sizes[ids]``), whether its inscribed
    disc has at least ``_COMPACT`` of the radius of a disc of its area (a sliver, a ring or
    a tangle of specks has not). Each distance transform is computed in its own box."""
    out = np.zeros(ids.size, bool)
    rank = np.zeros(int(comp.max()) + 1, np.int32)
    rank[ids] = np.arange(1, ids.size + 1)
    for k, box in enumerate(ndi.find_objects(_per_label(rank, comp), max_label=ids.size)):
        if box is None:
            continue
        box = _widened(box, 1, comp.shape)
        inscribed = ndi.distance_transform_edt(comp[box] == ids[k]).max()
        out[k] = inscribed >= _COMPACT * np.sqrt(sizes[ids[k]] / np.pi)
    return out


def _least_small(d: float) -> float:
    """The least area of a whole small nucleus: a disc of radius ``_SMALL_R`` d, and at
    least of one pixel (the least disc the pixels draw). With the diameter at the
    estimate's floor (3 px, an empty field of noise) the first is under a pixel, and every
    pixel of noise above the cut was a small nucleus, a population of them (Poisson noise
    of mean 0.3: 31,267 on a 512² field; with more than one pixel, pairs still made 15)."""
    return float(np.pi * max(d * _SMALL_R, 1.0) ** 2)


def _small_blobs(comp, sizes, below, d) -> np.ndarray:
    """Per component 0..n of the foreground, whether it may hold a whole small nucleus:
    below the minimum size (``below``), at least a disc of radius ``_SMALL_R`` d in area,
    and compact (:func:`_compact`)."""
    out = np.zeros(sizes.size, bool)
    ids = np.flatnonzero(below & (sizes >= _least_small(d)))
    ids = ids[ids > 0]
    if ids.size:
        out[ids] = _compact(comp, ids, sizes)
    return out


def _whole_small(labels, sizes, comp, comp_sizes, needed, d) -> np.ndarray:
    """Per label 0..n, whether it is a whole small nucleus below the minimum size
    (``needed``): its component of the foreground (``comp``, areas ``comp_sizes``) holds
    no label of the minimum size, and its labels hold at least half of it (the rest is
    their blurred rim); the label is at least a disc of radius ``_SMALL_R`` d in area, and
    compact (:func:`_compact`). Two small nuclei touching each other are such a
    component. A bright core inside a larger faint halo, the small objects the minimum
    size is there for, holds less of its component or shares it with a nucleus.
    """
    out = np.zeros(sizes.size, bool)
    ids = np.flatnonzero((sizes < needed) & (sizes >= _least_small(d)))
    ids = ids[ids > 0]
    if not ids.size:
        return out
    # each label's component (a label lies in one; a hole filled inside it is 0 in comp)
    where = np.maximum(_label_max(comp, labels, sizes.size - 1), 0).astype(np.int64)
    present = np.flatnonzero(sizes[1:] > 0) + 1
    large = np.bincount(where[present], weights=sizes[present] >= needed[present],
                        minlength=comp_sizes.size)
    held = np.bincount(where[present], weights=sizes[present], minlength=comp_sizes.size)
    c = where[ids]
    ids = ids[(c > 0) & (large[c] == 0) & (2 * held[c] >= comp_sizes[c])]
    if ids.size:
        out[ids] = _compact(labels, ids, sizes)
    return out
