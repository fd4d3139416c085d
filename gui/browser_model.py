"""The browser's table model: one row per image with its label, prediction and thumbnail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.images.decoding import label_from_path
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPixmap

from .row_table import SORT_ROLE, Index, RowTableModel, filter_change
from .thumbnails import ThumbnailLoader

if TYPE_CHECKING:  # the model's predictions come after the first paint
    from engine.results import Prediction

COLUMNS = ("Image", "Label", "Predicted", "Conf.")
SORT_KEYS = {"name": 0, "label": 1, "predicted": 2, "confidence": 3}
MISMATCH = QColor(200, 40, 40)
PARTS_ROLE = Qt.ItemDataRole.UserRole + 2  # column 0: (name, label, prediction, flagged) for the delegate


@dataclass
class Row:
    """One image of the folder."""

    path: str
    name: str
    label: str | None
    prediction: Prediction | None = None
    thumb: QPixmap | None = None
    error: str = ""  # the image could not be read


class ImageTableModel(RowTableModel):
    """Images of a folder; thumbnails are requested only for rows that get painted."""

    columns = COLUMNS

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.class_names: tuple[str, ...] = ()
        self._by_path: dict[str, int] = {}
        self.loader = loader
        loader.loaded.connect(self._thumbnail_loaded)
        loader.failed.connect(self._thumbnail_failed)

    def set_images(self, root: str, paths: list[str]) -> None:
        """Replace the rows with the images of a folder."""
        self.beginResetModel()
        self.loader.reset()
        self.rows = [Row(p, Path(p).name, label_from_path(p, root)) for p in paths]
        self._by_path = {row.path: i for i, row in enumerate(self.rows)}
        self.endResetModel()

    def set_predictions(self, predictions) -> None:
        """Attach predictions (matched by path) and refresh their rows with one dataChanged: one per
        row made the sorting proxy re-sort the folder once per image."""
        changed = []
        for prediction in predictions:
            i = self._by_path.get(prediction.path)
            if i is not None:
                self.rows[i].prediction = prediction
                changed.append(i)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))

    def clear_predictions(self) -> None:
        """Forget predictions (a new model)."""
        for row in self.rows:
            row.prediction = None
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def row_of(self, path: str) -> int | None:
        """Source row of a path."""
        return self._by_path.get(path)

    def mismatch(self, row: Row) -> bool:
        """The label names a model class and the prediction says another."""
        return (row.prediction is not None and row.label in self.class_names
                and row.prediction.best.name != row.label)

    def role_data(self, row: Row, column: int, role: int):
        """Thumbnail, mismatch colour, tool tip and path."""
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._thumbnail(row)
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and (self.mismatch(row) or row.error):
            return QBrush(MISMATCH)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.UserRole:
            return row.path
        if role == PARTS_ROLE and column == 0:
            return self.parts(row)
        return None

    def parts(self, row: Row) -> tuple[str, str, str, bool]:
        """Name, folder label, prediction with its confidence ("✗ crack 98%", "…" before it is
        known) and whether the prediction is flagged (disagrees with the label, or unreadable)."""
        predicted, confidence = self.text(row, 2), self.text(row, 3)
        prediction = f"{predicted} {confidence}".strip()
        return row.name, row.label or "", prediction, bool(self.mismatch(row) or row.error)

    def text(self, row: Row, column: int) -> str:
        """A cell as shown."""
        best = row.prediction.best if row.prediction else None
        if column == 0:
            return f"{row.name}\n{row.label or ''}".rstrip()
        if column == 1:
            return row.label or "—"
        if column == 2 and best is None and row.error:
            return "⚠ unreadable"
        if column == 2:
            return "…" if best is None else ("✗ " if self.mismatch(row) else "") + best.name
        return "" if best is None else f"{best.probability:.0%}"

    def sort_value(self, row: Row, column: int):
        """Confidence as a number; the rest as text, ties broken by name."""
        if column == 3:
            return row.prediction.best.probability if row.prediction else -1.0
        return self.text(row, column).lstrip("✗ ").lower() + "\0" + row.name.lower()  # ties by name

    def _thumbnail(self, row: Row) -> QPixmap | None:
        if row.thumb is None:
            self.loader.request(row.path)
        return row.thumb

    def _tooltip(self, row: Row) -> str:
        lines = [row.path] + ([row.error] if row.error else [])
        if row.prediction is not None:
            lines += [f"{c.name}: {c.probability:.1%}" for c in row.prediction.top]
        if self.mismatch(row):
            lines.append(f"label '{row.label}' disagrees with the prediction")
        return "\n".join(lines)

    def _thumbnail_loaded(self, path: str, image: QImage) -> None:
        i = self._by_path.get(path)
        if i is not None:
            self.rows[i].thumb = QPixmap.fromImage(image)
            self.dataChanged.emit(self.index(i, 0), self.index(i, 0), [Qt.ItemDataRole.DecorationRole])


    def _thumbnail_failed(self, path: str, message: str) -> None:
        i = self._by_path.get(path)
        if i is not None:
            self.rows[i].error = message
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))


class ImageFilterProxy(QSortFilterProxyModel):
    """Sorting by any column and a filter that keeps only misclassified images."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.misclassified_only = False
        self.only: set[str] | None = None  # a set of paths (a confusion-matrix cell), None = all
        self.setSortRole(SORT_ROLE)

    def set_misclassified_only(self, on: bool) -> None:
        """Show only images whose prediction disagrees with their label."""
        with filter_change(self):
            self.misclassified_only = on

    def set_only(self, paths: set[str] | None) -> None:
        """Show only these paths (None: every path)."""
        with filter_change(self):
            self.only = None if paths is None else set(paths)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        row = model.rows[source_row]
        if self.only is not None and row.path not in self.only:
            return False
        return not self.misclassified_only or model.mismatch(row)
