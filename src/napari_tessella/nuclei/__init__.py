"""Nuclei: smoothing → threshold → seeds → distance transform → seeded watershed → territories.

The second recipe of the project. Every length is derived from one number, the typical
object diameter, which is estimated from the image when not given.

- :mod:`.diameter`: :func:`estimate_object_diameter` (in memory and lazy);
- :mod:`._recipe`: the defaults' pipeline (parameters, steps at the working resolution)
  and :class:`WatershedResult`; its parts :mod:`._foreground` (the "auto" threshold),
  :mod:`._markers` (seeds) and :mod:`._outlines` (per-nucleus cuts, full-resolution
  outlines);
- :mod:`._cues`: per-object cues for harder images (bright foci, clusters of nuclei);
- :mod:`.watershed`: :func:`seeded_watershed`, validation first, then in memory or chunked;
- :mod:`._chunked`: the chunked watershed and the matching of objects across chunks.
"""

from ..scoring import score_segmentation
from ._chunked import WATERSHED_MARGIN, seeded_watershed_chunked
from ._recipe import WORKING_DIAMETER, WatershedResult, default_min_size
from .diameter import estimate_object_diameter, estimate_object_diameter_chunked
from .watershed import seeded_watershed

__all__ = [
    "WATERSHED_MARGIN",
    "WORKING_DIAMETER",
    "WatershedResult",
    "default_min_size",
    "estimate_object_diameter",
    "estimate_object_diameter_chunked",
    "score_segmentation",
    "seeded_watershed",
    "seeded_watershed_chunked",
]
