"""What the nuclei tests take from the benchmark scripts: their field generators (the
scripts are not a package, so each is loaded from its file, once) and the best match of a
true nucleus among the labels."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

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


def iou_of_best(labels: np.ndarray, own: np.ndarray) -> float:
    """IoU of the true nucleus ``own`` (a mask) with the label covering most of it (0
    when that is the background)."""
    ids, counts = np.unique(labels[own], return_counts=True)
    best = ids[np.argmax(counts)]
    if best == 0:
        return 0.0
    return np.count_nonzero(own & (labels == best)) / np.count_nonzero(own | (labels == best))
