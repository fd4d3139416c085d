"""The review tab's table: one row per reviewed image, the columns of `convscope batch`'s
results.csv, with a sort/filter proxy (misclassified only, one label, one confusion cell) and
the view that shows them. Another table model with the same `rows`, `root` and `absolute`
(for example a columnar one for a finished review of a million rows) can take its place."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from engine.review import ReviewResult, ReviewRow
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from gui.row_table import SORT_ROLE, Index, RowTableModel, filter_change

COLUMNS = ("Image", "Label", "Predicted", "Conf.", "Correct", "Pointing", "Energy", "IoU", "Flag")
TIPS = ("File name (hover for its path relative to the reviewed folder)", "Sub-folder name", "Predicted (and explained) class",
        "Probability of the predicted class", "Prediction equals the label (– when the label is not a class)",
        "The map's peak lies on the mask (within 15 px); – without a mask",
        "Share of the map's energy inside the mask (0..1)", "IoU of the map's region >= 0.5 with the mask",
        "Trust flag (Trust metrics on): clear, off-defect, survives-removal; – without a mask")
PATH_ROLE = Qt.ItemDataRole.UserRole
WRONG = QColor(200, 40, 40)


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _flag(value: bool | None, yes: str, no: str) -> str:
    return "–" if value is None else (yes if value else no)


def summary_text(result: ReviewResult | None, done: int = 0, total: int = 0) -> str:
    """The one-line summary: accuracy, pointing game and energy in the mask, as the CLI prints them."""
    if result is None:
        return f"Reviewing… {done} of {total} images" if total else "Not reviewed yet"
    overall = result.overall
    text = (f"{len(result.rows)} of {result.total} images · accuracy {_percent(overall.accuracy)}"
            f" ({overall.correct}/{overall.labelled} labelled) · pointing game {_percent(overall.pointing)}"
            f" · energy in mask {_number(overall.energy_inside)} · IoU {_number(overall.iou)}"
            f" ({overall.with_mask} with a mask) · {result.seconds:.1f} s")
    if overall.errors:
        text += f" · {overall.errors} unreadable"
    if not result.complete:
        text += " · cancelled: partial results"
    return text


class ReviewTableModel(RowTableModel):
    """The rows of a review, filled a batch at a time."""

    columns = COLUMNS
    tips = TIPS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[ReviewRow] = []
        self.root = ""

    def reset(self, root: str, rows: list[ReviewRow] | tuple = ()) -> None:
        """Start over for a folder (with the given rows)."""
        self.beginResetModel()
        self.root, self.rows = root, list(rows)
        self.endResetModel()

    def add_rows(self, rows: list[ReviewRow]) -> None:
        """Append a finished batch."""
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    def absolute(self, row: ReviewRow) -> str:
        """The image's path as the browser lists it."""
        return str(Path(self.root) / row.path)

    def role_data(self, row: ReviewRow, column: int, role: int):
        """Absolute path, wrong-prediction colour, alignment and tool tip."""
        if role == PATH_ROLE:
            return self.absolute(row)
        if role == Qt.ItemDataRole.ForegroundRole and (row.correct is False or row.error) and column in (2, 4):
            return QBrush(WRONG)
        if role == Qt.ItemDataRole.ForegroundRole and column == 8 and row.flag not in ("", "clear"):
            return QBrush(WRONG)
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= column <= 7:  # the figures
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(t for t in (row.path, row.error, row.note,
                                         "no positive evidence" if row.empty_map else "") if t)
        return None

    def text(self, row: ReviewRow, column: int) -> str:
        """A cell as shown."""
        if column == 0:
            return PurePosixPath(row.path).name  # as the browser lists it; the whole path on hover
        if column == 1:
            return row.label or "—"
        if row.error:
            return "unreadable" if column == 2 else ""
        values = (row.predicted, _percent(row.confidence), _flag(row.correct, "✓", "✗"),
                  _flag(row.pointing_hit, "hit", "miss"), _number(row.energy_inside), _number(row.iou),
                  row.flag or "–")
        return values[column - 2]

    def sort_value(self, row: ReviewRow, column: int):
        """Numbers sort as numbers; missing values first in ascending order."""
        if column == 0:
            return row.path.lower()
        if column <= 2 or column == 8:
            return self.text(row, column).lower() + "\0" + row.path.lower()
        value = (row.confidence, row.correct, row.pointing_hit, row.energy_inside, row.iou)[column - 3]
        return -1.0 if value is None else float(value)


def row_has_flag(row: ReviewRow, flag: str) -> bool:
    """One row's answer to the flag filter, as engine.review.table's flag_mask answers for a
    review folder: a word of the trust `flag` column, or one of its FLAGS."""
    tests = {"misclassified": row.correct is False, "correct": row.correct is True,
             "pointing miss": row.pointing_hit is False, "no mask": row.pointing_hit is None,
             "empty map": bool(row.empty_map), "unreadable": bool(row.error)}
    return tests[flag] if flag in tests else flag in (row.flag or "")


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
        """Whether a row passes the filters."""
        if self.misclassified_only and row.correct is not False:
            return False
        if self.label is not None and (row.label or "") != self.label:
            return False
        if self.flag is not None and not row_has_flag(row, self.flag):
            return False
        return self.cell is None or (row.label_index, row.predicted_index) == self.cell

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        return self.accepts(self.sourceModel().rows[source_row])

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
    flag, correct = COLUMNS.index("Flag"), COLUMNS.index("Correct")
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
