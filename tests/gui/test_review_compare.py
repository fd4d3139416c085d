"""The Review tab's comparison mode: the open model (A) and a second one (ViewState.model_b)
compared on the open lot as `main.py compare` does, in the window (gui/review/comparison.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
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
