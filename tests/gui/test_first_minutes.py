"""The first minutes of a new user: the window fits a laptop screen, nothing is cut off,
start-up says the truth, an empty folder leaves no dead state, and an explanation is never
stuck behind a long job."""

from __future__ import annotations

import re
from argparse import Namespace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget

from .conftest import DEMO_IMAGES, DEMO_MODEL, WAIT_MS, open_window, wait_idle

LAPTOP = (1280, 720)


def _plain(text: str) -> str:
    """A label's text as drawn: tags and entities of rich text removed."""
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0


def cut_widgets(root: QWidget) -> list[str]:
    """Every visible button whose text is elided and every one-line label whose text is wider
    than the label, as "Class 'text': needed > width"."""
    problems = []
    for button in root.findChildren(QAbstractButton):
        text = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        if not _shown(button) or not text:
            continue
        needed = button.sizeHint().width()  # text, icon, indicator and the style's margins
        if button.width() < needed or button.width() < button.fontMetrics().horizontalAdvance(text):
            problems.append(f"{type(button).__name__} {text!r}: {needed} > {button.width()}")
    for label in root.findChildren(QLabel):
        if not _shown(label) or label.wordWrap() or not label.text() or label.pixmap() and not label.pixmap().isNull():
            continue
        metrics = label.fontMetrics()
        needed = max(metrics.horizontalAdvance(line) for line in _plain(label.text()).splitlines() or [""])
        if needed > label.contentsRect().width():
            problems.append(f"QLabel {_plain(label.text())!r}: {needed} > {label.contentsRect().width()}")
    return problems


def test_window_fits_a_laptop_screen_and_nothing_is_cut(qtbot, window):
    wait_idle(qtbot, window)
    window.resize(*LAPTOP)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == LAPTOP, timeout=5000)
    assert window.minimumSizeHint().width() <= LAPTOP[0] and window.minimumSizeHint().height() <= LAPTOP[1]
    for tab in window.tab_views:  # every tab, as a user would click through them
        window.show_tab(tab)
        wait_idle(qtbot, window)
        QApplication.processEvents()
        assert cut_widgets(window) == [], tab
    window.show_tab("heatmap")
    table = window.predictions.table
    assert table.rowCount() == 4
    last = table.visualItemRect(table.item(table.rowCount() - 1, 0))
    assert last.bottom() <= table.viewport().height()  # every class in view, no scrolling
    tree = window.layer_tree
    shown = tree.header().sectionViewportPosition(2) + tree.header().sectionSize(2)
    assert shown <= tree.viewport().width(), "layer name, output shape and parameters in view"


def test_choosing_a_confusion_cell_does_not_widen_the_browser(qtbot, window):
    wait_idle(qtbot, window)
    window.resize(*LAPTOP)
    window.show_tab("review")
    window.review_controller.run()
    qtbot.waitUntil(lambda: window.review.result is not None, timeout=WAIT_MS)
    QApplication.processEvents()
    before = window.browser.width()
    window.review.choose_cell((3, 3))
    QApplication.processEvents()
    assert window.browser.restriction.isVisible()
    assert window.browser.width() == before
    assert cut_widgets(window.review) == []
    table = window.review.table  # the listed images' paths and every figure whole, not "cr…ng"
    metrics, header = table.fontMetrics(), table.horizontalHeader()
    for row in range(table.model().rowCount()):
        for column in range(table.model().columnCount()):
            text = table.model().index(row, column).data()
            assert metrics.horizontalAdvance(text) < header.sectionSize(column), (text, header.sectionSize(column))
    flag = header.logicalIndex(5)
    assert table.model().headerData(flag, Qt.Orientation.Horizontal) == "Flag"  # after Correct: in view
    assert header.sectionViewportPosition(flag) + header.sectionSize(flag) <= table.viewport().width()


def test_control_groups_wrap_like_text():
    from gui.wrap_row import SPACING, lines_for

    assert lines_for([100, 200, 50], 1000) == (3,)
    assert lines_for([100, 200, 50], 100 + SPACING + 200) == (2, 1)
    assert lines_for([100, 200, 50], 150) == (1, 1, 1)
    assert lines_for([300], 10) == (1,)  # a group wider than the line still gets one


def test_hint_text_has_enough_contrast(qtbot):
    from gui.style import contrast_ratio, hint_colour, hint_label

    label = hint_label("a hint")
    qtbot.addWidget(label)
    background = label.palette().color(label.backgroundRole())
    assert contrast_ratio(hint_colour(), background) >= 4.5
    assert hint_colour().name() in label.styleSheet()


def test_contrast_ratio_matches_the_wcag_examples():
    from gui.style import contrast_ratio
    from PySide6.QtGui import QColor

    assert abs(contrast_ratio(QColor("black"), QColor("white")) - 21.0) < 1e-6
    assert abs(contrast_ratio(QColor("#777777"), QColor("white")) - 4.48) < 0.01  # WCAG's classic grey


def test_start_says_what_it_waits_for_and_recent_folders_are_full_paths(qtbot, settings):
    window = open_window(qtbot, settings, wait=False)
    try:
        assert "Open a folder" not in window.canvas.title_text()  # the demo folder is open
        qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
        entries = [a.text() for a in window.actions.recent_folders.actions()]
        assert entries[0] == str(DEMO_IMAGES)
    finally:
        window.close()


def test_model_failure_messages_end_with_a_full_stop():
    from gui.main_window import sentence

    assert sentence("not a Keras model (.keras or HDF5 .h5 file)") == "not a Keras model (.keras or HDF5 .h5 file)."
    assert sentence("Done.") == "Done." and sentence("Loading…") == "Loading…"


def test_empty_folder_then_demo_leaves_no_dead_state(qtbot, window, tmp_path):
    wait_idle(qtbot, window)
    window.browser.misclassified.setChecked(False)
    known = sum(window.browser.model.mismatch(r) for r in window.browser.model.rows)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert window.controller.open_folder(str(empty))
    assert window.canvas.image is None and window.canvas.explanation is None
    assert "No images" in window.canvas.title_text()
    assert window.predictions.table.rowCount() == 0 and window.controller.path is None
    assert "No images" in window.browser.count.text() and window.browser.count.wordWrap()
    window.controller.open_folder(str(DEMO_IMAGES))
    wait_idle(qtbot, window)
    rows = window.browser.model.rows
    assert rows and all(r.prediction is not None for r in rows)  # no "…" left in Predicted / Conf.
    assert all(window.browser.model.text(r, 2) != "…" for r in rows)
    assert f"{len(rows)} predicted" in window.browser.count.text()
    assert sum(window.browser.model.mismatch(r) for r in rows) == known
    window.browser.misclassified.setChecked(True)
    assert window.browser.proxy.rowCount() == known
    window.browser.misclassified.setChecked(False)
    qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)


def test_an_explanation_is_not_stuck_behind_filter_patterns(qtbot, window):
    from gui.protocol import Patterns

    wait_idle(qtbot, window)
    window.show_tab("features")
    first, second = window.browser.paths()[:2]
    window.browser.select_path(first)
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(first), timeout=WAIT_MS)
    progress = []
    window.controller.client.signals.progress_reported.connect(lambda reply: progress.append(reply.channel))
    window.controller.show_patterns(Patterns(window.controller.layer, count=128, size=128, steps=200))
    qtbot.waitUntil(lambda: progress.count("features") >= 2, timeout=WAIT_MS)
    window.browser.select_path(second)
    qtbot.waitUntil(lambda: window.canvas.shows_map_of(second), timeout=WAIT_MS)
    assert "features" in window.controller.busy  # the patterns were still running: the map did not wait
    window.controller.cancel()
    wait_idle(qtbot, window)
    assert window.canvas.path == window.controller.path == second


def test_after_a_cancel_the_canvas_matches_the_selection_and_a_click_recomputes(qtbot, settings, slow_method):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        window.method_panel.select(slow_method)
        first, second = window.browser.paths()[2:4]
        window.browser.select_path(first)
        qtbot.waitUntil(lambda: "explain" in window.controller.busy, timeout=WAIT_MS)
        window.browser.select_path(second)
        window.controller.cancel()
        assert window.canvas.path == second and window.canvas.explanation is None
        assert "cancelled" in window.canvas.title_text()
        wait_idle(qtbot, window)
        row = window.browser.proxy.mapFromSource(window.browser.model.index(window.browser.model.row_of(second), 0))
        rect = window.browser.view.visualRect(row)
        qtbot.mouseClick(window.browser.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.waitUntil(lambda: window.canvas.shows_map_of(second), timeout=WAIT_MS)
    finally:
        window.close()


def test_one_state_drives_the_requests(qtbot, window):
    from gui.state import ViewState

    wait_idle(qtbot, window)
    state = window.controller.state
    assert isinstance(state, ViewState) and state.image == window.browser.current_path()
    window.controller.select_class(2)
    assert window.controller.state.class_index == 2
    request = window.controller.explain_request(state.image)
    assert (request.method, request.layer, request.class_index) == (state.method, state.layer, 2)
    window.view_controls.set_mode("heatmap")
    assert window.controller.state.view.mode == "heatmap" and window.canvas.settings.mode == "heatmap"
    window.compare.set_mode("layers")
    assert window.controller.state.compare_mode == "layers"
    window.show_tab("compare")
    assert window.controller.state.tab == "compare"
    qtbot.waitUntil(lambda: window.canvas.explanation is not None and window.canvas.explanation.class_index == 2,
                    timeout=WAIT_MS)


def test_gui_has_no_module_level_mutable_state():
    import ast
    import re

    from .conftest import ROOT

    sources = {path: path.read_text(encoding="utf-8") for path in (ROOT / "gui").rglob("*.py")}
    tables = set()  # module-level names bound to a dict, list or set
    for source in sources.values():
        for node in ast.parse(source).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
                if isinstance(node, ast.AnnAssign) and node.value is not None else []
            value = getattr(node, "value", None)
            if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
                tables |= {t.id for t in targets if isinstance(t, ast.Name)}
    assert "BUSY_TEXT" in tables  # the scan sees the tables
    names = "|".join(sorted(tables))
    writes = re.compile(rf"\b({names})(\[[^\]]*\]\s*=[^=]|\.(update|append|add|pop|clear|setdefault|extend|remove)\()")
    written = {f"{path.name}: {m.group(0)}" for path, source in sources.items() for m in writes.finditer(source)}
    assert written == set()


def test_review_tab_is_built_by_the_window(qtbot, settings):
    from gui.app import create_window
    from gui.review import ReviewTab

    window = create_window(Namespace(model=str(DEMO_MODEL), images=str(DEMO_IMAGES), trust_model=False), settings)
    try:
        assert isinstance(window.review, ReviewTab) and window.tab_views["review"].view is window.review
        assert window.tabs.indexOf(window.tab_views["review"]) == 3
    finally:
        window.close()
