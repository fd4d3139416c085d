"""The engine runs in a child process behind the worker thread: the window's process never
imports TensorFlow, and the engine process dying (a crash inside TensorFlow) costs one error
line and a restart, not the window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from .conftest import DEMO_IMAGES, DEMO_MODEL, ROOT, WAIT_MS, open_window, wait_idle

# Opens the real window offscreen, waits for the first map, reports what the window's process imported.
WINDOW_ONLY = f"""
import json, os, sys, time
from argparse import Namespace
from tempfile import TemporaryDirectory
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from gui.app import application, create_window
from gui.settings import Settings, make_settings

if __name__ == "__main__":
    app = application()
    with TemporaryDirectory() as folder:
        window = create_window(Namespace(model={str(DEMO_MODEL)!r}, images={str(DEMO_IMAGES)!r}, trust_model=False),
                               Settings(make_settings(os.path.join(folder, "s.ini"))))
        deadline = time.monotonic() + {WAIT_MS / 1000}
        timer = QTimer()
        timer.timeout.connect(lambda: (window.canvas.explanation is not None or time.monotonic() > deadline)
                              and app.quit())
        timer.start(50)
        app.exec()
        shown = window.canvas.explanation is not None
        child = window.controller.client.process.pid
        window.close()
    print(json.dumps({{"shown": shown, "child": child, "own": os.getpid(),
                      "tensorflow": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))}}))
"""


def test_the_window_explains_without_importing_tensorflow_in_its_process():
    import json

    env = {**os.environ, "CONVSCOPE_ENGINE": "process"}
    result = subprocess.run([sys.executable, "-c", WINDOW_ONLY], cwd=ROOT, capture_output=True, text=True,
                            timeout=WAIT_MS / 1000 + 60, check=False, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["shown"] and report["child"] != report["own"]
    assert report["tensorflow"] == []


@pytest.mark.skipif(not hasattr(signal, "SIGSEGV") or sys.platform == "win32", reason="POSIX signals")
def test_engine_process_crash_is_one_error_line_and_a_restart(qtbot, settings, monkeypatch):
    monkeypatch.setenv("CONVSCOPE_ENGINE", "process")
    window = open_window(qtbot, settings)
    try:
        _crash_and_recover(qtbot, window)
    finally:
        window.close()


def _crash_and_recover(qtbot, window) -> None:
    client = window.controller.client
    assert client.use_process
    wait_idle(qtbot, window)
    first = client.process
    assert first.pid != os.getpid() and first.is_alive()
    failures: list[tuple[str, str]] = []
    client.signals.job_failed.connect(lambda reply: failures.append((reply.channel, reply.message)))
    with qtbot.waitSignal(client.signals.model_opened, timeout=WAIT_MS):
        os.kill(first.pid, signal.SIGSEGV)  # what a crash inside TensorFlow looks like from outside
    assert len(failures) == 1, failures
    assert "The engine process stopped (signal 11)" in failures[0][1] and "restarting" in failures[0][1]
    assert window.isVisible() and client.process is not first and client.process.is_alive()
    wait_idle(qtbot, window)
    other = window.browser.visible_paths()[3]
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.browser.select_path(other)
    assert window.canvas.path == other and len(failures) == 1, failures


@pytest.mark.parametrize("use_process", [False, True], ids=["thread", "process"])
def test_client_answers_the_same_in_a_thread_and_in_a_process(qtbot, use_process):
    from gui.protocol import Explain, OpenModel
    from gui.worker import EngineClient

    client = EngineClient(use_process=use_process)
    maps = []
    client.signals.explanation_computed.connect(lambda reply: maps.append((reply.generation, reply.explanation)))
    try:
        client.start()
        with qtbot.waitSignal(client.signals.model_opened, timeout=WAIT_MS):
            client.submit(OpenModel(str(DEMO_MODEL)))
        image = str(next(DEMO_IMAGES.glob("*/*.png")))
        stale = client.submit(Explain(image, "saliency", None, None))
        current = client.submit(Explain(image, "gradcam", None, 1))  # supersedes the first
        qtbot.waitUntil(lambda: any(gen == current for gen, _m in maps), timeout=WAIT_MS)
        assert client.is_current("explain", current) and not client.is_current("explain", stale)
        assert [(m.method, m.class_index) for gen, m in maps if gen == current] == [("gradcam", 1)]
        assert all(gen in (stale, current) for gen, _m in maps)  # the stale one is skipped, or dropped by the GUI
        assert (client.process is not None) == use_process
    finally:
        client.stop()
    assert not client.engine_thread.isRunning()


def test_cancel_reaches_a_job_in_the_engine_process(qtbot, settings, slow_method, monkeypatch):
    monkeypatch.setenv("CONVSCOPE_ENGINE", "process")  # slow_method is registered in the child too
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        worker = window.controller.client.signals
        progress: list[str] = []
        worker.progress_reported.connect(lambda reply: progress.append(reply.channel))
        window.method_panel.select(slow_method)
        qtbot.waitUntil(lambda: progress.count("explain") >= 5, timeout=WAIT_MS)
        with qtbot.waitSignal(worker.job_cancelled, timeout=WAIT_MS):
            window.controller.cancel()
        assert window.canvas.explanation.method != slow_method
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.method_panel.select("gradcam")
    finally:
        window.close()
