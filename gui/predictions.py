"""Top-k predicted classes with their scores; clicking a class explains that class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .style import hint_label

INDEX_ROLE = Qt.ItemDataRole.UserRole

if TYPE_CHECKING:  # predictions come after the first paint
    from engine.results import Prediction


class PredictionsPanel(QWidget):
    """A table of classes and probabilities; emits `classChosen(index)`."""

    classChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("No prediction yet")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Class", "Probability"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Click a class to explain it")
        self.table.cellClicked.connect(self._clicked)
        hint = hint_label("Click a class to see the evidence for it.")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint)
        self.prediction: Prediction | None = None
        self.table.setFixedHeight(self._height_for(4))
        self.explained: int | None = None

    def show_error(self, message: str) -> None:
        """The image could not be predicted: an empty table and the reason."""
        self.show_prediction(None)
        self.summary.setText(f"⚠ {message}")

    def show_prediction(self, prediction: Prediction | None, label: str | None = None,
                        classes: tuple[str, ...] = ()) -> None:
        """Show a prediction (None clears the table)."""
        self.prediction = prediction
        self.table.setRowCount(0)
        if prediction is None:
            self.summary.setText("No prediction yet")
            return
        best = prediction.best
        verdict = f"Predicted <b>{best.name}</b> ({best.probability:.1%})"
        if label and label not in classes:
            verdict += f"; folder <b>{label}</b>"
        elif label:
            agree = "agrees with" if label == best.name else "<span style='color:#c82828'>differs from</span>"
            verdict += f"; {agree} the folder label <b>{label}</b>"
        self.summary.setText(verdict)
        self.table.setRowCount(len(prediction.top))
        self.table.setFixedHeight(self._height_for(len(prediction.top)))  # every class, no empty rows
        for row, score in enumerate(prediction.top):
            item = QTableWidgetItem(score.name)
            item.setData(INDEX_ROLE, score.index)
            item.setToolTip(f"logit {score.logit:.3f}")
            self.table.setItem(row, 0, item)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(round(score.probability * 1000))
            bar.setFormat(f"{score.probability:.1%}")
            bar.setTextVisible(True)
            self.table.setCellWidget(row, 1, bar)
        self.mark_explained(self.explained)

    def _height_for(self, rows: int) -> int:
        """The table's height with every row in view (no scrolling to see a class)."""
        table = self.table
        return (table.horizontalHeader().sizeHint().height() + rows * table.verticalHeader().defaultSectionSize()
                + 2 * table.frameWidth())

    def mark_explained(self, class_index: int | None) -> None:
        """Bold the class the canvas currently explains."""
        self.explained = class_index
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            font = item.font()
            chosen = item.data(INDEX_ROLE) == class_index
            font.setBold(chosen)
            item.setFont(font)
            name = item.text().lstrip("▶ ")
            item.setText(("▶ " if chosen else "") + name)

    def _clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.classChosen.emit(int(item.data(INDEX_ROLE)))
