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
    """One global object per group of chunk views whose centroids lie within ``tol``, no
    group holding two views of the same chunk (they are two objects there)."""
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
    # ... nor through a third view: a nucleus inside a ring-shaped one has its centroid
    # near the ring's (round 30), and a chunk seeing only the ring joined both of another
    # chunk's views into one object. Such groups are joined again pair by pair, nearest
    # first, never two groups holding views of the same chunk.
    n_views = np.bincount(comp, minlength=ncomp)
    n_owned = np.bincount(np.unique(comp.astype(np.int64) * len(summaries) + owner)
                          // len(summaries), minlength=ncomp)
    clash = np.flatnonzero(n_owned < n_views)
    if clash.size:
        comp = _match_apart(pairs, centres, owner, comp, clash)
        ncomp = int(comp.max()) + 1
    return ncomp, comp, centres


def _match_apart(pairs, centres, owner, comp, clash):
    """``comp`` with the groups ``clash`` (holding two views of one chunk) made again
    from their ``pairs``, nearest first (ties in the pairs' order), a pair joined only
    when its two groups hold no view of the same chunk; numbered after the others."""
    inside = np.isin(comp[pairs[:, 0]], clash)
    pairs = pairs[inside]
    gap = np.hypot(*(centres[pairs[:, 0]] - centres[pairs[:, 1]]).T)
    pairs = pairs[np.argsort(gap, kind="stable")]
    views = np.flatnonzero(np.isin(comp, clash))
    root = {int(v): int(v) for v in views}
    chunks = {int(v): {int(owner[v])} for v in views}

    def find(v):
        while root[v] != v:
            root[v] = root[root[v]]
            v = root[v]
        return v

    for a, b in pairs.tolist():
        ra, rb = find(a), find(b)
        if ra == rb or chunks[ra] & chunks[rb]:
            continue
        if len(chunks[ra]) < len(chunks[rb]):
            ra, rb = rb, ra
        root[rb] = ra
        chunks[ra] |= chunks.pop(rb)
    kept = np.setdiff1d(np.arange(int(comp.max()) + 1), clash)
    renumber = np.zeros(int(comp.max()) + 1, np.int64)
    renumber[kept] = np.arange(kept.size)
    out = renumber[comp]
    roots = np.array([find(int(v)) for v in views])
    out[views] = kept.size + np.unique(roots, return_inverse=True)[1]
    return out
