"""Eigen-CAM is class-agnostic (issue 20, item 4): the method declares it, the explanation
carries it, `explain` says it (text and `--json`), and a review scores its map against every
defect of the image rather than the explained class's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.methods import METHODS
from engine.review import ReviewOptions, review_folder
from engine.review.report import _method_text
from tests.cli_run import run
from tests.engine.test_review_run import DEMO_MODEL, make_folder
from tests.models import image, session, tiny_cnn


def test_the_declaration_and_the_explanation_say_class_agnostic():
    """Guards: an Eigen-CAM explanation that claims a class (no flag, or a flag on every method)."""
    assert {name for name, cls in METHODS.items() if cls.class_agnostic} == {"eigencam"}
    sess, picture = session(tiny_cnn(seed=1)), image(32, 32, seed=2)
    eigen = sess.explain(picture, "eigencam", "conv2", class_index=2)
    assert eigen.class_agnostic and eigen.to_json()["class_agnostic"] is True
    grad = sess.explain(picture, "gradcam", "conv2", class_index=2)
    assert not grad.class_agnostic and grad.to_json()["class_agnostic"] is False


def test_explain_says_class_agnostic_in_text_and_json(tmp_path, capsys):
    picture = tmp_path / "x.png"
    import cv2

    cv2.imwrite(str(picture), image(64, 64, seed=3).display)
    code, out, _ = run(capsys, "explain", "--model", DEMO_MODEL, "--image", picture, "--method", "eigencam", "--json")
    assert code == 0 and json.loads(out)["class_agnostic"] is True
    code, out, _ = run(capsys, "explain", "--model", DEMO_MODEL, "--image", picture, "--method", "eigencam")
    assert code == 0 and "class-agnostic" in out and ": class " not in out
    code, out, _ = run(capsys, "explain", "--model", DEMO_MODEL, "--image", picture, "--json")
    assert json.loads(out)["class_agnostic"] is False


@pytest.fixture(scope="module")
def demo():
    from engine import Session

    return Session.open(DEMO_MODEL)


def test_a_review_scores_a_class_agnostic_map_against_every_defect(demo, tmp_path):
    """Guards: Eigen-CAM's map scored against the explained class's pixels of a class-index mask."""
    root = make_folder(tmp_path / "images", per_class=1)
    rows = {m: {Path(r.path).name: r for r in review_folder(demo, root, ReviewOptions(method=m)).rows}
            for m in ("gradcam", "eigencam")}
    masked = [name for name, row in rows["gradcam"].items() if row.mask == "class"]
    assert masked, "the demo folder has class-index masks"
    for name in masked:
        assert rows["eigencam"][name].mask == "binary"
        assert "class-agnostic" in rows["eigencam"][name].note and "class-agnostic" not in rows["gradcam"][name].note
    assert "class-agnostic" in _method_text("eigencam") and _method_text("gradcam") == "gradcam"
