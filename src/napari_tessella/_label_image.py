"""Label-image helpers shared by the concepts: relabelling, border ids, nearest label
(chunk by chunk: :mod:`._nearest_chunked`; per-label quantiles: :mod:`._quantiles`)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the labelling structures made so far, by (ndim, connectivity), read-only
_STRUCTURES: dict[tuple[int, int], np.ndarray] = {}


def _structure(ndim: int, connectivity: int = 1) -> np.ndarray:
    """``ndi.generate_binary_structure(ndim, connectivity)``, made once and kept read-only:
    the structure every labelling of the package passes to ``ndi.label`` (``connectivity``
    1: ``ndi.label``'s own, 4-connectivity in 2-D; ``ndim``: the labelled array's, so an
    n-d input is labelled as scipy would). scipy makes it again on every call given none
    (round 50: ~15 µs of ~50 calls per U2OS image); round 51: one helper instead of
    ``_FOUR if x.ndim == 2 else None`` at each labelling that may see n-d input."""
    key = (ndim, connectivity)
    if (made := _STRUCTURES.get(key)) is None:
        made = _STRUCTURES[key] = ndi.generate_binary_structure(ndim, connectivity)
        made.flags.writeable = False
    return made


def _relabel_sequential(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Keep the label ids where ``keep[id]`` is True and renumber them 1..n in order."""
    keep = keep.copy()
    keep[0] = False
    lut = np.zeros(keep.shape[0], dtype=np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return _per_label(lut, labels)


def _only(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``np.where(keep, labels, 0)`` for an integer image ``labels`` and a boolean
    ``keep``: ``labels * keep``, the same ids and type (numpy's ``where`` broadcasts the 0
    through its general loop: 20x slower on a working image)."""
    return labels * keep


def _per_label(table: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``table[labels]`` for an integer image ``labels``, its ids cast to numpy's index
    type first: numpy indexes by an int32 array through its general path (45 against 20
    µs on a working image, the cast included)."""
    return np.take(table, labels.astype(np.intp, copy=False))


def _nonzero(mask: np.ndarray) -> tuple:
    """``np.nonzero(mask)`` of a 2-D array: the same two index arrays (intp, row-major),
    from its flat indices (round 53: numpy makes a 2-D array's pairs pixel by pixel, 4-8x
    slower on a working image). Flat indices of an integer image are found from its
    nonzero test, a boolean one (3-4x faster than from its integers); the same pixels.
    Other dimensions: ``np.nonzero``."""
    if mask.ndim != 2 or mask.size == 0:
        return np.nonzero(mask)
    flat = np.flatnonzero(mask if mask.dtype == bool else mask != 0)
    rows = flat // mask.shape[1]
    return rows, flat - rows * mask.shape[1]


def _edge_ids(labels: np.ndarray, border=(True, True, True, True)) -> np.ndarray:
    """Labels on the sides of ``labels`` that are the image border (top, bottom, left, right)."""
    sides = [labels[0], labels[-1], labels[:, 0], labels[:, -1]]
    parts = [side for side, on in zip(sides, border, strict=True) if on]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, labels.dtype)


def _enclosed(background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 4-connected components of ``background`` (a boolean image) and, per component
    0..n, whether it is enclosed: it touches no side of the array (0: never)."""
    holes, n = ndi.label(background, _structure(background.ndim))
    inner = np.ones(n + 1, dtype=bool)
    inner[_edge_ids(holes)] = False
    inner[0] = False
    return holes, inner


def _nearest_label(seeds: np.ndarray, sampling=None) -> np.ndarray:
    """Each pixel's nearest nonzero seed value (exact EDT, ``sampling`` = pixel sizes)."""
    seeded = seeds != 0
    first = seeds.flat[int(np.argmax(seeded))]
    if first != 0 and np.all((seeds == first) | ~seeded):  # one seed value: everywhere
        return np.full(seeds.shape, first, dtype=seeds.dtype)
    indices = ndi.distance_transform_edt(seeds == 0, sampling=sampling, return_distances=False,
                                         return_indices=True)
    # as flat indices: 4x faster than indexing by the two index arrays
    return np.take(seeds, indices[0] * seeds.shape[1] + indices[1])


def _nearest_near(seeds: np.ndarray, at: np.ndarray, reach: float) -> np.ndarray:
    """``_only(_nearest_label(seeds), at)``, exactly, for a boolean image ``at`` whose
    pixels lie within ``reach`` of a nonzero seed (the others: the whole transform).

    scipy's feature transform takes the columns first, then the rows (Maurer's
    algorithm), and keeps the earlier site on a tie in both passes: a pixel's feature
    is, of the seed pixels nearest to it, the one in the leftmost column, and of two
    there (above and below) the upper one. So its nearest seed is the first seed met
    among the offsets ordered by squared distance, then column, then row: looked up
    offset by offset within ``reach`` for the pixels of ``at`` only (a ring around the
    labels: a few thousand pixels, where the transform reads every pixel of the image).
    A pixel with no seed within ``reach``: the whole image's transform, as before."""
    out = np.zeros_like(seeds)
    where = np.flatnonzero(at)
    if where.size == 0:
        return out
    r = int(np.floor(reach))
    dr, dc = (a.ravel() for a in np.mgrid[-r:r + 1, -r:r + 1])
    near = np.sqrt((dr * dr + dc * dc).astype(np.float64)) <= reach  # (as _cues._disc)
    dr, dc = dr[near], dc[near]
    order = np.lexsort((dr, dc, dr * dr + dc * dc))  # distance, then column, then row
    rows, cols = seeds.shape
    padded = np.zeros((rows + 2 * r, cols + 2 * r), dtype=seeds.dtype)  # no seed beyond
    padded[r:r + rows, r:r + cols] = seeds
    stride = cols + 2 * r
    row, col = np.divmod(where, cols)
    pos = (row + r) * stride + col + r  # the pixels without their seed yet, in ``padded``
    left = np.arange(where.size)  # ... and in ``where``
    found = np.zeros(where.size, dtype=seeds.dtype)
    flat = padded.ravel()
    for k in order.tolist():
        value = np.take(flat, pos + (int(dr[k]) * stride + int(dc[k])))
        hit = value != 0
        if hit.any():
            found[left[hit]] = value[hit]
            miss = ~hit
            left, pos = left[miss], pos[miss]
            if left.size == 0:
                out.ravel()[where] = found
                return out
    return _only(_nearest_label(seeds), at)


#: the cost of one call of the distance transform on a box, in pixels of a whole image's
#: (~10 µs of the call's overhead against ~40 ns per pixel)
_PER_BOX = 250


def _mask_distance(mask: np.ndarray, parts: np.ndarray | None = None,
                   cache: dict | None = None) -> np.ndarray:
    """``ndi.distance_transform_edt(mask)``, exactly, from each component's own box.

    ``parts``: an integer image, nonzero on ``mask``, each 4-connected component of
    ``mask`` within one id (``ndi.label(mask)[0]``, made here when None). A pixel ``p`` of
    a component at distance ``D`` from the nearest 0 ``q``: the pixels nearer than ``D``
    to ``p`` are all 1 and 4-connected to ``p`` (a digital disc), and the step from ``q``
    towards ``p`` along its longer offset is one of them, so ``q`` lies in the
    component's box widened by one pixel; the transform of ``mask`` over that box gives
    ``p`` the same integer offset, so the same float. The whole image's transform when
    the boxes would cost about as much (large or many components). ``cache``: see
    :func:`_box_squares` (a box of the same content is not transformed again). First of
    all the whole mask's squares of :func:`_edt_squares` when its distances are within
    its reach (round 33: the working images' always are; ~5x fewer instructions than
    scipy's transform, ~3x fewer than the boxes)."""
    if (squares := _edt_squares(mask)) is not None:  # the whole mask at once, faster
        return np.sqrt(squares, dtype=np.float64)
    if parts is None:
        parts = ndi.label(mask, _structure(mask.ndim))[0]
    boxes = [(k, _widened(box, 1, mask.shape))
             for k, box in enumerate(ndi.find_objects(parts), 1) if box is not None]
    area = sum((r.stop - r.start) * (c.stop - c.start) for _, (r, c) in boxes)
    if area + _PER_BOX * len(boxes) >= mask.size:
        return ndi.distance_transform_edt(mask)
    out = np.zeros(mask.shape)
    at = _offsets(mask.shape)
    for k, box in boxes:
        _box_distance(mask[box], at, parts[box] == k, out[box], cache)
    return out


#: the distance down a column :func:`_edt_squares` reads up to (its squares in uint16)
_REACH = 128


def _edt_squares(mask: np.ndarray) -> np.ndarray | None:
    """The squares of ``ndi.distance_transform_edt(mask)`` (a 2-D boolean mask) as whole
    numbers (uint16), from two passes of whole-array steps; None when a distance may lie
    beyond ``_REACH`` (or the mask is not such an array).

    Down each column, the distance ``f`` to the nearest 0 of the column: the pixels not
    reached yet (the mask eroded along the columns, step by step) counted, up to
    ``_REACH`` steps. Along each row, ``min over dc of dc² + f(c + dc)²``, offset by
    offset while ``dc²`` is below the largest square so far (no farther offset can lower
    one). These are the squared offsets scipy's transform takes the roots of (whole
    numbers, exact in float64), so their roots are its floats; scipy's feature transform
    costs ~500 instructions a pixel. A column not reached after ``_REACH`` steps is
    capped there: the squares stand when each is below ``_REACH²`` (a capped term,
    at least that, never gave the least one)."""
    rows, cols = mask.shape if mask.ndim == 2 else (0, 0)
    if mask.dtype != bool or rows < 2 or cols < 2:
        return None
    left = mask.copy()  # not reached from a 0 of its column yet
    count = np.zeros(mask.shape, dtype=np.uint8)  # (_REACH below 2**8)
    capped, pair = True, np.empty((rows - 1, cols), dtype=bool)
    for _ in range(_REACH):
        if not left.any():
            capped = False
            break
        count += left.view(np.uint8)
        np.logical_and(left[:-1], left[1:], out=pair)
        np.logical_and(pair[:-1], pair[1:], out=left[1:-1])
        left[0], left[-1] = pair[0], pair[-1]
    top = int(count.max())
    bound = top * top  # the largest square so far (best's maximum)
    # the rows side by side in one flat array, each followed by ``pad`` columns of a square
    # above any term (f's) and 0 in ``best``: a step of dc < pad along the flat array
    # reads, past a row's end, those columns only, so each step is one whole-array
    # operation instead of one per row (the loop below stops before dc reaches top + 1)
    pad = min(top + 1, cols)
    f = np.full((rows, cols + pad), _REACH * _REACH + 1, dtype=np.uint16)
    f[:, :cols] = count
    f[:, :cols] *= f[:, :cols]  # (at most _REACH², a sum of two below 2**16)
    best = f.copy()
    best[:, cols:] = 0
    flat, least = f.ravel(), best.ravel()
    term = np.empty_like(flat)
    dc = 1
    while dc * dc < bound and dc < cols:
        step, shifted = np.uint16(dc * dc), term[:-dc]
        np.add(flat[:-dc], step, out=shifted)
        np.minimum(least[dc:], shifted, out=least[dc:])
        np.add(flat[dc:], step, out=shifted)
        np.minimum(least[:-dc], shifted, out=least[:-dc])
        bound, dc = int(least.max()), dc + 1
    return None if capped and bound >= _REACH * _REACH else np.ascontiguousarray(best[:, :cols])


def _offsets(shape) -> np.ndarray:
    """0, 1, 2, ... up to the longest side of ``shape``: int32 while offsets squared and
    summed stay below 2**31, else int64 (see :func:`_box_squares`)."""
    return np.arange(max(shape), dtype=np.int32 if max(shape) < 2**15 else np.int64)


def _box_distance(mask, at, own, out, cache: dict | None = None) -> np.ndarray:
    """``out`` (a view) with ``ndi.distance_transform_edt(mask)`` written where ``own`` is
    True: the square root of :func:`_box_squares` taken there only (the distances of the
    rest of the box are not made)."""
    np.sqrt(_box_squares(mask, at, cache), out=out, where=own)
    return out


def _box_squares(mask, at, cache: dict | None = None) -> np.ndarray:
    """The squared distance of each pixel of ``mask`` (a small box) to its feature
    (scipy's nearest 0), the offsets squared and summed as whole numbers (``at``: 0, 1,
    2, ... in int32 or int64, :func:`_offsets`). Their square roots are the floats of
    ``ndi.distance_transform_edt(mask)``, which squares and sums the same offsets as
    float64: whole numbers far below 2**53, exact either way (and the square root of
    the largest is the largest distance: the rounded root is monotone).

    ``cache`` (a dict, or None): the squares of each box content seen, by its shape,
    type and bytes. The transform reads nothing but the box's values, so a box of the
    same content (a component the diameter estimate's second pass, or its grown
    regions, finds unchanged) has the same squares: looked up instead of transformed
    again. (Round 29: 30-40 of the ~115 boxes per U2OS image repeat in the estimate.)"""
    key = None
    if cache is not None:
        key = (mask.shape, mask.dtype.str, mask.tobytes())
        if (hit := cache.get(key)) is not None:
            return hit
    ft = ndi.distance_transform_edt(mask, return_distances=False, return_indices=True)
    rows, cols = mask.shape
    dr = ft[0] - at[:rows, None]
    dc = ft[1] - at[:cols]
    dr *= dr
    dc *= dc
    dr += dc
    if key is not None:
        cache[key] = dr
    return dr


def _shifted_all(mask: np.ndarray, offsets: np.ndarray, border: bool, any_: bool):
    """AND (``any_``: OR) of ``mask`` shifted by each (row, col) of ``offsets``, pixels
    outside the array being ``border``: the pixel at p reads ``mask[p + offset]``."""
    r = int(np.abs(offsets).max()) if offsets.size else 0
    rows, cols = mask.shape
    padded = np.full((rows + 2 * r, cols + 2 * r), border, dtype=mask.dtype)  # (np.pad's
    padded[r:r + rows, r:r + cols] = mask  # array, without its per-call overhead: round 48)
    combine = np.logical_or if any_ else np.logical_and
    out = None
    for dr, dc in offsets.tolist():
        view = padded[r + dr:r + dr + rows, r + dc:r + dc + cols]
        out = view.copy() if out is None else combine(out, view, out=out)
    return out


def _binary_erosion(mask: np.ndarray, footprint: np.ndarray, border_value: int = 0):
    """``ndi.binary_erosion(mask, footprint, border_value=border_value)`` of a 2-D boolean
    mask by a footprint of odd sides (centred, one iteration), as the AND of the mask
    shifted by each of its offsets: 5-9x faster for the few offsets of the recipe's discs
    (scipy walks the footprint at every pixel). Any other case: scipy's."""
    footprint = np.asarray(footprint, dtype=bool)
    offsets = _footprint_offsets(mask, footprint)
    if offsets is None:
        return ndi.binary_erosion(mask, footprint, border_value=border_value)
    return _shifted_all(mask, offsets, bool(border_value), False)


def _binary_dilation(mask: np.ndarray, footprint: np.ndarray):
    """``ndi.binary_dilation(mask, footprint)`` (centred, one iteration, nothing outside
    the array), as the OR of the mask shifted by each offset of the footprint mirrored
    (scipy mirrors it): see :func:`_binary_erosion`."""
    footprint = np.asarray(footprint, dtype=bool)
    offsets = _footprint_offsets(mask, footprint)
    if offsets is None:
        return ndi.binary_dilation(mask, footprint)
    return _shifted_all(mask, -offsets, False, True)


def _footprint_offsets(mask: np.ndarray, footprint: np.ndarray):
    """The offsets of a boolean footprint's pixels from its centre, for the shifted-mask
    path of :func:`_binary_erosion` and :func:`_binary_dilation` (a dilation shifts by
    them mirrored); None where scipy's own is taken: a mask not 2-D boolean or empty, a
    footprint not 2-D, empty or of an even side."""
    if (mask.dtype != bool or mask.ndim != 2 or footprint.ndim != 2 or mask.size == 0
            or not footprint.any() or footprint.shape[0] % 2 == 0
            or footprint.shape[1] % 2 == 0):
        return None
    return np.argwhere(footprint) - np.array(footprint.shape) // 2


def _crosses_dilated(mask: np.ndarray, times: int) -> np.ndarray:
    """``ndi.binary_dilation(mask, iterations=times)`` of a 2-D boolean mask (the 3 x 3
    cross, nothing outside the array): each time, every pixel ORed with its four
    neighbours in place from a copy (scipy's iterations ~1.5x slower on small boxes).
    ``times`` < 1 (scipy: until nothing changes) or another mask: scipy's."""
    if times < 1 or mask.ndim != 2 or mask.dtype != bool:
        return ndi.binary_dilation(mask, iterations=times)
    out = mask.copy()
    for _ in range(times):
        last = out.copy()
        out[1:] |= last[:-1]
        out[:-1] |= last[1:]
        out[:, 1:] |= last[:, :-1]
        out[:, :-1] |= last[:, 1:]
    return out


def _opened(mask: np.ndarray) -> np.ndarray:
    """``ndi.binary_opening(mask)`` of a 2-D boolean mask (the 3 x 3 cross, nothing
    outside the array): the erosion (every pixel ANDed with its four neighbours, the
    array's border pixels 0) and the dilation in place, by slices (scipy's ~10x slower on
    the small boxes of ``_cues._split_clusters``)."""
    if mask.ndim != 2 or mask.dtype != bool:
        return ndi.binary_opening(mask)
    eroded = mask.copy()
    eroded[1:] &= mask[:-1]
    eroded[:-1] &= mask[1:]
    eroded[:, 1:] &= mask[:, :-1]
    eroded[:, :-1] &= mask[:, 1:]
    eroded[[0, -1]] = False
    eroded[:, [0, -1]] = False
    return _crosses_dilated(eroded, 1)


def _square_dilated(mask: np.ndarray, side: int = 3) -> np.ndarray:
    """``ndi.binary_dilation(mask, np.ones((side, side), bool))`` of a 2-D boolean mask
    (nothing outside the array) for an odd ``side``: along the rows, then along the
    columns, by slices (a square is a row's run of a column's: the same pixels; round
    55: the glow search's bands, 5 and 11 px, where scipy walks the whole square at
    every pixel). Another side or mask: scipy's."""
    if mask.ndim != 2 or mask.dtype != bool or side < 1 or side % 2 == 0:
        return ndi.binary_dilation(mask, np.ones((side, side), bool))
    rows = mask.copy()
    for k in range(1, side // 2 + 1):
        rows[:, k:] |= mask[:, :-k]
        rows[:, :-k] |= mask[:, k:]
    out = rows.copy()
    for k in range(1, side // 2 + 1):
        out[k:] |= rows[:-k]
        out[:-k] |= rows[k:]
    return out


def _mask_box(mask: np.ndarray, pad: int = 0, ids=None):
    """The box (a pair of slices) of the nonzero pixels of the 2-d ``mask``, widened by
    ``pad`` pixels and clipped to it (:func:`_widened`); None when it has none. With
    ``ids``, ``mask`` is a label image and the box is that of the pixels of the labels
    ``ids`` (ids 0 or absent from it: none).

    The one box of a mask's or of some labels' pixels in the package (round 50: eight
    nuclei steps each wrote it; round 51: ``_in_box._box_around`` without boxes and the
    diameter's cores as well; round 52: the finite part of an image, ``_finite``). Its
    rows are found over the whole mask, its columns over those rows only."""
    if ids is not None:
        ids = np.asarray(ids, dtype=np.intp)
        pick = np.zeros(int(mask.max()) + 1 if mask.size else 1, bool)
        pick[ids[(ids > 0) & (ids < pick.size)]] = True
        mask = _per_label(pick, mask)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1  # (Python ints: a box that prints plainly)
    cols = np.flatnonzero(mask[top:bottom].any(axis=0))
    return _widened((slice(top, bottom), slice(int(cols[0]), int(cols[-1]) + 1)), pad,
                    mask.shape)


def _widened(box, pad: int, shape) -> tuple:
    """``box`` (a tuple of slices, as ``ndimage.find_objects`` gives) widened by ``pad``
    pixels on every side and clipped to ``shape``."""
    if len(box) == 2:  # (the recipe's, ~330 calls per image: without the generator)
        (r, c), (rows, cols) = box, shape
        return (slice(max(r.start - pad, 0), min(r.stop + pad, rows)),
                slice(max(c.start - pad, 0), min(c.stop + pad, cols)))
    return tuple(slice(max(s.start - pad, 0), min(s.stop + pad, n))
                 for s, n in zip(box, shape, strict=True))


def _label_moments(labels: np.ndarray, n: int, ids=None) -> tuple:
    """Per label 0..n of ``labels``: its pixel count and the mean and central second
    moments of its pixel centres, ``(count, mean_r, mean_c, var_r, var_c, cov)`` (moments
    0 for absent labels); of the labels ``ids`` only when given (the others absent).

    Two passes of bincounts over the labelled pixels in row-major order: the means, then
    the moments of the offsets from them (no cancellation of large squared coordinates)."""
    lab, rows, cols = _labelled_pixels(labels, n, ids)
    count = np.bincount(lab, minlength=n + 1).astype(np.float64)
    per = np.where(count > 0, count, np.inf)
    mean_r = np.bincount(lab, rows, n + 1) / per
    mean_c = np.bincount(lab, cols, n + 1) / per
    dr, dc = rows - mean_r[lab], cols - mean_c[lab]
    var_r = np.bincount(lab, dr * dr, n + 1) / per
    var_c = np.bincount(lab, dc * dc, n + 1) / per
    cov = np.bincount(lab, dr * dc, n + 1) / per
    return count, mean_r, mean_c, var_r, var_c, cov


def _labelled_pixels(labels: np.ndarray, n: int, ids=None) -> tuple:
    """The labelled pixels of the 2-d ``labels`` (ids 1..n), of the labels ``ids`` only
    when given, in row-major order: their ids, rows and columns (intp), without
    whole-image index arrays. A bincount of a value per pixel over them adds each label's
    values in the order ``ndi.sum_labels`` does (a bincount over the whole image): the
    same sums bit for bit (round 51: :func:`._domes._candidates`' moments)."""
    if ids is None:
        # the labelled pixels only, no full-image index arrays (from a boolean image: 3-4x
        # faster than numpy's flat indices of the integers, round 53)
        flat = np.flatnonzero(labels != 0)
    else:
        pick = np.zeros(n + 1, dtype=bool)
        pick[ids] = True
        pick[0] = False
        flat = np.flatnonzero(_per_label(pick, labels))
    rows = flat // labels.shape[1]  # (np.divmod's pair, ~2x faster)
    return labels.ravel()[flat], rows, flat - rows * labels.shape[1]


def _square_filter(img: np.ndarray, size: int, largest: bool, mode: str = "reflect",
                   cval=0) -> np.ndarray:
    """``ndi.maximum_filter(img, size, mode=mode, cval=cval)`` (``largest``) or
    ``ndi.minimum_filter`` of a 2-D image over a square of odd side ``size``, exactly,
    for scipy's default mode ("reflect": the lines mirrored at the array's sides) and
    "constant" (``cval`` beyond them); others, even sides, windows reaching past a whole
    mirrored line, a side of 1 and inputs with a NaN go to scipy.

    Along each axis, the padded lines' extremum over runs of 2, 4, 8, ... pixels, each
    run the extremum of two of the last (one whole-array step), and the window's as that
    of the two runs of the largest power of two up to ``size`` that cover it: about
    ``log2 size`` array steps per axis, where scipy's filter keeps a list of candidates
    pixel by pixel (round 51: the recipe's openings by squares of 39-73 pixels). An
    extremum is the same value in any order of its pixels."""
    op = np.maximum if largest else np.minimum
    half = size // 2
    if (img.ndim != 2 or size < 3 or size % 2 == 0 or mode not in ("reflect", "constant")
            or half >= min(img.shape)
            or (img.dtype.kind == "f" and bool(np.isnan(img).any()))):
        filt = ndi.maximum_filter if largest else ndi.minimum_filter
        return filt(img, size, mode=mode, cval=cval)
    out = img
    for axis in (0, 1):
        n, step = out.shape[axis], 1
        runs = _mirrored(out, axis, half, mode, cval)
        spare = np.empty_like(runs)  # the next runs are written here, then the two swap
        length = runs.shape[axis]
        while 2 * step <= size:  # runs of 2 step pixels from two runs of step
            length -= step
            first, second = _two_slices(runs, axis, length, step)
            op(first, second, out=_two_slices(spare, axis, length, 0)[0])
            runs, spare = spare, runs
            step *= 2
        out = op(*_two_slices(runs, axis, n, size - step))
    return out


def _mirrored(a: np.ndarray, axis: int, pad: int, mode: str, cval) -> np.ndarray:
    """``np.pad(a, pad)`` along ``axis`` (``pad`` at least 1, below its length), "reflect"
    as scipy's filters mirror (numpy's "symmetric": the side pixel repeated) or "constant"
    ``cval``: the same array from slices (numpy's pad took half of the filter's time)."""
    n = a.shape[axis]
    shape = list(a.shape)
    shape[axis] = n + 2 * pad
    out = np.empty(shape, dtype=a.dtype)
    view = out if axis == 0 else out.T  # (the axis first)
    src = a if axis == 0 else a.T
    view[pad:pad + n] = src
    if mode == "reflect":
        view[:pad] = src[pad - 1::-1]
        view[pad + n:] = src[n - 1:n - pad - 1:-1]
    else:
        view[:pad] = cval
        view[pad + n:] = cval
    return out


def _two_slices(a: np.ndarray, axis: int, length: int, shift: int) -> tuple:
    """``a``'s first ``length`` lines along ``axis`` and those ``shift`` lines on."""
    if axis == 0:
        return a[:length], a[shift:shift + length]
    return a[:, :length], a[:, shift:shift + length]
