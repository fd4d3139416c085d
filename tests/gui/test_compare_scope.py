"""The line above the compare grid says what every tile shares: the method, the layer the tiles
do not vary, and how many of the candidates are shown (a UX review found "ok 0%" tiles lighting
up a crack at a layer clicked long before, and layers silently left out)."""

from __future__ import annotations

from gui.compare import compare_scope

from .conftest import WAIT_MS


def test_scope_names_method_layer_and_counts():
    assert compare_scope("classes", "Grad-CAM", "block2_conv", 4, 4) == "Grad-CAM at layer block2_conv, every class."
    assert compare_scope("classes", "Grad-CAM", "c", 12, 20) == "Grad-CAM at layer c, the first 12 of 20 classes."
    assert compare_scope("layers", "LayerCAM", None, 12, 14) == "LayerCAM on the 12 deepest of 14 CAM layers."
    assert compare_scope("layers", "LayerCAM", None, 5, 5) == "LayerCAM on all 5 CAM layers."
    assert "at layer last_conv" in compare_scope("methods", "Grad-CAM", "last_conv", 17, 17)


def test_the_window_says_the_layer_and_how_many_layers(qtbot, window):
    grid, info = window.compare, window.controller.info
    window.controller.select_layer("block2_conv")
    grid.set_mode("classes")
    window.show_tab("compare")
    qtbot.waitUntil(lambda: len(grid.tiles) == len(info.class_names), timeout=WAIT_MS)
    assert window.controller.state.layer == "block2_conv"
    assert "at layer block2_conv, every class." in grid.hint.text()
    grid.set_mode("layers")
    total = len(info.cam_layers)
    qtbot.waitUntil(lambda: "CAM layers" in grid.hint.text(), timeout=WAIT_MS)
    shown = min(total, 12)
    assert (f"the {shown} deepest of {total}" if shown < total else f"all {total}") in grid.hint.text()
    assert len(grid.tiles) == shown
