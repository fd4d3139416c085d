"""The method picker, the chosen method's parameters and the map combinations, every control
built from the declarations (engine.params.Param): int -> spin box with the declared range,
float -> double spin box, bool -> check box, choices -> combo box, help as the tooltip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.maps.combine import COMBINATIONS
from engine.params import APPLIES_TO, Param
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .style import hint_style

if TYPE_CHECKING:
    from .protocol import MethodSpec

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e9


def parameter_widget(param: Param) -> QWidget:
    """The control for one declared parameter, showing its default, with its help as tooltip."""
    if param.kind is bool:
        widget: QWidget = QCheckBox()
    elif param.choices:
        widget = QComboBox()
        if param.default is None:
            widget.addItem("off", None)
        for choice in param.choices:
            widget.addItem(choice, choice)
    elif param.kind is int:
        widget = QSpinBox()
        widget.setRange(int(max(param.low, -INT_LIMIT)) if param.low is not None else -INT_LIMIT,
                        int(min(param.high, INT_LIMIT)) if param.high is not None else INT_LIMIT)
    elif param.kind is float:
        widget = QDoubleSpinBox()
        low = param.low if param.low is not None else -FLOAT_LIMIT
        high = param.high if param.high is not None else FLOAT_LIMIT
        widget.setDecimals(3)
        widget.setRange(low, high)
        widget.setSingleStep(0.05 if high - low <= 1 else 0.1 if high - low <= 10 else 1.0)
    else:
        widget = QLineEdit()
    set_widget_value(widget, param.default)
    allowed = "" if param.kind is bool else f"; {param.allowed()}"  # a checkbox needs no "true or false"
    widget.setToolTip(f"{param.help} (default {param.default_text()}{allowed})")
    widget.setObjectName(param.name)
    return widget


def widget_value(widget: QWidget) -> Any:
    """The value a parameter control holds."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    return widget.text()


def set_widget_value(widget: QWidget, value: Any) -> None:
    """Show `value` in a parameter control."""
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        widget.setValue(value)
    elif isinstance(widget, QComboBox):
        widget.setCurrentIndex(max(0, widget.findData(value)))
    elif isinstance(widget, QLineEdit):
        widget.setText("" if value is None else str(value))


def _signal(widget: QWidget):
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        # Arrows and the wheel apply at once; typed digits on Enter or leaving the box.
        widget.setKeyboardTracking(False)
        return widget.valueChanged
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    return widget.editingFinished


class MethodPanel(QWidget):
    """The method, its parameters and the combinations. `changed()` and `params_changed(dict)`
    say that the method, a parameter or a combination changed; `params()` is what to request.

    Each method keeps the values the user gave it while another method is chosen; the
    combinations are shared by every method and enabled where they apply.
    """

    changed = Signal()
    params_changed = Signal(dict)  # params(): the chosen method's changed parameters and combinations

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("Explanation method (Grad-CAM and friends)")
        self.combo.addItem("Loading the engine…")
        self.combo.setEnabled(False)
        self.combo.currentIndexChanged.connect(self._method_changed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(hint_style())
        self.form = QFormLayout()
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Every parameter and combination back to its default")
        self.reset.clicked.connect(self._reset)
        self.combinations_button = QToolButton()
        self.combinations_button.setCheckable(True)
        self.combinations_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.combinations_button.setArrowType(Qt.ArrowType.RightArrow)
        self.combinations_button.setAutoRaise(True)
        self.combinations_button.setToolTip("Guided, edges, emphasis, outline, clean-up, polarity and clipping")
        self.combinations_button.toggled.connect(self._show_combinations)
        self.combinations = QWidget()
        self.combination_widgets = self._build_combinations(QFormLayout(self.combinations))
        self.combinations.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.combo)
        layout.addWidget(self.note)
        layout.addLayout(self.form)
        layout.addWidget(self.combinations_button)
        layout.addWidget(self.combinations)
        layout.addWidget(self.reset)
        layout.addStretch(1)
        self.specs: dict[str, MethodSpec] = {}
        self.widgets: dict[str, QWidget] = {}  # the chosen method's parameter controls, by name
        self.values: dict[str, dict[str, Any]] = {}  # method -> the values its controls hold
        self._update_combinations()

    # -- public -------------------------------------------------------------------------------
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
        """The chosen method's parameters and the combinations that apply to it, where they
        differ from their declared defaults."""
        method = self.method()
        return self.params_for(method) if method else {}

    def params_for(self, method: str) -> dict[str, Any]:
        """What the user chose for `method` (its own parameters as last set for it, and the
        combinations that apply to it), where they differ from the defaults."""
        spec = self.specs.get(method)
        if spec is None:
            return {}
        own = self.values.get(method, {})
        values = {p.name: own[p.name] for p in spec.parameters if p.name in own and own[p.name] != p.default}
        for param in spec.combinations():
            value = widget_value(self.combination_widgets[param.name])
            if value != param.default:
                values[param.name] = value
        return values

    def set_params(self, params: dict[str, Any]) -> None:
        """Show `params` (the chosen method's parameters and combinations; the rest at their
        defaults) without emitting."""
        spec = self.spec()
        self.blockSignals(True)
        try:
            if spec is not None:
                self.values[spec.name] = {p.name: params.get(p.name, p.default) for p in spec.parameters}
                self._build_form()
            for param in COMBINATIONS:
                set_widget_value(self.combination_widgets[param.name], params.get(param.name, param.default))
            self._update_combinations()
        finally:
            self.blockSignals(False)

    # -- building -----------------------------------------------------------------------------
    def _build_combinations(self, form: QFormLayout) -> dict[str, QWidget]:
        widgets = {}
        for param in COMBINATIONS:
            widget = parameter_widget(param)
            if param.applies_to != "any":
                widget.setToolTip(f"{APPLIES_TO[param.applies_to]}: {widget.toolTip()}")
            _signal(widget).connect(self._emit)
            form.addRow(param.label, widget)
            widgets[param.name] = widget
        return widgets

    def _build_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.widgets = {}
        spec = self.spec()
        self._update_combinations()
        if spec is None:
            return
        self.note.setText("Uses the CAM target layer (click a layer in the tree)." if spec.needs_layer
                          else "Works on the input image; the layer is not used.")
        shown = self.values.get(spec.name, {})
        for param in spec.parameters:
            widget = parameter_widget(param)
            set_widget_value(widget, shown.get(param.name, param.default))
            _signal(widget).connect(self._parameter_changed)
            self.form.addRow(param.label, widget)
            self.widgets[param.name] = widget

    def _update_combinations(self) -> None:
        spec = self.spec()
        for param in COMBINATIONS:
            self.combination_widgets[param.name].setEnabled(spec is not None and param.applies(spec.needs_layer))
        used = sum(widget_value(self.combination_widgets[p.name]) != p.default
                   for p in (spec.combinations() if spec else ()))
        self.combinations_button.setText(f"Combinations ({used} on)" if used else "Combinations")

    def _show_combinations(self, shown: bool) -> None:
        self.combinations.setVisible(shown)
        self.combinations_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # -- reactions ----------------------------------------------------------------------------
    def _parameter_changed(self, *_args) -> None:
        method = self.method()
        if method:
            self.values[method] = {name: widget_value(w) for name, w in self.widgets.items()}
        self._emit()

    def _emit(self, *_args) -> None:
        self._update_combinations()
        self.changed.emit()
        self.params_changed.emit(self.params())

    def _method_changed(self, _index: int) -> None:
        self._build_form()
        self._emit()

    def _reset(self) -> None:
        self.values.pop(self.method() or "", None)
        self.set_params({})
        self._emit()
