"""`python -m bench.review_table [--rows N]`: a generated million-row review opened in the
Review tab, measured: seconds to open, memory, and the event loop's longest gap while it
opens, sorts by every column and filters by every confusion cell, flag and label.

A 5 ms QTimer in the GUI thread timestamps its ticks; a stall anywhere in the GUI thread
(a slow slot, painting, Python holding the GIL in the loading thread) shows as a long gap.
The goal is no gap over 100 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GOAL_MS = 100.0


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Ticks:
    """Timestamps of a 5 ms timer in the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer  # noqa: TID251 - a GUI benchmark

        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))
        self.timer.start()

    def longest_ms(self, began: float, ended: float) -> float:
        """The longest gap between ticks (or the window's edges) within [began, ended]."""
        inside = [began, *(t for t in self.times if began <= t <= ended), ended]
        return float(np.max(np.diff(inside)) * 1000) if len(inside) > 1 else 0.0


def spin(app, seconds: float) -> None:
    """Run the event loop for a while (the timer ticks, queued signals arrive)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def run(rows: int) -> dict:
    """Open a generated review of `rows` rows and measure; a dict of figures."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt  # noqa: TID251 - a GUI benchmark
    from PySide6.QtWidgets import QApplication  # noqa: TID251

    from bench.review_rows import write_generated_review

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui.review.opened import ReviewFolderOpener
    from gui.review.tab import ReviewTab

    class Window:
        controller = None

        def status(self, _text: str) -> None:
            pass

    with tempfile.TemporaryDirectory() as temp:
        started = time.perf_counter()
        folder = write_generated_review(Path(temp) / "review", rows, csv=False)
        generated = time.perf_counter() - started
        tab = ReviewTab()
        tab.resize(1400, 900)
        tab.show()
        opener = ReviewFolderOpener(Window(), tab)
        ticks = Ticks()
        spin(app, 0.2)
        before = rss_mb()
        began = time.perf_counter()
        opener.open(str(folder))
        while not opener.active:
            spin(app, 0.005)
        opened = time.perf_counter()
        while len(opener.model.orders) < opener.model.columnCount():
            spin(app, 0.005)
        sorted_all = time.perf_counter()
        spin(app, 0.1)
        figures = {"rows": rows, "generate_s": round(generated, 2), "open_s": round(opened - began, 2),
                   "all_sort_orders_s": round(sorted_all - began, 2),
                   "open_longest_gap_ms": round(ticks.longest_ms(began, time.perf_counter()), 1),
                   "rss_increase_mb": round(rss_mb() - before, 1)}
        figures["sort_longest_gap_ms"] = _worst(app, ticks, [
            (lambda c=c, o=o: tab.table.sortByColumn(c, o))
            for c in range(opener.model.columnCount()) for o in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder)], "sort")
        count = len(opener.opened.result.class_names)
        figures["cell_filter_longest_gap_ms"] = _worst(app, ticks, [
            (lambda cell=(i, j): tab.choose_cell(cell, emit=False)) for i in range(count) for j in range(count)], "cell_filter")
        tab.choose_cell(None, emit=False)
        figures["flag_filter_longest_gap_ms"] = _worst(app, ticks, [
            (lambda i=i: opener.flags.setCurrentIndex(i)) for i in range(opener.flags.count())], "flag_filter")
        opener.flags.setCurrentIndex(0)
        figures["label_filter_longest_gap_ms"] = _worst(app, ticks, [
            (lambda i=i: tab.label_box.setCurrentIndex(i)) for i in range(tab.label_box.count())], "label_filter")
        figures["scroll_longest_gap_ms"] = _worst(app, ticks, [
            (lambda f=f: tab.table.verticalScrollBar().setValue(int(f * tab.table.verticalScrollBar().maximum())))
            for f in np.linspace(0, 1, 20)], "scroll")
        tab.close()
    figures.update({f"{kind}_gui_cpu_ms": value for kind, value in CPU_MS.items()})
    figures["load_average"] = round(os.getloadavg()[0], 1)
    return figures


CPU_MS: dict[str, float] = {}  # per kind of action: the GUI thread's CPU time for the slowest one


def _worst(app, ticks: Ticks, actions, kind: str = "") -> float:
    """The longest gap over a series of actions, each followed by 50 ms of event loop; also
    records in CPU_MS the GUI thread's CPU time for the action and its repaint (load-independent)."""
    worst, cpu = 0.0, 0.0
    for action in actions:
        began, spent = time.perf_counter(), time.thread_time()
        action()
        app.processEvents()
        cpu = max(cpu, time.thread_time() - spent)
        spin(app, 0.05)
        worst = max(worst, ticks.longest_ms(began, time.perf_counter()))
    if kind:
        CPU_MS[kind] = round(cpu * 1000, 1)
    return round(worst, 1)


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit 1 when a gap exceeds the goal."""
    parser = argparse.ArgumentParser(prog="python -m bench.review_table", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    figures = run(args.rows)
    for name, value in figures.items():
        print(f"{name:<28} {value}")
    gaps = [v for k, v in figures.items() if k.endswith("gap_ms")]
    print(f"goal: no gap over {GOAL_MS:.0f} ms: {'met' if max(gaps) <= GOAL_MS else 'NOT met'}")
    return 0 if max(gaps) <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
