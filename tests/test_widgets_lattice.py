"""Lattice & Voronoi widget at scale: shared Voronoi ridges, the reused lattice."""

from __future__ import annotations

import time
import warnings

import numpy as np

from napari_tessella import lattice
from napari_tessella._widgets import LatticeWidget


def _jittered_grid_widget(viewer, n: int, seed: int):
    """An n x n square lattice (7 px, jitter 0.3 px) on an image just large enough, and the
    widget on both: (rng, points array, Points layer, widget)."""
    rng = np.random.default_rng(seed)
    r, c = np.meshgrid(np.arange(n) * 7.0 + 3, np.arange(n) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    image = viewer.add_image(np.zeros((7 * n, 7 * n)), name="blank")
    points = viewer.add_points(pts, name="grid")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    return rng, pts, points, widget


def test_lattice_rerun_reuses_the_lattice_only_for_the_same_points(viewer):
    _rng, pts, points, widget = _jittered_grid_widget(viewer, 12, 2)
    widget()  # no pixel map wanted: none made
    assert "grid Voronoi map" not in viewer.layers
    assert widget._last_lattice[3].voronoi_labels is None
    widget.pixel_map.value = True
    widget()  # the same points, but the map is new: a new lattice
    assert "reused" not in widget._status.value
    pixel = viewer.layers["grid Voronoi map"]
    expected = lattice(pts, (84, 84))
    pixel.data[:] = 7  # the user paints over the whole map
    widget()  # nothing changed: the lattice is reused, not the painted map
    assert "lattice reused" in widget._status.value
    # the painted map is the user's (kept, round 52); the run's map is written beside it
    assert (viewer.layers["grid Voronoi map"].data == 7).all()
    np.testing.assert_array_equal(viewer.layers["grid Voronoi map [1]"].data,
                                  expected.voronoi_labels)
    moved = pts.copy()
    moved[0] += 0.5  # one point moves: a new lattice
    points.data = moved
    widget()
    assert "reused" not in widget._status.value
    bonds = viewer.layers["grid Delaunay"]
    np.testing.assert_allclose(bonds.features["length"], lattice(moved).edge_lengths)
    widget.image.value = None  # other bounds: a new lattice too
    widget()
    assert "reused" not in widget._status.value


def test_lattice_rerun_on_moved_points_hands_the_last_lattice_over(viewer, monkeypatch):
    """Re-refined points (as many, moved a little): the last lattice goes to lattice() as
    ``previous``, and the outputs are those of a fresh lattice; other bounds: no."""
    from napari_tessella._widgets import lattice as lattice_widget

    handed = []

    def spy(*args, **kwargs):
        handed.append(kwargs.get("previous"))
        return lattice(*args, **kwargs)

    monkeypatch.setattr(lattice_widget, "lattice", spy)
    rng, pts, points, widget = _jittered_grid_widget(viewer, 14, 6)
    widget()
    first = widget._last_lattice[3]
    moved = pts + rng.normal(0, 0.05, pts.shape)
    points.data = moved
    widget()
    assert handed == [None, first]
    fresh = lattice(moved, (98, 98))
    assert not np.array_equal(fresh.edges, first.edges)  # the move changed the bonds
    bonds = viewer.layers["grid Delaunay"]
    np.testing.assert_array_equal(bonds.features[["start", "end"]].to_numpy(), fresh.edges)
    np.testing.assert_allclose(bonds.features["length"], fresh.edge_lengths)
    points.data = moved[:-1]  # a point fewer: from scratch
    widget()
    assert handed[-1] is None


def test_mesh_outputs_build_no_wireframe_until_it_is_shown(viewer, monkeypatch):
    """The meshes' wireframe filter (a barycentric array per triangle, rebuilt on every
    change of data) is detached while the wireframe is hidden, attached when shown."""
    from napari_tessella._widgets import _lattice_draw as lattice_widget

    monkeypatch.setattr(lattice_widget, "MESH_LIMIT", 100)
    monkeypatch.setattr(lattice_widget, "RIDGES_LIMIT", 100)
    _rng, _pts, _points, widget = _jittered_grid_widget(viewer, 12, 8)
    widget()
    bonds = viewer.layers["grid Delaunay"]
    node = viewer.window._qt_viewer.layer_to_visual[bonds].node
    assert not node.wireframe_filter.attached
    viewer.screenshot(canvas_only=True)  # drawn without it
    bonds.wireframe.visible = True
    assert node.wireframe_filter.attached
    faces = len(bonds.data[1])
    assert node.wireframe_filter._bc.size == 3 * faces  # its data made when shown
    viewer.screenshot(canvas_only=True)
    bonds.wireframe.visible = False
    assert not node.wireframe_filter.attached


def test_large_lattice_draws_each_voronoi_ridge_once(viewer, monkeypatch):
    from napari_tessella._widgets import _lattice_draw as lattice_widget
    from napari_tessella.tessellation import polygon_edges

    _rng, pts, _points, widget = _jittered_grid_widget(viewer, 15, 3)
    widget.geometry.value = "vectors (fast)"
    widget()
    per_cell = len(viewer.layers["grid Voronoi"].data)  # every cell's sides, inside it
    monkeypatch.setattr(lattice_widget, "RIDGES_LIMIT", 100)  # a "large" lattice
    widget()
    ridges = viewer.layers["grid Voronoi"]
    expected = lattice(pts, (105, 105))
    sides, cells = polygon_edges(expected.voronoi_polygons, return_cells=True)
    assert len(ridges.data) == len(sides) < per_cell
    table = ridges.features

    def canonical(starts, ends, first, other):
        """Rows (cells, mid-point, |extent|): orientation-free, sorted by cells and place."""
        pair = np.where(other[:, None] < 0, np.column_stack([first, other]),
                        np.sort(np.column_stack([first, other]), axis=1))
        rows = np.column_stack([pair, (starts + ends) / 2, np.abs(ends - starts)])
        return rows[np.lexsort(rows[:, :4].T[::-1])]

    # the same sides between the same cells, drawn in single precision
    drawn = np.asarray(ridges.data, dtype=np.float64)
    got = canonical(drawn[:, 0], drawn[:, 0] + drawn[:, 1], table["cell"].to_numpy(),
                    table["other_cell"].to_numpy())
    want = canonical(sides[:, 0], sides[:, 1], cells[:, 0], cells[:, 1])
    np.testing.assert_array_equal(got[:, :2], want[:, :2])
    np.testing.assert_allclose(got[:, 2:], want[:, 2:], rtol=1e-6, atol=1e-4)
    inner = table["other_cell"].to_numpy() >= 0
    area = expected.cell_areas
    np.testing.assert_allclose(table["cell_area"], area[table["cell"]])
    np.testing.assert_allclose(table["mean_area"][inner],
                               (area[table["cell"]][inner]
                                + area[table["other_cell"][inner]]) / 2)
    # coloured by that mean, on the legend's cell-area scale
    from napari.utils.colormaps import ensure_colormap

    ends = [table["mean_area"].idxmin(), table["mean_area"].idxmax()]
    np.testing.assert_allclose(ridges.edge_color[ends],
                               ensure_colormap("viridis").map(np.array([0.0, 1.0])), atol=0.01)
    assert "cell area: viridis" in widget.legend.value


def test_lattice_widget_triangulates_physical_positions_of_anisotropic_points(viewer):
    """A hexagonal lattice in nm on a (3, 1) nm Points layer: the bonds and cells are the
    hexagonal lattice's, not those of the squashed pixel grid."""
    a, size = 6.0, np.array([3.0, 1.0])
    i, j = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    phys = np.column_stack([(i * a * np.sqrt(3) / 2).ravel(),
                            (j * a + (i % 2) * a / 2).ravel()]) + a
    px = phys / size
    image = viewer.add_image(np.zeros((30, 70)), name="stem", scale=tuple(size), units="nm")
    points = viewer.add_points(px, name="hex", scale=tuple(size), units="nm")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget.geometry.value = "vectors (fast)"
    widget.pixel_map.value = True
    widget()
    bonds = viewer.layers["hex Delaunay"].features
    expected = lattice(phys)
    got = np.sort(np.column_stack([bonds["start"], bonds["end"]]), axis=1)
    np.testing.assert_array_equal(got, expected.edges)
    np.testing.assert_allclose(bonds["length"], expected.edge_lengths)
    interior = ~((i == 0) | (i == 7) | (j == 0) | (j == 7)).ravel()
    pixel = viewer.layers["hex Voronoi map"]
    counts = pixel.features.set_index("index")["neighbours"]
    assert np.all(counts.to_numpy()[1:][interior] == 6)
    areas = pixel.features["area"].to_numpy()[1:]
    np.testing.assert_allclose(areas[interior], np.sqrt(3) / 2 * a**2)
    # the pixel map: each pixel's physically nearest point
    np.testing.assert_array_equal(pixel.data, lattice(px, (30, 70), sampling=size).voronoi_labels)
    # the same points on square pixels give other bonds (the cache keys on the scale too)
    image.scale = points.scale = (1.0, 1.0)
    widget()
    assert "reused" not in widget._status.value
    assert len(viewer.layers["hex Delaunay"].features) != len(bonds) or not np.array_equal(
        np.sort(np.column_stack([viewer.layers["hex Delaunay"].features["start"],
                                 viewer.layers["hex Delaunay"].features["end"]]), axis=1), got)


def _click_run(widget, qtbot):
    widget._run_button.clicked()
    qtbot.waitUntil(lambda: widget._worker is None and not widget._stepping, timeout=30000)


def test_run_leaves_unchanged_outputs_alone_and_the_canvas_live(make_napari_viewer, qtbot):
    """Run holds the canvas while it writes (one paint), never leaves it held, and a re-run
    whose outputs equal what the layers show does not touch them (nor redraw them)."""
    viewer = make_napari_viewer(show=True)
    canvas = viewer.window._qt_viewer.canvas.native
    _rng, pts, points, widget = _jittered_grid_widget(viewer, 10, 5)
    widget.geometry.value = "vectors (fast)"
    _click_run(widget, qtbot)
    assert canvas.updatesEnabled()
    bonds, ridges = viewer.layers["grid Delaunay"], viewer.layers["grid Voronoi"]
    changes = []
    for layer in (bonds, ridges):
        layer.events.data.connect(lambda event: changes.append(event))
        layer.events.edge_color.connect(lambda event: changes.append(event))
    _click_run(widget, qtbot)  # nothing changed
    assert changes == [] and canvas.updatesEnabled()
    assert viewer.layers["grid Delaunay"] is bonds and "reused" in widget._status.value
    widget.triangles.value = False  # other outputs: the ridges stay as they are
    _click_run(widget, qtbot)
    assert changes == [] and canvas.updatesEnabled()
    widget.triangles.value = True
    points.data = pts + 0.5  # moved: both are written again
    _click_run(widget, qtbot)
    assert changes and canvas.updatesEnabled()
    expected = lattice(pts + 0.5, (70, 70))
    assert len(bonds.data) == len(expected.edges)
    np.testing.assert_allclose(bonds.data[:, 0], (pts + 0.5)[expected.edges[:, 0]], rtol=1e-6)


def test_drawing_failure_mid_run_releases_the_canvas(make_napari_viewer, qtbot, monkeypatch):
    from napari_tessella._widgets import _writing

    viewer = make_napari_viewer(show=True)
    canvas = viewer.window._qt_viewer.canvas.native
    rng = np.random.default_rng(6)
    pts = rng.uniform(2, 60, (80, 2))
    image = viewer.add_image(np.zeros((64, 64)), name="blank")
    points = viewer.add_points(pts, name="cloud")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget.pixel_map.value = True  # three outputs, all updated in place
    widget.geometry.value = "vectors (fast)"
    _click_run(widget, qtbot)
    calls = []
    real = _writing._update_in_place

    def second_fails(layer, data, meta):
        calls.append(layer.name)
        if len(calls) == 2:
            raise RuntimeError("refused")
        real(layer, data, meta)

    monkeypatch.setattr(_writing, "_update_in_place", second_fails)
    points.data = pts + 0.25
    _click_run(widget, qtbot)
    assert len(calls) == 2 and "could not be drawn" in widget._status.value
    assert canvas.updatesEnabled()


def test_cancel_while_the_outputs_are_written_is_not_a_false_cancelled(make_napari_viewer,
                                                                        qtbot):
    """Once the job returned, the layers are being written: Cancel is off, and a click that
    still reaches it does not claim 'nothing was written' while everything is."""
    viewer = make_napari_viewer(show=True)
    rng = np.random.default_rng(8)
    image = viewer.add_image(np.zeros((64, 64)), name="blank")
    points = viewer.add_points(rng.uniform(2, 60, (60, 2)), name="cloud")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget.pixel_map.value = True
    seen = []
    writing = widget._write_one

    def cancel_then_write(*args):
        seen.append(widget._cancel_button.enabled)
        widget.cancel()  # a click arriving between two layers
        return writing(*args)

    widget._write_one = cancel_then_write
    _click_run(widget, qtbot)
    assert seen == [False, False, False]
    assert {"cloud Delaunay", "cloud Voronoi", "cloud Voronoi map"} <= {
        layer.name for layer in viewer.layers}
    assert "cancel" not in widget._status.value and "points" in widget._status.value


def test_identical_rerun_leaves_shapes_and_their_display_settings(viewer):
    rng = np.random.default_rng(9)
    image = viewer.add_image(np.zeros((80, 80)), name="blank")
    points = viewer.add_points(rng.uniform(5, 75, (12, 2)), name="few")  # 'auto': Shapes
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget()
    triangles = viewer.layers["few Delaunay"]
    assert triangles._type_string == "shapes"
    triangles.blending = "additive"  # the user's display settings
    widget()
    assert viewer.layers["few Delaunay"] is triangles and triangles.blending == "additive"
    points.data = points.data + 1.0  # new points: new shapes, same place in the list
    widget()
    assert viewer.layers["few Delaunay"] is not triangles
    assert len(viewer.layers["few Delaunay"].data) == len(lattice(points.data).triangles)


def test_a_single_new_output_is_shown_on_a_held_canvas(make_napari_viewer, qtbot):
    """One output ticked: its layer is written hidden and shown in a later turn; the canvas
    stays held across both (else it paints the frame once without the layer, 0.4 s of CPU at
    100,000 points, then again with it)."""
    viewer = make_napari_viewer(show=True)
    canvas = viewer.window._qt_viewer.canvas.native
    rng = np.random.default_rng(9)
    image = viewer.add_image(np.zeros((64, 64)), name="blank")
    points = viewer.add_points(rng.uniform(2, 60, (60, 2)), name="cloud")
    widget = LatticeWidget(viewer)
    widget.points.value, widget.image.value = points, image
    widget.geometry.value = "vectors (fast)"
    widget.polygons.value = False  # the bonds only
    held_when_shown = []

    def watch(event):
        layer = event.value
        layer.events.visible.connect(
            lambda _event: held_when_shown.append(not canvas.updatesEnabled()))

    viewer.layers.events.inserted.connect(watch)
    _click_run(widget, qtbot)
    assert viewer.layers["cloud Delaunay"].visible
    assert held_when_shown == [True] and canvas.updatesEnabled()


def test_large_lattice_draws_bonds_and_ridges_as_meshes(viewer, monkeypatch, tmp_path):
    """Above MESH_LIMIT points, 'auto' draws each bond and ridge as a sliver (one
    triangle) of a Surface coloured by its value; the per-segment table is the layer's
    metadata and is exported; re-runs update the same layers, and leave them alone when
    nothing changed."""
    import pandas as pd

    from napari_tessella._widgets import _lattice_draw as lattice_widget

    monkeypatch.setattr(lattice_widget, "MESH_LIMIT", 100)
    monkeypatch.setattr(lattice_widget, "RIDGES_LIMIT", 100)
    rng, pts, points, widget = _jittered_grid_widget(viewer, 15, 4)
    widget()
    bonds, ridges = viewer.layers["grid Delaunay"], viewer.layers["grid Voronoi"]
    assert bonds._type_string == ridges._type_string == "surface"
    expected = lattice(pts, (105, 105))
    e = expected.edges

    def slivers(layer):
        vertices, faces, values = layer.data
        tri = np.asarray(vertices, float).reshape(-1, 3, 2)
        np.testing.assert_array_equal(faces, np.arange(3 * len(tri)).reshape(-1, 3))
        return tri, np.asarray(values, float).reshape(-1, 3)

    def widths(tri):  # distance of the third vertex from the segment's middle
        return np.hypot(*(tri[:, 2] - tri[:, :2].mean(axis=1)).T)

    tri, values = slivers(bonds)
    table = bonds.metadata["features"]
    np.testing.assert_array_equal(table[["start", "end"]].to_numpy(), e)
    np.testing.assert_allclose(table["length"], expected.edge_lengths)
    # each bond one sliver from point to point, its apex 0.5 px off its middle (as wide
    # there as the 0.5 px line it replaces), perpendicular to it, valued by its length
    np.testing.assert_allclose(tri[:, 0], pts[e[:, 0]], atol=1e-4)
    np.testing.assert_allclose(tri[:, 1], pts[e[:, 1]], atol=1e-4)
    np.testing.assert_allclose(widths(tri), 0.5, rtol=1e-4)
    along = ((tri[:, 1] - tri[:, 0]) * (tri[:, 2] - tri[:, :2].mean(axis=1))).sum(axis=1)
    np.testing.assert_allclose(along, 0, atol=1e-3)
    np.testing.assert_allclose(values, np.repeat(expected.edge_lengths[:, None], 3, 1),
                               rtol=1e-6)
    assert bonds.colormap.name == "turbo"
    lo, hi = np.percentile(expected.edge_lengths, [2, 98])
    np.testing.assert_allclose(bonds.contrast_limits, (lo, hi))
    # ridges: each once, between its two cells, valued by their mean area
    tri, values = slivers(ridges)
    table = ridges.metadata["features"]
    np.testing.assert_allclose(tri[:, :2], expected.voronoi_ridges, atol=1e-4)
    np.testing.assert_allclose(widths(tri), 0.4, rtol=1e-4)
    np.testing.assert_array_equal(table[["cell", "other_cell"]].to_numpy(),
                                  expected.ridge_cells)
    np.testing.assert_allclose(values[:, 0], table["mean_area"], rtol=1e-6)
    assert ridges.colormap.name == "viridis"
    # exported: one row per bond and per ridge, the same tables
    widget.export(tmp_path)
    saved = pd.read_csv(tmp_path / "grid_Delaunay.csv")
    np.testing.assert_allclose(saved["length"], expected.edge_lengths)
    assert len(pd.read_csv(tmp_path / "grid_Voronoi.csv")) == len(expected.voronoi_ridges)
    # same points: nothing rewritten; moved points: the same layers, new data
    seen = []
    bonds.events.data.connect(lambda event: seen.append(event))
    widget()
    assert not seen and viewer.layers["grid Delaunay"] is bonds
    moved = pts + rng.normal(0, 0.05, pts.shape)
    points.data = moved
    widget()
    assert viewer.layers["grid Delaunay"] is bonds and viewer.layers["grid Voronoi"] is ridges
    again = lattice(moved, (105, 105))
    np.testing.assert_allclose(bonds.metadata["features"]["length"], again.edge_lengths)
    tri, values = slivers(bonds)
    np.testing.assert_allclose(tri[:, 0], moved[again.edges[:, 0]], atol=1e-4)
    np.testing.assert_allclose(values[:, 0], again.edge_lengths, rtol=1e-6)
    # asked for as vectors: vectors at any size
    widget.geometry.value = "vectors (fast)"
    widget()
    assert viewer.layers["grid Delaunay"]._type_string == "vectors"


def test_docked_lattice_run_prints_no_private_access_warning(viewer, monkeypatch):
    """Docked from the Plugins menu the widget gets napari's public-only viewer proxy, which
    warns (FutureWarning) on private attributes: the canvas hold and the mesh wireframe
    reach the Qt view without printing that warning in the user's terminal at each Run."""
    from napari_tessella._widgets import _lattice_draw as lattice_widget

    monkeypatch.setattr(lattice_widget, "MESH_LIMIT", 100)
    monkeypatch.setattr(lattice_widget, "RIDGES_LIMIT", 100)
    rng = np.random.default_rng(3)
    r, c = np.meshgrid(np.arange(12) * 7.0 + 3, np.arange(12) * 7.0 + 3, indexing="ij")
    pts = np.column_stack([r.ravel(), c.ravel()]) + rng.normal(0, 0.3, (r.size, 2))
    viewer.add_image(np.zeros((84, 84)), name="blank")
    viewer.add_points(pts, name="grid")
    _dock, widget = viewer.window.add_plugin_dock_widget("napari-tessella", "Lattice & Voronoi")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        widget()
        viewer.screenshot(canvas_only=True)
    # the warning raised as an error would have stopped the drawing: both meshes are there
    assert isinstance(viewer.layers["grid Delaunay"].data, tuple)
    assert isinstance(viewer.layers["grid Voronoi"].data, tuple)


def test_moved_rerun_meshes_equal_a_fresh_runs(viewer, monkeypatch):
    """A re-run after the points moved (the last lattice updated by flips, the layers
    updated in place) draws the same meshes as a first run on those points: the same bond
    slivers vertex for vertex, the same ridges (in any order), the same values."""
    from napari_tessella._widgets import _lattice_draw as lattice_widget

    monkeypatch.setattr(lattice_widget, "MESH_LIMIT", 100)
    monkeypatch.setattr(lattice_widget, "RIDGES_LIMIT", 100)
    rng, pts, points, widget = _jittered_grid_widget(viewer, 20, 9)
    widget()
    moved = pts + rng.normal(0, 0.05, pts.shape)
    points.data = moved
    widget()
    fresh, _message, _legend = lattice_widget._lattice_outputs(
        lattice(moved, (140, 140), pixel_map=False), "grid", {}, "", (True, True, False),
        "auto", (1.0, 1.0))
    fresh = {role: data for role, (data, _meta, _kind) in fresh}
    bonds, ridges = viewer.layers["grid Delaunay"].data, viewer.layers["grid Voronoi"].data
    for mine, theirs in zip(bonds, fresh["triangles"], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert bonds[0].flags.f_contiguous  # as napari scans it fastest

    def rows(mesh):  # each sliver's ends (either way round) and its value, rows sorted
        vertices, _faces, values = mesh
        ends = np.asarray(vertices, np.float64).reshape(-1, 3, 2)[:, :2]
        a, b = ends[:, 0], ends[:, 1]
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        ends[swap] = ends[swap, ::-1]
        table = np.column_stack([ends.reshape(-1, 4), np.asarray(values)[::3]])
        return table[np.lexsort(np.round(table, 2).T[::-1])]

    np.testing.assert_allclose(rows(ridges), rows(fresh["polygons"]), atol=1e-4, rtol=1e-6)


def test_a_quick_run_changes_the_dock_only_at_its_ends(make_napari_viewer, qtbot,
                                                       monkeypatch):
    """Every change of the dock costs a repaint of the whole window (composed with the canvas
    through OpenGL), taken from the run: a run done within the progress delay shows neither
    the progress bar nor its stages; a slower one shows both, once the delay has passed."""
    from napari_tessella._widgets import _qt

    monkeypatch.setattr(_qt, "PROGRESS_DELAY_MS", 3000, raising=False)  # quick, even loaded
    viewer = make_napari_viewer(show=True)
    rng = np.random.default_rng(15)
    image = viewer.add_image(np.zeros((64, 64)), name="blank")
    points = viewer.add_points(rng.uniform(2, 60, (40, 2)), name="few")
    widget = LatticeWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.points.value, widget.image.value = points, image
    texts, shown = [], []
    for native, method, seen in ((widget._status.native, "setText", texts),
                                 (widget._progress.native, "setVisible", shown)):
        real = getattr(native, method)
        setattr(native, method, lambda value, real=real, seen=seen: (seen.append(value),
                                                                     real(value))[-1])
    _click_run(widget, qtbot)
    assert not any(shown) and not any("Triangulating" in text for text in texts)
    assert texts[-1].startswith("40 points")  # the run's result, written

    lattice = widget._lattice
    monkeypatch.setattr(_qt, "PROGRESS_DELAY_MS", 200, raising=False)

    def slow(*args, **kwargs):  # in the worker: longer than the delay
        time.sleep(0.8)
        return lattice(*args, **kwargs)

    widget._lattice = slow
    texts.clear()
    points.data = points.data + 0.25
    _click_run(widget, qtbot)
    assert True in shown and "Triangulating: Delaunay and Voronoi…" in texts
    assert not widget._progress.visible and texts[-1].startswith("40 points")
