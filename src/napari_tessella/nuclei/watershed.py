"""Seeded watershed of nuclei: smoothing → threshold → seeds → distance transform →
watershed → territories; validation first, then in memory or chunk by chunk."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import label

from .._label_image import (
    _edge_ids,
    _label_moments,
    _nearest_label,
    _per_label,
    _relabel_sequential,
)
from .._lazy import is_lazy
from .._outside import frame_part, seeds_in_box
from .._validation import as_float_image, as_points, flag, seeds_kind
from ..threshold import compute_threshold
from ._background import _shoulder_gate, _tile_counts, _tile_noise
from ._chunked import seeded_watershed_chunked
from ._deblur import _central, _measured, _sharpened, _wide_blur
from ._flat import _flat_pieces, _flatness
from ._foreground import _auto_mask, _auto_params_logged, _dim_level, _flatten
from ._orient import (
    IDENTITY,
    of_image,
    points_from_canonical,
    points_to_canonical,
    to_canonical,
)
from ._outlines import _cuts, _refine_outlines
from ._params import _check_threshold_in_image, _check_watershed_params
from ._recipe import WatershedResult, _plan, _segment_work
from ._resample import _block_mean, _full_resolution
from ._small import _small_population
from ._spikes import _despiked
from ._windows import _extreme_exponent
from .diameter import _estimate_in_memory

__all__ = ["seeded_watershed"]

#: ``_whole``'s ``frame`` when no one has looked for a frame yet (None: looked, none)
_UNREAD = object()


def seeded_watershed(
    image,
    *,
    object_diameter: float | None = None,
    sigma: float | None = None,
    seeds=None,
    landscape: str = "distance",
    threshold="auto",
    exclude_border: bool = False,
    min_size: int | None = None,
) -> WatershedResult:
    """Segment touching nuclei with a seeded watershed and give each its territory.

    Recipe: Gaussian smoothing → threshold → seeds → watershed of the landscape inside the
    foreground → generalized Voronoi territories of the whole plane.

    With the defaults every length comes from the estimated object diameter ``d`` (see
    ``docs/nuclei.md``): when neither ``sigma`` nor ``seeds`` is given the work is done on
    the image reduced by block averaging so that ``d`` spans about
    :data:`WORKING_DIAMETER` pixels, and the labels and territories are enlarged back at the
    end: territories by nearest neighbour (steps of that factor), labels with their outlines
    against the background redrawn at full resolution.

    Parameters
    ----------
    image : (M, N) ndarray
        Fluorescence image, bright nuclei on a dark background, any real dtype. A
        constant frame around the field (whole edge rows or columns at the image's
        minimum, or its maximum: a stitched or registered image's border, a saturated
        padding) is read as outside the image, in memory and chunk by chunk: no nucleus
        and no territory there (``napari_tessella._outside.frame_part``); so is, in
        memory, a constant fill in its corners (a rotation's triangles, a mosaic's
        missing tile; chunk by chunk a warning says it is segmented with the field). NaN or
        infinite pixels are refused: :func:`napari_tessella.seeded_watershed_finite`
        reads them as outside the image.
    object_diameter : float, optional
        Typical nucleus diameter in pixels, at least 1. Estimated with
        :func:`estimate_object_diameter` when not given; all defaults below derive from it.
    sigma : float, optional
        Gaussian smoothing in pixels. Default ``object_diameter / 20``.
    seeds : None, "regional_maxima", (K, 2) array_like or (M, N) int ndarray, optional
        None: h-maxima of the landscape. With ``landscape="distance"`` the distance
        transform is first smoothed by a Gaussian of ``d / 10`` (pixel-scale ripples of the
        outline otherwise make extra peaks) and the height is ``d / 20`` (peaks separated by
        a real neck); with ``"intensity"`` the height is a tenth of the intensity range.
        "regional_maxima": regional maxima of the smoothed image (the original tutorial).
        Points: (row, column) seed coordinates (seeds outside the image or the foreground
        are ignored). Label image: each labelled region is one seed; an id painted in
        separate pieces (napari's brush keeps its label from dot to dot) is one seed per
        piece (pixels meeting at a corner are one piece).
    landscape : {"distance", "intensity"}
        Flood the inverted distance transform of the foreground (the tutorial's choice) or
        the inverted smoothed intensity.
    threshold : "auto", str or float
        Foreground threshold. "auto" (default): Otsu on the log of the background-corrected
        smoothed image (keeps dim nuclei beside bright ones), then each nucleus is trimmed
        to the pixels above 30 % of its own peak over the background (its outline does not
        depend on its neighbours' brightness); the final outlines are cut half-way between
        each nucleus's body at its rim and the background, where its edge is. Otherwise a
        method name (see :data:`napari_tessella.THRESHOLD_METHODS`) applied to the smoothed
        image, or a number in image units.
    exclude_border : bool
        Drop nuclei that touch the image border (their territories go to their neighbours).
    min_size : int, optional
        Foreground specks with fewer pixels are dropped before seeding. With
        ``threshold="auto"`` the trimmed nuclei are checked again, and objects that touch
        the image border (nuclei cut by it) need only 9/64 of that size. Default: the area
        of a disc of two thirds of the diameter, ``π (d/3)²`` (border objects: ``π (d/8)²``).
        Objects narrower than two thirds of the typical nucleus are taken for fragments,
        debris or micronuclei; give a smaller ``min_size`` to keep them. With the
        default, a second, smaller population of nuclei is kept (blobs down to a third of
        the diameter, apart from larger nuclei and compact, when they are at least 3 and a
        fifth of the objects: ``nuclei._small``); a ``min_size`` given applies to all.

    Returns
    -------
    WatershedResult
        ``threshold`` is in image units (for "auto", the global level that the log-Otsu cut
        corresponds to, before the per-nucleus trimming).

    Raises
    ------
    ValueError
        For an invalid image (constant, NaN, not 2-D) or parameter: NaN or infinite,
        out of range, ``object_diameter`` or ``sigma`` above the image's longest side,
        seeds of the wrong shape, a ``threshold`` number below every pixel (every pixel
        would be foreground; one above every pixel gives no nuclei). All are checked
        before any work.
    TypeError
        For a parameter of the wrong type, or seeds that are a bool mask or a float image
        of the image's shape (a seeds label image holds integers: label a mask first).

    Examples
    --------
    >>> from napari_tessella.synthetic import synthetic_nuclei
    >>> nuc = synthetic_nuclei(seed=0)
    >>> result = seeded_watershed(nuc.image)
    >>> int(result.territories.min()) > 0
    True
    """
    return _seeded_watershed(image, object_diameter=object_diameter, sigma=sigma,
                             seeds=seeds, landscape=landscape, threshold=threshold,
                             exclude_border=exclude_border, min_size=min_size)


def _seeded_watershed(image, *, object_diameter=None, sigma=None, seeds=None,
                      landscape="distance", threshold="auto", exclude_border=False,
                      min_size=None, frame=_UNREAD) -> WatershedResult:
    """:func:`seeded_watershed`; ``frame``: the constant frame of the in-memory ``image``
    when the caller has read it already (``_finite.frame_of``, to say it), not read again
    unless the hot pixels read as their neighbours changed the image (``_UNREAD``: read
    here; see :func:`_whole`)."""
    # parameters first, before any work; then against the image's shape
    exclude_border = flag(exclude_border, "exclude_border")
    _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold,
                            min_size=min_size)
    if is_lazy(image):  # dask/Zarr: chunk by chunk with margins of a few diameters
        _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold,
                                shape=image.shape, min_size=min_size)
        return seeded_watershed_chunked(
            image, object_diameter=object_diameter, sigma=sigma, seeds=seeds,
            landscape=landscape, threshold=threshold, exclude_border=exclude_border,
            min_size=min_size)
    return _whole(image, seeds, object_diameter=object_diameter, sigma=sigma,
                  landscape=landscape, threshold=threshold, exclude_border=exclude_border,
                  min_size=min_size, sharpen=True, frame=frame)


def _whole(image, seeds, *, object_diameter, sigma, landscape, threshold, exclude_border,
           min_size, sharpen, dense=False, frame=_UNREAD) -> WatershedResult:
    """:func:`seeded_watershed` of an image in memory (parameters checked), in two stages:
    :func:`_prepared` up to the threshold and the dense gate, :func:`_segmented` from
    there. Between the two, with ``sharpen``, a dense field (the gate's shoulders, or a
    flanked field nearly as dense: :func:`._deblur._measured`) under a wide PSF
    (:mod:`._deblur`) is not segmented: the whole recipe runs on it sharpened, once (its
    own diameter, gates and all; the sharpened run, ``dense``, keeps the gate the image as
    given met: the sharpening steepens the flanks, not the crowd, round 39). ``frame``:
    what lies outside the image: ``_UNREAD``, not looked for yet (looked for here, and
    again when the spikes read changed the image); the constant frame or corner fills the
    caller read (:func:`_seeded_watershed`; a frame looked for again as well); or None,
    nothing (the part inside a frame, not looked at again)."""
    img = as_float_image(image)
    auto = _check_watershed_params(object_diameter, sigma, seeds, landscape, threshold,
                                   shape=img.shape, min_size=min_size)
    kind = seeds_kind(seeds, img.shape)
    if sharpen:  # (the image as given: its sharpened run keeps the threshold it was given)
        _check_threshold_in_image(threshold, img)
        part = frame_part(image, img) if frame is _UNREAD else frame
        if part is None or part.outside is None:  # (a fill is read before the spikes:
            # a rotation's blended rim beside a bright fill read as spikes, round 55)
            clean, img = _despiked(image, img)  # hot pixels read as their neighbours
            if frame is not None and clean is not image:  # (a frame: as chunked; the
                part = frame_part(clean, img)  # same one when no spike changed the image)
            image = clean
        if part is not None:  # a constant frame or corner fill (stitching, registration,
            # a rotation, a saturated padding): outside the image, as NaN is (._outside)
            inner, _ = seeds_in_box(seeds, part)  # (seeds on the frame: left out)
            return part.result_in_whole(_whole(
                part.image, inner, object_diameter=object_diameter, sigma=sigma,
                landscape=landscape, threshold=threshold, exclude_border=exclude_border,
                min_size=min_size, sharpen=True, frame=None), exclude_border)
    given = seeds
    if kind == "labels":
        seeds = _one_seed_per_piece(seeds)  # (still labels)
    integral = getattr(getattr(image, "dtype", None), "kind", "f") in "biu"
    # a plane of integers is reduced from them: the block means of ``img``, faster (its
    # float64 copy is still made, by the validation: without it, the full-resolution
    # outputs were returned to the system and faulted in again, image after image)
    pixels = np.asarray(image) if integral and np.ndim(image) == 2 else None
    # values near the largest float overflow in the smoothing (a finite image was refused
    # as NaN), and subnormal ones are lost in it (no nuclei): those images only are divided
    # by a power of two, exactly, and the threshold with them (never an image of integers:
    # its magnitudes lie between 2**-4, an RGB luminance, and 2**64)
    exponent = 0 if integral else _extreme_exponent(img)
    scaled = np.ldexp(img, -exponent) if exponent else img
    # worked in the orientation the image's content gives (see ._orient): its flips and
    # quarter turns give the same nuclei (an extreme image: from its sums rescaled)
    orient = of_image(scaled, pixels)
    kwargs = {"object_diameter": object_diameter, "sigma": sigma, "threshold": threshold,
              "min_size": min_size, "auto": auto,
              "known_flanks": not sharpen, "dense": dense}  # the sharpened run's
    turned = seeds
    if orient == IDENTITY:
        prep = _prepared(scaled, pixels, seeds, exponent, **kwargs)
    else:
        if kind == "points":
            turned = points_to_canonical(as_points(seeds, name="seeds"), orient, img.shape)
        elif kind is not None and not isinstance(seeds, str):
            turned = np.ascontiguousarray(to_canonical(np.asarray(seeds), orient))
        # a plane of integers is read from ``pixels``: of ``img`` only its shape (no copy)
        prep = _prepared(to_canonical(scaled, orient) if pixels is not None
                         else np.ascontiguousarray(to_canonical(scaled, orient)),
                         None if pixels is None else np.ascontiguousarray(
                             to_canonical(pixels, orient)), turned, exponent, **kwargs)
    # a dense field's blur, measured where the gate (nearly) holds, on the image as given
    wide = (_wide_blur(img[_central(img.shape)], prep.diameter)
            if sharpen and _measured(prep.share) else None)  # ("auto" only)
    if wide is not None:  # a dense field under a wide PSF: the whole recipe sharpened
        sharp, dense = _sharpened(img, wide, prep.diameter), prep.shoulders
        del prep  # (its working images are not kept through the second run)
        return _whole(sharp, given, object_diameter=object_diameter, sigma=sigma,
                      landscape=landscape, threshold=threshold,
                      exclude_border=exclude_border, min_size=min_size, sharpen=False,
                      dense=dense)
    res = _segmented(prep, turned, kind, landscape=landscape, exclude_border=exclude_border,
                     auto=auto, orient=None if orient == IDENTITY else orient,
                     sharpened=not sharpen)  # (the second run is the sharpened one)
    if orient == IDENTITY:
        return res
    # (its labels and territories were turned back already, its seeds not)
    points = (as_points(seeds, name="seeds") if kind == "points"
              else points_from_canonical(res.seeds, orient, img.shape))
    return replace(res, seeds=points)


def _one_seed_per_piece(seeds):
    """A seeds label image whose every id is one connected piece (8-connected): the same
    array when it is so; else each piece its own id, renumbered. Four dots painted with
    one label were one seed at their mean, on no nucleus, and one "nucleus" of the four."""
    arr = np.asarray(seeds)
    pieces, n = label(arr, background=0, connectivity=2, return_num=True)
    if n == np.unique(arr[arr != 0]).size:
        return seeds
    return pieces


class _Prepared(NamedTuple):
    """The in-memory recipe up to its threshold and dense gate (:func:`_prepared`): what
    :func:`_segmented` goes on from, and what decides whether the field is sharpened."""

    diameter: float  # the object diameter, full-resolution pixels (given or estimated)
    sigma: float  # the smoothing, full-resolution pixels (``_plan``)
    min_size: float  # the minimum size, full-resolution pixels (``_plan``)
    find_small: bool  # the default minimum size: a small population is looked for
    factor: int  # the block-averaging factor of the working image
    full_shape: tuple  # the image's shape, as the arrays are oriented
    exponent: int  # the power of two the image was divided by (0: none)
    smooth: np.ndarray  # the smoothed working image (with "auto": flattened, ._foreground)
    raw: np.ndarray | None  # with "auto": the smoothed working image before flattening
    value: float  # the global threshold, working units (divided by 2**exponent)
    level: float | None  # with "auto": the log-Otsu cut's parameters (level, eps, cut)
    eps: float | None
    cut: float | None
    unit: float | None  # with "auto": the noise of the smoothed working image (or None)
    share: float  # with "auto": a flanked field's share above the cut (else 0; ._deblur)
    dense: bool = False  # sharpened, and the image as given met the dense gate
    work: np.ndarray | None = None  # with "auto": the working image before its smoothing

    @property
    def shoulders(self) -> bool:
        """With "auto": the dense gate holds (``._background._shoulder_gate`` of ``share``,
        or ``dense``)."""
        return _shoulder_gate(self.share) or self.dense


def _prepared(img, pixels, seeds, exponent, *, object_diameter, sigma, threshold,
              min_size, auto, known_flanks=False, dense=False) -> _Prepared:
    """The first stage of :func:`seeded_watershed` in memory: of the validated image
    ``img`` (float, already divided by ``2**exponent``), from the plane of integers
    ``pixels`` it was made from (or None), as the arrays are oriented: the diameter
    (estimated when not given), the plan (``_plan``), the smoothed working image and the
    global threshold; with ``auto``, the flattening and the log-Otsu parameters with the
    dense gate (``shoulders``); all of it as a :class:`_Prepared`. Nothing is segmented:
    :func:`_whole` decides from it whether the field is sharpened first (:mod:`._deblur`),
    else :func:`_segmented` finishes from it. ``known_flanks``: its pixels below Otsu are
    flanks (the sharpened run of a field read so, :func:`._background._level_and_noise`);
    ``dense``: the image as given met the dense gate (the sharpened run's, :func:`_whole`)."""
    if exponent and not isinstance(threshold, str):  # (a number, with the image)
        threshold = float(np.ldexp(float(threshold), -exponent))
    pixels = img if pixels is None else pixels
    reduced = {}  # the estimate's block means of the whole image, by factor
    diameter = (float(object_diameter) if object_diameter
                else _estimate_in_memory(pixels, reduced))
    find_small = min_size is None  # the default minimum size keeps whole small nuclei
    factor, sigma, min_size = _plan(img.shape, diameter, sigma, seeds, min_size)
    work = reduced[factor] if factor in reduced else _block_mean(pixels, factor)
    d = diameter / factor  # diameter in working pixels
    s = sigma / factor

    smooth = ndi.gaussian_filter(work, s) if s > 0 else work
    level = eps = cut = unit = raw = None
    share = 0.0
    if auto:
        raw, smooth = smooth, _flatten(smooth, d)
        unit = _tile_noise(_tile_counts(work), s)
        level, eps, cut, _, share = _auto_params_logged(smooth, unit, floor=False,
                                                        binned=True,
                                                        known_flanks=known_flanks)
        value = float(level + np.exp(cut) - eps)
    else:
        value = compute_threshold(smooth, threshold)
    return _Prepared(diameter, sigma, min_size, find_small, factor, img.shape, exponent,
                     smooth, raw, value, level, eps, cut, unit, share, dense and auto,
                     work if auto else None)


def _segmented(prep, seeds, kind, *, landscape, exclude_border, auto, orient=None,
               sharpened=False) -> WatershedResult:
    """The second stage of :func:`seeded_watershed` in memory, from :func:`_prepared`'s
    ``prep`` (the same ``seeds`` and ``auto``, as the arrays are oriented; ``kind``, what
    the seeds given were, :func:`seeds_kind`, read once by :func:`_whole`): the
    foreground, the seeded watershed (``_segment_work``), the nuclei kept, the
    territories and the outlines at full resolution, as a :class:`WatershedResult`; the
    labels and territories turned back by ``orient`` (:mod:`._orient`, see
    :func:`._outlines._refine_outlines`) when given, the seeds not. ``sharpened``: the
    image is a dense field sharpened (:mod:`._deblur`; its cut nuclei joined, :mod:`._join`)."""
    smooth, level, value, factor = prep.smooth, prep.level, prep.value, prep.factor
    full_shape = prep.full_shape
    d = prep.diameter / factor  # diameter in working pixels
    low = None
    if auto:
        mask = _auto_mask(smooth, level, prep.eps, prep.cut)
        low = _dim_level(level, prep.eps, prep.cut, prep.unit if prep.shoulders else None)
    else:
        mask = smooth > value
    labels, markers, peak, small = _segment_work(
        smooth, mask, d=d, min_size_work=prep.min_size / factor**2, auto=auto, level=level,
        landscape=landscape, seeds=seeds, low=low, small=prep.find_small,
        shoulders=prep.shoulders, raw=prep.raw, sharpened=sharpened, work=prep.work)

    ids = np.flatnonzero(np.bincount(markers.ravel())[1:]) + 1  # the markers' ids, no sort
    centres = np.empty((0, 2))  # the markers' centres of mass, in working pixels
    if ids.size:  # (bincounts of whole coordinates: ndi.center_of_mass's values, faster)
        _, mean_r, mean_c = _label_moments(markers, int(ids[-1]), ids)[:3]
        centres = np.stack([mean_r[ids], mean_c[ids]], axis=1)
    seed_points = _full_resolution(centres, factor, full_shape)

    keep = np.bincount(labels.ravel()) > 0  # the ids present (no sort)
    keep[0] = False
    if small is not None and not _small_population(int((small & keep).sum()),
                                                   int(keep.sum())):
        keep[small] = False  # a few small blobs: debris, not a population of nuclei
    if auto and labels.any():  # flat pieces on the image border: debris (round 22)
        keep &= ~_flat_pieces(*_flatness(labels, smooth, level, d))
    if exclude_border and labels.any():
        keep[_edge_ids(labels)] = False
    dropped = ~_per_label(keep, labels) & (labels > 0)  # their outlines are not refined
    new_id = _relabel_sequential(np.arange(keep.size), keep)
    kept = np.flatnonzero(new_id)
    cuts = np.zeros(kept.size + 1)
    # the outlines' floor: the level at which dim nuclei were looked for, not the global cut
    floor = value if low is None else low
    cuts[new_id[kept]] = _cuts(peak, level, floor, keep.size - 1)[kept]
    labels = _per_label(new_id, labels)
    if kind == "points":
        seed_points = as_points(seeds, name="seeds")  # exactly as given, every one
    elif kind in (None, "name") and ids.size:
        # automatic seeds of nuclei that were dropped (too small, on the border) are not
        # shown; seeds the user gave are all returned, so an edited seeds layer never
        # loses points when it is updated with the result
        at = np.rint(centres).astype(np.int64)
        seed_points = seed_points[labels[at[:, 0], at[:, 1]] > 0]

    if labels.any():
        territories = _nearest_label(labels)
    else:
        territories = np.zeros(smooth.shape, dtype=np.int32)
    labels, territories = _refine_outlines(labels, smooth, cuts, factor, full_shape,
                                           territories, frozen=dropped, orient=orient)
    return WatershedResult(labels=labels, territories=territories, seeds=seed_points,
                           object_diameter=prep.diameter, sigma=prep.sigma,
                           threshold=float(np.ldexp(value, prep.exponent)),
                           min_size=int(prep.min_size))
