"""A finished review folder as a Qt table: the rows stay in Arrow / numpy columns
(engine.review.table.ColumnarReview), the model shows a view, an int64 array of row indices,
so a million rows take a few hundred MB and no Python object per row. Sorting applies an
argsort order computed once per column in a background thread; filtering is a boolean mask
(label, confusion cell, flag); both rebuild the view in milliseconds in the GUI thread."""

from __future__ import annotations

import threading
from pathlib import Path, PurePosixPath

import numpy as np
from engine.review.columns import FLAG_NAMES, Column
from engine.review.table import ColumnarReview, ReviewSummary
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush

from gui.row_table import Index

from .table import PATH_ROLE, RIGHT_ALIGNED, WRONG, shown_columns


class _Columns:
    """The columns a view needs, extracted once (in the loading thread): the shown numbers and
    booleans as float64 numpy arrays with NaN where missing, text as Arrow arrays (one cell read
    per painted cell), the flags as boolean masks."""

    def __init__(self, review: ColumnarReview) -> None:
        self.shown = shown_columns()
        self.text = {c.name: review.text(c.name) for c in self.shown if not c.numeric}
        self.text.update({name: review.text(name) for name in ("path", "error", "note")})
        self.numbers = {c.name: _floats(review, c.name, c.kind is bool) for c in self.shown if c.numeric}
        self.truth, self.guess = review.numpy("label_index"), review.numpy("predicted_index")
        count = len(review.class_names)
        valid = (self.truth >= 0) & (self.guess >= 0)
        self.cell = np.where(valid, self.truth * count + self.guess, -1).astype(np.int32)  # confusion cell
        self.class_count = count
        self.label_codes, self.labels = review.label_codes()
        self.flags = {flag: review.flag_mask(flag) for flag in FLAG_NAMES}
        self.error = self.flags["unreadable"]

    def value(self, item: Column, row: int):
        """A cell's value as a ReviewRow holds it (None where missing)."""
        if not item.numeric:
            return self.text[item.name][row].as_py()
        number = self.numbers[item.name][row]
        return None if np.isnan(number) else item.kind(number)

    def arrays(self) -> list[np.ndarray]:
        """The numpy arrays held (for measuring memory)."""
        return [*self.numbers.values(), self.truth, self.guess, self.cell, self.label_codes, *self.flags.values()]


def _floats(review: ColumnarReview, name: str, boolean: bool) -> np.ndarray:
    """A column as float64, NaN where missing."""
    values = review.numpy(name, False if boolean else 0).astype(np.float64)
    values[~review.mask_of(name)] = np.nan
    return values


class OpenedReview:
    """A review folder read for the window: its columns, summary and the images folder."""

    def __init__(self, review: ColumnarReview) -> None:
        self.review = review
        self.columns = _Columns(review)
        self.result: ReviewSummary = review.result()
        self.run = review.summary.get("run", {}) if isinstance(review.summary.get("run"), dict) else {}
        self.images = str(self.run.get("images", ""))  # where the images were; may be unreachable here

    def overlay(self, path: str) -> Path:
        """Where the review wrote a row's overlay."""
        return self.review.folder / "overlays" / PurePosixPath(path).with_suffix(".png")


class ColumnarReviewModel(QAbstractTableModel):
    """The rows of an OpenedReview, sorted and filtered through index arrays."""

    _orderReady = Signal(int)  # from the sorting thread: the order of one column is cached

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.opened: OpenedReview | None = None
        self.view = np.zeros(0, np.int64)
        self.orders: dict[int, np.ndarray] = {}
        self.sorting: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)
        self.misclassified_only, self.label, self.cell, self.flag = False, None, None, None
        self._keep: np.ndarray | None = None
        self.flag_source = lambda: None  # the flag filter's widget (gui.review.opened)
        self._lock = threading.Lock()
        self._orderReady.connect(self._order_ready)
        self.shown = shown_columns()

    # -- contents -------------------------------------------------------------------------
    def set_review(self, opened: OpenedReview | None) -> None:
        """Show another review (None: none); sort orders are computed in the background."""
        self.beginResetModel()
        self.opened, self.orders, self._keep = opened, {}, None
        self.misclassified_only, self.label, self.cell, self.flag = False, None, None, None
        self.view = np.arange(len(opened.review) if opened else 0, dtype=np.int64)
        self.endResetModel()
        if opened is not None:
            threading.Thread(target=self._compute_orders, args=(opened,), daemon=True,
                             name="review-sort-orders").start()

    def _compute_orders(self, opened: OpenedReview) -> None:
        first = self.sorting[0]
        for column in (first, *(c for c in range(len(self.shown)) if c != first)):
            order = opened.review.sort_order(self.shown[column].name)
            with self._lock:
                if self.opened is not opened:
                    return
                self.orders[column] = order
            self._orderReady.emit(column)

    def _order_ready(self, column: int) -> None:
        if column == self.sorting[0]:
            self._rebuild()

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.view)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return len(self.shown)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.shown[section].header
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.shown[section].tip or self.shown[section].help
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.opened is None:
            return None
        row, shown = int(self.view[index.row()]), self.shown[index.column()]
        c = self.opened.columns
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, index.column())
        if role == PATH_ROLE:
            return ""  # the tab's double-click is for live reviews; gui.review.opened handles these rows
        if role == Qt.ItemDataRole.ForegroundRole and any(c.flags[flag][row] for flag in shown.warn):
            return QBrush(WRONG)
        if role == Qt.ItemDataRole.TextAlignmentRole and shown.numeric:
            return RIGHT_ALIGNED
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = (c.text["path"][row].as_py(), c.text["error"][row].as_py(), c.text["note"][row].as_py())
            return "\n".join(p for p in parts if p)
        return None

    def text(self, row: int, column: int) -> str:
        """A cell as shown (row: index into the review's rows)."""
        c, shown = self.opened.columns, self.shown[column]
        return shown.show(c.value(shown, row), bool(c.error[row]))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column: at once when its order is cached, else as soon as it is."""
        self.sorting = (column, order)
        if column in self.orders:
            self._rebuild()

    # -- filters --------------------------------------------------------------------------
    def set_filters(self, misclassified_only: bool, label: str | None, cell: tuple[int, int] | None,
                    flag: str | None = None) -> None:
        """Misclassified only, one label ("" = none; None = all), one confusion cell, one flag
        (None: the one `flag_source()` names)."""
        flag = flag if flag is not None else self.flag_source()
        self.misclassified_only, self.label, self.cell, self.flag = misclassified_only, label, cell, flag
        self._keep = self._mask()
        self._rebuild()

    def _mask(self) -> np.ndarray | None:
        if self.opened is None:
            return None
        c, keep = self.opened.columns, None

        def both(mask: np.ndarray) -> np.ndarray:
            return mask if keep is None else keep & mask

        if self.misclassified_only:
            keep = both(c.flags["misclassified"])
        if self.label is not None:
            keep = both(c.label_codes == (c.labels.index(self.label) if self.label in c.labels else -1))
        if self.cell is not None:
            keep = both(c.cell == self.cell[0] * c.class_count + self.cell[1])
        if self.flag is not None:
            keep = both(c.flags[self.flag])
        return keep

    def _rebuild(self) -> None:
        """The view from the current order and mask (a gather and a boolean index)."""
        if self.opened is None:
            return
        column, order = self.sorting
        indices = self.orders.get(column)
        if indices is None:
            indices = np.arange(len(self.opened.review), dtype=np.int64)
        elif order == Qt.SortOrder.DescendingOrder:
            indices = indices[::-1]
        view = indices if self._keep is None else indices[self._keep[indices]]
        self.beginResetModel()
        self.view = np.ascontiguousarray(view)
        self.endResetModel()

    # -- rows -----------------------------------------------------------------------------
    def review_row(self, view_row: int) -> int:
        """The review's row index shown at a view row."""
        return int(self.view[view_row])

    def path(self, row: int) -> str:
        """A row's image path relative to the reviewed folder."""
        return self.opened.columns.text["path"][row].as_py()

    def absolute(self, row: int) -> str:
        """A row's image where the review found it ("" when unknown)."""
        images = self.opened.images if self.opened else ""
        return str(Path(images) / self.path(row)) if images else ""

    def cell_paths(self, cell: tuple[int, int]) -> set[str]:
        """The absolute paths of one confusion-matrix cell."""
        c = self.opened.columns
        rows = np.flatnonzero((c.truth == cell[0]) & (c.guess == cell[1]))
        return {self.absolute(int(r)) for r in rows}
