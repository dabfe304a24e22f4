"""The Lattice & Voronoi widget: Delaunay triangles, Voronoi cells and the pixel Voronoi map
of a Points (or Labels) layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import CheckBox, ComboBox

from ..tessellation import lattice, neighbour_counts, polygon_edges, triangle_longest_edges
from ._base import _DockWidget
from ._layers import (
    _geometry,
    _image_shape,
    _layer_choices,
    _plane,
    _points_in_pixels,
    _robust_limits,
    _unit,
)

if TYPE_CHECKING:
    import napari

#: Above this many triangles, geometry is drawn as Vectors: napari's Shapes layer needs
#: seconds for tens of thousands of shapes, Vectors draw 60,000 bonds in well under 1 s.
SHAPES_LIMIT = 5000


_GEOMETRY = ["auto", "shapes (editable)", "vectors (fast)"]


def _lattice_outputs(result, name, geo, unit, want, geometry):
    """LayerDataTuples for a LatticeResult (runs in the worker thread)."""
    use_shapes = geometry == _GEOMETRY[1] or (
        geometry == _GEOMETRY[0] and len(result.triangles) <= SHAPES_LIMIT)
    scale = geo["scale"][0]
    pts = result.points
    outputs = []
    if want[0]:
        if use_shapes:
            tri = pts[result.triangles]
            longest = triangle_longest_edges(pts, result.triangles) * scale
            outputs.append(("triangles", (list(tri), {
                "name": f"{name} Delaunay", "shape_type": "polygon",
                "features": {"longest_edge": longest},
                "edge_color": "longest_edge", "edge_colormap": "turbo",
                "edge_contrast_limits": _robust_limits(longest),
                "face_color": "transparent", "edge_width": 0.5, **geo,
            }, "shapes")))
        else:
            e = result.edges
            length = result.edge_lengths * scale
            vectors = np.stack([pts[e[:, 0]], pts[e[:, 1]] - pts[e[:, 0]]], axis=1)
            outputs.append(("triangles", (vectors, {
                "name": f"{name} Delaunay", "vector_style": "line",
                "features": {"length": length, "start": e[:, 0], "end": e[:, 1]},
                "edge_color": "length", "edge_colormap": "turbo",
                "edge_contrast_limits": _robust_limits(length),
                "edge_width": 0.5, **geo,
            }, "vectors")))
    if want[1]:
        area = result.cell_areas * geo["scale"][0] * geo["scale"][1]
        neighbours = neighbour_counts(result.edges, len(pts))
        if use_shapes:
            outputs.append(("polygons", (list(result.voronoi_polygons), {
                "name": f"{name} Voronoi", "shape_type": "polygon",
                "features": {"area": area, "neighbours": neighbours},
                "face_color": "area", "face_colormap": "viridis",
                "face_contrast_limits": _robust_limits(area),
                "edge_color": "white", "edge_width": 0.3, "opacity": 0.5, **geo,
            }, "shapes")))
        else:
            ridges = polygon_edges(result.voronoi_polygons)
            ridges[:, 1] -= ridges[:, 0]
            outputs.append(("polygons", (ridges, {
                "name": f"{name} Voronoi", "vector_style": "line", "edge_color": "white",
                "edge_width": 0.3, **geo,
            }, "vectors")))
    if want[2] and result.voronoi_labels is not None:
        meta = {"name": f"{name} Voronoi map", "opacity": 0.4, **geo}
        if want[1] and result.voronoi_labels.max() == len(pts):
            # hovering a cell shows its area and neighbour count
            meta["features"] = {"index": np.arange(len(pts) + 1),
                                "area": np.r_[np.nan, area],
                                "neighbours": np.r_[0, neighbours]}
        outputs.append(("pixel", (result.voronoi_labels, meta, "labels")))
    median = np.median(result.edge_lengths) * scale
    message = (f"{len(pts)} points, {len(result.triangles)} triangles, "
               f"{len(result.edges)} edges; median edge {median:.3g}{unit}")
    return outputs, message


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
            tooltip="Clip the Voronoi diagram to this image and make the pixel Voronoi map.",
        )
        self.triangles = CheckBox(text="Delaunay triangles", value=True)
        self.polygons = CheckBox(text="Voronoi polygons", value=True)
        self.pixel_map = CheckBox(text="pixel Voronoi map", value=True)
        self.geometry = ComboBox(
            label="draw as", choices=_GEOMETRY, value="auto",
            tooltip=f"Shapes can be selected and edited but are slow beyond ~{SHAPES_LIMIT} "
                    "triangles; vectors draw any number of bonds and cell sides at once. "
                    f"'auto' uses shapes up to {SHAPES_LIMIT} triangles.",
        )
        super().__init__(
            napari_viewer, [self.points, self.image, self.triangles, self.polygons,
                            self.pixel_map, self.geometry]
        )
        self.label = "Lattice & Voronoi"
        self._pick_defaults()

    def _refresh_choices(self, event=None):
        from napari.layers import Points

        super()._refresh_choices(event)
        new = getattr(event, "value", None) if getattr(event, "type", "") == "inserted" else None
        if isinstance(new, Points) and new not in self._outputs.values():
            self.points.value = new  # the centres another widget just made
        self._pick_defaults()

    def _pick_defaults(self):
        """Chain from the other widgets: prefer the newest Points layer and an image."""
        from napari.layers import Image, Points

        pts = [lyr for lyr in self._viewer.layers if isinstance(lyr, Points)]
        if pts and not isinstance(self.points.value, Points):
            self.points.value = pts[-1]
        imgs = [lyr for lyr in self._viewer.layers if isinstance(lyr, Image)]
        if imgs and self.image.value is None:
            self.image.value = imgs[-1]

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
        unit = _unit(img_layer if img_layer is not None else src)
        want = (self.triangles.value, self.polygons.value, self.pixel_map.value)
        if not any(want):
            raise ValueError("tick at least one output (triangles, polygons or pixel map).")
        name, geometry = src.name, self.geometry.value

        def job():
            result = lattice(points, shape, labels=labels)
            return _lattice_outputs(result, name, geo, unit, want, geometry)

        return job
