"""A second, smaller population of nuclei in one field (round 15, ``nuclei._small``).

The default minimum size (a disc of two thirds of the typical diameter) dropped every
nucleus of a population half the size of the others: on a field of 20 nuclei of 30 px
and 20 of 15 px, 1 of the small ones was found (seeds 0 and 1 here; 3.7 on the seeds of
``benchmarks/nuclei_sizes.py``).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_tessella.nuclei import (
    default_min_size,
    score_segmentation,
    seeded_watershed,
    seeded_watershed_chunked,
)
from napari_tessella.synthetic import synthetic_nuclei


def two_sizes(seed, small=20, scale=0.5, side=512):
    return synthetic_nuclei((side, side), n_nuclei=20, diameter=30, seed=seed, small=small,
                            small_scale=scale)


def small_found(labels, nuc) -> int:
    """Small nuclei (ids after the 20 others) matched by one object at IoU >= 0.5."""
    found = 0
    for i in range(21, int(nuc.labels.max()) + 1):
        mine = nuc.labels == i
        hit = np.bincount(labels[mine]).argmax()
        found += bool(hit) and 2 * np.count_nonzero(mine & (labels == hit)) >= np.count_nonzero(
            mine | (labels == hit))
    return found


@pytest.mark.parametrize("seed", [0, 1])
def test_a_population_of_half_size_nuclei_is_found(seed):
    # before: 1 of the 20 small nuclei found on each, F1 0.689
    nuc = two_sizes(seed)
    labels = seeded_watershed(nuc.image).labels
    s = score_segmentation(labels, nuc.labels)
    assert small_found(labels, nuc) >= 16, s
    assert s["f1"] >= 0.93 and s["spurious"] == 0, s


def test_small_nuclei_touching_each_other_are_found():
    """Two small nuclei a few pixels apart, joined by the blur, make one blob above the
    minimum size, which the neck split cuts into two halves below it; both are kept, as
    their blob holds no nucleus of the minimum size (before: the pair at the bottom left
    of the figure ``nuclei_two_sizes.png`` was missing)."""
    from scipy import ndimage as ndi

    nuc = two_sizes(10)
    small = np.where(nuc.labels > 20, nuc.labels, 0)
    pairs = []
    for i in range(21, int(nuc.labels.max()) + 1):
        around = np.unique(small[ndi.binary_dilation(nuc.labels == i, iterations=4)])
        if set(around.tolist()) - {0, i}:
            pairs.append(i)
    assert len(pairs) >= 2
    labels = seeded_watershed(nuc.image).labels
    for i in pairs:
        mine = nuc.labels == i
        hit = np.bincount(labels[mine]).argmax()
        assert hit and np.count_nonzero(labels == hit) < 1.6 * np.count_nonzero(mine), i


def test_a_few_small_blobs_are_still_dropped():
    """Three small blobs beside 20 nuclei are not a population: they are debris,
    micronuclei or fragments, as before (the other nuclei are those found without them)."""
    nuc = two_sizes(2, small=3)
    result = seeded_watershed(nuc.image)
    assert small_found(result.labels, nuc) == 0
    assert score_segmentation(result.labels, nuc.labels)["n_pred"] == 20


def test_a_given_min_size_keeps_no_smaller_nucleus():
    nuc = two_sizes(0)
    d = seeded_watershed(nuc.image).object_diameter
    labels = seeded_watershed(nuc.image, min_size=default_min_size(d)).labels
    sizes = np.bincount(labels.ravel())[1:]
    assert sizes[sizes > 0].min() >= default_min_size(d)


def test_small_nuclei_are_segmented_apart_from_the_others():
    """When the small blobs are not a population, the result is the one without the
    rule, pixel for pixel: kept among the others until the end, they changed 34 pixels of
    a neighbour on U2OS dna-1 (3 blobs, 41 nuclei)."""
    from conftest import U2OS, _need
    from skimage.io import imread

    image = imread(_need(U2OS / "images" / "dna-1.png"))
    result = seeded_watershed(image)
    plain = seeded_watershed(image, min_size=result.min_size)
    np.testing.assert_array_equal(result.labels, plain.labels)


def test_two_sizes_chunked_equals_in_memory():
    from test_chunked_watershed import crossing_objects, same_up_to_numbering

    nuc = two_sizes(3, small=30, side=384)
    memory = seeded_watershed(nuc.image)
    assert small_found(memory.labels, nuc) >= 20  # before: 2 of 30
    labels = seeded_watershed_chunked(nuc.image, chunks=(128, 160)).labels.compute()
    assert crossing_objects(labels, (128, 160)) >= 5
    assert same_up_to_numbering(memory.labels, labels)


def test_the_small_population_leaves_the_other_nuclei_as_they_were():
    plain = synthetic_nuclei((256, 256), n_nuclei=12, diameter=30, seed=4)
    more = synthetic_nuclei((256, 256), n_nuclei=12, diameter=30, seed=4, small=8)
    np.testing.assert_array_equal(plain.centers, more.centers[:12])
    assert more.labels.max() > 12 and np.isin(np.arange(1, 13), more.labels).all()
    same = synthetic_nuclei((256, 256), n_nuclei=12, diameter=30, seed=4, small=0)
    np.testing.assert_array_equal(plain.image, same.image)


@given(small=st.integers(0, 30), scale=st.floats(0.35, 0.8), seed=st.integers(0, 2**16))
@settings(max_examples=12, deadline=None, derandomize=True)
def test_any_mix_of_two_sizes_gives_sequential_labels_and_no_flood(small, scale, seed):
    nuc = synthetic_nuclei((256, 256), n_nuclei=8, diameter=30, seed=seed, small=small,
                           small_scale=scale)
    labels = seeded_watershed(nuc.image).labels
    ids = np.unique(labels)
    np.testing.assert_array_equal(ids, np.arange(ids.size))
    s = score_segmentation(labels, nuc.labels)
    assert s["spurious"] <= 1 and s["n_pred"] <= s["n_ref"] + 1, s


def test_a_chunk_that_sees_only_small_nuclei_keeps_them():
    """A chunk's window beside the larger nuclei may hold small ones only: its first
    watershed then has no nucleus of the minimum size, and the small blobs were skipped
    (72 nuclei in memory, 70 chunked: the 2-px last column of chunks is merged into a
    56-px one whose window holds none of the large nuclei)."""
    from test_chunked_watershed import same_up_to_numbering

    nuc = two_sizes(21, small=60, scale=0.4)
    memory = seeded_watershed(nuc.image)
    labels = seeded_watershed_chunked(nuc.image, chunks=(100, 170)).labels.compute()
    assert same_up_to_numbering(memory.labels, labels)
