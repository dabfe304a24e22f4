"""The real images the project is built on, downloaded once on demand and cached.

Files are fetched with :mod:`pooch` from their public repositories at a pinned commit and
checked against a pinned sha256 where one is known. The cache folder is
``pooch.os_cache("napari-tessella")``, overridable with the ``NAPARI_TESSELLA_DATA``
environment variable (tests point it at a local copy, so nothing downloads there).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .reading import open_image

__all__ = ["REGISTRY", "data_dir", "fetch", "load_nbw_stem", "load_u2os"]

_NBW_COMMIT = "dcf3377c1a13a1a9e87e6072286019cb007703c8"
_COELHO = "https://raw.githubusercontent.com/luispedro/Coelho2009_ISBI_NuclearSegmentation/master"

#: file name -> (url, sha256 or None). The U2OS image is published as a 3-channel PNG whose
#: hash could not be pinned offline; it is read by content (any channel count) instead.
REGISTRY: dict[str, tuple[str, str | None]] = {
    "NbW-STEM.png": (
        f"https://raw.githubusercontent.com/rojassergio/Learning-Scipy/{_NBW_COMMIT}"
        "/Chapter7/NbW-STEM.png",
        "sha256:3198d41fe56268dca7b0884abfddd3d610d14b15a31641cb150f54017509da16",
    ),
    "dna-0.png": (f"{_COELHO}/data/images/dna-images/gnf/dna-0.png", None),
}

#: Physical pixel size of NbW-STEM.png: its burned-in 2 nm scale bar is about 43 px long.
NBW_PIXEL_SIZE_NM = 2.0 / 43.0


def data_dir() -> Path:
    """Folder where downloaded images are cached."""
    env = os.environ.get("NAPARI_TESSELLA_DATA")
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("napari-tessella"))


def fetch(name: str) -> Path:
    """Path to a registered file, downloading it into :func:`data_dir` the first time.

    Raises
    ------
    ValueError
        For a name not in :data:`REGISTRY`.
    OSError
        When the file is not cached and cannot be downloaded (no network); the message
        says where to put a copy by hand.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown data file {name!r}; known: {', '.join(REGISTRY)}.")
    import pooch

    url, known_hash = REGISTRY[name]
    folder = data_dir()
    try:
        return Path(pooch.retrieve(url, known_hash, fname=name, path=folder, progressbar=False))
    except Exception as err:  # network errors come in many types; answer them all clearly
        cause = f"{type(err).__name__}: {err}"  # a failed lookup's text runs to 400 chars
        cause = cause if len(cause) <= 120 else cause[:119] + "…"
        raise OSError(
            f"could not download {name} (offline? {cause}). Put a copy at {folder / name} "
            "to use it offline."
        ) from err


def load_nbw_stem() -> np.ndarray:
    """HAADF-STEM micrograph of Nb4W13O47, (295, 295) uint8, values as stored in the file.

    The recipe's threshold is 158 in these units (0.62 of the 8-bit range); divide by 255
    for an image in [0, 1], where it is 0.62.
    """
    return _read_cached("NbW-STEM.png")


def load_u2os() -> np.ndarray:
    """U2OS Hoechst nuclei image ``dna-0`` (Coelho et al. 2009) as uint8, (1030, 1349)."""
    return _read_cached("dna-0.png")


def _read_cached(name: str) -> np.ndarray:
    """The image of a registered file; a cached copy that cannot be read (cut short, or
    another file put there by hand) is an OSError saying where it is and to delete it:
    otherwise every later load reads the same broken copy again."""
    path = fetch(name)
    try:
        return open_image(path)
    except ValueError as err:
        why = str(err).rstrip(".")
        raise OSError(f"the cached copy of {name} at {path} cannot be read ({why}): delete "
                      "it to download it again, or put a good copy there.") from None
