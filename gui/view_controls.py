"""Opacity, threshold, colour map, outline and view-mode controls shared by the views."""

from __future__ import annotations

from engine.maps.render import COLORMAPS
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .compose import VIEW_MODES, ViewSettings
from .wrap_row import WrapRow, group


def _slider(value: float, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 100)
    slider.setValue(round(value * 100))
    slider.setMinimumWidth(40)  # narrows on a small screen: one row of controls under 660 px of maps
    slider.setMaximumWidth(110)
    slider.setToolTip(tip)
    return slider


class ViewControls(QWidget):
    """A row of controls; emits `changed(ViewSettings)`."""

    changed = Signal(object)

    def __init__(self, settings: ViewSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        settings = settings or ViewSettings()
        self.opacity = _slider(settings.opacity, "Opacity of the heatmap over the image")
        self.threshold = _slider(settings.threshold, "Hide heat below this value (0 = show all)")
        self.opacity_text, self.threshold_text = QLabel(), QLabel()
        for label in (self.opacity_text, self.threshold_text):
            label.setMinimumWidth(30)
        self.colormap = QComboBox()
        self.colormap.addItems(list(COLORMAPS))
        self.colormap.setCurrentText(settings.colormap)
        self.colormap.setToolTip("Colour map of the heatmap")
        self.outline = QCheckBox("Outline")
        self.outline.setChecked(settings.outline)
        self.outline.setToolTip("Draw the contour of the region above the threshold (0.5 when the threshold is 0)")
        self.modes = QButtonGroup(self)
        buttons = []
        for number, mode in enumerate(VIEW_MODES):
            button = QToolButton()
            button.setText(mode.capitalize())
            button.setCheckable(True)
            button.setChecked(mode == settings.mode)
            button.setToolTip(f"Show {'the image alone' if mode == 'image' else mode} (key {number + 1})")
            button.setMinimumWidth(button.sizeHint().width())  # never elided on a small screen
            self.modes.addButton(button, number)
            buttons.append(button)
        row = WrapRow([group(*buttons, spacing=2),
                       group(QLabel("Opacity"), self.opacity, self.opacity_text, QLabel("Threshold"), self.threshold,
                             self.threshold_text),
                       group(self.colormap, self.outline)], margins=(4, 2, 4, 2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(row)
        for signal in (self.opacity.valueChanged, self.threshold.valueChanged, self.colormap.currentTextChanged,
                       self.outline.toggled):
            signal.connect(self._emit)
        self.modes.idToggled.connect(lambda _id, checked: checked and self._emit())
        self._update_texts()

    def settings(self) -> ViewSettings:
        """The current choice."""
        mode = VIEW_MODES[max(0, self.modes.checkedId())]
        return ViewSettings(self.opacity.value() / 100, self.threshold.value() / 100, self.colormap.currentText(),
                            self.outline.isChecked(), mode)

    def set_mode(self, mode: str) -> None:
        """Switch between overlay, heatmap and image."""
        self.modes.button(VIEW_MODES.index(mode)).setChecked(True)

    def _update_texts(self) -> None:
        self.opacity_text.setText(f"{self.opacity.value()}%")
        self.threshold_text.setText(f"{self.threshold.value() / 100:.2f}")

    def _emit(self, *_args) -> None:
        self._update_texts()
        self.changed.emit(self.settings())
