"""Pieces of one nucleus under the minimum size joined back before the size filter.

The first seeding of the recipe may put two seeds or more in one nucleus ("an extra seed
does no harm here"), and the trim then cuts each of its labels at a fraction of its own
peak: an unevenly bright dim nucleus comes out of the trim as two to four pieces with
trimmed-away foreground between them (or touching, with no neck), and the distance
seeding after the trim keeps them apart. Each piece lies under the minimum size, so the
size filter dropped the whole nucleus (round 40: 5 of the 25 nuclei of ordinary size lost
at the filter on the tuning fields; none of the split steps put one of them under the
bar, the first flood and the trim did, and 15 of the 25 reach the filter as one piece).

Pieces under the minimum size (not on the image border, not border specks, not touching
a label of the minimum size: a sliver of that nucleus) that lie within ``_PIECES_GAP`` d
of each other through the foreground the trim took off (pixels of the untrimmed
foreground in no label) are one nucleus's when, together with the foreground pixels
within the gap of two of them,
- they reach the minimum size and stay under the area of an ordinary nucleus
  (``_PIECES_MOST`` times pi d^2 / 4);
- they fill less than ``_PIECES_SOLID`` of their convex hull: the trim's pieces of one
  nucleus are ragged, while two small round nuclei side by side fill about 0.88 of theirs
  (two touching discs), and a population of small nuclei is the small nuclei's rule's
  (:mod:`._small`).
They then become one label. A label of the minimum size is never joined, so two nuclei
above the bar are never merged. Everything is read in the pieces' boxes widened by twice
the gap, whole pixels: a chunk with its margin gives the in-memory answer.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import convex_hull_image

from .._label_image import _widened

_PIECES_GAP = 0.3
_PIECES_MOST = 1.0
_PIECES_SOLID = 0.8
_EIGHT = np.ones((3, 3), bool)


def _joined_pieces(labels, sizes, needed, mask, d, edge):
    """Join the pieces of one nucleus under ``needed`` (see the module's docstring).

    ``labels``: the working labels before the size filter, ``sizes`` their pixel counts
    (``np.bincount``), ``needed`` each label's minimum size (``inf``: a border speck),
    ``mask`` the untrimmed foreground, ``d`` the diameter, ``edge`` the ids on the image
    border. Returns ``labels`` and ``sizes``, as given when nothing is joined, else new
    arrays in which each group carries the smallest id of its pieces and its size.
    """
    ids = np.flatnonzero((sizes < needed) & (sizes > 0) & np.isfinite(needed))
    ids = ids[(ids > 0) & ~np.isin(ids, edge)]
    if ids.size < 2:
        return labels, sizes
    k = max(1, round(_PIECES_GAP * d))
    big = sizes >= needed
    big[0] = False
    boxes = ndi.find_objects(labels)
    root = {int(i): int(i) for i in ids}

    def find(i):
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    grown = {}
    for i in ids:
        box = _widened(boxes[i - 1], 2 * k + 2, labels.shape)
        lab = labels[box]
        own = lab == i
        free = mask[box] & (lab == 0)
        if big[lab[ndi.binary_dilation(own, _EIGHT) & ~own]].any():
            continue  # a sliver of the nucleus above the bar it touches
        near = ndi.binary_dilation(own, iterations=k, mask=free | own)
        reached = np.unique(lab[ndi.binary_dilation(near) & ~near])
        grown[int(i)] = (box, lab, free, near, reached[reached > 0])
    bridges = []
    for i, (box, lab, free, near, reached) in grown.items():
        for j in reached[reached > i]:
            if int(j) in grown:
                other = lab == j
                both = near & ndi.binary_dilation(other, iterations=k, mask=free | other)
                bridges.append((box, both & free, i, int(j)))
    if not bridges:
        return labels, sizes
    for _, _, i, j in bridges:
        a, b = find(i), find(j)
        if a != b:
            root[max(a, b)] = min(a, b)
    groups = {}
    for i in root:
        groups.setdefault(find(i), []).append(i)
    groups = {r: m for r, m in groups.items() if len(m) > 1}
    if not groups:
        return labels, sizes
    most = _PIECES_MOST * np.pi * d * d / 4
    out, grown_sizes = labels, sizes
    for r, members in sorted(groups.items()):
        added = np.zeros(labels.shape, bool)
        for box, near, i, _ in bridges:
            if find(i) == r:
                added[box] |= near
        added &= out == 0  # (a bridge of an earlier group: its pixels now labelled)
        total = float(sizes[members].sum()) + float(added.sum())
        if not needed[r] <= total <= most:
            continue
        box = _widened(tuple(slice(min(b.start for b in s), max(b.stop for b in s))
                             for s in zip(*(boxes[i - 1] for i in members), strict=True)),
                       k, labels.shape)
        group = added[box] | np.isin(labels[box], members)  # (bridges lie between them)
        if total >= _PIECES_SOLID * convex_hull_image(group).sum():
            continue  # as solid as small round nuclei side by side: not one's pieces
        if out is labels:
            out, grown_sizes = labels.copy(), sizes.copy()
        for i in members:
            box = boxes[i - 1]
            out[box][labels[box] == i] = r
        out[added] = r
        grown_sizes[members] = 0
        grown_sizes[r] = total
    return out, grown_sizes
