"""`python -m bench.startup`: how soon the window shows, as a ratio to the Qt import time.

Each run is a fresh interpreter that goes the way `python main.py` does (argument parsing,
Qt and pyqtgraph, the display check, the window, the engine process started) and closes the
window at its first paint, reporting:

- launch -> window painted, from the interpreter's first line;
- the import of PySide6.QtWidgets and pyqtgraph inside that launch, and the time from its end
  to the window shown (the goal: about half a second);
- whether TensorFlow was imported in the window's process (it must not be).

A separate fresh interpreter per run measures the bare Qt import (PySide6.QtWidgets and
pyqtgraph, nothing else) for the ratio. Medians over `--runs`, after one uncounted launch that
caches the bytecode (in a temporary folder). Settings go to a temporary file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

QT_ONLY = """
import time
began = time.perf_counter()
import PySide6.QtWidgets, pyqtgraph
print(time.perf_counter() - began)
"""

# The launch, timed from the wrapper's first line; stops once the window has been shown.
LAUNCH = """
import time
began = time.perf_counter()
import json, os, sys, tempfile
sys.argv = ["main.py"]
import cli.app

state = {}
folder = tempfile.mkdtemp(prefix="convscope-bench-")
real_run_gui = cli.app.run_gui


def run_gui(args):
    state["qt_began"] = time.perf_counter()
    import PySide6.QtWidgets, pyqtgraph
    state["qt_done"] = time.perf_counter()
    import gui.app
    from PySide6.QtCore import QEvent, QObject, QTimer
    from gui.settings import Settings, make_settings

    real_create = gui.app.create_window

    class FirstPaint(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and "shown" not in state:
                state.update(shown=time.perf_counter(), visible=watched.isVisible(), status=watched.message.text())
                QTimer.singleShot(0, watched.close)
            return False

    def create_window(args=None, settings=None):
        window = real_create(args, Settings(make_settings(os.path.join(folder, "settings.ini"))))
        state["filter"] = FirstPaint(window)
        window.installEventFilter(state["filter"])
        return window

    gui.app.create_window = create_window
    return real_run_gui(args)


if __name__ == "__main__":
    cli.app.run_gui = run_gui
    code = cli.app.main(["gui"])
    print(json.dumps({"code": code, "total": state["shown"] - began, "qt_import": state["qt_done"] - state["qt_began"],
                      "after_qt": state["shown"] - state["qt_done"], "before_qt": state["qt_began"] - began,
                      "visible": state["visible"], "status": state["status"],
                      "tensorflow": any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules)}))
"""


def _python(code: str, pycache: str) -> str:
    """Run `code` in a fresh interpreter whose bytecode is cached in `pycache` (as an installed
    copy's is after its first launch, even where PYTHONDONTWRITEBYTECODE is set)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            check=False, env=env)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
    return result.stdout.strip().splitlines()[-1]


def measure(runs: int = 3) -> dict:
    """Medians of `runs` launches and of `runs` bare Qt imports, each in a fresh interpreter,
    after one uncounted launch that fills the bytecode cache."""
    launches, bare = [], []
    with tempfile.TemporaryDirectory(prefix="convscope-pycache-") as pycache:
        _python(LAUNCH, pycache)
        for _ in range(runs):
            bare.append(float(_python(QT_ONLY, pycache)))
            launches.append(json.loads(_python(LAUNCH, pycache)))
    median = {key: statistics.median(run[key] for run in launches)
              for key in ("total", "qt_import", "after_qt", "before_qt")}
    qt = statistics.median(bare)
    return {"runs": runs, "qt_import_alone": round(qt, 3), **{k: round(v, 3) for k, v in median.items()},
            "ratio_to_qt_import": round(median["total"] / qt, 2),
            "visible": all(run["visible"] for run in launches),
            "status": launches[-1]["status"],
            "tensorflow_in_window_process": any(run["tensorflow"] for run in launches)}


def main(argv: list[str] | None = None) -> int:
    """Print the figures (or JSON); exit 1 if the window did not show or imported TensorFlow."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="launches to take the median of (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    figures = measure(args.runs)
    if args.json:
        print(json.dumps({**figures, "load_1min_at_start": load}, indent=2))
    else:
        print(f"Window start-up, medians of {args.runs} fresh launches "
              f"(platform {os.environ.get('QT_QPA_PLATFORM') or 'default'}, 1-min load at start {load:.2f}):")
        print(f"  Qt import alone (PySide6.QtWidgets + pyqtgraph)   {figures['qt_import_alone']:.2f} s")
        print(f"  launch -> window shown                            {figures['total']:.2f} s "
              f"= {figures['ratio_to_qt_import']:.2f}x the Qt import")
        print(f"    before Qt (arguments, display check)            {figures['before_qt']:.2f} s")
        print(f"    Qt import within the launch                     {figures['qt_import']:.2f} s")
        print(f"    Qt imported -> window shown                     {figures['after_qt']:.2f} s")
        print(f"  status line when shown: {figures['status']!r}")
        print(f"  TensorFlow in the window's process: {'yes' if figures['tensorflow_in_window_process'] else 'no'}")
    return 0 if figures["visible"] and not figures["tensorflow_in_window_process"] else 1


if __name__ == "__main__":
    sys.exit(main())
