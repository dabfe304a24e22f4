"""The Lattice & Voronoi widget: Delaunay triangles, Voronoi cells and the pixel Voronoi map
of a Points (or Labels) layer."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Label

from ..tessellation import lattice, neighbour_counts, triangle_longest_edges
from ._base import _DockWidget
from ._lattice_draw import (
    _cell_sides,
    _colour_range,
    _colours,
    _drawn,
    _legend_line,
    _mesh_output,
    _shared_ridges,
)
from ._layers import (
    _current_plane,
    _geometry,
    _image_of,
    _image_shape,
    _layer_choices,
    _pixel_size,
    _plane,
    _points_in_pixels,
    _unit,
    _unit_name,
)
from ._qt import _gradient_css, _solid_css, _wrapping
from ._stacks import _on_plane, _plane_text, _planes_with_points

if TYPE_CHECKING:
    import napari

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
_IMAGE_TIP = "Clip the Voronoi diagram to this image and make the pixel Voronoi map."
LEGEND = {"triangles": ("edge length", "turbo"), "polygons": ("cell area", "viridis")}


def _lattice_outputs(result, name, geo, unit, want, geometry, sampling):
    """LayerDataTuples for a LatticeResult (runs in the worker thread) computed with
    ``sampling``, the (row, column) pixel size in the unit of the lengths reported."""
    use_shapes = geometry == _GEOMETRY[1] or (
        geometry == _GEOMETRY[0] and len(result.triangles) <= SHAPES_LIMIT)
    use_mesh = geometry == _GEOMETRY[0] and len(result.points) > MESH_LIMIT
    # the lattice was computed with these pixel sizes: its bond lengths and cell
    # areas are in world units already
    pts = result.points
    world = pts * sampling
    e = result.edges
    length = result.edge_lengths
    outputs = []
    limits, notes = {}, {}  # the colour range of each output role, and the legend's note

    def robust(role, values):
        limits[role], notes[role] = _colour_range(values)
        return limits[role]

    if want[0]:
        if use_shapes:
            tri = pts[result.triangles]
            longest = triangle_longest_edges(world, result.triangles)
            robust("triangles", longest)
            outputs.append(("triangles", (list(tri), {
                "name": f"{name} Delaunay", "shape_type": "polygon",
                "features": {"longest_edge": longest},
                "edge_color": "longest_edge", "edge_colormap": "turbo",
                "edge_contrast_limits": limits["triangles"],
                "face_color": "transparent", "edge_width": 0.5, **geo,
            }, "shapes")))
        elif use_mesh:
            robust("triangles", length)
            outputs.append(("triangles", _mesh_output(
                pts[e[:, 0]], pts[e[:, 1]], length, 0.5, "turbo", limits["triangles"],
                {"length": length, "start": e[:, 0], "end": e[:, 1]},
                {"name": f"{name} Delaunay", **geo})))
        else:
            vectors = _drawn(np.stack([pts[e[:, 0]], pts[e[:, 1]] - pts[e[:, 0]]], axis=1))
            robust("triangles", length)
            outputs.append(("triangles", (vectors, {
                "name": f"{name} Delaunay", "vector_style": "line",
                "features": {"length": length, "start": e[:, 0], "end": e[:, 1]},
                "edge_color": _colours(length, "turbo", limits["triangles"]),
                "edge_width": 0.5, **geo,
            }, "vectors")))
    if want[1]:
        area = result.cell_areas
        neighbours = neighbour_counts(result.edges, len(pts))
        robust("polygons", area)
        if use_shapes:
            # copies: the widget may reuse this result, and Shapes can be edited
            outputs.append(("polygons", ([p.copy() for p in result.voronoi_polygons], {
                "name": f"{name} Voronoi", "shape_type": "polygon",
                "features": {"area": area, "neighbours": neighbours},
                "face_color": "area", "face_colormap": "viridis",
                "face_contrast_limits": limits["polygons"],
                "edge_color": "white", "edge_width": 0.3, "opacity": 0.5, **geo,
            }, "shapes")))
        else:
            if len(pts) > RIDGES_LIMIT:
                (starts, ends), features = _shared_ridges(result, area)
                colour_by = features["mean_area"]
                sides = None
            else:  # sides as (start, end - start)
                sides, cell = _cell_sides(result.voronoi_polygons, pts)
                starts, ends = sides[:, 0], sides[:, 0] + sides[:, 1]
                features = {"cell": cell, "area": area[cell], "neighbours": neighbours[cell]}
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
        if want[1] and result.voronoi_labels.max() == len(pts):
            # hovering a cell shows its area and neighbour count
            meta["features"] = {"index": np.arange(len(pts) + 1),
                                "area": np.r_[np.nan, area],
                                "neighbours": np.r_[0, neighbours]}
        outputs.append(("pixel", (result.voronoi_labels, meta, "labels")))
    # Shapes colour each triangle by its longest edge (not each bond): said so
    said = {"triangles": "longest edge" if use_shapes else "edge length",
            "polygons": "cell area"}
    legend = {LEGEND[role][0]: (LEGEND[role][1], lim, said[role], notes[role])
              for role, lim in limits.items()}
    median = np.median(length)
    message = (f"{len(pts)} points, {len(result.triangles)} triangles, "
               f"{len(result.edges)} edges; median edge {median:.3g}{unit or ' px'}")
    return outputs, message, legend


def _axes_note(geo: dict, sampling) -> str:
    """'' for pixels within 100:1 of square (in the sample: rows of 1000 nm and columns of
    1 µm are square); else what the lattice makes of the layer's axes: rows in Å and columns
    in furlongs are both lengths, converted, but a pixel is then 5e-13 times as tall as
    wide and every lattice lies on one line."""
    units = [str(u) for u in geo.get("units", ())[-2:]]
    (sy, sx), ratio = sampling, sampling[0] / sampling[1] if sampling[1] else np.inf
    mixed = len(set(units)) > 1
    if 0.01 <= ratio <= 100:
        return ""
    said = [_unit_name((u,)) or "pixels" for u in units]
    rows = f"rows are in {said[0]} and its columns in {said[1]}" if mixed else (
        "pixels are far from square")
    return (f"The layer's {rows}: a pixel is {sy:.3g} × {sx:.3g}{_unit_of(units)} (row × "
            f"column), {ratio:.3g} times as tall as it is wide in the sample.")


def _unit_of(units) -> str:
    name = _unit_name(units) if units else ""
    return f" {name}" if name else ""


def _inside(points, shape, source: str, image: str) -> None:
    """Refuse points outside the image for the bounds, naming it: the core's "outside the
    image of shape (128, 128)" did not say which image the widget had taken."""
    finite = np.isfinite(points).all(axis=1)  # NaN: the core's own message
    with np.errstate(invalid="ignore"):
        out = finite & ~np.all((points >= -0.5) & (points <= np.array(shape) - 0.5), axis=1)
    if out.any():
        raise ValueError(
            f"{int(out.sum())} of the {len(points)} points of {source} lie outside the "
            f"image {image!r} ({shape[0]} × {shape[1]} pixels) chosen for the bounds: "
            "choose the image they were found on, or no image.")


def _same(a, b) -> bool:
    """Whether two optional arrays are both None or equal in shape, type and values."""
    if a is None or b is None:
        return a is b
    b = np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


class LatticeWidget(_DockWidget):
    """Points (or Labels) → Delaunay triangles, Voronoi polygons, pixel Voronoi map."""

    _progress_text = "Triangulating"

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image, Labels, Points

        self.points = ComboBox(
            label="points or labels",
            choices=_layer_choices(napari_viewer, Points, Labels),
            tooltip="Lattice points (e.g. the centers from Threshold & label) or a Labels layer.",
        )
        self.image = ComboBox(
            label="image (for bounds)", nullable=True,
            choices=_layer_choices(napari_viewer, Image),
            tooltip=_IMAGE_TIP,
        )
        self.triangles = CheckBox(text="Delaunay triangles", value=True)
        self.polygons = CheckBox(text="Voronoi polygons", value=True)
        self.triangles.tooltip = "Bonds between neighbours, coloured by length."
        self.polygons.tooltip = (
            "The cell of every point, coloured by area. As vectors, each cell's sides are "
            f"drawn inside it in its colour; above {RIDGES_LIMIT:,} points each ridge is drawn "
            "once, coloured by the mean area of its two cells (each cell's area: the ridges' "
            "features, or hover the pixel map).")
        self.pixel_map = CheckBox(
            text="pixel Voronoi map", value=False,
            tooltip="A Labels layer giving every pixel its nearest point, on the image's grid "
                    "(or a Labels input's own; drawn under the other outputs).")
        self.geometry = ComboBox(
            label="draw as", choices=_GEOMETRY, value="auto",
            tooltip="Shapes can be selected and edited but napari builds them on the UI "
                    f"thread (~1 ms each); vectors draw any number of bonds and cell sides at "
                    f"once. 'auto' uses shapes up to {SHAPES_LIMIT} triangles, and above "
                    f"{MESH_LIMIT:,} points draws bonds and ridges as a mesh (a Surface, "
                    "fastest; each segment's values in its metadata and exports).",
        )
        self.legend = Label(value="", tooltip="The colour scales of the last run.")
        _wrapping(self.legend.native)  # as the status line: never widens the dock
        self._bars = {what: Label(value="", label=what) for what in ("edge length",
                                                                     "cell area")}
        for bar in self._bars.values():
            bar.visible = False
            bar.native.setMinimumWidth(160)
        super().__init__(
            napari_viewer, [self.points, self.image, self.triangles, self.polygons,
                            *self._bars.values(), self.legend],
            advanced=[self.pixel_map, self.geometry],
        )
        self.label = "Lattice & Voronoi"
        # Until the user picks the input or runs the widget, it follows the newest Points
        # layer (the centres another widget just made); from then on it stays put.
        self._user_chose = False
        self._picking = False
        # the user picked (or ran on) the image, or emptied its box: kept (an empty box is
        # the user's choice of the points' own bounds, not a box to fill)
        self._image_chosen = False
        self._image_by_hand = False  # an image picked in its box: new points do not change it
        # (shape, points, labels, result) of the last lattice, copies the layers never see
        self._last_lattice = None
        self.points.changed.connect(self._points_chosen)
        self.image.changed.connect(self._image_chosen_now)
        self.points.changed.connect(self._image_use)
        self._pick_defaults(follow=True)
        self._image_use()

    _input_field = "points"
    _stacks = False  # a 3-D Points layer: the shown plane's points (see _prepare)

    def _points_chosen(self, *_):
        """The user picked the points: the image for the bounds comes with them (the one
        placed as they are), unless the user picked the image by hand."""
        from napari.layers import Image, Points

        if self._picking:
            return
        self._user_chose = True
        new = self.points.value
        if self._image_by_hand or not isinstance(new, Points):
            return
        match = _image_of(new, [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)])
        if match is not None and match is not self.image.value:
            self._picking = True
            try:
                self.image.value = match
            finally:
                self._picking = False
            self._image_chosen = False

    def _image_chosen_now(self, *_):
        if not self._picking:  # an image, or the empty entry: the user's either way
            self._image_chosen = True
            self._image_by_hand = self.image.value is not None

    def _image_use(self, *_):
        """A Labels input sets its own bounds, pixel map and unit: the image box is then
        not read, and is disabled saying so rather than showing an image as if it were."""
        from napari.layers import Labels

        labels = isinstance(self.points.value, Labels)
        self.image.enabled = not labels
        self.image.tooltip = (_IMAGE_TIP if not labels else "Not used with a Labels input: "
                              "the bounds and the pixel map are the labels' own.")

    def _refresh_choices(self, event=None):
        if not hasattr(self, "_user_chose"):  # during __init__
            return super()._refresh_choices(event)
        chosen, image = self.points.value, self.image.value
        self._picking = True  # the ComboBox's own fallback is no choice of the user's
        try:
            super()._refresh_choices(event)
        finally:
            self._picking = False
        lost = chosen is not None and chosen not in self._viewer.layers
        if lost:
            self._user_chose = False  # the user's layer is gone: follow the newest again
        if image is not None and image not in self._viewer.layers:
            self._image_chosen = self._image_by_hand = False
        self._pick_defaults(follow=not self._user_chose)
        if lost:
            self._pair_after_loss(chosen.name)

    def _pair_after_loss(self, lost: str):
        """The points deleted, the newest ones taken instead: their own image for the
        bounds (placed as they are, preferring the one whose name they carry), or none,
        never the deleted points' image (the new points would be read as its pixels), and
        the user told."""
        from napari.layers import Image, Points

        new = self.points.value
        imgs = [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)]
        match = _image_of(new, imgs) if isinstance(new, Points) else self.image.value
        if self.image.value is not match:
            self._picking = True
            try:
                self.image.value = match
            finally:
                self._picking = False
        self._image_chosen = self._image_by_hand = False
        if new is None:
            self._status.value = f"{lost!r} was deleted: choose a Points or Labels layer."
        elif isinstance(new, Points):
            bounds = (f"the image {match.name!r} (placed as they are) for the bounds"
                      if match is not None else
                      "no image for the bounds (none is placed as these points are)")
            self._status.value = f"{lost!r} was deleted: now {new.name!r}, with {bounds}."
        else:
            self._status.value = f"{lost!r} was deleted: now {new.name!r}."

    def _start(self, *args):
        self._ran()
        return super()._start(*args)

    def __call__(self):
        self._ran()
        return super().__call__()

    def _ran(self):
        """What it ran on is the user's choice: neither input follows new layers."""
        self._user_chose = True
        self._image_chosen = self._image_chosen or self.image.value is not None

    def _pick_defaults(self, follow: bool = False):
        """Chain from the other widgets: prefer the newest Points layer and the image it
        was made on (the image of the same placement whose name it carries: "lat columns"
        of "lat"), else the newest image; an image the user picked stays."""
        from napari.layers import Image, Points

        pts = [lyr for lyr in self._viewer.layers if isinstance(lyr, Points)]
        if pts and (self.points.value is None or follow) and self.points.value is not pts[-1]:
            self._picking = True
            try:
                self.points.value = pts[-1]
            finally:
                self._picking = False
        imgs = [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)]
        if not imgs or self._image_chosen:
            return
        source = self.points.value
        match = _image_of(source, imgs) if isinstance(source, Points) else None
        if match is None and self.image.value is not None:
            return
        self._picking = True
        try:
            self.image.value = match if match is not None else imgs[-1]
        finally:
            self._picking = False

    def _prepare(self):
        from napari.layers import Labels

        src = self.points.value
        if src is None:
            raise ValueError("choose a Points or Labels layer first.")
        img_layer = self.image.value
        shape = None
        labels = None
        points = None
        if isinstance(src, Labels):
            labels = _plane(src, self._viewer)
            geo = _geometry(src)
        elif img_layer is not None:
            # outputs share the image's pixel grid, so the pixel map lines up with it
            shape = _image_shape(img_layer)
            geo = _geometry(img_layer)
            points = _points_in_pixels(src, img_layer)
        else:
            geo = _geometry(src)
            points = _points_in_pixels(src)
        plane, index = "", ()
        kind = "Labels" if labels is not None else "Points"
        source = f"the {kind} layer {src.name!r}"
        if src.ndim > 2:  # one plane of a stack: never merge planes
            index = _current_plane(src, self._viewer)
            # drawn on that plane only, as the stack's own points (see _on_plane)
            plane = f" ({_plane_text(index)} of {src.name!r}), drawn on that plane only"
            source += f" on the plane shown ({_plane_text(index)})"
            if points is not None:
                points = _points_in_pixels(src, img_layer, plane=index)
                if len(points) < 3:
                    raise ValueError(f"{source} has {len(points)} point(s); a lattice needs "
                                     f"at least 3.{_planes_with_points(src)}")
        # a Labels input: its box disabled, the image is not read (see _image_use)
        bounds = "; bounds: the labels' own (no image is used)" if labels is not None else ""
        if shape is not None and points is not None:
            _inside(points, shape, source, img_layer.name)
        # the unit of the geometry the lengths are measured in: a Labels layer's own (the
        # image is not used for it), else the image's, else the points'
        unit = _unit(img_layer if img_layer is not None and labels is None else src)
        want = (self.triangles.value, self.polygons.value, self.pixel_map.value)
        if not any(want):
            raise ValueError("tick at least one output (triangles, polygons or pixel map).")
        name, geometry = src.name, self.geometry.value
        # the lattice of the physical positions, both axes in one unit: anisotropic pixels
        # do not change who neighbours whom (units that do not convert are refused here)
        sampling = _pixel_size(geo)
        axes = _axes_note(geo, sampling)

        def job():
            yield "Delaunay and Voronoi"
            try:
                result, reused = self._lattice(points, shape, labels, pixel_map=want[2],
                                               name=source, sampling=sampling)
            except ValueError as err:  # e.g. "collinear": the axes' units may be why
                if not axes:
                    raise
                raise ValueError(f"{err} {axes} If that is not meant, set the layer's scale "
                                 "and units, e.g. layer.units = ('nm', 'nm').") from err
            yield "building layers"
            outputs, message, legend = _lattice_outputs(result, name, geo, unit, want,
                                                        geometry, sampling)
            # the pixel map under the other outputs: listed first, it is drawn below them
            outputs.sort(key=lambda out: out[0] != "pixel")
            outputs = _on_plane(outputs, index, src)
            if reused:
                message += " (same points as the last run: its lattice reused)"
            if axes:
                message += f". {axes}"
            return outputs, (message + plane + bounds, legend, unit)

        job.stages = 2
        return job

    def _lattice(self, points, shape, labels, pixel_map: bool = True, name=None,
                 sampling=None):
        """(:func:`lattice` of these inputs, False), or (the last result, True) when the
        inputs equal the last ones: a re-run for other outputs, or with nothing changed.
        As many points as last time, moved: the last lattice is handed to :func:`lattice`
        as ``previous`` (its triangulation updated by flips where certain).
        Both the inputs and the pixel map are kept as copies, so that painting a layer
        never changes what a later run reuses. The pixel map is made only if wanted."""
        last = self._last_lattice
        if (last is not None and last[0] == (shape, sampling)
                and all(_same(a, b) for a, b in zip(last[1:3], (points, labels), strict=True))
                and (last[3].voronoi_labels is not None or not pixel_map
                     or (shape is None and labels is None))):
            kept = last[3].voronoi_labels
            # a layer may have painted the map it got: each run gets its own copy
            mine = kept.copy() if pixel_map and kept is not None else None
            return replace(last[3], voronoi_labels=mine), True
        # the same number of points moved a little (re-refined positions): the last
        # triangulation updated by edge flips, when that is certain to be the Delaunay one
        previous = (last[3] if last is not None and last[0] == (shape, sampling)
                    and labels is None and last[2] is None and points is not None
                    and last[1] is not None and len(last[1]) == len(points) else None)
        result = lattice(points, shape, labels=labels, pixel_map=pixel_map, name=name,
                         sampling=sampling, previous=previous)
        copies = [None if a is None else np.array(a, copy=True) for a in (points, labels)]
        kept = result
        if result.voronoi_labels is not None:
            kept = replace(result, voronoi_labels=result.voronoi_labels.copy())
        self._last_lattice = ((shape, sampling), *copies, kept)
        return result, False

    def _message(self, message):
        if isinstance(message, tuple):
            message, legend, unit = message
            self._show_legend(legend, unit)
        return message

    def _show_legend(self, legend: dict, unit: str):
        """Colour bars and the colour ranges of edge length and cell area, with units."""
        lines = []
        for what, bar in self._bars.items():
            bar.visible = what in legend
            if what in legend:
                cmap, limits, name, note = legend[what]
                # one value: the one colour it is drawn in, not a gradient no value has
                bar.native.setStyleSheet(_gradient_css(cmap) if note is None or note[0] != "all"
                                         else _solid_css(cmap))
                bar.label = name
                lines.append(_legend_line(name, cmap, limits, note, unit,
                                          "²" if what == "cell area" else ""))
        self.legend.value = "\n".join(lines)
