"""The window's title and Compare caption of a class-agnostic map (issue 20, item 4) name no class."""

from __future__ import annotations

import numpy as np
from engine.results import Explanation
from gui.canvas import describe
from gui.compare import Tile


def _explanation(method: str, empty: bool = False) -> Explanation:
    heatmap = np.zeros((4, 4), np.float32)
    return Explanation(method, "conv", 1, "scratch", 0.009, -4.7, heatmap, heatmap, 0.006, empty=empty,
                       notes=("no positive evidence for this class: the map is all zero",) if empty else ())


def test_titles_say_class_agnostic_instead_of_a_class():
    """Guards: "Eigen-CAM · class scratch (0.9 %)" for a map that is the same for every class."""
    title = describe(_explanation("eigencam"), "Eigen-CAM")
    assert "class-agnostic" in title and "scratch" not in title and "0.9" not in title
    assert "class scratch (0.9%)" in describe(_explanation("gradcam"), "Grad-CAM")
    assert "for this class" not in describe(_explanation("eigencam", empty=True), "Eigen-CAM")


def test_compare_captions_say_class_agnostic():
    tile = Tile("Eigen-CAM", None, None, None)
    tile.explanation = _explanation("eigencam")
    assert "class-agnostic" in tile.caption() and "scratch" not in tile.caption()
    by_class = Tile("scratch", None, None, None, titles={"eigencam": "Eigen-CAM"})
    by_class.explanation = _explanation("eigencam")
    assert "class-agnostic" in by_class.caption() and "0%" not in by_class.caption()
    grad = Tile("Grad-CAM", None, None, None)
    grad.explanation = _explanation("gradcam")
    assert "scratch 1%" in grad.caption()
