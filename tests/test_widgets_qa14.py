"""Fourteenth QA pass (s20): the four widgets chained on the samples with their input
changed in place, seeds and lattices from other plugins' layers (negative, float and 3-D
ones), units other than nm/µm. Each fix's test fails on the code before it."""

from __future__ import annotations

import numpy as np
from test_widgets_qa9 import CENTRES, discs

from napari_tessella._widgets import LatticeWidget, SeededWatershedWidget
from napari_tessella.nuclei.watershed import seeded_watershed

# --- 1. seeds painted with one label (napari's brush keeps its label from dot to dot)


def _dots(value_of=lambda i: 1, dtype=np.int32):
    """A small square seed painted on each disc's centre, the i-th with ``value_of(i)``."""
    seeds = np.zeros((128, 128), dtype)
    for i, (r, c) in enumerate(CENTRES.astype(int)):
        seeds[r - 2:r + 3, c - 2:c + 3] = value_of(i)
    return seeds


def test_seeds_painted_with_one_label_are_one_seed_each(viewer):
    """Four seed dots painted on napari's "new labels" layer with the brush (its label stays
    1 from dot to dot): the watershed made one "nucleus" of the four discs, its territory
    the whole image, and drew its one seed at their mean, on no nucleus ("1 nuclei … 1
    seeds"). Each separate painted piece is a seed: four nuclei, the seeds on them."""
    image = viewer.add_image(discs(), name="dna")
    painted = viewer.add_labels(_dots(), name="Labels")
    before = painted.data.copy()
    widget = SeededWatershedWidget(viewer)
    widget.image.value, widget.seeds.value = image, painted
    widget()
    assert widget._status.value.startswith("4 nuclei in 'dna'")
    assert "4 seeds" in widget._status.value
    nuclei = viewer.layers["dna nuclei"].data
    seeds = viewer.layers["dna seeds"].data
    assert nuclei.max() == 4
    assert np.all(nuclei[tuple(np.rint(seeds).astype(int).T)] > 0)  # each on a nucleus
    assert np.array_equal(painted.data, before)  # the input is not touched


def test_seed_ids_of_one_piece_each_are_kept():
    """Bounds the fix (passes on the code before it): seeds of one piece per id — also two
    ids touching, also a piece whose pixels meet only at a corner (a brush stroke's
    diagonal step) — give as many nuclei as ids, as before."""
    image = discs()
    distinct = _dots(lambda i: 10 * (i + 1))
    assert seeded_watershed(image, seeds=distinct).labels.max() == 4
    stroke = np.zeros((128, 128), np.int32)
    r, c = CENTRES[2].astype(int)
    stroke[r, c] = stroke[r + 1, c + 1] = stroke[r + 2, c + 2] = 5  # corners only
    result = seeded_watershed(image, seeds=stroke)
    assert result.labels.max() == 1 and len(result.seeds) == 1


# --- 2. Labels with negative ids (another tool's "ignore" value) are refused by name


def _negative(viewer, name):
    labels = _dots(lambda i: -(i + 1), np.int16)
    return viewer.add_labels(labels, name=name), labels


def test_negative_seed_ids_are_refused_naming_the_layer(viewer):
    """Seeds with ids below 0 were refused as "seeds has negative values; labels must be 0
    (background) or positive.": 'seeds' and 'labels' are Python arguments, not the layer
    the user chose. The message names the layer and its lowest id."""
    image = viewer.add_image(discs(), name="dna")
    layer, before = _negative(viewer, "ilastik seeds")
    widget = SeededWatershedWidget(viewer)
    widget.image.value, widget.seeds.value = image, layer
    widget()
    status = widget._status.value
    assert "the seeds layer 'ilastik seeds' has negative labels (down to -4)" in status
    assert "dna nuclei" not in viewer.layers
    assert np.array_equal(layer.data, before)


def test_negative_lattice_labels_are_refused_naming_the_layer(viewer):
    """The same for a Labels input of the Lattice: "labels has negative values; …"."""
    layer, before = _negative(viewer, "cellpose masks")
    widget = LatticeWidget(viewer)
    widget.points.value = layer
    widget()
    status = widget._status.value
    assert "the Labels layer 'cellpose masks' has negative labels (down to -4)" in status
    assert np.array_equal(layer.data, before)
