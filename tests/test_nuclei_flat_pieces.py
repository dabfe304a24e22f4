"""Flat pieces on the image border are debris, not nuclei cut by the border (issue 14,
round 22, ``nuclei/_flat.py``).

On the unevenly lit ``uneven d32`` fields, bright debris cut by the image border came out
as objects: a nucleus's cap has the same size and shape. The debris has none of the
nuclei's texture, so a small piece on the border far flatter than the whole nuclei of its
field is dropped; caps of the field's own (textured) nuclei, and of a saturated cell (flat,
but far brighter), are kept.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from _benchmarks import FOUR_TURNS, benchmark, iou_of_best, turned
from scipy import ndimage as ndi

from napari_tessella.nuclei import seeded_watershed
from napari_tessella.nuclei._chunked import seeded_watershed_chunked
from napari_tessella.nuclei._flat import PIECE, REFERENCE, _flat_pieces


@pytest.fixture(scope="module")
def uneven():
    """Round-13 tuning seed 30 of ``uneven d32``: three pieces of debris on the border
    were objects before round 22."""
    return benchmark("nuclei_cellline").uneven_field(30)


def _border_debris(labels, truth):
    """Sizes of the labels on the image border with under 10 % of their pixels on a nucleus."""
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    sizes = []
    for i in edge[edge > 0]:
        own = labels == i
        if np.count_nonzero(truth[own]) < 0.1 * np.count_nonzero(own):
            sizes.append(int(own.sum()))
    return sizes


@pytest.mark.parametrize("turn", list(FOUR_TURNS))
def test_debris_cut_by_the_border_is_no_object_in_any_turn(uneven, turn):
    image, truth = turned(uneven, turn)
    assert _border_debris(seeded_watershed(image).labels, truth) == []


def test_the_chunked_path_drops_the_same_debris(uneven):
    image, truth = uneven
    memory = seeded_watershed(image).labels
    with dask.config.set(scheduler="synchronous"):
        chunked = seeded_watershed_chunked(da.from_array(image, chunks=160)).labels.compute()
    assert _border_debris(chunked, truth) == []
    assert np.array_equal(chunked > 0, memory > 0)


def test_caps_of_nuclei_cut_by_the_border_are_kept(uneven):
    """The field cut above each nucleus's lower edge, 10 px (0.3 d) of it left, wherever
    200 rows or more remain: 22 caps of textured nuclei and one of a saturated cell (id 3,
    flat but 10-60x brighter), each found as on main."""
    image, truth = uneven
    checked = 0
    for i, box in enumerate(ndi.find_objects(truth), start=1):
        cut = box[0].stop - 10
        if cut > image.shape[0] - 200:
            continue
        labels = seeded_watershed(np.ascontiguousarray(image[cut:])).labels
        assert iou_of_best(labels, truth[cut:] == i) >= 0.5, i
        checked += 1
    assert checked == 22


def test_no_decision_without_enough_whole_nuclei():
    role = np.array([0, PIECE, REFERENCE, REFERENCE])
    spread = np.array([0.0, 0.01, 0.7, 0.7])
    contrast = np.array([0.0, 1.0, 1.0, 1.0])
    assert not _flat_pieces(spread, role, contrast).any()
    many = np.array([0, PIECE] + [REFERENCE] * 6)
    assert _flat_pieces(np.r_[0.0, 0.01, [0.7] * 6], many, np.r_[0.0, [1.0] * 7])[1]
    # a flat piece far brighter than the nuclei (a saturated cell's cap) is kept
    assert not _flat_pieces(np.r_[0.0, 0.01, [0.7] * 6], many, np.r_[0.0, 9.0, [1.0] * 6])[1]
