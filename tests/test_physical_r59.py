"""Round 59: a layer's pixel in the world read once (napari's own linear part of the
displayed plane: sizes, area, length and origin from it), the tables given that linear
part rather than an area a caller may forget, Export's edit check reading each output
once, and the unit fields back in pixels when the last image layer is deleted.

Expected numbers come from napari itself (``layer.data_to_world`` of a pixel's corners),
never from the project's reading of the layer."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import napari_tessella
from napari_tessella.export import physical_columns, save_table

pytest.importorskip("napari")

from napari.layers import Image, Labels

SRC = Path(napari_tessella.__file__).resolve().parent  # the sources under test
SKEW = [[1.0, 0.3, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def _corners(layer):
    """World positions (displayed plane) of pixel (0, 0) and of one row and one column
    step from it, by napari's public ``data_to_world``."""
    lead = [0.0] * (layer.ndim - 2)
    return [np.asarray(layer.data_to_world([*lead, *p]), dtype=float)[-2:]
            for p in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))]


def _napari_pixel(layer):
    """((row size, column size), area, origin) of a pixel as napari draws it."""
    origin, row, col = _corners(layer)
    r, c = row - origin, col - origin
    return ((float(np.hypot(*r)), float(np.hypot(*c))),
            abs(float(r[0] * c[1] - r[1] * c[0])), origin)


# --- 1. one reading of the linear part, for every kind of placement

PLACEMENTS = {
    "plain": dict(scale=(0.3, 0.7), translate=(2.0, -1.0)),
    "flipped": dict(scale=(-0.3, 0.7), translate=(2.0, -1.0)),
    "rotated": dict(scale=(0.3, 0.7), rotate=37.0, translate=(1.0, 4.0)),
    "sheared": dict(scale=(0.4, 0.7), shear=[-0.35]),
    "sheared and rotated": dict(scale=(0.4, 0.7), shear=[0.5], rotate=-20.0),
    "affine scaling": dict(scale=(0.5, 0.5), affine=[[2, 0, 3], [0, 0.5, -1], [0, 0, 1]]),
    "affine skew": dict(scale=(0.5, 0.8), affine=SKEW),
    "rotated then a scaling affine": dict(scale=(0.5, 0.5), rotate=30,
                                          affine=[[1, 0, 0], [0, 2, 0], [0, 0, 1]]),
    "all of them": dict(scale=(0.3, 0.6), shear=[0.25], rotate=-20,
                        affine=[[1.2, 0.1, 5.0], [0.05, 0.9, -2.0], [0, 0, 1]]),
}


@pytest.mark.parametrize("kind", list(PLACEMENTS))
def test_one_reading_gives_napari_sizes_area_and_length(kind):
    """Sizes are the lengths of napari's row and column steps, the area |det| of them,
    a length per pixel its square root; the geometry handed to the outputs reads alike,
    to the bit."""
    from napari_tessella._widgets._layers import _geometry
    from napari_tessella._widgets._physical import _pixel

    layer = Image(np.zeros((6, 6)), units=("nm", "nm"), **PLACEMENTS[kind])
    sizes, area, _origin = _napari_pixel(layer)
    pixel = _pixel(layer)
    np.testing.assert_allclose(pixel.size, sizes, rtol=1e-12)
    assert pixel.area == pytest.approx(area, rel=1e-12)
    assert pixel.length == pytest.approx(math.sqrt(area), rel=1e-12)
    again = _pixel(_geometry(layer))
    assert (again.scale, again.translate, again.area) == (pixel.scale, pixel.translate,
                                                          pixel.area)
    if "rotate" not in PLACEMENTS[kind] or "affine" in PLACEMENTS[kind]:
        # napari's own composition, to the bit (a rotation applied last is left out)
        world = layer._data_to_world
        assert np.array_equal(pixel.steps, world.linear_matrix[-2:, -2:])
        assert pixel.translate == tuple(world.translate[-2:])


@pytest.mark.parametrize("kind", ["sheared", "sheared and rotated", "all of them"])
def test_a_stack_reads_its_displayed_plane(kind):
    """A 3-D stack's pixel is that of its displayed (last two) axes, as napari draws
    the plane: its leading axis's scale and transform do not enter."""
    from napari_tessella._widgets._physical import _pixel

    flat = Image(np.zeros((6, 6)), **PLACEMENTS[kind])
    kw = {k: v for k, v in PLACEMENTS[kind].items() if k in ("scale", "translate")}
    kw = {k: (3.0, *v) for k, v in kw.items()}
    if "shear" in PLACEMENTS[kind]:  # (z-y, z-x, y-x): the plane's own last
        kw["shear"] = [0.0, 0.0, *PLACEMENTS[kind]["shear"]]
    if "rotate" in PLACEMENTS[kind]:  # about the stack's leading axis: in the plane
        kw["rotate"] = np.block([[np.eye(1), np.zeros((1, 2))],
                                 [np.zeros((2, 1)), np.asarray(flat.rotate)]])
    stack = Image(np.zeros((2, 6, 6)), **kw)
    sizes, area, _origin = _napari_pixel(stack)
    np.testing.assert_allclose(_pixel(stack).size, sizes, rtol=1e-12)
    assert _pixel(stack).area == pytest.approx(area, rel=1e-12)
    if "affine" not in PLACEMENTS[kind]:
        np.testing.assert_allclose(_pixel(stack).size, _pixel(flat).size, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(sy=st.floats(1e-3, 1e3), sx=st.floats(1e-3, 1e3),
       flip=st.sampled_from([(1, 1), (-1, 1), (1, -1)]),
       angle=st.one_of(st.none(), st.floats(-360, 360)),
       shift=st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)),
       units=st.sampled_from([None, ("nm", "nm"), ("um", "nm"), ("mm", "um")]))
def test_plain_and_rotated_layers_read_their_scale_bit_for_bit(sy, sx, flip, angle, shift,
                                                               units):
    """A plain or rotated layer's sizes are its scale (rows converted into the columns'
    unit), its origin its translate, its area row × column size, to the bit, as they
    always were: a rotation napari applies last moves no length."""
    from napari_tessella._widgets._physical import _pixel

    kw = {"units": units} if units else {}
    if angle is not None:
        kw["rotate"] = angle
    scale = (flip[0] * sy, flip[1] * sx)
    pixel = _pixel(Image(np.zeros((3, 3)), scale=scale, translate=shift, **kw))
    factor = {None: 1.0, ("nm", "nm"): 1.0, ("um", "nm"): 1000.0, ("mm", "um"): 1000.0}
    f = factor[units]
    assert pixel.scale == (scale[0] * f, scale[1])
    assert pixel.translate == (shift[0] * f, shift[1])
    assert pixel.area == abs(scale[0] * f) * abs(scale[1])
    assert pixel.length == float(np.sqrt(abs(scale[0] * f) * abs(scale[1])))
    assert not pixel.oblique


@pytest.mark.parametrize("kind", ["affine skew", "all of them"])
def test_a_turned_layers_columns_start_where_napari_draws_pixel_0_0(kind):
    """An affine that turns or skews the axes: the physical columns of pixel (0, 0) are
    where napari draws it. They started at the layer's translate times the lengths of
    the affine's columns, its offset dropped: 0.15 nm off for a skew alone, 5 nm for
    one with an offset. Fails on the base."""
    from napari_tessella._widgets._layers import _geometry, _with_physical

    layer = Labels(np.zeros((6, 6), np.int32), units=("nm", "nm"),
                   **{**PLACEMENTS[kind], "translate": (1.5, -0.5)})
    origin = _corners(layer)[0]
    table = _with_physical(pd.DataFrame({"row": [0.0], "col": [0.0]}), _geometry(layer))
    np.testing.assert_allclose(table[["row_nm", "col_nm"]].iloc[0], origin, rtol=1e-12)


# --- 2. the tables take the pixel's steps: an area cannot disagree with them


def test_physical_columns_take_the_pixels_steps():
    """Given the world steps of a sheared pixel, the area column is |det| of them (a
    shear keeps the area) and the sizes their lengths; without a ``pixel_area`` to
    forget. Fails on the base (a 2 × 2 scale was refused)."""
    sy, sx, s = 0.4, 0.7, 0.5
    steps = np.array([[sy, s * sx], [0.0, sx]])
    table = pd.DataFrame({"row": [2.0], "col": [3.0], "area": [10.0]})
    out = physical_columns(table, steps, (1.0, 2.0), "nm")
    assert out["area_nm2"].iloc[0] == pytest.approx(10 * sy * sx, rel=1e-12)
    assert out["col_nm"].iloc[0] == pytest.approx(3 * sx * math.hypot(1, s) + 2.0,
                                                  rel=1e-12)
    assert out["row_nm"].iloc[0] == 2 * sy + 1.0


def test_a_diagonal_step_matrix_is_its_scale_to_the_bit(tmp_path):
    """A pixel's steps with no turn write the file its sizes write, byte for byte."""
    table = pd.DataFrame({"row": [2.0, 5.5], "col": [3.0, 1.25], "area": [10.0, 3.0]})
    by_scale = save_table(table, tmp_path / "a.csv", scale=(0.123, -0.456),
                          translate=(1.5, -2.0), unit="µm")
    by_steps = save_table(table, tmp_path / "b.csv", scale=np.diag([0.123, -0.456]),
                          translate=(1.5, -2.0), unit="µm")
    assert by_scale.read_bytes() == by_steps.read_bytes()


@pytest.mark.parametrize("steps, match", [
    ([[1.0, 2.0], [0.5, 1.0]], "one line"),
    ([[1.0, float("nan")], [0.0, 1.0]], "finite"),
    (np.ones((2, 3)), "2 × 2"),
])
def test_steps_that_make_no_pixel_are_refused_in_a_sentence(steps, match):
    with pytest.raises(ValueError, match=match):
        physical_columns({"area": [1.0]}, steps, unit="nm")


def test_save_table_has_no_area_to_forget():
    """The area a caller could leave out (and so get row × column size on a sheared
    layer) is no keyword any more: the steps say it. Fails on the base."""
    import inspect

    for function in (physical_columns, save_table):
        assert "pixel_area" not in inspect.signature(function).parameters


# --- 3. the pixel's readers are imported from their own module


def test_no_module_passes_the_physical_readers_on():
    """``_widgets/_layers.py`` passed ``_physical``'s names on to the widgets
    (``noqa: F401``): every module imports them from ``_physical`` and uses what it
    imports. Fails on the base."""
    for path in sorted((SRC / "_widgets").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "_physical":
                unused = [a.name for a in node.names if a.name not in used]
                assert not unused, f"{path.name} imports {unused} and does not use them"
    physical = {a.name for node in ast.walk(ast.parse((SRC / "_widgets" / "_physical.py")
                                                      .read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef | ast.ClassDef) for a in [node]}
    for path in sorted((SRC / "_widgets").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "_layers":
                assert not physical & {a.name for a in node.names}, path.name


# --- 4. Export reads an edited output once


def test_export_reads_each_edited_output_once(make_napari_viewer, tmp_path, monkeypatch):
    """Export asks whether an output was edited and whether its data was: one exact
    fingerprint (features digest and all, 0.2 s for 466,000 rows) answers both. It
    was read twice for every edited Labels output. Fails on the base."""
    from napari_tessella._widgets import ThresholdLabelWidget, _outputs

    viewer = make_napari_viewer()
    image = np.zeros((40, 40))
    image[5:15, 5:15] = image[22:34, 20:36] = 1.0
    viewer.add_image(image, name="img")
    widget = ThresholdLabelWidget(viewer)
    assert widget() is not None, widget._status.value
    labels = viewer.layers["img labels"]
    labels.data[labels.data == 1] = 0  # erased in the console: no event
    reads = []
    original = _outputs._fingerprint

    def counted(layer, *, exact):
        if exact and layer is labels:
            reads.append(1)
        return original(layer, exact=exact)

    monkeypatch.setattr(_outputs, "_fingerprint", counted)
    written = widget.export(tmp_path)
    assert written, widget._status.value
    assert "measured again" in widget._status.value
    assert len(reads) == 1


# --- 5. the last image layer deleted: the unit fields in pixels again


@pytest.mark.parametrize("widget_name, fields", [
    ("ThresholdLabelWidget", {"min_size": "²", "smooth_sigma": ""}),
    ("SeededWatershedWidget", {"min_area": "²"}),
])
def test_the_unit_fields_fall_back_to_pixels_when_the_image_goes(make_napari_viewer,
                                                                 widget_name, fields):
    """The image box empties without an event when its last layer is deleted: the
    fields kept 'µm²', and the number in them meant pixels. They say px now, as for no
    layer chosen, and follow the next image's units. Fails on the base."""
    import napari_tessella._widgets as widgets

    viewer = make_napari_viewer()
    image = viewer.add_image(np.zeros((16, 16)), scale=(0.5, 0.5), units=("µm", "µm"))
    widget = getattr(widgets, widget_name)(viewer)
    for name, square in fields.items():
        assert getattr(widget, name).label.endswith(f"(µm{square})")
    viewer.layers.remove(image)
    assert widget.image.value is None
    for name, square in fields.items():
        assert getattr(widget, name).label.endswith(f"(px{square})")
    viewer.add_image(np.zeros((16, 16)), scale=(2.0, 2.0), units=("nm", "nm"))
    for name, square in fields.items():
        assert getattr(widget, name).label.endswith(f"(nm{square})")
