"""What the nuclei tests take from the benchmark scripts: their field generators (the
scripts are not a package, so each is loaded from its file, once) and the best match of a
true nucleus among the labels, the turns of a field, whether two label images hold the
same objects, the pixels of each true nucleus under each label, the default
segmentation's score on a challenge-like dense field, a field of nuclei on a broad
illumination bump, and the debris specks a segmentation left on the image border; and two
checks of a step of the recipe: how often it is called on an image, and whether the
chunked path gives the in-memory labels."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from napari_tessella.nuclei import score_segmentation, seeded_watershed
from napari_tessella.nuclei._orient import TURNS

_SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks"
_LOADED: dict = {}

#: four of the plane's turns (the identity first): enough to catch a decision taken in
#: raster order or by label id
FOUR_TURNS = {name: TURNS[name] for name in ("as given", "flipud", "fliplr", "transpose")}


def benchmark(name: str):
    """The module of ``benchmarks/<name>.py``."""
    if name not in _LOADED:
        spec = importlib.util.spec_from_file_location(name, _SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED[name] = module
    return _LOADED[name]


def turned(arrays, turn: str) -> tuple:
    """Each of ``arrays`` (an image and its truth, say) turned by ``FOUR_TURNS[turn]``."""
    return tuple(np.ascontiguousarray(FOUR_TURNS[turn](a)) for a in arrays)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """The same objects (ids aside) and the same background."""
    if a.shape != b.shape or not np.array_equal(a > 0, b > 0):
        return False
    fg = a > 0
    pairs = np.unique(np.stack([a[fg], b[fg]]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


def same_territories(lazy, memory) -> bool:
    """The same nuclei (ids aside) and each pixel in the territory of the same nucleus
    (0: none) in a chunked watershed's result ``lazy`` as in memory's ``memory``."""
    labels, territories = lazy.labels.compute(), lazy.territories.compute()
    if not same_partition(labels, memory.labels):
        return False
    fg = memory.labels > 0
    lut = np.zeros(max(int(labels.max()), int(territories.max())) + 1, np.int64)
    lut[labels[fg]] = memory.labels[fg]
    return np.array_equal(lut[territories], memory.territories)


def pixel_table(labels: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Pixels per (truth id, label id): row ``t`` column ``l`` counts the pixels of truth
    nucleus ``t`` under label ``l``, indexed by the ids themselves (0 the background), not
    compacted as ``score_segmentation``'s table is."""
    shape = (int(truth.max()) + 1, int(labels.max()) + 1)
    flat = np.ravel_multi_index((truth.ravel(), labels.ravel()), shape)
    return np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape)


def bump_field(seed: int, d: int = 16, amp: float = 600.0, width: float = 2.5,
               count: int = 30) -> tuple:
    """A field of ``count`` disc nuclei of diameter ``d`` (contrast 80 over a background of
    100) on a broad smooth illumination bump: a Gaussian of amplitude ``amp`` and sigma
    ``width * d`` in the middle of a ``16 d`` square field, with Poisson noise (round 44's
    bump fields). Returns the image (float32) and its truth labels."""
    side = 16 * d
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side].astype(float)
    truth = np.zeros((side, side), np.int32)
    centres = []
    while len(centres) < count:
        c = rng.uniform(d, side - d, 2)
        if all(np.hypot(*(c - e)) > 1.6 * d for e in centres):
            centres.append(c)
    for i, (r, c) in enumerate(centres, 1):
        truth[(yy - r) ** 2 + (xx - c) ** 2 <= (d / 2) ** 2] = i
    s = width * d
    bump = amp * np.exp(-((yy - side / 2) ** 2 + (xx - side / 2) ** 2) / (2 * s * s))
    signal = ndi.gaussian_filter((truth > 0) * 80.0, 1.0)
    return rng.poisson(100 + bump + signal).astype(np.float32), truth


def iou_of_best(labels: np.ndarray, own: np.ndarray) -> float:
    """IoU of the true nucleus ``own`` (a mask) with the label covering most of it (0
    when that is the background)."""
    ids, counts = np.unique(labels[own], return_counts=True)
    best = ids[np.argmax(counts)]
    if best == 0:
        return 0.0
    return np.count_nonzero(own & (labels == best)) / np.count_nonzero(own | (labels == best))


def dense_score(seed: int, psf: float = 2.0) -> dict:
    """:func:`score_segmentation` of the defaults on the challenge-like dense field
    ``seed`` blurred by ``psf`` (``benchmarks/nuclei_dense_heldout.py``)."""
    image, truth = benchmark("nuclei_dense_heldout").challenge_field(seed, psf=psf)
    return score_segmentation(seeded_watershed(image).labels, truth)


def calls_of(monkeypatch, module, name: str) -> list:
    """A list that gets one entry per call of ``module.name`` from now on (the test's)."""
    calls = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def step_calls(monkeypatch, module, name: str, image) -> list:
    """One entry per call of ``module.name`` while ``image`` is segmented by default."""
    calls = calls_of(monkeypatch, module, name)
    seeded_watershed(image)
    return calls


def chunked_as_in_memory(image, chunks=(128, 160)) -> bool:
    """Whether the chunked path (windows of ``chunks``, one thread) gives the in-memory
    labels of ``image`` (the same objects)."""
    import dask

    from napari_tessella.nuclei import seeded_watershed_chunked

    memory = seeded_watershed(image).labels
    with dask.config.set(scheduler="synchronous"):
        chunked = seeded_watershed_chunked(image, chunks=chunks).labels.compute()
    return same_partition(memory, chunked)


def border_specks_left(result, truth):
    """Sizes of the labels on the image border under a quarter of the minimum size with
    under 10 % of their pixels on a nucleus."""
    labels = result.labels
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    sizes = []
    for i in edge[edge > 0]:
        own = labels == i
        if (np.count_nonzero(own) < 0.25 * result.min_size
                and np.count_nonzero(truth[own]) < 0.1 * np.count_nonzero(own)):
            sizes.append(int(own.sum()))
    return sizes
