"""Constant fills in an image's corners that do not run the length of an edge (a
rotation's triangles, a mosaic's missing tile): the rule that finds them (in memory,
:func:`fill_mask`, and chunk by chunk, :func:`fill_runs_lazy`), apart from
:mod:`napari_tessella._outside`, which reads them with a frame and NaN pixels as one
outside mask (round 56: that module had reached the length limit); and what the chunked
paths read a fill with: its pixels made in each chunk from its runs (:func:`fill_lazy`)
and the exact percentile of the pixels inside that they are given
(:func:`percentile_lazy`)."""

from __future__ import annotations

import numpy as np

from ._lazy import _compute

__all__ = ["FILL_RUN", "FILL_SPAN", "FILL_STRAIGHT", "FRAME_SHARE", "GATHER", "corner_values",
           "fill_lazy", "fill_mask", "fill_runs_lazy", "fills_lazy", "percentile_lazy",
           "unread_fills"]

#: a frame's value may recur on at most this share of the pixels inside it (a noiseless
#: background, a synthetic image's exact 0, lies inside: no frame); a fill's on at most
#: this share of the pixels off it
FRAME_SHARE = 0.01


def _lines(arr) -> tuple:
    """The four edge lines of the 2-d ``arr`` (top, bottom, left, right)."""
    return arr[0], arr[-1], arr[:, 0], arr[:, -1]


#: a fill that does not run the length of an edge (a rotation's corner triangle, a
#: mosaic's missing tile) lies in a corner and runs at least this many pixels along both
#: of its edges; its side facing the field keeps within this many pixels of a straight
#: line (a saturated nucleus cut by the corner is round)
FILL_RUN, FILL_STRAIGHT = 8, 1.5

#: the pixels off a fill span at least this share of the image's rows and of its columns
#: (a rotated field's vertices touch its edges; a mosaic's other tiles run to them)
FILL_SPAN = 0.9


def corner_values(lines) -> tuple:
    """The values that a corner of an image of edge ``lines`` (top, bottom, left, right)
    holds along :data:`FILL_RUN` pixels of both its edges: a fill's candidates."""
    top, bottom, left, right = (np.asarray(line) for line in lines)
    if min(top.size, left.size) < FILL_RUN:
        return ()
    n = FILL_RUN
    ends = ((top[0], top[:n], left[:n]), (top[-1], top[-n:], right[:n]),
            (bottom[0], bottom[:n], left[-n:]), (bottom[-1], bottom[-n:], right[-n:]))
    found = []
    for v, a, b in ends:  # (a NaN corner never equals itself)
        if v == v and v not in found and (a == v).all() and (b == v).all():
            found.append(v)
    return tuple(found)


def _straight(depth) -> bool:
    """Whether a profile of depths (one per line across an edge, 0 where the fill is
    not) is made of straight pieces: each run of lines it covers lies within
    :data:`FILL_STRAIGHT` of a straight line, or of two that meet at its least deep
    point (two triangles meeting at a rotated field's vertex)."""
    def line(part):
        if part.size < 3:
            return True
        x = np.arange(part.size, dtype=np.float64)
        fit = np.polyval(np.polyfit(x, part, 1), x)
        return bool(np.abs(part - fit).max() <= FILL_STRAIGHT)

    covered = np.flatnonzero(depth)
    for run in np.split(covered, np.flatnonzero(np.diff(covered) > 1) + 1):
        if not run.size:
            continue
        part = depth[run].astype(np.float64)
        low = np.flatnonzero(part == part.min())  # (a vertex may lie along a few lines,
        # and nothing between them rises off it)
        flat = part[low[0]:low[-1] + 1].max() - part.min() <= FILL_STRAIGHT
        if not (line(part) or (flat and line(part[:low[0] + 1]) and line(part[low[-1]:]))):
            return False
    return True


def _runs(at, xp=np) -> tuple:
    """The runs of the bool 2-d ``at`` (a value's pixels; ``xp``: numpy or dask.array)
    from each edge: from the left and the right along each row, from the top and the
    bottom along each column (a whole line: its length)."""
    rows, cols = at.shape
    whole_rows, whole_cols = at.all(axis=1), at.all(axis=0)
    return (xp.where(whole_rows, cols, xp.argmin(at, axis=1)),
            xp.where(whole_rows, cols, xp.argmin(at[:, ::-1], axis=1)),
            xp.where(whole_cols, rows, xp.argmin(at, axis=0)),
            xp.where(whole_cols, rows, xp.argmin(at[::-1], axis=0)))


def _run_mask(runs, shape, xp=np):
    """The pixels of the ``runs`` (:func:`_runs`) of an image of ``shape`` (bool; lazy
    with ``xp`` dask.array, then in ``chunks``)."""
    left, right, top, bottom = runs
    rows, cols = shape
    r, c = xp.arange(rows)[:, None], xp.arange(cols)[None, :]
    return ((c < left[:, None]) | (c >= cols - right[:, None]) | (r < top[None, :])
            | (r >= rows - bottom[None, :]))


def _a_fill(runs, shape, at_value: int, in_runs: tuple) -> bool:
    """Whether the runs of a value from the image's edges (:func:`_runs`; ``in_runs``:
    their pixels, those of the runs along rows and along columns alone; ``at_value``:
    the image's pixels at the value) are a fill: at least ``FILL_RUN``² / 2 pixels, the
    value on at most :data:`FRAME_SHARE` of the pixels off them (more: the field's own
    flat background, which the runs only enter), and the runs along rows (or along
    columns) straight (:func:`_straight`, lines they fill whole left out: a frame's) and
    holding every pixel of the runs (two bands meeting in a corner are straight along one
    of the two only; a saturated nucleus cut by a corner is round along both)."""
    union = in_runs[0]
    if union < FILL_RUN * FILL_RUN // 2:
        return False
    for (first, last), n in ((runs[:2], shape[1]), (runs[2:], shape[0])):
        lines = np.flatnonzero(np.asarray(first) + np.asarray(last) < n)  # (not filled)
        if not lines.size or lines[-1] - lines[0] + 1 < FILL_SPAN * (shape[0] + shape[1] - n):
            return False  # (a flat background around one small nucleus: it lies inside)
    if at_value - union > FRAME_SHARE * (shape[0] * shape[1] - union):
        return False
    for pair, n, alone in ((runs[:2], shape[1], in_runs[1]), (runs[2:], shape[0], in_runs[2])):
        part = np.asarray(pair[0]) < n
        if alone == union and all(_straight(np.asarray(depth)[part]) for depth in pair):
            return True
    return False


def _counts(runs, shape, xp=np) -> tuple:
    """The pixels of the ``runs`` (:func:`_runs`): all, along rows alone, along columns
    alone (lazy with ``xp`` dask.array)."""
    zero_rows, zero_cols = xp.zeros(shape[0], int), xp.zeros(shape[1], int)
    return (_run_mask(runs, shape, xp).sum(),
            _run_mask((*runs[:2], zero_cols, zero_cols), shape, xp).sum(),
            _run_mask((zero_rows, zero_rows, *runs[2:]), shape, xp).sum())


def fill_mask(img: np.ndarray, lines=None) -> tuple[np.ndarray | None, tuple]:
    """The pixels of the 2-d ``img`` that are a constant fill in its corners (a rotation's
    triangles, a mosaic's missing tile: runs of one value from the edges that start in a
    corner, :data:`FILL_RUN`, :func:`_a_fill`) and the fills' values, or (None, ()). A
    saturated nucleus cut by a corner is round, and a flat background that touches the
    edges recurs inside: neither is a fill.

    >>> img = np.random.default_rng(0).normal(100, 5, (40, 50))
    >>> img[np.add.outer(np.arange(40), np.arange(50)) < 15] = 0.0  # (a corner's triangle)
    >>> mask, values = fill_mask(img)
    >>> values, int(mask.sum())
    ((0.0,), 120)
    """
    mask, kept = None, []
    for v in corner_values(_lines(img) if lines is None else lines):
        at = img == v
        runs = _runs(at)
        found = _run_mask(runs, img.shape)
        inside = img[~found]  # (one flat rectangle on a flat background: nothing inside)
        if inside.size and inside.min() < inside.max() and _a_fill(
                runs, img.shape, int(np.count_nonzero(at)), _counts(runs, img.shape)):
            mask = found if mask is None else mask | found
            kept.append(float(v))
    return mask, tuple(kept)


def fill_runs_lazy(arr, lines, scheduler=None) -> list:
    """The fills :func:`fill_mask` finds in the 2-d dask array ``arr`` (``lines``: its
    four edge lines, computed), by the same rule, as (value, runs) pairs (the runs of
    :func:`_runs`, computed: one number per row and per column, from which
    :func:`_run_mask` makes the fill's pixels): one pass over it for each value a corner
    holds, none when no corner holds one."""
    import dask.array as da

    kept = []
    for v in corner_values(lines):
        at = arr == v
        runs = _runs(at, da)
        count, *rest = _compute(at.sum(), *_counts(runs, arr.shape, da), *runs,
                                scheduler=scheduler)
        runs = tuple(np.asarray(r) for r in rest[3:])
        if _a_fill(runs, arr.shape, int(count), tuple(int(n) for n in rest[:3])):
            kept.append((float(v), runs))
    return kept


def fills_lazy(arr, lines, scheduler=None) -> tuple:
    """The values of the fills :func:`fill_runs_lazy` finds."""
    return tuple(v for v, _ in fill_runs_lazy(arr, lines, scheduler))


def unread_fills(values) -> str:
    """The sentence for fills (:func:`fills_lazy`) the chunked paths do not read ("" when
    none)."""
    if not values:
        return ""
    return (f"a constant fill of {' and '.join(f'{v:g}' for v in values)} in the image's "
            "corners is segmented with the field chunk by chunk (in memory it is read as "
            "outside the image)")


# --- chunk by chunk: a fill's pixels from its runs, the exact level it is given

#: an order statistic is read off the values sorted in memory once at most this many
#: lie in the histogram's bin that holds it
GATHER = 1 << 16


def _block_fill(block, runs_list, shape, block_info=None):
    (r0, r1), (c0, c1) = block_info[0]["array-location"]
    out = np.zeros(block.shape, bool)
    for left, right, top, bottom in runs_list:
        rows = np.arange(r0, r1)[:, None]
        cols = np.arange(c0, c1)[None, :]
        out |= ((cols < left[r0:r1, None]) | (cols >= shape[1] - right[r0:r1, None])
                | (rows < top[None, c0:c1]) | (rows >= shape[0] - bottom[None, c0:c1]))
    return out


def fill_lazy(arr, runs_list):
    """The pixels of the fills of ``runs_list`` (each the four runs of
    :func:`napari_tessella._fills._runs`, computed) in the 2-d dask array ``arr``'s
    chunks (bool, lazy; the image is not read)."""
    runs_list = [tuple(np.asarray(r) for r in runs) for runs in runs_list]
    return arr.map_blocks(_block_fill, runs_list, arr.shape, dtype=bool)


def _block_counts(block, edges):
    return np.histogram(block, edges)[0][None]


def _order_stat(values, rank: int, lo, hi, count: int, scheduler):
    """The ``rank``-th (from 0) of the 1-d lazy ``values`` (``count`` of them, from ``lo``
    to ``hi``), in their dtype: the histogram's bin that holds it, narrowed until its
    values are few enough to sort or all one."""
    below, last, within = 0, True, None
    for _ in range(200):
        part = values if within is None else values[within]
        if count <= GATHER:
            (got,) = _compute(part, scheduler=scheduler)
            return np.sort(got)[rank - below]
        edges = np.linspace(float(lo), float(hi), 1025)
        counts, low, high = _compute(
            part.map_blocks(_block_counts, edges, chunks=(1, 1024), new_axis=1,
                            dtype=np.int64).sum(axis=0),
            part.min(), part.max(), scheduler=scheduler)
        if low == high:
            return low
        cum = np.cumsum(counts)
        b = int(np.searchsorted(cum, rank - below, side="right"))
        below += int(cum[b - 1]) if b else 0
        count, last = int(counts[b]), last and b == counts.size - 1
        lo, hi = edges[b], edges[b + 1]
        within = (values >= lo) & ((values <= hi) if last else (values < hi))
    (got,) = _compute(values[within], scheduler=scheduler)
    return np.sort(got)[rank - below]


def percentile_lazy(values, q: float, n: int, scheduler=None) -> float:
    """``np.percentile(values, q)`` (linear) of the ``n`` 1-d lazy ``values``, exactly: the
    two order statistics it interpolates between, then numpy's interpolation.

    >>> import dask.array as da
    >>> x = np.random.default_rng(0).normal(0, 1, 1000)
    >>> percentile_lazy(da.from_array(x, chunks=100), 1.0, 1000) == float(np.percentile(x, 1))
    True
    """
    lo, hi = _compute(values.min(), values.max(), scheduler=scheduler)
    virtual = (n - 1) * np.true_divide(q, 100)
    k = int(np.floor(virtual))
    gamma = float(virtual - np.floor(virtual))  # (a Python float: numpy's weak promotion)
    a = _order_stat(values, k, lo, hi, n, scheduler)
    b = a if k + 1 > n - 1 or gamma == 0 else _order_stat(values, k + 1, lo, hi, n,
                                                         scheduler)
    a, b = np.asarray(a, values.dtype)[()], np.asarray(b, values.dtype)[()]
    diff = b - a
    value = np.add(a, diff * gamma)
    if gamma >= 0.5:
        value = np.subtract(b, diff * (1 - gamma), dtype=type(np.asarray(value).dtype))
    return float(value)
