"""The real window on the demo model: browse, explain, change class / method / layer, cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from .conftest import DEMO_IMAGES, ROOT, WAIT_MS, open_window, wait_idle


def test_gui_modules_do_not_import_tensorflow():
    code = ("import sys, gui.app, gui.main_window, gui.worker, gui.controller\n"
            "bad = [m for m in ('tensorflow', 'keras', 'engine.session', 'engine.methods') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_window_shows_at_once_with_engine_status(qtbot, settings):
    window = open_window(qtbot, settings, wait=False)
    try:
        assert window.isVisible()
        assert "Loading the engine" in window.message.text() and "Loading" in window.job.text()
        assert window.cancel_button.isVisible()
        qtbot.waitUntil(lambda: window.controller.info is not None, timeout=WAIT_MS)
        assert window.controller.info.class_names == ("ok", "scratch", "spot", "crack")
    finally:
        window.close()
    assert not window.controller.client.engine_thread.isRunning()


def test_first_run_opens_demo_and_map_is_the_engines(qtbot, window, session):
    assert window.browser.folder == str(DEMO_IMAGES)
    assert len(window.browser.paths()) > 10
    assert not any(p.endswith("_mask.png") for p in window.browser.paths())
    path = next(p for p in window.browser.paths() if "/spot/" in p.replace("\\", "/"))
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        assert window.browser.select_path(path)
    expected = session.explain(session.load_image(path), "gradcam", "last_conv")
    assert window.canvas.path == path
    np.testing.assert_allclose(window.canvas.heatmap, expected.heatmap, atol=1e-4)
    assert window.canvas.explanation.class_index == expected.class_index
    assert window.canvas.picture.shape == (*expected.heatmap.shape, 3)


def test_predictions_fill_the_browser(qtbot, window):
    paths = window.browser.paths()
    qtbot.waitUntil(lambda: len(window.controller.predictions) == len(paths), timeout=WAIT_MS)
    model = window.browser.model
    assert all(row.prediction is not None for row in model.rows)
    confidence = model.index(0, 3).data()
    assert confidence.endswith("%")
    assert window.predictions.table.rowCount() == 4
    mismatched = [row for row in model.rows if model.mismatch(row)]
    window.browser.misclassified.setChecked(True)
    assert window.browser.proxy.rowCount() == len(mismatched)
    assert all(model.mismatch(model.rows[model.row_of(p)]) for p in window.browser.visible_paths())
    window.browser.misclassified.setChecked(False)
    window.browser.set_sort("confidence")
    shown = [window.controller.predictions[p].best.probability for p in window.browser.visible_paths()]
    assert shown == sorted(shown, reverse=True)
    window.browser.set_sort("label")
    labels = [model.rows[model.row_of(p)].label for p in window.browser.visible_paths()]
    assert labels == sorted(labels)


def test_next_previous_keys(qtbot, window):
    window.browser.set_sort("name")
    window.browser.select_row(0)
    first = window.browser.current_path()
    window.actions.next.trigger()
    second = window.browser.current_path()
    assert second != first
    assert window.browser.visible_paths().index(second) == 1
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.browser.current_path() == first
    assert window.controller.path == first


def test_click_class_explains_that_class(qtbot, window, session):
    wait_idle(qtbot, window)
    path = window.controller.path
    table = window.predictions.table
    row = next(r for r in range(table.rowCount()) if r > 0)
    index = int(table.item(row, 0).data(Qt.ItemDataRole.UserRole))
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS) as signal:
        rect = table.visualItemRect(table.item(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args[0].class_index == index
    assert window.predictions.explained == index
    expected = session.explain(session.load_image(path), "gradcam", "last_conv", index)
    np.testing.assert_allclose(window.canvas.heatmap, expected.heatmap, atol=1e-4)


def test_layer_click_changes_target(qtbot, window, session):
    tree = window.layer_tree
    target = "block3_conv" if "block3_conv" in tree.items else next(
        p for p, info in tree.layers.items() if info.is_cam_target and p != window.controller.layer)
    item = tree.items[target]
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS) as signal:
        rect = tree.visualItemRect(item)
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert signal.args[0].layer == target
    assert tree.target == target and item.font(0).bold()
    assert window.features.layer == target
    expected = session.explain(session.load_image(window.controller.path), "gradcam", target)
    np.testing.assert_allclose(window.canvas.heatmap, expected.heatmap, atol=1e-4)


def test_method_picker_lists_every_engine_method(qtbot, slow_method, window):  # the method before the engine
    from engine.methods import METHODS

    panel = window.method_panel
    titles = [panel.combo.itemText(i) for i in range(panel.combo.count())]
    assert titles[: len(METHODS)] == [cls.title for cls in METHODS.values()]
    assert titles[len(METHODS):] == [window.controller.title(slow_method)]  # the window's extra method


def test_method_change_and_parameters(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        panel = window.method_panel
        assert panel.combo.findData(slow_method) >= 0
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS) as signal:
            panel.select(slow_method)
            panel.widgets["steps"].setValue(3)
            panel.widgets["steps"].editingFinished.emit()
        assert signal.args[0].method == slow_method
        assert signal.args[0].params["steps"] == 3
        assert window.settings.get("method") == slow_method
    finally:
        window.close()


def test_revisit_is_instant_from_the_cache(qtbot, window):
    wait_idle(qtbot, window)
    first = window.controller.path
    other = next(p for p in window.browser.paths() if p != first)
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.browser.select_path(other)
    shown = []
    window.controller.explanationShown.connect(shown.append)
    window.browser.select_path(first)  # no event loop turn: the map must come from the cache
    assert len(shown) == 1 and window.canvas.path == first
    assert len(window.controller.cache) >= 2


def test_view_settings_and_modes(qtbot, window):
    from engine.maps.render import overlay

    controls = window.view_controls
    controls.opacity.setValue(70)
    controls.threshold.setValue(30)
    canvas = window.canvas
    expected = overlay(canvas.image, canvas.heatmap, 0.7, "jet", 0.3)
    np.testing.assert_array_equal(canvas.picture, expected)
    controls.set_mode("image")
    np.testing.assert_array_equal(canvas.picture, canvas.image)
    controls.set_mode("heatmap")
    assert not np.array_equal(canvas.picture, canvas.image)
    controls.outline.setChecked(True)
    controls.set_mode("image")
    assert (canvas.picture == 255).all(axis=2).any()  # the white contour
    controls.colormap.setCurrentText("viridis")
    assert canvas.settings.colormap == "viridis"
    text = canvas.value_at(5, 7)
    assert text.startswith("x 5, y 7") and "heat" in text


def test_settings_are_remembered(qtbot, settings):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        window.view_controls.opacity.setValue(60)
        window.view_controls.set_mode("heatmap")
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.layer_tree.targetChosen.emit("block3_conv")
        path = window.browser.visible_paths()[3]
        window.browser.select_path(path)
    finally:
        window.close()
    again = open_window(qtbot, settings)
    try:
        assert again.controller.layer == "block3_conv"
        assert again.view_controls.settings().opacity == 0.6
        assert again.view_controls.settings().mode == "heatmap"
        assert again.controller.path == path
        assert settings.recent("models")[0].endswith("defects.keras")
        assert again.actions.recent_folders.actions()
    finally:
        again.close()


def test_drop_and_open_paths(qtbot, window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    image = sorted((DEMO_IMAGES / "ok").glob("*.png"))[1]
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(image))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.browser.current_path() == str(image)
    single = tmp_path / "spot"
    single.mkdir()
    copy = single / "one.png"
    copy.write_bytes(image.read_bytes())
    window.open_path(str(copy))
    assert window.browser.paths() == [str(copy)]
    assert window.browser.model.rows[0].label == "spot"
    window.open_path(str(tmp_path / "notes.txt"))
    assert "not a model" in window.message.text()


def test_thumbnails_load_off_the_gui_thread(qtbot, window):
    model = window.browser.model
    qtbot.waitUntil(lambda: model.rows[0].thumb is not None, timeout=WAIT_MS)
    assert max(model.rows[0].thumb.width(), model.rows[0].thumb.height()) == 48


def test_unreadable_image_is_a_status_line(qtbot, window, tmp_path):
    bad = tmp_path / "scratch"
    bad.mkdir()
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    window.controller.open_folder(str(tmp_path))
    qtbot.waitUntil(lambda: "broken.png" in window.message.text(), timeout=WAIT_MS)
    assert window.isVisible()
    assert Path(window.browser.paths()[0]).name == "broken.png"


def test_getting_started_guide_opens_from_help_and_f1(qtbot, window):
    from engine.images.preprocessing import PREPROCESSING_MODES

    window.actions.guide.trigger()
    dialog = window.actions._guide_dialog
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.text.toPlainText()
    assert ".convscope.json" in text and "class_names" in text
    assert all(mode in text for mode in PREPROCESSING_MODES)  # the guide names every preprocessing mode
    assert window.actions.guide.shortcut().toString() == "F1"
    dialog.close()
    window.actions.guide.trigger()  # the same dialog comes back
    assert window.actions._guide_dialog is dialog and dialog.isVisible()


def test_an_error_line_goes_once_an_explanation_succeeds(qtbot, window):
    window.report_error("top_n must be a whole number of at least 1, not 0")
    assert window.message.text().startswith("⚠")
    other = window.browser.paths()[3]
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.browser.select_path(other)
    assert not window.message.text().startswith("⚠")
    window.status("Engine ready")
    window.clear_error()
    assert window.message.text() == "Engine ready"  # ordinary messages stay
