"""The image browser: thumbnails, labels from sub-folders, predictions, sort and filter."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QRect, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .browser_model import MISMATCH, PARTS_ROLE, SORT_KEYS, ImageFilterProxy, ImageTableModel
from .style import hint_label
from .thumbnails import THUMB_SIZE, ThumbnailLoader
from .wrap_row import WrapRow


class ImageDelegate(QStyledItemDelegate):
    """One image per row: its thumbnail, its name across the whole width (elided in the middle,
    keeping the distinguishing end, only when even that is too narrow), and below it the folder
    label on the left and the prediction on the right (red when it disagrees with the label)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        """Background, selection and thumbnail as Qt draws them; the two lines of text ourselves."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        parts = index.data(PARTS_ROLE)
        if parts is None:
            return
        name, label, prediction, flagged = parts
        rect = text_rect(option.rect)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        metrics = option.fontMetrics
        half = rect.height() // 2
        top = QRect(rect.left(), rect.top(), rect.width(), half)
        bottom = QRect(rect.left(), rect.top() + half, rect.width(), rect.height() - half)
        painter.save()
        painter.setPen(option.palette.color(group))
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                         metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, rect.width()))
        predicted_width = min(metrics.horizontalAdvance(prediction) + 2, rect.width() * 2 // 3)
        label_room = max(0, rect.width() - predicted_width - metrics.horizontalAdvance("  "))
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_room))
        if flagged and not selected:
            painter.setPen(MISMATCH)
        painter.drawText(bottom, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                         metrics.elidedText(prediction, Qt.TextElideMode.ElideRight, predicted_width))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: N802 - Qt's name
        """Room for the thumbnail and the name."""
        parts = index.data(PARTS_ROLE)
        width = THUMB_SIZE + TEXT_GAP + 8 + (option.fontMetrics.horizontalAdvance(parts[0]) if parts else 0)
        return QSize(width, THUMB_SIZE + 6)


TEXT_GAP = 10  # px between the thumbnail and the text


def text_rect(cell: QRect) -> QRect:
    """Where a row's text goes: right of the thumbnail, inside the cell."""
    return cell.adjusted(THUMB_SIZE + TEXT_GAP, 3, -4, -3)


class ImageBrowser(QWidget):
    """A sortable, filterable list of the folder's images; emits `imageSelected(path)`."""

    imageSelected = Signal(str)
    folderChanged = Signal(str)  # another folder (or the same one again) is listed
    restricted = Signal(bool)  # a confusion-matrix cell limits the list (False: every image again)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = ThumbnailLoader(self)
        self.model = ImageTableModel(self.loader, self)
        self.proxy = ImageFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.folder = ""
        self.sort_box = QComboBox()
        self.sort_box.addItems([f"Sort by {key}" for key in SORT_KEYS])
        self.sort_box.currentIndexChanged.connect(self._sort)
        self.misclassified = QCheckBox("Misclassified only")
        self.misclassified.setToolTip("Show only images whose label (sub-folder) disagrees with the prediction")
        self.misclassified.toggled.connect(self.proxy.set_misclassified_only)
        self.misclassified.toggled.connect(lambda _on: self._update_count())
        self.count = hint_label()
        self.count.setWordWrap(True)
        self.restriction = QLabel()
        self.restriction.setWordWrap(True)
        self.restriction.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the dock
        self.show_all = QPushButton("Show all")
        self.show_all.setToolTip("Show every image of the folder again")
        self.show_all.clicked.connect(lambda: self.restrict(None))
        self.view = self._make_view()
        top = WrapRow([self.sort_box, self.misclassified])  # stacked in a narrow dock
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(top)
        restricted = QHBoxLayout()
        restricted.addWidget(self.restriction, 1)
        restricted.addWidget(self.show_all)
        layout.addLayout(restricted)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.restrict(None)

    def _make_view(self) -> QTableView:
        view = QTableView()
        view.setModel(self.proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        view.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 6)
        view.verticalHeader().hide()
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setSortingEnabled(True)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.setItemDelegateForColumn(0, ImageDelegate(view))
        header = view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        # One column: the name gets the dock's whole width (a laptop's narrow dock cut "crack_01.p…"
        # beside Predicted and Conf.); label and prediction are its second line. The hidden columns
        # still sort (the Sort by box).
        for column in (1, 2, 3):
            view.hideColumn(column)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        view.selectionModel().currentRowChanged.connect(self._current_changed)
        view.clicked.connect(self._clicked)  # the selected image again: recompute what a cancel stopped
        return view

    # -- contents ---------------------------------------------------------------------------
    def set_folder(self, folder: str, paths: list[str]) -> None:
        """Show the images of a folder (labels from its sub-folders)."""
        self.folder = folder
        self.restrict(None)
        self.model.set_images(folder, paths)
        self._update_count()
        self.folderChanged.emit(folder)

    def set_class_names(self, names: tuple[str, ...]) -> None:
        """The model's classes, to tell a real mismatch from a folder that is not a class."""
        self.model.class_names = tuple(names)

    def set_predictions(self, predictions) -> None:
        """Fill in predicted classes and confidences."""
        self.model.set_predictions(predictions)
        self._update_count()

    def clear_predictions(self) -> None:
        """Forget every prediction (another model)."""
        self.model.clear_predictions()
        self._update_count()

    def label_of(self, path: str | None) -> str | None:
        """The folder label of an image (None when it has none or is not listed)."""
        row = self.model.row_of(path) if path else None
        return self.model.rows[row].label if row is not None else None

    def paths(self) -> list[str]:
        """Every image path of the folder, in folder order."""
        return [row.path for row in self.model.rows]

    def visible_paths(self) -> list[str]:
        """Paths in the order shown (sorted and filtered)."""
        return [self.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.proxy.rowCount())]

    # -- selection --------------------------------------------------------------------------
    def current_path(self) -> str | None:
        """The selected image."""
        index = self.view.currentIndex()
        return index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None

    def select_path(self, path: str) -> bool:
        """Select an image by path; False if it is not shown."""
        row = self.model.row_of(path)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self._select(index.row())
        return True

    def select_row(self, row: int) -> None:
        """Select the shown row `row` (clamped)."""
        if self.proxy.rowCount():
            self._select(max(0, min(row, self.proxy.rowCount() - 1)))

    def step(self, delta: int) -> None:
        """Move the selection by `delta` shown rows (Next = +1, Previous = -1)."""
        current = self.view.currentIndex()
        self.select_row(current.row() + delta if current.isValid() else 0)

    def _select(self, row: int) -> None:
        index = self.proxy.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)

    def _clicked(self, index) -> None:
        if index.isValid():
            self.imageSelected.emit(index.data(Qt.ItemDataRole.UserRole))

    def _current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.imageSelected.emit(current.data(Qt.ItemDataRole.UserRole))

    # -- sorting and filtering --------------------------------------------------------------
    def restrict(self, paths: set[str] | None, description: str = "") -> None:
        """Show only `paths` (a confusion-matrix cell), with a note and a Show all button; None undoes it."""
        self.proxy.set_only(paths)
        self.restriction.setText(f"Showing {description}" if paths is not None else "")
        for widget in (self.restriction, self.show_all):
            widget.setVisible(paths is not None)
        self._update_count()
        self.restricted.emit(paths is not None)
        if paths is not None and self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.select_row(0)

    def show_everything(self) -> None:
        """Lift every filter: the cell restriction and Misclassified only."""
        self.restrict(None)
        self.misclassified.setChecked(False)

    def set_sort(self, key: str) -> None:
        """Sort by "name", "label", "predicted" or "confidence" (highest first)."""
        if key in SORT_KEYS:
            self.sort_box.setCurrentIndex(list(SORT_KEYS).index(key))
            self._sort(list(SORT_KEYS).index(key))

    def sort_key(self) -> str:
        """The chosen sort key."""
        return list(SORT_KEYS)[self.sort_box.currentIndex()]

    def _sort(self, position: int) -> None:
        column = list(SORT_KEYS.values())[position]
        order = Qt.SortOrder.DescendingOrder if column == 3 else Qt.SortOrder.AscendingOrder
        self.view.sortByColumn(column, order)

    def _update_count(self, *_args) -> None:
        total = len(self.model.rows)
        known = sum(r.prediction is not None for r in self.model.rows)
        wrong = sum(self.model.mismatch(r) for r in self.model.rows)
        text = f"{total} image{'s' if total != 1 else ''}" if total else \
            "No images: open a folder (Ctrl+Shift+O) or drop one here"
        if total and known:
            text += f" · {known} predicted · {wrong} disagree with their label"
        if total and self.proxy.rowCount() != total:
            text += f" · {self.proxy.rowCount()} shown"
        self.count.setText(text)
