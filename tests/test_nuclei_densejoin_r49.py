"""Round 49 (issue 14): two touching nuclei of a dense blurred field that the merge split
left as one label, because it read the typical nucleus only within d/2 of the label,
where the trimmed labels of a blurred crowd lie apart (``docs/nuclei.md``, round 49)."""

from __future__ import annotations

from _benchmarks import benchmark, iou_of_best

from napari_tessella.nuclei import seeded_watershed


def test_two_touching_nuclei_of_a_blurred_crowd_get_a_label_each():
    # dense tuning field 10616 at PSF x2: nuclei 68 and 109 were one label (IoU 0.41, 0.38)
    image, truth = benchmark("nuclei_dense_heldout").challenge_field(10616, psf=2.0)
    labels = seeded_watershed(image).labels
    for nucleus in (68, 109):
        assert iou_of_best(labels, truth == nucleus) >= 0.5
