"""Find atoms on pixels that are not square: the plane resampled to square pixels, the
columns found there, and put back on the layer's pixel grid (round 53).

Columns are round in the sample, not in pixels 0.1 × 0.2 nm: found in pixels, their
neighbours along the short side looked like close pairs (dumbbells) and the lattice's basis
came out wrong (the NbW image: 4.5 × 3.3 at 33° instead of 5.2 × 5.1 at 83°, in pixels of
the mean size). The plane is resampled (cubic spline: linear interpolation blurred every
other column unevenly, and found extra columns) to square pixels of the smaller size,
no detail lost; every length of the result is then given in pixels of the mean size, the
unit of the widget's spacing field.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._lazy import is_lazy
from ._validation import as_float_image

# the largest ratio of the pixel's sides, and the most pixels, resampled to square pixels
_MOST_RATIO = 16.0
_MOST_PIXELS = 64_000_000
# the result's lengths, in pixels, and the table's
_LENGTHS = ("separation", "pair_distance", "lattice_spacing", "column_sigma")
_TABLE_LENGTHS = ("sigma",)


def square_zoom(shape, sampling) -> np.ndarray | None:
    """The (row, column) zoom that makes pixels of ``sampling`` (their sizes, in pixels
    of the mean size; None: square) square, of the smaller size; None when they are square
    already. ``ValueError`` in one sentence when the pixels are too far from square, or
    the plane is too large, to be resampled."""
    if sampling is None:
        return None
    size = np.abs(np.asarray(sampling, dtype=np.float64))
    if size[0] == size[1]:
        return None
    ratio = float(size.max() / size.min())
    pixels = float(np.prod(shape[:2])) * ratio
    if not (np.isfinite(ratio) and ratio <= _MOST_RATIO and pixels <= _MOST_PIXELS):
        raise ValueError(
            f"the pixels are {ratio:.3g} times longer one way than the other: too far "
            f"from square to find columns (at most {_MOST_RATIO:g} times, and "
            f"{_MOST_PIXELS / 1e6:g} million pixels once square); resample the image "
            f"to square pixels first.")
    return size / size.min()


def find_on_square(find, image, sampling, *, zoom=None, **params):
    """``find(image, **params)`` (:func:`~napari_tessella.atoms.find_atoms`) with the
    plane resampled to square pixels when ``sampling`` (:func:`square_zoom`) says they
    are not, its result put back: positions and the table's ``row``, ``col`` on the
    plane's pixels, every length (``separation``, ``pair_distance``, ``lattice_spacing``,
    ``column_sigma``, the table's ``sigma``) in pixels of the mean size, as the spacing
    given in ``params`` is. A lazy plane is read in pixels (no resampling). ``zoom``:
    :func:`square_zoom` of ``sampling`` when the caller has it already (the Find atoms
    widget refuses pixels too far from square before its run starts), not made again;
    None: made here."""
    if is_lazy(image):
        zoom = None
    elif zoom is None:
        zoom = square_zoom(np.shape(image), sampling)
    if zoom is None:
        return find(image, **params)
    from scipy import ndimage as ndi

    plane = as_float_image(image)
    square = ndi.zoom(plane, zoom, order=3, mode="nearest", grid_mode=True)
    factor = np.array(square.shape, dtype=np.float64) / np.array(plane.shape)
    size = np.abs(np.asarray(sampling, dtype=np.float64))
    step = float(size.min() / np.sqrt(size.prod()))  # the square pixel, in mean pixels
    if params.get("separation") is not None:
        params = {**params, "separation": float(params["separation"]) / step}
    res = find(square, **params)
    positions = (np.asarray(res.positions, dtype=np.float64).reshape(-1, 2) + 0.5) / factor
    positions -= 0.5
    table = res.table.copy()
    table["row"], table["col"] = positions[:, 0], positions[:, 1]
    for name in _TABLE_LENGTHS:
        if name in table:
            table[name] = table[name] * step
    lengths = {name: getattr(res, name) * step for name in _LENGTHS if hasattr(res, name)}
    return replace(res, positions=positions, table=table, **lengths)
