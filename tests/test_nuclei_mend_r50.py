"""Round 50: the review's mends, a refactor with every label identical.

The box of a few labels taken from the labels' ``ndi.find_objects`` boxes is the box the
whole-image pass finds; a measure read in the box of uncut labels equals the whole image's
for their cut labels; the rim bar with the caller's boxes is the same. The one
interpolation of numpy's quantile (``_quantiles._sorted_quantile``) gives numpy's bits
on runs and on one sorted array, and the atoms' noise levels read it. The box of a mask
(``_label_image._mask_box``) is its pixels' box. The second diameter measurement is given
a ``FirstCut``. (On the round's base every test here fails: the boxes, ``around``, the
shared interpolation, ``_mask_box`` and ``FirstCut`` are new.)"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella.nuclei import _cues
from napari_tessella.nuclei._in_box import _box_around, _in_box_of
from napari_tessella.synthetic import synthetic_nuclei


def _field(seed=3):
    """A small field of touching nuclei, some cut by the image's sides, its labels and
    the image smoothed as the recipe's working image is."""
    nuc = synthetic_nuclei((160, 200), n_nuclei=30, diameter=22, seed=seed, noise=0.03)
    return nuc.labels.astype(np.int32), ndi.gaussian_filter(nuc.image.astype(float), 1.0)


@pytest.mark.parametrize("seed", (3, 4, 5))
def test_box_from_find_objects_is_the_whole_image_pass(seed):
    labels, _ = _field(seed)
    boxes = ndi.find_objects(labels)
    rng = np.random.default_rng(seed)
    n = int(labels.max())
    for size in (1, 2, 5, n):
        ids = np.sort(rng.choice(np.arange(1, n + 1), size, replace=False))
        for margin in (0, 3, 40):
            assert _box_around(labels, ids, margin, boxes) == _box_around(labels, ids, margin)
    gone = np.array([0, n + 5])  # the background and an absent id: no box either way
    assert _box_around(labels, gone, 2, boxes) is None and _box_around(labels, gone, 2) is None


@pytest.mark.parametrize("seed", (3, 4))
def test_sharpness_of_cut_labels_in_their_uncut_boxes_is_the_whole_image(seed):
    """``_drop_unsharp`` reads the sharpness of its labels cut higher in the box of the
    labels before the cut (their ``find_objects`` boxes, found once): the same values as
    the whole image's, bit for bit."""
    labels, smooth = _field(seed)
    level, d = float(np.percentile(smooth, 20)), 22.0
    boxes = ndi.find_objects(labels)
    peak = _cues._label_max(smooth, labels, int(labels.max()))
    cut = np.where(smooth <= (level + 0.8 * (peak - level))[labels], 0, labels)
    full = _cues._edge_sharpness(cut, smooth, level, d)
    rng = np.random.default_rng(seed)
    wider = 0  # (boxes wider than the cut labels')
    for size in (1, 1, 3, 8):
        ids = np.sort(rng.choice(np.arange(1, int(cut.max()) + 1), size, replace=False))
        around = _box_around(labels, ids, 0, boxes)
        wider += around != _box_around(cut, ids)
        got = _in_box_of(ids, d / 10, _cues._edge_sharpness, cut, smooth, level, d,
                         around=around)
        assert np.array_equal(got[ids], full[ids])
        others = np.setdiff1d(np.arange(got.size), ids)
        assert np.all(np.isinf(got[others]))
    assert wider


def test_near_steep_with_the_callers_boxes_is_the_same_bar():
    labels, smooth = _field(6)
    level, d = float(np.percentile(smooth, 20)), 22.0
    grad = ndi.gaussian_gradient_magnitude(smooth, 1.0)
    n = int(labels.max())
    sharp = np.arange(n + 1) % 3 > 0
    ids = np.flatnonzero(~sharp)[1:]
    plain = _cues._near_steep(labels, smooth, level, d, ids, grad, 5.0, sharp, 1)
    given = _cues._near_steep(labels, smooth, level, d, ids, grad, 5.0, sharp, 1,
                              ndi.find_objects(labels))
    assert np.array_equal(plain, given) and (plain < 5.0).any()


@pytest.mark.parametrize("method", ("lower", "linear"))
@pytest.mark.parametrize("seed", range(3))
def test_sorted_quantile_of_runs_is_numpys_per_run(method, seed):
    """The one interpolation of the package: runs of sorted values (the per-group
    quantiles) or one sorted array (the atoms' noise levels), numpy's bits."""
    from napari_tessella._quantiles import _sorted_quantile

    rng = np.random.default_rng(seed)
    runs = [np.sort(rng.normal(size=int(rng.integers(1, 40)))) for _ in range(12)]
    values = np.concatenate(runs)
    last = np.array([r.size - 1 for r in runs])
    start = np.cumsum(last + 1) - (last + 1)
    for q in (0.0, 0.25, 0.5, 0.9, 1.0, float(rng.random())):
        got = _sorted_quantile(values.__getitem__, start, last, q, method)
        want = np.array([np.quantile(r, q, method=method) for r in runs])
        assert np.array_equal(got.view(np.int64), want.view(np.int64))
    qs = np.linspace(0, 1, 21)  # one array, many quantiles (``_atoms_noise``)
    one = runs[int(np.argmax(last))]
    got = _sorted_quantile(one.__getitem__, 0, one.size - 1, qs, method)
    assert np.array_equal(got, np.quantile(one, qs, method=method))


def test_atoms_sorted_quantiles_read_the_shared_helper(monkeypatch):
    from napari_tessella import _atoms_noise

    seen = []
    plain = _atoms_noise._sorted_quantile

    def spy(*args):
        seen.append(args[-1])
        return plain(*args)

    monkeypatch.setattr(_atoms_noise, "_sorted_quantile", spy)
    values = np.sort(np.random.default_rng(1).random(501))
    qs = np.linspace(0, 1, 21)
    assert np.array_equal(_atoms_noise._sorted_quantiles(values, qs), np.quantile(values, qs))
    assert seen == ["linear"]


def test_mask_box_is_the_box_of_the_pixels():
    from napari_tessella._label_image import _mask_box

    rng = np.random.default_rng(2)
    for _ in range(20):
        mask = np.zeros((int(rng.integers(1, 40)), int(rng.integers(1, 40))), bool)
        mask.flat[rng.integers(0, mask.size, int(rng.integers(1, 6)))] = True
        rows, cols = np.nonzero(mask)
        pad = int(rng.integers(0, 5))
        want = (slice(max(rows.min() - pad, 0), min(rows.max() + 1 + pad, mask.shape[0])),
                slice(max(cols.min() - pad, 0), min(cols.max() + 1 + pad, mask.shape[1])))
        assert _mask_box(mask, pad) == want
        assert _mask_box(mask.astype(np.int32) * 7, pad) == want  # (a label image's ids)
    assert _mask_box(np.zeros((5, 4), bool), 2) is None


def test_second_measurement_is_given_the_first_cut_by_name(monkeypatch):
    """The textured nuclei's second diameter measurement is given the first one's cut as
    a ``FirstCut`` (spread, cut, level), not a bare tuple read like a flag."""
    from _benchmarks import benchmark

    from napari_tessella.nuclei import diameter as dm
    from napari_tessella.nuclei._bodies import FirstCut, lowered_cut

    image, _ = benchmark("nuclei_cellline").make("mixed d28", 472)  # its foci are read
    given = []
    plain = dm._radius_of

    def spy(small, *args, **kwargs):
        given.append(args[3] if len(args) > 3 else kwargs.get("below"))
        return plain(small, *args, **kwargs)

    monkeypatch.setattr(dm, "_radius_of", spy)
    dm.estimate_object_diameter(image)
    firsts = [g for g in given if g is not None]
    assert firsts and all(type(g) is FirstCut for g in firsts)
    first = firsts[0]
    assert lowered_cut(first.level, first.cut, first.spread) < first.cut
