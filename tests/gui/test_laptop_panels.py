"""At 1280 x 720, opening Combinations shows every combination (the layer tree gives up its
room down to a few rows) and closing them gives the tree its room back."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from .conftest import wait_idle

LAPTOP = (1280, 720)


def test_opened_combinations_are_all_in_view_and_the_tree_comes_back(qtbot, window):
    wait_idle(qtbot, window)
    window.resize(*LAPTOP)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == LAPTOP, timeout=5000)
    before = window.right_split.sizes()
    window.method_panel.combinations_button.setChecked(True)
    qtbot.wait(50)
    QApplication.processEvents()
    viewport = window.right_scroll.viewport()
    seen = QRect(QPoint(0, 0), viewport.size())
    for name, widget in window.method_panel.combination_widgets.items():
        corner = widget.mapTo(viewport, QPoint(0, 0))
        assert seen.contains(QRect(corner, widget.size())), f"{name} not in view"
    assert window.right_split.sizes()[1] >= 100  # a few rows of the tree stay
    window.method_panel.combinations_button.setChecked(False)
    assert window.right_split.sizes() == before
