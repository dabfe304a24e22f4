"""Dim nuclei beside saturated cells that never entered the foreground (issue 14, round
18b): the rescue below the global cut (``_cues._dim_nuclei``) cut them too high, and the
trim then cut what it found down to its foci (``benchmarks/nuclei_cellline.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei import seeded_watershed

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "nuclei_cellline.py"
_KW = dict(most=3.0, steep=2.5, sharp=0.8)


def _textured_dim_disc(shape=(90, 90), centre=(45, 45), radius=10.0):
    """A dim nucleus (22 over a flattened image that is 0 around it) with five foci."""
    rr, cc = np.indices(shape)
    disc = np.hypot(rr - centre[0], cc - centre[1]) <= radius
    body = 22.0 * disc
    for k in range(5):  # chromocenters, 3.7x the body
        a = 2 * np.pi * k / 5
        body += 60.0 * (np.hypot(rr - centre[0] - 5.5 * np.sin(a),
                                 cc - centre[1] - 5.5 * np.cos(a)) <= 2.5)
    return ndi.gaussian_filter(body, 1.0), disc


def test_rescue_cuts_half_way_to_its_own_ring_not_the_global_level():
    # beside a saturated cell the global level (here 16) sits above a dim nucleus's ring
    # (0 on the flattened image): half-way from the level, the part kept 62 % of the disc
    # (measured on main), the foci and a thin body around them; from its ring, 79 %
    from napari_tessella.nuclei._cues import _dim_nuclei

    smooth, disc = _textured_dim_disc()
    none = np.zeros(smooth.shape, bool)
    out = _dim_nuclei(smooth, none, 16.0, 20.0, 20.0, 150.0, **_KW)
    assert np.count_nonzero(out & disc) >= 0.75 * np.count_nonzero(disc)
    assert not (out & ~ndi.binary_dilation(disc, iterations=2)).any()
    added = np.zeros(smooth.shape, bool)
    assert (_dim_nuclei(smooth, none, 16.0, 20.0, 20.0, 150.0, added=added, **_KW)
            == added).all()


def test_trim_gives_a_rescued_part_back_to_its_label():
    from napari_tessella.nuclei._recipe import _dim_kept

    first = np.zeros((40, 80), np.int32)
    first[5:25, 5:25] = 1  # a dim nucleus found by the rescue
    first[5:25, 45:65] = 2  # an ordinary nucleus: the trim's cut stands
    dim = np.zeros(first.shape, bool)
    dim[6:24, 6:24] = True
    trimmed = np.zeros_like(first)
    trimmed[12:16, 12:16] = 3  # its foci alone (16 pixels)
    trimmed[10:20, 50:60] = 4
    out = _dim_kept(first, trimmed, dim, 10)
    assert (out[dim] == 3).all()  # the part, under the label the trim left on it
    assert (out[first == 2] == trimmed[first == 2]).all()
    # the trim left less than the minimum size: the label stays removed (on U2OS such a
    # part came back as an object no annotator drew, dna-37)
    assert (_dim_kept(first, trimmed, dim, 17) == trimmed).all()


def test_dim_nucleus_beside_a_saturated_cell_is_found():
    # tuned `dim` seed 1, nucleus 4 (1.5x its ring, 1.3 d from a saturated cell): no label
    # on main (best IoU 0); found with IoU 0.65
    spec = importlib.util.spec_from_file_location("nuclei_cellline", _BENCH)
    cellline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cellline)
    image, truth = cellline.cellline_field("dim", 1)
    labels = seeded_watershed(image).labels
    own = truth == 4
    ids, counts = np.unique(labels[own], return_counts=True)
    iou = max((c / (np.count_nonzero(labels == i) + own.sum() - c)
               for i, c in zip(ids, counts, strict=True) if i), default=0.0)
    assert iou >= 0.5, iou
