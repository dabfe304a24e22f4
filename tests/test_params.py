"""Parameters files (napari_tessella.params): format, defaults from the recipes, checks."""

from __future__ import annotations

import json

import pytest

from napari_tessella.params import (
    OPERATIONS,
    load_parameters,
    operation_defaults,
    save_parameters,
)
from napari_tessella.recipes import RECIPES


def test_parameters_file_format(tmp_path):
    path = save_parameters(tmp_path / "p.json", "threshold_label",
                           {"threshold": 0.25, "connectivity": 2, "exclude_border": True})
    doc = json.loads(path.read_text())
    assert doc["operation"] == "threshold_label"
    assert doc["parameters"] == {"threshold": 0.25, "connectivity": 2, "exclude_border": True}
    assert "napari-tessella" in doc
    assert load_parameters(path) == ("threshold_label", doc["parameters"])


def test_operation_defaults_follow_the_signature():
    defaults = operation_defaults("threshold_label")
    assert "image" not in defaults
    assert defaults["threshold"] == "otsu" and defaults["opening"] == 0
    assert operation_defaults("lattice") == {**defaults, "centre": "com"}
    assert "threshold_label" in OPERATIONS


@pytest.mark.parametrize(
    ("operation", "params", "error", "match"),
    [
        ("threshold", {}, ValueError, "unknown operation 'threshold'"),
        ("threshold_label", {"sigma": 1}, ValueError, "unknown parameter.*'sigma'.*valid names"),
        ("threshold_label", {"opening": "big"}, TypeError, "opening must be a whole number"),
        ("threshold_label", {"opening": 2.5}, TypeError, "opening must be a whole number"),
        ("threshold_label", {"exclude_border": 1}, TypeError, "true or false"),
        ("threshold_label", {"smooth_sigma": "1"}, TypeError, "must be a number"),
        ("threshold_label", {"threshold": [1]}, TypeError, "name or a number"),
        ("threshold_label", ["threshold"], TypeError, "mapping"),
    ],
)
def test_save_parameters_rejects(tmp_path, operation, params, error, match):
    with pytest.raises(error, match=match):
        save_parameters(tmp_path / "p.json", operation, params)
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not a valid JSON"),
        ('{"operation": "threshold_label"}', "not a napari-tessella parameters file"),
        ('{"napari-tessella": "0.1.0", "parameters": {}}', "no 'operation'"),
        ('{"napari-tessella": "0.1.0", "operation": "blur", "parameters": {}}',
         "unknown operation"),
        ('{"napari-tessella": "0.1.0", "operation": "lattice", "parameters": {"x": 1}}',
         "unknown parameter"),
    ],
)
def test_load_parameters_rejects(tmp_path, text, match):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_parameters(path)


def test_every_recipe_is_an_operation_with_its_function_defaults():
    import inspect

    assert set(OPERATIONS) == set(RECIPES)
    for name, recipe in RECIPES.items():
        signature = inspect.signature(recipe.function).parameters
        defaults = operation_defaults(name)
        for key, value in defaults.items():
            if key in recipe.extra:
                assert value == recipe.extra[key]
            else:
                assert signature[key].default == value, (name, key)


def test_save_parameters_makes_its_folder_and_refuses_a_folder(tmp_path):
    """The widget's parameters field takes any path: a new folder is made (as Export
    does), and a folder given as the file gets our message, not '[Errno 21]'."""
    from napari_tessella.params import load_parameters, save_parameters

    target = tmp_path / "new folder" / "ü" / "p.json"
    save_parameters(target, "threshold_label", {"opening": 3})
    assert load_parameters(target) == ("threshold_label", {"opening": 3})
    with pytest.raises(ValueError, match="is a folder"):
        save_parameters(tmp_path, "threshold_label", {"opening": 3})
