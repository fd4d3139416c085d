"""The Review tab: a Review folder button with what it would run, the review settings, a
banner for a verdict, the summary line, the confusion matrix (a click filters the table and
the browser to one cell), the per-label figures, and the table of reviewed images."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.style import hint_label

from .confusion import ConfusionMatrix, LabelStatsTable
from .options import ReviewOptionsPanel
from .table import PATH_ROLE, ReviewFilterProxy, ReviewTableModel, make_table_view, summary_text

OVERVIEW_MIN_HEIGHT = 215  # px: the matrix and four per-label rows above the images, also on a laptop
ALL_LABELS = "All labels"
NO_LABEL = "(no label)"
START_HINT = ("Review every image of the open folder: predict, explain and score it against its mask, "
              "as the command “python main.py batch” does. Press “Review folder”.")


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
                                   "with the current method and layer (like “python main.py batch”)")
        self.run_button.clicked.connect(self.runRequested)
        self.setup = hint_label()
        self.setup.setWordWrap(True)
        self.setup.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.options = ReviewOptionsPanel(self)
        self.misclassified = QCheckBox("Misclassified only")
        self.misclassified.toggled.connect(self._filter)
        self.label_box = QComboBox()
        self.label_box.addItem(ALL_LABELS)
        self.label_box.setToolTip("Show the images of one label (sub-folder)")
        self.label_box.currentIndexChanged.connect(self._filter)
        self.banner = QLabel()  # a verdict on the lot, shown above the summary when there is one
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.summary = QLabel(START_HINT)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: 600; padding: 2px 0;")
        self.table = make_table_view(self.proxy)
        self.table.doubleClicked.connect(self._double_clicked)
        self.matrix = ConfusionMatrix()
        self.matrix.cellChosen.connect(self._cell_clicked)
        self.stats = LabelStatsTable()
        self.cell_note = QLabel()
        self.cell_note.setWordWrap(True)
        self.cell_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clear_cell = QPushButton("Show all cells")
        self.clear_cell.clicked.connect(lambda: self.choose_cell(None))
        self._layout()
        self.choose_cell(None, emit=False)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.run_button)
        top.addWidget(self.options.report_row)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        setup = self.setup_row = QHBoxLayout()  # a line of its own: between the buttons it wrapped to 5 lines on a laptop
        setup.addWidget(self.setup, 1)
        setup.addWidget(self.options.annotations_button)  # the ground truth, beside the folder it is for
        layout.addLayout(setup)
        layout.addWidget(self.options.settings_row)
        layout.addWidget(self.banner)
        layout.addWidget(self.summary)
        split = QSplitter(Qt.Orientation.Vertical)
        self.overview = self._overview()
        split.addWidget(self.overview)
        split.addWidget(self._table_panel())
        split.setSizes([250, 450])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

    def _overview(self) -> QWidget:
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
        hint = hint_label("Click a matrix cell to list its images below and in the browser. "
                          "Double-click a row to open the image.")
        hint.setWordWrap(True)
        right.addWidget(hint)
        overview = QWidget()
        overview.setMinimumHeight(OVERVIEW_MIN_HEIGHT)
        row = QHBoxLayout(overview)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(left, 2)  # the matrix's cells shrink; the per-label figures need their width
        row.addLayout(right, 3)
        return overview

    def _table_panel(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        filters = self.filters_row = QHBoxLayout()
        filters.addWidget(QLabel("<b>Images</b>"))
        filters.addStretch(1)
        filters.addWidget(self.misclassified)
        filters.addWidget(self.label_box)
        column.addLayout(filters)
        column.addWidget(self.table, 1)
        return panel

    # -- contents ---------------------------------------------------------------------------
    def describe_setup(self, text: str, tip: str = "", runnable: bool = True) -> None:
        """What a review would run with (method, layer, folder); the button only when it can run."""
        self.setup.setText(text)
        self.setup.setToolTip(tip)
        self.run_button.setEnabled(runnable)

    def show_banner(self, html: str) -> None:
        """A verdict line above the summary ("" hides it)."""
        self.banner.setText(html)
        self.banner.setVisible(bool(html))

    def show_message(self, text: str) -> None:
        """A line in place of the summary (a failure, a reason to review again)."""
        self.summary.setText(text)

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
        self.stats.set_stats(result.per_label, result.overall, getattr(result, "trust", None))
        self._set_labels([s.label if s.label != NO_LABEL else "" for s in result.per_label])
        self.summary.setText(summary_text(result))
        self.choose_cell(None, emit=True)
        self._filter()

    def invalidate(self, reason: str) -> None:
        """Forget a review that no longer matches the model or the folder (also one that is
        still running before its first rows: its "Reviewing…" line would wait forever)."""
        if self.model.root or self.model.rows or self.result is not None:
            self.result = None
            self.model.reset("")
            self.matrix.set_matrix((), [[]])
            self.stats.set_stats((), None)
            self.choose_cell(None, emit=True)
            self.summary.setText(reason)
            self.show_banner("")

    def _set_labels(self, labels: list[str]) -> None:
        current = self.label_box.currentText()
        names = [ALL_LABELS, *(label or NO_LABEL for label in labels)]
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
        label = None if label == ALL_LABELS else ("" if label == NO_LABEL else label)
        self.proxy.set_filters(self.misclassified.isChecked(), label, self.proxy.cell)

    def _double_clicked(self, index) -> None:
        path = index.siblingAtColumn(0).data(PATH_ROLE)
        if path:
            self.imageRequested.emit(path)
