"""The module layering of docs/architecture.md, enforced: layers point down, no cycles.

Every import is counted, also those inside functions (an import moved into a function to
dodge a cycle is still a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "napari_tessella"
ROOT = "napari_tessella"

#: Layers from the bottom up; a module may import only modules of its own or lower layers
#: (and, within its own layer, never in a cycle).
LAYERS = [
    {"_version", "_validation", "_numbers", "_delaunay_flip", "_voronoi_cells"},
    {"_lazy", "_label_image", "_nearest_chunked", "_quantiles", "_tiff", "reading"},
    {"threshold", "_chunked_labels", "_outside", "_fills", "datasets", "synthetic",
     "synthetic._lattice", "synthetic._nuclei", "scoring", "_atoms_noise"},
    {"measure", "tessellation", "nuclei._resample", "_atoms_fit", "nuclei._cues",
     "nuclei._shape", "nuclei._merges", "nuclei._region_distances", "nuclei._edges",
     "nuclei._background", "nuclei._foreground",
     "nuclei._markers", "nuclei._outlines", "nuclei._crowd", "nuclei._small", "nuclei._dim",
     "nuclei._flat", "nuclei._shoulders", "nuclei._pairs", "nuclei._bisect", "nuclei._grow",
     "nuclei._join", "nuclei._bodies", "nuclei._between", "nuclei._holes", "nuclei._basins",
     "nuclei._missing", "nuclei._inscribed", "nuclei._seams",
     "nuclei._carve",
     "nuclei._ridge", "nuclei._glare", "nuclei._unflat", "nuclei._deblur", "nuclei._glows",
     "nuclei._orient", "nuclei._flux", "nuclei._slivers", "nuclei._params", "nuclei._body_edge",
     "nuclei._touching", "nuclei._condensed", "nuclei._saturated", "nuclei._glow_model",
     "nuclei._texture", "nuclei._own_peaks", "nuclei._long", "nuclei._specks",
     "nuclei._in_box", "nuclei._domes", "nuclei._spikes", "nuclei._hull"},
    {"segmentation", "atoms", "_atoms_detect", "_square", "lattice_analysis", "nuclei._recipe",
     "nuclei.diameter",
     "nuclei._windows", "nuclei._reach", "nuclei._stitch", "nuclei._chunked",
     "nuclei._chunk_task",
     "nuclei._chunked_fills",
     "nuclei.watershed", "nuclei"},
    {"export", "chunked", "_finite", "_fills_chunked"},
    {"recipes"},
    {"params"},
    {"__init__"},
    {"cli", "__main__", "_sample_data", "_widgets", "_widgets._layers", "_widgets._stacks",
     "_widgets._physical",
     "_widgets._qt", "_widgets._export", "_widgets._outputs", "_widgets._writing",
     "_widgets._seeds", "_widgets._in_place", "_widgets._errors",
     "_widgets._files", "_widgets._base",
     "_widgets._lattice_draw",
     "_widgets.threshold_label", "_widgets.watershed", "_widgets.lattice", "_widgets.atoms"},
]
#: Third-party GUI packages the core must never import.
GUI = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "superqt", "vispy")
GUI_MODULES = {"_sample_data", "__main__"} | {m for m in LAYERS[-1] if m.startswith("_widgets")}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path, source: str | None = None) -> tuple[set[str], set[str]]:
    """(package modules, top-level third-party packages) imported anywhere in a module."""
    tree = ast.parse(path.read_text() if source is None else source)
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if name != "__init__" else []
    base = here if is_pkg else here[:-1]
    inner, outer = set(), set()

    def add(target: list[str], names=()):
        # `from X import n` runs X first (for `from . import n` inside a package, the
        # package's own __init__), then X.n when n is a submodule: both are counted.
        dotted = ".".join(target)
        for n in names:
            full = f"{dotted}.{n}" if dotted else n
            if full in MODULES:
                inner.add(full)
        if dotted in MODULES:
            inner.add(dotted)
        elif not dotted:
            inner.add("__init__")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")
                if top[0] == ROOT:
                    add(top[1:])
                else:
                    outer.add(top[0])
        elif isinstance(node, ast.ImportFrom):
            names = [a.name for a in node.names]
            if node.level:
                start = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = start + (node.module.split(".") if node.module else [])
                add(target, names)
            elif node.module and node.module.split(".")[0] == ROOT:
                add(node.module.split(".")[1:], names)
            elif node.module:
                outer.add(node.module.split(".")[0])
    inner.discard(name)
    return inner, outer


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"module napari_tessella.{name} is in no layer of {__file__}: "
                         "place it in docs/architecture.md and in LAYERS")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_layer_and_imports_only_downwards(name):
    mine = _layer(name)
    upward = [m for m in GRAPH[name][0] if _layer(m) > mine]
    assert not upward, f"napari_tessella.{name} imports modules of a higher layer: {upward}"


def test_no_import_cycle():
    # Tarjan's strongly connected components over every import, function-level included
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v][0]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("name", sorted(set(MODULES) - GUI_MODULES))
def test_core_imports_no_gui(name):
    gui = sorted(GRAPH[name][1] & set(GUI))
    assert not gui, f"napari_tessella.{name} is core and imports {gui}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_files_are_readable_in_one_sitting(name):
    lines = MODULES[name].read_text().count("\n")
    assert lines <= 600, f"{MODULES[name]} has {lines} lines (at most 600)"


def test_the_graph_sees_function_level_imports():
    # a guard that this test can fail: the widgets import the core
    assert "recipes" in GRAPH["cli"][0]
    assert "_finite" in GRAPH["_widgets.threshold_label"][0]  # (the core's NaN reading)
    assert "magicgui" in GRAPH["_widgets._base"][1]


def test_the_graph_counts_the_package_a_from_import_runs():
    # `from . import _orient` inside nuclei/diameter.py runs the package nuclei's __init__,
    # which imports diameter: a cycle that reading it as "imports nuclei._orient" alone missed
    path = PACKAGE / "nuclei" / "diameter.py"
    inner, _ = _imports("nuclei.diameter", path, source="from . import _orient\n")
    assert inner == {"nuclei", "nuclei._orient"}
    inner, _ = _imports("nuclei.diameter", path, source="from ._orient import of_image\n")
    assert inner == {"nuclei._orient"}
