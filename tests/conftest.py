"""Fixtures shared by the tests.

Real images come from ``../shared/data`` beside the repository (never from the network):
tests that need them skip with a clear reason when that folder is absent.
"""

from __future__ import annotations

import atexit
import faulthandler
import os
import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

# ../shared/data beside the repository; NAPARI_TESSELLA_SHARED_DATA points elsewhere
SHARED_DATA = Path(
    os.environ.get("NAPARI_TESSELLA_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
U2OS = SHARED_DATA / "coelho2009_u2os"


# A data fixture must come before make_napari_viewer in a test's arguments: a skip while
# setting up fixtures after the viewer breaks napari's fixture teardown.
def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (expected ../shared/data beside the "
                    "repository root)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _offline_data_cache(tmp_path_factory):
    """Point the plugin's downloader at a cache filled from ../shared/data: no downloads."""
    cache = tmp_path_factory.mktemp("tessella-data")
    if (SHARED_DATA / "NbW-STEM.png").exists():
        shutil.copy(SHARED_DATA / "NbW-STEM.png", cache / "NbW-STEM.png")
    if (U2OS / "images" / "dna-0.png").exists():
        shutil.copy(U2OS / "images" / "dna-0.png", cache / "dna-0.png")
    old = os.environ.get("NAPARI_TESSELLA_DATA")
    os.environ["NAPARI_TESSELLA_DATA"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("NAPARI_TESSELLA_DATA", None)
    else:
        os.environ["NAPARI_TESSELLA_DATA"] = old


@pytest.fixture
def stem_image() -> np.ndarray:
    """NbW-STEM.png as float64 in [0, 1], as the original recipe loads it."""
    from skimage.io import imread

    return imread(_need(SHARED_DATA / "NbW-STEM.png")).astype(np.float64) / 255.0


@pytest.fixture
def u2os_pair():
    """(image, hand labels) of U2OS dna-0."""
    from skimage.io import imread

    img = imread(_need(U2OS / "images" / "dna-0.png"))
    ref = imread(_need(U2OS / "labels" / "dna-0.png"))
    return img, ref


@pytest.fixture
def viewer(make_napari_viewer):
    """A real napari viewer, closed after the test (napari's own fixture)."""
    return make_napari_viewer()


@pytest.fixture
def held(monkeypatch):
    """The widgets' core calls wait (off the UI thread) until the test lets them go: the
    test changes the input while the run is surely in flight."""
    import napari_tessella._widgets.atoms as atoms_widget
    import napari_tessella._widgets.threshold_label as threshold_widget

    go = threading.Event()

    def holding(func):
        def wrapped(*args, **kwargs):
            go.wait(30)
            return func(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(threshold_widget, "threshold_label_finite",
                        holding(threshold_widget.threshold_label_finite))
    monkeypatch.setattr(atoms_widget, "_find_atoms_quietly",
                        holding(atoms_widget._find_atoms_quietly))
    return go


@pytest.fixture(scope="module")
def field():
    """A small generated fluorescence field (200 × 240, 14 nuclei of 28 px, seed 5), float64:
    the nuclei, Threshold & label and mosaic tests of the viewer use it."""
    from napari_tessella.synthetic import synthetic_nuclei

    return synthetic_nuclei((200, 240), n_nuclei=14, diameter=28.0, seed=5).image.astype(
        np.float64)


@pytest.fixture(scope="module")
def lattice_image():
    """A small generated HAADF-like lattice (64², spacing 8 px), float in [0, 1]."""
    from napari_tessella.synthetic import synthetic_lattice

    return synthetic_lattice((64, 64), spacing=8.0, seed=0).image


# Property-based tests (hypothesis) run under one fixed, small profile: the same examples
# on every run (derandomize), no deadline on slow shared machines, few examples so all of
# them together take well under a minute. HYPOTHESIS_PROFILE=tessella-long explores more.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass
else:
    settings.register_profile(
        "tessella", max_examples=25, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.register_profile("tessella-long", max_examples=500, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "tessella"))


# The end of a session with a Qt application in it. Python's finalization destroys PyQt's
# wrappers, napari's viewers and their OpenGL contexts in no set order, after pytest-xvfb
# (an atexit handler) has already stopped the X server they belong to. A CI run once ended
# in a segmentation fault there, after "1497 passed" was printed (exit 139); four runs of
# the same commit passed. So: the session waits for every widget's worker thread and closes
# the windows while the X server still runs; then, once pytest has said everything, the
# process stops the X server and ends with pytest's own exit status, without the
# finalization. A run without Qt (the core tests alone) ends as usual.
_SESSION = {}


@pytest.fixture(scope="module")
def cluster():
    """The address of a real dask.distributed cluster: two worker processes, one thread
    each, on 127.0.0.1 (an in-process cluster would hide pickling and graph size)."""
    import warnings

    distributed = pytest.importorskip("distributed")
    from napari_tessella import _lazy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None)
    try:
        yield cl.scheduler_address
    finally:
        client = _lazy._CLIENTS.pop(cl.scheduler_address, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if client is not None:
                client.close()
            cl.close()


def pytest_sessionfinish(session, exitstatus):
    _SESSION["status"] = int(exitstatus)
    if "qtpy" not in sys.modules:
        return
    from qtpy.QtCore import QThreadPool
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    QThreadPool.globalInstance().waitForDone(60_000)
    app.closeAllWindows()
    app.processEvents()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if "status" not in _SESSION or "qtpy" not in sys.modules:
        return
    # a fault from here on prints where it happened instead of a bare exit code
    faulthandler.enable(file=sys.__stderr__)
    atexit.register(_end_without_finalization, _SESSION["status"])  # runs first: LIFO


def _end_without_finalization(status: int) -> None:
    xvfb = sys.modules.get("pytest_xvfb")
    if xvfb is not None:
        xvfb.shutdown_xvfb()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(status)
