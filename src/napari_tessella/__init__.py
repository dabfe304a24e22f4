"""napari-tessella: objects and their lattice from microscopy images.

The core functions below import neither napari nor Qt: use them from scripts, notebooks
and the command line. The napari widgets live in :mod:`napari_tessella._widgets`.
"""

__version__ = "0.1.0"

from .atoms import AtomsResult, estimate_separation, find_atoms
from .lattice import LatticeResult, lattice, pixel_voronoi
from .nuclei import (
    WatershedResult,
    estimate_object_diameter,
    score_segmentation,
    seeded_watershed,
)
from .segmentation import THRESHOLD_METHODS, compute_threshold, measure_objects, threshold_label

__all__ = [
    "THRESHOLD_METHODS",
    "AtomsResult",
    "LatticeResult",
    "WatershedResult",
    "__version__",
    "compute_threshold",
    "estimate_object_diameter",
    "estimate_separation",
    "find_atoms",
    "lattice",
    "measure_objects",
    "pixel_voronoi",
    "score_segmentation",
    "seeded_watershed",
    "threshold_label",
]
