"""The review tab's table: one row per reviewed image, the columns of `convscope batch`'s
results.csv, with a sort/filter proxy (misclassified only, one label, one confusion cell) and
the view that shows them. Another table model with the same `rows`, `root` and `absolute`
(for example a columnar one for a finished review of a million rows) can take its place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from engine.review import ReviewResult, ReviewRow
from engine.review.columns import Column, RowColumns, flag_mask
from engine.review.rows import registry
from engine.review.stats import figures_line
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from gui.row_table import SORT_ROLE, Index, RowTableModel, filter_change

PATH_ROLE = Qt.ItemDataRole.UserRole
WRONG = QColor(200, 40, 40)
RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def shown_columns() -> tuple[Column, ...]:
    """The review columns the window shows (those declaring a header), in column order."""
    return tuple(c for c in registry() if c.header)


def summary_text(result: ReviewResult | None, done: int = 0, total: int = 0) -> str:
    """The one-line summary: accuracy and the localisation figures, as the CLI prints them."""
    if result is None:
        return f"Reviewing… {done} of {total} images" if total else "Not reviewed yet"
    overall = result.overall
    text = (f"{len(result.rows)} of {result.total} images · {figures_line(overall)} ({overall.correct}/"
            f"{overall.labelled} labelled, {overall.with_mask} with a mask) · {result.seconds:.1f} s")
    if overall.errors:
        text += f" · {overall.errors} unreadable"
    if not result.complete:
        text += " · cancelled: partial results"
    return text


class ReviewTableModel(RowTableModel):
    """The rows of a review, filled a batch at a time; its columns are the declared ones."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.shown = shown_columns()
        self.columns = tuple(c.header for c in self.shown)
        self.tips = tuple(c.tip or c.help for c in self.shown)
        self.rows: list[ReviewRow] = []
        self.root = ""
        self._flags: dict[str, np.ndarray] = {}  # flag -> mask over rows[:len(mask)]

    def reset(self, root: str, rows: list[ReviewRow] | tuple = ()) -> None:
        """Start over for a folder (with the given rows)."""
        self.beginResetModel()
        self.root, self.rows, self._flags = root, list(rows), {}
        self.endResetModel()

    def add_rows(self, rows: list[ReviewRow]) -> None:
        """Append a finished batch."""
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    def flagged(self, flag: str) -> np.ndarray:
        """Which rows have a flag (engine.review.columns.FLAGS), computed for new rows only."""
        known = self._flags.get(flag, np.zeros(0, bool))
        if len(known) < len(self.rows):
            known = np.concatenate([known, flag_mask(RowColumns(self.rows[len(known):]), flag)])
            self._flags[flag] = known
        return known

    def absolute(self, row: ReviewRow) -> str:
        """The image's path as the browser lists it."""
        return str(Path(self.root) / row.path)

    def role_data(self, row: ReviewRow, column: int, role: int):
        """Absolute path, warning colour, alignment and tool tip."""
        shown = self.shown[column]
        if role == PATH_ROLE:
            return self.absolute(row)
        if role == Qt.ItemDataRole.ForegroundRole and shown.warn:
            one = RowColumns([row])
            if any(flag_mask(one, flag)[0] for flag in shown.warn):
                return QBrush(WRONG)
        if role == Qt.ItemDataRole.TextAlignmentRole and shown.numeric:
            return RIGHT_ALIGNED
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(t for t in (row.path, row.error, row.note,
                                         "no positive evidence" if row.empty_map else "") if t)
        return None

    def text(self, row: ReviewRow, column: int) -> str:
        """A cell as shown."""
        shown = self.shown[column]
        return shown.show(getattr(row, shown.name), bool(row.error))

    def sort_value(self, row: ReviewRow, column: int):
        """Numbers sort as numbers (missing values first in ascending order), text in lower case."""
        shown = self.shown[column]
        return shown.sort_key(getattr(row, shown.name), row.path)


class ReviewFilterProxy(QSortFilterProxyModel):
    """Sorting by any column; filters: misclassified only, one label, one confusion-matrix
    cell, one flag (the flag filter's choice, through `flag_source`)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.misclassified_only = False
        self.label: str | None = None
        self.cell: tuple[int, int] | None = None  # (true class index, predicted class index)
        self.flag: str | None = None
        self.flag_source = lambda: None  # the flag filter's widget (gui.review.opened)

    def set_filters(self, misclassified_only: bool, label: str | None, cell: tuple[int, int] | None) -> None:
        """Apply the filters (None: no filter)."""
        with filter_change(self):
            self.misclassified_only, self.label, self.cell = misclassified_only, label, cell
            self.flag = self.flag_source()

    def accepts(self, row: ReviewRow) -> bool:
        """Whether a row passes the label and cell filters (the flags: see filterAcceptsRow)."""
        if self.label is not None and (row.label or "") != self.label:
            return False
        return self.cell is None or (row.label_index, row.predicted_index) == self.cell

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        for flag in ("misclassified" if self.misclassified_only else None, self.flag):
            if flag is not None and not model.flagged(flag)[source_row]:
                return False
        return self.accepts(model.rows[source_row])

    def visible_rows(self) -> list[ReviewRow]:
        """The rows shown, in order."""
        model = self.sourceModel()
        return [model.rows[self.mapToSource(self.index(r, 0)).row()] for r in range(self.rowCount())]


def fit_columns_to_rows(header: QHeaderView) -> None:
    """Every column follows its visible rows (a live review, whose rows keep arriving)."""
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    show_flag_after_correct(header)


def show_flag_after_correct(header: QHeaderView) -> None:
    """The Flag column shown after Correct, where a laptop still shows it (the verdict banner
    points at it); the model keeps its order, so exports and sorting are unchanged."""
    names = [c.name for c in shown_columns()]
    flag, correct = names.index("flag"), names.index("correct")
    header.moveSection(header.visualIndex(flag), header.visualIndex(correct) + 1)


MAX_PATH_WIDTH = 320  # px: longer paths are elided (whole in the tool tip); no figure column is this wide
FIT_ROWS = 200
CELL_PADDING, HEADER_PADDING = 12, 28  # px: the cell's margins; the header's and its sort arrow


def fit_columns_once(view: QTableView) -> None:
    """Size every column once to its header and its first FIT_ROWS rows (an opened review of a
    million rows, which must not be measured again on every scroll or sort)."""
    header, model = view.horizontalHeader(), view.model()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    metrics = view.fontMetrics()
    for column in range(model.columnCount()):
        title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        texts = [str(model.index(row, column).data() or "") for row in range(min(FIT_ROWS, model.rowCount()))]
        widest = max([metrics.horizontalAdvance(title) + HEADER_PADDING]
                     + [metrics.horizontalAdvance(text) + CELL_PADDING for text in texts])
        header.resizeSection(column, min(widest, MAX_PATH_WIDTH))


def make_table_view(proxy: QSortFilterProxyModel) -> QTableView:
    """A sortable, read-only table of review rows. Every column fits its rows (the path at most
    MAX_PATH_WIDTH, elided on the left so the file name stays) and the table scrolls sideways
    when they do not fit: a column that stretched got only the leftovers ("cr…ng", "..")."""
    view = QTableView()
    view.setModel(proxy)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideLeft)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setMaximumSectionSize(MAX_PATH_WIDTH)
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(36)
    # Column widths come from at most FIT_ROWS rows from the top (Qt reads the vertical header's
    # precision for them; its default of 1000, or every row while the table is hidden, made
    # each arriving batch re-measure the whole table).
    view.verticalHeader().setResizeContentsPrecision(FIT_ROWS)
    fit_columns_to_rows(header)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setToolTip("Double-click a row to open the image; click a header to sort")
    return view
