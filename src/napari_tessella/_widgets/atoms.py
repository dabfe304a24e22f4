"""The Find atoms widget: sub-pixel atom columns (or dark channels) with lattice features,
and optionally the structural model of columns and channels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from magicgui.widgets import CheckBox, ComboBox, FloatSpinBox

from .._finite import find_atoms_finite
from .._square import square_zoom
from .._validation import counted
from ..lattice_analysis import (
    basis_summary,
    find_dumbbells,
    lattice_table,
    structural_model,
)
from ..tessellation import pixel_voronoi
from ._base import _DockWidget
from ._layers import (
    _column_unit,
    _geometry,
    _layer_choices,
    _layer_key,
    _plane,
    _set_field,
    _unit,
    _with_physical,
)
from ._physical import _pixel

if TYPE_CHECKING:
    import napari


def _rgba(hex_colour: str) -> np.ndarray:
    """'#rrggbb' as an RGBA row in [0, 1]."""
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])


def _kind_colormap(kind: np.ndarray):
    from napari.utils.colormaps import DirectLabelColormap

    colours = {None: "transparent", 0: "transparent"}
    for i, k in enumerate(kind, start=1):
        colours[i] = "#00e5ff" if k == "chamber" else "#ff2e88"
    return DirectLabelColormap(color_dict=colours)


def _count(n: int, things: str) -> str:
    """'3 columns', '1 column' (it said "1 columns"): :func:`counted` of a plural in s."""
    return counted(n, things[:-1], things)


def _find_atoms_quietly(image, sampling=None, zoom=None, **params):
    """:func:`~napari_tessella._finite.find_atoms_finite` (NaN or infinite pixels read as
    outside the sample; pixels that are not square, ``sampling``, resampled to square ones;
    :func:`find_atoms` normalises an image of any magnitude itself) without NumPy's
    floating-point warnings of degenerate fits (0/0 widths): the outcome is the result or
    a clear error, not a warning in the viewer."""
    with np.errstate(all="ignore"):
        return find_atoms_finite(image, sampling=sampling, zoom=zoom, **params)


class FindAtomsWidget(_DockWidget):
    """HAADF-STEM: sub-pixel atom columns (or dark channels) with lattice features."""

    _progress_text = "Finding columns"
    _operation = "find_atoms"
    # (the advice to give a spacing or another image: the topics' viewer words, _base)
    _words = (("separation", "'column spacing' (in pixels)"),
              ("no threshold can separate objects", "there are no columns to find"))
    _lengths = (("separation", "a column spacing of ", "the column spacing"),)
    _unit_fields = (("separation", 1, None),)  # its step: _units_changed

    def __init__(self, napari_viewer: napari.Viewer):
        from napari.layers import Image

        self.image = ComboBox(label="image", choices=_layer_choices(napari_viewer, Image),
                              tooltip="The HAADF-STEM image; outputs are named after it.")
        self.separation = FloatSpinBox(
            label="column spacing", min=0.0, max=1e6, step=0.1, value=0.0,
            tooltip="Nearest-neighbour distance in the layer's units; 0 = estimate it.")
        self.refine = ComboBox(label="refine", choices=["gaussian", "com", "none"],
                               value="gaussian",
                               tooltip="gaussian: 2-D Gaussian fit of every column at once; "
                                       "com: centre of mass; none: the pixel maximum.")
        self.dark = CheckBox(text="dark columns (channels / chambers)", value=False,
                             tooltip="Find the dark channels between the columns instead.")
        self.model = CheckBox(
            text="structural model (columns + channels)", value=False,
            tooltip="Find bright columns and dark channels separately and merge their "
                    "Voronoi diagrams into one model, with the column–channel bonds.")
        super().__init__(napari_viewer, [self.image, self.separation, self.dark, self.model],
                         advanced=[self.refine])
        self.label = "Find atoms"
        self.separation.native.setSpecialValueText("auto")  # 0 = estimate it, not 0 nm

    def _units_changed(self):
        super()._units_changed()
        # steps of a tenth of a pixel, and the decimals they need (0.0906 nm on pixels of
        # 0.014 nm was cut to 0.09 with two decimals: half a pixel off)
        try:
            pixel = _pixel(self.image.value).length
        except ValueError:  # units that do not convert: Run says so
            return
        if np.isfinite(pixel) and pixel > 0:
            self.separation.step = min(0.1, 0.1 * pixel)

    def parameters(self) -> dict:
        pixel = _pixel(self.image.value).length
        sep = self.separation.value / pixel if self.separation.value else None
        refine = None if self.refine.value == "none" else self.refine.value
        return {"separation": sep, "refine": refine, "dark": self.dark.value}

    def set_parameters(self, params: dict) -> None:
        pixel = _pixel(self.image.value).length
        if "separation" in params:
            _set_field(self.separation, (params["separation"] or 0.0) * pixel)
        if "refine" in params:
            self.refine.value = params["refine"] or "none"
        if "dark" in params:
            self.dark.value = bool(params["dark"])

    def _prepare(self):
        layer = self.image.value
        if layer is None:
            raise ValueError("choose an image layer first.")
        image = _plane(layer, self._viewer, index=self._plane_index)
        geo = _geometry(layer)
        unit, length = _unit(layer), _pixel(layer).length
        said = _column_unit(geo)  # 'nm', 'scaled' (a scale, no unit), '' (plain pixels)
        # pixels that are not square: neighbours (the features, the basis) are measured in
        # the sample, in pixels of the mean size (``length``)
        py, px = _pixel(layer).size
        sampling = None if py == px else (py / length, px / length)
        # pixels too far from square: said before work; the zoom made once, for the run
        zoom = square_zoom(image.shape, sampling)
        params = self.parameters()  # checked by find_atoms, which says what is wrong
        name = layer.name
        model = self.model.value
        # this image's dumbbells layer from an earlier run, still the widget's own
        record = self._outputs.get((_layer_key(layer), "dumbbells"))
        drawn_pairs = record is not None and record.layer in self._viewer.layers
        kinds = ["columns", "chambers"] if model else [
            "chambers" if params["dark"] else "columns"]

        def points_output(kind, result, vmap, measured):
            table = result.table.copy()
            if len(result.positions) >= 3:
                features = lattice_table(result.positions, measured, voronoi_labels=vmap,
                                         sampling=sampling)
                table = pd.concat([table, features], axis=1)
                if said:  # named as Export and the other widgets name physical columns
                    table[f"nn_distance_{said}"] = table["nn_distance"] * length
                    if "cell_area" in table:  # pixels counted: × a pixel's area
                        table[f"cell_area_{said}2"] = table["cell_area"] * (py * px)
            table = _with_physical(table, geo)
            colour = "#00e5ff" if kind == "chambers" else "#ff2e88"
            style = {"face_color": colour, "border_width": 0}
            if "converged" in table and not table["converged"].all():
                # fits that did not converge keep their centre of mass: drawn hollow, with
                # a yellow ring, so they are told apart at a glance (and by `converged`)
                fitted = table["converged"].to_numpy(bool)
                style = {"face_color": np.where(fitted[:, None], _rgba(colour),
                                                np.zeros((len(fitted), 4))),
                         "border_color": np.where(fitted[:, None], _rgba(colour),
                                                  _rgba("#ffd54f")),
                         "border_width": 0.25, "border_width_is_relative": True}
            return (kind, (result.positions, {
                "name": f"{name} {kind}", "features": table, "size": result.separation / 3,
                **style, **geo}, "points"))

        def job():
            found, measured, outside = {}, image, ""
            for k in kinds:
                yield f"finding {k}"
                # NaN or infinite pixels (a mosaic's padding): outside the sample, no
                # column there, as the Seeded watershed reads them
                run = _find_atoms_quietly(image, sampling, zoom,
                                          **{**params, "dark": k == "chambers"},
                                          name=repr(name))
                found[k] = run.result
                if run.said:
                    measured, outside = run.image, run.said
                    job.outside = outside  # (said for a stack's other planes)
            yield "lattice features"
            outputs = []
            for kind, result in found.items():
                # the cells of the sample, as the neighbours and the Lattice's map are
                # (pixels that are not square: the pixel grid's cells lean and mix)
                vmap = (pixel_voronoi(result.positions, image.shape[:2], sampling=sampling)
                        if len(result.positions) >= 3 else None)
                outputs.append(points_output(kind, result, vmap, measured))
            parts = [_count(len(r.positions), k) for k, r in found.items()]
            pairs = found.get("columns")
            dumbbells = None
            if pairs is not None and np.isfinite(pairs.pair_distance):
                # the image has two scales: draw each close pair (dumbbell), brighter → dimmer
                table = pairs.table
                weights = table["intensity"] if "intensity" in table else None
                dumbbells = find_dumbbells(pairs.positions, weights, sampling=sampling)
                if len(dumbbells):
                    parts.append(_count(len(dumbbells), "dumbbells"))
            found_pairs = dumbbells is not None and len(dumbbells) > 0
            if found_pairs or drawn_pairs:
                if not found_pairs:  # the last run's arrows: emptied, not left standing
                    dumbbells = pd.DataFrame(columns=["row", "col", "d_row", "d_col"],
                                             dtype=float)
                    parts.append("0 dumbbells")
                start = dumbbells[["row", "col"]].to_numpy() - dumbbells[
                    ["d_row", "d_col"]].to_numpy() / 2
                vectors = np.stack([start, dumbbells[["d_row", "d_col"]].to_numpy()], axis=1)
                outputs.append(("dumbbells", (vectors.reshape(-1, 2, 2), {
                    "name": f"{name} dumbbells", "vector_style": "arrow",
                    "features": _with_physical(dumbbells, geo), "edge_color": "#ffffff",
                    "edge_width": 0.4, **geo}, "vectors")))
            first = next(iter(found.values()))
            if model:
                sm = structural_model(found["columns"].positions, found["chambers"].positions,
                                      image.shape[:2])
                segments = sm.points[sm.bonds]
                vectors = np.stack([segments[:, 0], segments[:, 1] - segments[:, 0]], axis=1)
                outputs += [
                    ("model", (sm.voronoi_labels, {
                        "name": f"{name} structural model", "opacity": 0.35,
                        # cells of columns and of channels in the points' two colours
                        "colormap": _kind_colormap(sm.kind),
                        "features": {"index": np.arange(len(sm.kind) + 1),
                                     "kind": np.r_[["background"], sm.kind]}, **geo},
                        "labels")),
                    ("bonds", (vectors, {
                        "name": f"{name} column–channel bonds", "vector_style": "line",
                        "edge_color": "#ffd54f", "edge_width": 0.3, **geo}, "vectors")),
                ]
                parts.append(_count(len(sm.bonds), "column–channel bonds"))
            # the spacing the detection used, as the field reads it (in pixels of the mean
            # size, also for pixels that are not square: a value to type back)
            message = (f"{', '.join(parts)} in {name!r}; spacing "
                       f"{first.separation * length:.3g}{unit}")
            # the lattice's basis, for the user to read off at a glance; of dumbbells, that
            # of their centres (the columns' nearest neighbours are their partners: the
            # pairs' axis, or no basis when all pairs point one way)
            sites, of = first.positions, ""
            if found_pairs and (first is pairs) and len(dumbbells) >= 3:
                sites, of = dumbbells[["row", "col"]].to_numpy(), " of the dumbbells"
            try:
                a, b, angle = basis_summary(sites if sampling is None else sites * sampling)
                message += (f"; basis{of} {a * length:.3g}{unit} × {b * length:.3g}{unit} "
                            f"at {angle:.0f}°")
            except ValueError:  # too few columns, or all in a row: said so
                message += f"; no lattice basis{of} (too few columns, or all in a row)"
            if outside:
                message += f"; {outside}"
            return outputs, message

        job.stages = len(kinds) + 1
        return job
