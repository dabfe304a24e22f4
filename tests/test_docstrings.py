"""The examples in the core's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["nuclei.diameter", "nuclei.watershed", "nuclei._recipe", "segmentation",
           "threshold", "measure", "tessellation", "lattice_analysis", "atoms", "_lazy",
           "params", "synthetic._nuclei", "synthetic._lattice", "_outside", "_finite", "_fills",
           "_numbers"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"napari_tessella.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"napari_tessella.{name} has no examples"
    assert result.failed == 0
