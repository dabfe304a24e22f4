"""Unsharp labels held in by kept nuclei (issue 14, round 41, ``nuclei._touching``).

On a dense field a dim nucleus between brighter ones measures unsharp against its d/10
ring (the ring lies on its neighbours' flanks) and was dropped as a glow. It is kept when
it stands out of its wider ring (``_TOUCH_WIDE``) and kept labels hold at least
``_TOUCH`` of its outer ring; a glow or halo, on the background, or a label amid other
unsharp ones, is still dropped. Tuning seeds 3200-3215 only (held out: 3216-3231)."""

from __future__ import annotations

import numpy as np
from _benchmarks import benchmark, chunked_as_in_memory, dense_score
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_tessella.nuclei._touching import _TOUCH, _TOUCH_WIDE, _held_in


def _block(shape=(50, 50), origin=(20, 20), side=10, neighbours=((0, 1), (-1, 0))):
    """Label 1 a square of ``side`` at ``origin``, labels 2.. squares beside it at the
    offsets ``neighbours`` (in sides)."""
    labels = np.zeros(shape, np.int32)
    r, c = origin
    labels[r:r + side, c:c + side] = 1
    for k, (dr, dc) in enumerate(neighbours, start=2):
        rr, cc = r + dr * side, c + dc * side
        labels[rr:rr + side, cc:cc + side] = k
    return labels


def _flags(labels, unsharp_ids, wide=1.0):
    n = int(labels.max())
    unsharp = np.zeros(n + 1, bool)
    unsharp[list(unsharp_ids)] = True
    return unsharp, np.full(n + 1, float(wide))


def test_an_unsharp_label_between_kept_nuclei_is_held_in():
    # two kept neighbours hold about half of its outer ring
    labels = _block()
    unsharp, wide = _flags(labels, [1])
    assert _held_in(labels, unsharp, wide)[1]


def test_an_unsharp_label_on_the_background_is_not_held_in():
    # a glow or halo apart from the nuclei: its ring is on the background
    labels = _block(neighbours=())
    unsharp, wide = _flags(labels, [1])
    assert not _held_in(labels, unsharp, wide).any()


def test_an_unsharp_label_amid_unsharp_ones_is_not_held_in():
    # its neighbours are dropped too: they vouch for nothing
    labels = _block()
    unsharp, wide = _flags(labels, [1, 2, 3])
    assert not _held_in(labels, unsharp, wide).any()


def test_an_unsharp_label_that_does_not_stand_out_of_its_wider_ring_is_not_held_in():
    labels = _block()
    unsharp, wide = _flags(labels, [1], wide=_TOUCH_WIDE - 0.05)
    assert not _held_in(labels, unsharp, wide)[1]


def test_a_label_touched_at_a_corner_only_is_not_held_in():
    # one neighbour meets it at a corner: a few pixels of its ring, under the share
    labels = _block(neighbours=((1, 1),))
    unsharp, wide = _flags(labels, [1])
    assert not _held_in(labels, unsharp, wide)[1]


def test_kept_labels_are_never_marked():
    labels = _block()
    unsharp, wide = _flags(labels, [])
    assert not _held_in(labels, unsharp, wide).any()


@settings(max_examples=40, deadline=None)
@given(dr=st.integers(0, 12), dc=st.integers(0, 12), side=st.integers(4, 12),
       sides=st.lists(st.sampled_from([(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1)]),
                      unique=True, max_size=4))
def test_held_in_reads_whole_pixels_around_the_label(dr, dc, side, sides):
    # the answer follows the ring's share on kept labels, and is the same in a window
    # shifted by whole pixels (the chunked path's windows)
    labels = _block(shape=(70, 70), origin=(24, 24), side=side, neighbours=tuple(sides))
    unsharp, wide = _flags(labels, [1])
    got = bool(_held_in(labels, unsharp, wide)[1])
    obj = labels == 1
    from scipy import ndimage as ndi
    ring = ndi.binary_dilation(obj, np.ones((3, 3), bool)) & ~obj
    assert got == bool((labels[ring] > 1).mean() >= _TOUCH)
    shifted = np.zeros((70 + dr, 70 + dc), np.int32)
    shifted[dr:, dc:] = labels
    assert bool(_held_in(shifted[dr // 2:, dc // 2:], unsharp, wide)[1]) == got


def test_dim_nuclei_amid_kept_ones_on_a_dense_field_are_found():
    # tuning field 3212 at PSF x1: round 40's code drops 3 nuclei with labels of their own
    # as unsharp (7 missing, 19 errors); held in by their kept neighbours, 5 and 17
    score = dense_score(3212, psf=1.0)
    assert score["missing"] <= 5
    assert score["errors"] <= 17
    assert score["split"] + score["merged"] <= 12  # no nucleus cut or joined for it


def test_dense_fields_keep_their_split_and_merge_counts_when_nuclei_are_held_in():
    # tuning fields 3201 and 3202 at PSF x1: missing 4 -> 1 and 3 -> 2; the held-in labels
    # are whole nuclei, not pieces of a kept one (no split added)
    a, b = dense_score(3201, psf=1.0), dense_score(3202, psf=1.0)
    assert a["missing"] + b["missing"] <= 4
    assert a["split"] + b["split"] <= 10


def test_the_chunked_path_holds_in_the_same_nuclei():
    # tuning field 3212 at PSF x1, where three labels are held in: the chunks' windows
    # (with their margins) give the in-memory labels
    image, _ = benchmark("nuclei_dense_heldout").challenge_field(3212, psf=1.0)
    assert chunked_as_in_memory(image, chunks=(128, 160))
    assert chunked_as_in_memory(image, chunks=(100, 90))
