"""A read-only table model over a list of row objects, shared by the browser and the review
table: subclasses name their columns and say how a row shows in each role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # what the sort proxies sort by
Index = QModelIndex | QPersistentModelIndex


@contextmanager
def filter_change(proxy: QSortFilterProxyModel) -> Iterator[None]:
    """Change a proxy's filter settings inside this block: Qt 6.10's begin/endFilterChange, or
    invalidateFilter (deprecated there) on older Qt."""
    if hasattr(proxy, "endFilterChange"):
        proxy.beginFilterChange()
        yield
        proxy.endFilterChange()
    else:
        yield
        proxy.invalidateFilter()


class RowTableModel(QAbstractTableModel):
    """Rows in `self.rows`, one column per entry of `columns` (header tool tips from `tips`)."""

    columns: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return len(self.columns)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.tips):
            return self.tips[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == SORT_ROLE:
            return self.sort_value(row, column)
        return self.role_data(row, column, role)

    def text(self, row: Any, column: int) -> str:
        """A cell as shown."""
        raise NotImplementedError

    def sort_value(self, row: Any, column: int) -> Any:
        """What a cell sorts by."""
        raise NotImplementedError

    def role_data(self, row: Any, column: int, role: int) -> Any:
        """Any other role of a cell (None: nothing)."""
        return None
