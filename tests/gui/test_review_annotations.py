"""The Review tab's ground-truth choice (issue 22: `batch --annotations` and the same choice in the
window): a COCO file chosen there reaches the engine's review request, and the lot is scored
against its boxes."""

from __future__ import annotations

from pathlib import Path

from tests.gui.conftest import open_window, wait_idle

BOXED = Path(__file__).resolve().parents[2] / "resources" / "demo" / "boxed_lot"


def test_the_chosen_annotations_reach_the_review_request(qtbot, settings):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        panel = window.review.options
        assert window.review_controller.request().options.annotations is None  # beside the images only
        panel.set_annotations(str(BOXED / "coco.json"))
        assert window.review_controller.request().options.annotations == str(BOXED / "coco.json")
        assert "coco.json" in panel.annotations_button.text()
        panel.set_annotations("")
        assert window.review_controller.request().options.annotations is None
        assert "beside" in panel.annotations_button.text()
    finally:
        window.close()
