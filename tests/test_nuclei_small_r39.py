"""Round 39: a condensed bright (mitotic) cell cut under the minimum size by the trim is
kept when its own cues say nucleus (``nuclei._condensed``): compact, sharp against its
ring and many times brighter than the labels near it; debris specks and dim small blobs
stay dropped."""

from __future__ import annotations

import numpy as np
import pytest
from _benchmarks import benchmark, iou_of_best
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from napari_tessella.nuclei import score_segmentation, seeded_watershed
from napari_tessella.nuclei._chunked import seeded_watershed_chunked


@pytest.fixture(scope="module")
def fibroblast():
    """Tuning seed 2503 of ``fibroblast``: both condensed bright cells (truth 1 and 2,
    0.6 d, 10-60x an ordinary nucleus) were cut under the minimum size and dropped before
    round 39."""
    return benchmark("nuclei_cellline").cellline_field("fibroblast", 2503)


def test_condensed_bright_cells_are_found(fibroblast):
    image, truth = fibroblast
    labels = seeded_watershed(image).labels
    for i in (1, 2):
        assert iou_of_best(labels, truth == i) >= 0.5
    score = score_segmentation(labels, truth)
    assert score["spurious"] == 0 and score["missing"] == 0


def test_the_chunked_path_keeps_the_same_cells(fibroblast):
    import dask.array as da

    image, truth = fibroblast
    memory = seeded_watershed(image).labels
    chunked = np.asarray(seeded_watershed_chunked(da.from_array(image, chunks=240)).labels)
    assert chunked.max() == memory.max()  # the same objects (outlines may differ by pixels)
    for i in (1, 2):
        assert iou_of_best(chunked, truth == i) >= 0.5


def _field(bright: float, radius: float, d: float = 20.0):
    """Working labels and image: four ordinary nuclei (contrast 1, diameter ``d``) and one
    small disc of ``radius`` x d at ``bright`` times their contrast, blurred by d/10."""
    rr, cc = np.indices((100, 100))
    image = np.zeros((100, 100))
    labels = np.zeros((100, 100), np.int32)
    for k, (r, c) in enumerate(((22, 50), (78, 50), (50, 22), (50, 78)), start=1):
        disc = (rr - r) ** 2 + (cc - c) ** 2 <= (d / 2) ** 2
        image[disc], labels[disc] = 1.0, k
    image[(rr - 50) ** 2 + (cc - 50) ** 2 <= (radius * d) ** 2] = bright
    image = ndi.gaussian_filter(image, d / 10)
    # the small disc cut at 0.3 of its own peak, as the trim cuts
    near = (rr - 50) ** 2 + (cc - 50) ** 2 <= (2 * radius * d) ** 2
    labels[near & (image > 0.3 * image[50, 50]) & (labels == 0)] = 5
    centre = labels[50, 50]
    sizes = np.bincount(labels.ravel()).astype(float)
    needed = np.full(sizes.shape, np.pi * (d / 3) ** 2)
    return labels, image, sizes, needed, centre


def test_a_condensed_bright_disc_is_kept():
    from napari_tessella.nuclei._condensed import _condensed

    labels, image, sizes, needed, centre = _field(bright=20.0, radius=0.27)
    assert sizes[centre] < needed[centre]
    assert list(_condensed(labels, sizes, needed, image, 0.0, 20.0, np.array([], int))) == [
        centre]


def _small_one_kept(bright, radius) -> bool:
    """Whether the small object of :func:`_field` is kept as a condensed nucleus."""
    from napari_tessella.nuclei._condensed import _condensed

    labels, image, sizes, needed, centre = _field(bright=bright, radius=radius)
    return centre != 0 and centre in _condensed(labels, sizes, needed, image, 0.0, 20.0,
                                                np.array([], int))


@settings(max_examples=25, deadline=None)
@given(bright=st.floats(0.5, 3.0), radius=st.floats(0.1, 0.27))
def test_small_objects_as_bright_as_nuclei_are_not_kept(bright, radius):
    """Debris and small blobs no brighter than a few nuclei: the minimum size holds."""
    assert not _small_one_kept(bright, radius)


@settings(max_examples=25, deadline=None)
@given(bright=st.floats(5.0, 60.0), radius=st.floats(0.05, 0.15))
def test_bright_specks_are_not_kept(bright, radius):
    """Bright debris specks: under half the minimum size, never kept."""
    assert not _small_one_kept(bright, radius)
