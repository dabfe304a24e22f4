"""Round 49 (issue 14, speed): the steps made faster give the same values as before.

Each helper here is a shortcut of a step the recipe took over the whole working image
(or twice); its contract is that the values read are those of the whole step, exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei._cues import _WIDE_RING, _edge_sharpness, _rim_gradient
from napari_tessella.nuclei._in_box import _box_around, _in_box_of
from napari_tessella.synthetic import synthetic_nuclei


def _field(seed=3):
    """A small field of touching nuclei, some cut by the image's sides, its labels and
    the image smoothed as the recipe's working image is."""
    nuc = synthetic_nuclei((160, 200), n_nuclei=30, diameter=22, seed=seed, noise=0.03)
    return nuc.labels.astype(np.int32), ndi.gaussian_filter(nuc.image.astype(float), 1.0)


def test_box_around_holds_the_labels_and_their_margin():
    labels, _ = _field()
    ids = np.array([2, 5])
    box = _box_around(labels, ids, 3)
    rows, cols = np.nonzero(np.isin(labels, ids))
    assert box[0].start == max(rows.min() - 3, 0) and box[0].stop == min(rows.max() + 4, 160)
    assert box[1].start == max(cols.min() - 3, 0) and box[1].stop == min(cols.max() + 4, 200)
    assert _box_around(labels, np.array([labels.max() + 5]), 3) is None


def test_sharpness_in_the_box_is_the_whole_image_sharpness():
    """For any few labels (on the image's sides too), their sharpness against the d/10
    ring and the wide ring (with the rim's medians given), and their rim gradient, taken
    in their box are the whole image's, bit for bit; the other labels read inf."""
    for seed in (3, 4):
        labels, smooth = _field(seed)
        level, d = float(np.percentile(smooth, 20)), 22.0
        n = int(labels.max())
        full = _edge_sharpness(labels, smooth, level, d)
        medians = []
        _edge_sharpness(labels, smooth, level, d, inner=medians)
        wide = _edge_sharpness(labels, smooth, level, d, None, _WIDE_RING, medians)
        rng = np.random.default_rng(seed)
        for size in (1, 3, 8):
            ids = np.sort(rng.choice(np.arange(1, n + 1), size, replace=False))
            others = np.setdiff1d(np.arange(n + 1), ids)
            got = _in_box_of(ids, d / 10, _edge_sharpness, labels, smooth, level, d)
            assert np.array_equal(got[ids], full[ids]) and np.all(np.isinf(got[others]))
            got = _in_box_of(ids, _WIDE_RING[1] * d, _edge_sharpness, labels, smooth, level,
                             d, None, _WIDE_RING, medians)
            assert np.array_equal(got[ids], wide[ids]) and np.all(np.isinf(got[others]))
            rims = _rim_gradient(labels, smooth, level, d, ids)
            got = _in_box_of(ids, 4, _rim_gradient, labels, smooth, level, d, ids)
            assert np.array_equal(got, rims, equal_nan=True)


def test_in_box_of_no_label_present_is_all_inf():
    labels, smooth = _field()
    got = _in_box_of(np.array([], np.intp), 2.0, _edge_sharpness, labels, smooth, 0.0, 22.0)
    assert got.shape == (labels.max() + 1,) and np.all(np.isinf(got))


def _merged_field():
    """A dense field whose touching nuclei are merged in pairs (crowded candidates)."""
    nuc = synthetic_nuclei((200, 200), n_nuclei=60, diameter=20, seed=7, noise=0.02,
                           min_separation=0.7)
    labels = nuc.labels.astype(np.int32)
    # each label joined with its lower-numbered neighbour across a touching boundary
    a, b = labels[:, 1:], labels[:, :-1]
    touch = (a != b) & (a > 0) & (b > 0)
    lut = np.arange(labels.max() + 1, dtype=np.int32)
    for x, y in zip(a[touch].tolist(), b[touch].tolist(), strict=True):
        if lut[x] == x and lut[y] == y:
            lut[max(x, y)] = min(x, y)
    return lut[labels], ndi.gaussian_filter(nuc.image.astype(float), 1.0)


def test_split_crowds_with_its_candidates_given_is_the_same():
    from napari_tessella.nuclei._crowd import _split_crowds
    from napari_tessella.nuclei._shape import _crowded_pairs

    labels, smooth = _merged_field()
    d, level = 20.0, float(np.percentile(smooth, 10))
    big = _crowded_pairs(labels, d)
    assert big.size  # (the field has candidates)
    markers = np.zeros_like(labels)
    want = _split_crowds(labels, markers, d, smooth, level)
    got = _split_crowds(labels, markers, d, smooth, level, big=big)
    assert all(np.array_equal(w, g) for w, g in zip(want, got, strict=True))


def test_crowded_pairs_found_once_when_the_steps_split_nothing(monkeypatch):
    """The recipe's crowd steps read the crowded candidates of the same labels: made once
    (the brightness-step split changed nothing on this field)."""
    from napari_tessella.nuclei import _crowd, _recipe, seeded_watershed
    from napari_tessella.nuclei._shape import _crowded_pairs

    calls = []

    def counted(labels, d, find=ndi.find_objects):
        calls.append(labels.copy())
        return _crowded_pairs(labels, d, find)

    monkeypatch.setattr(_recipe, "_crowded_pairs", counted)
    monkeypatch.setattr(_crowd, "_crowded_pairs", counted)
    nuc = synthetic_nuclei((256, 256), n_nuclei=30, diameter=24, seed=1)
    seeded_watershed(nuc.image)
    assert len(calls) >= 1
    for i in range(1, len(calls)):  # no two calls on equal labels in a row
        assert not np.array_equal(calls[i - 1], calls[i])


def test_h_maxima_markers_are_numbered_as_a_labelling_of_them():
    """The seeds kept are renumbered, not labelled again: the same numbers as
    ``ndi.label`` of the kept seeds (8-connected), as int32."""
    from napari_tessella.nuclei._markers import _h_maxima_markers

    rng = np.random.default_rng(0)
    for seed in range(4):
        land = ndi.gaussian_filter(np.random.default_rng(seed).random((90, 120)), 2.0)
        land = np.round(land, 3)  # plateaus: maxima of several pixels
        mask = ndi.gaussian_filter(rng.random((90, 120)), 6.0) > 0.49
        for h in (0.0, 0.005, 0.02):
            got = _h_maxima_markers(land, h, mask)
            want = ndi.label(got > 0, structure=np.ones((3, 3), bool))[0]
            assert got.dtype == np.int32 and np.array_equal(got, want)
