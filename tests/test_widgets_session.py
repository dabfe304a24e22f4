"""A scripted user session: both recipes, two images each, chained through the widgets.

Threshold & label → Lattice & Voronoi → Find atoms → Lattice & Voronoi on two STEM images,
the seeded watershed on two nuclei images, then Export of every widget: no layer made on the
way is lost, renamed or replaced by a later step.
"""

from __future__ import annotations

import numpy as np

from napari_tessella._widgets import (
    FindAtomsWidget,
    LatticeWidget,
    SeededWatershedWidget,
    ThresholdLabelWidget,
)


def test_both_recipes_on_two_images_each(stem_image, u2os_pair, make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-tessella", "nbw_stem")
    a = viewer.layers["NbW-STEM"]
    b = viewer.add_image(np.ascontiguousarray(a.data[::-1, ::-1]), name="NbW-STEM turned",
                         scale=a.scale, units=a.units)
    thresh, lat, atoms = (ThresholdLabelWidget(viewer), LatticeWidget(viewer),
                          FindAtomsWidget(viewer))
    thresh.live_preview.value = False
    thresh.opening.value = 2
    atoms.refine.value = "com"
    kept: dict[str, object] = {}  # every layer made so far, by the name it was given

    def check():
        for name, layer in kept.items():
            assert layer in viewer.layers, f"{name} was removed"
            assert layer.name == name, f"{name} was renamed to {layer.name}"
        kept.update({layer.name: layer for layer in viewer.layers})

    for image in (a, b):
        n = image.name
        thresh.image.value = image
        thresh.value.value = 158.0
        thresh()
        check()
        assert viewer.layers[f"{n} labels"].data.max() == 1376
        lat.points.value = viewer.layers[f"{n} centers"]
        lat.image.value = image
        lat()
        check()
        assert "1376 points, 2726 triangles" in lat._status.value
        atoms.image.value = image
        atoms()
        check()
        lat.points.value = viewer.layers[f"{n} columns"]
        lat()
        check()
        assert {f"{n} centers Delaunay", f"{n} columns Delaunay", f"{n} centers Voronoi",
                f"{n} columns Voronoi"} <= set(kept)

    viewer.open_sample("napari-tessella", "u2os")
    viewer.open_sample("napari-tessella", "synthetic_nuclei")
    check()
    ws = SeededWatershedWidget(viewer)
    for name in ("U2OS dna-0", "synthetic nuclei"):
        ws.image.value = viewer.layers[name]
        ws()
        check()
        nuclei = viewer.layers[f"{name} nuclei"]
        assert len(nuclei.features) == int(nuclei.data.max()) > 5

    # measure: every widget's tables, for every input it ran on
    files = {f.name for w in (thresh, lat, atoms, ws) for f in w.export(tmp_path)}
    assert {"NbW-STEM_labels.csv", "NbW-STEM_turned_labels.csv", "NbW-STEM_columns.csv",
            "NbW-STEM_turned_columns_Delaunay.csv", "U2OS_dna-0_nuclei.csv",
            "synthetic_nuclei_nuclei.csv"} <= files
    check()
    assert len(kept) == len(viewer.layers)
