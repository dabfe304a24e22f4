"""Dim nuclei on a glow that the foreground cut found only a sliver of (issue 14, round 36).

On ``uneven d32`` fields most errors are dim nuclei within 2.5 d of a saturated cell
(55 of the 60 dim nuclei lost on 20 tuning fields lay there, of 208; 5 of 112 farther
out). The glow search (:func:`._dim._glow_dim`) outlines many of them over the
surface fitted to their ring, but its first pass adds an outline only where it lies on the
background (:func:`._carve._add_or_carve`): where the foreground cut had already drawn a
sliver of the nucleus (its brighter side, above a glow residue the flattening left), the
outline was dropped and the sliver stayed, under half of the nucleus, so it was missing.

:func:`_with_slivers` gives those outlines the rule round 32 gave the second pass
(:mod:`._unflat`): a label with at least ``_PIECE`` of its pixels inside an outline is a
piece of it and is taken in. The outline is added when at most a tenth of it lies on labels
that are not its pieces, its pieces and the background it covers hold ``least`` pixels,
and its pieces hold at most ``_SLIVER`` of it: a label that already fills its outline is
that nucleus found (or an outline the first pass added), and is left as it is. (The
outline reaches a fifth of the contrast and a pixel more, so it is wider than the nucleus
by its blurred rim: a nucleus found without its rim, under ``_SLIVER`` of the outline, is
given the outline too.)
"""

from __future__ import annotations

import numpy as np

from ._unflat import _added, _under_outlines

#: the pieces taken in hold at most this share of the outline (tuning `uneven d32`: the
#: slivers 0.31-0.83 of their outline; a label the first pass added fills all of it)
_SLIVER = 0.85
#: round 42: a largest piece holding at most this share of its outline is taken in outside
#: a saturated cell's blob too (tuning `mixed d28`: dim nuclei apart from the cell's blob
#: kept as pieces of 0.39-0.55 of their outline; a dim disc found whole but for its rim,
#: 0.67, is left, as are U2OS's nuclei beside a cell)
_SMALL_PIECE = 0.6


def _small_piece(host, comp, labels) -> np.ndarray:
    """Per outline 0..k of ``comp`` whose largest piece is label ``host`` (0: none),
    whether that piece holds at most ``_SMALL_PIECE`` of the outline (pixel counts)."""
    k = host.size - 1
    size = np.bincount(comp.ravel(), minlength=k + 1)
    on = (comp > 0) & (labels == host[comp]) & (host[comp] > 0)
    held = np.bincount(comp[on], minlength=k + 1)
    return (host > 0) & (held <= _SMALL_PIECE * size)


def _with_slivers(labels, markers, peak, smooth, least, comp, k, points, gate=None):
    """``labels`` with the outlines ``comp`` (1..``k``; ``points``, the points they were
    found from, get markers) that hold slivers of a label added as labels of their own,
    their pieces taken in (see the module's docstring). Returns the labels, markers,
    peaks and whether anything was added.

    Every choice is by pixel counts of one outline and the labels under it, as in
    :func:`._unflat._with_unflat`: no order between outlines.

    Parameters
    ----------
    labels : (M, N) ndarray of int
        The labels so far (0 = background).
    markers : (M, N) ndarray of int
        Their markers.
    peak : (n,) ndarray of float
        Each label's peak (:func:`._outlines._core_peak`).
    smooth : (M, N) ndarray of float
        The flattened working image.
    least : float
        The minimum size, working pixels.
    comp : (M, N) ndarray of int
        The outlines, 1..``k``.
    k : int
        Their number.
    points : (M, N) ndarray of bool
        The points the outlines were found from.
    gate : callable, optional
        Given per outline 0..k the label it takes in (its largest piece; 0: none, or two
        as large), whether that outline may be added. Rounds 36-41 passed
        :func:`._dim._cell_in_blob` (the label in a saturated cell's blob within the glow
        search's reach), which kept the piece of a dim nucleus apart from the cell's blob
        (`mixed d28`: missing and spurious at once); since round 42 the glow step passes
        that or :func:`_small_piece` (a chunk's window holds every saturated cell within
        reach of its core, :func:`._glow_model._glow_window`: 0 objects differ in the
        chunked benchmarks).

    Returns
    -------
    tuple
        (labels, markers, peak, added).
    """
    on = comp > 0
    if k == 0 or not on.any() or not (labels[on] > 0).any():
        return labels, markers, peak, False
    u = _under_outlines(labels, comp, k)
    # a label can be a piece of one outline only (it has over half of its pixels there)
    new = ((u.held > 0) & (u.held <= _SLIVER * u.size) & (u.free + u.held >= least)
           & (10 * u.other <= u.size))
    new[0] = False
    if gate is not None and new.any():  # the outline's largest piece as its host
        host = np.zeros(k + 1, np.int64)
        most = np.zeros(k + 1, np.int64)
        np.maximum.at(most, u.part_of[u.piece], u.counts[u.piece])
        top = u.piece & (u.counts == most[u.part_of])
        host[u.part_of[top]] = u.label_of[top]
        host[np.bincount(u.part_of[top], minlength=k + 1) != 1] = 0  # a tie: none (no ids)
        host[~new] = 0
        new &= gate(host)
    if not new.any():
        return labels, markers, peak, False
    return (*_added(labels, markers, peak, smooth, comp, points, new, u), True)
