"""Round 54's mends of structure: each leaves every label and result as it was."""

from __future__ import annotations

import numpy as np
import pytest


def _oblong_dumbbells():
    """A square lattice of dumbbells in the sample (spacing 5, partners 1.5 apart along
    the columns, the first of each pair brighter) and its pixels' sizes (2 × 0.5): on the
    pixel grid every column's nearest neighbours are the two above and below it, 2.5 pixels
    apart, and no pair stands out."""
    rows, cols = np.meshgrid(np.arange(6) * 5.0, np.arange(6) * 5.0, indexing="ij")
    first = np.column_stack([rows.ravel(), cols.ravel()])
    second = first + np.array([0.0, 1.5])
    sample = np.concatenate([first, second])
    weights = np.r_[np.full(len(first), 2.0), np.ones(len(second))]
    sampling = np.array([2.0, 0.5])
    return sample / sampling, weights, sampling


def test_a_script_pairs_dumbbells_in_the_sample_as_the_find_atoms_widget():
    """``find_dumbbells(..., sampling=)`` pairs the columns as they lie in the sample, its
    centres and vectors on the pixel grid: what the Find atoms widget drew on pixels that
    are not square, which a script could not ask the core for (fails on the base: no
    ``sampling`` keyword)."""
    from napari_tessella.lattice_analysis import find_dumbbells

    pixels, weights, sampling = _oblong_dumbbells()
    assert len(find_dumbbells(pixels, weights)) == 0  # on the pixel grid: no pairs
    table = find_dumbbells(pixels, weights, sampling=tuple(sampling))
    n = len(pixels) // 2
    assert len(table) == n
    np.testing.assert_array_equal(np.sort(table["first"]), np.arange(n))
    np.testing.assert_allclose(table["separation"], 1.5)  # in the sampling's units
    np.testing.assert_allclose(table["orientation"], 0.0, atol=1e-9)  # along the columns
    np.testing.assert_allclose(table[["d_row", "d_col"]], np.tile([0.0, 3.0], (n, 1)),
                               atol=1e-12)  # in pixels
    centres = (pixels[table["first"]] + pixels[table["second"]]) / 2
    np.testing.assert_allclose(table[["row", "col"]], centres)
    # bit for bit the widget's former computation: the pairs of the columns scaled to the
    # sample, their centres and vectors divided back
    scaled = find_dumbbells(pixels * sampling, weights)
    for axis, names in enumerate((("row", "d_row"), ("col", "d_col"))):
        for name in names:
            scaled[name] = scaled[name] / sampling[axis]
    assert table.equals(scaled)
    # one size for both axes, or square pixels: as without sampling, lengths scaled
    plain = find_dumbbells(pixels * sampling, weights)
    same = find_dumbbells(pixels * sampling, weights, sampling=1.0)
    assert same.equals(plain)


def test_find_dumbbells_refuses_a_sampling_that_is_no_size():
    from napari_tessella.lattice_analysis import find_dumbbells

    pixels, weights, _ = _oblong_dumbbells()
    for bad in ((1.0, 0.0), (1.0, -2.0), (np.nan, 1.0)):
        with pytest.raises(ValueError, match="sampling"):
            find_dumbbells(pixels, weights, sampling=bad)


def test_the_square_zoom_given_is_not_made_again(monkeypatch):
    """The Find atoms widget makes :func:`square_zoom` before its run (to refuse pixels
    too far from square at once) and hands it to the core, which does not make it again,
    with the same columns (fails on the base: ``zoom`` was not the core's keyword)."""
    from napari_tessella import _square
    from napari_tessella._finite import find_atoms_finite
    from napari_tessella.synthetic import synthetic_lattice

    image = synthetic_lattice((64, 96), kind="square", spacing=9, seed=3).image[:, ::2]
    sampling = (np.sqrt(0.5), np.sqrt(2.0))
    zoom = _square.square_zoom(image.shape, sampling)
    padded = image.copy()
    padded[0, :3] = np.nan  # (the finite part's crop: the zoom of the whole plane holds)
    made = find_atoms_finite(image, sampling=sampling, separation=6.4)
    made_nan = find_atoms_finite(padded, sampling=sampling, separation=6.4)

    def again(*_):
        raise AssertionError("square_zoom made again")

    monkeypatch.setattr(_square, "square_zoom", again)
    given_nan = find_atoms_finite(padded, sampling=sampling, zoom=zoom, separation=6.4)
    given = find_atoms_finite(image, sampling=sampling, zoom=zoom, separation=6.4)
    np.testing.assert_array_equal(given.result.positions, made.result.positions)
    np.testing.assert_array_equal(given_nan.result.positions, made_nan.result.positions)
    assert len(given.result.positions) > 20


def test_the_watershed_asks_for_the_kernel_once(monkeypatch):
    """``_basins._watershed`` reads skimage's kernel once a call (it asked twice)."""
    from skimage.segmentation import watershed

    from napari_tessella.nuclei import _basins

    kernel = _basins._kernel()
    if kernel is None:
        pytest.skip("this skimage's kernel is not used")
    asked = []
    monkeypatch.setattr(_basins, "_kernel", lambda: asked.append(1) or kernel)
    rng = np.random.default_rng(54)
    image = rng.random((20, 24))
    markers = np.zeros(image.shape, np.int32)
    markers[2, 3], markers[15, 20] = 1, 2
    mask = image < 0.9
    got = _basins._watershed(image, markers, mask)
    assert len(asked) == 1
    np.testing.assert_array_equal(got, watershed(image, markers, mask=mask))


def test_no_left_over_alias_of_the_outside_part():
    """``_finite.FinitePart`` was another name of ``_outside.OutsidePart`` that nothing
    outside ``_finite`` used: gone (fails on the base)."""
    from napari_tessella import _finite

    assert not hasattr(_finite, "FinitePart")
    assert "FinitePart" not in _finite.__all__


def test_no_module_has_stray_blank_lines():
    """Two blank lines between top-level definitions, as everywhere else; three only
    before a section's ruled comment (``# ----``). Fails on the base (three after
    ``_widgets/threshold_label.py``'s ``_MANUAL``, four and more elsewhere)."""
    import re
    from pathlib import Path

    import napari_tessella

    root = Path(napari_tessella.__file__).parent
    stray = [f"{path.relative_to(root)}:{text[:m.start()].count(chr(10)) + 2}"
             for path in sorted(root.rglob("*.py"))
             for text in [path.read_text(encoding="utf-8")]
             for m in re.finditer(r"\n\n\n\n+(?!# -)", text)]
    assert stray == []


def test_the_advice_topics_are_listed_once():
    """The core's, the widgets' and the command line's advice are each written through
    ``advice_by_topic``, the one list of the topics: a table that leaves a topic out is
    refused where it is written, and the three say the same topics in the same order
    (fails on the base: the widgets and the command line imported the topics one by
    one, a list written twice)."""
    from napari_tessella import _validation, cli
    from napari_tessella._widgets import _errors

    topics = list(_validation.advice_by_topic(non_finite="", duplicate_points="", stack="",
                                              no_lattice="", few_columns="",
                                              several_images=""))
    assert list(_validation.ADVICE) == list(_errors._VIEWER_ADVICE) == topics
    assert list(cli._CLI_ADVICE) == topics
    with pytest.raises(TypeError):
        _validation.advice_by_topic(non_finite="", duplicate_points="", stack="",
                                    no_lattice="")
    for module in (cli, _errors):
        assert not hasattr(module, "NON_FINITE")
