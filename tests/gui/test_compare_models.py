"""Comparing two models in the window at 1280 x 720 (issue 23, item 3): File › Compare with another
model… opens B beside A in the Heatmap tab (zoom, pan and view settings shared; what B cannot run is
one line in its pane), the Compare tab's "models" mode puts A and B per method side by side, Stop
comparing returns to one model, and a black-box model A copes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.gui.conftest import DEMO_MODEL, WAIT_MS, open_window, wait_idle
from tests.gui.test_first_minutes import cut_widgets

DEMO = DEMO_MODEL.parent
INT8 = DEMO / "defects_int8.tflite"
SHORTCUT = DEMO / "shortcut.keras"
LAPTOP = (1280, 720)


def compare_with(qtbot, window, path) -> None:
    """Open `path` as model B and wait until both panes are settled."""
    wait_idle(qtbot, window)
    with qtbot.waitSignal(window.controller.stateChanged, timeout=WAIT_MS,
                          check_params_cb=lambda state: state.model_b == str(path)):
        window.controller.open_model_b(str(path))
    wait_idle(qtbot, window)


def choose_method(qtbot, window, name: str) -> None:
    window.method_panel.select(name)
    qtbot.waitUntil(lambda: window.controller.state.method == name, timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_a_black_box_b_says_in_its_pane_what_it_cannot_run_and_shows_what_it_can(qtbot, window):
    window.resize(*LAPTOP)
    compare_with(qtbot, window, INT8)
    pane = window.pair.canvas_b
    assert window.pair.comparing and pane is not None and pane.isVisible()
    assert window.controller.state.method == "gradcam"
    title = pane.title_text()
    assert title.startswith("B · defects_int8.tflite · Grad-CAM") and "Occlusion" in title and "RISE" in title
    assert pane.explanation is None and pane.image is not None  # the image, no map, one line
    assert [w for w in window.findChildren(QMessageBox) if w.isVisible()] == []  # no error dialog
    assert window.canvas.title_text().startswith("A · defects.keras · Grad-CAM")
    QApplication.processEvents()  # a three-line refusal beside a two-line title: both images start level
    assert window.canvas.graphics.mapTo(window, QPoint(0, 0)).y() == pane.graphics.mapTo(window, QPoint(0, 0)).y()

    choose_method(qtbot, window, "occlusion")
    qtbot.waitUntil(lambda: pane.explanation is not None, timeout=WAIT_MS)
    a, b = window.canvas.explanation, pane.explanation
    assert (a.method, b.method) == ("occlusion", "occlusion")
    assert pane.title_text().startswith("B · defects_int8.tflite · Occlusion · class crack")
    assert a.probability != b.probability  # B's own prediction, not A's copied
    assert not np.array_equal(a.heatmap, b.heatmap)


def test_view_settings_zoom_and_pan_apply_to_both_panes(qtbot, window):
    window.resize(*LAPTOP)
    compare_with(qtbot, window, SHORTCUT)
    a, b = window.canvas, window.pair.canvas_b
    qtbot.waitUntil(lambda: b.explanation is not None, timeout=WAIT_MS)
    before = b.picture.copy()
    view = window.controller.state.view
    window.view_controls.set_mode("heatmap")
    qtbot.waitUntil(lambda: window.controller.state.view.mode == "heatmap", timeout=5000)
    assert a.settings == b.settings == window.controller.state.view != view
    assert not np.array_equal(before, b.picture)  # B redrawn, not only told

    a.view.setRange(xRange=(10, 40), yRange=(20, 50), padding=0)  # zoom into A
    QApplication.processEvents()
    (ax0, ax1), (ay0, ay1) = a.view.viewRange()
    (bx0, bx1), (by0, by1) = b.view.viewRange()
    assert (bx0, bx1) == pytest.approx((ax0, ax1), abs=0.5) and (by0, by1) == pytest.approx((ay0, ay1), abs=2)
    assert ax1 - ax0 < 40  # zoomed in, not a fit that hides a missing link
    b.view.translateBy(x=5.0)  # pan B: A follows
    QApplication.processEvents()
    assert a.view.viewRange()[0][0] == pytest.approx(ax0 + 5.0, abs=0.5)


def test_comparing_fits_a_laptop_screen_with_equal_panes_and_stop_returns_to_one_model(qtbot, window):
    window.resize(*LAPTOP)
    compare_with(qtbot, window, SHORTCUT)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == LAPTOP, timeout=5000)
    assert window.minimumSizeHint().width() <= LAPTOP[0]
    QApplication.processEvents()
    assert cut_widgets(window) == []
    a, b = window.canvas.view, window.pair.canvas_b.view
    assert abs(a.width() - b.width()) <= 2  # linked views of unequal widths shrink each other's image
    assert window.actions.stop_comparing.isEnabled() and "shortcut.keras" in window.windowTitle()

    with qtbot.waitSignal(window.controller.modelChanged, timeout=WAIT_MS):  # another A: B stays, named
        window.controller.open_model(str(SHORTCUT))
    wait_idle(qtbot, window)
    assert window.pair.names.text().startswith("A: shortcut.keras · B: shortcut.keras")
    assert window.windowTitle() == "ConvScope · shortcut.keras vs shortcut.keras"
    assert window.pair.canvas_b.title_text().startswith("B · shortcut.keras · Grad-CAM · class")

    window.actions.stop_comparing.trigger()
    wait_idle(qtbot, window)
    assert window.controller.state.model_b is None and not window.pair.comparing
    assert not window.pair.canvas_b.isVisible() and not window.actions.stop_comparing.isEnabled()
    assert window.drawing.bar.parent() is window.canvas  # the drawing bar is back under A's title
    assert window.canvas.title_text().startswith("Grad-CAM")  # one model: no "A ·"
    window.browser.step(1)
    wait_idle(qtbot, window)
    assert window.controller.busy == {} and window.pair.canvas_b.path != window.controller.path  # B asked nothing


def test_the_compare_tab_puts_a_and_b_per_method_side_by_side(qtbot, window):
    window.resize(*LAPTOP)
    compare_with(qtbot, window, INT8)
    window.show_tab("compare")
    grid = window.compare
    grid.set_mode("models")
    qtbot.waitUntil(lambda: window.controller.state.compare_mode == "models", timeout=5000)
    wait_idle(qtbot, window)
    labels = [tile.label for tile in grid.tiles]  # all methods: those both run (B is a black box)
    assert labels == ["Occlusion (A)", "Occlusion (B)", "RISE (A)", "RISE (B)"]
    assert all(tile.explanation is not None for tile in grid.tiles)
    assert "defects_int8.tflite" in grid.hint.text() and "black box" in grid.hint.text()
    QApplication.processEvents()
    assert cut_widgets(window) == []

    window.controller.set_compare_methods(("occlusion", "rise", "gradcam++"))  # 6 tiles: 3 columns would split pairs
    wait_idle(qtbot, window)
    QApplication.processEvents()
    done = {tile.label: tile for tile in grid.tiles}
    assert list(done)[-2:] == ["Grad-CAM++ (A)", "Grad-CAM++ (B)"]  # what both run first
    refused = done["Grad-CAM++ (B)"]  # the engine's answer to this grid
    assert refused.explanation is None and refused.caption() == "Grad-CAM++ (B) · a black box cannot run it"
    assert "occlusion" in refused.title.toolTip()  # the engine's whole line
    assert done["Grad-CAM++ (A)"].explanation is not None
    tops = [tile.view.sceneBoundingRect().top() for tile in grid.tiles]
    assert len(tops) == 6 and grid.columns % 2 == 0
    assert all(tops[k] == tops[k + 1] for k in range(0, 6, 2))  # A and B of a method share a row
    assert cut_widgets(window) == []

    window.controller.set_compare_methods(("occlusion", "gradcam"))  # B's Grad-CAM was refused in its pane
    wait_idle(qtbot, window)
    assert grid.tiles[-1].caption() == "Grad-CAM (B) · a black box cannot run it"


def test_a_black_box_model_a_refuses_gradients_in_one_line_and_runs_occlusion(qtbot, window):
    wait_idle(qtbot, window)
    with qtbot.waitSignal(window.controller.modelChanged, timeout=WAIT_MS):
        window.open_path(str(INT8))  # a deployed export as the open model (drag and drop takes the same path)
    wait_idle(qtbot, window)
    assert window.controller.info.name == "defects_int8.tflite"
    title = window.canvas.title_text()
    assert "black box" in title and "occlusion" in title and "\n" not in window.message.text()
    assert [w for w in window.findChildren(QMessageBox) if w.isVisible()] == []
    choose_method(qtbot, window, "occlusion")
    qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
    assert window.canvas.explanation.method == "occlusion"


def test_a_second_model_that_runs_code_is_loaded_only_when_trusted(qtbot, window, tmp_path, trust_question):
    from tests.models import lambda_model, save_model

    path = save_model(lambda_model(), tmp_path, "with_lambda.keras")
    answers, asked = trust_question
    wait_idle(qtbot, window)
    window.controller.open_model_b(str(path))
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.controller.state.model_b is None and not window.pair.comparing
    assert window.controller.info.name == "defects.keras"

    answers[0] = QMessageBox.StandardButton.Yes
    window.controller.open_model_b(str(path))
    qtbot.waitUntil(lambda: window.controller.state.model_b == str(path), timeout=WAIT_MS)
    assert len(asked) == 2 and window.controller.info_b.name == "with_lambda.keras"
    qtbot.waitUntil(lambda: window.pair.canvas_b.explanation is not None, timeout=WAIT_MS)
    assert window.pair.canvas_b.explanation.class_name in window.controller.info_b.class_names
    assert replace(window.controller.state, model_b=None).model_b is None


def test_esc_stops_b_s_map_but_never_b_s_loading(qtbot, slow_method, settings):
    window = open_window(qtbot, settings)
    wait_idle(qtbot, window)
    window.controller.open_model_b(str(SHORTCUT))
    window.controller.cancel()  # Esc while B loads: B opens all the same
    qtbot.waitUntil(lambda: window.controller.state.model_b == str(SHORTCUT), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    window.method_panel.select(slow_method)  # A's and B's maps take seconds
    qtbot.waitUntil(lambda: "explain" in window.controller.busy, timeout=5000)
    window.controller.cancel()
    wait_idle(qtbot, window)
    title = window.pair.canvas_b.title_text()
    assert title.startswith("B · shortcut.keras") and "cancelled" in title
    window.close()
