"""The status line speaks of what is on screen now: a note of an earlier map, or a review of an
earlier folder, no longer shows once the canvas or the folder has changed."""

from __future__ import annotations

from dataclasses import replace

from .conftest import DEMO_IMAGES, WAIT_MS, wait_idle


def test_a_note_of_an_earlier_map_goes_with_it(qtbot, window):
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
    controller, shown = window.controller, window.canvas.explanation
    request = controller.explain_request(controller.state.image)
    display = window.canvas.item.image
    controller._show(request, replace(shown, notes=("no positive evidence for this class",)), display)
    assert "no positive evidence" in window.message.text()
    controller._show(request, shown, display)
    assert "no positive evidence" not in window.message.text()


def test_an_empty_folder_is_not_reviewed_and_the_next_folder_forgets_it(qtbot, window, tmp_path):
    wait_idle(qtbot, window)
    empty = tmp_path / "empty"
    empty.mkdir()
    window.controller.open_folder(str(empty))
    window.show_tab("review")
    window.review_controller.run()
    assert "No images to review" in window.message.text()
    assert window.review.result is None
    window.controller.open_folder(str(DEMO_IMAGES))
    assert "No images to review" not in window.message.text()  # the folder's count, or the map's line


def test_a_report_that_cannot_be_opened_says_where_it_is(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda _url: False))
    options = window.review.options
    options.report_folder = str(tmp_path)
    options._open_report()
    assert "No web browser" in window.message.text() and str(tmp_path / "report.html") in window.message.text()


def test_one_image_is_counted_as_one(qtbot, window):
    wait_idle(qtbot, window)
    first = window.browser.paths()[0]
    window.browser.set_folder(str(DEMO_IMAGES), [first])
    assert window.browser.count.text().startswith("1 image") and "1 images" not in window.browser.count.text()
