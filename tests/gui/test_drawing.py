"""Drawing defect regions in the window (gui.drawing) at 1280 x 720: a box dragged with the
mouse, undo, Enter saving the LabelMe file beside the image, the regions back when the image
is shown again, the mask line scoring the map against them at once, and Mark defects mode
stepping through the unmarked images until the review's verdict is no longer insufficient-data."""

from __future__ import annotations

import json
import shutil
from argparse import Namespace
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from .conftest import DEMO_MODEL, WAIT_MS

# pyqtgraph drops mouse moves closer together than its mouseRateLimit (100/s): pace them like a hand
MOVE_PACE_MS = 20
BOXED = Path(__file__).resolve().parents[2] / "resources" / "demo" / "boxed_lot" / "crack"


@pytest.fixture
def lot(tmp_path):
    """The boxed demo lot's crack images without their annotation files."""
    folder = tmp_path / "lot" / "crack"
    folder.mkdir(parents=True)
    for image in sorted(BOXED.glob("*.png")):
        shutil.copyfile(image, folder / image.name)
    return folder.parent


@pytest.fixture
def drawing_window(qtbot, settings, lot):
    from gui.app import create_window

    window = create_window(Namespace(model=str(DEMO_MODEL), images=str(lot), trust_model=False), settings)
    qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)  # the drawing keys are window shortcuts
    yield window
    window.close()


def reference_box(image: str) -> tuple[float, float, float, float]:
    """The box the demo lot's LabelMe file gives the image (made from its pixel mask)."""
    shape = json.loads((BOXED / Path(image).with_suffix(".json").name).read_text())["shapes"][0]
    (x0, y0), (x1, y1) = shape["points"]
    return x0, y0, x1, y1


def _send(widget, kind: QEvent.Type, position: QPointF, buttons) -> None:
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, position, widget.mapToGlobal(position), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def mouse_drag(window, start: tuple[float, float], end: tuple[float, float], steps: int = 6) -> None:
    """A real left-button drag on the canvas between two image points."""
    canvas = window.canvas
    viewport = canvas.graphics.viewport()

    def where(point):
        scene = canvas.view.mapViewToScene(QPointF(*point))
        return QPointF(canvas.graphics.mapFromScene(scene))

    held = Qt.MouseButton.LeftButton
    _send(viewport, QEvent.Type.MouseButtonPress, where(start), held)
    for step in range(1, steps + 1):
        QTest.qWait(MOVE_PACE_MS)
        t = step / steps
        _send(viewport, QEvent.Type.MouseMove, where((start[0] + t * (end[0] - start[0]),
                                                      start[1] + t * (end[1] - start[1]))), held)
    _send(viewport, QEvent.Type.MouseButtonRelease, where(end), Qt.MouseButton.NoButton)
    QApplication.processEvents()


def test_a_box_drawn_with_the_mouse_is_undone_saved_reloaded_and_scored(qtbot, drawing_window):
    window = drawing_window
    drawing, overlay = window.drawing, window.mask_overlay
    path = window.canvas.path
    assert not overlay.row.isVisible()  # no mask yet: no scores
    QTest.keyClick(window, Qt.Key.Key_R)  # the box tool
    assert drawing.layer.tool == "box" and drawing.bar.tool_buttons["box"].isChecked()
    x0, y0, x1, y1 = reference_box(path)
    mouse_drag(window, (x0, y0), (x1, y1))
    regions = drawing.layer.editor.regions
    assert [(r.kind, r.label) for r in regions] == [("box", "crack")]
    (bx0, by0), (bx1, by1) = regions[0].points
    assert max(abs(bx0 - x0), abs(by0 - y0), abs(bx1 - x1), abs(by1 - y1)) < 1.5  # where the mouse went, in image pixels
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert drawing.layer.editor.regions == []
    mouse_drag(window, (x0, y0), (x1, y1))
    QTest.keyClick(window, Qt.Key.Key_Return)
    saved = Path(path).with_suffix(".json")
    assert saved.is_file(), (window.message.text(), drawing.path, path, drawing.layer.editor.regions)
    data = json.loads(saved.read_text())
    assert [(s["label"], s["shape_type"]) for s in data["shapes"]] == [("crack", "rectangle")]
    assert overlay.row.isVisible() and "energy inside" in overlay.label.text()  # scored at once
    assert overlay.metrics is not None and overlay.metrics.has_mask

    window.browser.step(1)
    qtbot.waitUntil(lambda: window.canvas.path != path, timeout=WAIT_MS)
    assert drawing.layer.editor is None or drawing.layer.editor.regions == []
    window.browser.select_path(path)
    qtbot.waitUntil(lambda: window.canvas.path == path and drawing.layer.editor is not None, timeout=WAIT_MS)
    assert [r.kind for r in drawing.layer.editor.regions] == ["box"]  # back from the file


def test_their_labelme_file_is_replaced_only_when_the_user_agrees(qtbot, drawing_window):
    window = drawing_window
    drawing = window.drawing
    target = Path(window.canvas.path).with_suffix(".json")
    target.write_text(json.dumps({"version": "5.5.0", "shapes": [], "imagePath": "x.png"}))
    drawing.layer.editor.add(None)
    drawing.set_tool("brush")
    drawing.layer.click((30, 30))
    asked = []
    drawing.ask = lambda path: asked.append(path) or False
    assert not drawing.save()
    assert asked == [target] and json.loads(target.read_text())["shapes"] == []
    drawing.ask = lambda path: True
    assert drawing.save()
    assert [s["shape_type"] for s in json.loads(target.read_text())["shapes"]] == ["mask"]


def test_mark_defects_steps_through_the_unmarked_images_until_there_is_a_verdict(qtbot, drawing_window, lot,
                                                                                 session):
    from engine.review import ReviewOptions, review_folder

    window = drawing_window
    drawing = window.drawing
    before = review_folder(session, lot, ReviewOptions(trust=True))
    assert before.verdict == "insufficient-data"
    window.review.set_result(before)
    from engine.annotations import Region
    from engine.annotations.editing import save_regions

    premarked = window.browser.paths()[1:3]  # marked earlier: the mode passes them by
    for path in premarked:
        save_regions(path, [Region.box("crack", *reference_box(path))], 256, 256)
    QTest.keyClick(window, Qt.Key.Key_M)
    assert drawing.marking and drawing.layer.tool == "box"
    assert "needs 5 more" in drawing.bar.status.text()
    seen = []
    for _ in range(len(window.browser.paths()) - len(premarked)):
        qtbot.waitUntil(lambda: drawing.layer.editor is not None and drawing.path not in seen, timeout=WAIT_MS)
        seen.append(drawing.path)
        x0, y0, x1, y1 = reference_box(drawing.path)
        drawing.layer.press((x0, y0))
        drawing.layer.release((x1, y1))
        QTest.keyClick(window, Qt.Key.Key_Return)  # saves and shows the next unmarked image
    assert sorted(seen + premarked) == sorted(window.browser.paths())  # each unmarked image once
    assert all(Path(p).with_suffix(".json").is_file() for p in seen)
    assert "0 of 10 images unmarked" in drawing.bar.status.text()
    after = review_folder(session, lot, ReviewOptions(trust=True))
    assert after.verdict == "right-reason"
    assert {(r.mask_source, r.mask_kind) for r in after.rows} == {("drawn", "box")}


def test_the_trust_tab_paints_out_a_region_as_soon_as_it_is_saved(qtbot, drawing_window):
    window = drawing_window
    drawing = window.drawing
    x0, y0, x1, y1 = reference_box(window.canvas.path)

    def check():
        window.trust.result = None
        assert window.trust_controller.check()
        qtbot.waitUntil(lambda: window.trust.result is not None, timeout=WAIT_MS)
        return window.trust.result

    window.show_tab("trust")
    assert check().region is None  # no region yet: nothing to paint out
    window.show_tab("heatmap")
    drawing.set_tool("box")
    drawing.layer.press((x0, y0))
    drawing.layer.release((x1, y1))
    assert drawing.save()
    window.show_tab("trust")
    result = check()
    assert result.region is not None and result.kept is not None
    rows, cols = result.region.nonzero()
    assert (cols.min(), cols.max() + 1, rows.min(), rows.max() + 1) == (int(x0), int(x1), int(y0), int(y1))


def test_the_drawing_keys_take_no_key_of_the_window(drawing_window):
    """A key bound twice is ambiguous and does nothing: the drawing keys must leave 1/2/3 (view
    modes), Esc (cancel) and the others to the window's actions."""
    from PySide6.QtGui import QAction, QShortcut

    window = drawing_window
    taken = {key.toString() for action in window.findChildren(QAction) for key in action.shortcuts()}
    drawing = {shortcut.key().toString() for shortcut in window.findChildren(QShortcut)}
    assert {"R", "Ctrl+Z", "Return", "Alt+1"} <= drawing
    assert not taken & drawing


def test_enter_belongs_to_drawing_only_while_a_tool_or_mark_defects_is_on(drawing_window):
    """Otherwise Enter applies a parameter typed into the method panel, as before."""
    from PySide6.QtGui import QShortcut

    window = drawing_window
    enter = next(s for s in window.findChildren(QShortcut) if s.key().toString() == "Return")
    assert not enter.isEnabled()
    window.drawing.set_tool("brush")
    assert enter.isEnabled()
    window.drawing.set_tool("pan")
    assert not enter.isEnabled()
    window.drawing.set_marking(True)
    assert enter.isEnabled()


def test_nothing_is_drawn_without_a_class(drawing_window):
    """Before a model gives the classes there is no label: a region without one is not a region."""
    layer = drawing_window.drawing.layer
    layer.label = ""
    for tool in ("box", "polygon"):
        layer.set_tool(tool)
        layer.press((10, 10))
        layer.release((40, 40))
        for point in ((10, 10), (40, 10), (40, 40)):
            layer.click(point)
        layer.close_polygon()
    assert layer.editor.regions == []
