"""Round 51: the review's mends, a refactor with every label identical.

One box helper (``_label_image._mask_box``) gives the box of a mask's pixels and of some
labels' pixels (``ids``); one labelling structure (``_label_image._structure``) serves
every ``ndi.label`` call; the dome split's long candidates take their moments from their
own pixels (``_label_image._labelled_pixels``), no whole-image index grids, the same
candidates bit for bit; its dome reads ``erfc`` imported once. (On the round's base
every test here fails but ``test_box_around_is_the_box_of_the_labels_pixels`` and
``test_dome_candidates_are_those_of_the_whole_image_sums``, guards of what stays:
``_mask_box``'s ``ids``, ``_structure``, ``_labelled_pixels`` and the module-level
``erfc`` are new, and the base's candidates built index grids.)"""

from __future__ import annotations

import ast

import numpy as np
import pytest
from scipy import ndimage as ndi

from napari_tessella.nuclei._in_box import _box_around
from napari_tessella.synthetic import synthetic_nuclei


def _labels(seed=3):
    nuc = synthetic_nuclei((160, 200), n_nuclei=30, diameter=22, seed=seed, noise=0.03)
    return nuc.labels.astype(np.int32)


def _pixel_box(mask, pad):
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return (slice(max(rows.min() - pad, 0), min(rows.max() + 1 + pad, mask.shape[0])),
            slice(max(cols.min() - pad, 0), min(cols.max() + 1 + pad, mask.shape[1])))


@pytest.mark.parametrize("seed", (3, 4))
def test_mask_box_of_labels_ids_is_their_pixels_box(seed):
    from napari_tessella._label_image import _mask_box

    labels = _labels(seed)
    rng = np.random.default_rng(seed)
    n = int(labels.max())
    for size in (1, 2, 5, n):
        ids = rng.choice(np.arange(0, n + 4), size, replace=False)  # (0 and absent ids)
        for pad in (0, 3, 50):
            want = _pixel_box(np.isin(labels, ids[ids > 0]), pad)
            assert _mask_box(labels, pad, ids) == want
            assert _mask_box(labels, pad, list(ids)) == want
    assert _mask_box(labels, 2, np.array([0, n + 1])) is None
    assert _mask_box(np.zeros((0, 5), np.int32), 1, [1]) is None


@pytest.mark.parametrize("seed", (3, 5))
def test_box_around_is_the_box_of_the_labels_pixels(seed):
    """``_box_around`` without boxes (now ``_mask_box`` with ids) and with them."""
    labels = _labels(seed)
    boxes = ndi.find_objects(labels)
    rng = np.random.default_rng(seed + 10)
    for size in (1, 3, 8):
        ids = np.sort(rng.choice(np.arange(1, int(labels.max()) + 1), size, replace=False))
        want = _pixel_box(np.isin(labels, ids), 4)
        assert _box_around(labels, ids, 4) == want == _box_around(labels, ids, 4, boxes)


def test_structure_is_scipys_and_made_once():
    from napari_tessella._label_image import _structure

    for ndim in (1, 2, 3):
        for connectivity in (1, 2, 3):
            got = _structure(ndim, connectivity)
            assert np.array_equal(got, ndi.generate_binary_structure(ndim, connectivity))
            assert not got.flags.writeable
            assert _structure(ndim, connectivity) is got
    assert _structure(2) is _structure(2, 1)
    mask = np.random.default_rng(0).random((6, 7, 8)) > 0.6  # n-d input: scipy's default
    got, want = ndi.label(mask, _structure(mask.ndim)), ndi.label(mask)
    assert got[1] == want[1] and np.array_equal(got[0], want[0])


#: the modules whose ``label`` labels connected pixels (scipy's takes a ``structure``,
#: second; scikit-image's a ``connectivity``, fourth)
_LABELLERS = {"scipy.ndimage": ("structure", 1), "skimage.measure": ("connectivity", 3)}
#: the constants the labellings named before ``_label_image._structure``
_OLD_NAMES = {"_FOUR", "_EIGHT"}


def _labellers(tree) -> dict:
    """Names under which a module's ``tree`` reaches a ``label`` of :data:`_LABELLERS`:
    {dotted call name: (argument, position)}."""
    names = {f"{mod}.label": arg for mod, arg in _LABELLERS.items()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _LABELLERS and alias.asname:
                    names[f"{alias.asname}.label"] = _LABELLERS[alias.name]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in _LABELLERS:  # from scipy import ndimage (as ndi)
                    names[f"{alias.asname or alias.name}.label"] = _LABELLERS[full]
                elif node.module in _LABELLERS and alias.name == "label":
                    names[alias.asname or "label"] = _LABELLERS[node.module]
    return names


def _reads_dimensions(node) -> bool:
    """Whether an expression reads an array's dimensions (``.ndim``, ``.shape``)."""
    return any(isinstance(n, ast.Attribute) and n.attr in ("ndim", "shape")
               for n in ast.walk(node))


def _picked(node, assigned) -> bool:
    """Whether the expression ``node`` (a labelling's structure or connectivity) picks
    it by the input's dimensions: a conditional whose test reads them, in it or in what
    a name it holds is ``assigned`` in its function."""
    for n in ast.walk(node):
        if isinstance(n, ast.IfExp) and _reads_dimensions(n.test):
            return True
        if isinstance(n, ast.Name) and any(_picked(v, {}) for v in assigned.get(n.id, ())):
            return True
    return False


def _old_name(node) -> bool:
    return ((isinstance(node, ast.Name) and node.id in _OLD_NAMES)
            or (isinstance(node, ast.Attribute) and node.attr in _OLD_NAMES)
            or (isinstance(node, ast.alias) and node.name in _OLD_NAMES))


def dimension_picked_labellings(source: str) -> list[str]:
    """The labelling calls (``ndi.label``, ``scipy.ndimage.label``,
    ``skimage.measure.label`` and their aliases) in ``source`` whose ``structure`` or
    ``connectivity`` is picked by the input's dimensions or is an old constant, and any
    use of the old constants: what every labelling's ``_structure`` replaced (round 51).
    Read from the code itself, so no comment, docstring or other line trips it."""
    tree = ast.parse(source)
    labellers = _labellers(tree)
    found = []
    scopes = [n for n in ast.walk(tree)
              if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes:  # (a name: as the module or the call's function assigns it)
        assigned: dict = {}
        for n in (scope.body if scope is tree else ast.walk(scope)):
            if isinstance(n, ast.Assign):
                for target in n.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(n.value)
        for n in ast.walk(scope):
            if not isinstance(n, ast.Call) or ast.unparse(n.func) not in labellers:
                continue
            word, at = labellers[ast.unparse(n.func)]
            given = [k.value for k in n.keywords if k.arg == word]
            given += n.args[at:at + 1]
            if any(_picked(g, assigned) for g in given):
                found.append(f"{n.lineno}: {ast.unparse(n)}")
    found += [f"{n.lineno}: {ast.unparse(n)}" for n in ast.walk(tree) if _old_name(n)]
    return sorted(set(found))


def test_no_labelling_names_a_structure_of_its_own():
    """Every labelling of the package takes ``_structure`` (or a structure of its own
    that it does not pick by the input's dimensions): no ``_FOUR``/``_EIGHT`` left, no
    structure or connectivity picked by the input's dimensions at the call. Read from
    the calls themselves (round 57: a text search read ``ndim == 2 else None`` on an
    unrelated line as one)."""
    from pathlib import Path

    import napari_tessella

    root = Path(napari_tessella.__file__).parent
    for path in root.rglob("*.py"):
        found = dimension_picked_labellings(path.read_text(encoding="utf-8"))
        assert not found, (path.name, found)


def _old_candidates(labels, d):
    """The base's ``_candidates``: the moments from whole-image index grids."""
    from napari_tessella.nuclei import _domes

    n = int(labels.max())
    sizes = np.bincount(labels.ravel(), minlength=n + 1).astype(np.float64)
    unit = np.pi * d * d / 4
    ids = np.flatnonzero(sizes >= _domes._LONG_AREA * unit)
    ids = ids[ids > 0]
    big = sizes[ids] >= _domes._AREA * unit
    long = ids[~big]
    if long.size:
        rr, cc = np.indices(labels.shape, dtype=np.float64)
        m = [ndi.sum_labels(v, labels, long) / sizes[long] for v in (rr, cc, rr * rr,
                                                                     cc * cc, rr * cc)]
        vr, vc, vrc = m[2] - m[0] ** 2, m[3] - m[1] ** 2, m[4] - m[0] * m[1]
        root = np.sqrt(((vr - vc) / 2) ** 2 + vrc ** 2)
        big[~big] = ((vr + vc) / 2 + root) >= _domes._LONG_AXES ** 2 * np.maximum(
            (vr + vc) / 2 - root, 1e-9)
    return ids[big]


def _elongated(seed):
    """Labels of ellipses of random axes and angles, some touching: long and large ones."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((240, 300), np.int32)
    rr, cc = np.indices(labels.shape)
    for i in range(1, 40):
        r0, c0 = rng.uniform(10, 230), rng.uniform(10, 290)
        a, b, t = rng.uniform(4, 22), rng.uniform(3, 9), rng.uniform(0, np.pi)
        u = (rr - r0) * np.cos(t) + (cc - c0) * np.sin(t)
        v = (cc - c0) * np.cos(t) - (rr - r0) * np.sin(t)
        labels[(u / a) ** 2 + (v / b) ** 2 <= 1] = i
    return labels


@pytest.mark.parametrize("seed", range(6))
def test_dome_candidates_are_those_of_the_whole_image_sums(seed):
    """The long labels' moments summed over their own pixels give the candidates of the
    whole image's sums, bit for bit (of 4-39 labels large enough, 1-25 long ones)."""
    from napari_tessella.nuclei._domes import _candidates

    labels = _elongated(seed)
    for d in (8.0, 12.0, 16.0, 24.0):
        assert np.array_equal(_candidates(labels, d), _old_candidates(labels, d))


@pytest.mark.parametrize("seed", (0, 3))
def test_labelled_pixels_sum_as_sum_labels(seed):
    """A bincount over ``_labelled_pixels`` adds each label's values in the order
    ``ndi.sum_labels`` does: the same floats."""
    from napari_tessella._label_image import _labelled_pixels

    labels = _elongated(seed)
    n = int(labels.max())
    ids = np.arange(1, n + 1, 2)
    lab, rows, cols = _labelled_pixels(labels, n, ids)
    rr, cc = np.indices(labels.shape, dtype=np.float64)
    for got, grid in ((rows, rr), (cols, cc), (rows * cols, rr * cc)):
        mine = np.bincount(lab, got.astype(np.float64), n + 1)[ids]
        assert np.array_equal(mine, ndi.sum_labels(grid, labels, ids))


def test_dome_candidates_build_no_image_grids(monkeypatch):
    """The base built ``np.indices`` of the whole image when long labels were present."""
    from napari_tessella.nuclei._domes import _candidates

    labels = _elongated(1)
    want = _old_candidates(labels, 12.0)

    def refused(*args, **kwargs):
        raise AssertionError("np.indices of the whole image")

    monkeypatch.setattr(np, "indices", refused)
    assert np.array_equal(_candidates(labels, 12.0), want) and want.size


def test_dome_reads_erfc_imported_once():
    from scipy.special import erfc

    from napari_tessella.nuclei import _domes

    assert _domes.erfc is erfc
    assert "scipy.special" not in _domes._dome.__code__.co_names  # (no import in it)
