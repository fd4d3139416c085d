"""Start the window: QApplication, settings, MainWindow, the engine worker, the event loop.

Nothing here imports TensorFlow: the engine does so in its own process (behind the worker
thread, gui/worker.py), so the window shows at once with a status line saying the engine is
loading.

Debug hook for README screenshots (not part of the command line):
    python -m gui.app --screenshot docs/shot.png [--tab compare|features|review|trust] [--image NAME] [--review-trust]
                      [--review-compare MODEL_B]
                      [--compare-model B [--compare-mode models]] [--method NAME]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from .lazy import import_when_idle, one_per_pass
from .main_window import MainWindow
from .settings import Settings, make_settings

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_MODEL = RESOURCES / "demo" / "defects.keras"
DEMO_IMAGES = RESOURCES / "demo" / "images"
IDLE_STEP_MS = 100  # between the Trust tab's plots, made one by one after the first paint
# What MainWindow.controller imports, leaves first: one module per event-loop pass after the paint
# (in one pass they stalled the window for 60-85 ms).
CONTROLLER_MODULES = ("gui.protocol", "gui.plan", "gui.engine_loop", "gui.worker", "gui.compare", "gui.second_model",
                      "gui.controller", "gui.trust.controller", "engine.annotations.editing", "gui.drawing.layer",
                      "gui.drawing")
FIRST_PAINT_MS = 250  # open the first model and folder by then even if the window has not painted
# Imported while idle after the first paint, not before it: every annotation reader (the mask of the
# first map shown needs one; each brings json, yaml, XML), the review runner (the first review) and the
# modules of the Review and Activations tabs (built at their first show).
# OpenCV, which every module using it imports in its functions, comes in right after the paint,
# when the canvas gives its colour bar the engine's colours (gui.canvas).
AFTER_FIRST_PAINT = ("yaml", "engine.annotations.coco", "engine.annotations.cvat", "engine.annotations.yolo",
                     "engine.annotations.source", "engine.annotations.single", "engine.review.columns",
                     "engine.review.rows", "engine.review.runner", "engine.review.table", "gui.review.comparison",
                     "gui.review.opened", "gui.review.tab", "gui.review", "gui.features_view")  # leaves first


def application() -> QApplication:
    """The QApplication (created once)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ConvScope")
    app.setOrganizationName("ConvScope")
    return app


def initial_paths(args, settings: Settings) -> tuple[str, str, list[str]]:
    """Model and folder to open: the arguments (cli.app has checked they exist), else the last
    ones, else the demo; and the remembered ones that have since disappeared."""
    gone = []
    model = getattr(args, "model", None) or settings.get("model")
    if model and not Path(model).exists():
        gone.append(model)
    if not model or not Path(model).exists():
        model = str(DEMO_MODEL)
    folder = getattr(args, "images", None) or settings.get("folder")
    if folder and not Path(folder).is_dir():
        gone.append(folder)
    if not folder or not Path(folder).is_dir():
        folder = str(DEMO_IMAGES) if DEMO_IMAGES.is_dir() else ""
    return model, folder, gone


def gone_text(gone: list[str]) -> str:
    """One status line for the remembered paths that disappeared (names: it must fit at 1280 px)."""
    names = ", ".join(Path(path).name for path in gone)
    return f"⚠ Gone since last time: {names}; opened the demo instead"


def _keep_saying(window: MainWindow, text: str) -> None:
    """Say `text` now and again once the first map is shown (the loading messages replace the
    status line until then)."""
    window.status(text)

    def again(_explanation=None) -> None:
        window.controller.explanationShown.disconnect(again)
        window.status(text)

    window.controller.explanationShown.connect(again)


class FirstPaint(QObject):
    """Calls `then` once, from the event loop, after `window`'s first paint (or after
    FIRST_PAINT_MS if it never paints, as a window that is not shown does not)."""

    def __init__(self, window: QWidget, then: Callable[[], None]) -> None:
        super().__init__(window)
        self.window, self.then, self.done = window, then, False
        window.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_MS, self._call)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Queue the call at the first paint (after it: the paint is not delayed)."""
        if event.type() == QEvent.Type.Paint and not self.done:
            QTimer.singleShot(0, self._call)
        return False

    def _call(self) -> None:
        if not self.done:
            self.done = True
            self.window.removeEventFilter(self)
            self.then()


def create_window(args=None, settings: Settings | None = None) -> MainWindow:
    """Build the window and show it; once it has painted, make its controllers, start the engine
    (a process importing TensorFlow) and queue the first model and folder: none of them is what
    the first paint shows, and on two cores the engine's import would compete with the paint."""
    settings = settings or Settings(make_settings())
    if getattr(args, "method", None):  # the screenshot hook's method: the window starts with it
        settings.set("method", args.method)
    window = MainWindow(settings)
    geometry = settings.store.value("geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    window.show()
    model, folder, gone = initial_paths(args, settings)

    def open_first() -> None:
        window.controller.open_model(model, trust=bool(getattr(args, "trust_model", False)))
        if getattr(args, "compare_model", None):  # after A: the engine opens them in this order
            window.controller.open_model_b(args.compare_model)
        if folder:
            window.controller.open_folder(folder, select=settings.get("image") or None)
        if gone:
            _keep_saying(window, gone_text(gone))
        window.trust.build_when_idle(IDLE_STEP_MS)  # while the engine loads: not at the tab's first click
        # half a step out of phase with the plots, so that an import and a plot never share a pass
        QTimer.singleShot(IDLE_STEP_MS // 2, lambda: import_when_idle(AFTER_FIRST_PAINT, IDLE_STEP_MS))

    # One step an event-loop pass, so that the window answers between them: the controllers' modules,
    # then the controllers (made at first use) and the engine's start, then the first model and folder.
    steps = [partial(importlib.import_module, name) for name in CONTROLLER_MODULES]
    steps += [lambda: window.controller, lambda: window.controller.client.start(), open_first]
    window.first_paint = FirstPaint(window, lambda: one_per_pass(steps, stop=lambda: window.closed))
    return window


def run_window(args) -> int:
    """Open the window and run until it closes; the exit code of the event loop."""
    app = application()
    window = create_window(args)
    shot = getattr(args, "screenshot", None)
    if shot:
        if getattr(args, "compare_mode", None):
            window.compare.set_mode(args.compare_mode)
        if getattr(args, "review_trust", False):
            window.review.options.trust.setChecked(True)
        if getattr(args, "review_compare", None):  # the Review tab's comparison mode, against this model B
            window.controller.update(model_b=str(Path(args.review_compare).resolve()))
        _arm_screenshot(window, shot, getattr(args, "tab", "heatmap"), getattr(args, "image", None))
    code = app.exec()
    return int(code)


def _arm_screenshot(window: MainWindow, path: str, tab: str, image: str | None) -> None:
    """Save window.grab() after the first explanation (and the requested tab) is ready, then quit."""
    state = {"done": False}

    def grab() -> None:
        if not window.grab().save(str(path)):
            print(f"could not save {path}", file=sys.stderr)
        window.close()

    def ready(_explanation=None) -> None:
        if state["done"]:
            return
        if image and window.controller.path and Path(window.controller.path).name != image:
            for candidate in window.browser.paths():
                if Path(candidate).name == image:
                    window.browser.select_path(candidate)
                    return
        state["done"] = True
        if tab == "compare":
            window.show_tab("compare")
            window.controller.busyChanged.connect(lambda busy: busy or QTimer.singleShot(500, grab))
        elif tab == "review":
            window.show_tab("review")
            if window.controller.state.model_b:
                window.review_controller.comparison.run()
                window.review_controller.comparison.sort_by("map_spearman")  # the largest map changes on top
            else:
                window.review_controller.run()
            window.controller.busyChanged.connect(lambda busy: busy or QTimer.singleShot(800, grab))
        elif tab == "trust":
            _check_then_sanity(window, lambda: QTimer.singleShot(800, grab))
        elif tab == "features":
            window.show_tab("features")
            window.controller.show_patterns(window.features.patterns_request())
            window.controller.busyChanged.connect(lambda busy: busy or QTimer.singleShot(500, grab))
        elif window.controller.state.model_b or window.controller.second.pending:
            _when_idle(window, lambda: QTimer.singleShot(800, grab))  # model B's map too
        else:
            QTimer.singleShot(800, grab)

    window.controller.explanationShown.connect(ready)


def _when_idle(window: MainWindow, then: Callable[[], None]) -> None:
    """Call `then` once no job runs (now if none does)."""
    if not window.controller.busy:
        then()
        return

    def idle(busy: bool) -> None:
        if not busy:
            window.controller.busyChanged.disconnect(idle)
            then()

    window.controller.busyChanged.connect(idle)


def _check_then_sanity(window: MainWindow, then) -> None:
    """Show the Trust tab, run "Check this map", then the sanity check, then call `then`."""
    window.show_tab("trust")
    steps = [window.trust.sanity_button.click, then]

    def next_step(busy: bool) -> None:
        if not busy and steps:
            QTimer.singleShot(300, steps.pop(0))

    window.controller.busyChanged.connect(next_step)
    window.trust.check_button.click()


def main(argv: list[str] | None = None) -> int:
    """`python -m gui.app [--model M] [--images DIR] [--compare-model B] [--screenshot PATH --tab T --image NAME
    --compare-mode M]`."""
    parser = argparse.ArgumentParser(prog="python -m gui.app")
    parser.add_argument("--model")
    parser.add_argument("--images")
    parser.add_argument("--trust-model", action="store_true")
    parser.add_argument("--screenshot")
    parser.add_argument("--tab", default="heatmap", choices=("heatmap", "compare", "features", "review", "trust"))
    parser.add_argument("--review-trust", action="store_true", help="tick the review's Trust metrics")
    parser.add_argument("--image")
    parser.add_argument("--compare-mode", choices=("methods", "layers", "classes", "models"))
    parser.add_argument("--method", help="the method to start with (engine name, e.g. occlusion)")
    parser.add_argument("--compare-model", metavar="B", help="a second model to compare with (Keras or an export)")
    parser.add_argument("--review-compare", metavar="MODEL_B", help="with --tab review: compare with this model")
    return run_window(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
