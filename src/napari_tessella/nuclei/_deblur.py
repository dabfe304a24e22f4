"""Dense fields under a wide PSF, sharpened before they are segmented (issue 14, round 33).

On challenge-like dense fields the errors follow the PSF's width (round 32: F1 0.876 at
sigma 2-2.5 px, 0.761 at 3.4-4 px, nuclei ~20 px across). Traced per nucleus (round 33),
most unmatched nuclei never have a label of their own at any step of the recipe: a
brighter neighbour's blurred light covers a dim nucleus (its label spreads over it, or the
outline cut then leaves it to the background), and two touching nuclei show one blob. The
blur is measured, so it can be undone to first order: a Gaussian blur of sigma is the heat
equation run for ``sigma^2 / 2``, and ``g - sigma^2 / 2 * laplace(g)`` runs it back one
step (the Laplacian taken of the image smoothed by ``_SMOOTH * d``, against the noise).
That smoothing is a Gaussian blur too: the image the step runs back is blurred by
``sigma^2 + s^2`` (``s = _SMOOTH * d``), and the step runs it back by that much (round 36:
run back by ``sigma^2`` alone, a dense field under a wide PSF kept ``s`` of blur beyond the
image's own, and touching nuclei still showed one blob; see ``docs/nuclei-history.md``).

*The blur's width* comes from the image's radially averaged power spectrum: above the
white noise floor (the median power beyond 0.8 of Nyquist), the edges of blurred objects
fall as ``k^-3 exp(-sigma^2 k^2)``, so ``log(P - N) + 3 log k`` is a line in ``k^2`` of
slope ``-sigma^2`` (the bins at least 4 noise floors up, above 0.3 rad/px). On the
synthetic dense fields it follows the PSF's sigma (1-4 px) with a correlation of 0.99,
mostly within 0.1 px (at worst 0.3). It is measured on
the central crop of at most ``_CROP`` pixels a side, in the image's own orientation, so
that the chunked path reads the same pixels.

:func:`_wide_blur` decides only where the recipe's dense gate holds (the shoulders, see
:func:`._background._shoulder_gate`), or nearly holds (:func:`_measured`, round 35), and
the blur is at least ``_WIDE`` diameters: the whole recipe then runs again on
:func:`_sharpened` (its own diameter, gates and all). A sparse field, or a dense one under
a narrow PSF, is segmented as before and pays nothing.

*Nearly dense* (round 35): the gate asks that ``_DENSE`` (0.45) of a flanked field lie
above the foreground's cut; the wider the PSF, the more of a dense field's light lies in
the flanks below the cut, so the fields that need the sharpening most fell under it
(challenge-like seeds 900-929 at PSF x2.5: shares 0.444-0.449 on three fields of sigma
4.5-5.1 px, F1 0.41-0.57, all three above 0.67 sharpened). Their blur is measured from
``_NEAR`` of the field above the cut on; the blur itself then decides, as before. Flanked
fields that are not dense (glows) reach 0.41 but their blur lies far below ``_WIDE``
(0.01 d); a field that is not flanked (every U2OS image) has a share of 0 and measures
nothing.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

#: the blur is measured on the central crop of at most this many pixels a side
_CROP = 512
#: a flanked field's blur is measured from this share of it above the foreground's cut on
#: (the shoulders' gate, ``_background._DENSE``, asks 0.45; round 35)
_NEAR = 0.40
#: dense fields are sharpened when the PSF's sigma is at least this times the diameter
#: (round 36: 0.16 while the step ran back the PSF's blur only, which at 0.12-0.16 d lost)
_WIDE = 0.12
#: the Laplacian of the sharpening is taken at this scale (x d; round 36: 0.12 before the
#: step ran back its own smoothing as well)
_SMOOTH = 0.10
#: the spectrum: this many radial bins over 0..pi; the noise floor beyond this share of pi
_BINS = 40
_NOISE_FROM = 0.8
#: the fitted bins: above this frequency (rad / px) and this many noise floors
_LOW_K = 0.3
_ABOVE = 4.0


def _central(shape) -> tuple:
    """The slices of the central crop of at most ``_CROP`` pixels a side."""
    return tuple(slice((n - min(n, _CROP)) // 2, (n - min(n, _CROP)) // 2 + min(n, _CROP))
                 for n in shape)


def _blur_sigma(crop) -> float:
    """The Gaussian blur's sigma in pixels of the plane ``crop`` (see the module's
    docstring); NaN when fewer than three bins stand above the noise."""
    f = np.asarray(crop, dtype=np.float64)
    if min(f.shape) < 32:
        return float("nan")
    f = f - f.mean()
    window = np.hanning(f.shape[0])[:, None] * np.hanning(f.shape[1])[None, :]
    power = np.abs(np.fft.rfft2(f * window)) ** 2
    ky = np.fft.fftfreq(f.shape[0]) * 2 * np.pi
    kx = np.fft.rfftfreq(f.shape[1]) * 2 * np.pi
    k = np.hypot(ky[:, None], kx[None, :]).ravel()
    edges = np.linspace(0.0, np.pi, _BINS + 1)
    at = np.digitize(k, edges)  # 1.._BINS inside, _BINS + 1 beyond pi (the corners)
    inside = (at >= 1) & (at <= _BINS)
    count = np.bincount(at[inside] - 1, minlength=_BINS)
    mean = np.bincount(at[inside] - 1, power.ravel()[inside], minlength=_BINS)
    mean = mean / np.maximum(count, 1)
    kc = 0.5 * (edges[1:] + edges[:-1])
    noise = float(np.median(mean[kc > _NOISE_FROM * np.pi]))
    sel = (kc > _LOW_K) & (mean > _ABOVE * noise) & (count > 0)
    if sel.sum() < 3:
        return float("nan")
    y = np.log(mean[sel] - noise) + 3 * np.log(kc[sel])
    slope = np.polyfit(kc[sel] ** 2, y, 1)[0]
    return float(np.sqrt(max(-slope, 0.0)))


def _measured(share: float) -> bool:
    """Whether a field's blur is measured: at least ``_NEAR`` of it above the foreground's
    cut, where its pixels below Otsu are flanks (``share``, ``_background._dense_share``:
    0 on a field that is not flanked)."""
    return bool(share >= _NEAR)


def _wide_blur(crop, d) -> float | None:
    """The blur's sigma (pixels) of the central ``crop`` when it is at least ``_WIDE``
    diameters ``d`` (full-resolution pixels), else None."""
    sigma = _blur_sigma(crop)
    return sigma if np.isfinite(sigma) and sigma >= _WIDE * d else None


def _sharpened(image, sigma, d) -> np.ndarray:
    """``image`` with a Gaussian blur of ``sigma`` undone to first order: the image
    smoothed at ``s = _SMOOTH * d``, blurred by ``sigma^2 + s^2`` in all, less
    ``(sigma^2 + s^2) / 2`` times its Laplacian there, clipped at 0 (float64). Local: each
    pixel reads ``4 * _SMOOTH * d`` around it (scipy's reflect)."""
    f = np.asarray(image, dtype=np.float64)
    s = _SMOOTH * d
    run = 0.5 * (sigma * sigma + s * s)  # the PSF's blur and the smoothing's
    out = ndi.gaussian_filter(f, s) - run * ndi.gaussian_laplace(f, s)
    return np.maximum(out, 0.0, out=out)


def _reach(d) -> int:
    """How far (pixels) :func:`_sharpened` reads around a pixel: scipy's Gaussian radius
    at ``truncate`` 4, and one more."""
    return int(4.0 * _SMOOTH * d + 0.5) + 1


def _sharpened_lazy(image, sigma, d):
    """:func:`_sharpened` of a 2-D dask array, chunk by chunk with the margin it reads
    (reflected at the array's sides, as scipy does): the in-memory values."""
    import dask.array as da

    depth = _reach(d)
    arr = image
    if min(min(c) for c in arr.chunks) < depth:  # (margins wider than a chunk)
        arr = arr.rechunk(tuple(max(depth, max(c)) for c in arr.chunks))
    return da.map_overlap(_sharpened, arr, depth=depth, boundary="reflect",
                          dtype=np.float64, sigma=sigma, d=d)
