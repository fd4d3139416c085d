"""A row of control groups that wraps: side by side when they fit, one under another when
the window is narrow (a laptop screen), so no control is ever squeezed until its text is cut."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QWidget

SPACING = 8


def group(*widgets: QWidget, spacing: int = 6) -> QWidget:
    """Widgets side by side in one group that never breaks apart."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for widget in widgets:
        row.addWidget(widget)
    return box


class WrapRow(QWidget):
    """Groups in one row when the width allows, else stacked (left-aligned)."""

    def __init__(self, groups: list[QWidget], parent: QWidget | None = None, margins: tuple[int, ...] = (0,) * 4) -> None:
        super().__init__(parent)
        self.groups = list(groups)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(*margins)
        self.grid.setHorizontalSpacing(SPACING + 4)
        self.grid.setVerticalSpacing(2)
        self.stacked: bool | None = None
        self._place(False)
        self.setMinimumWidth(max(g.minimumSizeHint().width() for g in self.groups) + sum(margins[::2]))

    def one_row_width(self) -> int:
        """The width the groups need side by side."""
        margins = self.grid.contentsMargins()
        return (sum(g.minimumSizeHint().width() for g in self.groups)
                + self.grid.horizontalSpacing() * (len(self.groups) - 1) + margins.left() + margins.right())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place(event.size().width() < self.one_row_width())

    def _place(self, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        self.stacked = stacked
        for widget in self.groups:
            self.grid.removeWidget(widget)
        for column in range(self.grid.columnCount()):
            self.grid.setColumnStretch(column, 0)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        for k, widget in enumerate(self.groups):
            self.grid.addWidget(widget, k if stacked else 0, 0 if stacked else k, left)
        self.grid.setColumnStretch(0 if stacked else len(self.groups) - 1, 1)
        self.updateGeometry()
