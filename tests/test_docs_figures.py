"""docs/make_nuclei_figures.py, which draws the figures of docs/nuclei.md, still runs and
marks the errors as the scorer counts them (so the figures cannot rot silently)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage.io import imread

from napari_tessella.nuclei import score_segmentation

_SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "make_nuclei_figures.py"


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("make_nuclei_figures", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_quick_figure_is_drawn(figures, tmp_path, capsys):
    assert figures.main(["--quick", "--out", str(tmp_path)]) == 0
    png = imread(tmp_path / "nuclei_quick.png")
    assert png.shape[0] > 128 and png.shape[1] >= 128 and png.shape[2] == 3
    # our outlines are drawn (yellow) on the panel, not only in the legend
    panel = png[6:134, 6:134]
    assert np.all(panel == figures.OURS, axis=-1).sum() > 100
    out = capsys.readouterr().out
    assert "F1" in out and "nuclei_quick" in out


def test_every_figure_is_listed(figures, tmp_path):
    # the failure modes of docs/nuclei.md each have a figure, and the document shows each
    names = [f.name for f in figures.figures(tmp_path)]
    doc = (_SCRIPT.parent / "nuclei.md").read_text(encoding="utf-8")
    for name in ("nuclei_textured", "nuclei_saturated", "nuclei_debris", "nuclei_ramp",
                 "nuclei_dense", "nuclei_dense_blur", "nuclei_u2os_like"):
        assert name in names
    for name in names:
        assert f"images/{name}.png" in doc, name


def test_panels_without_data_are_skipped(figures, tmp_path, capsys):
    # no U2OS images there: the augmented panels are skipped with the reason, nothing written
    fig = next(f for f in figures.figures(tmp_path / "absent") if f.name == "nuclei_u2os_like")
    assert figures.render(fig, tmp_path) is None
    assert "skipped: no U2OS images" in capsys.readouterr().out
    assert not (tmp_path / "nuclei_u2os_like.png").exists()


def test_error_marks_match_the_scorer(figures):
    ref = np.zeros((40, 60), np.int32)
    ref[2:10, 2:10] = 1    # split in two
    ref[2:10, 20:28] = 2   # merged with 3
    ref[2:10, 29:37] = 3
    ref[20:30, 2:12] = 4   # missing
    ref[20:30, 20:30] = 5  # found
    pred = np.zeros_like(ref)
    pred[2:10, 2:6], pred[2:10, 6:10] = 1, 2
    pred[2:10, 20:37] = 3
    pred[20:30, 20:30] = 4
    pred[30:38, 45:55] = 5  # spurious
    merged, spurious, split, missing = figures.error_classes(pred, ref)
    s = score_segmentation(pred, ref)
    assert (len(merged), len(spurious), s["split"], len(missing)) == (
        s["merged"], s["spurious"], 1, s["missing"])
    assert list(merged) == [3] and list(spurious) == [5] and list(missing) == [4]
    assert sorted(split) == [1, 2]
    rgb = figures.draw_panel(np.zeros(ref.shape), pred, ref)
    assert np.all(rgb == figures.MERGED, axis=-1).any()
    assert np.all(rgb == figures.SPURIOUS, axis=-1).any()
    assert np.all(rgb == figures.SPLIT, axis=-1).any()
    assert np.all(rgb == figures.MISSING, axis=-1).any()


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("name", ["nuclei", "nuclei-history"])
def test_links_into_nuclei_md_resolve(name):
    # the failure-mode table links to its sections, the guide and its history link into
    # each other, other documents may link into either
    docs = _SCRIPT.parent
    text = (docs / f"{name}.md").read_text(encoding="utf-8")
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert name != "nuclei" or len(links) >= 8
    for path in [*docs.glob("*.md"), docs.parent / "README.md"]:
        links += re.findall(rf"(?<![\w-]){re.escape(name)}\.md#([^)\s]+)",
                            path.read_text(encoding="utf-8"))
    missing = sorted(set(links) - anchors)
    assert not missing, missing


def test_the_guide_is_a_guide():
    """docs/nuclei.md describes the pipeline, its figures and failure modes; the round-by-round
    log lives in docs/nuclei-history.md, which the guide points to."""
    docs = _SCRIPT.parent
    guide = (docs / "nuclei.md").read_text(encoding="utf-8")
    history = (docs / "nuclei-history.md").read_text(encoding="utf-8")
    assert "(nuclei-history.md)" in guide and "(nuclei.md)" in history
    assert not re.search(r"^### Round \d+ together", guide, flags=re.M)
    assert len(guide.splitlines()) < 1500
