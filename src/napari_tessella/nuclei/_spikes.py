"""Spikes: isolated bright and dark pixels read as their neighbourhood's median (rounds 53, 54).

A camera's hot pixels, a stuck bright column or row and the salt of salt-and-pepper noise
are single pixels far above everything round them. Block-averaged, each one became a
bright blob of the working image: a 512² field of 40 nuclei with 0.17 % of its pixels at
65535 was estimated at a diameter of 3.8 px instead of 30 and gave 219 "nuclei"; U2OS
images (16-bit) with 1 % salt and pepper gave 183 errors per image instead of 3. Before the
estimate and the watershed, :func:`_despiked` finds such pixels and reads each as the
median of its eight neighbours. A clean image is returned as given (the same array): its
labels are those of before, bit for bit.

*A bright spike* is a pixel above ``p98 + 2 (p98 - p50)`` (read on every eighth row and
column, at least 128 of each: the bright end of the nuclei, three times as far from the
median) that stands above both its neighbours along a row, or both along a column (along
the image border only on it), by more than ``p98 - p50``, more than a third of its own
height over the median, and more than 12 noise units (the median absolute difference of
neighbours of the sample, read only when a candidate passes the first two): a nucleus's
own pixels, blurred by the optics, never do, nor do the bright foci of textured nuclei (a
U2OS focus stands 16 over its neighbours at 220, on a median of 31). A pixel between two
spikes along a line (a stuck column) is still one across it. A clean image mostly stops at
its maximum.

*A dark spike* (a dead pixel, a dead column or row, pepper; round 54) is a pixel at most
the median that lies below both its neighbours along a row, or both along a column, by
more than a quarter of ``p98 - p50`` and more than 8 noise units (both: ``_DARK``,
``_DARK_NOISE``, tuned on pepper, dead lines and clean fields): a pixel at the background's
level inside a nucleus. A nucleolus, the dark gap between touching nuclei and a textured
nucleus's dark pixels are blurred by the optics over several pixels and never do (on the
cell-line fields and U2OS images no clean pixel below the median passes both tests:
the nearest lies at half of them). Such a pixel can lie anywhere, so
they are looked for on every pixel only when one is found on the grid of every eighth row
and column (rows and columns 4, 12, 20 ...: a dead column or row crosses it, pepper on
0.1 % of the pixels leaves a hundred on it); a clean image costs the grid's test alone.

*A cluster* (round 55: a camera's dead or hot pixels in twos, fours, nines) of up to
3 × 3 pixels has a dark (hot) neighbour on each side of all but its middle, so neither
rule reads it. A pixel that lies below every pixel of its *ring* (the 16 pixels at
distance 2) by more than an eighth of ``p98 - p50`` and 6 noise units, at most the median
(``_RING_DARK``, ``_RING_NOISE``), or above its ring as a bright spike does above its
neighbours (by half its height over the median, ``_RING_SHARE``), is a cluster's pixel
or its middle; with its neighbours that lie as far below (above) that ring, it is read
as the ring's median. Nucleoli, the gaps between nuclei and small bright blobs have a
ring that comes down (up) with them: on 183 clean images (U2OS at 8 and 16 bits,
cell-line and dense fields) the nearest pixel lies at 0.57 of the dark ring rule and
0.57 of the bright one. The dark ring rule's depth is half the single-pixel rule's, so
the dead pixels of a dim nucleus are read too. A dead cluster of 4 × 4 (round 56) has no
pixel whose ring at distance 2 is free of it: its middle pixels lie below every pixel of
the ring at distance 3 (24 pixels), by the same depth (on the 183 clean images the nearest
pixel comes to 0.81 of it, in a pocket between small packed nuclei). Hot ones are not read
so: a clean U2OS image's small bright blob stands over that ring as far as a hot 4 × 4.

*Stray dead pixels* (a few, all off the grid) are looked for in one pass over the rows:
a pixel at most the median with the pixel on its left and one of the four on its right
above the median by the ring rule's depth, that is itself a ring hit or next to one (of
a 4 × 4, at distance 3); when one is found, every pixel is tested as when the grid
holds one.

All rules read each pixel's 11 × 11 neighbourhood at most (a stray's ring at distance 3)
with levels of the whole image, so the chunked path (:func:`_despiked_lazy`) reads the
same spikes chunk by chunk, with an overlap of five pixels, from the levels and the dark
decision taken once over the image.
"""

from __future__ import annotations

import numpy as np

# a spike stands above (below) both its neighbours by this many noise units at least
_NOISE_UNITS = 12.0
# the sample's quantiles that give the nuclei's bright end and the median
_HIGH_Q, _MID_Q = 98.0, 50.0
# a spike stands over its neighbours by at least this share of its height over the median
_SHARE = 1 / 3
# candidates are the pixels over p98 + this many times (p98 - p50)
_FLOOR = 2.0
# the levels are read on every this many rows and columns at most
_STEP = 8
# ... and on at most this many pixels (a slide's sample, chunked: bounded memory)
_SAMPLE = 2**24
# a dark spike lies below both its neighbours by this share of (p98 - p50) at least, and
# by this many noise units
_DARK, _DARK_NOISE = 0.25, 8.0
# the grid on which dark spikes are looked for first: every this many rows and columns,
# from the one at half of it
_GRID = 8
# a cluster of up to 3 x 3 defects lies below (above) the ring of the 16 pixels at distance
# 2 round one of its pixels (round 55); a dark one by this share of (p98 - p50) at least,
# and by this many noise units
_RING = tuple((dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
              if max(abs(dy), abs(dx)) == 2)
_RING_DARK, _RING_NOISE = 0.125, 6.0
# a cluster of 4 x 4 (up to 5 x 5) lies below (above) the ring of the 24 pixels at
# distance 3 round its middle pixels, by the same depths (round 56)
_RING3 = tuple((dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)
               if max(abs(dy), abs(dx)) == 3)
# a bright one stands over its ring by this share of its height over the median (a small
# bright blob of a clean image, blurred, by 0.43 at most)
_RING_SHARE = 0.5
# a chunk's window reaches this many pixels past its core (a cluster's pixel, its ring)
_HALO = 5


def _step(shape) -> int:
    """The sample's step: every eighth row and column (fewer, so that at least 128 of each
    are read; more on an image of over 2**30 pixels, so that at most 2**24 are read)."""
    # (at least 128 rows and columns: a stuck line on the sample's grid, one of 48
    # columns, was its top 2 % and hid itself)
    step = max(1, min(_STEP, min(shape) // 128))
    return max(step, int(np.ceil(np.sqrt(shape[0] * shape[1] / _SAMPLE))))


def _levels(sample: np.ndarray) -> tuple[float, float, float, np.ndarray] | None:
    """The candidates' floor, the spread (``p98 - p50``) and median of the image's
    ``sample`` (its pixels every :func:`_step` rows and columns), with the sample; None
    when the sample has no spread."""
    flat = sample.ravel()
    mid_k, high_k = (int(q / 100 * (flat.size - 1)) for q in (_MID_Q, _HIGH_Q))
    part = np.partition(flat, [mid_k, high_k])
    mid, high = float(part[mid_k]), float(part[high_k])  # (integers: as floats)
    if not high > mid:
        return None
    return high + _FLOOR * (high - mid), high - mid, mid, sample


def _noise(sample: np.ndarray) -> float:
    """The noise of ``sample`` from the median absolute difference along its rows."""
    steps = np.abs(np.diff(sample.astype(np.float64), axis=1)).ravel()
    return 1.4826 * float(np.median(steps)) / np.sqrt(2.0) if steps.size else 0.0


def _real(a: np.ndarray) -> np.ndarray:
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def _neighbours(w: np.ndarray, org, shape, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The eight neighbours of the image's pixels ``(r, c)``, (8, K), mirrored at the
    image's border, read in its window ``w`` whose first pixel is the image's ``org``."""
    rows, cols = shape
    up, down = np.abs(r - 1) - org[0], (rows - 1) - np.abs(rows - 2 - r) - org[0]
    left, right = np.abs(c - 1) - org[1], (cols - 1) - np.abs(cols - 2 - c) - org[1]
    r, c = r - org[0], c - org[1]
    return _real(np.stack([w[up, left], w[up, c], w[up, right], w[r, left],
                           w[r, right], w[down, left], w[down, c], w[down, right]]))


def _medians(w, org, shape, r, c) -> np.ndarray:
    """The median of the eight neighbours of the pixels ``(r, c)``, in float64: the mean of
    the middle two, halved first (two neighbours near the largest float have a mean, not
    an overflow; otherwise the same number as numpy's median)."""
    middle = np.sort(_neighbours(w, org, shape, r, c).astype(np.float64), axis=0)[3:5]
    return middle[0] / 2 + middle[1] / 2


def _bright(w, org, shape, core, levels, noise):
    """The bright spikes of the image's ``core`` box ``(r0, r1, c0, c1)`` read in its
    window ``w`` (``org``: the window's first pixel in the image; ``noise()``: the noise
    unit, read only when a candidate passes the other tests): the single ones ``(rows,
    cols)`` and the clusters' pixels ``(rows, cols, values)`` (:func:`_bright_rings`), each
    None when there are none."""
    floor = levels[0]
    if not w.size or not float(w.max()) > floor:  # (a clean image mostly stops here)
        return None, None
    r, c = np.divmod(np.flatnonzero(w > floor), w.shape[1])
    r, c = r + org[0], c + org[1]
    r0, r1, c0, c1 = core
    mine = (r >= r0) & (r < r1) & (c >= c0) & (c < c1)
    i0, i1, j0, j1 = _inner(core, shape, 1)
    near = (r >= i0) & (r < i1) & (c >= j0) & (c < j1)
    return (_single(w, org, shape, r[mine], c[mine], levels, noise),
            _bright_rings(w, org, shape, core, r[near], c[near], levels, noise))


def _single(w, org, shape, r, c, levels, noise):
    """The candidates ``(r, c)`` above the floor that are single bright spikes."""
    if not r.size:
        return None
    spread, mid = levels[1:3]
    nb = _neighbours(w, org, shape, r, c)
    value = _real(w[r - org[0], c - org[1]])  # how far over both neighbours along its row,
    # or its column (on the image's border, along the border only: the mirrored
    # neighbour is no other)
    across = np.where((c > 0) & (c < shape[1] - 1), value - np.maximum(nb[3], nb[4]), -np.inf)
    along = np.where((r > 0) & (r < shape[0] - 1), value - np.maximum(nb[1], nb[6]), -np.inf)
    over = np.maximum(across, along)
    # and by a share of its own height over the median: a textured nucleus's bright
    # pixel stands over its neighbours by a small share of its height
    hit = (over > spread) & (over > _SHARE * (value - mid))
    if hit.any():  # (the noise is read only then)
        hit &= over > _NOISE_UNITS * noise()
    return (r[hit], c[hit]) if hit.any() else None


def _deeper(low: np.ndarray, v: np.ndarray, depth: float, mid: float) -> np.ndarray:
    """``(v <= mid) & (low - v > depth)``, elementwise, in the arrays' own dtype (no
    float copy of a plane of unsigned integers, no wrapping)."""
    if v.dtype.kind == "u":
        if depth >= np.iinfo(v.dtype).max or mid < 0:
            return np.zeros(v.shape, bool)
        return (v <= int(np.floor(mid))) & (low > v) & (low - v > int(np.floor(depth)))
    if v.dtype.kind != "f":
        low, v = low.astype(np.float64), v.astype(np.float64)
    with np.errstate(over="ignore"):  # (a difference past the largest float: inf, deeper)
        return (v <= mid) & (low - v > depth)


def _dark(w, org, shape, rows, cols, depth, mid, which="both"):
    """The dark spikes ``(rows, cols)`` among the image's rows ``range(*rows)`` and
    columns ``range(*cols)``, read in its window ``w`` (``org``: its first pixel in the
    image): pixels at most ``mid`` below both neighbours along their row (``which``
    "row"), their column ("column") or either ("both") by more than ``depth``, never
    across the image's border. With "row" or "column", only whether there is one."""
    found = []
    for axis in (0, 1):
        if which == ("row", "column")[axis]:
            continue
        # along a row (axis 1) or a column (axis 0): the inner rows or columns of the image
        lines = [rows, cols]
        start, stop, step = lines[axis]
        first = start if start > 0 else start + step
        lines[axis] = (first, min(stop, shape[axis] - 1), step)
        if any(b <= a for a, b, _ in lines):
            continue
        at = tuple(slice(a - o, b - o, k) for (a, b, k), o in zip(lines, org, strict=True))
        shift = [(0, 0), (0, 0)]
        shift[axis] = (-1, 1)
        near = [w[tuple(slice(sl.start + d[k], sl.stop + d[k], sl.step)
                        for sl, d in zip(at, shift, strict=True))] for k in (0, 1)]
        hit = _deeper(np.minimum(*near), w[at], depth, mid)
        if which != "both":
            return bool(hit.any())
        r, c = np.divmod(np.flatnonzero(hit), hit.shape[1])
        found.append((lines[0][0] + r * lines[0][2], lines[1][0] + c * lines[1][2]))
    if which != "both":
        return False
    if not found:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    return tuple(np.concatenate(a) for a in zip(*found, strict=True))


def _on_grid(w, org, shape, core, depth, mid) -> bool:
    """Whether the image's ``core`` box holds a dark spike on the grid (rows and columns at
    ``_GRID // 2`` modulo ``_GRID``): across a grid row (a dead column, pepper) or across
    a grid column (a dead row, pepper)."""
    r0, r1, c0, c1 = core
    at = _GRID // 2
    on_rows = ((r0 + (at - r0) % _GRID, r1, _GRID), (c0, c1, 1))
    on_cols = ((r0, r1, 1), (c0 + (at - c0) % _GRID, c1, _GRID))
    return (_dark(w, org, shape, *on_rows, depth, mid, "row")
            or _dark(w, org, shape, *on_cols, depth, mid, "column"))


def _ring(w, org, r, c, ring=_RING) -> np.ndarray:
    """The 16 pixels at distance 2 (``ring``: the 24 at distance 3, ``_RING3``) round the
    image's pixels ``(r, c)`` (each that far inside the image), (16, K) in float64, read in
    the window ``w``."""
    r, c = r - org[0], c - org[1]
    return np.stack([w[r + dy, c + dx] for dy, dx in ring]).astype(np.float64)


def _ring_median(ring: np.ndarray) -> np.ndarray:
    half = ring.shape[0] // 2
    middle = np.sort(ring, axis=0)[half - 1:half + 1]
    return middle[0] / 2 + middle[1] / 2


def _inner(box, shape, grow: int = 0, edge: int = 2):
    """``box`` grown by ``grow`` pixels and cut to the pixels at least ``edge`` inside the
    image."""
    r0, r1, c0, c1 = box
    return (max(r0 - grow, edge), min(r1 + grow, shape[0] - edge),
            max(c0 - grow, edge), min(c1 + grow, shape[1] - edge))


def _merged(first, then):
    """Two reads ``(rows, cols, values)`` (or None) as one; a pixel in both: ``first``'s."""
    if first is None or then is None:
        return then if first is None else first
    new = ~np.isin(then[0] * (1 << 32) + then[1], first[0] * (1 << 32) + first[1])
    return tuple(np.concatenate([a, b[new]]) for a, b in zip(first, then, strict=True))


def _cluster(w, org, shape, core, hit, extreme, test, ring=_RING):
    """The pixels ``(rows, cols, values)`` of the ``core`` box read from the ring hits
    ``hit`` ((rows, cols) found in the core grown by one pixel; ``extreme``: their ring's
    minimum or maximum): each hit and each neighbour of one that ``test(values, extreme)``
    passes, read as the ring median of the hit (of the first in row-major order when two
    reach it)."""
    r, c = hit
    if not r.size:
        return None
    med = _ring_median(_ring(w, org, r, c, ring))
    r0, r1, c0, c1 = core
    flat = r * shape[1] + c
    qr = np.concatenate([r + dy for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    qc = np.concatenate([c + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx])
    k = np.tile(np.arange(r.size), 8)
    ok = (qr >= r0) & (qr < r1) & (qc >= c0) & (qc < c1) & ~np.isin(qr * shape[1] + qc, flat)
    qr, qc, k = qr[ok], qc[ok], k[ok]
    ok = test(_real(w[qr - org[0], qc - org[1]]), extreme[k])
    qr, qc, k = qr[ok], qc[ok], k[ok]
    mine = (r >= r0) & (r < r1) & (c >= c0) & (c < c1)
    qf = qr * shape[1] + qc
    order = np.lexsort((flat[k], qf))  # (each neighbour once: from its first hit)
    first = order[np.r_[True, qf[order][1:] != qf[order][:-1]]] if qf.size else order
    rows = np.concatenate([r[mine], qr[first]])
    return rows, np.concatenate([c[mine], qc[first]]), np.concatenate([med[mine],
                                                                       med[k[first]]])


def _bright_rings(w, org, shape, core, r, c, levels, noise):
    """Clusters of bright spikes (up to 3 x 3: hot pixels in twos, fours, nines) of the
    ``core`` box: a candidate ``(r, c)`` (above the floor, in the core grown by one pixel)
    that stands above every pixel of its ring as a bright spike does above its
    neighbours, with its neighbours that do too. (Not at distance 3: a clean U2OS image's
    small bright blob stands over that ring as a 4 x 4 hot cluster does; round 56.)"""
    if not r.size:
        return None
    floor, spread, mid = levels[:3]
    top = _ring(w, org, r, c).max(axis=0)

    def test(value, top):
        over = value - top
        hit = (value > floor) & (over > spread) & (over > _RING_SHARE * (value - mid))
        return hit & (over > _NOISE_UNITS * noise()) if hit.any() else hit

    hit = test(_real(w[r - org[0], c - org[1]]), top)
    return _cluster(w, org, shape, core, (r[hit], c[hit]), top[hit], test)


def _dark_rings(w, org, shape, core, depth, mid):
    """Clusters of dark spikes (up to 3 x 3; 4 x 4 by the ring at distance 3) of the
    ``core`` box: a pixel at most ``mid`` below every pixel of its ring by more than
    ``depth``, with its neighbours that are too (the ring at distance 2 first)."""
    found = None
    for ring, d in ((_RING, 2), (_RING3, 3)):
        r0, r1, c0, c1 = _inner(core, shape, 1, d)
        if r1 <= r0 or c1 <= c0:
            continue
        at = (slice(r0 - org[0], r1 - org[0]), slice(c0 - org[1], c1 - org[1]))
        axial = [w[at[0].start + dy:at[0].stop + dy, at[1].start + dx:at[1].stop + dx]
                 for dy, dx in ((-d, 0), (d, 0), (0, -d), (0, d))]
        low = np.minimum(np.minimum(axial[0], axial[1]), np.minimum(axial[2], axial[3]))
        r, c = np.divmod(np.flatnonzero(_deeper(low, w[at], depth, mid)), c1 - c0)
        r, c = r + r0, c + c0
        bottom = _ring(w, org, r, c, ring).min(axis=0)

        def test(value, bottom):
            return (value <= mid) & (bottom - value > depth)

        hit = test(_real(w[r - org[0], c - org[1]]), bottom)
        found = _merged(found, _cluster(w, org, shape, core, (r[hit], c[hit]), bottom[hit],
                                        test, ring))
    return found


def _strays(w, org, shape, core, depth, mid) -> bool:
    """Whether the ``core`` box holds a dark pixel or cluster that the grid may miss (a few
    dead pixels): a pixel at most ``mid`` between a pixel on its left and one of the four
    on its right more than ``depth`` over ``mid`` (one pass over contiguous rows), that is
    itself a ring hit or whose next pixel or a pixel above or below those is (a cluster's
    middle; of a 4 x 4 cluster, by the ring at distance 3)."""
    r0, r1, c0, c1 = core
    rows = w[r0 - org[0]:r1 - org[0]]
    width = rows.shape[1]
    x = np.ascontiguousarray(rows).ravel()
    high = mid + depth
    if x.dtype.kind == "u":
        if high >= np.iinfo(x.dtype).max or mid < 0:
            return False
        high, mid = int(np.floor(high)), int(np.floor(mid))
    found, n = [], 1 << 17  # (in pieces that stay in the cache, with buffers reused)
    m, t, u = np.empty(n, bool), np.empty(n, bool), np.empty(n, x.dtype)
    for s in range(0, x.size - 5, n):
        y = x[s:s + n + 5]
        k = y.size - 5
        mk, tk, uk = m[:k], t[:k], u[:k]
        np.less_equal(y[1:-4], mid, out=mk)
        np.greater(y[:-5], high, out=tk)
        mk &= tk
        np.maximum(y[2:-3], y[3:-2], out=uk)
        np.maximum(uk, y[4:-1], out=uk)
        np.maximum(uk, y[5:], out=uk)
        np.greater(uk, high, out=tk)
        mk &= tk
        if mk.any():
            found.append(np.flatnonzero(mk) + s + 1)
    if not found:
        return False
    r, c = np.divmod(np.unique(np.concatenate(found)), width)
    c = c + org[1]
    ok = (c >= max(c0, 1)) & (c < min(c1, shape[1] - 3))
    r, c = r[ok] + r0, c[ok]
    last = np.flatnonzero(c == shape[1] - 4)  # (its fourth on the right: the next row's)
    if last.size:
        right = np.stack([w[r[last] - org[0], c[last] + k - org[1]] for k in (1, 2, 3)])
        ok = np.ones(r.size, bool)
        ok[last] = right.max(axis=0) > high
        r, c = r[ok], c[ok]
    if not r.size:
        return False
    for ring, d, near in ((_RING, 2, ((-1, 0, 1), (0, 1))), (_RING3, 3, ((-2, -1, 0, 1, 2),
                                                                           (1, 2)))):
        rr = np.concatenate([r + dy for dy in near[0] for dx in near[1]])
        cc = np.concatenate([c + dx for dy in near[0] for dx in near[1]])
        ok = (rr >= d) & (rr < shape[0] - d) & (cc >= d) & (cc < shape[1] - d)
        rr, cc = rr[ok], cc[ok]
        value = _real(w[rr - org[0], cc - org[1]])
        if ((value <= mid) & (_ring(w, org, rr, cc, ring).min(axis=0) - value > depth)).any():
            return True
    return False

def _found(w, org, shape, core, levels, noise, dark: bool):
    """The spikes ``(rows, cols, values)`` of the ``core`` box (bright, and dark with
    ``dark``; single ones read as their eight neighbours' median, the rest of a cluster as
    its ring's), or None."""
    single, cluster = _bright(w, org, shape, core, levels, noise)
    parts = [single]
    if dark:
        r0, r1, c0, c1 = core
        parts.append(_dark(w, org, shape, (r0, r1, 1), (c0, c1, 1), _depth(levels, noise),
                           levels[2]))
    parts = [p for p in parts if p is not None]
    r = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.intp)
    c = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.intp)
    flat = np.unique(r * shape[1] + c)  # (a pixel dark both along and across: once)
    r, c = np.divmod(flat, shape[1])
    value = _medians(w, org, shape, r, c)
    rings = [cluster]
    if dark:
        rings.append(_dark_rings(w, org, shape, core, _ring_depth(levels, noise), levels[2]))
    for more in rings:
        if more is None:
            continue
        new = ~np.isin(more[0] * shape[1] + more[1], flat)  # (a single spike: as before)
        r, c = np.concatenate([r, more[0][new]]), np.concatenate([c, more[1][new]])
        value = np.concatenate([value, more[2][new]])
        flat = r * shape[1] + c
    return (r, c, value) if r.size else None


def _depth(levels, noise) -> float:
    return max(_DARK * levels[1], _DARK_NOISE * noise())


def _ring_depth(levels, noise) -> float:
    """The ring rule's depth; on an image so coarsely quantized that its noise unit is 0
    (a field of 0 .. 9), the single-pixel rule's."""
    unit = noise()
    return max(_RING_DARK * levels[1], _RING_NOISE * unit) if unit > 0 else _depth(
        levels, noise)


def _any_dark(w, org, shape, core, levels, noise) -> bool:
    """Whether dark spikes are looked for in the ``core`` box: when the grid holds one, or
    a stray dark pixel or cluster is found (:func:`_strays`); each first without the noise
    unit (read only when needed)."""
    mid = levels[2]
    return ((_on_grid(w, org, shape, core, _DARK * levels[1], mid)
             and _on_grid(w, org, shape, core, _depth(levels, noise), mid))
            or (_strays(w, org, shape, core, _RING_DARK * levels[1], mid)
                and _strays(w, org, shape, core, _ring_depth(levels, noise), mid)))


def _spikes(img: np.ndarray, pixels=None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The spikes of the 2-D float image ``img`` as ``(rows, cols, medians)`` (the median
    of each one's eight neighbours, or of its cluster's ring), or None when it has none.
    ``pixels``: the plane of integers ``img`` was made from (read instead, faster), or
    None."""
    if min(img.shape) < 3:
        return None
    values = img if pixels is None else pixels
    step = _step(img.shape)
    levels = _levels(values[::step, ::step])
    if levels is None:
        return None
    memo = []

    def noise() -> float:
        if not memo:
            memo.append(_noise(levels[3]))
        return memo[0]

    shape, org = img.shape, (0, 0)
    core = (0, shape[0], 0, shape[1])
    found = _found(values, org, shape, core, levels, noise, _any_dark(
        values, org, shape, core, levels, noise))
    return found


def _despiked(image, img: np.ndarray):
    """``(image, img)`` with their spikes read as their neighbourhood's median, or the
    same two arrays when there are none. ``img``: ``image`` checked by ``as_float_image``
    (2-D float); ``image``: as given (a plane of integers stays one, its medians rounded;
    another input, e.g. RGB, becomes the cleaned ``img``). Neither is modified."""
    arr = np.asarray(image)
    integral = arr.ndim == 2 and arr.dtype.kind in "iu"
    found = _spikes(img, arr if integral else None)
    if found is None:
        return image, img
    r, c, med = found
    img = img.copy()
    if integral:
        arr = arr.copy()
        arr[r, c] = np.rint(med).astype(arr.dtype)
        img[r, c] = arr[r, c]
        return arr, img
    img[r, c] = med
    return img, img


# --- the chunked path: the same spikes, chunk by chunk


def _windows(block, block_id, edges, shape):
    """The window's first pixel in the image and its core box, for the block ``block_id``
    of the overlap of ``_HALO`` pixels (none beyond the image's border)."""
    i, j = block_id[:2]
    core = (edges[0][i], edges[0][i + 1], edges[1][j], edges[1][j + 1])
    return (core[0] - _HALO * (i > 0), core[2] - _HALO * (j > 0)), core


def _block_counts(block, block_id=None, *, edges, shape, levels, noise):
    """(bright spikes, whether dark ones are looked for) of one chunk, a (1, 2) array."""
    org, core = _windows(block, block_id, edges, shape)
    bright = _found(block, org, shape, core, levels, lambda: noise, False)
    dark = _any_dark(block, org, shape, core, levels, lambda: noise)
    return np.array([[0 if bright is None else bright[0].size, int(dark)]])


def _block_fixed(block, block_id=None, *, edges, shape, levels, noise, dark, integral):
    """One chunk's core with its spikes read as their neighbours' median."""
    org, core = _windows(block, block_id, edges, shape)
    out = block[core[0] - org[0]:core[1] - org[0], core[2] - org[1]:core[3] - org[1]]
    found = _found(block, org, shape, core, levels, lambda: noise, dark)
    if found is None:
        return out
    r, c, med = found
    out = out.copy()
    out[r - core[0], c - core[2]] = np.rint(med) if integral else med
    return out


def _despiked_lazy(stored, scheduler=None, *, integral=None):
    """The lazy 2-D image ``stored`` with the spikes :func:`_despiked` reads in memory read
    as their neighbours' median, chunk by chunk; ``stored`` itself when it has none.
    ``integral``: round the medians (default: when ``stored`` holds integers; a float
    image made from a plane of integers gives True). Two passes over the data: the levels'
    sample, then each chunk's spikes counted with an overlap of ``_HALO`` pixels."""
    import dask.array as da

    from .._lazy import _compute

    shape = tuple(int(n) for n in stored.shape)
    if len(shape) != 2 or min(shape) < 3:
        return stored
    step = _step(shape)
    (sample,) = _compute(stored[::step, ::step], scheduler=scheduler)
    levels = _levels(np.asarray(sample))
    if levels is None:
        return stored
    noise = _noise(levels[3])
    parts = stored
    if min(min(axis) for axis in parts.chunks) < _HALO:  # (chunks of the halo at least)
        parts = parts.rechunk(tuple(da.overlap.ensure_minimum_chunksize(_HALO, axis)
                                    for axis in parts.chunks))
    edges = tuple(tuple(int(e) for e in np.cumsum((0, *axis))) for axis in parts.chunks)
    halo = da.overlap.overlap(parts, depth={0: _HALO, 1: _HALO}, boundary="none")
    kw = {"edges": edges, "shape": shape, "levels": levels[:3], "noise": noise}
    counts = halo.map_blocks(_block_counts, dtype=np.int64,
                             chunks=((1,) * len(edges[0][1:]), (2,) * len(edges[1][1:])), **kw)
    (counts,) = _compute(counts, scheduler=scheduler)
    bright, dark = int(counts[:, 0::2].sum()), bool(counts[:, 1::2].any())
    if not bright and not dark:
        return stored
    if integral is None:
        integral = stored.dtype.kind in "iu"
    return halo.map_blocks(_block_fixed, dtype=stored.dtype, chunks=parts.chunks,
                           dark=dark, integral=integral, **kw)

