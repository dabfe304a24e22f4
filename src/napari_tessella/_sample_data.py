"""Sample-data contributions (File ▸ Open Sample ▸ Tessella)."""

from __future__ import annotations

from .datasets import NBW_PIXEL_SIZE_NM, load_nbw_stem, load_u2os


def synthetic_lattice_sample():
    """A HAADF-like square lattice with a 50 % sublattice; truth as a Points layer."""
    from .synthetic import synthetic_lattice

    lat = synthetic_lattice((256, 256), kind="square", spacing=9.0, sublattice_intensity=0.5,
                            seed=0)
    return [
        (lat.image, {"name": "synthetic lattice", "colormap": "gray"}, "image"),
        (lat.positions, {"name": "true columns", "size": 2, "face_color": "cyan",
                         "visible": False}, "points"),
    ]


def synthetic_nuclei_sample():
    """A fluorescence-like nuclei image; the ground truth as a (hidden) Labels layer."""
    from .synthetic import synthetic_nuclei

    nuc = synthetic_nuclei(seed=0)
    return [
        (nuc.image, {"name": "synthetic nuclei", "colormap": "gray"}, "image"),
        (nuc.labels, {"name": "true nuclei", "visible": False}, "labels"),
    ]


def _downloaded(load, title: str):
    """The image ``load`` reads (downloaded once). Offline with no copy in the cache, an
    OSError that napari shows as its message (File ▸ Open Sample has no other way to say
    it: a sample that returns no layer is an error to napari too): where to put a copy,
    and that the synthetic samples need no download."""
    try:
        return load()
    except OSError as err:
        raise OSError(f"Tessella sample '{title}': {err} The synthetic samples need no "
                      "download.") from None


def stem_sample():
    """NbW-STEM.png, scaled in nanometres from its burned-in scale bar."""
    image = _downloaded(load_nbw_stem, "NbW-STEM")
    return [(image, {"name": "NbW-STEM", "colormap": "gray",
                     "scale": (NBW_PIXEL_SIZE_NM,) * 2, "units": "nm"}, "image")]


def u2os_sample():
    """U2OS Hoechst nuclei image dna-0 (Coelho et al. 2009)."""
    image = _downloaded(load_u2os, "U2OS nuclei")
    return [(image, {"name": "U2OS dna-0", "colormap": "gray"}, "image")]
