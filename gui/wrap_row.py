"""A row of control groups that wraps like text: as many groups per line as fit, the rest on
the next line, so on a narrow window (a laptop screen) no control is squeezed until its text
is cut."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLayout, QVBoxLayout, QWidget

SPACING = 12  # between groups on a line


def group(*widgets: QWidget, spacing: int = 6) -> QWidget:
    """Widgets side by side in one group that never breaks apart."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for widget in widgets:
        row.addWidget(widget)
    return box


def lines_for(widths: list[int], available: int, spacing: int = SPACING) -> tuple[int, ...]:
    """How many groups go on each line when filled greedily (at least one per line)."""
    lines, used, count = [], 0, 0
    for width in widths:
        needed = width if count == 0 else used + spacing + width
        if count and needed > available:
            lines.append(count)
            used, count = width, 1
        else:
            used, count = needed, count + 1
    if count:
        lines.append(count)
    return tuple(lines)


class WrapRow(QWidget):
    """Groups on as few lines as the width allows, left-aligned."""

    def __init__(self, groups: list[QWidget], parent: QWidget | None = None,
                 margins: tuple[int, int, int, int] = (0, 0, 0, 0)) -> None:
        super().__init__(parent)
        self.groups = list(groups)
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(*margins)
        self.column.setSpacing(2)
        self.lines: tuple[int, ...] = ()
        self._arrange((len(self.groups),))
        self.setMinimumWidth(max(g.minimumSizeHint().width() for g in self.groups) + margins[0] + margins[2])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        margins = self.column.contentsMargins()
        available = event.size().width() - margins.left() - margins.right()
        self._arrange(lines_for([g.minimumSizeHint().width() for g in self.groups], available))

    def _arrange(self, lines: tuple[int, ...]) -> None:
        if lines == self.lines:
            return
        self.lines = lines
        while self.column.count():
            item = self.column.takeAt(0)
            layout = item.layout()
            if isinstance(layout, QLayout):
                while layout.count():
                    layout.takeAt(0)
                layout.deleteLater()
        groups = iter(self.groups)
        for count in lines:
            line = QHBoxLayout()
            line.setSpacing(SPACING)
            for _ in range(count):
                line.addWidget(next(groups))
            line.addStretch(1)
            self.column.addLayout(line)
        self.updateGeometry()
