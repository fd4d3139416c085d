"""The layer tree, as model.summary() lists it, with nested models expandable."""

from __future__ import annotations

from engine.model.layers import LayerInfo
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from .style import hint_colour

PATH_ROLE = Qt.ItemDataRole.UserRole
TARGET_MARK = "◎"


COLUMNS = ("Layer", "Output", "Params", "Type")
# Keras's long type names in their usual short forms (the whole name is in the tool tip), so that
# every column fits the dock of a 1280 x 720 screen.
SHORT_TYPES = (("Normalization", "Norm"), ("GlobalAveragePooling", "GAvgPool"), ("GlobalMaxPooling", "GMaxPool"),
               ("AveragePooling", "AvgPool"), ("MaxPooling", "MaxPool"), ("SpatialDropout", "SDropout"),
               ("Convolution", "Conv"), ("Transpose", "T"), ("Depthwise", "DW"), ("Separable", "Sep"),
               ("InputLayer", "Input"))


def short_type(name: str) -> str:
    """A Keras layer type in its short form: `BatchNormalization` -> `BatchNorm`."""
    for long, short in SHORT_TYPES:
        name = name.replace(long, short)
    return name


def compact_count(count: int) -> str:
    """A parameter count in at most six characters: `648`, `10,368`, `110.7k`, `23.5M`."""
    if count < 100_000:
        return f"{count:,}"
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def compact_shape(shape: tuple) -> str:
    """An output shape without its batch dimension, as a user reads it: `16×16×64`, `4`."""
    dims = shape[1:] if shape and shape[0] is None else shape
    return "×".join("?" if d is None else str(d) for d in dims) or "—"


class LayerTree(QTreeWidget):
    """Name, output shape (summary()'s form in the tool tip), parameters, type. CAM targets are marked; clicking one selects it;
    Ctrl/Shift+click several to fuse their maps (the target is then their paths joined by
    commas, which the engine fuses: engine.methods.fusion)."""

    targetChosen = Signal(str)
    activationsRequested = Signal(str)
    patternsRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(list(COLUMNS))
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setRootIsDecorated(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.header()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.itemClicked.connect(self._clicked)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.layers: dict[str, LayerInfo] = {}
        self.target: str | None = None

    def set_layers(self, layers: tuple[LayerInfo, ...], target: str | None) -> None:
        """Rebuild the tree from the engine's layer list."""
        self.clear()
        self.setRootIsDecorated(any(info.parent for info in layers))  # a flat model: no room for branches
        self.items, self.layers = {}, {info.path: info for info in layers}
        for info in layers:
            parent = self.items.get(info.parent) if info.parent else None
            item = QTreeWidgetItem([info.name, compact_shape(info.output_shape), compact_count(info.params),
                                    short_type(info.type)])
            item.setData(0, PATH_ROLE, info.path)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column in range(len(COLUMNS)):
                item.setToolTip(column, self._tooltip(info))
            if not info.is_cam_target:
                for column in range(len(COLUMNS)):
                    item.setForeground(column, QBrush(hint_colour()))  # not a CAM target: quieter, still readable
            (parent.addChild(item) if parent else self.addTopLevelItem(item))
            self.items[info.path] = item
        self.expandAll()
        self.set_target(target)

    def set_target(self, path: str | None) -> None:
        """Mark the current CAM target layer (several, comma-separated: a fused map)."""
        targets = [p for p in (path or "").split(",") if p in self.items]
        for key, item in self.items.items():
            info = self.layers[key]
            font = item.font(0)
            font.setBold(key in targets)
            item.setFont(0, font)
            mark = f"{TARGET_MARK} " if key in targets else ("○ " if info.is_cam_target else "   ")
            item.setText(0, mark + info.name)
        self.target = path
        if len(targets) == 1:
            self.setCurrentItem(self.items[targets[0]])
        elif targets:
            self.clearSelection()
            for key in targets:
                self.items[key].setSelected(True)
        if targets:
            self.scrollToItem(self.items[targets[-1]])

    def _tooltip(self, info: LayerInfo) -> str:
        return f"{info.path} ({info.type}), output {info.shape_text}, {info.params:,} parameters\n{self._hint(info)}"

    def _hint(self, info: LayerInfo) -> str:
        if info.is_cam_target:
            return ("Click to make it the CAM target; Ctrl+click several to fuse their maps. "
                    "Right-click for activations and filter patterns.")
        if info.is_model:
            return "A nested model: expand it to pick one of its layers"
        return "Not a CAM target (needs a spatial 4-D output)"

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        selected = {i.data(0, PATH_ROLE) for i in self.selectedItems()}
        chosen = [p for p in self.items if p in selected and self.layers[p].is_cam_target]  # shallow to deep
        path = ",".join(chosen) if len(chosen) > 1 else item.data(0, PATH_ROLE)
        if (len(chosen) > 1 or self.layers[path].is_cam_target) and path != self.target:
            self.targetChosen.emit(path)

    def _context_menu(self, point: QPoint) -> None:
        item = self.itemAt(point)
        if item is None:
            return
        path = item.data(0, PATH_ROLE)
        info = self.layers[path]
        menu = QMenu(self)
        spatial = len(info.output_shape) == 4 and info.type != "InputLayer"
        target = menu.addAction("Use as CAM target", lambda: self.targetChosen.emit(path))
        target.setEnabled(info.is_cam_target)
        menu.addSeparator()
        menu.addAction("Show activations", lambda: self.activationsRequested.emit(path)).setEnabled(spatial)
        menu.addAction("Show filter patterns", lambda: self.patternsRequested.emit(path)).setEnabled(spatial)
        menu.exec(self.viewport().mapToGlobal(point))

