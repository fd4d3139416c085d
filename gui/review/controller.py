"""Connects the Review tab to the engine worker, the browser and the window's state: builds
the review request from the state and the tab's settings, takes the rows as they arrive,
and filters the browser to a confusion-matrix cell."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from gui.protocol import JobFailed, ReviewFinished, ReviewFolder, ReviewRowsComputed
from gui.trust.banner import banner_html

from .comparison import ComparisonMode
from .opened import install_opener
from .tab import ReviewTab
from .table import summary_text


def earlier_run_differs(request: ReviewFolder, model_path: str) -> str:
    """What makes the review already in the request's report folder another one ("another model
    (old.keras)", "another image folder (lot_7)"), from its summary.json; "" when it is the same
    model and folder, or the folder does not say. The engine checks the rest (the model's hash,
    the settings) when it resumes."""
    from engine.review.outdir import SUMMARY_NAME  # engine.review imports OpenCV: not at start-up

    try:
        run = json.loads((Path(request.report_folder) / SUMMARY_NAME).read_text(encoding="utf-8")).get("run", {})
    except (OSError, ValueError, AttributeError):
        return ""
    model, images = run.get("model"), run.get("images")
    if model and Path(model).resolve() != Path(model_path).resolve():
        return f"another model ({Path(model).name})"
    if images and Path(images).resolve() != Path(request.folder).resolve():
        return f"another image folder ({Path(images).name})"
    return ""


class ReviewController(QObject):
    """The review's logic; the tab only shows and emits."""

    def __init__(self, window, tab: ReviewTab) -> None:
        super().__init__(window)
        self.window, self.tab = window, tab
        self.controller = window.controller
        self.generation = -1  # the review whose results the tab takes (kept through a Cancel)
        self.folder = ""
        signals = self.controller.client.signals
        signals.on(ReviewRowsComputed, self._rows_computed)
        signals.on(ReviewFinished, self._review_finished)
        signals.on(JobFailed, self._job_failed)
        tab.runRequested.connect(self.run)
        tab.imageRequested.connect(self.open_image)
        tab.cellChosen.connect(self._cell_chosen)
        self.controller.modelChanged.connect(self._model_changed)
        self.controller.stateChanged.connect(self.describe)
        window.browser.folderChanged.connect(self._folder_changed)
        self._remember_options()
        self.opener = install_opener(window, tab)  # "Open review…": finished review folders
        self.comparison = self.opener.comparison = ComparisonMode(window, tab, self.opener)  # A against B
        self.describe()

    def _remember_options(self) -> None:
        """Restore the review settings and keep them in the settings as they change."""
        settings, options = self.window.settings, self.tab.options
        options.show_options(settings.get("review_target"), settings.get("review_tolerance"),
                             settings.get("review_threshold"))
        folder = settings.get("review_report_folder")
        if folder and Path(folder).is_dir():
            options.set_report_folder(folder)
            options.write_report.setChecked(False)  # writing is chosen anew each session

        def save() -> None:
            chosen = options.options("", None, {})
            settings.set("review_target", chosen.target)
            settings.set("review_tolerance", chosen.tolerance)
            settings.set("review_threshold", chosen.threshold)

        options.changed.connect(save)
        options.folderChanged.connect(lambda folder: settings.set("review_report_folder", folder))
        options.reportNotOpened.connect(self.window.report_error)

    def request(self) -> ReviewFolder | None:
        """The review of the open folder with the current method, layer and parameters."""
        c = self.controller
        state = c.state
        folder = self.window.browser.folder
        spec = c.spec_of(state.method)
        if c.info is None or spec is None or not folder:
            return None
        options = self.tab.options.options(spec.name, state.layer if spec.needs_layer else None,
                                          dict(state.params_of(spec.name)))
        return ReviewFolder(folder, options, report_folder=self.tab.options.report_destination())

    def describe(self, *_args) -> None:
        """Show what the button would run."""
        request = self.request()
        if request is None:
            self.tab.describe_setup("Open a model and a folder first", runnable=False)
            return
        options = request.options
        layer = f" · layer {options.layer}" if options.layer else ""
        self.tab.describe_setup(f"{self.controller.title(options.method)}{layer} · folder {Path(request.folder).name}",
                                request.folder)

    def run(self) -> None:
        """Start reviewing the open folder in the worker (supersedes a running review)."""
        request = self.request()
        if request is None:
            self.window.report_error("Open a model and a folder of images first")
            return
        if not self.window.browser.paths():
            self.window.report_error(f"No images to review in {request.folder}: open another folder (Ctrl+Shift+O)")
            return
        if request.report_folder and (Path(request.report_folder) / "results.csv").exists():
            other = earlier_run_differs(request, self.controller.info.path)
            if other:  # checked first: a review of another model or folder is not one to continue
                self.window.report_error(f"{request.report_folder} holds a review of {other}: choose another "
                                         "report folder (or untick “Write report to”)")
                return
            if not self.confirm_resume(request.report_folder):
                return
            request = replace(request, resume=True)
        self.folder, self.ran = request.folder, request.options
        self.opener.leave()
        self.comparison.leave()
        self.tab.start(request.folder, self.controller.info.class_names, len(self.window.browser.paths()))
        self.generation = self.controller.submit(request)

    def confirm_resume(self, folder: str) -> bool:
        """Ask before adding to the review already in the report folder."""
        answer = QMessageBox.question(
            self.window, "Continue the earlier review?",
            f"{folder} already holds a review (results.csv).\n\nContinue it? Images it already holds "
            "are kept and skipped; the settings must be the same. Choose No to pick another folder.")
        return answer == QMessageBox.StandardButton.Yes

    def open_image(self, path: str) -> None:
        """Select the image in the browser (showing every image if a filter hid it) and show its map."""
        if self.comparison.active:
            self.comparison.open_image(path)
            return
        browser = self.window.browser
        if not browser.select_path(path):
            browser.show_everything()
            if not browser.select_path(path):
                self.window.report_error(f"{Path(path).name} is no longer in the browser")
                return
        self.window.show_tab("heatmap")

    def _rows_computed(self, reply: ReviewRowsComputed) -> None:
        if reply.generation == self.generation:
            self.tab.add_rows(list(reply.rows))

    def _review_finished(self, reply: ReviewFinished) -> None:
        if reply.generation != self.generation:
            return
        result = reply.result
        self.tab.set_result(result)
        info, ran = self.controller.info, getattr(self, "ran", None)
        self.tab.show_banner(banner_html(  # the trust verdict, when asked for, and what it is about
            getattr(result, "trust", None), method=self.controller.title(ran.method) if ran else None,
            layer=ran.layer if ran else None, default_layer=info.default_layer if info else None))
        report = self.tab.options.report_destination()
        written = f" · report in {report}" if report else ""
        self.tab.options.refresh()
        self.window.status(("Review finished: " if result.complete else "Review cancelled: ")
                           + summary_text(result) + written)

    def _job_failed(self, reply: JobFailed) -> None:
        if reply.channel == "review" and not self.comparison.owns_channel():
            self.tab.show_message(f"The review could not run: {reply.message}")

    def _cell_chosen(self, cell) -> None:
        browser = self.window.browser
        if cell is None:
            browser.restrict(None)
            return
        names = self.tab.class_names
        if cell[0] == cell[1]:
            browser.misclassified.setChecked(False)  # the cell's images are all correctly classified
        if self.opener.active and not self.opener.in_browser(browser.folder):
            return  # an opened review of images the browser does not show
        paths = self.opener.model.cell_paths(cell) if self.opener.active else self.tab.cell_paths(cell)
        browser.restrict(paths, f"label {names[cell[0]]} predicted as {names[cell[1]]}")

    def _drop(self) -> None:
        """Stop a running review whose results no longer apply."""
        if self.generation >= 0 and self.controller.client.is_current("review", self.generation):
            self.controller.drop("review")
        self.generation = -1

    def _model_changed(self, _info) -> None:
        self._drop()
        self.comparison.stop("The model changed: press “Compare A and B” to compare again.")
        self.tab.options.open_report.setEnabled(False)  # the folder's report is the previous model's
        self.tab.invalidate("The model changed: press “Review folder” to review again.")
        self.describe()

    def _folder_changed(self, _folder: str = "") -> None:
        if self.window.browser.folder != self.comparison.folder:
            self.comparison.stop("Another folder is open: press “Compare A and B” to compare it.")
        if self.window.browser.folder != self.folder:
            self._drop()
            self.tab.invalidate("Another folder is open: press “Review folder” to review it.")
        self.describe()
