"""Hot pixels: isolated bright spikes read as their neighbourhood's median (round 53).

A camera's hot pixels, a stuck bright column or row and the salt of salt-and-pepper noise
are single pixels far above everything round them. Block-averaged, each one became a
bright blob of the working image: a 512² field of 40 nuclei with 0.17 % of its pixels at
65535 was estimated at a diameter of 3.8 px instead of 30 and gave 219 "nuclei"; U2OS
images (16-bit) with 1 % salt and pepper gave 183 errors per image instead of 3. Before the
estimate and the watershed, :func:`_despiked` finds such pixels and reads each as the
median of its eight neighbours. A clean image is returned as given (the same array): its
labels are those of before, bit for bit.

*A spike* is a pixel above ``p98 + 2 (p98 - p50)`` (read on every eighth row and column,
at least 128 of each: the bright end of the nuclei, three times as far from the median)
that stands above both its neighbours along a row, or both along a column (along the image
border only on it), by more than ``p98 - p50``, more than a third of its own height over
the median, and more than 12 noise units (the median absolute difference of neighbours of
the sample, read only when a candidate passes the first two): a nucleus's own pixels,
blurred by the optics, never do, nor do the bright foci of textured nuclei (a U2OS focus
stands 16 over its neighbours at 220, on a median of 31). A pixel between two spikes along
a line (a stuck column) is still one across it. A clean image mostly stops at its maximum.
Dark spikes (dead pixels, pepper) are not looked for: below the background they changed no
error, and those at the background's own level inside a nucleus are found only by a scan
of every pixel's neighbours, which costs more than the defaults' time allows (measured in
``docs/nuclei.md``, round 53).
"""

from __future__ import annotations

import numpy as np

# a spike stands above both its neighbours by this many noise units at least
_NOISE_UNITS = 12.0
# the sample's quantiles that give the nuclei's bright end and the median
_HIGH_Q, _MID_Q = 98.0, 50.0
# a spike stands over its neighbours by at least this share of its height over the median
_SHARE = 1 / 3
# candidates are the pixels over p98 + this many times (p98 - p50)
_FLOOR = 2.0
# the levels are read on every this many rows and columns at most
_STEP = 8


def _levels(img: np.ndarray) -> tuple[float, float, float, np.ndarray] | None:
    """The candidates' floor, the sample's spread (``p98 - p50``) and median, read on every
    eighth row and column of ``img`` (fewer, so that at least 128 of each are read), with
    the sample; None when the sample has no spread."""
    # (at least 128 rows and columns: a stuck line on the sample's grid, one of 48
    # columns, was its top 2 % and hid itself)
    step = max(1, min(_STEP, min(img.shape) // 128))
    sample = img[::step, ::step]
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


def _neighbours(img: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The eight neighbours of the pixels ``(r, c)``, (8, K), mirrored at the border."""
    rows, cols = img.shape
    up, down = np.abs(r - 1), (rows - 1) - np.abs(rows - 2 - r)
    left, right = np.abs(c - 1), (cols - 1) - np.abs(cols - 2 - c)
    return np.stack([img[up, left], img[up, c], img[up, right], img[r, left],
                     img[r, right], img[down, left], img[down, c], img[down, right]])


def _spikes(img: np.ndarray, pixels=None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The spikes of the 2-D float image ``img`` as ``(rows, cols, medians)`` (the median
    of each one's eight neighbours), or None when it has none. ``pixels``: the plane of
    integers ``img`` was made from (read instead, faster), or None."""
    if min(img.shape) < 3:
        return None
    values = img if pixels is None else pixels
    levels = _levels(values)
    if levels is None:
        return None
    floor, spread, mid, sample = levels
    if not float(values.max()) > floor:  # (a clean image mostly stops here)
        return None
    flat = np.flatnonzero(values > floor)
    r, c = np.divmod(flat, img.shape[1])
    nb = _neighbours(img, r, c)
    value = img[r, c]  # how far over both neighbours along its row, or its column (on
    # the image's border, along the border only: the mirrored neighbour is no other)
    across = np.where((c > 0) & (c < img.shape[1] - 1),
                      value - np.maximum(nb[3], nb[4]), -np.inf)
    along = np.where((r > 0) & (r < img.shape[0] - 1),
                     value - np.maximum(nb[1], nb[6]), -np.inf)
    over = np.maximum(across, along)
    # and by a share of its own height over the median: a textured nucleus's bright
    # pixel stands over its neighbours by a small share of its height
    hit = (over > spread) & (over > _SHARE * (value - mid))
    if hit.any():  # (the noise is read only then)
        hit &= over > _NOISE_UNITS * _noise(sample)
    if not hit.any():
        return None
    return r[hit], c[hit], np.median(nb[:, hit], axis=0)


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
