"""Nothing cut off at 1280 x 720 (issue 20, item 8; the offscreen screen of tests/gui/conftest.py):
the sanity check's nine stage maps, the Review header, the status message beside a running job,
and every column of the layer tree. (The compare titles: test_laptop_fit.py.)"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from .conftest import wait_idle

LAPTOP = (1280, 720)


def _inside(widget: QWidget, outer: QWidget) -> bool:
    """Whether `widget` lies wholly inside `outer` (both on screen)."""
    corner = widget.mapTo(outer, QPoint(0, 0))
    return QRect(QPoint(0, 0), outer.size()).contains(QRect(corner, widget.size()))


def _on_laptop(qtbot, window) -> None:
    assert QApplication.primaryScreen().size().toTuple() == LAPTOP
    wait_idle(qtbot, window)
    window.resize(*LAPTOP)
    qtbot.waitUntil(lambda: window.width() <= LAPTOP[0], timeout=5000)


def _sanity_display(layers: list[str]):
    from engine.trust.sanity import SanityResult, SanityStage
    from gui.jobs import Explain
    from gui.trust.requests import SanityDisplay, SanityRequest

    m = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    stages = tuple(SanityStage(layer, m * (1 - k / len(layers)), 1 - k / 10, 1 - k / 10) for k, layer in enumerate(layers))
    request = SanityRequest(Explain("/x/crack_01.png", "gradcam", None, None), ("gradcam",))
    return SanityDisplay(request, "crack", (SanityResult("gradcam", 4, stages, True, "ok"),))


def test_every_sanity_stage_map_is_in_view(qtbot, window):
    _on_laptop(qtbot, window)
    window.show_tab("trust")
    view = window.trust
    layers = ["", "predictions", "class_maps", "last_conv", "block3_conv", "block3_bn", "block2_conv", "block2_bn",
              "block1_conv"]
    view.show_sanity(_sanity_display(layers))
    qtbot.waitUntil(lambda: view.maps_row.count() == 9, timeout=5000)
    qtbot.wait(50)
    QApplication.processEvents()
    cells = [label for label in view.sanity.findChildren(QLabel) if not label.pixmap().isNull()]  # the maps
    assert len(cells) == 9
    for index, cell in enumerate(cells):
        assert _inside(cell, view.sanity), f"stage {index} outside the sanity box"
        corner = cell.mapTo(view.page.viewport(), QPoint(0, 0))
        assert 0 <= corner.x() and corner.x() + cell.width() <= view.page.viewport().width(), f"stage {index} cut"
    assert len({cell.mapTo(view, QPoint(0, 0)).y() for cell in cells}) > 1  # the stages wrap onto further rows


def test_review_header_is_one_line_and_keeps_its_buttons_in_view(qtbot, window):
    _on_laptop(qtbot, window)
    window.show_tab("review")
    QApplication.processEvents()
    tab = window.review
    setup = tab.setup
    assert setup.text().startswith("Grad-CAM")
    lines = setup.height() / setup.fontMetrics().lineSpacing()
    assert lines < 2, f"the setup line takes {lines:.1f} lines"
    for button in (tab.run_button, tab.options.open_report, tab.options.folder_button):
        assert _inside(button, tab), f"{button.text()} is out of view"
    assert tab.run_button.height() <= tab.run_button.sizeHint().height()  # not stretched by a tall header


def test_the_status_message_is_whole_beside_a_running_job(qtbot, window):
    _on_laptop(qtbot, window)
    text = window.ready_text()
    window.show_busy("Explaining crack_01.png with Score-CAM…", True)
    window.status(text)
    QApplication.processEvents()
    message = window.message
    assert message.width() >= message.fontMetrics().horizontalAdvance(text), "the status message is cut"
    window.canvas.hovered.emit(window.canvas.value_at(64, 64))
    assert window.canvas.readout.text().startswith("x 64, y 64")  # the read-out: under the canvas
    assert _inside(window.canvas.readout, window.canvas)


def test_every_layer_tree_column_is_whole(qtbot, window):
    _on_laptop(qtbot, window)
    tree = window.layer_tree
    QApplication.processEvents()
    header = tree.header()
    widths = [header.sectionSize(column) for column in range(header.count())]
    for column, width in enumerate(widths):
        assert width >= tree.sizeHintForColumn(column), f"column {column} narrower than its text"
    assert sum(widths) <= tree.viewport().width(), f"columns {widths} wider than the tree ({tree.viewport().width()})"
    from gui.layer_tree import compact_count, short_type

    assert short_type("BatchNormalization") == "BatchNorm" and short_type("GlobalAveragePooling2D") == "GAvgPool2D"
    assert [compact_count(n) for n in (648, 10_368, 110_720, 23_500_000)] == ["648", "10,368", "110.7k", "23.5M"]
    item = next(iter(tree.items.values()))
    assert "parameters" in item.toolTip(2)  # the exact count on hover


def test_the_view_controls_keep_one_row_beside_the_wider_tree(qtbot, window):
    from gui.wrap_row import WrapRow

    _on_laptop(qtbot, window)
    QApplication.processEvents()
    row = window.view_controls.findChild(WrapRow)
    assert row.lines == (3,), f"the view controls wrap to {len(row.lines)} rows"
