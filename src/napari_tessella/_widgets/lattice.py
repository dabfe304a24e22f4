"""The Lattice & Voronoi widget: Delaunay triangles, Voronoi cells and the pixel Voronoi map
of a Points (or Labels) layer."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Label

from .._lazy import LARGE_PIXELS, is_large
from .._validation import AdvisedError, as_label_image
from ..tessellation import lattice
from ._base import _DockWidget
from ._lattice_draw import (
    _GEOMETRY,
    MESH_LIMIT,
    RIDGES_LIMIT,
    SHAPES_LIMIT,
    _lattice_outputs,
    _legend_line,
)
from ._layers import (
    _current_plane,
    _geometry,
    _image_of,
    _image_shape,
    _layer_choices,
    _matching_plane,
    _plane,
    _points_in_pixels,
    _unit,
)
from ._physical import _pixel, _unit_name
from ._qt import _gradient_css, _solid_css, _wrapping
from ._stacks import _on_plane, _plane_text, _planes_with_points

if TYPE_CHECKING:
    import napari

_IMAGE_TIP = "Clip the Voronoi diagram to this image and make the pixel Voronoi map."


class _By(Enum):
    """Who chose an input box's value, which says what may change it.

    For the points: the USER (picked it, or ran on it) keeps it; NOBODY's follows the
    newest Points layer. For the image: the USER's pick stays whatever points come; POINTS
    (kept with the points chosen: a run used it, or the user emptied the box) stays as
    new layers come, but points picked by hand bring their own; NOBODY's follows the
    points (the image they were made on) or the newest image."""

    USER = "user"
    POINTS = "points"
    NOBODY = "none"


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
            f"{int(out.sum())} of the {len(points)} points of {source} "
            f"{'lies' if out.sum() == 1 else 'lie'} outside the "
            f"image {image!r} ({shape[0]} × {shape[1]} pixels) chosen for the bounds: "
            "choose the image they were found on, or no image.")


def _map_fits(layer) -> None:
    """Refuse a pixel map of a large grid (:func:`napari_tessella._lazy.is_large`), before
    any work: the map and its distance transform are held in memory. Measured for 2,000
    points, the map alone: 8192 × 8192 (the limit) 5.5 s of CPU and 1.1 GB at peak;
    30000 × 30000 (a lazy slide for the bounds) 64 s and 12.5 GB, enough to take a
    workstation down."""
    if layer is None:  # no grid: no map
        return
    data = layer.data[0] if layer.multiscale else layer.data
    rows, cols = data.shape[-3:-1] if getattr(layer, "rgb", False) else data.shape[-2:]
    if is_large((rows, cols)):
        side = round(LARGE_PIXELS ** 0.5)
        raise ValueError(
            f"the pixel Voronoi map of {layer.name!r} ({rows} × {cols} pixels) is too large "
            f"to hold in memory (over {LARGE_PIXELS:,} pixels, {side} × {side}): untick "
            "'pixel Voronoi map' (Advanced); the triangles and polygons need no map.")


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
        # Who chose each box's value (see _By): until the user picks the input or runs the
        # widget, it follows the newest Points layer (the centres another widget just made)
        # and the image they were made on; from then on it stays put.
        self._chose = {"points": _By.NOBODY, "image": _By.NOBODY}
        # (shape, points, labels, result) of the last lattice, copies the layers never see
        self._last_lattice = None
        self.points.changed.connect(self._points_chosen)
        self.image.changed.connect(self._image_chosen_now)
        self.points.changed.connect(self._image_use)
        self._pick_defaults(follow=True)
        self._image_use()

    _input_field = "points"
    _stacks = False  # a 3-D Points layer: the shown plane's points (see _prepare)

    def _set(self, box, value) -> None:
        """Set a box as the widget's own choice, not the user's: its handlers of the user's
        picks do not see it (a Labels input still disables the image box)."""
        if box.value is value:
            return
        with box.changed.blocked():
            box.value = value
        self._image_use()

    def _points_chosen(self, *_):
        """The user picked the points: the image for the bounds comes with them (the one
        placed as they are), unless the user picked the image by hand."""
        from napari.layers import Image, Points

        self._chose["points"] = _By.USER
        new = self.points.value
        if self._chose["image"] is _By.USER or not isinstance(new, Points):
            return
        match = _image_of(new, [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)])
        if match is not None and match is not self.image.value:
            self._set(self.image, match)
            self._chose["image"] = _By.NOBODY  # the points' image: follows them

    def _image_chosen_now(self, *_):
        """An image picked by hand stays whatever points come; the empty entry stays as new
        layers come and runs write theirs, but points picked later bring their own image."""
        self._chose["image"] = _By.USER if self.image.value is not None else _By.POINTS

    def _image_use(self, *_):
        """A Labels input sets its own bounds, pixel map and unit: the image box is then
        not read, and is disabled saying so rather than showing an image as if it were."""
        from napari.layers import Labels

        labels = isinstance(self.points.value, Labels)
        self.image.enabled = not labels
        self.image.tooltip = (_IMAGE_TIP if not labels else "Not used with a Labels input: "
                              "the bounds and the pixel map are the labels' own.")

    def _refresh_choices(self, event=None):
        if not hasattr(self, "_chose"):  # during __init__
            return super()._refresh_choices(event)
        chosen, image = self.points.value, self.image.value
        # the ComboBoxes' own fallback to another layer is no choice of the user's
        with self.points.changed.blocked(), self.image.changed.blocked():
            super()._refresh_choices(event)
        self._image_use()
        lost = chosen is not None and chosen not in self._viewer.layers
        if lost:  # the user's layer is gone: follow the newest again
            self._chose["points"] = _By.NOBODY
        if image is not None and image not in self._viewer.layers:
            self._chose["image"] = _By.NOBODY
        self._pick_defaults(follow=self._chose["points"] is _By.NOBODY)
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
        self._set(self.image, match)
        self._chose["image"] = _By.NOBODY
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
        self._chose["points"] = _By.USER
        if self._chose["image"] is _By.NOBODY and self.image.value is not None:
            self._chose["image"] = _By.POINTS

    def _pick_defaults(self, follow: bool = False):
        """Chain from the other widgets: prefer the newest Points layer and the image it
        was made on (the image of the same placement whose name it carries: "lat columns"
        of "lat"), else the newest image; an image the user picked stays."""
        from napari.layers import Image, Points

        pts = [lyr for lyr in self._viewer.layers if isinstance(lyr, Points)]
        if pts and (self.points.value is None or follow):
            self._set(self.points, pts[-1])
        imgs = [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)]
        if not imgs or self._chose["image"] is not _By.NOBODY:
            return
        source = self.points.value
        match = _image_of(source, imgs) if isinstance(source, Points) else None
        if match is None and self.image.value is not None:
            return
        self._set(self.image, match if match is not None else imgs[-1])

    def _side_inputs(self) -> tuple:
        from napari.layers import Labels

        # the image for bounds; for a Labels input it is not read
        return () if isinstance(self.points.value, Labels) else (self.image.value,)

    def _prepare(self):
        from napari.layers import Labels

        src = self.points.value
        if src is None:
            raise ValueError("choose a Points or Labels layer first.")
        img_layer = self.image.value
        shape = None
        labels = None
        points = None
        if self.pixel_map.value:  # before any plane is read
            _map_fits(src if isinstance(src, Labels) else img_layer)
        if isinstance(src, Labels):
            labels = _plane(src, self._viewer)
            as_label_image(labels, name=f"the Labels layer {src.name!r}")  # no negative ids
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
            plane = (f" ({_plane_text(index)} of {src.name!r}{self._stack_plane(src, index)})"
                     ", drawn on that plane only")
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
        sampling = _pixel(geo).size
        axes = _axes_note(geo, sampling)

        def job():
            yield "Delaunay and Voronoi"
            try:
                result, reused = self._lattice(points, shape, labels, pixel_map=want[2],
                                               name=source, sampling=sampling)
            except ValueError as err:  # e.g. "collinear": the axes' units may be why
                if not axes or isinstance(err, AdvisedError):  # (duplicates in any units)
                    raise
                raise ValueError(f"{err} {axes} If that is not meant, set the layer's scale "
                                 "and units, e.g. layer.units = ('nm', 'nm').") from err
            yield "building layers"
            ids = None if labels is None else np.unique(labels[labels != 0])  # (as lattice)
            outputs, message, legend = _lattice_outputs(result, name, geo, unit, want,
                                                        geometry, sampling, ids)
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

    def _stack_plane(self, src, index) -> str:
        """' = plane 3 of 'cells'' when ``src`` (labels a widget drew on plane 3 of a stack,
        one plane deep) is on another plane of the stack it was made on than its own."""
        from napari.layers import Image

        images = [lyr for lyr in self._viewer.layers
                  if isinstance(lyr, Image) and lyr.ndim == src.ndim]
        stack = _image_of(src, images)
        there = _matching_plane(stack, src, index) if stack is not None else None
        if there is None or there == index:
            return ""
        return f" = {_plane_text(there)} of {stack.name!r}"

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
