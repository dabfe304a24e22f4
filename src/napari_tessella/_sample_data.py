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


def stem_sample():
    """NbW-STEM.png, scaled in nanometres from its burned-in scale bar."""
    return [(load_nbw_stem(), {"name": "NbW-STEM", "colormap": "gray",
                               "scale": (NBW_PIXEL_SIZE_NM,) * 2, "units": "nm"}, "image")]


def u2os_sample():
    """U2OS Hoechst nuclei image dna-0 (Coelho et al. 2009)."""
    return [(load_u2os(), {"name": "U2OS dna-0", "colormap": "gray"}, "image")]
