"""Long jobs: the event loop keeps turning, Cancel stops them, newer requests supersede, bad models."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from .conftest import WAIT_MS, open_window, wait_idle


def _heartbeat(qtbot) -> tuple[QTimer, list[int]]:
    ticks = [0]
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    return timer, ticks


def test_event_loop_turns_while_a_slow_method_runs_and_cancel_stops_it(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        method = slow_method  # many cancel checks: the job is certainly still running when cancelled
        progress = []
        window.controller.client.signals.progress_reported.connect(
            lambda r: progress.append((r.channel, r.done, r.total)))
        timer, ticks = _heartbeat(qtbot)
        window.method_panel.select(method)
        qtbot.waitUntil(lambda: len([p for p in progress if p[0] == "explain"]) >= 5, timeout=WAIT_MS)
        running_ticks = ticks[0]
        qtbot.waitUntil(lambda: ticks[0] > running_ticks + 3, timeout=WAIT_MS)
        assert "explain" in window.controller.busy  # still running while the loop turned
        with qtbot.waitSignal(window.controller.client.signals.job_cancelled, timeout=WAIT_MS):
            qtbot.mouseClick(window.cancel_button, _left())
        timer.stop()
        assert not window.controller.busy and not window.cancel_button.isVisible()
        assert window.canvas.explanation.method != method
        # the worker is still usable after a cancel
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.method_panel.select("gradcam")
    finally:
        window.close()


def test_heartbeat_during_scorecam(qtbot, settings):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        method = "scorecam"
        timer, ticks = _heartbeat(qtbot)
        before = ticks[0]
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS) as signal:
            window.method_panel.select(method)
        timer.stop()
        assert signal.args[0].method == method
        assert ticks[0] > before
    finally:
        window.close()


def test_newer_request_supersedes_a_stale_one(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        paths = window.browser.visible_paths()
        window.method_panel.select(slow_method)  # starts a long job on the current image
        shown = []
        window.controller.explanationShown.connect(shown.append)
        window.browser.select_path(paths[5])
        window.browser.select_path(paths[6])
        window.method_panel.select("gradcam")
        qtbot.waitUntil(lambda: bool(shown) and not window.controller.busy.get("explain"), timeout=WAIT_MS)
        assert window.canvas.path == paths[6]
        assert all(e.method == "gradcam" for e in shown)
    finally:
        window.close()


def test_failed_model_load_keeps_the_previous_model(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    with qtbot.waitSignal(window.controller.client.signals.job_failed, timeout=WAIT_MS):
        window.open_path(str(broken))
    qtbot.waitUntil(lambda: "model" not in window.controller.busy, timeout=WAIT_MS)
    assert window.controller.info.name == "defects.keras"
    assert "Model not loaded" in window.message.text()
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "still loaded" in boxes[0].text()
    boxes[0].close()
    other = window.browser.visible_paths()[2]
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.browser.select_path(other)


def test_features_tab_activations_and_filling_filter_grid(qtbot, window):
    window.show_tab("features")
    window.controller.show_activations("block2_conv")
    qtbot.waitUntil(lambda: window.features.result is not None, timeout=WAIT_MS)
    result = window.features.result
    assert result.kind == "activations" and result.image.ndim == 3
    results = []
    window.controller.client.signals.features_computed.connect(  # activations of the new layer may arrive too
        lambda reply: results.append(reply.result) if reply.result.kind == "filters" else None)
    window.features.set_layer("block1_conv")
    window.features.count.setValue(4)
    window.features.size_box.setValue(32)
    window.features.steps.setValue(10)
    window.features.patterns_button.click()
    qtbot.waitUntil(lambda: bool(results) and results[-1].final, timeout=WAIT_MS)
    assert any(not r.final for r in results)  # the grid filled in as the ascent ran
    assert window.features.results["filters"].tiles.shape == (4, 32, 32, 3)


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
