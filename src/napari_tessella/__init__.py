"""napari-tessella: objects and their lattice from microscopy images.

The core functions below import neither napari nor Qt: use them from scripts, notebooks
and the command line. An image with NaN or infinite pixels (a stitched mosaic's padding)
is refused by the three segmentations; their ``*_finite`` variants read those pixels as
outside the image and say how many there were. The napari widgets live in
:mod:`napari_tessella._widgets`; the map of the modules is in ``docs/architecture.md``.
"""

from ._finite import find_atoms_finite, seeded_watershed_finite, threshold_label_finite
from ._version import __version__
from .atoms import AtomsResult, estimate_separation, find_atoms
from .measure import measure_objects
from .nuclei import WatershedResult, estimate_object_diameter, seeded_watershed
from .scoring import score_segmentation
from .segmentation import threshold_label
from .tessellation import LatticeResult, lattice, pixel_voronoi
from .threshold import THRESHOLD_METHODS, compute_threshold

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
    "find_atoms_finite",
    "lattice",
    "measure_objects",
    "pixel_voronoi",
    "score_segmentation",
    "seeded_watershed",
    "seeded_watershed_finite",
    "threshold_label",
    "threshold_label_finite",
]
