"""The Review tab: `convscope batch` in the window, its table, filters and confusion matrix,
and the mask metrics and outline next to the heatmap."""

from __future__ import annotations

import json
import shutil
from argparse import Namespace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from .conftest import DEMO_IMAGES, DEMO_MODEL, WAIT_MS, wait_idle


def run_review(qtbot, window):
    """Press Review folder and wait for the final result."""
    window.show_tab("review")
    window.review.run_button.click()
    assert window.review.result is None
    qtbot.waitUntil(lambda: window.review.result is not None, timeout=WAIT_MS)
    return window.review.result


@pytest.fixture
def small_lot(tmp_path):
    """Three images of each demo folder, with their masks."""
    folder = tmp_path / "lot"
    for label in sorted(p for p in DEMO_IMAGES.iterdir() if p.is_dir()):
        images = sorted(p for p in label.glob("*.png") if not p.stem.endswith("_mask"))[:3]
        (folder / label.name).mkdir(parents=True)
        for image in images:
            for source in (image, image.with_name(f"{image.stem}_mask.png")):
                if source.exists():
                    shutil.copy(source, folder / label.name / source.name)
    return folder


def test_review_tab_gives_the_same_figures_as_the_cli(qtbot, settings, small_lot, tmp_path):
    from cli.app import main
    from engine.review import read_rows
    from gui.app import create_window

    window = create_window(Namespace(model=str(DEMO_MODEL), images=str(small_lot), trust_model=False), settings)
    try:
        qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
        result = run_review(qtbot, window)
        assert result.complete and len(result.rows) == 15
        assert window.review.proxy.rowCount() == 15
        assert "Review finished" in window.message.text()
        assert "accuracy" in window.review.summary.text()
    finally:
        window.close()
    out = tmp_path / "out"
    assert main(["batch", "--model", str(DEMO_MODEL), "--images", str(small_lot), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    overall = result.overall
    assert summary["accuracy"] == pytest.approx(overall.accuracy)
    assert summary["overall"]["pointing"] == pytest.approx(overall.pointing)
    assert summary["overall"]["energy_inside"] == pytest.approx(overall.energy_inside, abs=1e-4)
    assert summary["overall"]["iou"] == pytest.approx(overall.iou, abs=1e-3)
    assert summary["confusion_matrix"]["matrix"] == result.confusion.tolist()
    cli_rows = {row.path: row for row in read_rows(out / "results.csv")}
    assert set(cli_rows) == {row.path for row in result.rows}
    for row in result.rows:
        other = cli_rows[row.path]
        assert (other.predicted, other.correct, other.pointing_hit) == (row.predicted, row.correct, row.pointing_hit)


def test_table_filters_confusion_click_and_double_click(qtbot, window):
    result = run_review(qtbot, window)
    tab = window.review
    assert tab.model.rowCount() == len(result.rows) == len(window.browser.paths())
    assert tab.matrix.rowCount() == len(result.class_names)
    assert int(tab.matrix.item(0, 0).text()) == result.confusion[0, 0]
    assert tab.stats.rowCount() == len(result.per_label) + 1

    tab.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # confidence
    shown = [r.confidence or -1 for r in tab.proxy.visible_rows()]
    assert shown == sorted(shown, reverse=True)
    tab.misclassified.setChecked(True)
    assert all(r.correct is False for r in tab.proxy.visible_rows())
    assert tab.proxy.rowCount() == sum(r.correct is False for r in result.rows)
    tab.misclassified.setChecked(False)
    tab.set_label("crack")
    assert tab.proxy.rowCount() == sum(r.label == "crack" for r in result.rows) > 0
    tab.set_label(None)

    true, predicted = next(zip(*np.nonzero(result.confusion), strict=True))  # a non-empty cell
    rect = tab.matrix.visualItemRect(tab.matrix.item(int(true), int(predicted)))
    qtbot.mouseClick(tab.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    expected = {tab.model.absolute(r) for r in result.rows
                if (r.label_index, r.predicted_index) == (true, predicted)}
    assert {tab.model.absolute(r) for r in tab.proxy.visible_rows()} == expected
    assert set(window.browser.visible_paths()) == expected
    assert window.browser.show_all.isVisibleTo(window.browser)
    qtbot.mouseClick(tab.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # again: all
    assert tab.proxy.rowCount() == len(result.rows)
    assert len(window.browser.visible_paths()) == len(window.browser.paths())

    target = tab.proxy.index(3, 0)
    path = target.data(Qt.ItemDataRole.UserRole)
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        tab.table.doubleClicked.emit(target)
    assert window.browser.current_path() == path == window.controller.path
    assert window.current_tab() == "heatmap"


def test_mask_metrics_and_outline_match_the_review(qtbot, window):
    result = run_review(qtbot, window)
    row = next(r for r in result.rows if r.label == "crack" and r.has_mask
               and str(DEMO_IMAGES / r.path) != window.controller.path)
    path = str(DEMO_IMAGES / row.path)
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.review_controller.open_image(path)
    overlay = window.mask_overlay
    metrics = overlay.metrics
    assert metrics is not None and metrics.has_mask
    assert metrics.pointing_hit == row.pointing_hit
    assert metrics.energy_inside == pytest.approx(row.energy_inside, abs=1e-4)
    assert metrics.iou == pytest.approx(row.iou, abs=1e-3)
    assert "energy inside" in overlay.label.text() and overlay.row.isVisible()
    overlay.toggle.setChecked(True)
    x, _y = overlay.curve.getData()
    assert x is not None and len(x) > 4
    overlay.toggle.setChecked(False)
    x, _y = overlay.curve.getData()
    assert x is None or len(x) == 0
    assert window.settings.get("mask_outline") is False
    plain = next(p for p in window.browser.paths() if "/ok/" in p.replace("\\", "/"))
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.browser.select_path(plain)
    assert overlay.metrics is None and not overlay.row.isVisible()


def test_cancel_keeps_partial_results_and_window_stays_usable(qtbot, slow_method, window):
    wait_idle(qtbot, window)
    window.method_panel.select(slow_method)
    window.method_panel.widgets["steps"].setValue(60)
    window.method_panel.widgets["steps"].editingFinished.emit()
    wait_idle(qtbot, window)
    window.show_tab("review")
    assert "Slow" in window.review.setup.text()
    window.review.run_button.click()
    qtbot.waitUntil(lambda: window.review.model.rowCount() > 0, timeout=WAIT_MS)
    assert window.cancel_button.isVisible() and "Reviewing" in window.job.text()
    other = window.browser.visible_paths()[5]
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):  # served between batches
        window.browser.select_path(other)
    assert "review" in window.controller.busy
    window.cancel_button.click()
    qtbot.waitUntil(lambda: window.review.result is not None, timeout=WAIT_MS)
    result = window.review.result
    assert not result.complete and 0 < len(result.rows) < result.total
    assert "cancelled" in window.review.summary.text()
    wait_idle(qtbot, window)


def test_review_options_and_report_folder_write_what_batch_out_writes(qtbot, settings, small_lot, tmp_path,
                                                                      monkeypatch):
    from engine.review import read_rows
    from gui.app import create_window
    from gui.review import ReviewController

    report = tmp_path / "report"
    report.mkdir()
    window = create_window(Namespace(model=str(DEMO_MODEL), images=str(small_lot), trust_model=False), settings)
    try:
        qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
        options = window.review.options
        options.target.setCurrentIndex(options.target.findData("label"))
        options.tolerance.setValue(3)
        options.threshold.setValue(0.7)
        options.set_report_folder(str(report))
        assert not options.open_report.isEnabled()
        first = run_review(qtbot, window)
        assert first.complete and len(first.rows) == 15
        assert options.open_report.isEnabled() and str(report) in window.message.text()
        summary = json.loads((report / "summary.json").read_text())
        assert summary["status"] == "complete"
        assert (summary["run"]["target"], summary["run"]["tolerance"], summary["run"]["threshold"]) == \
            ("label", 3, 0.7)
        assert len(read_rows(report / "results.csv")) == 15
        assert len(list((report / "overlays").rglob("*.png"))) == 15
        assert "<table" in (report / "report.html").read_text(encoding="utf-8")
        # labelled images are explained for their label's class, even where the model disagrees
        assert all(r.explained == r.label for r in first.rows if r.label in first.class_names)
        assert window.settings.get("review_target") == "label"
        assert window.settings.get("review_report_folder") == str(report)

        asked = []
        monkeypatch.setattr(ReviewController, "confirm_resume", lambda _self, folder: asked.append(folder) or True)
        again = run_review(qtbot, window)  # continues the review in the folder: nothing left to do
        assert asked == [str(report)] and again.complete and len(again.rows) == 15
        assert len(read_rows(report / "results.csv")) == 15

        options.set_report_folder(str(small_lot))  # the images folder itself: refused, window fine
        window.review.run_button.click()
        qtbot.waitUntil(lambda: "could not run" in window.review.summary.text(), timeout=WAIT_MS)
        assert "folder of its own" in window.review.summary.text()
    finally:
        window.close()


def test_the_flag_filter_works_on_a_live_review(qtbot, window):
    """The flag filter was greyed out for a review run in the window (opened folders only)."""
    window.show_tab("review")
    window.review_controller.run()
    qtbot.waitUntil(lambda: window.review.result is not None, timeout=WAIT_MS)
    flags, proxy, rows = window.review_controller.opener.flags, window.review.proxy, window.review.model.rows
    assert flags.isEnabled()
    for flag, wanted in (("misclassified", lambda r: r.correct is False), ("no mask", lambda r: r.pointing_hit is None),
                         ("correct", lambda r: r.correct is True)):
        flags.setCurrentText(flag)
        assert proxy.rowCount() == sum(map(wanted, rows)) > 0, flag
    flags.setCurrentIndex(0)
    assert proxy.rowCount() == len(rows)
