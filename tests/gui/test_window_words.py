"""No stale or missing words (issue 20, item 7): the pixel read-out follows the image and the map
under a still cursor, a blank compare tile says why, "Open report" does not open the previous
model's report, and a report folder of another model is refused before "Continue it?" is asked."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMessageBox

from .conftest import WAIT_MS, wait_idle

CENTRE = (64, 64)  # a pixel of the demo images (128 x 128)


def _point_at(canvas, x: int, y: int) -> None:
    """The mouse comes to rest over image pixel (x, y), as pyqtgraph's proxy reports it."""
    canvas._mouse_moved((canvas.view.mapViewToScene(QPointF(x + 0.5, y + 0.5)),))


def test_the_readout_follows_a_new_image_and_a_new_method_under_a_still_cursor(qtbot, window):
    wait_idle(qtbot, window)
    canvas = window.canvas
    _point_at(canvas, *CENTRE)
    assert window.hover.text() == canvas.value_at(*CENTRE) and "heat" in window.hover.text()
    first = window.hover.text()
    paths = window.browser.paths()
    window.browser.select_path(paths[-1])  # another image, the mouse not moved
    qtbot.waitUntil(lambda: canvas.path == paths[-1], timeout=WAIT_MS)
    assert window.hover.text() == canvas.value_at(*CENTRE)  # while explaining: no heat of the old map
    qtbot.waitUntil(lambda: canvas.shows_map_of(paths[-1]), timeout=WAIT_MS)
    assert window.hover.text() == canvas.value_at(*CENTRE) != first
    shown = window.hover.text()
    window.controller.set_method("saliency", {})
    qtbot.waitUntil(lambda: canvas.explanation is not None and canvas.explanation.method == "saliency",
                    timeout=WAIT_MS)
    assert window.hover.text() == canvas.value_at(*CENTRE) != shown  # the same pixel, the new map's heat


def _explanation(heatmap: np.ndarray, notes: tuple[str, ...] = ()):
    from engine.results import Explanation

    return Explanation("gradcam", "last_conv", 1, "scratch", 0.97, 3.0, heatmap, heatmap[:4, :4], 0.01,
                       empty=not heatmap.any(), notes=notes)


def test_a_blank_compare_tile_says_there_is_no_positive_evidence(qtbot):
    from gui.canvas import describe
    from gui.compare import CompareGrid

    grid = CompareGrid()
    qtbot.addWidget(grid)
    keys = [("m", "/x/a.png", 1, "gradcam", None, None, ()), ("m", "/x/a.png", 1, "layercam", None, None, ())]
    grid.set_tiles(["Grad-CAM", "LayerCAM"], keys)
    image = np.zeros((16, 16, 3), np.uint8)
    blank = _explanation(np.zeros((16, 16), np.float32))
    grid.set_result(keys[0], image, blank)
    grid.set_result(keys[1], image, _explanation(np.ones((16, 16), np.float32)))
    assert "no positive evidence" in describe(blank)  # the Heatmap tab's words ...
    assert grid.tiles[0].caption().endswith("· no positive evidence for this class")  # ... on the tile too
    assert "no positive evidence" in grid.tiles[0].title.toolTip()
    assert "evidence" not in grid.tiles[1].caption()  # a map with evidence says nothing of the kind
    flat = _explanation(np.zeros((16, 16), np.float32), ("the map is flat: ...",))
    grid.set_result(keys[0], image, flat)
    assert "flat map" in grid.tiles[0].caption()


def _old_review(folder, model: str, images: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "results.csv").write_text("path\n", encoding="utf-8")
    (folder / "report.html").write_text("<html></html>", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"run": {"model": model, "images": images}}), encoding="utf-8")


def test_open_report_is_disabled_when_the_model_changes(qtbot, window, tmp_path):
    wait_idle(qtbot, window)
    options = window.review.options
    _old_review(tmp_path / "report", window.controller.info.path, window.browser.folder)
    options.set_report_folder(str(tmp_path / "report"))
    assert options.open_report.isEnabled()  # the review of this model
    window.controller.modelChanged.emit(window.controller.info)
    assert not options.open_report.isEnabled()  # the folder's report is the previous model's


def test_a_report_folder_of_another_model_is_refused_before_asking_to_continue(qtbot, window, tmp_path,
                                                                                 monkeypatch):
    wait_idle(qtbot, window)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args) or QMessageBox.StandardButton.No)
    review = window.review_controller
    _old_review(tmp_path / "other", str(tmp_path / "old_model.keras"), window.browser.folder)
    window.review.options.set_report_folder(str(tmp_path / "other"))
    review.run()
    assert not asked  # no "Continue it?" for another model's review
    assert "another model (old_model.keras)" in window.message.text()
    assert not window.controller.busy  # and nothing started
    _old_review(tmp_path / "lot", window.controller.info.path, str(tmp_path / "elsewhere"))
    window.review.options.set_report_folder(str(tmp_path / "lot"))
    review.run()
    assert not asked and "another image folder (elsewhere)" in window.message.text()
    _old_review(tmp_path / "same", window.controller.info.path, window.browser.folder)
    window.review.options.set_report_folder(str(tmp_path / "same"))
    review.run()
    assert len(asked) == 1  # the same model and folder: asked whether to continue (answered No)
