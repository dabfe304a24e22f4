"""Larger-than-memory versions of the core functions (kept for existing imports).

Each concept now owns its chunked path beside its in-memory one, and the public
functions dispatch by themselves: give :func:`napari_tessella.threshold_label`,
:func:`~napari_tessella.measure_objects`, :func:`~napari_tessella.seeded_watershed`,
:func:`~napari_tessella.find_atoms` or :func:`~napari_tessella.estimate_object_diameter`
a dask or Zarr array and it is processed chunk by chunk. The names below are re-exported
from their homes so that code written against this module keeps working:

========================================  ==========================================
name                                      home
========================================  ==========================================
``threshold_label_chunked``               :mod:`napari_tessella.segmentation`
``measure_objects_chunked``               :mod:`napari_tessella.measure`
``find_atoms_chunked``                    :mod:`napari_tessella.atoms`
``seeded_watershed_chunked``              :mod:`napari_tessella.nuclei`
``estimate_object_diameter_chunked``      :mod:`napari_tessella.nuclei.diameter`
``is_lazy``, ``DEFAULT_CHUNKS``           :mod:`napari_tessella._lazy`
========================================  ==========================================
"""

from ._lazy import DEFAULT_CHUNKS, LARGE_PIXELS, is_lazy
from .atoms import find_atoms_chunked
from .measure import measure_objects_chunked
from .nuclei import WATERSHED_MARGIN, estimate_object_diameter_chunked, seeded_watershed_chunked
from .segmentation import threshold_label_chunked
from .threshold import LI_BINS

__all__ = [
    "DEFAULT_CHUNKS",
    "LARGE_PIXELS",
    "LI_BINS",
    "WATERSHED_MARGIN",
    "estimate_object_diameter_chunked",
    "find_atoms_chunked",
    "is_lazy",
    "measure_objects_chunked",
    "seeded_watershed_chunked",
    "threshold_label_chunked",
]
