"""Scoring the same fields with this tree and, in a subprocess, with another tree's package
(the ``--against SRC`` of the nuclei benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def score_both(arrays: dict, script: str, score, against=None):
    """``(ours, other)``: ``score(path)`` of the ``arrays`` saved in a temporary ``.npz``,
    and the same by ``script --score PATH`` run with ``PYTHONPATH=against`` (None when
    ``against`` is not given). The fields are made once, here, for both trees."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fields.npz"
        np.savez(path, **arrays)
        other = None
        if against:
            env = {**os.environ, "PYTHONPATH": against}
            run = subprocess.run([sys.executable, script, "--score", str(path)], env=env,
                                 capture_output=True, text=True, check=True)
            other = json.loads(run.stdout)
        return score(path), other


def segmented(path):
    """``(name, data, labels, cpu)`` for each field ``image|NAME`` saved in ``path``: the
    defaults' labels of this interpreter's package and their CPU seconds."""
    import time

    from napari_tessella.nuclei import seeded_watershed

    data = np.load(path)
    for key in data.files:
        if key.startswith("image|"):
            t0 = time.process_time()
            labels = seeded_watershed(data[key]).labels
            yield key[len("image|"):], data, labels, time.process_time() - t0
