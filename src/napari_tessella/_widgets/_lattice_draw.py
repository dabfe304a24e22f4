"""How the Lattice & Voronoi widget draws: its LayerDataTuples (Shapes, Vectors or meshes
by size), colour ranges and their legend, colours through a table, vectors in single
precision, triangle meshes, and each Voronoi cell's sides or shared ridges."""

from __future__ import annotations

import numpy as np

from .._validation import counted
from ..tessellation import neighbour_counts, polygon_edges, triangle_longest_edges
from ._layers import _column_unit
from ._physical import _pixel

#: Above this many triangles, 'auto' draws geometry as Vectors. napari builds a Shapes
#: layer on the UI thread: measured under Xvfb on 2 shared cores, 100 triangles take 0.16 s,
#: 200 take 0.25 s and 400 take 0.3–0.7 s (the 2,725 of NbW-STEM 2.4 s), where Vectors of
#: any of these take under 0.02 s. Above ~150 triangles Shapes would block the UI > 0.2 s.
SHAPES_LIMIT = 150


#: Above this many points, Voronoi vectors are the ridges between cells, each drawn once and
#: coloured by the mean area of the two cells it separates, instead of every cell's own sides
#: drawn inside it in its own colour (twice the segments: 1.2 million triangles for 100,000
#: cells, which napari meshes and software OpenGL draws in about 1 s). Each cell's own area
#: stays in the ridges' features and in the pixel map's (hover).
RIDGES_LIMIT = 50_000

#: Above this many points, 'auto' draws the bonds and ridges as one triangle mesh each (a
#: napari Surface: one thin triangle per segment, the colour looked up
#: from each vertex's value on the GPU) instead of Vectors (which napari meshes on the UI
#: thread and vispy expands to six vertices per segment with a colour each): measured
#: under Xvfb at 300,000 bonds, 0.45-0.55 s of CPU from added to drawn against 0.7-1.0 s
#: (as quads; one triangle per segment is cheaper still: docs/tour.md, sixth round).
#: What each segment is (length, cells, areas) is in the layer's ``metadata["features"]``,
#: one row per segment, which Export writes; "vectors (fast)" keeps Vectors at any size.
MESH_LIMIT = RIDGES_LIMIT

_GEOMETRY = ["auto", "shapes (editable)", "vectors (fast)"]
LEGEND = {"triangles": ("edge length", "turbo"), "polygons": ("cell area", "viridis")}


def _in_layer_units(features: dict, geo: dict, lengths=(), areas=()) -> dict:
    """``features`` with each of its ``lengths`` and ``areas`` also under a name that says
    its unit, as Export names physical columns (``length_um``, ``area_um2``; ``_scaled``
    for a scale without a unit), equal to it: the lattice ran on physical positions, so
    its lengths and areas are in the layer's units already. Export added ``area_um2`` as
    ``area`` × a pixel's area (every cell 4 times too small at 0.5 µm pixels), and a
    ``length`` in µm read as the same column in pixels of the other widgets' tables.
    Plain pixels (no scale, no unit): nothing is added, as Export adds nothing."""
    if "scale" not in geo:  # no geometry given (scripts, benchmarks): pixels
        return features
    said = _column_unit(geo)
    if not said:
        return features
    added = {f"{name}_{said}": features[name] for name in lengths}
    added.update({f"{name}_{said}2": features[name] for name in areas})
    return {**features, **added}


def _colours(values: np.ndarray, colormap: str, limits) -> np.ndarray:
    """RGBA of ``values`` in ``colormap`` between ``limits``, through a 256-entry table.

    Vectors get their colours as an array rather than as a feature name and colormap:
    napari maps a feature again on every change of data, features or limits (three times
    per re-run), and one table lookup here is several times cheaper than its mapping."""
    from napari.utils.colormaps import ensure_colormap

    lo, hi = limits
    table = ensure_colormap(colormap).map(np.linspace(0.0, 1.0, 256)).astype(np.float32)
    with np.errstate(invalid="ignore"):
        index = np.rint(np.clip((np.asarray(values, float) - lo) / (hi - lo), 0, 1) * 255)
    return table[np.nan_to_num(index).astype(np.intp)]


def _drawn(vectors: np.ndarray) -> np.ndarray:
    """Vectors in single precision, as they are drawn: napari keeps their dtype, copies and
    scans them several times on the UI thread (extent, slice, thumbnail), and halves that
    work in float32 (1e-7 relative: 0.001 px at 10,000 px). Lengths and areas stay float64
    in the features, which is what the tables and exports give.

    In Fortran order: napari keeps the layout too, and its extent (a min and max over the
    first two axes, taken twice per refresh) then runs along contiguous memory, 50 times
    faster (0.04 s -> 0.001 s per call for 300,000 bonds; 0.1 s less per Run at 100,000
    points). Values, shape and indexing are the same."""
    return np.asfortranarray(vectors, dtype=np.float32)


def _segment_mesh(starts, ends, width: float, values):
    """Segments as a triangle mesh (napari Surface data): each one thin triangle from its
    start to its end, its third vertex ``width`` off the segment's middle (a sliver as wide
    as a ``width``-wide line at its middle, tapering to its ends), three vertices
    carrying its value; vertices and values in single precision. One triangle rather than
    a quad's two: vispy expands the mesh to three vertices per triangle, and uploads and
    draws each (software OpenGL), so the paint's cost follows the triangles (measured at
    300,000 bonds + 300,000 ridges: 0.3-0.4 s of CPU less per paint).
    The vertices in Fortran order, as :func:`_drawn` for the same reason: napari's extent
    of a Surface (a min and max per axis, several per refresh) then reads contiguous
    memory (0.06 s -> 0.0003 s per call for 1.2 million vertices)."""
    starts, ends = np.asarray(starts, np.float64), np.asarray(ends, np.float64)
    k = len(starts)
    # written straight into Fortran order: each coordinate's column, three per segment
    vertices = np.empty((3 * k, 2), dtype=np.float32, order="F")
    dy, dx = ends[:, 0] - starts[:, 0], ends[:, 1] - starts[:, 1]
    norm = np.hypot(dy, dx)
    norm[norm == 0] = 1.0
    scale = width / norm
    for axis, off in ((0, -dx * scale), (1, dy * scale)):
        column = vertices[:, axis].reshape(k, 3)  # a view: the column is contiguous
        column[:, 0], column[:, 1] = starts[:, axis], ends[:, axis]
        column[:, 2] = (starts[:, axis] + ends[:, axis]) / 2 + off
    faces = np.arange(3 * k, dtype=np.int32).reshape(-1, 3)
    return vertices, faces, np.repeat(np.asarray(values, np.float32), 3)


def _mesh_output(starts, ends, values, width, colormap, limits, features, meta):
    """A (data, meta, 'surface') LayerDataTuple drawing segments as a mesh coloured by
    ``values`` through ``colormap`` between ``limits``; one row per segment in
    ``metadata["features"]`` (a Surface's own features are one row per vertex)."""
    import pandas as pd

    return (_segment_mesh(starts, ends, width, values), {
        **meta, "colormap": colormap, "contrast_limits": tuple(limits), "shading": "none",
        "metadata": {"features": pd.DataFrame(features)},
    }, "surface")


def _cell_sides(polygons, points, inset: float = 0.88):
    """Every cell's sides as vectors, drawn a little inside the cell (towards its point) so
    that each cell's outline shows in its own colour; with the cell index of each side."""
    if len(polygons) == 0:
        return np.empty((0, 2, 2)), np.empty(0, dtype=np.int64)
    sizes = np.array([len(p) for p in polygons])
    cell = np.repeat(np.arange(len(polygons)), sizes)
    verts = np.concatenate(polygons)
    verts = points[cell] + inset * (verts - points[cell])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    nxt = np.arange(len(verts)) + 1
    nxt[np.cumsum(sizes) - 1] = starts
    return np.stack([verts, verts[nxt] - verts], axis=1), cell


def _shared_ridges(result, area):
    """Each ridge between two Voronoi cells once (and each side on the image border), as
    (starts, ends); features: the cells on both sides (-1 past the border), their areas and the
    mean of the two, which colours the ridge. The lattice's own ridges (read from its
    triangulation) when it has them: matching the sides of 100,000 polygons takes 0.2 s."""
    if result.voronoi_ridges is not None:
        sides, cells = result.voronoi_ridges, result.ridge_cells
    else:
        sides, cells = polygon_edges(result.voronoi_polygons, return_cells=True)
    own = area[cells[:, 0]]
    other = np.where(cells[:, 1] >= 0, area[cells[:, 1]], np.nan)
    features = {"cell": cells[:, 0], "other_cell": cells[:, 1],
                "mean_area": np.where(cells[:, 1] >= 0, (own + other) / 2, own),
                "cell_area": own, "other_area": other}
    return (sides[:, 0], sides[:, 1]), features


def _colour_range(values) -> tuple[tuple[float, float], tuple | None]:
    """Colour limits that ignore the few outliers (hull triangles, border cells: the 2nd to
    98th percentiles), and the legend's note when those are one value: ("all", v) when
    every value is v (a perfect grid: every triangle's longest edge, every inner cell's
    area), ("most", v) when all but a few are (the limits are then the values' full
    range). One value had the limits (v, v + 1) and the legend read "4.24 → 5.24 µm", a
    range no value had; now it is drawn in the colour map's middle colour."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return (0.0, 1.0), None
    lo, hi = (float(v) for v in np.percentile(values, [2, 98]))
    least, most = float(values.min()), float(values.max())
    tol = 1e-9 * max(abs(least), abs(most))  # equal but for rounding (a 0.1 nm grid)
    if hi - lo > tol:
        return (lo, hi), None
    if most - least > tol:
        return (least, most), ("most", lo)
    half = abs(lo) / 2 or 0.5
    return (lo - half, lo + half), ("all", lo)


def _num(value: float) -> str:
    """A legend's number: three figures, but "1130" rather than "1.13e+03" below 10⁶."""
    return f"{value:.0f}" if 1000 <= abs(value) < 1e6 else f"{value:.3g}"


def _legend_line(name: str, cmap: str, limits, note, unit: str, square: str) -> str:
    """"edge length: turbo 3 → 4.24 µm"; one value "longest edge: turbo, all 4.24 µm";
    all but a few one value "cell area: viridis 4.5 → 13.5 µm² (most 9 µm²)". Pixels say
    px. No-break spaces: a narrow dock wraps the line, never between a number and its unit
    ("505" at a line's end, "µm²" alone on the next) nor inside a range."""
    said = (unit or " px").replace(" ", "\u00a0") + square
    if note is not None and note[0] == "all":
        return f"{name}: {cmap}, all\u00a0{_num(note[1])}{said}"
    lo, hi = limits
    line = f"{name}: {cmap} {_num(lo)}\u00a0→\u00a0{_num(hi)}{said}"
    return line if note is None else f"{line} (most\u00a0{_num(note[1])}{said})"


def _lattice_outputs(result, name, geo, unit, want, geometry, sampling, ids=None):
    """LayerDataTuples for a LatticeResult (runs in the worker thread) computed with
    ``sampling``, the (row, column) pixel size in the unit of the lengths reported.
    ``ids``: a Labels input's object ids, one per point (its cells' ``label`` column)."""
    use_shapes = geometry == _GEOMETRY[1] or (
        geometry == _GEOMETRY[0] and len(result.triangles) <= SHAPES_LIMIT)
    use_mesh = geometry == _GEOMETRY[0] and len(result.points) > MESH_LIMIT
    # the lattice was computed with these pixel sizes: its bond lengths and cell
    # areas are in world units already
    pts = result.points
    world = pts * sampling
    e = result.edges
    length = result.edge_lengths
    area = result.cell_areas
    pixel = _pixel(geo)
    if pixel.oblique:  # a sheared or skewed layer: bonds and cells as napari draws them
        world = pts @ pixel.steps.T  # (the pixel sizes alone have the axes at right angles)
        length = np.linalg.norm(world[e[:, 1]] - world[e[:, 0]], axis=1)
        area = None if area is None else area * (pixel.area / (sampling[0] * sampling[1]))
    outputs = []
    limits, notes = {}, {}  # the colour range of each output role, and the legend's note

    def own(columns, cell=slice(None)):
        """``columns`` with the Labels input's object id of each cell, ``label`` (its
        ids need not be 1..n: without it a cell's row named no object)."""
        return columns if ids is None else {"label": np.asarray(ids)[cell], **columns}

    def robust(role, values):
        limits[role], notes[role] = _colour_range(values)
        return limits[role]

    if want[0]:
        bonds = _in_layer_units({"length": length, "start": e[:, 0], "end": e[:, 1]}, geo,
                                lengths=["length"])
        if use_shapes:
            tri = pts[result.triangles]
            longest = triangle_longest_edges(world, result.triangles)
            robust("triangles", longest)
            outputs.append(("triangles", (list(tri), {
                "name": f"{name} Delaunay", "shape_type": "polygon",
                "features": _in_layer_units({"longest_edge": longest}, geo,
                                            lengths=["longest_edge"]),
                "edge_color": "longest_edge", "edge_colormap": "turbo",
                "edge_contrast_limits": limits["triangles"],
                "face_color": "transparent", "edge_width": 0.5, **geo,
            }, "shapes")))
        elif use_mesh:
            robust("triangles", length)
            outputs.append(("triangles", _mesh_output(
                pts[e[:, 0]], pts[e[:, 1]], length, 0.5, "turbo", limits["triangles"],
                bonds, {"name": f"{name} Delaunay", **geo})))
        else:
            vectors = _drawn(np.stack([pts[e[:, 0]], pts[e[:, 1]] - pts[e[:, 0]]], axis=1))
            robust("triangles", length)
            outputs.append(("triangles", (vectors, {
                "name": f"{name} Delaunay", "vector_style": "line",
                "features": bonds,
                "edge_color": _colours(length, "turbo", limits["triangles"]),
                "edge_width": 0.5, **geo,
            }, "vectors")))
    if want[1]:
        neighbours = neighbour_counts(result.edges, len(pts))
        robust("polygons", area)
        if use_shapes:
            # copies: the widget may reuse this result, and Shapes can be edited
            outputs.append(("polygons", ([p.copy() for p in result.voronoi_polygons], {
                "name": f"{name} Voronoi", "shape_type": "polygon",
                "features": _in_layer_units({**own({}), "area": area,
                                             "neighbours": neighbours}, geo, areas=["area"]),
                "face_color": "area", "face_colormap": "viridis",
                "face_contrast_limits": limits["polygons"],
                "edge_color": "white", "edge_width": 0.3, "opacity": 0.5, **geo,
            }, "shapes")))
        else:
            if len(pts) > RIDGES_LIMIT:
                (starts, ends), features = _shared_ridges(result, area)
                features = _in_layer_units(features, geo,
                                           areas=["mean_area", "cell_area", "other_area"])
                colour_by = features["mean_area"]
                sides = None
            else:  # sides as (start, end - start)
                sides, cell = _cell_sides(result.voronoi_polygons, pts)
                starts, ends = sides[:, 0], sides[:, 0] + sides[:, 1]
                features = _in_layer_units(
                    {"cell": cell, **own({}, cell), "area": area[cell],
                     "neighbours": neighbours[cell]}, geo, areas=["area"])
                colour_by = features["area"]
            if use_mesh:
                outputs.append(("polygons", _mesh_output(
                    starts, ends, colour_by, 0.4, "viridis", limits["polygons"], features,
                    {"name": f"{name} Voronoi", **geo})))
            else:
                if sides is None:
                    sides = np.stack([starts, ends - starts], axis=1)
                outputs.append(("polygons", (_drawn(sides), {
                    "name": f"{name} Voronoi", "vector_style": "line", "features": features,
                    "edge_color": _colours(colour_by, "viridis", limits["polygons"]),
                    "edge_width": 0.4, **geo,
                }, "vectors")))
    if want[2] and result.voronoi_labels is not None:
        meta = {"name": f"{name} Voronoi map", "opacity": 0.4, **geo}
        index = np.r_[0, ids] if ids is not None else np.arange(len(pts) + 1)
        if want[1] and result.voronoi_labels.max() == index[-1]:
            # hovering a cell shows its area and neighbour count (a Labels input's map
            # holds its own ids: 1007, 1014, … had no features)
            meta["features"] = _in_layer_units({"index": index,
                                                "area": np.r_[np.nan, area],
                                                "neighbours": np.r_[0, neighbours]}, geo,
                                               areas=["area"])
        outputs.append(("pixel", (result.voronoi_labels, meta, "labels")))
    # Shapes colour each triangle by its longest edge (not each bond): said so
    said = {"triangles": "longest edge" if use_shapes else "edge length",
            "polygons": "cell area"}
    legend = {LEGEND[role][0]: (LEGEND[role][1], lim, said[role], notes[role])
              for role, lim in limits.items()}
    median = np.median(length)
    message = (f"{counted(len(pts), 'point')}, {counted(len(result.triangles), 'triangle')}, "
               f"{counted(len(result.edges), 'edge')}; median edge {median:.3g}"
               f"{unit or ' px'}")
    return outputs, message, legend
