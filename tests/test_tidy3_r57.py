"""Round 57's tidy (no label changes): one function reads a chunked fill as an outside
part, the dark objects' level of a chunked fill computed once, a pixel size's reason
asked once, and the r51 source check reading the labelling calls themselves."""

from __future__ import annotations

import numpy as np
import pytest
from _shapes import noisy_field
from scipy import ndimage as ndi

from napari_tessella import threshold_label_finite

TL = {"smooth_sigma": 2.0, "min_size": 30}


@pytest.fixture(scope="module")
def rotated():
    """A float field of 14 nuclei rotated 40° with a fill of 1500 in its corners."""
    return ndi.rotate(noisy_field(), 40, reshape=True, cval=1500.0, order=1)


# --- 1. one function reads a chunked fill as an outside part (both chunked paths)


@pytest.mark.parametrize("dark", [False, True])
def test_a_chunked_fills_part_is_memorys(rotated, dark):
    """``_outside.fill_part_lazy``: memory's box, count and values; the level the fill
    is given memory's (the 1st percentile of the pixels inside, the 99th as float64 for
    dark objects). Fails on the base (no such function: the two chunked paths each made
    it in their own dozen lines)."""
    import dask.array as da

    from napari_tessella._fills import _lines, fill_runs_lazy
    from napari_tessella._finite import whole_part
    from napari_tessella._outside import fill_part_lazy

    arr = da.from_array(rotated, chunks=96)
    fills = fill_runs_lazy(arr, [np.asarray(v) for v in _lines(rotated)])
    part, out = fill_part_lazy(arr, None, arr.shape, fills, dark=dark)
    memory = whole_part(rotated)
    assert part.box == memory.box and part.count == memory.count
    assert part.values == memory.values == (1500.0,) and part.kind == "fill"
    np.testing.assert_array_equal(out.compute(), memory.outside)
    inside = rotated[memory.box][~memory.outside]
    level = np.percentile(inside, 99.0) if dark else np.percentile(inside, 1.0)
    assert part.level == float(level)


# --- 2. the dark objects' level computed once; a pixel size's reason asked once


def _counted(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args[1:2])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


@pytest.mark.parametrize("dark", [False, True])
def test_a_chunked_fills_level_is_one_percentile(monkeypatch, rotated, dark):
    """Chunk by chunk, Threshold & label of a filled field computes one exact percentile
    of the pixels inside (the base computed the 1st for dark objects too, then the 99th
    it used: fails on the base with ``dark``), and its labels are memory's."""
    import dask.array as da

    from napari_tessella import _fills_chunked, _outside

    calls = [call for module in (_outside, _fills_chunked)  # (the base: the latter's)
             if hasattr(module, "percentile_lazy")
             for call in [_counted(monkeypatch, module, "percentile_lazy")]]
    params = {**TL, "dark_objects": dark}
    lazy = threshold_label_finite(da.from_array(rotated, chunks=96), **params)
    assert sum(map(len, calls)) == 1
    memory = threshold_label_finite(rotated, **params)
    np.testing.assert_array_equal(lazy.labels.compute(), memory.labels)
    assert lazy.said == memory.said


def test_a_pixel_sizes_reason_is_asked_once(monkeypatch):
    """``number_pair`` asks why a pixel size is refused once and says it (fails on the
    base: asked twice)."""
    import sys

    from napari_tessella import _validation

    home = sys.modules[_validation.number_pair.__module__]  # (round 57: ``_numbers``)
    calls = _counted(monkeypatch, home, "pixel_size_reason")
    with pytest.raises(ValueError, match="a pixel size must be 1e-100 to 1e"):
        _validation.number_pair((1e-200, 1.0), "scale", nonzero=True)
    assert len(calls) == 1
    calls.clear()
    assert _validation.number_pair((0.5, 0.25), "scale", nonzero=True) == (0.5, 0.25)
    assert len(calls) == 1


def test_the_cli_asks_a_pixel_sizes_reason_once(monkeypatch, tmp_path, capsys):
    """The command line refuses ``--pixel-size 1e-200`` in the same words, asking why
    once (fails on the base: asked twice)."""
    from napari_tessella import cli

    calls = _counted(monkeypatch, cli, "pixel_size_reason")
    image = tmp_path / "a.npy"
    np.save(image, np.zeros((20, 20)))
    code = cli.main(["threshold-label", str(image), "--out", str(tmp_path / "out"),
                     "--pixel-size", "1e-200"])
    assert code == cli.EXIT_USAGE
    assert "--pixel-size 1e-200: a pixel size must be 1e-100 to 1e+100" in capsys.readouterr().err
    assert len(calls) == 1


# --- 3. the r51 check reads the labelling calls, not the text

_PICKED = [  # labellings that pick their structure by the input's dimensions
    "from scipy import ndimage as ndi\n"
    "def f(mask):\n    return ndi.label(mask, _EIGHT if mask.ndim == 2 else None)\n",
    "import numpy as np\nfrom scipy import ndimage as ndi\n"
    "def f(mask):\n    eight = np.ones((3, 3), bool) if mask.ndim == 2 else None\n"
    "    return ndi.label(mask, structure=eight)\n",
    "import numpy as np\nimport scipy.ndimage\n"
    "def f(m):\n    return scipy.ndimage.label(\n        m,\n"
    "        structure=np.ones((3,) * 2) if len(m.shape) == 2 else None)\n",
    "from scipy.ndimage import label as lab\n"
    "def f(m, s):\n    return lab(m, s if m.ndim == 3 else None)\n",
    "from skimage.measure import label\n"
    "def f(mask):\n    return label(mask, connectivity=2 if mask.ndim == 2 else None)\n",
    "from skimage import measure\n"
    "def f(mask):\n    return measure.label(mask, 0, False, 1 if mask.ndim > 2 else 2)\n",
    "from ._label_image import _FOUR\n",  # (an old constant, whatever it labels)
    "from scipy import ndimage as ndi\n_EIGHT = None\n"
    "def f(mask):\n    return ndi.label(mask)\n",
]
_UNRELATED = [  # what a text search read as one
    "def _plane(arr):\n    return (arr, arr) if arr.ndim == 2 else None\n",
    '"""Not ``ndi.label(m, _EIGHT if m.ndim == 2 else None)``: say _FOUR."""\n'
    "# structure = _EIGHT if mask.ndim == 2 else None\n",
    "from scipy import ndimage as ndi\n"
    "def f(mask):\n    plane = mask if mask.ndim == 2 else None\n"
    "    return ndi.label(mask, _structure(mask.ndim)), plane\n",
    "import numpy as np\nfrom scipy import ndimage as ndi\n"
    "def f(mask, mode):\n    eight = np.ones((3, 3), bool) if mode else None\n"
    "    return ndi.label(mask, structure=eight)\n",
    "from skimage.measure import label\n"
    "def f(mask):\n    return label(mask, background=0, connectivity=2)\n",
    "def label(a, b):\n    return a\n"  # (not a labelling: a function of the module's own)
    "def f(m):\n    return label(m, 2 if m.ndim == 2 else 1)\n",
]


@pytest.mark.parametrize("source", _PICKED)
def test_the_labelling_check_fails_on_a_structure_picked_by_dimensions(source):
    """The r51 check still finds what it guards (each snippet a labelling whose
    structure or connectivity a conditional on the input's dimensions picks, or an old
    constant): fails if ``dimension_picked_labellings`` misses one."""
    from test_nuclei_mend_r51 import dimension_picked_labellings

    assert dimension_picked_labellings(source), source


@pytest.mark.parametrize("source", _UNRELATED)
def test_the_labelling_check_passes_unrelated_text(source):
    """...and no longer trips on text that is no such labelling: the line round 56 had
    to rewrite, docstrings and comments, a labelling with ``_structure``, a structure
    picked by something else. The base's text search read the first three as one (fails
    on the base: it has no ``dimension_picked_labellings``)."""
    from test_nuclei_mend_r51 import dimension_picked_labellings

    assert not dimension_picked_labellings(source), source
