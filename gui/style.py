"""Shared look: the colour of secondary (hint) text, readable on the window's background."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

TEXT_SHARE = 0.68  # hint text = 68 % text colour + 32 % background: quieter than text, contrast >= 4.5:1


def hint_colour(palette: QPalette | None = None) -> QColor:
    """Secondary text: the window text colour blended towards the background."""
    palette = palette or QApplication.palette()
    text, back = palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window)
    mix = [round(TEXT_SHARE * a + (1 - TEXT_SHARE) * b) for a, b in
           zip(text.getRgb()[:3], back.getRgb()[:3], strict=True)]
    return QColor(*mix)


def contrast_ratio(first: QColor, second: QColor) -> float:
    """The WCAG 2 contrast ratio of two colours (1 to 21)."""
    def luminance(colour: QColor) -> float:
        channels = []
        for value in colour.getRgbF()[:3]:
            channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hint_style() -> str:
    """A style sheet for hint text."""
    return f"color: {hint_colour().name()};"


def hint_label(text: str = "") -> QLabel:
    """A label for secondary text (hints, counts) in the hint colour."""
    label = QLabel(text)
    label.setStyleSheet(hint_style())
    label.setProperty("hint", True)
    return label
