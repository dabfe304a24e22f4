"""The steps of the nuclei recipe's defaults, shared by the in-memory and the chunked
watershed: foreground mask, seeds, watershed at the working resolution, per-nucleus cuts
and full-resolution outlines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from .._label_image import _edge_ids, _widened
from .._validation import as_label_image, as_points, finite_number, seeds_kind, size_in_image
from ..threshold import compute_threshold, threshold_spec
from ._background import _SPLIT, _background_and_noise
from ._cues import (
    _dim_nuclei,
    _drop_unsharp,
    _label_max,
    _rim_outlines,
    _split_clusters,
    _unless_foci,
)
from ._edges import _GLOW_STEEP, _bright_cells, _edges_and_glows, _glow_nuclei
from ._resample import _upsample
from ._shape import _fill_small_holes, _split_at_necks, _split_at_waists, _split_merges
from ._shape import _split_steps as _split_crowded_at_steps


@dataclass(frozen=True, repr=False)
class WatershedResult:
    """Result of :func:`seeded_watershed`.

    Attributes
    ----------
    labels : (M, N) ndarray of int32
        Nuclei, 0 = background, numbered 1..n.
    territories : (M, N) ndarray of int32
        Generalized Voronoi diagram of the nuclei: every pixel of the plane carries the
        label of the nearest nucleus (exact Euclidean distance, computed at the working
        resolution when the image was reduced), same ids as ``labels``.
    seeds : (K, 2) ndarray of float64
        (row, column) of the seeds that started the watershed.
    object_diameter : float
        Typical object diameter used, in pixels (estimated or given).
    sigma : float
        Gaussian smoothing used, in pixels.
    threshold : float
        Foreground threshold used, in (smoothed) image units.
    min_size : int
        Minimum object size used, in pixels (given, or derived from the diameter).
    """

    labels: np.ndarray
    territories: np.ndarray
    seeds: np.ndarray
    object_diameter: float
    sigma: float
    threshold: float
    min_size: int = 0

    def __repr__(self) -> str:
        return (f"WatershedResult({int(self.labels.max())} objects, {len(self.seeds)} seeds, "
                f"diameter={self.object_diameter:.1f} px, sigma={self.sigma:.1f} px)")


#: working resolution of the default pipeline: the image is reduced so that the typical
#: object diameter spans about this many pixels (enough to draw a disc, few enough to be fast)
WORKING_DIAMETER = 20.0


# Every other length of the default pipeline is a fraction of the object diameter d:
_SIGMA = 0.05  # Gaussian smoothing of the image
_DISTANCE_SMOOTHING = 0.1  # Gaussian smoothing of the distance transform
_H = 0.05  # h-maxima height of the (smoothed) distance landscape: the depth of a real neck
_PEAK_R = 0.25  # first-pass seeds: maxima of the distance over a disc of this radius
_MIN_R = 1 / 3  # minimum size: a disc of radius d/3 (two thirds of the typical diameter)
# objects cut by the image border need only the area of a disc of radius d/8: this share
_BORDER_MIN = (0.125 / _MIN_R) ** 2

_SIGNIFICANT = 4.0  # ... the foreground is then cut this many deviations above it
_TRIM = 0.3  # each nucleus keeps the pixels above this fraction of its own contrast
_BG_R = 1.0  # local background: grey opening by a square of half-side this times d
_FOCI_CAP = 2.0  # a nucleus's peak contrast is at most this times its core's median one
_MIN_PIECES = 3  # diameter estimate: a nucleus whose foci alone pass half its maximum
_COMPACT = 1.5  # ... holds that many pieces in a region of at most this x pi r_inscribed^2
_BIG = 3.0  # objects above this times pi d^2 / 4 are clusters, split at intensity steps
_RATIO = 0.85  # ... a nucleus's core is within this fraction of its local maximum
_CHECKED = 1.5  # objects from this to _BIG times pi d^2 / 4 are split where two nuclei show:
_VALLEY = 0.95  # ... the line between two parts is darker than this times the dimmer's median
_FOCI_BODY = 1.3  # ... above it (foci), outlines follow this times that median instead
_RECUT = 0.5  # ... unless their cut at this fraction of their contrast is sharp
_SHARP = 0.4  # objects whose edge is less steep than this (see _edge_sharpness) are dropped
_STEP = 0.8  # ... or the dimmer part's median contrast is below this times the other's
_RIM = (0.1, 0.2)  # outlines: the body at the rim is measured this far (x d) inside
_HALF = 0.5  # ... and each outline is cut half-way between it and the background
_THICK = 0.125  # ... unless that takes off a part this thick (x d): a dim merged nucleus
_DIM_LOW = 0.3  # dim nuclei: parts above this fraction of the log-Otsu cut's contrast (and
# the log offset, ~3 noise deviations) are looked at again (see _cues._dim_nuclei)
_DIM_SHARP = 0.8  # ... and kept with an edge at least this sharp (see _edge_sharpness)


def _seed_markers(seeds, shape, mask) -> np.ndarray:
    """Turn user seeds (points or a label image) into a marker image inside ``mask``."""
    arr = np.asarray(seeds)
    if arr.ndim == 2 and arr.shape == shape and np.issubdtype(arr.dtype, np.integer):
        arr = as_label_image(arr, name="seeds")
        # numbered 1..n in the order of their ids: ids of any size (2**40 as int64) would
        # wrap to 0 or a negative as int32 and their seeds would be lost
        ids, markers = np.unique(arr, return_inverse=True)
        markers = (markers.reshape(shape) + int(ids[0] != 0)).astype(np.int32)
        markers[~mask] = 0
        return markers
    pts = as_points(arr, name="seeds")
    idx = np.rint(pts).astype(np.int64)
    inside = np.all((idx >= 0) & (idx < np.asarray(shape)), axis=1)
    idx = idx[inside]
    markers = np.zeros(shape, dtype=np.int32)
    keep = mask[idx[:, 0], idx[:, 1]]
    idx = idx[keep]
    markers[idx[:, 0], idx[:, 1]] = np.arange(1, len(idx) + 1, dtype=np.int32)
    return markers


def _h_maxima_markers(landscape: np.ndarray, h: float, mask: np.ndarray) -> np.ndarray:
    """The regional maxima of ``landscape`` in ``mask`` whose dynamic is at least ``h``.

    The h-maxima of morphology (Soille 2003, ch. 6), computed through the dynamics of the
    maxima: every regional maximum floods its basin (watershed inside ``mask``); the pass
    between two adjacent basins is the highest ``min(a, b)`` over their touching pixel pairs;
    joining basins from the highest pass down (a maximum spanning tree), a maximum dies
    when its set meets a higher one, with dynamic = its height - the pass. Each connected
    part of ``mask`` keeps its highest maximum. Same seeds as ``skimage.morphology.h_maxima``
    on the whole image (tested); in a mask, that one would also let the background connect
    separate parts. It does not sort every pixel: 1.5-2x faster on the smooth distance
    landscapes of the default pipeline; on a noisy landscape with thousands of maxima the
    loop over pairs of basins makes it slower (1.3 vs 1.0 s on a full U2OS image).
    """
    from skimage.morphology import local_maxima
    from skimage.segmentation import watershed

    eight = np.ones((3, 3), dtype=bool)
    seeds, n = ndi.label(local_maxima(landscape, connectivity=2, allow_borders=True) & mask,
                         structure=eight)
    if n <= 1:
        return seeds.astype(np.int32)
    basins = watershed(-landscape, seeds, mask=mask, connectivity=2)
    rows, cols = landscape.shape
    keys, passes = [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each 8-neighbour pair once
        src = (slice(0, rows - dr), slice(max(-dc, 0), cols - max(dc, 0)))
        dst = (slice(dr, rows), slice(max(dc, 0), cols - max(-dc, 0)))
        a, b = basins[src], basins[dst]
        touch = (a != b) & (a > 0) & (b > 0)
        if touch.any():
            lo = np.minimum(a[touch], b[touch]).astype(np.int64)
            hi = np.maximum(a[touch], b[touch]).astype(np.int64)
            keys.append(lo * (n + 1) + hi)
            passes.append(np.minimum(landscape[src][touch], landscape[dst][touch]))
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    if keys:
        key, value = np.concatenate(keys), np.concatenate(passes)
        order = np.lexsort((-value, key))  # per pair of basins, its highest pass first
        key, value = key[order], value[order]
        first = np.r_[True, key[1:] != key[:-1]]
        key, value = key[first], value[first]
        # each set's root is the basin of its highest maximum
        top = _label_max(landscape, seeds, n).tolist()
        parent = list(range(n + 1))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for k in np.argsort(-value, kind="stable").tolist():
            ra, rb = find(int(key[k] // (n + 1))), find(int(key[k] % (n + 1)))
            if ra == rb:
                continue
            if top[ra] < top[rb]:
                ra, rb = rb, ra
            if top[rb] - value[k] < h:
                keep[rb] = False
            parent[rb] = ra
    markers, _ = ndi.label(keep[seeds], structure=eight)
    return markers.astype(np.int32)


def _disc_maxima_markers(landscape: np.ndarray, radius: float, mask: np.ndarray) -> np.ndarray:
    """Seeds at the maxima of ``landscape`` over a disc of ``radius`` (a plateau = one seed)."""
    r = max(1, round(radius))
    peaks = (landscape >= _disc_maximum_filter(landscape, r)) & mask
    markers, _ = ndi.label(peaks, structure=np.ones((3, 3)))
    return markers.astype(np.int32)


def _disc_maximum_filter(img: np.ndarray, r: int) -> np.ndarray:
    """``ndi.maximum_filter`` over the disc ``dy² + dx² <= r²`` (mode "reflect"), built
    from the disc's rows: one running maximum along the rows per half-width, shifted up
    and down. Linear in the radius, where the footprint version grows with its area (1.3 s
    for r = 21 on a 1349 × 1030 image)."""
    padded = np.pad(img, r, mode="symmetric")  # scipy's "reflect"
    rows, cols = img.shape
    out = None
    for dy in range(r + 1):  # rows dy and -dy of the disc have the same half-width
        along = ndi.maximum_filter1d(padded, 2 * int(np.sqrt(r * r - dy * dy)) + 1, axis=1)
        for shift in {dy, -dy}:
            band = along[r + shift:r + shift + rows, r:r + cols]
            out = band.copy() if out is None else np.maximum(out, band, out=out)
    return out


def _background_size(d: float) -> int:
    """Side of the square of the local background's opening (:func:`_flatten`)."""
    return 2 * max(1, round(_BG_R * d)) + 1


def _flatten(smooth: np.ndarray, d: float) -> np.ndarray:
    """``smooth`` minus its local background: its grey opening by a square of half-side
    ``_BG_R d`` (a rolling box too large to fit in a nucleus).

    What the box fits in is background: a ramp or uneven illumination, and the glow of
    out-of-focus or saturated cells farther than about ``d`` from their centre, so a dim
    nucleus on such a glow stands out by its own contrast. Separable min/max filters:
    a few ms on a working image. Local (a margin of ``2 _BG_R d``), so chunks with their
    margin give the same values.
    """
    size = _background_size(d)
    bg = ndi.maximum_filter(ndi.minimum_filter(smooth, size), size)
    return smooth - bg


def _auto_params(smooth: np.ndarray, spread=None, *, significant=True) -> tuple:
    """Background level, log offset and log-Otsu cut of the "auto" threshold (see below);
    ``significant=False``: the cut as Otsu puts it, even within the noise."""
    level, noise, unit = _background_and_noise(smooth, spread)
    eps = _log_offset(noise, float(smooth.max()), level)
    logged = np.log(np.maximum(smooth - level, 0) + eps)
    cut = float(compute_threshold(logged, "otsu"))
    return level, eps, _significant_cut(cut, unit, eps) if significant else cut


def _significant_cut(cut: float, noise: float, eps: float) -> float:
    """The log-Otsu ``cut``, unless it lies within ``_SPLIT`` noise deviations of the
    background: then ``_SIGNIFICANT`` deviations above it.

    Otsu on the log needs nuclei on more than ~0.2 % of the pixels: with fewer (a few
    small nuclei in a large image) it cuts the background's noise, 0.6-1.3 deviations
    above its level, and every speck of noise became a nucleus. On images of nuclei the
    cut lies 2.3 deviations above it or more (measured on the synthetic fields down to
    ~5 photons per pixel above the background, and on U2OS: 9 or more).
    """
    if np.exp(cut) - eps < _SPLIT * noise:
        return float(np.log(_SIGNIFICANT * noise + eps))
    return cut


def _log_offset(noise: float, peak: float, level: float) -> float:
    # the floor only keeps log() finite: a float32 floor (1e-38) swamped images of 1e-300
    return max(3 * noise, 1e-3 * (peak - level), float(np.finfo(np.float64).tiny))


def _dim_level(level: float, eps: float, cut: float) -> float:
    """The level at which :func:`._cues._dim_nuclei` looks for nuclei the log-Otsu ``cut``
    missed: ``_DIM_LOW`` of its contrast, at least ``eps`` (~3 noise deviations) over it."""
    return float(level + max(_DIM_LOW * (np.exp(cut) - eps), eps))


def _auto_mask(smooth: np.ndarray, level: float, eps: float, cut: float) -> np.ndarray:
    return np.log(np.maximum(smooth - level, 0) + eps) > cut


def _auto_threshold(smooth: np.ndarray, spread=None, *, significant=True) -> tuple:
    """Foreground of the "auto" threshold: Otsu on the log of the background-corrected image.

    The log makes the threshold depend on brightness *ratios*, so a nucleus ten times
    dimmer than its neighbour is separated from the background as well as the bright one
    (a global Otsu on raw intensities sits between the bright nuclei and everything else).
    Below a few noise standard deviations the log is flattened (``+ 3 noise``), so that
    the noise of the background is not stretched into structure. Returns the mask, the
    threshold back in image units, and the background level.
    """
    level, eps, cut = _auto_params(smooth, spread, significant=significant)
    return _auto_mask(smooth, level, eps, cut), float(level + np.exp(cut) - eps), level


def default_min_size(diameter: float) -> int:
    """The default minimum nucleus size, in pixels, for a typical diameter in pixels.

    The area of a disc of two thirds of the diameter, ``π (d/3)²``: smaller objects are
    taken for fragments, debris or micronuclei (see ``docs/nuclei.md``).

    >>> default_min_size(90)
    2827
    """
    return int(np.pi * (diameter * _MIN_R) ** 2)


def _plan(shape, diameter: float, sigma, seeds, min_size):
    """Working-resolution factor and the lengths derived from the diameter."""
    factor = 1
    if sigma is None and seeds is None:
        factor = max(1, round(diameter / WORKING_DIAMETER))
        # never reduce an image to fewer than ~16 pixels on its short side
        factor = max(1, min(factor, min(shape) // 16))
    sigma = diameter * _SIGMA if sigma is None else float(sigma)
    if min_size is None:
        min_size = default_min_size(diameter)
    return factor, sigma, min_size


def _segment_work(smooth, mask, *, d, min_size_work, auto, level, landscape, seeds,
                  h_intensity=None, border=(True, True, True, True), low=None):
    """From the smoothed working image and its foreground to nuclei labels and markers.

    Everything here is local (a few diameters): the chunked version runs it on chunks with
    margins. ``border`` tells which sides of the array are the image border; ``seeds`` as
    in :func:`seeded_watershed`, in this array's pixels; ``low`` (:func:`_dim_level`) the
    level below the foreground's cut at which dim nuclei are looked for. Returns the
    labels, the markers, for the "auto" threshold each label's own peak (see
    :func:`_cuts`), else None, and the nearest label of every pixel
    (``_nearest_label(labels)``) when it was computed on the way, else None.
    """
    from skimage.segmentation import watershed

    dtype = smooth.dtype
    nearest = None
    if auto:
        if low is not None:  # dim nuclei the global cut missed
            mask = _dim_nuclei(smooth, mask, level, low, d, max(min_size_work, 1.0),
                               most=_BIG, steep=_GLOW_STEEP, sharp=_DIM_SHARP)
        mask = _fill_small_holes(mask, d)
    # drop specks below the minimum size before seeding
    comp, n = ndi.label(mask)
    if n:
        sizes = np.bincount(comp.ravel())
        needed = np.full(n + 1, max(min_size_work, 1.0))
        if auto:  # nuclei cut by the image border show only part of their area
            needed[_edge_ids(comp, border)] *= _BORDER_MIN
        mask &= (sizes >= needed)[comp]

    smooth_distance = landscape == "distance" and seeds is None
    if landscape == "distance":
        height = ndi.distance_transform_edt(mask).astype(dtype, copy=False)
        if smooth_distance:
            height = ndi.gaussian_filter(height, d * _DISTANCE_SMOOTHING)
    else:
        height = smooth

    if seeds is None:
        if not mask.any():
            markers = np.zeros(smooth.shape, np.int32)
        else:
            if landscape == "distance":
                h = d * _H
            else:
                h = (0.1 * float(np.ptp(smooth[mask])) if h_intensity is None
                     else h_intensity)
            if auto and smooth_distance:
                # first pass, only to find each nucleus's own peak before trimming: the
                # cheaper disc maxima do (an extra seed in a nucleus does no harm here)
                markers = _disc_maxima_markers(height, d * _PEAK_R, mask)
            else:
                markers = _h_maxima_markers(height, h, mask)
    elif isinstance(seeds, str):
        from skimage.morphology import local_maxima

        peaks = local_maxima(smooth, connectivity=2) & mask
        markers, _ = ndi.label(peaks, structure=np.ones((3, 3)))
        markers = markers.astype(np.int32)
    else:
        markers = _seed_markers(seeds, smooth.shape, mask)

    labels = watershed(-height, markers, mask=mask).astype(np.int32)
    if auto and labels.any():
        labels = _trim_to_own_peak(labels, smooth, level, height, d)
        if smooth_distance:
            # the trimmed outlines show the necks between touching nuclei better: seed again
            mask = labels > 0
            height = ndi.gaussian_filter(ndi.distance_transform_edt(mask).astype(dtype),
                                         d * _DISTANCE_SMOOTHING)
            markers = _h_maxima_markers(height, d * _H, mask)
            labels = watershed(-height, markers, mask=mask).astype(np.int32)
            labels, markers = _split_clusters(
                labels, markers, smooth, height, d, min_size_work, big=_BIG, checked=_CHECKED,
                ratio=_RATIO, level=level, valley=_VALLEY, step=_STEP, gradient=_SIGMA)
            labels, markers = _split_at_necks(labels, markers, d)
            labels, markers = _split_at_waists(labels, markers, d)
            labels, markers = _split_merges(labels, markers, d, smooth, level)
            labels, markers = _split_crowded_at_steps(labels, markers, smooth, d, min_size_work,
                                                      level, step=_STEP, gradient=_SIGMA)
        # the minimum size applies to the trimmed nuclei too (border ones: 9/64 of it)
        sizes = np.bincount(labels.ravel()).astype(float)
        needed = np.full(sizes.shape, max(min_size_work, 1.0))
        needed[_edge_ids(labels, border)] *= _BORDER_MIN
        labels[(sizes < needed)[labels]] = 0  # the background stays 0
        peak = _core_peak(labels, smooth, height, level)
        if _SHARP > 0 and labels.any():
            # glare, glow and out-of-focus smudges fade slowly into their ring: dropped,
            # unless a higher cut finds a sharp nucleus inside (a bright cell in its glow)
            labels, peak, nearest = _drop_unsharp(labels, smooth, level, d, peak, needed,
                                                  sharp=_SHARP, recut=_RECUT, trim=_TRIM)
        if _HALF > 0 and labels.any():
            # outlines where the edge is: half-way between the body and the background
            labels, peak, moved = _rim_outlines(labels, smooth, level, d, peak, needed,
                                                trim=_TRIM, shell=_RIM, half=_HALF,
                                                thick_part=_THICK)
            labels, peak, grown = _edges_and_glows(  # foci: out to the edge; dim on a glow
                labels, smooth, level, d, peak, min_size_work, _TRIM, border=border)
            nearest = None if moved or grown else nearest
        return labels, markers, peak, nearest
    return labels, markers, None, nearest


def _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold, *,
                            shape=None, min_size=None) -> bool:
    """Validate the parameters of :func:`seeded_watershed`; True for threshold="auto".

    Every number must be finite; with the image ``shape``, ``object_diameter`` and
    ``sigma`` are bounded by the image's longest side and ``seeds`` are checked against it
    (see :func:`napari_tessella._validation.seeds_kind`). Nothing here reads the image's values.
    """
    if not isinstance(landscape, str) or landscape not in ("distance", "intensity"):
        raise ValueError(f"landscape must be 'distance' or 'intensity'; got {landscape!r}.")
    for name, value, strict in (("object_diameter", object_diameter, True),
                                ("sigma", sigma, False)):
        if value is None:
            continue
        if shape is None:
            finite_number(value, name, minimum=0, strict=strict, unit="pixels")
        else:
            size_in_image(value, name, shape, strict=strict)
    if min_size is not None:
        finite_number(min_size, "min_size", minimum=0, unit="pixels")
    if isinstance(seeds, str) and seeds != "regional_maxima":
        raise ValueError(
            f"seeds must be None, 'regional_maxima', points or labels; got {seeds!r}."
        )
    seeds_kind(seeds, shape)
    auto = isinstance(threshold, str) and threshold == "auto"
    if not auto:
        try:  # checked before any work; "auto" is this function's own method
            threshold_spec(threshold)
        except ValueError as err:
            raise ValueError(f"{err} Or 'auto' (the default).") from None
    return auto


def _cuts(peak, level, value, n: int) -> np.ndarray:
    """For labels 0..n, the level its outline follows: the global threshold ``value``
    (``peak`` is None), or for the "auto" threshold ``_TRIM`` of its own peak over the
    background (``peak`` from :func:`_segment_work`) — but not below ``value``, there the
    level at which dim nuclei were looked for (:func:`_dim_level`; the foreground's own
    edge before round 10): a dim nucleus whose 30 % lies below it is outlined there."""
    if peak is None:
        return np.full(n + 1, float(value))
    return np.maximum(level + _TRIM * (peak - level), float(value))


def _core_peak(labels, smooth, height, level=None) -> np.ndarray:
    """Per label, the maximum of ``smooth`` over its core: its pixels where ``height`` (a
    distance to its outline) is at least half its largest value in the label.

    A nucleus's own peak, not the halo of a brighter neighbour that its outline touches.
    """
    n = int(labels.max())
    core = np.where(height >= 0.5 * _label_max(height, labels, n)[labels], labels, 0)
    peak = _label_max(smooth, core, n)
    peak[0] = np.inf
    if level is not None:
        peak = _unless_foci(labels, smooth, level, peak, core, _FOCI_CAP, _FOCI_BODY)
        peak[0] = np.inf
    return peak


def _refine_outlines(labels, smooth, cuts, factor: int, shape, territories, frozen=None):
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
    """
    if factor <= 1 or not labels.any():
        return _upsample(labels, factor, shape), _upsample(territories, factor, shape)
    footprint = np.ones((3, 3), dtype=bool)
    outline = (ndi.maximum_filter(labels, footprint=footprint)
               != ndi.minimum_filter(labels, footprint=footprint))
    if frozen is not None:
        outline &= ~frozen
    h, w = labels.shape
    # enlarged to whole blocks (cropped to ``shape`` at the end), seen as (h, f, w, f)
    up = np.repeat(np.repeat(labels, factor, axis=0), factor, axis=1)
    blocks = up.reshape(h, factor, w, factor)
    owner = np.repeat(np.repeat(territories, factor, axis=0), factor, axis=1)
    owner_blocks = owner.reshape(h, factor, w, factor)
    t = (np.arange(factor) + 0.5) / factor - 0.5  # offset from the pixel centre
    tent = np.stack([np.maximum(-t, 0), 1 - np.abs(t), np.maximum(t, 0)], axis=1)
    # weight of each of the 3 x 3 neighbours at each of the factor x factor pixel centres
    weight = np.einsum("ia,jb->abij", tent, tent).reshape(9, factor * factor)
    padded = np.pad(smooth, 1, mode="edge")
    padded_labels = np.pad(labels, 1, mode="edge")
    wr, wc = np.nonzero(outline)
    step = max(1, 2**21 // (9 * factor * factor))  # bounded memory for large factors
    for start in range(0, wr.size, step):
        r, c = wr[start:start + step], wc[start:start + step]
        hood = np.stack([padded[r + i, c + j] for i in range(3) for j in range(3)], axis=1)
        lab = np.stack([padded_labels[r + i, c + j] for i in range(3) for j in range(3)],
                       axis=1)
        values = hood @ weight  # (n, f*f) the smoothed image at the pixel centres
        top = lab.max(axis=1)
        winner = np.repeat(top[:, None], weight.shape[1], axis=1)  # the only nucleus around
        two = np.flatnonzero(np.where(lab > 0, lab, top[:, None]).min(axis=1) != top)
        if two.size:  # two nuclei or more around: the one of largest membership
            near = lab[two]
            # membership of neighbour k's nucleus: the summed weights of the neighbours
            # that carry the same label (background neighbours are not candidates)
            same = (near[:, :, None] == near[:, None, :]) & (near[:, None, :] > 0)
            member = (same.reshape(-1, 9) @ weight).reshape(len(two), 9, -1)
            member[near == 0] = -1.0
            winner[two] = np.take_along_axis(near, member.argmax(axis=1), axis=1)
        redrawn = np.where(values > cuts[winner], winner, 0).reshape(-1, factor, factor)
        blocks[r, :, c, :] = redrawn
        owner_blocks[r, :, c, :] = np.where(redrawn > 0, redrawn, owner_blocks[r, :, c, :])
    return up[:shape[0], :shape[1]], owner[:shape[0], :shape[1]]


def _above_own_fraction(smooth, labels, level, fraction, peak) -> np.ndarray:
    """``labels`` where ``smooth`` is above ``fraction`` of each label's own contrast over
    the background, ``level + fraction * (peak - level)`` (``peak[0]`` = inf), else 0."""
    return np.where(smooth > (level + fraction * (peak - level))[labels], labels, 0)


def _trim_to_own_peak(labels, smooth, level, height, d) -> np.ndarray:
    """Keep, in each nucleus, the pixels above ``_TRIM`` of its own peak over background.

    The log-Otsu foreground is generous (it must reach dim nuclei), so bright nuclei come
    out with their blurred halo. Cutting each one at a fraction of its own contrast gives
    outlines that do not depend on how bright the nucleus is, nor on its neighbours.

    A dim nucleus that touches a much brighter object may have been flooded from the bright
    one's seed; the cut would then erase it. So what the cut removes from a label is looked
    at again: a part wide enough to hold the core of a nucleus (an inscribed disc of
    diameter ``d / 2``, the first-pass seeds' radius) is a nucleus of its own and is cut at
    the same fraction of *its* peak. Holes the cuts open inside a nucleus are filled back
    from the remaining pixels.
    """
    from skimage.segmentation import watershed

    n = int(labels.max())
    peak = _label_max(smooth, labels, n)
    peak[0] = np.inf
    # a saturated cell in its glow keeps its own peak; dim nuclei on the glow are split off
    core = np.pi * (d * _MIN_R / 2) ** 2  # the cores of _split_clusters
    if (bright := _bright_cells(labels, smooth, level, peak, d, core, sharp=_SHARP)).any():
        labels = _glow_nuclei(labels, smooth, level, d, peak, peak, bright, 4 * core,
                              trim=_TRIM, core_area=core)[0]
        peak = _label_max(smooth, labels, n := int(labels.max()))  # peak[0]: set below
        bright = np.append(bright, np.zeros(n + 1 - bright.size, bool))
    core = np.where(height >= 0.5 * _label_max(height, labels, n)[labels], labels, 0)
    peak = np.where(bright, peak, _unless_foci(labels, smooth, level, peak, core, _FOCI_CAP))
    peak[0] = np.inf
    trimmed = _above_own_fraction(smooth, labels, level, _TRIM, peak)
    # what the cut takes off a bright cell is its glow (nuclei on it were split off above)
    parts, n = ndi.label((labels > 0) & (trimmed == 0) & ~bright[labels])
    # only parts with the area of that disc can hold it: their distance transforms are
    # computed in their own boxes (most removed parts are thin halos)
    big = np.flatnonzero(np.bincount(parts.ravel(), minlength=n + 1)[1:]
                         >= np.pi * (d * _PEAK_R) ** 2) + 1
    new = np.zeros_like(labels)
    # the big parts numbered 1..k first: find_objects costs a slice per label, and the
    # thin halo parts number thousands
    rank = np.zeros(n + 1, dtype=np.int32)
    rank[big] = np.arange(1, big.size + 1)
    boxes = ndi.find_objects(rank[parts], max_label=big.size) if big.size else []
    top = int(labels.max())
    for k, i in enumerate(big):
        box = _widened(boxes[k], 1, parts.shape)
        part = (parts[box] == i).astype(np.int32)
        dist = ndi.distance_transform_edt(part)
        if dist.max() >= d * _PEAK_R:  # wide enough: a nucleus of its own
            own = _core_peak(part, smooth[box], dist)
            kept = _above_own_fraction(smooth[box], part, level, _TRIM, own) > 0
            new[box][kept] = top + 1 + i
    trimmed = np.where(new > 0, new, trimmed).astype(np.int32)
    filled = _fill_small_holes(trimmed > 0, d)
    if (filled & (trimmed == 0)).any():
        trimmed = watershed(-height, trimmed, mask=filled).astype(np.int32)
    return trimmed


