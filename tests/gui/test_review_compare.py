"""The Review tab's comparison mode: the open model (A) and a second one (ViewState.model_b)
compared on the open lot as `main.py compare` does, in the window (gui/review/comparison.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine.review.compare import comparison_columns
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from .conftest import DEMO_MODEL, WAIT_MS, open_window, wait_idle

SHORTCUT = DEMO_MODEL.with_name("shortcut.keras")  # the demo model's shortcut twin: same classes, other evidence


@pytest.fixture
def window(qtbot, settings):
    win = open_window(qtbot, settings)
    yield win
    win.close()


def show_review(qtbot, window):
    """The Review tab in front, built and shown."""
    window.show_tab("review")
    qtbot.waitUntil(window.review.isVisible, timeout=WAIT_MS)
    return window.review_controller.comparison


def choose_b(qtbot, window, path: Path = SHORTCUT):
    """What "Compare with another model…" leaves behind: the second model's path in the state."""
    mode = show_review(qtbot, window)
    window.controller.update(model_b=str(path))
    return mode


def run_comparison(qtbot, window, mode):
    """Press "Compare A and B" and wait until the comparison has finished."""
    assert mode.button.isVisible() and mode.button.isEnabled()
    mode.button.click()
    qtbot.waitUntil(lambda: mode.summary is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    return mode.summary


def test_the_button_appears_only_with_a_second_model(qtbot, window):
    mode = show_review(qtbot, window)
    assert not mode.button.isVisible() and window.review.run_button.isVisible()
    choose_b(qtbot, window)
    assert mode.button.isVisible() and mode.button.isEnabled()
    window.controller.update(model_b=None)
    assert not mode.button.isVisible()


def test_comparison_streams_its_rows_and_sorts_like_the_cli(qtbot, window, tmp_path):
    from cli.app import main
    from engine.review.two_models import read_comparison

    mode = choose_b(qtbot, window)
    seen: list[int] = []  # the table's row count each time a batch arrives
    window.controller.client.signals.compare_rows_computed.connect(lambda _r: seen.append(mode.model.rowCount()))
    summary = run_comparison(qtbot, window, mode)
    total = len(window.browser.paths())
    assert seen == [16, 32, total]  # batch by batch, each shown as it came
    assert summary["complete"] and summary["images"] == total
    assert mode.active and window.review.proxy.rowCount() == total
    assert "Comparison finished" in window.message.text()
    tab = window.review
    assert not tab.overview.isVisible() and mode.flips.isVisible()  # no confusion matrix for two models
    headers = [tab.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(tab.proxy.columnCount())]
    assert headers[:3] == ["Image", "Label", "A says"] and "Map ρ" in headers and "flag a" not in headers
    header = tab.table.horizontalHeader()
    shown = [headers[header.logicalIndex(v)] for v in range(header.count())]
    assert shown == [c.header for c in comparison_columns(False) if c.header]  # as declared, left to right

    mode.sort_by("map_spearman")  # "Largest map changes": the evidence that moved most first
    shown = [r.map_spearman for r in tab.proxy.visible_rows()]
    assert shown == sorted(shown) and shown[0] < shown[-1]
    mode.sort_by("map_top_iou")
    assert [r.map_top_iou for r in tab.proxy.visible_rows()] == sorted(r.map_top_iou for r in mode.model.rows)

    out = tmp_path / "cli"
    state = window.controller.state
    assert main(["compare", "--model", str(DEMO_MODEL), "--against", str(SHORTCUT), "--images",
                 window.browser.folder, "--method", state.method, "--out", str(out)]) == 0
    cli_rows, cli_summary = read_comparison(out)
    assert {r.path: r for r in cli_rows} == {r.path: r for r in mode.model.rows}  # the same comparison
    assert cli_summary["agreement"] == pytest.approx(summary["agreement"])


@pytest.fixture
def twin_window(qtbot, settings):
    """The window on the shortcut twin's lot, where the demo model is right for the right reason
    and its twin is not (README, "On the demo: what to look for")."""
    from argparse import Namespace

    from gui.app import create_window

    win = create_window(Namespace(model=str(DEMO_MODEL), images=str(LOT), trust_model=False), settings)
    qtbot.waitUntil(lambda: win.canvas.explanation is not None, timeout=WAIT_MS)
    yield win
    win.close()


LOT = DEMO_MODEL.with_name("shortcut_lot")


def test_banner_names_both_verdicts_and_flips_filter_lists_the_flips(qtbot, twin_window, tmp_path):
    window = twin_window
    mode = choose_b(qtbot, window)
    options = window.review.options
    options.trust.setChecked(True)
    reports = tmp_path / "reports"
    options.set_report_folder(str(reports / "out"))
    summary = run_comparison(qtbot, window, mode)
    banner = window.review.banner
    assert banner.isVisible()
    text = banner.text()
    assert "RIGHT-REASON" in text and "SHORTCUT-SUSPECTED" in text  # A's verdict, then B's
    assert text.index("RIGHT-REASON") < text.index("SHORTCUT-SUSPECTED")
    assert summary["verdict_reason_b"] in text and "defects.keras" in text and "shortcut.keras" in text
    assert "accuracy 95.0%" in text and "accuracy 100.0%" in text and "Agreement 95.0% (2 flipped)" in text
    assert "mean map ρ 0.1" in text

    tab = window.review
    assert tab.proxy.rowCount() == 40
    mode.flips.setChecked(True)
    flipped = tab.proxy.visible_rows()
    assert len(flipped) == summary["flips"] == 2
    assert all(r.predicted_a != r.predicted_b for r in flipped)
    assert {r.path for r in flipped} == {f["path"] for f in summary["flipped"]}
    mode.flips.setChecked(False)
    assert tab.proxy.rowCount() == 40
    headers = [tab.proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(tab.proxy.columnCount())]
    assert "flag a" in headers and "flag b" in headers  # with trust: each model's flag

    out = reports / "out"
    written = json.loads((out / "comparison.json").read_text())
    assert written["verdict_b"] == "shortcut-suspected" and written["run"]["model_b"] == str(SHORTCUT)
    assert (out / "report.html").is_file() and options.open_report.isEnabled()  # "Open report" opens it
    assert sorted(p.name for p in reports.iterdir()) == ["out"]  # nothing written beside the chosen folder


def test_cancel_leaves_a_readable_partial_comparison(qtbot, window, tmp_path):
    from engine.review.two_models import read_comparison

    mode = choose_b(qtbot, window)
    out = tmp_path / "partial"
    window.review.options.set_report_folder(str(out))
    signals = window.controller.client.signals
    signals.compare_rows_computed.connect(lambda _r: window.controller.cancel())  # Cancel after the first batch
    mode.button.click()
    qtbot.waitUntil(lambda: mode.summary is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    total = len(window.browser.paths())
    assert not mode.summary["complete"] and 0 < mode.summary["images"] < total
    assert "Comparison cancelled" in window.message.text()
    assert "partial" in window.review.summary.text()
    rows, summary = read_comparison(out)  # the folder holds the rows compared so far, whole
    assert [r.path for r in rows] == [r.path for r in mode.model.rows]
    assert summary["complete"] is False and summary["images"] == len(rows)
    assert (out / "report.html").is_file()


def test_a_comparison_folder_opens_again_and_a_double_click_shows_the_image(qtbot, window, tmp_path):
    from cli.app import main

    out = tmp_path / "earlier"
    assert main(["compare", "--model", str(DEMO_MODEL), "--against", str(SHORTCUT), "--images", str(LOT),
                 "--method", "gradcam", "--trust", "--out", str(out)]) == 0
    written = json.loads((out / "comparison.json").read_text())
    mode = show_review(qtbot, window)
    assert not mode.button.isVisible()  # no second model is needed to look at a finished comparison
    window.review_controller.opener.open(str(out))  # what "Open review…" does with the chosen folder
    tab = window.review
    qtbot.waitUntil(lambda: tab.proxy.rowCount() == 40, timeout=WAIT_MS)
    assert mode.active and tab.banner.isVisible()
    assert "RIGHT-REASON" in tab.banner.text() and "SHORTCUT-SUSPECTED" in tab.banner.text()
    assert tab.summary.text().startswith(f"Opened: Compared 40 images with Grad-CAM · {written['seconds']:.1f} s")
    mode.flips.setChecked(True)
    assert {r.path for r in tab.proxy.visible_rows()} == {f["path"] for f in written["flipped"]}

    index = tab.table.model().index(0, 0)
    expected = str(LOT.resolve() / tab.proxy.visible_rows()[0].path)
    tab.table.doubleClicked.emit(index)
    qtbot.waitUntil(lambda: window.controller.state.image == expected, timeout=WAIT_MS)
    assert window.current_tab() == "heatmap"

    window.show_tab("review")
    window.review_controller.opener.open(str(out / "missing"))  # not a comparison, not a review: one line
    qtbot.waitUntil(lambda: tab.summary.text().startswith("Could not open"), timeout=WAIT_MS)


def test_the_review_tab_still_fits_a_laptop_while_comparing(qtbot, window):
    from .test_first_minutes import LAPTOP, cut_widgets

    mode = choose_b(qtbot, window)
    mode.enter()  # the comparison's own controls in view
    wait_idle(qtbot, window)
    window.resize(*LAPTOP)
    qtbot.waitUntil(lambda: window.width() <= LAPTOP[0], timeout=5000)
    QApplication.processEvents()
    assert QApplication.primaryScreen().size().toTuple() == LAPTOP
    assert window.minimumSizeHint().width() <= LAPTOP[0]
    tab = window.review
    assert mode.button.isVisible() and mode.flips.isVisible() and mode.largest.isVisible()
    assert cut_widgets(tab) == []
    for widget in (mode.button, tab.options.open_report, mode.largest, tab.label_box):
        corner = widget.mapTo(tab, widget.rect().topLeft())
        assert 0 <= corner.x() and corner.x() + widget.width() <= tab.width(), f"{widget} out of view"


def test_a_method_model_b_cannot_run_is_one_line_and_the_tab_keeps_working(qtbot, window):
    mode = choose_b(qtbot, window, DEMO_MODEL.with_name("defects_float.tflite"))  # a black box: no Grad-CAM
    assert window.controller.state.method == "gradcam"
    mode.button.click()
    tab = window.review
    qtbot.waitUntil(lambda: tab.summary.text().startswith("The comparison could not run: "), timeout=WAIT_MS)
    assert "occlusion" in tab.summary.text() and "\n" not in tab.summary.text()  # names what does work
    wait_idle(qtbot, window)
    assert mode.summary is None and mode.button.isEnabled()
    tab.run_button.click()  # the review itself still runs
    qtbot.waitUntil(lambda: tab.result is not None, timeout=WAIT_MS)
    assert not mode.active and tab.overview.isVisible()


def test_the_latest_comparison_wins(qtbot, window):
    mode = choose_b(qtbot, window)
    arrived: list[int] = []
    window.controller.client.signals.compare_rows_computed.connect(lambda r: arrived.append(r.generation))
    mode.button.click()
    first = mode.generation
    qtbot.waitUntil(lambda: bool(arrived), timeout=WAIT_MS)  # the first comparison is under way
    mode.button.click()  # pressed again: the running one stops, the new one's rows alone fill the table
    assert mode.generation != first
    qtbot.waitUntil(lambda: mode.summary is not None, timeout=WAIT_MS)
    assert mode.summary["complete"]  # the first comparison's partial end is not what the tab shows
    wait_idle(qtbot, window)
    total = len(window.browser.paths())
    assert mode.summary["complete"] and mode.model.rowCount() == total
    assert sorted(r.path for r in mode.model.rows) == sorted(set(r.path for r in mode.model.rows))
