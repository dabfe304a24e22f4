"""Outlines of the nuclei recipe: the level each nucleus is cut at (a fraction of its own
peak, foci capped) and the enlargement of the working-resolution labels to full-resolution
outlines."""

from __future__ import annotations

import numpy as np

from .._label_image import _nonzero, _only, _per_label
from ._cues import _label_max, _unless_foci
from ._orient import IDENTITY, from_canonical
from ._resample import _upsample

_TRIM = 0.3  # each nucleus keeps the pixels above this fraction of its own contrast
_FOCI_CAP = 2.0  # a nucleus's peak contrast is at most this times its core's median one
_FOCI_BODY = 1.3  # ... above it (foci), outlines follow this times that median instead


def _cuts(peak, level, value, n: int) -> np.ndarray:
    """For labels 0..n, the level its outline follows: the global threshold ``value``
    (``peak`` is None), or for the "auto" threshold ``_TRIM`` of its own peak over the
    background (``peak`` from :func:`._recipe._segment_work`) — but not below ``value``,
    there the level at which dim nuclei were looked for (:func:`._foreground._dim_level`;
    the foreground's own edge before round 10): a dim nucleus whose 30 % lies below it is
    outlined there."""
    if peak is None:
        return np.full(n + 1, float(value))
    return np.maximum(level + _TRIM * (peak - level), float(value))


def _core_peak(labels, smooth, height, level=None) -> np.ndarray:
    """Per label, the maximum of ``smooth`` over its core: its pixels where ``height`` (a
    distance to its outline) is at least half its largest value in the label.

    A nucleus's own peak, not the halo of a brighter neighbour that its outline touches.
    """
    n = int(labels.max())
    core = _only(labels, height >= _per_label(0.5 * _label_max(height, labels, n), labels))
    peak = _label_max(smooth, core, n)
    peak[0] = np.inf
    if level is not None:
        peak = _unless_foci(labels, smooth, level, peak, core, _FOCI_CAP, _FOCI_BODY)
        peak[0] = np.inf
    return peak


def _refine_outlines(labels, smooth, cuts, factor: int, shape, territories, frozen=None,
                     orient=None):
    """Enlarge working-resolution labels to ``shape`` with full-resolution outlines.

    Nearest-neighbour enlargement would draw every outline in steps of ``factor`` pixels.
    Instead, the full-resolution pixels of working pixels on an outline (a neighbour with
    another label) are decided again, from the 3 × 3 working pixels around: each goes to
    the nucleus whose indicator, interpolated bilinearly at its centre, is largest there
    (the outline between two touching nuclei becomes the level line half-way between
    them instead of a staircase), and stays in it if the smoothed image, interpolated the
    same way, is above that nucleus's cut (else it is background). Working pixels where
    ``frozen`` is True (nuclei that were dropped) are left as they are.

    Returns ``(labels, territories)`` both enlarged (``territories`` given at working
    resolution), a nucleus's redrawn pixels being in its own territory (distance 0).
    ``orient`` (:mod:`._orient`; None: as they are): both in the orientation
    ``from_canonical(..., orient)`` gives, the same pixels, without copying them back
    after the enlargement.
    """
    if factor <= 1 or not labels.any():
        out = _upsample(labels, factor, shape), _upsample(territories, factor, shape)
        if orient is None:
            return out
        return tuple(np.ascontiguousarray(from_canonical(a, orient)) for a in out)
    outline = _outline(labels)
    if frozen is not None:
        outline &= ~frozen
    h, w = labels.shape
    transpose, flip_rows, flip_cols = IDENTITY if orient is None else orient
    # enlarged to whole blocks (cropped to ``shape`` at the end), in the output's
    # orientation: a flip or turn of whole blocks is the blocks of the working pixels
    # flipped or turned; along rows first: the second repeat then copies whole rows
    # (2.5x faster)
    up, owner = (np.repeat(np.repeat(from_canonical(a, (transpose, flip_rows, flip_cols)),
                                     factor, axis=1), factor, axis=0)
                 for a in (labels, territories))
    stride = up.shape[1]
    t = (np.arange(factor) + 0.5) / factor - 0.5  # offset from the pixel centre
    tent = np.stack([np.maximum(-t, 0), 1 - np.abs(t), np.maximum(t, 0)], axis=1)
    # weight of each of the 3 x 3 neighbours at each of the factor x factor pixel centres
    weight = np.einsum("ia,jb->abij", tent, tent).reshape(9, factor * factor)
    padded = np.pad(smooth, 1, mode="edge").ravel()
    padded_labels = np.pad(labels, 1, mode="edge").ravel()
    # the 3 x 3 neighbours of a working pixel, row by row, as offsets in the padded arrays
    hood_at = (np.arange(3)[:, None] * (w + 2) + np.arange(3)).ravel()
    wr, wc = _nonzero(outline)
    # a block's pixels (row by row as it is here) as offsets in the enlarged arrays from
    # its first one there, and the first pixel of each working pixel's block (below)
    i, j = np.arange(factor)[:, None], np.arange(factor)[None, :]
    i, j = (factor - 1 - i if flip_rows else i), (factor - 1 - j if flip_cols else j)
    in_block = ((j * stride + i) if transpose else (i * stride + j)).ravel()
    step = max(1, 2**21 // (9 * factor * factor))  # bounded memory for large factors
    for start in range(0, wr.size, step):
        r, c = wr[start:start + step], wc[start:start + step]
        at = (r * (w + 2) + c)[:, None] + hood_at
        hood, lab = padded[at], padded_labels[at]
        values = _weighted(hood, weight)  # (n, f*f) the smoothed image at the pixel centres
        # (the nine neighbours as rows: a maximum and minimum over them are whole-row steps,
        # where along the rows of ``lab`` numpy loops over each pixel's nine: round 48)
        across = np.ascontiguousarray(lab.T)
        top = across.max(axis=0)
        winner = np.repeat(top[:, None], weight.shape[1], axis=1)  # the only nucleus around
        two = np.flatnonzero(np.where(across > 0, across, top).min(axis=0) != top)
        if two.size:  # two nuclei or more around: the one of largest membership
            near = lab[two]
            # membership of neighbour k's nucleus: the summed weights of the neighbours
            # that carry the same label (background neighbours are not candidates)
            same = (near[:, :, None] == near[:, None, :]) & (near[:, None, :] > 0)
            member = _weighted(same.reshape(-1, 9), weight).reshape(len(two), 9, -1)
            member[near == 0] = -1.0
            winner[two] = np.take_along_axis(near, member.argmax(axis=1), axis=1)
        redrawn = _redrawn(values, winner, top, two, cuts)
        r1, c1 = (h - 1 - r if flip_rows else r), (w - 1 - c if flip_cols else c)
        first = (c1 * stride + r1) if transpose else (r1 * stride + c1)
        block_at = (first * factor)[:, None] + in_block  # their pixels
        up.ravel()[block_at] = redrawn
        # (each block's territory is its working pixel's: no need to read it back)
        owner.ravel()[block_at] = np.where(redrawn > 0, redrawn, territories[r, c][:, None])
    # the image's pixels: the first ones of the blocks, unless flipped to the far end
    rows = slice(h * factor - shape[0], None) if flip_rows else slice(0, shape[0])
    cols = slice(w * factor - shape[1], None) if flip_cols else slice(0, shape[1])
    crop = (cols, rows) if transpose else (rows, cols)
    return up[crop], owner[crop]


def _weighted(rows, weight) -> np.ndarray:
    """``rows @ weight`` (``rows`` n x 9, ``weight`` 9 x f²) as the plain sum of the nine
    products in order, by numpy's own loops rather than BLAS's matrix product.

    The product of a few thousand rows is large enough for OpenBLAS to hand it to its
    threads, which then spin for milliseconds after every call: with the default thread
    count, a U2OS image took 0.17 s of CPU for 0.10 s of wall time (one spinning core
    beside the one at work; on a machine of more cores, more of them), and no less wall
    time than with one thread. The sum in order is also the same on every machine: BLAS's
    kernel gave other last bits in ~20 % of the values here, and OpenBLAS picks its kernel
    by the CPU it runs on."""
    return np.einsum("nk,kp->np", rows, weight, optimize=False)


def _redrawn(values, winner, top, two, cuts) -> np.ndarray:
    """``np.where(values > cuts[winner], winner, 0)``: each of the f² pixels of an
    outline's working pixel (rows) kept in its winner if above that nucleus's cut.

    Exactly that, with f² fewer look-ups: ``winner`` is ``top`` (one id per row) on every
    row but the rows ``two`` (two nuclei around), so there ``cuts[winner]`` is
    ``cuts[top]`` for each of the row's pixels; it is looked up once per row, and per
    pixel on the rows ``two`` only (round 22: the look-up of every pixel's cut was ~1 ms
    of a U2OS image's outlines)."""
    limit = _per_label(cuts, top)[:, None]
    if two.size:
        limit = np.repeat(limit, winner.shape[1], axis=1)
        limit[two] = _per_label(cuts, winner[two])
    return _only(winner, values > limit)


def _outline(labels: np.ndarray) -> np.ndarray:
    """The pixels with a neighbour (of the 8) of another label: ``ndi.maximum_filter`` and
    ``ndi.minimum_filter`` over 3 x 3 differ exactly there (their window, mirrored at the
    sides, holds the pixel and its neighbours inside the array: not all equal is one
    unlike the pixel). Each pair of neighbours compared once, both marked: 4x faster."""
    out = np.zeros(labels.shape, dtype=bool)
    for a, b in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                 ((slice(1, None), slice(None)), (slice(None, -1), slice(None))),
                 ((slice(1, None), slice(1, None)), (slice(None, -1), slice(None, -1))),
                 ((slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None)))):
        differ = labels[a] != labels[b]
        out[a] |= differ
        out[b] |= differ
    return out


def _above_own_fraction(smooth, labels, level, fraction, peak) -> np.ndarray:
    """``labels`` where ``smooth`` is above ``fraction`` of each label's own contrast over
    the background, ``level + fraction * (peak - level)`` (``peak[0]`` = inf), else 0."""
    return _only(labels, smooth > _per_label(level + fraction * (peak - level), labels))
