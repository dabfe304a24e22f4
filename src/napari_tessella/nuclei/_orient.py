"""The orientation the nuclei recipe works in, chosen from the image's content.

The recipe's steps are not all symmetric: the working image is made of blocks anchored at
the top-left corner (a flip moves the grid by the image's remainder, up to a block less one
pixel), and equal values are settled in raster order (watershed flooding, maxima, sorts).
Mirrored or rotated, an image gave other nuclei: whole nuclei won or lost on U2OS (20,000
pixels on dna-11 flipped up-down, round 19). So the image is first put in one orientation
that depends on what it shows, not on how it was handed over: its intensity's centre of
mass in its upper-left quarter and (a square image) its spread larger along the columns,
or (any other) fewer rows than columns. The 8 flips and quarter turns of an image then
give the same nuclei, flipped and turned back (exactly, unless the image's mass lies at
its centre to within a billionth, as a symmetric image's does: then as given).

The choice reads the image's row and column sums only: in memory and chunked (one pass
over the data, with the value checks) it is the same.
"""

from __future__ import annotations

import numpy as np

#: no orientation change
IDENTITY = (False, False, False)

#: the 8 flips and quarter turns of the plane (the identity first), by name: the defaults
#: give the same nuclei, turned, for an image turned by any of them (round 19)
TURNS = {
    "as given": lambda a: a,
    "flipud": lambda a: a[::-1],
    "fliplr": lambda a: a[:, ::-1],
    "rot180": lambda a: a[::-1, ::-1],
    "transpose": lambda a: a.T,
    "rot90": lambda a: np.rot90(a),
    "rot270": lambda a: np.rot90(a, 3),
    "antitranspose": lambda a: np.rot90(a, 2).T,
}

# a moment within this fraction of its scale counts as zero (sums of the same pixels in
# another order, in memory and chunk by chunk, differ in the last bits only)
_TOL = 1e-9


def orientation(row_sums, col_sums) -> tuple[bool, bool, bool]:
    """``(transpose, flip_rows, flip_cols)`` for an image with these row and column sums
    (float64): transposed first (see :func:`to_canonical`), then flipped."""
    rows = np.asarray(row_sums, dtype=np.float64)
    cols = np.asarray(col_sums, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mass = float(np.abs(rows).sum())
    if not np.isfinite(mass) or not np.isfinite(cols).all() or mass == 0:
        return IDENTITY
    rows, cols, mass = rows / mass, cols / mass, 1.0  # moments of a unit mass

    def moments(sums):
        at = np.arange(sums.size) - (sums.size - 1) / 2
        return float(sums @ at), float(sums @ (at * at))

    (m_r, v_r), (m_c, v_c) = moments(rows), moments(cols)
    if rows.size != cols.size:
        transpose = rows.size > cols.size
    else:  # the larger spread along the columns
        transpose = v_r - v_c > _TOL * mass * rows.size**2
    if transpose:
        m_r, m_c = m_c, m_r
    size = max(rows.size, cols.size)
    # the centre of mass moved to the upper-left quarter
    return transpose, m_r > _TOL * mass * size, m_c > _TOL * mass * size


def of_image(img: np.ndarray, pixels=None) -> tuple[bool, bool, bool]:
    """:func:`orientation` of an image in memory (float, already rescaled if extreme);
    ``pixels``: the plane of integers it was made from, or None.

    The sums of a plane of 8- or 16-bit integers of sides under 2**16 are taken in 32-bit
    integers, exactly (2x faster): the float64 sums of its float64 copy are the same
    numbers, every partial sum being a whole number far below 2**53."""
    if (pixels is not None and pixels.dtype.kind in "iu" and pixels.dtype.itemsize <= 2
            and pixels.shape == img.shape and max(pixels.shape) < 2**16):
        acc = np.uint32 if pixels.dtype.kind == "u" else np.int32
        return orientation(*(np.sum(pixels, axis=k, dtype=acc).astype(np.float64)
                             for k in (1, 0)))
    return orientation(*(np.sum(img, axis=k, dtype=np.float64) for k in (1, 0)))


def to_canonical(arr, orient):
    """``arr`` (numpy or dask, 2-D) in the orientation ``orient``."""
    transpose, flip_rows, flip_cols = orient
    if transpose:
        arr = arr.T
    if flip_rows:
        arr = arr[::-1]
    if flip_cols:
        arr = arr[:, ::-1]
    return arr


def from_canonical(arr, orient):
    """The inverse of :func:`to_canonical`."""
    transpose, flip_rows, flip_cols = orient
    if flip_cols:
        arr = arr[:, ::-1]
    if flip_rows:
        arr = arr[::-1]
    if transpose:
        arr = arr.T
    return arr


def points_to_canonical(points, orient, shape):
    """(K, 2) (row, column) points of an image of ``shape`` in the orientation ``orient``."""
    transpose, flip_rows, flip_cols = orient
    pts = np.array(points, dtype=np.float64, copy=True).reshape(-1, 2)
    rows, cols = shape
    if transpose:
        pts = pts[:, ::-1].copy()
        rows, cols = cols, rows
    if flip_rows:
        pts[:, 0] = rows - 1 - pts[:, 0]
    if flip_cols:
        pts[:, 1] = cols - 1 - pts[:, 1]
    return pts


def points_from_canonical(points, orient, shape):
    """The inverse of :func:`points_to_canonical` (``shape``: the image's, as given)."""
    transpose, flip_rows, flip_cols = orient
    pts = np.array(points, dtype=np.float64, copy=True).reshape(-1, 2)
    rows, cols = shape[::-1] if transpose else shape
    if flip_rows:
        pts[:, 0] = rows - 1 - pts[:, 0]
    if flip_cols:
        pts[:, 1] = cols - 1 - pts[:, 1]
    return pts[:, ::-1].copy() if transpose else pts


def _quiet_sum(x, axis=None, keepdims=False, **_):
    with np.errstate(over="ignore", invalid="ignore"):  # extreme images: made again
        return np.sum(x, axis=axis, dtype=np.float64, keepdims=keepdims)


def lazy_sums(raw):
    """The row and column sums of a dask image, in float64, without overflow warnings (an
    image near the largest float overflows them: its orientation is chosen from the sums
    of the rescaled image, as in memory)."""
    import dask.array as da

    return [da.reduction(raw, _quiet_sum, _quiet_sum, axis=k, dtype=np.float64)
            for k in (1, 0)]


def overview_variants(raw, factors_of) -> dict:
    """The diameter's reduced images (``_reduce_lazy(..., trim=True)``: the last partial
    rows and columns dropped) of the image in every orientation it may be turned to,
    computed in the one pass that reads the image before the orientation is known: per
    factor (``set(factors_of(shape))``, symmetric in the two sides) and per axis, its
    remainder dropped at the end or at the start.
    ``{(factor, start_rows, start_cols): lazy}``; see :func:`canonical_overviews`."""
    from ._resample import _reduce_lazy

    out = {}
    rows, cols = raw.shape
    for f in sorted(set(factors_of(raw.shape))):
        for r in {0, rows % f}:
            for c in {0, cols % f}:
                out[f, bool(r), bool(c)] = _reduce_lazy(raw[r:, c:], f, trim=True,
                                                        quiet=True)
    return out


def canonical_overviews(variants: dict, orient, shape) -> dict:
    """From :func:`overview_variants` computed on an image of ``shape``, the reduced
    images of the image turned to ``orient`` (block means of the same pixels)."""
    transpose, flip_rows, flip_cols = orient
    start = (flip_cols, flip_rows) if transpose else (flip_rows, flip_cols)
    out = {}
    for (f, r, c), image in variants.items():
        want = (start[0] and shape[0] % f > 0, start[1] and shape[1] % f > 0)
        if (r, c) == want:
            out[f] = np.ascontiguousarray(to_canonical(np.asarray(image), orient))
    return out
