"""Held-out check for the nuclei defaults (issue 14): fields the defaults were never tuned on.

``nuclei_stress.py`` measures the fields the dense-field steps were chosen on (seeds 0-2).
This one draws other seeds (3-6) of those fields and fields generated differently: other
diameters (16, 28, 36 px), elongated nuclei (aspect ratio up to 2, sparse and packed),
other packing (centres 0.7 d apart), more Gaussian noise, Poisson noise at another level,
textured nuclei. A change that gains on the stress test but loses here is not kept.

``--round7`` runs the fields added in round 7 (seeds 20-22), kept out of its tuning loop:
nuclei of 12-30 px, centres 0.65-0.9 d apart, more noise, extra blur, brightness spread
0.2-1, elongation, photon noise, and a sparse field.

Usage::

    python benchmarks/nuclei_heldout.py [--round7]
"""

from __future__ import annotations

import sys

import numpy as np

SEEDS = (3, 4, 5, 6)
ROUND7_SEEDS = (20, 21, 22)


class _Blurred:
    """A SyntheticNuclei whose image is blurred further by a Gaussian of ``sigma`` px."""

    def __init__(self, nuc, sigma):
        from scipy import ndimage as ndi

        self.image = ndi.gaussian_filter(nuc.image, sigma)
        self.labels = nuc.labels


def _field(side, d, fill=0.6, blur=0.0, **kw):
    """``side``² field of nuclei of diameter ``d`` covering about ``fill`` of it."""
    from napari_tessella.synthetic import synthetic_nuclei

    n = round(fill * side * side / (np.pi * d * d / 4))
    args = dict(shape=(side, side), n_nuclei=n, diameter=d, brightness_range=(0.4, 1.0),
                min_separation=0.75)
    if blur:
        return lambda seed: _Blurred(synthetic_nuclei(**{**args, **kw, "seed": seed}), blur)
    return lambda seed: synthetic_nuclei(**{**args, **kw, "seed": seed})


def conditions():
    """name -> make(seed) -> SyntheticNuclei."""
    return {
        "dense d20 no seam": _field(256, 20),
        "dense d20 dome .3": _field(256, 20, dome=0.3),
        "dense d16 sep .7 noise .05": _field(224, 16, min_separation=0.7, noise=0.05),
        "dense d28 dome .3 60 ph": _field(320, 28, dome=0.3, photons=60, background=0.3),
        "dense d36 no seam": _field(384, 36),
        "dense d24 aspect 2": _field(288, 24, aspect=2.0, min_separation=0.8, fill=0.5),
        "sparse d30 aspect 2": _field(512, 30, fill=0.15, aspect=2.0, min_separation=1.2,
                                      brightness_range=(0.3, 1.0)),
        "textured d30": _field(512, 30, fill=0.14, min_separation=0.8, chromocenters=6,
                               brightness_range=(0.3, 1.0)),
        "textured d22 aspect 1.8": _field(384, 22, fill=0.2, min_separation=0.9,
                                          chromocenters=5, aspect=1.8),
    }


def round7_conditions():
    """name -> make(seed): the fields added in round 7, never tuned on."""
    b = (0.2, 1.0)
    return {
        "d12 sep .7 noise .03": _field(160, 12, min_separation=0.7, noise=0.03),
        "d18 sep .65 fill .65": _field(240, 18, min_separation=0.65, fill=0.65),
        "d20 sep .7 bright .2-1": _field(256, 20, min_separation=0.7, brightness_range=b),
        "d22 sep .8 blur 0.1 d": _field(256, 22, min_separation=0.8, blur=2.2),
        "d26 sep .9 bright .2-1 dome": _field(320, 26, min_separation=0.9, dome=0.2,
                                              brightness_range=b),
        "d30 aspect 1.5 dome .2": _field(360, 30, aspect=1.5, dome=0.2),
        "d20 sep .7 aspect 1.6 n.04": _field(256, 20, min_separation=0.7, aspect=1.6,
                                             noise=0.04),
        "d14 40 photons": _field(192, 14, photons=40, background=0.2),
        "d24 sep .65 dome .4 blur": _field(288, 24, min_separation=0.65, dome=0.4, blur=2.0),
        "d20 sparse fill .3": _field(320, 20, fill=0.3, min_separation=0.8),
    }


def run(seeds=SEEDS, fields=None):
    from napari_tessella.nuclei import score_segmentation, seeded_watershed

    print(f"{'held-out field':<28}{'err/img':>8}{'F1':>7}{'IoU':>7}  split/merged/spurious/"
          f"missing  F1 per seed")
    for name, make in (conditions() if fields is None else fields).items():
        scores = []
        for s in seeds:
            nuc = make(s)
            scores.append(score_segmentation(seeded_watershed(nuc.image).labels, nuc.labels))
        m = {k: float(np.mean([x[k] for x in scores])) for k in scores[0]}
        print(f"{name:<28}{m['errors']:8.2f}{m['f1']:7.3f}{m['mean_iou']:7.3f}  "
              f"{m['split']:.1f}/{m['merged']:.1f}/{m['spurious']:.1f}/{m['missing']:.1f}  "
              + " ".join(f"{x['f1']:.3f}" for x in scores), flush=True)


if __name__ == "__main__":
    if "--round7" in sys.argv[1:]:
        run(ROUND7_SEEDS, round7_conditions())
    else:
        run()
    sys.exit(0)
