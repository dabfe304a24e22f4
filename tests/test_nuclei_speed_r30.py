"""Round 30: exact speed-ups of the nuclei recipe (the sharpness rings' nearest labels
looked up around the labels instead of the whole image's feature transform; the
histogram's robust level and densest run over its occupied bins; the elongated
nuclei's cores labelled in their box), each against the plain computation it replaces,
bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage as ndi

import napari_tessella._label_image as li
from napari_tessella.nuclei import _background as bg
from napari_tessella.nuclei import _cues
from napari_tessella.nuclei import diameter as dm

_SEEDS = hnp.arrays(np.int32, st.tuples(st.integers(1, 20), st.integers(1, 20)),
                    elements=st.sampled_from([0, 0, 0, 1, 2, 3]))


def _labels(seed, shape=(50, 60)):
    """Touching, nearly symmetric blobs (ties between two labels everywhere)."""
    rng = np.random.default_rng(seed)
    blobs = ndi.gaussian_filter(rng.random(shape), rng.uniform(1, 3)) > rng.uniform(0.47, 0.55)
    labels = ndi.label(blobs)[0].astype(np.int32)
    labels[:, shape[1] // 2:] = np.where(labels[:, shape[1] // 2:] > 0, 1 + labels.max(), 0)
    return labels


@settings(deadline=None, max_examples=300)
@given(_SEEDS)
def test_feature_transform_keeps_the_leftmost_then_upper_nearest_seed(seeds):
    """What ``_nearest_near`` relies on: of the nearest seed pixels, scipy's feature
    transform gives the one in the leftmost column, then the upper one."""
    if not seeds.any():
        return
    ft = ndi.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
    qr, qc = np.nonzero(seeds)
    for r, c in np.ndindex(seeds.shape):
        best = np.lexsort((qr, qc, (qr - r) ** 2 + (qc - c) ** 2))[0]
        assert (ft[0][r, c], ft[1][r, c]) == (qr[best], qc[best])


@settings(deadline=None, max_examples=300)
@given(_SEEDS, st.floats(0.5, 5.0), st.booleans())
def test_nearest_near_is_the_whole_transform_at_its_pixels(seeds, reach, ring):
    """At a ring's pixels (within ``reach``) and at any pixels (those beyond: the whole
    transform), the nearest labels of the whole image's transform, in its type."""
    fg = seeds > 0
    at = (~fg & li._binary_dilation(fg, _cues._disc(max(reach, 1.0))) if ring
          else np.indices(seeds.shape).sum(axis=0) % 3 == 0)
    want = li._only(li._nearest_label(seeds), at) if seeds.any() else None
    got = li._nearest_near(seeds, at, reach) if seeds.any() else None
    if want is not None:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_nearest_near_on_touching_labels_and_wide_rings():
    for seed in range(12):
        labels = _labels(seed)
        if not labels.any():
            continue
        fg = labels > 0
        for reach in (1.0, 1.5, 2.0, 4.5, 6.0):
            ring = ~fg & li._binary_dilation(fg, _cues._disc(reach))
            np.testing.assert_array_equal(li._nearest_near(labels, ring, reach),
                                          li._only(li._nearest_label(labels), ring))


def test_edge_sharpness_without_nearest_labels_is_the_same():
    """Both rings, with the nearest labels made here (around the labels) and given (the
    whole image's transform, as before round 30)."""
    rng = np.random.default_rng(3)
    for seed in range(8):
        labels = _labels(seed)
        smooth = ndi.gaussian_filter(rng.random(labels.shape) + (labels > 0), 1.0)
        nearest = li._nearest_label(labels)
        for ring in (None, _cues._WIDE_RING):
            np.testing.assert_array_equal(
                _cues._edge_sharpness(labels, smooth, 0.5, 14.0, None, ring),
                _cues._edge_sharpness(labels, smooth, 0.5, 14.0, nearest, ring))


def _plain_hist_robust(counts, centres, width):
    """Round 29's ``_hist_robust``: the median, then the deviation over every bin."""
    level = bg._hist_median(counts, centres, width)
    edges, n = bg._cells(counts, centres, width)
    cum = np.concatenate([[0.0], np.cumsum(n)])
    i = min(int(np.searchsorted(cum, cum[-1] / 2, side="left")), n.size) - 1
    if edges[i + 1] - edges[i] <= 2 * width:
        counts = np.asarray(counts, dtype=np.float64)
        dev = np.abs(centres.astype(np.float64) - level)
        order = np.argsort(dev, kind="stable")
        return level, 1.4826 * bg._bin_median(counts[order], dev[order], 0.0)
    return bg._hist_robust(counts, centres, width)  # (the discrete branch is unchanged)


def _plain_densest(counts, share):
    cum = np.concatenate([[0.0], np.cumsum(counts)])
    ends = np.searchsorted(cum, cum[:-1] + share * cum[-1], side="left")
    ok = ends < cum.size
    return max(1, int(np.min(ends[ok] - np.arange(counts.size)[ok]))) if ok.any() else 1


def test_histogram_level_and_densest_run_over_occupied_bins():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        size = int(rng.integers(1, 400))
        counts = ((rng.random(size) < rng.random()) * rng.integers(0, 6, size)).astype(float)
        centres = (np.sort(rng.normal(size=size)) * 10.0 ** rng.uniform(-4, 4)
                   if rng.random() < 0.5 else (np.arange(size) + 0.5) * 0.37)
        width = float(centres[1] - centres[0]) if size > 1 else 0.37
        share = float(rng.uniform(0.01, 1.0))
        assert bg._densest(counts, share) == _plain_densest(counts, share)
        if counts.any():
            assert bg._hist_robust(counts, centres, width) == _plain_hist_robust(
                counts, centres, width)


def _plain_elongated(labels, n, radius, area, dist):
    """Round 29's ``_elongated_radius``: the cores labelled over the whole image."""
    from napari_tessella.nuclei._holes import _ELLIPSE, _ellipse_share

    long = np.flatnonzero(area > dm._COMPACT * np.pi * (radius + 0.5) ** 2) + 1
    if long.size == 0:
        return radius
    one = _ellipse_share(labels, n, np.concatenate([[0.0], area]), long)[1:] >= _ELLIPSE
    if one.any():
        pick = np.zeros(n + 1, dtype=bool)
        pick[np.flatnonzero(one) + 1] = True
        top = np.concatenate([[np.inf], dm._CORE * radius])
        core = pick[labels] & (dist >= top[labels])
        cores, k = ndi.label(core)
        pairs = np.unique(labels[core].astype(np.int64) * (k + 1) + cores[core])
        one &= np.bincount(pairs // (k + 1), minlength=n + 1)[1:] == 1
    own = np.sqrt(area / (dm._COMPACT * np.pi)) - 0.5
    return np.where(one, np.maximum(radius, own), radius)


def test_elongated_radius_cores_in_their_box():
    """Ellipses, pairs of overlapping discs (two cores) and round nuclei."""
    rr, cc = np.mgrid[:80, :120]
    for seed in range(20):
        rng = np.random.default_rng(seed)
        mask = np.zeros(rr.shape, bool)
        for _ in range(rng.integers(1, 6)):
            r, c = rng.integers(10, 70), rng.integers(10, 110)
            a, b = rng.uniform(3, 9), rng.uniform(3, 20)
            mask |= ((rr - r) / a) ** 2 + ((cc - c) / b) ** 2 <= 1
            if rng.random() < 0.5:  # an overlapping twin: two cores
                mask |= ((rr - r) / a) ** 2 + ((cc - c - 1.3 * a) / a) ** 2 <= 1
        labels, n = ndi.label(mask, output=np.intp)
        dist = ndi.distance_transform_edt(mask)
        radius = dm._label_max(dist, labels, n)[1:]
        area = np.bincount(labels.ravel(), minlength=n + 1)[1:].astype(float)
        np.testing.assert_array_equal(dm._elongated_radius(labels, n, radius, area, dist),
                                      _plain_elongated(labels, n, radius, area, dist))


@settings(deadline=None, max_examples=300)
@given(hnp.arrays(bool, st.tuples(st.integers(3, 20), st.integers(3, 20))))
def test_hole_radius_is_at_most_half_its_box(mask):
    """What ``_holes._nucleoli_filled`` skips a hole's transform by: an enclosed hole's
    largest distance in its box widened by one is at most half its box's shorter side,
    rounded up."""
    holes, inner = li._enclosed(~mask)
    for i, box in enumerate(ndi.find_objects(holes), start=1):
        if box is None or not inner[i]:
            continue
        bound = (min(s.stop - s.start for s in box) + 1) // 2
        hole = holes[li._widened(box, 1, mask.shape)] == i
        assert ndi.distance_transform_edt(hole).max() <= bound

