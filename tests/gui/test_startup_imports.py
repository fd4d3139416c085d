"""What the window's first paint does not wait for (issue 20, item 13): the controllers and the
engine protocol (made right after the paint, which starts the engine), the Compare tab, every annotation reader
(json, yaml, XML, COCO, CVAT, through `engine.annotations`' and `engine.review`'s package imports),
the review runner, the Review and Activations tabs' modules (built at their first show) and OpenCV
(the canvas's colour bar, decoding, maps, masks, thumbnails) are imported while idle after the
paint or right after it, before anything needs them.
Run in a fresh interpreter: this one has imported them all. (The times: `python -m bench.startup`.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

DEFERRED = ("gui.protocol", "gui.controller", "gui.worker", "gui.plan", "gui.trust.controller", "gui.drawing",
            "gui.compare", "cv2", "gui.review", "gui.review.controller", "gui.features_view", "engine.review.runner", "engine.annotations.source", "engine.annotations.coco",
            "engine.annotations.cvat", "engine.annotations.yolo", "yaml")

LAUNCH = """
import json, os, sys, tempfile
from argparse import Namespace

import gui.app, gui.main_window
from PySide6.QtCore import QEvent, QObject, QTimer
from gui.settings import Settings, make_settings

made = gui.main_window.MainWindow._made_controllers


def no_engine(window):  # no engine process: only the window's own imports
    fresh = window._controllers is None
    controllers = made(window)
    if fresh:
        controllers[0].client.start = lambda: None
    return controllers


gui.main_window.MainWindow._made_controllers = no_engine
DEFERRED = {deferred!r}
seen = {{}}


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and "paint" not in seen:
            seen["paint"] = [name for name in DEFERRED if name in sys.modules]
        return False


def poll(passes=[0]):
    passes[0] += 1
    done = "paint" in seen and all(name in sys.modules for name in DEFERRED)
    if done or passes[0] > 1500:  # a deadline (30 s), not a measure: the imports take well under a second
        seen["idle"] = [name for name in DEFERRED if name not in sys.modules]
        print(json.dumps(seen), flush=True)
        os._exit(0)
    QTimer.singleShot(20, poll)


app = gui.app.application()
folder = tempfile.mkdtemp(prefix="convscope-test-")
window = gui.app.create_window(Namespace(model=None, images=None, trust_model=False),
                               Settings(make_settings(os.path.join(folder, "settings.ini"))))
watcher = FirstPaint(window)
window.installEventFilter(watcher)
poll()
app.exec()
"""


def test_annotation_readers_the_runner_two_tabs_and_opencv_wait_for_the_first_paint_then_come_in_while_idle():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", LAUNCH.format(deferred=DEFERRED)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["paint"] == []  # none of them before the window's first paint
    assert seen["idle"] == []  # all of them after it, without a click: the first review or mask does not wait
