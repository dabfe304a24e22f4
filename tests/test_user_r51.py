"""Round 51: the seeded watershed (nuclei) path used as a microscopist uses it in the
viewer. Each test fails on the code before its fix (said in its docstring)."""

from __future__ import annotations

import numpy as np
import pytest
from _widget_helpers import watershed_widget

from napari_tessella.nuclei import seeded_watershed
from napari_tessella.synthetic import synthetic_nuclei


def _layer(viewer, name):
    return viewer.layers[name]


# --- NaN or infinite pixels: a stitched mosaic's padding, a registered image, dead pixels


def test_a_nan_padded_image_is_segmented_as_if_cropped(make_napari_viewer, field):
    """A field padded with NaN (a stitched or registered image) was refused in the widget
    ("such pixels … must be given a value …, e.g. in napari's console"): it could not be
    segmented from the viewer. Its NaN pixels are read as outside the image: the nuclei
    are those of the field cropped out, in place, and the status says how many pixels were
    NaN. The layer keeps its NaN."""
    padded = np.full((260, 300), np.nan)
    padded[20:220, 35:275] = field
    viewer = make_napari_viewer()
    layer = viewer.add_image(padded, name="mosaic")
    before = layer.data.copy()
    widget = watershed_widget(viewer, layer)
    assert widget() is not None, widget._status.value
    expected = seeded_watershed(field)
    nuclei = _layer(viewer, "mosaic nuclei").data
    assert nuclei.shape == padded.shape
    np.testing.assert_array_equal(nuclei[20:220, 35:275], expected.labels)
    assert not nuclei[np.isnan(padded)].any()
    territories = _layer(viewer, "mosaic territories").data
    np.testing.assert_array_equal(territories[20:220, 35:275], expected.territories)
    assert not territories[np.isnan(padded)].any()
    seeds = _layer(viewer, "mosaic seeds").data
    np.testing.assert_allclose(seeds, np.asarray(expected.seeds) + np.array([20, 35]))
    status = widget._status.value
    n_nan = int(np.isnan(padded).sum())
    assert f"{expected.labels.max()} nuclei" in status
    assert f"{n_nan:,}".replace(",", "") in status.replace(",", "")
    assert "NaN or infinite" in status and "outside the image" in status
    np.testing.assert_array_equal(layer.data, before)  # NaN kept, nothing written
    assert widget.estimate_diameter() == pytest.approx(expected.object_diameter, rel=1e-6)


def test_a_few_nan_or_infinite_pixels_are_no_object(make_napari_viewer, field):
    """A few NaN and infinite pixels (dead pixels) inside a field: refused before. The
    field is segmented as the same field with those pixels given a dark level, and no
    object lies on them; the nuclei table is finite."""
    image = field.copy()
    bad = np.zeros(image.shape, bool)
    bad[50, 60] = True
    bad[120, 30:33] = True
    bad[0, 0] = True
    image[bad] = np.nan
    image[10, 200] = np.inf
    bad[10, 200] = True
    viewer = make_napari_viewer()
    layer = viewer.add_image(image, name="dna")
    widget = watershed_widget(viewer, layer)
    assert widget() is not None, widget._status.value
    filled = np.where(bad, np.percentile(field[~bad], 1), field)
    expected = seeded_watershed(filled).labels
    expected[bad] = 0
    nuclei = _layer(viewer, "dna nuclei")
    np.testing.assert_array_equal(nuclei.data, expected)
    assert "6 pixels" in widget._status.value
    table = nuclei.features
    assert len(table) and np.isfinite(table.select_dtypes("number").to_numpy()).all()


def test_an_irregular_mosaic_gives_no_object_outside_its_tiles(make_napari_viewer, field):
    """Tiles that do not fill a rectangle (NaN in an L-shaped corner): every object lies
    on the tiles, and the nuclei away from the corner are those of the full field."""
    image = field.copy()
    image[:90, 150:] = np.nan
    viewer = make_napari_viewer()
    widget = watershed_widget(viewer, viewer.add_image(image, name="tiles"))
    assert widget() is not None, widget._status.value
    nuclei = _layer(viewer, "tiles nuclei").data
    assert not nuclei[:90, 150:].any()
    full = seeded_watershed(field).labels
    away = np.unique(full[150:, :100])  # nuclei far from the missing corner
    for i in away[away > 0]:
        ours = np.unique(nuclei[full == i])
        assert len(ours) == 1 and ours[0] > 0


def test_an_all_nan_image_is_refused_in_words(make_napari_viewer):
    """No finite pixel at all: one clear line, no output layer."""
    viewer = make_napari_viewer()
    widget = watershed_widget(viewer, viewer.add_image(np.full((64, 64), np.nan), name="void"))
    assert widget() is None
    assert "no finite pixel" in widget._status.value
    assert [layer.name for layer in viewer.layers] == ["void"]


def test_a_finite_line_in_a_nan_image_is_refused_in_its_words(make_napari_viewer):
    """One finite row in a NaN image: refused as too few finite pixels, not as "image is
    too small to segment: shape (1, 64)" of a 64 × 64 layer (nor, before, as NaN pixels
    to be given a value in the console)."""
    image = np.full((64, 64), np.nan)
    image[30] = np.linspace(0, 1, 64)
    viewer = make_napari_viewer()
    widget = watershed_widget(viewer, viewer.add_image(image, name="line"))
    assert widget() is None
    assert "finite pixels span only 1 × 64" in widget._status.value
    assert [layer.name for layer in viewer.layers] == ["line"]


def test_seeds_on_a_nan_padded_image(make_napari_viewer, field):
    """Seeds given as a Points layer on a NaN-padded image: placed in the cropped field's
    frame; a seed on the padding is left out and said."""
    padded = np.full((240, 260), np.nan)
    padded[30:230, 10:250] = field
    truth = synthetic_nuclei((200, 240), n_nuclei=14, diameter=28.0, seed=5).labels
    from scipy import ndimage as ndi

    centres = np.array(ndi.center_of_mass(truth > 0, truth, range(1, truth.max() + 1)))
    viewer = make_napari_viewer()
    layer = viewer.add_image(padded, name="mosaic")
    marks = np.vstack([centres + np.array([30, 10]), [[5.0, 5.0]]])  # the last on NaN
    points = viewer.add_points(marks, name="marks")
    widget = watershed_widget(viewer, layer, seeds=points)
    assert widget() is not None, widget._status.value
    expected = seeded_watershed(field, seeds=centres)
    np.testing.assert_array_equal(_layer(viewer, "mosaic nuclei").data[30:230, 10:250],
                                  expected.labels)
    assert "1 seed on them left out" in widget._status.value


# --- the input deleted while a run is going


def test_the_input_deleted_during_a_run_is_said(make_napari_viewer, qtbot, field):
    """The image deleted while the watershed ran: the outputs were written (the work is
    kept), but the status line said nothing of the deletion (it does for the seeds) and,
    after a first run, "made with the fields as they were at Run: press Run again", with
    no image left to run on (its field emptied with it). It says the image was deleted."""
    from _widget_helpers import finished

    viewer = make_napari_viewer()
    layer = viewer.add_image(field, name="dna", scale=(0.5, 0.5), units="µm")
    widget = watershed_widget(viewer, layer, object_diameter=14.0)
    widget._run_button.native.click()
    viewer.layers.remove(layer)
    qtbot.waitUntil(lambda: finished(widget), timeout=60_000)
    status = widget._status.value
    assert "'dna' was deleted during the run" in status
    assert "press Run again" not in status
    expected = seeded_watershed(field, object_diameter=28.0).labels
    np.testing.assert_array_equal(viewer.layers["dna nuclei"].data, expected)


# --- an output the user made theirs (painted, renamed, locked): a re-run writes beside it


def test_a_rerun_beside_an_edited_output_says_where_its_result_went(make_napari_viewer,
                                                                    field):
    """Nuclei corrected by hand (painted), then Run again with another diameter: the
    corrected layer was kept, as it should be, and the new result written to 'dna nuclei
    [1]', but the status line said nothing of either: the user saw their layer unchanged
    and a new one beside it, no word why. It says so; a second re-run updates the new
    layer in place, silently. The same for an output the user renamed."""
    viewer = make_napari_viewer()
    widget = watershed_widget(viewer, viewer.add_image(field, name="dna"))
    assert widget() is not None
    nuclei = viewer.layers["dna nuclei"]
    nuclei.paint((100, 120), 1, refresh=False)
    painted = nuclei.data.copy()
    widget.object_diameter.value = 20.0
    assert widget() is not None
    assert ("'dna nuclei' was edited by hand: kept as it is, this run's result is "
            "'dna nuclei [1]'") in widget._status.value
    np.testing.assert_array_equal(nuclei.data, painted)
    widget.object_diameter.value = 24.0
    assert widget() is not None
    assert "kept as it is" not in widget._status.value
    assert [layer.name for layer in viewer.layers].count("dna nuclei [1]") == 1
    viewer.layers["dna seeds"].name = "my seeds"
    assert widget() is not None
    assert ("'my seeds' was renamed by you (from 'dna seeds'): kept as it is, this run's "
            "result is 'dna seeds'") in widget._status.value


def test_drop_nuclei_touching_the_border_drops_those_cut_by_a_tile_edge(make_napari_viewer,
                                                                         field):
    """'drop nuclei touching the border' on a mosaic whose tiles leave a NaN corner: the
    nuclei cut by the corner's edges are cut as those at the image's edge are, and are
    dropped as they are (with the NaN read as outside the image and no such rule, they
    were kept, half nuclei); the territories still cover every finite pixel."""
    from scipy import ndimage as ndi

    image = field.copy()
    image[:90, 150:] = np.nan
    viewer = make_napari_viewer()
    widget = watershed_widget(viewer, viewer.add_image(image, name="tiles"), exclude_border=True)
    assert widget() is not None, widget._status.value
    nuclei = viewer.layers["tiles nuclei"].data
    rim = ndi.binary_dilation(np.isnan(image), structure=np.ones((3, 3), bool))
    assert nuclei.max() > 0 and not nuclei[rim].any()
    assert np.array_equal(np.unique(nuclei[nuclei > 0]), np.arange(1, nuclei.max() + 1))
    for edge in (nuclei[0], nuclei[-1], nuclei[:, 0], nuclei[:, -1]):
        assert not edge.any()
    territories = viewer.layers["tiles territories"].data
    assert (territories[~np.isnan(image)] > 0).all() and not territories[np.isnan(image)].any()
    full = seeded_watershed(field, exclude_border=True).labels
    away = np.unique(full[150:, :100])  # nuclei far from the missing corner: as they were
    for i in away[away > 0]:
        ours = np.unique(nuclei[full == i])
        assert len(ours) == 1 and ours[0] > 0


# --- a diameter under one pixel, typed in the layer's unit


def test_a_diameter_under_a_pixel_is_refused_in_the_fields_unit(make_napari_viewer, field):
    """A diameter of 0.3 µm on a layer of 0.5 µm pixels was refused as "'object diameter'
    (in pixels) must be >= 1 pixels; got 0.6.": a number in pixels the user never typed,
    for a field in µm (its upper bound is said in µm). It is said in µm, with the least
    diameter to give."""
    viewer = make_napari_viewer()
    layer = viewer.add_image(field, name="dna", scale=(0.5, 0.5), units="µm")
    widget = watershed_widget(viewer, layer, object_diameter=0.3)
    assert widget() is None
    status = widget._status.value
    assert "an object diameter of 0.3 µm is under one pixel (0.5 µm)" in status
    assert "give at least 0.5 µm" in status and "got 0.6" not in status
    widget.object_diameter.value = 14.0
    assert widget() is not None


# --- a blank plane in a stack run plane by plane


@pytest.mark.parametrize("blank", ["constant", "nan"])
def test_a_blank_plane_does_not_stop_a_stacks_run(make_napari_viewer, field, blank):
    """A time series with one blank frame (a dropped frame, a closed shutter: constant; a
    registered series' empty frame: all NaN), run on 'all planes': the core refused that
    plane as an image ("plane 1: image is constant …"), which stopped the whole run and
    wrote nothing, for any number of good planes. That plane has no nuclei now, and the
    other planes are segmented as alone."""
    bad = np.zeros_like(field) if blank == "constant" else np.full_like(field, np.nan)
    stack = np.stack([field, bad, field[::-1].copy()])
    viewer = make_napari_viewer()
    widget = watershed_widget(viewer, viewer.add_image(stack, name="t"))
    widget._planes.value = "all planes"
    assert widget() is not None, widget._status.value
    nuclei = viewer.layers["t nuclei"].data
    assert nuclei.shape == stack.shape and not nuclei[1].any()
    for ours, alone in ((nuclei[0], seeded_watershed(field).labels),
                        (nuclei[2], seeded_watershed(field[::-1].copy()).labels)):
        assert alone.max() > 0  # the same nuclei (the stack's ids run on across planes)
        pairs = np.unique(np.stack([ours.ravel(), alone.ravel()]), axis=1)
        assert len(pairs[0]) == len(np.unique(ours)) == len(np.unique(alone))
    assert not viewer.layers["t territories"].data[1].any()
    assert "plane 1" in widget._status.value and "no nuclei" in widget._status.value
