"""The method picker and its parameters, built from each engine method's `defaults`."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .jobs import MethodSpec


def parameter_widget(value: Any, choices: tuple[str, ...] = ()) -> QWidget:
    """int -> QSpinBox, float -> QDoubleSpinBox, bool -> QCheckBox, str with choices -> QComboBox."""
    if isinstance(value, bool):
        widget = QCheckBox()
        widget.setChecked(value)
    elif isinstance(value, int):
        widget = QSpinBox()
        widget.setRange(-1_000_000, 1_000_000)
        widget.setValue(value)
    elif isinstance(value, float):
        widget = QDoubleSpinBox()
        widget.setDecimals(3)
        widget.setRange(-1e6, 1e6)
        widget.setSingleStep(0.05 if abs(value) <= 1 else 1.0)
        widget.setValue(value)
    elif choices:
        widget = QComboBox()
        widget.addItems(list(choices))
        widget.setCurrentText(str(value))
    else:
        widget = QLineEdit(str(value))
    return widget


def widget_value(widget: QWidget) -> Any:
    """The value a parameter widget holds."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    return widget.text()


def _signal(widget: QWidget):
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        # Arrows and the wheel apply at once; typed digits on Enter or leaving the box.
        widget.setKeyboardTracking(False)
        return widget.valueChanged
    if isinstance(widget, QComboBox):
        return widget.currentTextChanged
    return widget.editingFinished


class MethodPanel(QWidget):
    """Emits `changed()` when the method or one of its parameters changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("Explanation method (Grad-CAM and friends)")
        self.combo.addItem("Loading the engine…")
        self.combo.setEnabled(False)
        self.combo.currentIndexChanged.connect(self._method_changed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        self.form = QFormLayout()
        self.reset = QPushButton("Reset parameters")
        self.reset.clicked.connect(self._reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.combo)
        layout.addWidget(self.note)
        layout.addLayout(self.form)
        layout.addWidget(self.reset)
        layout.addStretch(1)
        self.specs: dict[str, MethodSpec] = {}
        self.widgets: dict[str, QWidget] = {}

    def set_methods(self, specs: tuple[MethodSpec, ...], current: str | None = None) -> None:
        """List the engine's methods by title and select `current` (or the first)."""
        self.specs = {spec.name: spec for spec in specs}
        self.combo.blockSignals(True)
        self.combo.clear()
        for spec in specs:
            self.combo.addItem(spec.title, spec.name)
        index = max(0, self.combo.findData(current)) if current else 0
        self.combo.setCurrentIndex(index)
        self.combo.setEnabled(bool(specs))
        self.combo.blockSignals(False)
        self._build_form()

    def method(self) -> str | None:
        """The chosen method name."""
        return self.combo.currentData()

    def spec(self) -> MethodSpec | None:
        """The chosen method's description."""
        return self.specs.get(self.method() or "")

    def select(self, name: str) -> None:
        """Choose a method by name."""
        index = self.combo.findData(name)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def params(self) -> dict[str, Any]:
        """Parameter values that differ from the method's defaults."""
        spec = self.spec()
        defaults = spec.default_dict if spec else {}
        values = {name: widget_value(w) for name, w in self.widgets.items()}
        return {k: v for k, v in values.items() if v != defaults.get(k)}

    def _method_changed(self, _index: int) -> None:
        self._build_form()
        self.changed.emit()

    def _build_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.widgets = {}
        spec = self.spec()
        if spec is None:
            return
        self.note.setText("Uses the CAM target layer (click a layer in the tree)." if spec.needs_layer
                          else "Works on the input image; the layer is not used.")
        choices = spec.choice_dict
        for name, value in spec.defaults:
            widget = parameter_widget(value, choices.get(name, ()))
            _signal(widget).connect(self.changed)
            self.form.addRow(name.replace("_", " "), widget)
            self.widgets[name] = widget
        self.reset.setVisible(bool(spec.defaults))

    def _reset(self) -> None:
        self._build_form()
        self.changed.emit()
