"""`python -m bench.responsiveness`: does the window's event loop ever stall?

A 5 ms QTimer in the GUI thread records the time between its ticks while the real window
(demo model, demo images, settings in a temporary file) goes through what a new user does
first: start-up, the first explanation, the compare grid over all methods and over all layers,
filter patterns, the Trust tab's "Check this map" and sanity check, a review of the demo folder
without and with Trust metrics, and opening a generated review of a million rows (`--rows`).
For each scenario it prints the longest gap and the 99th percentile; the goal is no gap over
50 ms. Ticks are timestamps taken with
`time.perf_counter`, so a stall anywhere in the GUI thread (Python holding the GIL in another
thread, a slow slot, painting) shows as one long gap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from argparse import Namespace
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGES = ROOT / "resources" / "demo" / "images"
TICK_MS = 5
GOAL_MS = 50.0
BIG_REVIEW_ROWS = 1_000_000


@dataclass(frozen=True)
class Gaps:
    """The event loop's gaps during one scenario."""

    scenario: str
    seconds: float
    ticks: int
    longest_ms: float
    p99_ms: float
    over_goal: int  # gaps longer than GOAL_MS

    def line(self) -> str:
        """One line of the report."""
        flag = "ok" if self.longest_ms <= GOAL_MS else f"{self.over_goal} gap(s) over {GOAL_MS:.0f} ms"
        return (f"{self.scenario:<18} {self.seconds:7.2f} s  longest {self.longest_ms:7.1f} ms  "
                f"p99 {self.p99_ms:6.1f} ms  {flag}")


class SlowEvents:
    """With --why: the GUI thread's innermost Python frames, sampled every 3 ms by a helper
    thread, to say what a gap was. A gap with no samples outside the event loop was spent in Qt's
    C++ (painting, layout) or waiting for the CPU or the GIL. (Overriding QApplication.notify to
    time events is not an option: PySide6 then wraps widgets under construction as their base
    class.)"""

    def __init__(self) -> None:
        self.samples: list[tuple[float, str]] = []

    def start_sampling(self) -> None:
        """Sample the GUI thread's innermost frames in a daemon thread."""
        import threading
        import traceback

        main = threading.main_thread().ident

        def sample() -> None:
            while True:
                frame = sys._current_frames().get(main)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-3:]
                    self.samples.append((time.perf_counter(), " < ".join(
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))))
                time.sleep(0.003)

        threading.Thread(target=sample, daemon=True, name="gap-sampler").start()

    def explain(self, began: float, ended: float) -> list[str]:
        """What the GUI thread did from `began` to `ended`: its commonest stacks outside the loop."""
        from collections import Counter

        inside = [stack for at, stack in self.samples if began <= at <= ended]
        stacks = Counter(stack for stack in inside if "wait_until" not in stack)
        return [f"{len(inside)} samples"] + [f"{count} in {stack}" for stack, count in stacks.most_common(3)]


class TickRecorder:
    """A precise 5 ms timer in the GUI thread that timestamps every tick."""

    def __init__(self, why: SlowEvents | None = None) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.why = why
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        """Start ticking (the first timestamp is now)."""
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def gaps(self, scenario: str, began: float, ended: float) -> Gaps:
        """The gaps between consecutive ticks from `began` to `ended`, both ends included."""
        inside = [t for t in self.ticks if began <= t <= ended]
        stamps = np.array([began, *inside, ended])
        gaps = np.diff(stamps) * 1000.0
        if self.why is not None:
            for start, length in zip(stamps[:-1], gaps, strict=True):
                if length > GOAL_MS:
                    why = "; ".join(self.why.explain(start, start + length / 1000))
                    print(f"  {scenario}: {length:.0f} ms gap: {why}", file=sys.stderr)
        return Gaps(scenario, round(ended - began, 3), len(inside), round(float(gaps.max()), 1),
                    round(float(np.percentile(gaps, 99)), 1), int((gaps > GOAL_MS).sum()))


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Run the event loop until `predicate()` holds (checked every 10 ms); the time it held."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    state = {"at": 0.0}

    def check() -> None:
        if predicate():
            state["at"] = time.perf_counter()
            loop.quit()
        elif time.perf_counter() > deadline:
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    check()
    if not state["at"]:
        loop.exec()
    poll.stop()
    if not state["at"]:
        raise TimeoutError(f"{what}: not done after {timeout:.0f} s")
    return state["at"]


class Run:
    """The window and the recorder, scenario after scenario."""

    def __init__(self, settings_dir: str, timeout: float, why: SlowEvents | None = None) -> None:
        from gui.app import application
        from gui.settings import Settings, make_settings

        if why is not None:
            why.start_sampling()
        self.app = application()
        self.settings = Settings(make_settings(Path(settings_dir) / "convscope.ini"))
        self.timeout = timeout
        self.recorder = TickRecorder(why)
        self.window = None
        self.spans: list[tuple[str, float, float]] = []  # scenario, began, ended; gaps computed at the end

    def idle(self) -> bool:
        """No job running and the model known."""
        c = self.window.controller
        return c.info is not None and not c.busy

    def measure(self, scenario: str, action: Callable[[], None], done: Callable[[], bool]) -> None:
        """Run `action`, then the event loop until `done`; keep the gaps."""
        began = time.perf_counter()
        action()
        ended = wait_until(done, self.timeout, scenario)
        self.spans.append((scenario, began, ended))

    def start_up(self) -> None:
        """Window shown -> model opened (start-up) -> first map and folder predictions done."""
        from gui.app import create_window

        self.recorder.start()
        began = time.perf_counter()
        args = Namespace(model=str(DEMO_MODEL), images=str(DEMO_IMAGES), trust_model=False)
        self.window = create_window(args, self.settings)
        shown = time.perf_counter()
        window = self.window  # its controllers are made after the first paint: asking for one here would make it now
        opened = wait_until(lambda: window.has_controllers and window.controller.info is not None
                            and bool(window.controller.specs), self.timeout, "start-up")
        self.spans.append(("start-up", shown, opened))
        first = wait_until(lambda: self.window.canvas.explanation is not None and self.idle(), self.timeout,
                           "first explanation")
        self.spans.append(("first explanation", opened, first))
        self.window_seconds = shown - began

    def compare(self, mode: str) -> None:
        """The compare grid over every method, or over every CAM layer."""
        window = self.window

        def action() -> None:
            window.show_tab("compare")
            window.compare.set_mode(mode)
            window.controller.fill_tab()

        self.measure(f"compare {mode}", action, self.idle)

    def patterns(self) -> None:
        """Filter patterns of the target layer with the features tab's defaults."""
        window = self.window

        def action() -> None:
            window.show_tab("features")
            window.features.set_layer(window.controller.layer)
            window.controller.show_patterns(window.features.patterns_request())

        self.measure("filter patterns", action, self.idle)

    def trust(self) -> None:
        """The Trust tab's "Check this map", then its sanity check, on the current image."""
        view = self.window.trust

        def check() -> None:
            self.window.tabs.setCurrentWidget(view)
            view.check_button.click()

        self.measure("trust check", check, lambda: self.idle() and view.result is not None)
        self.measure("sanity check", view.sanity_button.click, lambda: self.idle() and view.sanity_result is not None)

    def review(self, trust: bool = False) -> None:
        """A review of the demo folder (no report folder: nothing written), with or without the
        Trust metrics (deletion / insertion, pixel AUROC, defect removal, a verdict)."""
        window = self.window

        def action() -> None:
            window.show_tab("review")
            window.review.options.trust.setChecked(trust)
            window.review_controller.run()

        self.measure("review with trust" if trust else "review", action,
                     lambda: self.idle() and window.review.result is not None)

    def open_review(self, rows: int, folder: Path) -> None:
        """Open a finished review of `rows` generated rows (written before the clock starts)."""
        from bench.review_rows import write_generated_review

        write_generated_review(folder, rows, csv=False, images=str(DEMO_IMAGES))
        opener = self.window.review_controller.opener
        self.measure("open a big review", lambda: opener.open(str(folder)),
                     lambda: opener.active and len(opener.model.orders) >= opener.model.columnCount())

    def close(self) -> None:
        """Stop the timer and close the window (stops the engine)."""
        self.recorder.timer.stop()
        if self.window is not None:
            self.window.close()


def run(timeout: float = 300.0, why: bool = False, rows: int = BIG_REVIEW_ROWS) -> tuple[list[Gaps], float]:
    """Every scenario in order on one window; the gaps and the seconds to the window shown."""
    with tempfile.TemporaryDirectory(prefix="convscope-bench-") as settings_dir:
        bench = Run(settings_dir, timeout, SlowEvents() if why else None)
        try:
            bench.start_up()
            bench.compare("methods")
            bench.compare("layers")
            bench.patterns()
            bench.trust()
            bench.review()
            bench.review(trust=True)
            if rows:
                bench.open_review(rows, Path(settings_dir) / "big-review")
        finally:
            bench.close()
    # after the runs: numpy's percentile imports numpy.ma on first use, which inside a run was a gap
    return [bench.recorder.gaps(*span) for span in bench.spans], bench.window_seconds


def main(argv: list[str] | None = None) -> int:
    """Print one line per scenario (or JSON); exit 1 when a gap exceeds the goal."""
    parser = argparse.ArgumentParser(prog="python -m bench.responsiveness", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per scenario")
    parser.add_argument("--rows", type=int, default=BIG_REVIEW_ROWS,
                        help=f"rows of the generated review to open (default {BIG_REVIEW_ROWS:,}; 0 skips it)")
    parser.add_argument("--why", action="store_true",
                        help="for each gap over the goal, print (stderr) the GUI thread's commonest stacks in it")
    args = parser.parse_args(argv)
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    results, window_seconds = run(args.timeout, args.why, args.rows)
    worst = max(r.longest_ms for r in results)
    if args.json:
        json.dump({"tick_ms": TICK_MS, "goal_ms": GOAL_MS, "load_1min_at_start": load,
                   "window_seconds": round(window_seconds, 3), "scenarios": [asdict(r) for r in results]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"GUI-thread gaps of a {TICK_MS} ms timer (goal: none over {GOAL_MS:.0f} ms); "
              f"platform {os.environ.get('QT_QPA_PLATFORM') or 'default'}, 1-min load at start {load:.2f}")
        for result in results:
            print(result.line())
    return 0 if worst <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
