"""GUI fixtures: a real window on the demo model, with settings in a temporary INI file."""

from __future__ import annotations

import os
import time
from argparse import Namespace
from pathlib import Path

import pytest
from engine.methods.base import Method
from engine.params import Param

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGES = ROOT / "resources" / "demo" / "images"
WAIT_MS = 120_000  # generous: a cold TensorFlow import and first trace on a slow CI machine
LAPTOP_SCREEN = Path(__file__).with_name("offscreen-1280x720.json")

# The windows of these tests run the engine loop in their worker thread, every answer copied
# through pickle as between processes (gui/worker.py): TensorFlow loads once per test process
# instead of once per window. tests/gui/test_engine_process.py runs the real engine process.
os.environ.setdefault("CONVSCOPE_ENGINE", "thread")

if os.environ.get("QT_QPA_PLATFORM") == "offscreen":  # the GUI tests run on a 1280 x 720 laptop screen
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={LAPTOP_SCREEN}"


class SlowMethod(Method):
    """A stand-in for a slow method (Score-CAM-like): many small steps, each checking cancel.
    A Method, so that what the engine reads of every method (floor, class_agnostic, ...) is there."""

    name = "slow-test"
    title = "Slow (test)"
    needs_layer = True
    parameters = (Param("steps", int, 400, "sleeps of 10 ms", low=1),)

    def run(self, job):
        from engine.methods.gradcam import GradCam

        for step in range(job.params["steps"]):
            job.report(step, job.params["steps"])
            time.sleep(0.01)
        return GradCam(self.context).run(job)


@pytest.fixture
def slow_method(monkeypatch):
    """Have the engine register SlowMethod (for the test's duration)."""
    from gui.worker import EXTRA_METHODS

    monkeypatch.setitem(EXTRA_METHODS, SlowMethod.name, f"{__name__}:{SlowMethod.__qualname__}")
    return SlowMethod.name


@pytest.fixture
def trust_question(monkeypatch):
    """QMessageBox.question stubbed: it answers `answers[0]` (No until a test sets Yes) and keeps
    each question's text in `asked`; returns (answers, asked)."""
    from PySide6.QtWidgets import QMessageBox

    answers, asked = [QMessageBox.StandardButton.No], []

    def question(parent, title, text, buttons=None, default=None):
        asked.append(text)
        return answers[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    return answers, asked


@pytest.fixture
def settings(tmp_path):
    from gui.settings import Settings, make_settings

    return Settings(make_settings(tmp_path / "convscope.ini"))


def open_window(qtbot, settings, wait: bool = True):
    """The real window on the demo model and images; waits for the first map."""
    from gui.app import create_window

    args = Namespace(model=str(DEMO_MODEL), images=str(DEMO_IMAGES), trust_model=False)
    if not wait:
        return create_window(args, settings)
    window = create_window(args, settings)
    qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
    return window


@pytest.fixture
def window(qtbot, settings):
    win = open_window(qtbot, settings)
    yield win
    win.close()


@pytest.fixture(scope="module")
def session():
    """The demo model in the test thread, to compare the window's maps with the engine's."""
    from engine.session import Session

    return Session.open(DEMO_MODEL)


def wait_idle(qtbot, window, timeout: int = WAIT_MS) -> None:
    """Until no job is running."""
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=timeout)
