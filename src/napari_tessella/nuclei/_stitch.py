"""The chunked watershed's stitching: the views of a nucleus in neighbouring chunks (each
segmented with its margin, :mod:`._chunked`) matched by centroid and given one global id,
the whole image's population rules applied to the matched objects."""

from __future__ import annotations

import numpy as np

from ._flat import _flat_of_views
from ._small import _small_population

__all__: list[str] = []


def _watershed_tables(summaries, tol, exclude_border):
    """Global ids from the chunks' summaries: each chunk's look-up table (its ids → global
    ids, raster order of the centroids) and the seeds kept (working pixels)."""
    # global ids: one per group of matching views, raster order of the centroid
    ncomp, comp, centres = _match_objects(summaries, tol)
    c_row = np.bincount(comp, weights=centres[:, 0], minlength=ncomp) if ncomp else comp
    c_col = np.bincount(comp, weights=centres[:, 1], minlength=ncomp) if ncomp else comp
    n_views = np.bincount(comp, minlength=ncomp) if ncomp else comp
    keep = np.ones(ncomp, dtype=bool)
    if ncomp:  # as in memory: whole small nuclei only as a population, before the border
        small = np.bincount(comp, weights=np.concatenate([s["small"] for s in summaries]),
                            minlength=ncomp) > 0
        if not _small_population(int(small.sum()), ncomp):
            keep &= ~small
        keep &= ~_flat_of_views([s["flat"] for s in summaries], comp, ncomp)  # as in memory
    if exclude_border and ncomp:
        flags = np.concatenate([s["border"] for s in summaries])
        keep &= np.bincount(comp, weights=flags, minlength=ncomp) == 0
    final = np.zeros(ncomp, dtype=np.int32)
    tree = None
    if ncomp:
        from scipy.spatial import cKDTree

        mean_r, mean_c = c_row / n_views, c_col / n_views
        kept = np.flatnonzero(keep)
        order = kept[np.lexsort((np.floor(mean_c[kept]), np.floor(mean_r[kept])))]
        final[order] = np.arange(1, order.size + 1, dtype=np.int32)
        tree = cKDTree(np.column_stack([mean_r, mean_c]))

    luts, seed_parts, start = [], [np.empty((0, 2))], 0
    for smry in summaries:
        lut = np.zeros(smry["n"] + 1, dtype=np.int32)
        n_ids = len(smry["ids"])
        lut[smry["ids"]] = final[comp[start:start + n_ids]]
        start += n_ids
        if tree is not None and len(smry["margin_ids"]):
            dist, nearest = tree.query(smry["margin_centres"])
            lut[smry["margin_ids"]] = np.where(dist <= tol, final[nearest], 0)
        if len(smry["seed_ids"]):
            kept_seed = lut[smry["seed_ids"]] > 0
            seed_parts.append(smry["seeds"][kept_seed])
        luts.append(lut)
    return luts, np.concatenate(seed_parts)


def _match_objects(summaries, tol):
    """One global object per group of chunk views whose centroids lie within ``tol``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    centres = np.concatenate([s["centres"] for s in summaries])
    owner = np.concatenate([np.full(len(s["ids"]), k) for k, s in enumerate(summaries)])
    total = len(centres)
    if total == 0:
        return 0, np.empty(0, np.int64), centres
    pairs = cKDTree(centres).query_pairs(tol, output_type="ndarray")
    if len(pairs):  # two objects of the same chunk view are never the same object
        pairs = pairs[owner[pairs[:, 0]] != owner[pairs[:, 1]]]
    graph = coo_matrix((np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])),
                       shape=(total, total))
    ncomp, comp = connected_components(graph, directed=False)
    return ncomp, comp, centres
