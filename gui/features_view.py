"""The features tab: a layer's activations for the current image, and its filter patterns,
the pattern grid filling in as the gradient ascent runs."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .canvas import image_view
from .protocol import FeatureResult, Patterns
from .wrap_row import WrapRow, group

HINT = ("Pick a layer in the layer tree, then show its activations for this image, or the "
        "patterns its filters respond to (right-click a layer for the same).")


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


class FeaturesView(QWidget):
    """Buttons for the two views, and the grid picture."""

    activationsRequested = Signal(str)
    patternsRequested = Signal(object)  # Patterns

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer: str | None = None
        self.layer_label = QLabel("Layer: —")
        self.layer_label.setStyleSheet("font-weight: 600;")
        self.activations_button = QPushButton("Show activations")
        self.activations_button.clicked.connect(self._ask_activations)
        self.patterns_button = QPushButton("Show filter patterns")
        self.patterns_button.clicked.connect(self._ask_patterns)
        self.count = _spin(1, 1024, 16, "How many filters (from filter 0)")
        self.size_box = _spin(16, 256, 64, "Pattern size in pixels")
        self.steps = _spin(1, 500, 40, "Gradient-ascent steps")
        self.regularised = QCheckBox("Regularised")
        self.regularised.setChecked(True)
        self.regularised.setToolTip("Jitter, blur and pre-activation objective: readable patterns. "
                                    "Off: plain gradient ascent, as “python main.py filters --plain” does.")
        controls = WrapRow([group(self.layer_label, self.activations_button, self.patterns_button),
                            group(QLabel("Filters"), self.count, QLabel("Size"), self.size_box, QLabel("Steps"),
                                  self.steps, self.regularised)])
        self.caption = QLabel(HINT)
        self.caption.setWordWrap(True)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202124")
        self.view, self.item = image_view(self.graphics.ci)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        self.result: FeatureResult | None = None
        self.results: dict[str, FeatureResult] = {}  # last finished grid of each kind, for export
        self.set_layer(None)

    def set_layer(self, layer: str | None) -> None:
        """The layer the buttons act on."""
        self.layer = layer
        self.layer_label.setText(f"Layer: {layer or '—'}")
        self.activations_button.setEnabled(layer is not None)
        self.patterns_button.setEnabled(layer is not None)

    def patterns_request(self) -> Patterns | None:
        """The filter-pattern request the controls describe."""
        if self.layer is None:
            return None
        return Patterns(self.layer, self.count.value(), self.size_box.value(), self.steps.value(),
                        self.regularised.isChecked())

    def show_result(self, result: FeatureResult) -> None:
        """Show a grid (partial results replace each other as the ascent runs)."""
        first = self.result is None or self.result.image.shape != result.image.shape
        self.result = result
        if result.final:
            self.results[result.kind] = result
        self.caption.setText(result.caption + ("" if result.final else "  (running…)"))
        self.item.setImage(result.image, autoLevels=False, levels=(0, 255))
        if first:
            self.view.autoRange(padding=0.02)

    def mark_cancelled(self) -> None:
        """A running ascent was cancelled: its partial grid stays, said to be partial."""
        if self.result is not None and not self.result.final:
            self.caption.setText(f"{self.result.caption}  (cancelled: partial result)")

    def _ask_activations(self) -> None:
        if self.layer:
            self.activationsRequested.emit(self.layer)

    def _ask_patterns(self) -> None:
        request = self.patterns_request()
        if request:
            self.patternsRequested.emit(request)
