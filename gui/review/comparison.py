"""The Review tab's comparison mode: the open model (A) and the second model (ViewState.model_b)
reviewed on the open lot, as `main.py compare` does, through the engine worker (CompareFolder,
on the review channel: progress, Cancel, Esc, the latest request wins). The tab's table then
lists the comparison rows, the banner gives both verdicts and the agreement, and a finished
comparison folder (comparison.csv / .parquet + comparison.json) opens again."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.errors import ConvScopeError
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHeaderView, QMenu, QPushButton

from gui.protocol import CompareFinished, CompareFolder, CompareRowsComputed, JobFailed

from .comparison_table import (
    ComparisonFilterProxy,
    ComparisonTableModel,
    comparison_banner,
    comparison_line,
)

CSV_NAME, JSON_NAME = "comparison.csv", "comparison.json"  # engine.review.compare_output's names (it loads
# the review runner: not on the way to the window)
TAKEN = (CSV_NAME, JSON_NAME, "results.csv")  # a report folder holding one of these cannot take a comparison


def is_comparison_folder(folder: str | Path) -> bool:
    """True when a folder holds a comparison rather than a review."""
    folder = Path(folder)
    return (folder / CSV_NAME).is_file() and not (folder / "results.csv").is_file()


class ComparisonMode(QObject):
    """The comparison button, the flips / largest-changes controls, and the comparison shown in the tab."""

    _loaded = Signal(object, object, str)  # (rows, summary, error), from the loading thread

    def __init__(self, window, tab, opener) -> None:
        super().__init__(tab)
        self.window, self.tab, self.opener = window, tab, opener
        self.controller = window.controller
        self.model = ComparisonTableModel(self)
        self.proxy = ComparisonFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.generation = -1
        self.folder = ""  # the lot being (or last) compared live; "" for an opened folder
        self.summary: dict | None = None
        self._build_controls()
        signals = self.controller.client.signals
        signals.on(CompareRowsComputed, self._rows_computed)
        signals.on(CompareFinished, self._finished)
        signals.on(JobFailed, self._job_failed)
        self._loaded.connect(self._show_opened)
        self.controller.stateChanged.connect(self.describe)
        self.controller.modelChanged.connect(lambda _info: self.describe())
        self.describe()

    def _build_controls(self) -> None:
        tab = self.tab
        self.button = QPushButton("Compare A and B")
        self.button.clicked.connect(self.run)
        # beside what it runs: after "Review folder" it widened the window past a laptop's 1280 px
        tab.setup_row.insertWidget(tab.setup_row.indexOf(tab.setup) + 1, self.button)
        self.flips = QCheckBox("Flips only")
        self.flips.setToolTip("Show only the images whose predicted class differs between A and B")
        self.flips.toggled.connect(self.proxy.set_flips_only)
        self.largest = QPushButton("Largest map changes")
        self.largest.setToolTip("Sort the images whose evidence moved most first")
        menu = QMenu(self.largest)
        menu.addAction("Lowest map ρ first (rank order of the evidence)", lambda: self.sort_by("map_spearman"))
        menu.addAction("Lowest top-10% IoU first (where the strongest evidence lies)",
                       lambda: self.sort_by("map_top_iou"))
        self.largest.setMenu(menu)
        filters = tab.filters_row
        filters.insertWidget(filters.indexOf(tab.misclassified), self.flips)
        filters.insertWidget(filters.indexOf(tab.misclassified), self.largest)
        self._show_controls(False)

    # -- the request --------------------------------------------------------------------------
    def request(self) -> CompareFolder | None:
        """The comparison of the open folder by A and B with the current method, layer and settings."""
        c = self.controller
        model_b, folder, spec = c.state.model_b, self.window.browser.folder, c.spec_of(c.state.method)
        if not model_b or c.info is None or spec is None or not folder:
            return None
        options = self.tab.options.options(spec.name, c.state.layer if spec.needs_layer else None,
                                          dict(c.state.params_of(spec.name)))
        return CompareFolder(folder, model_b, options, report_folder=self.tab.options.report_destination())

    def describe(self, *_args) -> None:
        """Offer the comparison only while a second model is chosen."""
        model_b = self.controller.state.model_b
        self.button.setVisible(bool(model_b))
        request = self.request()
        self.button.setEnabled(request is not None)
        if model_b:
            a = Path(self.controller.info.path).name if self.controller.info else "A"
            self.button.setToolTip(f"Review this lot with A ({a}) and B ({Path(model_b).name}), the same method "
                                   "and settings, and list where they differ (as “python main.py compare”)")

    def run(self) -> None:
        """Start comparing A and B on the open folder (supersedes a running review or comparison)."""
        request = self.request()
        if request is None:
            self.window.report_error("Choose a second model and open a model and a folder of images first")
            return
        if not self.window.browser.paths():
            self.window.report_error(f"No images to compare in {request.folder}: open another folder (Ctrl+Shift+O)")
            return
        out = request.report_folder
        taken = next((name for name in TAKEN if out and (Path(out) / name).exists()), None)
        if taken:
            self.window.report_error(f"{out} already holds {taken}: choose an empty report folder for the "
                                     "comparison (or untick “Write report to”)")
            return
        self.enter()
        self.folder, self.summary = request.folder, None
        self.model.reset(request.folder, (), request.options.trust)
        self._fit_columns()
        self.tab.show_banner("")
        self.tab.show_message(f"Comparing… 0 of {len(self.window.browser.paths())} images")
        self.tab._set_labels([])
        self.generation = self.controller.submit(request)

    def owns_channel(self) -> bool:
        """True while the review channel's current job is this mode's comparison."""
        return self.generation >= 0 and self.controller.client.is_current("review", self.generation)

    # -- the tab's mode -----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True while the tab shows a comparison."""
        return self.tab.proxy is self.proxy

    def enter(self) -> None:
        """Show the comparison table (leaving a review opened from a folder)."""
        self.opener.leave()
        tab = self.tab
        if not self.active:
            tab.proxy = self.proxy
            tab.table.setModel(self.proxy)
        tab.choose_cell(None, emit=True)
        self._show_controls(True)

    def leave(self) -> None:
        """Back to the review's own table (a review starts, or a review folder opens)."""
        if self.active:
            tab = self.tab
            tab.proxy = self.opener.live_proxy
            tab.table.setModel(tab.proxy)
            from .table import fit_columns_to_rows

            fit_columns_to_rows(tab.table.horizontalHeader())
            tab.show_banner("")
        self._show_controls(False)

    def _show_controls(self, comparing: bool) -> None:
        tab = self.tab
        for widget in (self.flips, self.largest):
            widget.setVisible(comparing)
        for widget in (tab.misclassified, self.opener.flags, tab.overview):
            widget.setVisible(not comparing)  # a comparison has no confusion matrix nor review flags
        if not comparing:
            self.flips.setChecked(False)

    def _fit_columns(self) -> None:
        """Columns in their declared order (the review's moved Flag column left its move in the
        shared header), each fitting its rows."""
        header = self.tab.table.horizontalHeader()
        for logical in range(header.count()):
            header.moveSection(header.visualIndex(logical), logical)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def sort_by(self, name: str) -> None:
        """Sort the table by a comparison column, lowest first (the largest changes on top)."""
        self.tab.table.sortByColumn(self.model.column_of(name), Qt.SortOrder.AscendingOrder)

    # -- replies ------------------------------------------------------------------------------
    def _rows_computed(self, reply: CompareRowsComputed) -> None:
        if reply.generation == self.generation and self.active:
            self.model.add_rows(list(reply.rows))
            self.tab._set_labels(sorted({r.label or "" for r in self.model.rows}))
            self.tab.show_message(f"Comparing… {len(self.model.rows)} of {len(self.window.browser.paths())} "
                                  "images done")

    def _finished(self, reply: CompareFinished) -> None:
        if reply.generation != self.generation:
            return
        self.generation = -1
        self.enter()
        self.show_comparison(self.folder, list(reply.rows), reply.summary)
        self.tab.options.refresh()  # "Open report" once report.html is there
        report = self.tab.options.report_destination()
        written = f" · report in {report}" if report else ""
        done = "Comparison finished: " if reply.summary.get("complete", True) else "Comparison cancelled: "
        self.window.status(done + comparison_line(reply.summary, title=self.controller.title) + written)

    def show_comparison(self, root: str, rows: list, summary: dict) -> None:
        """Fill the table, banner and summary line with a comparison."""
        self.summary = summary
        self.model.reset(root, rows, bool((summary.get("run") or {}).get("trust")))
        self._fit_columns()
        self.tab._set_labels(sorted({r.label or "" for r in rows}))
        self.tab._filter()
        self.tab.show_banner(comparison_banner(summary))
        self.tab.show_message(comparison_line(summary, title=self.controller.title))

    def _job_failed(self, reply: JobFailed) -> None:
        if reply.channel == "review" and self.owns_channel():
            self.tab.show_message(f"The comparison could not run: {reply.message}")

    def stop(self, reason: str) -> None:
        """Forget a live comparison that no longer matches the model or the folder."""
        if self.owns_channel():
            self.controller.drop("review")
        self.generation = -1
        if self.active and self.folder:
            self.model.reset("", ())
            self.leave()
            self.tab.show_message(reason)

    def open_image(self, path: str) -> None:
        """Show a double-clicked row's image: selected in the browser (every image shown if a filter
        hid it), or listed alone when it lies outside the open folder (an opened comparison)."""
        if not Path(path).is_file():
            self.window.report_error(f"{Path(path).name} is not reachable here: the comparison's images were in "
                                     f"{Path(path).parent}")
            return
        browser = self.window.browser
        if not browser.select_path(path):
            browser.show_everything()
            self.controller.open_image(path)  # selects it, or lists it alone
        self.window.show_tab("heatmap")

    # -- an existing comparison folder ----------------------------------------------------------
    def open_folder(self, folder: str) -> None:
        """Read a comparison folder in the background; the tab shows it when it is read."""
        from engine.review.two_models import read_comparison

        self.tab.show_message(f"Opening {folder}…")

        def load() -> None:
            try:
                rows, summary = read_comparison(folder)
                self._loaded.emit(rows, summary, "")
            except (ConvScopeError, OSError, ValueError) as exc:
                self._loaded.emit(None, None, f"{folder}: {exc}")

        threading.Thread(target=load, daemon=True, name="open-comparison").start()

    def _show_opened(self, rows, summary, error: str) -> None:
        if rows is None:
            self.tab.show_message(f"Could not open the comparison: {error}")
            return
        if self.owns_channel():
            self.controller.drop("review")
        self.generation, self.folder = -1, ""
        self.enter()
        images = (summary.get("run") or {}).get("images") or ""
        self.show_comparison(images, rows, summary)
        self.tab.show_message("Opened: " + comparison_line(summary, title=self.controller.title))
