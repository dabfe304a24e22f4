"""A shoulder host whose largest curvature lies on its seam with a neighbour keeps its
shoulders (issue 14, round 42, ``nuclei._shoulders._on_seams``) when they hold about half
of the seam's light (``_SEAM_LIGHT``): a dimmer one is a nucleus of its own.

Where two nuclei of a dense field overlap their light adds: the seam is a narrow band
brighter than both, and ``L`` (the LoG the shoulders are read from) is largest on it, at
the label's edge next to the neighbour. The shoulders step then took the host's own body
for a dim shoulder and cut it off: one nucleus in two, the seam's piece mixed over two
nuclei. On the dense tuning fields at PSF x1 (seeds 3800-3815; held out 3816-3831) 49 of
the 63 shoulder cuts that parted no two nuclei had their host's own maximum within 0.1 d
of another label, against 8 of the 59 cuts that did."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, chunked_as_in_memory, dense_score
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_tessella.nuclei import _shoulders, seeded_watershed

D = 20.0


def _two_labels(at):
    """Label 1 a 30x30 square, label 2 the square beside it (columns 30-49), and the own
    maximum of label 1 at ``at``."""
    labels = np.zeros((40, 60), np.int32)
    labels[5:35, 0:30] = 1
    labels[5:35, 30:50] = 2
    own = np.array([at], np.int64)
    return labels, own, np.array([1])


def _light(shoulder=0.5):
    """``smooth``: 1 over the level 0 everywhere, ``shoulder`` on column 10 (where the
    shoulders of these tests lie, as label 1's body beside a seam twice as bright)."""
    smooth = np.ones((40, 60))
    smooth[:, 3] = smooth[:, 10] = shoulder
    return smooth


def test_a_host_whose_own_maximum_is_on_the_seam_is_left_whole():
    labels, own, owner = _two_labels((20, 29))  # next to label 2
    assert _shoulders._on_seams(labels, own, owner, {1: [np.array([20, 10])]}, D,
                                _light(), 0.0) == [1]


def test_a_host_whose_own_maximum_is_inside_or_on_the_background_edge_is_cut():
    for at in ((20, 15), (5, 10)):  # inside; on the edge against the background
        labels, own, owner = _two_labels(at)
        assert _shoulders._on_seams(labels, own, owner, {1: [np.array([20, 3])]}, D,
                                    _light(), 0.0) == []


def test_every_own_maximum_of_a_tie_must_be_on_a_seam():
    labels, _, _ = _two_labels((20, 29))
    own = np.array([[20, 29], [20, 15]], np.int64)  # a tie: one on the seam, one inside
    assert _shoulders._on_seams(labels, own, np.array([1, 1]), {1: [np.array([20, 3])]}, D,
                                _light(), 0.0) == []


def test_a_dim_nucleus_on_the_flank_of_a_seam_host_is_still_cut():
    # a shoulder with less than _SEAM_LIGHT of the seam's contrast: a nucleus of its own
    labels, own, owner = _two_labels((20, 29))
    dim = 0.5 * _shoulders._SEAM_LIGHT
    assert _shoulders._on_seams(labels, own, owner, {1: [np.array([20, 10])]}, D,
                                _light(dim), 0.0) == []


@settings(max_examples=40, deadline=None)
@given(r=st.integers(5, 34), c=st.integers(0, 29), k=st.integers(0, 7))
def test_the_seam_is_a_distance_to_another_label_in_any_turn(r, c, k):
    labels, _, owner = _two_labels((r, c))
    turn = (lambda a: np.rot90(a, k % 4)) if k < 4 else (lambda a: np.rot90(a.T, k % 4))
    mark = np.zeros(labels.shape, bool)
    mark[r, c] = True
    turned = np.ascontiguousarray(turn(labels))
    at = np.argwhere(turn(mark))
    got = _shoulders._on_seams(turned, at, owner, {1: [at[0]]}, D, np.ones(turned.shape),
                               0.0) == [1]
    # brute force: the nearest pixel of label 2
    other = np.argwhere(labels == 2)
    assert got == bool(np.hypot(*(other - [r, c]).T).min() <= _shoulders._SEAM * D)


def test_a_dense_field_under_the_narrow_psf_leaves_seam_hosts_whole(monkeypatch):
    image = benchmark("nuclei_dense_heldout").challenge_field(3807, psf=1.0)[0]
    seams = []
    real = _shoulders._on_seams
    monkeypatch.setattr(_shoulders, "_on_seams",
                        lambda *a: seams.append(real(*a)) or seams[-1])
    seeded_watershed(image)
    assert len(seams) == 1 and len(seams[0]) >= 3


@pytest.mark.parametrize(("seed", "least", "most_split"), [(3807, 0.925, 8), (3815, 0.86, 10)],
                         ids=["3807", "3815"])
def test_a_dense_field_under_the_narrow_psf_has_fewer_nuclei_cut_at_a_seam(seed, least,
                                                                          most_split):
    # PSF x1, not sharpened: the round's base 3807 F1 0.904 with 11 split nuclei, 3815
    # 0.835 with 13; round 42 0.930 with 7 and 0.886 with 8
    m = dense_score(seed, psf=1.0)
    assert m["f1"] >= least and m["split"] <= most_split, m


def test_the_chunked_path_leaves_the_same_seam_hosts_whole():
    pytest.importorskip("dask.array")
    assert chunked_as_in_memory(benchmark("nuclei_dense_heldout").challenge_field(3807,
                                                                                psf=1.0)[0])
