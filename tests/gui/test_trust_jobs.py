"""Issue 20, item 5: the Trust tab's checks and Compare > Faithfulness are jobs like every other
long one (progress, Cancel, Esc), and a newly selected image is explained between the steps of a
long trust job instead of after it. On the real window at 1280 x 720 (tests/gui/conftest.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .conftest import WAIT_MS, wait_idle


def _is_a_running_job(window) -> bool:
    """The status bar shows the job with its Cancel button, as for an explanation or a review."""
    return "trust" in window.controller.busy and window.cancel_button.isVisibleTo(window)


def test_trust_checks_show_progress_and_stop_at_esc(qtbot, window):
    wait_idle(qtbot, window)
    window.show_tab("trust")
    view, trust = window.trust, window.trust_controller
    assert trust.sanity()
    assert _is_a_running_job(window)
    window.actions.cancel.trigger()  # Esc
    assert not window.controller.busy and view.sanity_text.text() == "Cancelled."
    progress = []
    window.controller.client.signals.progress_reported.connect(lambda reply: progress.append(reply.channel))
    assert trust.check()  # the engine works on after a cancel, and the curves report progress
    assert _is_a_running_job(window)
    qtbot.waitUntil(lambda: view.result is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert "trust" in progress


def test_a_new_image_is_explained_before_the_rest_of_a_long_trust_job(qtbot, window):
    wait_idle(qtbot, window)
    before = window.canvas.explanation
    events: list[tuple[str, str]] = []
    signals = window.controller.client.signals
    signals.explanation_computed.connect(lambda reply: events.append(("map", reply.request.path)))
    signals.job_finished.connect(lambda reply: events.append(("finished", reply.channel)))
    window.show_tab("trust")
    assert window.trust_controller.sanity()  # a cascade over every layer: many steps
    shown = window.controller.path
    window.browser.select_row(next(i for i, p in enumerate(window.browser.paths()) if p != shown))
    new = window.controller.path
    assert window.controller.explain_request(new) is not None and window.controller.cached_result(
        window.controller.explain_request(new)) is None  # it must be computed
    assert window.predictions.explained is None  # not the class explained on the previous image
    qtbot.waitUntil(lambda: ("finished", "trust") in events, timeout=WAIT_MS)
    assert events.index(("map", new)) < events.index(("finished", "trust"))
    assert window.canvas.path == new and window.canvas.explanation is not before
    assert window.predictions.explained == window.canvas.explanation.class_index


def test_compare_faithfulness_is_a_job_with_progress_and_cancel(qtbot, window):
    wait_idle(qtbot, window)
    compare = window.compare
    compare.set_mode("methods")
    for action in compare.methods_menu.actions():
        action.setChecked(action.data() in {"gradcam", "saliency"})
    window.show_tab("compare")
    qtbot.waitUntil(lambda: len(compare.tiles) == 2 and all(t.explanation for t in compare.tiles), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    button = window.trust_controller.compare.button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert _is_a_running_job(window) and button.text() == "Faithfulness…"
    window.actions.cancel.trigger()  # Esc
    assert not window.controller.busy and button.text() == "Faithfulness"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all("del " in t.title.text for t in compare.tiles), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert button.text() == "Faithfulness"
