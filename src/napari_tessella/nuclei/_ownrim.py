"""Whether a piece of the glow cut over its own ring stands out of its ring all round.

Round 39's cut (:func:`._edges._over_own_ring`) cuts each part of the glow split again at
half its height over the glow's excess on its own ring. On a glow that is uneven
(``uneven d32``: the illumination 2-3x across the field, glare streaks) the pieces it
makes include ragged pieces of the glow itself: between two nuclei, above the saturated
cell, a glare streak's wedge beside a nucleus. Their rim is as steep as a nucleus's where
the glow falls away from them, so the rim test (:func:`._edges._keep_pieces`, on the
median gradient of the outline) passes them; but on two or more sides the image *rises*
outwards from them, as a slope's or a saddle's does. A nucleus, however dim, stands above
its surroundings on all sides but, at most, one (towards the saturated cell whose glow
climbs, or a neighbour it touches).

Everything is whole-pixel and read in the piece's own box: the octants are told by the
signs of integer offsets from the piece's centre (its coordinate sums over its area,
never a rounded float), so a chunk with its margin reads the same.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the bands inside and outside a piece's outline compared, this many d wide
_BAND = 0.25
#: a piece is kept when the image falls outwards on all its octants but at most this many
_RISING = 1


def _stands_all_round(piece, img, d) -> bool:
    """Whether the image falls from ``piece`` (boolean) outwards on all octants around
    its centre but ``_RISING``: the median of ``img`` over the band ``_BAND`` d wide
    inside its outline above that over the band as wide outside it, per octant (an
    octant without both bands is not counted).

    Parameters
    ----------
    piece : numpy.ndarray
        Boolean mask of one piece, in a box holding the band outside it.
    img : numpy.ndarray
        The smoothed image over the same box.
    d : float
        Typical nucleus diameter in pixels.

    Returns
    -------
    bool
        False when the image rises outwards on more than ``_RISING`` octants (a piece of
        a glow's slope or of the glow between nuclei), else True.
    """
    r = max(1, round(_BAND * d))
    square = np.ones((2 * r + 1, 2 * r + 1), bool)
    inner = piece & ~ndi.binary_erosion(piece, square)
    outer = ndi.binary_dilation(piece, square) & ~piece
    ys, xs = np.nonzero(piece)
    n = ys.size
    if n == 0:
        return False
    sy, sx = int(ys.sum()), int(xs.sum())
    yy, xx = np.nonzero(inner | outer)
    dy, dx = n * yy.astype(np.int64) - sy, n * xx.astype(np.int64) - sx  # x n: integers
    octant = 4 * (dy < 0) + 2 * (dx < 0) + (np.abs(dy) > np.abs(dx))
    oct_img = np.full(piece.shape, -1, np.int64)
    oct_img[yy, xx] = octant
    rising = 0
    for o in range(8):
        here = oct_img == o
        i, u = inner & here, outer & here
        if i.any() and u.any() and np.median(img[i]) < np.median(img[u]):
            rising += 1
    return rising <= _RISING
