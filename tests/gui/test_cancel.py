"""Esc stops what the user waits for, and nothing else stays broken: folder predictions resume,
unfinished compare tiles say they were cancelled, Esc with nothing running says nothing, and
opening a model first stops the old model's long job (the load waited behind it)."""

from __future__ import annotations

from .conftest import WAIT_MS, open_window, wait_idle


def test_folder_predictions_resume_after_a_cancel(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        controller, model = window.controller, window.browser.model
        missing = window.browser.paths()[5:12]
        for path in missing:  # as if Esc came while the folder was still being predicted
            controller.predictions.pop(path)
            model.rows[model.row_of(path)].prediction = None
        window.method_panel.select(slow_method)
        qtbot.waitUntil(lambda: "explain" in controller.busy, timeout=WAIT_MS)
        controller.cancel()
        assert window.message.text() == "Cancelled"
        assert "this map is for the earlier settings" in window.canvas.title_text()  # Grad-CAM's, not the slow one's
        qtbot.waitUntil(lambda: all(p in controller.predictions for p in missing), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: all(model.rows[model.row_of(p)].prediction is not None for p in missing),
                        timeout=WAIT_MS)
    finally:
        window.close()


def test_esc_with_nothing_running_changes_nothing(qtbot, window):
    wait_idle(qtbot, window)
    before = window.message.text()
    window.controller.cancel()
    assert window.message.text() == before != "Cancelled"


def test_unfinished_compare_tiles_say_cancelled(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        window.method_panel.select(slow_method)
        window.compare.set_mode("classes")
        window.show_tab("compare")
        qtbot.waitUntil(lambda: "compare" in window.controller.busy, timeout=WAIT_MS)
        window.controller.cancel()
        waiting = [t for t in window.compare.tiles if t.explanation is None]
        assert waiting and all("cancelled" in t.title.text for t in waiting)
        assert not any("computing" in t.title.text for t in window.compare.tiles)
    finally:
        window.close()


def test_opening_a_model_stops_the_running_job_first(qtbot, settings, slow_method):
    from .conftest import DEMO_MODEL

    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        window.method_panel.select(slow_method)
        qtbot.waitUntil(lambda: "explain" in window.controller.busy, timeout=WAIT_MS)
        window.controller.open_model(str(DEMO_MODEL))
        assert "explain" not in window.controller.busy and "Opening defects.keras" in window.message.text()
        qtbot.waitUntil(lambda: window.controller.info is not None and not window.controller.busy, timeout=WAIT_MS)
    finally:
        window.close()
