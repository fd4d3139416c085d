"""Issue 24, item 4: what a user does in sequence, on the real window at 1280 x 720 with the
demo model and the engine (tests/gui/conftest.py), checking at each step what the user sees:
the canvas and its explained class, the predictions panel's marked class, the method panel,
the layer tree's target, the compare tiles, the status line and the review's Open report."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .conftest import WAIT_MS, open_window, wait_idle


def _shows(window, path: str, method: str, layer: str | None = None, class_index: int | None = None) -> bool:
    """The canvas shows the map of these choices (class None: the image's predicted class)."""
    shown = window.canvas.explanation
    if not window.canvas.shows_map_of(path) or shown.method != method:
        return False
    if layer is not None and shown.layer != layer:
        return False
    if class_index is None:
        class_index = window.controller.predictions[path].best.index
    return shown.class_index == class_index


def _shows_current(window) -> bool:
    """The canvas shows the map the current choices ask for (the slow test method's maps are
    Grad-CAM's: they are known by their request)."""
    controller = window.controller
    cached = controller.cached_result(controller.explain_request(controller.path))
    return cached is not None and window.canvas.shows_map_of(controller.path) and cached[0] is window.canvas.explanation


def _path_predicted_otherwise(window, path: str, class_index: int) -> str:
    """Another image of the folder whose predicted class is not `class_index`."""
    return next(p for p in window.browser.paths()
                if p != path and window.controller.predictions[p].best.index != class_index)


def _click_row(qtbot, window, path: str) -> None:
    """Click an image in the browser, as the user does."""
    browser = window.browser
    row = browser.proxy.mapFromSource(browser.model.index(browser.model.row_of(path), 0))
    browser.view.scrollTo(row)
    qtbot.mouseClick(browser.view.viewport(), Qt.MouseButton.LeftButton, pos=browser.view.visualRect(row).center())


def _click_class(qtbot, window, class_index: int) -> None:
    table = window.predictions.table
    row = _row_of_class(window, class_index)
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _row_of_class(window, class_index: int) -> int:
    from gui.predictions import INDEX_ROLE

    table = window.predictions.table
    return next(r for r in range(table.rowCount()) if table.item(r, 0).data(INDEX_ROLE) == class_index)


def _marked(window) -> list[int]:
    """The classes the predictions panel marks as explained (bold, ▶)."""
    from gui.predictions import INDEX_ROLE

    table = window.predictions.table
    return [table.item(r, 0).data(INDEX_ROLE) for r in range(table.rowCount())
            if table.item(r, 0).font().bold() and table.item(r, 0).text().startswith("▶")]


def test_a_class_then_another_image_explains_the_new_images_own_class(qtbot, window):
    wait_idle(qtbot, window)
    first = window.controller.path
    predicted = window.controller.predictions[first].best.index
    other_class = (predicted + 1) % len(window.controller.info.class_names)
    _click_class(qtbot, window, other_class)
    qtbot.waitUntil(lambda: _shows(window, first, "gradcam", class_index=other_class), timeout=WAIT_MS)
    assert _marked(window) == [other_class]
    assert window.controller.info.class_names[other_class] in window.canvas.title_text()

    second = _path_predicted_otherwise(window, first, other_class)
    _click_row(qtbot, window, second)
    assert window.controller.path == second
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(second), timeout=WAIT_MS)
    own = window.controller.predictions[second].best.index
    assert own != other_class and window.canvas.explanation.class_index == own
    assert _marked(window) == [own]
    assert window.controller.info.class_names[own] in window.canvas.title_text()

    _click_row(qtbot, window, first)  # back: the first image is explained for its own class too
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(first), timeout=WAIT_MS)
    assert window.canvas.explanation.class_index == predicted and _marked(window) == [predicted]


def test_method_then_layer_then_back_keeps_the_layer_and_the_right_cached_map(qtbot, window):
    wait_idle(qtbot, window)
    controller, panel, tree = window.controller, window.method_panel, window.layer_tree
    path = controller.path
    default = controller.info.default_layer
    other_layer = next(layer.path for layer in controller.info.cam_layers if layer.path != default)
    gradcam_default = window.canvas.explanation
    assert _shows(window, path, "gradcam", default) and tree.target == default

    panel.select("layercam")
    qtbot.waitUntil(lambda: _shows(window, path, "layercam", default), timeout=WAIT_MS)
    assert "LayerCAM" in window.canvas.title_text()
    item = tree.items[other_layer]
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert controller.layer == other_layer and tree.target == other_layer
    qtbot.waitUntil(lambda: _shows(window, path, "layercam", other_layer), timeout=WAIT_MS)

    panel.select("gradcam")  # back: Grad-CAM at the layer now chosen, not its earlier map
    assert panel.method() == "gradcam" and controller.layer == other_layer and tree.target == other_layer
    qtbot.waitUntil(lambda: _shows(window, path, "gradcam", other_layer), timeout=WAIT_MS)
    assert window.canvas.explanation is not gradcam_default
    assert "Grad-CAM" in window.canvas.title_text()

    item = tree.items[default]  # and back to the first layer: the cached map, at once
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
    assert window.canvas.explanation is gradcam_default and tree.target == default
    assert "explain" not in controller.busy


def test_cancel_then_the_same_request_runs_again_and_finishes(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        controller = window.controller
        path = controller.path
        window.method_panel.select(slow_method)
        qtbot.waitUntil(lambda: "explain" in controller.busy, timeout=WAIT_MS)
        assert window.cancel_button.isVisibleTo(window)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert not controller.busy and window.message.text() == "Cancelled"
        assert not window.cancel_button.isVisibleTo(window)
        assert window.canvas.shows_map_of(path) and not _shows_current(window)  # the earlier map, marked as such
        assert "earlier settings" in window.canvas.title_text()

        window.method_panel.select("gradcam")  # the same request again: away and back
        qtbot.waitUntil(lambda: _shows(window, path, "gradcam"), timeout=WAIT_MS)
        window.method_panel.select(slow_method)
        qtbot.waitUntil(lambda: "explain" in controller.busy, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: _shows_current(window), timeout=WAIT_MS)
        wait_idle(qtbot, window)
        assert "cancelled" not in window.canvas.title_text() and window.message.text() != "Cancelled"

        _click_row(qtbot, window, _path_predicted_otherwise(window, path, -1))
        qtbot.waitUntil(lambda: "explain" in controller.busy, timeout=WAIT_MS)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert "cancelled" in window.canvas.title_text()
        _click_row(qtbot, window, controller.path)  # the same image again: it runs again
        assert "explain" in controller.busy
        qtbot.waitUntil(lambda: _shows_current(window), timeout=WAIT_MS)
    finally:
        window.close()


def _tiles_done(window) -> bool:
    tiles = window.compare.tiles
    return bool(tiles) and all(t.explanation is not None for t in tiles)


def test_compare_mode_survives_a_restart_of_the_window(qtbot, tmp_path):
    from gui.settings import Settings, make_settings

    ini = tmp_path / "convscope.ini"
    window = open_window(qtbot, Settings(make_settings(ini)))
    try:
        wait_idle(qtbot, window)
        layers = [layer.path for layer in window.controller.info.cam_layers]
        window.compare.set_mode("layers")
        window.show_tab("compare")
        qtbot.waitUntil(lambda: _tiles_done(window), timeout=WAIT_MS)
        assert sorted(t.explanation.layer for t in window.compare.tiles) == sorted(layers[-len(window.compare.tiles):])
    finally:
        window.close()
    for mode, varies in (("layers", "layer"), ("classes", "class_index")):
        window = open_window(qtbot, Settings(make_settings(ini)))
        try:
            assert window.compare.mode() == mode and window.controller.state.compare_mode == mode
            wait_idle(qtbot, window)
            window.show_tab("compare")
            qtbot.waitUntil(lambda w=window: _tiles_done(w), timeout=WAIT_MS)
            tiles = window.compare.tiles
            assert len({getattr(t.explanation, varies) for t in tiles}) == len(tiles) > 1  # the mode's choice varies
            assert len({t.explanation.method for t in tiles}) == 1
            window.compare.set_mode("classes")  # for the next start
        finally:
            window.close()


def test_review_then_a_model_change_then_open_report(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    wait_idle(qtbot, window)
    window.show_tab("review")
    options, tab = window.review.options, window.review
    first = tmp_path / "first"
    first.mkdir()
    options.set_report_folder(str(first))
    assert not options.open_report.isEnabled()  # nothing written yet
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.result is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert options.open_report.isEnabled() and window.message.text().startswith("Review finished")
    qtbot.mouseClick(options.open_report, Qt.MouseButton.LeftButton)
    assert opened == [str(first / "report.html")]

    window.controller.open_model(str(window.controller.info.path))  # the model changed (reopened)
    qtbot.waitUntil(lambda: window.controller.info is not None and not window.controller.busy, timeout=WAIT_MS)
    assert not options.open_report.isEnabled() and tab.result is None  # the report is the previous model's

    second = tmp_path / "second"
    second.mkdir()
    options.set_report_folder(str(second))
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert not options.open_report.isEnabled()
    qtbot.waitUntil(lambda: tab.result is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    qtbot.mouseClick(options.open_report, Qt.MouseButton.LeftButton)
    assert opened[-1] == str(second / "report.html") and (second / "report.html").is_file()


def test_opening_a_folder_while_a_review_runs_drops_the_review(qtbot, window, tmp_path):
    import shutil

    from .conftest import DEMO_IMAGES

    wait_idle(qtbot, window)
    folder = tmp_path / "few"
    (folder / "spot").mkdir(parents=True)
    for image in [p for p in sorted((DEMO_IMAGES / "spot").glob("*.png")) if "_mask" not in p.stem][:2]:
        shutil.copy(image, folder / "spot" / image.name)
    window.show_tab("review")
    tab = window.review
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert "review" in window.controller.busy
    assert window.controller.open_folder(str(folder))
    assert window.browser.folder == str(folder) and len(window.browser.paths()) == 2
    assert "Another folder is open" in tab.summary.text() and folder.name in tab.setup.text()
    assert "review" not in window.controller.busy  # stopped: not "Reviewing…" until a reply that may never come
    # the engine stops the old review at its next batch, or skips it unstarted (no reply then)
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(window.browser.paths()[0]), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert tab.result is None and tab.model.rowCount() == 0  # nothing of the demo folder's review came in
    assert not window.message.text().startswith("Review")
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(window.browser.paths()[0]), timeout=WAIT_MS)
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)  # and the new folder reviews
    qtbot.waitUntil(lambda: tab.result is not None, timeout=WAIT_MS)
    assert tab.model.rowCount() == 2


def test_a_layer_change_while_the_compare_grid_fills_gives_tiles_of_the_new_layer(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        controller, tree = window.controller, window.layer_tree
        other = next(layer.path for layer in controller.info.cam_layers if layer.path != controller.layer)
        window.method_panel.select(slow_method)
        window.compare.set_mode("classes")
        window.show_tab("compare")
        qtbot.waitUntil(lambda: "compare" in controller.busy, timeout=WAIT_MS)
        assert not _tiles_done(window)
        item = tree.items[other]
        tree.scrollToItem(item)
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualItemRect(item).center())
        assert tree.target == other and other in window.compare.scope
        qtbot.waitUntil(lambda: _tiles_done(window), timeout=WAIT_MS)
        wait_idle(qtbot, window)
        tiles = window.compare.tiles
        assert {t.explanation.layer for t in tiles} == {other}
        assert sorted(t.explanation.class_index for t in tiles) == list(range(len(controller.info.class_names)))
        assert _shows_current(window) and window.canvas.explanation.layer == other
    finally:
        window.close()


def test_check_this_map_then_another_image_shows_nothing_of_the_first(qtbot, window):
    wait_idle(qtbot, window)
    window.show_tab("trust")
    view, trust = window.trust, window.trust_controller
    first = window.controller.path
    qtbot.mouseClick(view.check_button, Qt.MouseButton.LeftButton)
    assert trust.pending is not None and "trust" in window.controller.busy
    second = _path_predicted_otherwise(window, first, -1)
    window.browser.select_path(second)
    assert trust.pending is None and view.result is None  # the panel is back to its hint
    wait_idle(qtbot, window)
    assert view.result is None  # the first image's curves, arriving late, are not shown
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(second), timeout=WAIT_MS)

    qtbot.mouseClick(view.check_button, Qt.MouseButton.LeftButton)  # now this image's
    qtbot.waitUntil(lambda: view.result is not None, timeout=WAIT_MS)
    assert view.result.request.explain == window.controller.explain_request(second)
    window.browser.select_path(first)
    assert view.result is None and view.shown_requests() == ()


def test_a_model_change_before_the_reviews_first_rows_says_so(qtbot, window):
    wait_idle(qtbot, window)
    window.show_tab("review")
    tab = window.review
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    assert tab.summary.text().startswith("Reviewing")
    window.controller.open_model(str(window.controller.info.path))
    qtbot.waitUntil(lambda: window.controller.info is not None and not window.controller.busy, timeout=WAIT_MS)
    assert "The model changed" in tab.summary.text() and tab.result is None
    assert not window.review.options.open_report.isEnabled()


def test_esc_while_the_compare_grid_fills_then_back_to_it_fills_it(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        window.method_panel.select(slow_method)
        window.compare.set_mode("classes")
        window.show_tab("compare")
        qtbot.waitUntil(lambda: "compare" in window.controller.busy, timeout=WAIT_MS)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert not _tiles_done(window) and any("cancelled" in t.title.text for t in window.compare.tiles)
        window.show_tab("heatmap")
        window.show_tab("compare")  # the user comes back for the grid: it is computed again
        assert "compare" in window.controller.busy
        qtbot.waitUntil(lambda: _tiles_done(window), timeout=WAIT_MS)
        assert not any("cancelled" in t.title.text for t in window.compare.tiles)
    finally:
        window.close()
