"""The Review tab opens a finished review folder without recomputing: table, confusion matrix,
per-label figures and summary; sorting and filtering through index arrays; a double-click
shows the overlay and opens the image when it is reachable; a million rows open."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from bench.review_rows import write_generated_review
from PySide6.QtCore import Qt


class _Controller:
    def __init__(self) -> None:
        self.opened: list[str] = []

    def open_image(self, path: str) -> None:
        self.opened.append(path)


class _Window:
    """What the opener uses of the main window."""

    def __init__(self) -> None:
        self.controller = _Controller()
        self.lines: list[str] = []

    def status(self, text: str) -> None:
        self.lines.append(text)

    def show_tab(self, name: str) -> None:
        self.lines.append(f"tab {name}")


@pytest.fixture
def opener(qtbot):
    from gui.review.opened import ReviewFolderOpener
    from gui.review.tab import ReviewTab

    tab = ReviewTab()
    qtbot.addWidget(tab)
    return ReviewFolderOpener(_Window(), tab)


def _open(qtbot, opener, folder: Path) -> None:
    opener.open(str(folder))
    qtbot.waitUntil(lambda: opener.active, timeout=60_000)
    qtbot.waitUntil(lambda: len(opener.model.orders) == 9, timeout=60_000)  # every sort order cached


def _shown(model, column: int) -> list[str]:
    return [model.index(r, column).data() for r in range(model.rowCount())]


def test_open_a_review_folder_sort_filter_and_double_click(qtbot, opener, tmp_path):
    images = tmp_path / "images"
    folder = write_generated_review(tmp_path / "review", 2000, seed=5, images=str(images))
    table = opener.model
    _open(qtbot, opener, folder)
    tab, result = opener.tab, opener.opened.result
    assert table.rowCount() == 2000 and tab.proxy is table and tab.table.model() is table
    assert tab.matrix.matrix.tolist() == result.confusion.tolist()
    assert "2000 of 2000 images" in tab.summary.text()
    assert [tab.label_box.itemText(i) for i in range(1, tab.label_box.count())] == ["crack", "ok", "scratch", "spot"]
    confidence = opener.opened.review.numpy("confidence", np.nan)

    tab.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    top = table.review_row(0)
    assert confidence[top] == np.nanmax(confidence)
    tab.choose_cell((1, 2))
    assert table.rowCount() == result.confusion[1, 2] > 0
    assert all(label == "scratch" for label in _shown(table, 1)) and set(_shown(table, 2)) == {"spot"}
    shown = [confidence[table.review_row(r)] for r in range(table.rowCount())]
    assert shown == sorted(shown, reverse=True)  # still sorted within the cell
    tab.choose_cell(None)
    opener.flags.setCurrentText("misclassified")
    assert set(_shown(table, 4)) == {"✗"}
    assert table.rowCount() == result.overall.labelled - result.overall.correct
    opener.flags.setCurrentText("off-defect")
    assert table.rowCount() == int(opener.opened.review.filter_mask(flag="off-defect").sum())

    path = table.path(table.review_row(0))
    overlay = opener.opened.overlay(path)
    overlay.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(overlay), np.full((40, 60, 3), 200, np.uint8))
    opener._double_clicked(table.index(0, 0))
    assert not opener.preview.picture.pixmap().isNull() and path in opener.preview.caption.text()
    assert opener.window.controller.opened == [] and "not reachable" in opener.window.lines[-1]
    (images / path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(images / path), np.zeros((8, 8, 3), np.uint8))
    opener._double_clicked(table.index(0, 0))
    assert opener.window.controller.opened == [str(images / path)]  # the live explanation

    opener.leave()
    assert tab.proxy is opener.live_proxy and tab.table.model() is opener.live_proxy


def test_a_folder_that_is_no_review_says_so(qtbot, opener, tmp_path):
    opener.open(str(tmp_path))
    qtbot.waitUntil(lambda: "Could not open" in opener.tab.summary.text(), timeout=10_000)
    assert not opener.active


def test_a_million_rows_open_and_filter(qtbot, opener, tmp_path):
    folder = write_generated_review(tmp_path / "big", 1_000_000, csv=False)
    _open(qtbot, opener, folder)
    table, result = opener.model, opener.opened.result
    assert table.rowCount() == 1_000_000
    view = opener.tab.table  # sized once from the first rows: paths whole, not "cr…ng"
    assert view.horizontalHeader().sectionSize(0) > view.fontMetrics().horizontalAdvance(table.index(0, 0).data())
    columns = opener.opened.columns
    held = opener.opened.review.table.nbytes + table.view.nbytes + sum(o.nbytes for o in table.orders.values())
    held += sum(a.nbytes for a in columns.arrays())
    assert held < 600 * 2**20  # columns and index arrays, no object per row
    opener.tab.choose_cell((3, 0))
    assert table.rowCount() == result.confusion[3, 0]
    opener.tab.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    first, second = table.path(table.review_row(0)), table.path(table.review_row(1))
    assert first.startswith("crack/") and first > second


def test_the_window_opens_a_cli_review_of_its_folder(qtbot, settings, session, tmp_path):
    """A review written by `batch` (here ReviewOutput, as the CLI does) opens in the real window;
    a matrix cell filters the browser; a double-click explains the image live."""
    from engine.review import ReviewOptions
    from engine.review.outdir import open_review_output

    from .conftest import DEMO_IMAGES, WAIT_MS, open_window

    options = ReviewOptions(batch_size=8)
    output = open_review_output(session, DEMO_IMAGES, tmp_path / "review", options)
    result = output.review(session, DEMO_IMAGES, options)
    output.close()
    window = open_window(qtbot, settings)
    opener = window.review_controller.opener
    assert opener.button.isVisibleTo(window.review) or opener.button.parent() is not None
    _open(qtbot, opener, tmp_path / "review")
    tab = window.review
    assert tab.matrix.matrix.tolist() == result.confusion.tolist() and opener.model.rowCount() == 42
    true, predicted = next(zip(*np.nonzero(result.confusion), strict=True))
    tab.choose_cell((int(true), int(predicted)))
    expected = {str(DEMO_IMAGES / r.path) for r in result.rows if (r.label_index, r.predicted_index) == (true, predicted)}
    assert set(window.browser.visible_paths()) == expected
    tab.choose_cell(None)
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        opener._double_clicked(opener.model.index(0, 0))
    assert window.browser.current_path() == str(DEMO_IMAGES / opener.model.path(opener.model.review_row(0)))
    assert not opener.preview.picture.pixmap().isNull()  # the review's overlay beside the live map
    window.close()
