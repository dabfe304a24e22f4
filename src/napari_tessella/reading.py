"""Reading image files as the recipes see them: values as stored, Zarr lazily.

The command line, the sample loaders and (through napari's own readers, which give the same
values) the widgets all start from these arrays, so a threshold in image units means the
same thing everywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["IMAGE_SUFFIXES", "is_zarr", "open_image"]

IMAGE_SUFFIXES = (".tif", ".tiff", ".png")


def is_zarr(path: Path) -> bool:
    return path.is_dir() and (
        path.suffix.lower() == ".zarr"
        or any((path / f).exists() for f in (".zarray", ".zgroup", "zarr.json"))
    )


def _open_zarr(path: Path):
    import zarr

    node = zarr.open(str(path), mode="r")
    if hasattr(node, "shape"):
        return node
    keys = sorted(node.array_keys())
    if "0" in keys:  # OME-Zarr: full-resolution level
        return node["0"]
    if len(keys) == 1:
        return node[keys[0]]
    raise ValueError(f"Zarr group holds {len(keys)} arrays ({', '.join(keys) or 'none'}); "
                     "give the path of one array")


def open_image(path):
    """The image stored in a file, values as stored: NumPy for TIFF/PNG, lazy for Zarr.

    PNG files whose RGB(A) channels are identical (grey images saved as colour) are read
    as one grey channel, as napari's reader shows them.
    """
    path = Path(path)
    if is_zarr(path):
        return _open_zarr(path)
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        import tifffile

        return tifffile.imread(path)
    if suffix == ".png":
        from skimage.io import imread

        image = imread(path)
        if image.ndim == 3 and all(np.array_equal(image[..., 0], image[..., c])
                                   for c in range(1, min(3, image.shape[-1]))):
            image = image[..., 0]
        return image
    raise ValueError(f"unsupported file type {path.suffix!r} (use TIFF, PNG or Zarr)")
