"""A clickable confusion matrix: rows = true label (sub-folder), columns = predicted class."""

from __future__ import annotations

import numpy as np
from engine.review.columns import Column, aggregated, figure_text
from engine.review.rows import registry
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

RIGHT = (46, 160, 67)
WRONG = (215, 58, 73)


def cell_colour(count: int, highest: int, diagonal: bool) -> QColor:
    """A light-to-strong tint by count: green on the diagonal, red off it, none for zero."""
    if count <= 0 or highest <= 0:
        return QColor(0, 0, 0, 0)
    strength = 0.2 + 0.8 * count / highest
    r, g, b = RIGHT if diagonal else WRONG
    return QColor(r, g, b, round(255 * strength))


class ConfusionMatrix(QTableWidget):
    """Counts per (true, predicted) class; clicking a cell emits `cellChosen(true, predicted)`,
    clicking the chosen cell again emits `cellChosen(-1, -1)` (no cell)."""

    cellChosen = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(0, 0, parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setToolTip("Rows: true label (sub-folder) · columns: predicted class.\n"
                        "Click a cell to show only those images; click it again to show all.")
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix = np.zeros((0, 0), np.int64)
        self.chosen: tuple[int, int] | None = None
        self.cellClicked.connect(self._clicked)

    def set_matrix(self, class_names, matrix: np.ndarray) -> None:
        """Show a matrix (K x K counts)."""
        self.matrix = np.asarray(matrix)
        count = len(class_names)
        self.clear()
        self.setRowCount(count)
        self.setColumnCount(count)
        self.setHorizontalHeaderLabels([f"→ {name}" for name in class_names])
        self.setVerticalHeaderLabels(list(class_names))
        highest = int(self.matrix.max(initial=0))
        for i in range(count):
            for j in range(count):
                value = int(self.matrix[i, j])
                item = QTableWidgetItem(str(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(cell_colour(value, highest, i == j)))
                item.setToolTip(f"label {class_names[i]}, predicted {class_names[j]}: {value} image(s)")
                self.setItem(i, j, item)
        self.chosen = None

    def choose(self, cell: tuple[int, int] | None) -> None:
        """Mark a cell as chosen (None: none) without emitting."""
        self.chosen = cell
        if cell is None:
            self.clearSelection()
        else:
            self.setCurrentCell(*cell)

    def _clicked(self, row: int, column: int) -> None:
        if self.chosen == (row, column):
            self.choose(None)
            self.cellChosen.emit(-1, -1)
        else:
            self.chosen = (row, column)
            self.cellChosen.emit(row, column)


TRUST_COLUMNS = ("Verdict", "Kept after removal")  # with Trust metrics: each label's own verdict


def stats_columns() -> tuple[Column, ...]:
    """The review columns summed up per label that the window shows (declaring a header)."""
    return tuple(c for c in aggregated(registry()) if c.summed.header)


class LabelStatsTable(QTableWidget):
    """Accuracy and localisation per label (sub-folder), and over all images (the last row)."""

    def __init__(self, parent=None) -> None:
        headers = self.headers()
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setToolTip("\n".join(f"{c.summed.header}: mean of {c.name}: {c.help}" for c in stats_columns()))

    @staticmethod
    def headers() -> tuple[str, ...]:
        """The table's titles: label, images, then the summed-up columns."""
        return ("Label", "Images", *(c.summed.header for c in stats_columns()))

    def set_stats(self, per_label, overall, trust: dict | None = None) -> None:
        """Show LabelStats rows (None clears); `trust` (the review's trust summary) adds each
        label's verdict and how many of its defect images kept their prediction after removal."""
        rows = [*per_label, overall] if overall is not None else []
        headers = self.headers()
        columns = headers[:1] + (TRUST_COLUMNS if trust else ()) + headers[1:]  # verdict first
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels(columns)
        self.setRowCount(len(rows))
        for i, stats in enumerate(rows):
            cells = (stats.label, f"{stats.images}" + (f" ({stats.errors} unreadable)" if stats.errors else ""),
                     *(figure_text(c, stats.figures.get(c.summed.key)) for c in stats_columns()))
            if trust:
                cells = cells[:1] + _trust_cells(trust.get("overall") if stats is overall else
                                                 trust.get("per_label", {}).get(stats.label)) + cells[1:]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j and not (trust and j == 1):  # figures to the right; the label and the verdict read left
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if stats is overall:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.setItem(i, j, item)


def _trust_cells(found: dict | None) -> tuple[str, str]:
    """A label's verdict and "k of n" images kept after removal ("–" where there is none)."""
    if not found:
        return ("–", "–")
    images = found.get("removal_images") or 0
    kept = f"{found.get('kept_after_removal', 0)} of {images}" if images else "–"
    return (found.get("verdict") or "–", kept)
