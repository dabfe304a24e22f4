"""The watershed's seeds: a Points or a Labels layer read for one plane of the image, one
path for both (which plane, placement through world coordinates and units, refusals)."""

from __future__ import annotations

import numpy as np

from .._lazy import is_lazy
from .._validation import as_label_image, counted
from ._layers import _current_plane, _matching_plane, _plane, _plane_matrix, _world_factors
from ._stacks import _lead_shape, _plane_text

#: what a refusal tells the user to do instead
_INSTEAD = ("choose seeds made on this image, or empty the 'seeds (optional)' field to find "
            "them automatically.")


def seeds_on_plane(seeds_layer, layer, viewer, index: tuple | None, image) -> np.ndarray:
    """The seeds of ``seeds_layer`` for plane ``index`` of the image ``layer`` (None: the
    plane shown), read as ``image``, on its pixel grid: (n, 2) points for a Points layer,
    a label image of the plane's shape for a Labels layer.

    Both kinds go the same way. Their plane is the one at the image plane's place in
    world coordinates when both have the same leading (T, Z, …) axes, else the seeds'
    plane shown; they are placed as napari draws them (scale, translate, an in-plane
    rotation or affine, lengths in nm beside µm converted). ``ValueError``, saying why,
    when they have nothing on that plane, when some lie off the image, when their units do
    not convert into the image's, or when a rotation out of the plane leaves no mapping.
    """
    from napari.layers import Labels

    labels = isinstance(seeds_layer, Labels)
    name, shape = seeds_layer.name, image.shape[:2]
    if labels and is_lazy(image):
        raise ValueError(f"{layer.name!r} is processed chunk by chunk: give the seeds as a "
                         "Points layer (a Labels layer of seeds is not supported there).")
    img = layer.name
    to_image = _to_image(seeds_layer, layer)
    shown = index or _current_plane(layer, viewer)
    plane = _matching_plane(seeds_layer, layer, shown)
    where = (" on the plane shown" if plane is None or index is None
             else f" where {_plane_text(shown)} of {img!r} lies")
    if plane is None and seeds_layer.ndim > 2:
        plane = _current_plane(seeds_layer, viewer)  # (a Labels layer's nearest plane)
    if labels:
        if plane and not all(0 <= i < n for i, n in zip(
                plane, _lead_shape(seeds_layer), strict=True)):
            raise ValueError(f"the seeds layer {name!r} has no plane where "
                             f"{_plane_text(shown)} of {img!r} lies.")
        seeds = _plane(seeds_layer, viewer, index=plane)
        as_label_image(seeds, name=f"the seeds layer {name!r}")  # no negative ids
        found = np.unique(seeds[seeds != 0])
        if not len(found):  # else: 0 nuclei, and no word why
            raise ValueError(f"the seeds layer {name!r} has no labels"
                             f"{where if seeds_layer.ndim > 2 else ''}.")
        placed = _labels_on_grid(seeds, to_image, shape)
        missing = len(found) - len(np.unique(placed[placed != 0]))
        what = "labels"
    else:
        points = np.asarray(seeds_layer.data, dtype=np.float64)
        bad = int((~np.isfinite(points).all(axis=1)).sum())
        if bad:  # on any plane: a NaN plane coordinate dropped the point without a word
            raise ValueError(f"{bad} of the {counted(len(points), 'point')} of the seeds "
                             f"layer {name!r} {'has' if bad == 1 else 'have'} NaN or "
                             "infinite coordinates: delete them.")
        if plane and points.shape[1] > 2:
            points = points[np.all(np.round(points[:, :len(plane)]) == plane, axis=1)]
        if not len(points):
            more = (": move the slider to the seeds' plane"
                    if len(seeds_layer.data) and index is None else "")
            raise ValueError(f"the seeds layer {name!r} has no points"
                             f"{where if len(seeds_layer.data) else ''}{more}.")
        placed = points[:, -2:] @ to_image[:2, :2].T + to_image[:2, 2]
        rows, cols = shape
        inside = ((placed[:, 0] >= -0.5) & (placed[:, 0] < rows - 0.5)
                  & (placed[:, 1] >= -0.5) & (placed[:, 1] < cols - 0.5))
        missing, found, what = int((~inside).sum()), placed, "points"
    if missing:
        raise ValueError(
            f"{missing} of the {counted(len(found), what[:-1], what)} of the seeds layer {name!r} "
            f"{'lies' if missing == 1 else 'lie'} outside "
            f"the image {img!r} where napari places them (their scale, translate and "
            f"units): {_INSTEAD}")
    return placed


def _to_image(seeds_layer, layer) -> np.ndarray:
    """The 3 × 3 homogeneous matrix taking (row, column) of ``seeds_layer``'s planes to
    those of ``layer``'s, the two related as napari draws them, in world coordinates, their
    units converted; ``ValueError`` when a rotation out of the plane leaves no mapping."""
    image_m, seeds_m = _plane_matrix(layer), _plane_matrix(seeds_layer)
    if image_m is None or seeds_m is None:
        raise ValueError(
            f"the seeds layer {seeds_layer.name!r} and the image {layer.name!r} are not "
            "placed plane on plane (a rotation out of the plane): give seeds drawn on the "
            "image, unrotated.")
    factors = np.r_[_world_factors(seeds_layer, layer)[-2:], 1.0]
    return np.linalg.solve(image_m, factors[:, None] * seeds_m)


def _labels_on_grid(seeds: np.ndarray, to_image: np.ndarray, shape) -> np.ndarray:
    """A (row, column) plane ``seeds`` of a Labels layer on an image's pixel grid
    (``shape``), ``to_image`` (:func:`_to_image`) taking seed pixels to image pixels:
    each image pixel takes the label of the seed pixel at its centre, and each labelled
    seed pixel marks the image pixel it falls in (a seed smaller than the image's pixels
    keeps one). The same array when the two share their placement and shape."""
    to_seeds = np.linalg.inv(to_image)  # image pixel -> seed pixel
    if seeds.shape == tuple(shape) and np.allclose(to_seeds, np.eye(3), rtol=0, atol=1e-9):
        return seeds
    rows, cols = seeds.shape
    out = np.zeros(shape, dtype=seeds.dtype)
    if np.allclose(to_seeds[[0, 1], [1, 0]], 0, rtol=0, atol=1e-12):
        # axis-aligned (scale and translate): rows and columns map on their own
        r = np.rint(np.arange(shape[0]) * to_seeds[0, 0] + to_seeds[0, 2]).astype(np.int64)
        c = np.rint(np.arange(shape[1]) * to_seeds[1, 1] + to_seeds[1, 2]).astype(np.int64)
        rin, cin = (r >= 0) & (r < rows), (c >= 0) & (c < cols)
        out[np.ix_(rin, cin)] = seeds[np.ix_(r[rin], c[cin])]
    else:
        grid = np.indices(shape, dtype=float).reshape(2, -1)
        at = np.rint(to_seeds[:2, :2] @ grid + to_seeds[:2, 2:]).astype(np.int64)
        inside = (at[0] >= 0) & (at[0] < rows) & (at[1] >= 0) & (at[1] < cols)
        flat = out.reshape(-1)
        flat[inside] = seeds[at[0, inside], at[1, inside]]
    ys, xs = np.nonzero(seeds)
    if len(ys):  # forward: labelled seed pixels into the image pixels they fall in
        at = np.rint(to_image[:2, :2] @ np.stack([ys, xs]).astype(float)
                     + to_image[:2, 2:]).astype(np.int64)
        inside = (at[0] >= 0) & (at[0] < shape[0]) & (at[1] >= 0) & (at[1] < shape[1])
        r, c, v = at[0, inside], at[1, inside], seeds[ys[inside], xs[inside]]
        empty = out[r, c] == 0
        out[r[empty], c[empty]] = v[empty]
    return out


