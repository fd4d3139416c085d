"""The Review tab: `convscope batch` inside the window. It reviews the open folder in the
engine worker (progress and Cancel in the status bar), fills a sortable, filterable table
with the columns of results.csv, shows the confusion matrix (a click filters the table and
the browser to one cell) and the summary line; a double-click opens the image."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from engine.review.metrics import DEFAULT_THRESHOLD, DEFAULT_TOLERANCE
from engine.review.runner import ReviewOptions as EngineReviewOptions
from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .compose import method_title
from .confusion import ConfusionMatrix, LabelStatsTable
from .jobs import ReviewFolder
from .mask_overlay import MaskOverlay
from .review_model import PATH_ROLE, ReviewFilterProxy, ReviewTableModel, summary_text
from .worker import as_params

ALL_LABELS = "All labels"
START_HINT = ("Review every image of the open folder: predict, explain and score it against its mask, "
              "as `convscope batch` does. Press “Review folder”.")


class ReviewOptions(QObject):
    """What `convscope batch` takes beyond method and layer: the class to explain, the metric
    settings, and an optional report folder that receives results.csv, summary.json,
    report.html and the overlays, as `--out` does. Two rows of widgets: `settings_row` and
    `report_row`."""

    folderChanged = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target = QComboBox()
        self.target.addItem("predicted class", "predicted")
        self.target.addItem("folder label's class", "label")
        self.target.setToolTip("Explain each image's predicted class (`--target predicted`) or the class "
                               "named by its sub-folder (`--target label`; images without one use the prediction)")
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setRange(0.0, 500.0)
        self.tolerance.setDecimals(0)
        self.tolerance.setSuffix(" px")
        self.tolerance.setValue(DEFAULT_TOLERANCE)
        self.tolerance.setToolTip("Pointing game: the heatmap's peak counts as a hit within this many pixels "
                                  "of the mask (`--tolerance`)")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.05, 0.95)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip("IoU: the emphasized region is where the map is at least this (`--threshold`)")
        self.write_report = QCheckBox("Write report to")
        self.write_report.setToolTip("Also write results.csv, summary.json, report.html and the overlays "
                                     "into a folder of your choice, as `convscope batch --out` does")
        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.clicked.connect(self.choose_folder)
        self.open_report = QPushButton("Open report")
        self.open_report.setToolTip("Open report.html in the web browser")
        self.open_report.clicked.connect(self._open_report)
        self.open_report.setEnabled(False)
        self.report_folder = ""
        self.settings_row = QWidget()
        row = QHBoxLayout(self.settings_row)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Explain", self.target), ("Pointing within", self.tolerance),
                              ("IoU region ≥", self.threshold)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
            row.addSpacing(8)
        row.addStretch(1)
        self.report_row = QWidget()
        row = QHBoxLayout(self.report_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.write_report)
        row.addWidget(self.folder_button)
        row.addWidget(self.open_report)
        self.write_report.toggled.connect(self._report_toggled)

    def set_report_folder(self, folder: str) -> None:
        """Where the report goes (an empty folder turns writing off)."""
        self.report_folder = folder
        self.folder_button.setText(Path(folder).name + "/" if folder else "Choose folder…")
        self.folder_button.setToolTip(folder or "Choose the folder for the report")
        self.write_report.setChecked(bool(folder))
        self.refresh()
        self.folderChanged.emit(folder)

    def refresh(self) -> None:
        """Enable Open report once the folder holds one."""
        folder = self.report_folder
        self.open_report.setEnabled(bool(folder) and (Path(folder) / "report.html").is_file())

    def choose_folder(self) -> None:
        """Ask for the report folder."""
        folder = QFileDialog.getExistingDirectory(self.report_row, "Folder for the review report", self.report_folder)
        if folder:
            self.set_report_folder(folder)

    def _report_toggled(self, on: bool) -> None:
        if on and not self.report_folder:
            self.choose_folder()
            if not self.report_folder:
                self.write_report.setChecked(False)

    def report_destination(self) -> str:
        """The report folder if writing is on, else ""."""
        return self.report_folder if self.write_report.isChecked() else ""

    def _open_report(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.report_folder) / "report.html")))


class ReviewTab(QWidget):
    """The table, the confusion matrix and the summary of a folder review."""

    runRequested = Signal()
    imageRequested = Signal(str)  # absolute path of a double-clicked row
    cellChosen = Signal(object)  # (true index, predicted index) or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result = None
        self.class_names: tuple[str, ...] = ()
        self.model = ReviewTableModel(self)
        self.proxy = ReviewFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.run_button = QPushButton("Review folder")
        self.run_button.setToolTip("Predict, explain and score every image of the open folder "
                                   "with the current method and layer (like `convscope batch`)")
        self.run_button.clicked.connect(self.runRequested)
        self.setup = QLabel()
        self.setup.setStyleSheet("color: palette(mid);")
        self.options = ReviewOptions(self)
        self.setup.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.misclassified = QCheckBox("Misclassified only")
        self.misclassified.toggled.connect(self._filter)
        self.label_box = QComboBox()
        self.label_box.addItem(ALL_LABELS)
        self.label_box.setToolTip("Show the images of one label (sub-folder)")
        self.label_box.currentIndexChanged.connect(self._filter)
        self.summary = QLabel(START_HINT)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: 600; padding: 2px 0;")
        self.table = self._make_table()
        self.matrix = ConfusionMatrix()
        self.matrix.cellChosen.connect(self._cell_clicked)
        self.stats = LabelStatsTable()
        self.cell_note = QLabel()
        self.cell_note.setWordWrap(True)
        self.clear_cell = QPushButton("Show all cells")
        self.clear_cell.clicked.connect(lambda: self.choose_cell(None))
        self._layout()
        self.choose_cell(None, emit=False)

    def _make_table(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setSortingEnabled(True)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(22)
        header = view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, self.model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(36)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        view.doubleClicked.connect(self._double_clicked)
        view.setToolTip("Double-click a row to open the image; click a header to sort")
        return view

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.run_button)
        top.addWidget(self.setup, 1)
        top.addWidget(self.options.report_row)
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Confusion matrix</b> · rows: label · columns: predicted"))
        left.addWidget(self.matrix, 1)
        cell = QHBoxLayout()
        cell.addWidget(self.cell_note, 1)
        cell.addWidget(self.clear_cell)
        left.addLayout(cell)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>Per label</b>"))
        right.addWidget(self.stats, 1)
        hint = QLabel("Click a matrix cell to list its images below and in the browser. "
                      "Double-click a row to open the image.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        right.addWidget(hint)
        overview = QWidget()
        row = QHBoxLayout(overview)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(left, 1)
        row.addLayout(right, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(overview)
        split.addWidget(self._table_panel())
        split.setSizes([250, 450])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.options.settings_row)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

    def _table_panel(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("<b>Images</b>"))
        filters.addStretch(1)
        filters.addWidget(self.misclassified)
        filters.addWidget(self.label_box)
        column.addLayout(filters)
        column.addWidget(self.table, 1)
        return panel

    # -- contents ---------------------------------------------------------------------------
    def describe_setup(self, text: str) -> None:
        """What a review would run with (method, layer, folder)."""
        self.setup.setText(text)

    def start(self, root: str, class_names: tuple[str, ...], total_hint: int = 0) -> None:
        """A review begins: empty table, matrix of zeros."""
        self.result, self.class_names = None, tuple(class_names)
        self.model.reset(root)
        self.summary.setText(summary_text(None, 0, total_hint))
        self._set_labels([])
        self.choose_cell(None, emit=True)
        self.matrix.set_matrix(self.class_names, np.zeros((len(class_names),) * 2, np.int64))

    def add_rows(self, rows) -> None:
        """A finished batch."""
        self.model.add_rows(rows)
        self._set_labels(sorted({r.label or "" for r in self.model.rows}))
        self.summary.setText(f"Reviewing… {len(self.model.rows)} images done")

    def set_result(self, result) -> None:
        """The review ended (completely or cancelled): the final rows, matrix and summary."""
        self.result = result
        self.model.reset(self.model.root, result.rows)
        self.matrix.set_matrix(result.class_names, result.confusion)
        self.stats.set_stats(result.per_label, result.overall)
        self._set_labels([s.label if s.label != "(no label)" else "" for s in result.per_label])
        self.summary.setText(summary_text(result))
        self.choose_cell(None, emit=True)
        self._filter()

    def invalidate(self, reason: str) -> None:
        """Forget a review that no longer matches the model or the folder."""
        if self.model.rows or self.result is not None:
            self.result = None
            self.model.reset("")
            self.matrix.set_matrix((), [[]])
            self.stats.set_stats((), None)
            self.choose_cell(None, emit=True)
            self.summary.setText(reason)

    def _set_labels(self, labels: list[str]) -> None:
        current = self.label_box.currentText()
        names = [ALL_LABELS, *(label or "(no label)" for label in labels)]
        if names == [self.label_box.itemText(i) for i in range(self.label_box.count())]:
            return
        self.label_box.blockSignals(True)
        self.label_box.clear()
        self.label_box.addItems(names)
        self.label_box.setCurrentIndex(max(0, self.label_box.findText(current)))
        self.label_box.blockSignals(False)

    # -- filters ----------------------------------------------------------------------------
    def set_label(self, label: str | None) -> None:
        """Show one label's images (None: all)."""
        self.label_box.setCurrentIndex(max(0, self.label_box.findText(label or ALL_LABELS)))

    def choose_cell(self, cell: tuple[int, int] | None, emit: bool = True) -> None:
        """Filter to one confusion-matrix cell (label = row, predicted = column); None for all."""
        self.matrix.choose(cell)
        self.proxy.cell = cell
        names = self.class_names
        self.cell_note.setText("" if cell is None else
                               f"Showing label <b>{names[cell[0]]}</b> predicted as <b>{names[cell[1]]}</b>")
        self.clear_cell.setVisible(cell is not None)
        self._filter()
        if emit:
            self.cellChosen.emit(cell)

    def cell_paths(self, cell: tuple[int, int]) -> set[str]:
        """The browser paths of one confusion-matrix cell."""
        return {self.model.absolute(r) for r in self.model.rows if (r.label_index, r.predicted_index) == cell}

    def _cell_clicked(self, row: int, column: int) -> None:
        self.choose_cell(None if row < 0 else (row, column))

    def _filter(self, *_args) -> None:
        label = self.label_box.currentText()
        label = None if label == ALL_LABELS else ("" if label == "(no label)" else label)
        self.proxy.set_filters(self.misclassified.isChecked(), label, self.proxy.cell)

    def _double_clicked(self, index) -> None:
        path = index.siblingAtColumn(0).data(PATH_ROLE)
        if path:
            self.imageRequested.emit(path)


class ReviewController(QObject):
    """Connects the tab to the engine worker, the browser and the window."""

    def __init__(self, window, tab: ReviewTab) -> None:
        super().__init__(window)
        self.window, self.tab = window, tab
        self.controller = window.controller
        self.generation = -1  # the review whose results the tab takes (kept through a Cancel)
        self.folder = ""
        worker = self.controller.client.worker
        worker.review_rows_computed.connect(self._rows)
        worker.review_finished.connect(self._reviewed)
        worker.job_failed.connect(self._failed)
        tab.runRequested.connect(self.run)
        tab.imageRequested.connect(self.open_image)
        tab.cellChosen.connect(self._cell_chosen)
        self.controller.modelChanged.connect(self._model_changed)
        window.browser.model.modelReset.connect(self._folder_changed)
        window.method_panel.changed.connect(self.describe)
        window.layer_tree.targetChosen.connect(lambda _layer: self.describe())
        self.describe()

    def request(self) -> ReviewFolder | None:
        """The review of the open folder with the current method, layer and parameters."""
        c = self.controller
        spec = self.window.method_panel.spec()
        folder = self.window.browser.folder
        if c.info is None or spec is None or not folder:
            return None
        layer = c.layer if spec.needs_layer else None
        options = self.tab.options
        review = EngineReviewOptions(spec.name, layer, target=options.target.currentData(),
                                     tolerance=options.tolerance.value(), threshold=options.threshold.value(),
                                     params=dict(as_params(self.window.method_panel.params())))
        return ReviewFolder(folder, review, report_folder=options.report_destination())

    def describe(self, *_args) -> None:
        """Show what the button would run."""
        request = self.request()
        if request is None:
            self.tab.describe_setup("Open a model and a folder first")
            self.tab.run_button.setEnabled(False)
            return
        layer = f" · layer {request.options.layer}" if request.options.layer else ""
        self.tab.describe_setup(f"{method_title(request.options.method)}{layer} · folder {Path(request.folder).name}")
        self.tab.setup.setToolTip(request.folder)
        self.tab.run_button.setEnabled(True)

    def run(self) -> None:
        """Start reviewing the open folder in the worker (supersedes a running review)."""
        request = self.request()
        if request is None:
            self.window.report_error("Open a model and a folder of images first")
            return
        if request.report_folder and (Path(request.report_folder) / "results.csv").exists():
            if not self.confirm_resume(request.report_folder):
                return
            request = replace(request, resume=True)
        self.folder = request.folder
        self.tab.start(request.folder, self.controller.info.class_names, len(self.window.browser.paths()))
        self.generation = self.controller.submit("review", request)

    def confirm_resume(self, folder: str) -> bool:
        """Ask before adding to the review already in the report folder."""
        answer = QMessageBox.question(
            self.window, "Continue the earlier review?",
            f"{folder} already holds a review (results.csv).\n\nContinue it? Images it already holds "
            "are kept and skipped; the settings must be the same. Choose No to pick another folder.")
        return answer == QMessageBox.StandardButton.Yes

    def open_image(self, path: str) -> None:
        """Select the image in the browser (showing every image if a filter hid it) and show its map."""
        browser = self.window.browser
        if not browser.select_path(path):
            browser.restrict(None)
            browser.misclassified.setChecked(False)
            if not browser.select_path(path):
                self.window.report_error(f"{Path(path).name} is no longer in the browser")
                return
        self.window.tabs.setCurrentWidget(self.window.canvas)

    def _rows(self, generation: int, rows) -> None:
        if generation == self.generation:
            self.tab.add_rows(rows)

    def _reviewed(self, generation: int, result) -> None:
        if generation != self.generation:
            return
        self.tab.set_result(result)
        report = self.tab.options.report_destination()
        written = f" · report in {report}" if report else ""
        self.tab.options.refresh()
        self.window.status(("Review finished: " if result.complete else "Review cancelled: ")
                           + summary_text(result) + written)

    def _failed(self, channel: str, message: str, _unsafe: bool) -> None:
        if channel == "review":
            self.tab.summary.setText(f"The review could not run: {message}")

    def _cell_chosen(self, cell) -> None:
        browser = self.window.browser
        if cell is None:
            browser.restrict(None)
            return
        names = self.tab.class_names
        if cell[0] == cell[1]:
            browser.misclassified.setChecked(False)  # the cell's images are all correctly classified
        browser.restrict(self.tab.cell_paths(cell), f"label {names[cell[0]]} predicted as {names[cell[1]]}")

    def _drop(self) -> None:
        """Stop a running review whose results no longer apply."""
        if self.generation >= 0 and self.controller.client.is_current("review", self.generation):
            self.controller.client.supersede("review")
        self.generation = -1

    def _model_changed(self, _info) -> None:
        self._drop()
        self.tab.invalidate("The model changed: press “Review folder” to review again.")
        self.describe()

    def _folder_changed(self) -> None:
        if self.window.browser.folder != self.folder:
            self._drop()
            self.tab.invalidate("Another folder is open: press “Review folder” to review it.")
        self.describe()


def install_review(window) -> ReviewController:
    """Add the Review tab and the canvas's mask line and outline to the window, and wire them."""
    def class_names() -> tuple[str, ...]:
        info = window.controller.info
        return info.class_names if info else ()

    window.mask_overlay = MaskOverlay(window.canvas, class_names, lambda: window.browser.folder,
                                      window.settings.get("mask_outline"))
    window.controller.canvasChanged.connect(window.mask_overlay.update)
    window.mask_overlay.toggle.toggled.connect(lambda on: window.remember("mask_outline", on))
    window.review = ReviewTab()
    remember_review_options(window, window.review.options)
    window.tabs.addTab(window.review, "Review")
    return ReviewController(window, window.review)


def remember_review_options(window, options: ReviewOptions) -> None:
    """Restore the review settings from the window's settings and keep them up to date."""
    settings = window.settings
    options.target.setCurrentIndex(max(0, options.target.findData(settings.get("review_target"))))
    options.tolerance.setValue(settings.get("review_tolerance"))
    options.threshold.setValue(settings.get("review_threshold"))
    folder = settings.get("review_report_folder")
    if folder and Path(folder).is_dir():
        options.set_report_folder(folder)
        options.write_report.setChecked(False)  # writing is chosen anew each session
    options.target.currentIndexChanged.connect(
        lambda _i: window.remember("review_target", options.target.currentData()))
    options.tolerance.valueChanged.connect(lambda value: window.remember("review_tolerance", value))
    options.threshold.valueChanged.connect(lambda value: window.remember("review_threshold", value))
    options.folderChanged.connect(lambda folder: window.remember("review_report_folder", folder))
