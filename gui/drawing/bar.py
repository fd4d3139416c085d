"""The drawing bar above the canvas: the tools with their keys, the class of new regions, the
brush size, undo, save and "Mark defects"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .layer import BOX, BRUSH, ELLIPSE, ERASER, POLYGON

PAN = "pan"
TOOL_KEYS = ((PAN, "Pan", "V", "Pan and zoom (mouse wheel); the tools leave the map as it is"),
             (BOX, "Box", "R", "Drag a box (rectangle) around the defect"),
             (ELLIPSE, "Ellipse", "E", "Drag the box an ellipse fills"),
             (POLYGON, "Polygon", "P", "Click the vertices; click the first one, double-click or Enter closes it"),
             (BRUSH, "Brush", "B", "Paint the defect's pixels"),
             (ERASER, "Eraser", "X", "Rub out painted pixels; a box, ellipse or polygon it touches goes whole"))


class DrawingBar(QWidget):
    """Buttons only: DrawingController acts on their signals."""

    toolChosen = Signal(str)  # a tool name, or PAN
    labelChosen = Signal(str)
    radiusChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tools = QButtonGroup(self)
        self.tool_buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(6, 2, 6, 0)
        row.addWidget(QLabel("Draw:"))
        for name, text, key, tip in TOOL_KEYS:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(f"{tip} ({key})")
            self.tools.addButton(button)
            self.tool_buttons[name] = button
            button.clicked.connect(lambda _on=False, tool=name: self.toolChosen.emit(tool))
            row.addWidget(button)
        self.tool_buttons[PAN].setChecked(True)
        self.classes = QComboBox()
        self.classes.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.classes.setMinimumContentsLength(8)  # a long class name must not widen the canvas
        self.classes.setToolTip("Class of the next region (Alt+1 to Alt+9)")
        self.classes.currentTextChanged.connect(self.labelChosen)
        row.addWidget(self.classes)
        self.size = QSpinBox()
        self.size.setRange(1, 100)
        self.size.setValue(6)
        self.size.setSuffix(" px")
        self.size.setToolTip("Brush and eraser radius")
        self.size.valueChanged.connect(self.radiusChanged)
        row.addWidget(self.size)
        row.addStretch(1)
        actions = QHBoxLayout()  # a second row: one row of everything is wider than a 1280 px screen leaves
        actions.setContentsMargins(6, 0, 6, 0)
        self.undo = QToolButton()
        self.undo.setText("Undo")
        self.undo.setToolTip("Take back the last vertex or region (Ctrl+Z)")
        self.save = QToolButton()
        self.save.setText("Save")
        self.save.setToolTip("Save the regions beside the image as <name>.json, a file LabelMe opens (Enter)")
        self.mark = QToolButton()
        self.mark.setText("Mark defects")
        self.mark.setCheckable(True)
        self.mark.setToolTip("Step through the images without a region: draw, Enter saves and goes on (M)")
        self.skip = QToolButton()
        self.skip.setText("Next unmarked ›")
        self.skip.setToolTip("The next image without a region, leaving this one as it is (N)")
        for button in (self.undo, self.save, self.mark, self.skip):
            actions.addWidget(button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("padding: 0 6px;")
        actions.addWidget(self.status, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 2)
        column.setSpacing(0)
        column.addLayout(row)
        column.addLayout(actions)

    def show_tool(self, tool: str | None) -> None:
        """Check the button of `tool` (None: Pan) without emitting."""
        self.tool_buttons[tool or PAN].setChecked(True)

    def set_classes(self, names: tuple[str, ...], current: str = "") -> None:
        """The classes a region can have; `current` chosen when it is one of them."""
        self.classes.blockSignals(True)
        self.classes.clear()
        self.classes.addItems([f"{name}" for name in names])
        if current in names:
            self.classes.setCurrentIndex(names.index(current))
        self.classes.blockSignals(False)
        self.labelChosen.emit(self.classes.currentText())

    def choose_class(self, position: int) -> None:
        """Choose the class at `position` (from the 1-9 keys)."""
        if 0 <= position < self.classes.count():
            self.classes.setCurrentIndex(position)

    def set_status(self, text: str) -> None:
        """The line under the buttons."""
        self.status.setText(text)
