"""The Trust features' UX fixes: the Compare tab's Faithfulness button on the real window, errors
shown, removal only for defect classes, static plots that let the page scroll, no stale panels,
method titles, and the review banner naming its method and layer; then (the second review) an
inconclusive verdict for curves that cannot move, the removal box's not-run text, the page back at
the top on a new map, the header kept after a sanity check, and a readable similarity plot."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from gui.protocol import JobFailed, ProgressReported, TrustComputed
from PySide6.QtCore import QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from .conftest import WAIT_MS, wait_idle


def _faithfulness():
    from engine.trust.faithfulness import Curves, Faithfulness

    x = np.array([0.0, 0.25, 1.0])
    good = Curves(np.array([0.9, 0.1, 0.0]), np.array([0.0, 0.8, 0.9]))
    control = Curves(np.array([0.9, 0.6, 0.0]), np.array([0.0, 0.3, 0.9]))
    return Faithfulness(1, x, good, control, control, 3)


def _sanity_display(method: str = "gradcam"):
    from engine.trust.sanity import SanityResult, SanityStage
    from gui.protocol import Explain, SanityDisplay, SanityRequest

    m = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    stages = (SanityStage("", m, 1.0, 1.0), SanityStage("predictions", m * 0.5, 0.2, 0.3))
    request = SanityRequest(Explain("/x/a.png", method, None, None), (method,))
    return SanityDisplay(request, "scratch", (SanityResult(method, 1, stages, True, "ok"),))


# -- 1. the Compare tab's Faithfulness button ---------------------------------------------------
def test_tile_request_keeps_every_field_of_the_explain_key():
    """The compare tile's key (gui.protocol.Explain.key) gives back the very request, output included."""
    from gui.protocol import Explain
    from gui.trust.compare_faithfulness import tile_request

    explain = Explain("/x/a.png", "gradcam", "block2_conv", 2, (("edges", True),), output=1)
    assert tile_request(explain.key("model.keras")) == explain


def test_window_compare_faithfulness_button_fills_every_tile(qtbot, window):
    """The real button on the real window: every tile's title gets its deletion / insertion line."""
    wait_idle(qtbot, window)
    compare = window.compare
    compare.set_mode("methods")
    for action in compare.methods_menu.actions():
        action.setChecked(action.data() in {"gradcam", "saliency"})
    window.show_tab("compare")
    qtbot.waitUntil(lambda: len(compare.tiles) == 2 and all(t.explanation for t in compare.tiles),
                    timeout=WAIT_MS)
    button = window.trust_controller.compare.button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all("del " in t.title.text and " · ins " in t.title.text for t in compare.tiles),
                    timeout=WAIT_MS)
    assert button.text() == "Faithfulness"
    assert sum("★ most faithful" in t.title.text for t in compare.tiles) == 1


class _Client:
    def __init__(self) -> None:
        from gui.worker import EngineSignals

        self.signals, self.sent = EngineSignals(), []

    def submit(self, request):
        self.sent.append(request)
        return len(self.sent)


class _Controller(QObject):
    """The parts of gui.controller.Controller the TrustController uses."""

    stateChanged = Signal(object)
    cancelled = Signal()
    modelChanged = Signal(object)

    def __init__(self, path: str | None = None, method: str = "gradcam") -> None:
        super().__init__()
        self.client, self.path, self.method = _Client(), path, method
        self.titles = {"gradcam": "Grad-CAM", "guided-backprop": "Guided Backprop"}

    def title(self, name: str) -> str:
        return self.titles.get(name, name)

    def submit(self, request) -> int:
        return self.client.submit(request)

    def explain_request(self, path: str):
        from gui.protocol import Explain

        return Explain(path, self.method, "conv", None)


def _finished_grid(qtbot):
    from engine.results import Explanation
    from gui.compare import CompareGrid
    from gui.protocol import Explain

    grid = CompareGrid()
    qtbot.addWidget(grid)
    keys = [Explain("/x/a.png", m, None, None).key("m") for m in ("gradcam", "saliency")]
    grid.set_tiles(["Grad-CAM", "Saliency"], keys)
    for key in keys:
        grid.set_result(key, np.zeros((8, 8, 3), np.uint8), Explanation(
            key[3], None, 2, "spot", 0.9, 3.0, np.zeros((8, 8), np.float32), np.zeros((2, 2), np.float32), 0.1))
    return grid


def test_a_failed_compare_faithfulness_request_is_shown(qtbot):
    """The worker's error for the button's request reaches the button (not the hidden Trust tab only)."""
    from gui.trust.controller import TrustController
    from gui.trust.view import TrustView

    view, controller = TrustView(), _Controller("/x/a.png")
    qtbot.addWidget(view)
    trust = TrustController(view, controller, _finished_grid(qtbot))
    qtbot.mouseClick(trust.compare.button, Qt.MouseButton.LeftButton)
    assert controller.client.sent and trust.compare.button.text() == "Faithfulness…"
    controller.client.signals.relay(JobFailed("trust", "out of memory"))
    assert "failed" in trust.compare.button.text() and "out of memory" in trust.compare.button.toolTip()
    assert "out of memory" not in view.status.text()  # the Trust tab had not asked for anything


# -- 2. removal is about defect predictions ---------------------------------------------------
def test_removal_of_the_defect_free_class_has_no_verdict(qtbot):
    from gui.protocol import Explain, TrustCheck, TrustResult
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    display = np.zeros((40, 40, 3), np.uint8)
    request = TrustCheck(Explain("/x/scratch_01.png", "gradcam", None, 0))
    view.show_result(TrustResult(request, "ok", _faithfulness(), display, defect_class=False))
    text = view.removal_text.text()
    assert "SURVIVED" not in text and "defect predictions only" in text and "'ok'" in text
    assert "#b00" not in view.removal_text.styleSheet() and "grey" in view.removal_text.styleSheet()


@pytest.fixture(scope="module")
def ok_session():
    from engine import Session
    from engine.model.sidecar import Sidecar

    from tests.models import tiny_cnn

    return Session(tiny_cnn(), "tiny.keras", Sidecar(class_names=("ok", "scratch", "spot")))


def test_task_skips_the_removal_for_the_defect_free_class(tmp_path, ok_session):
    from gui.engine_loop import HANDLERS, Envelope
    from gui.protocol import Explain, TrustCheck

    from .test_trust_view import _Loop, image_with_mask

    path = image_with_mask(tmp_path)
    loop = _Loop(ok_session)
    for class_index, defect in ((0, False), (1, True)):
        request = TrustCheck(Explain(str(path), "gradcam", None, class_index))
        HANDLERS[TrustCheck](loop, Envelope("trust", 1, request), request)
        result = loop.emitted[-1].result
        assert result.defect_class is defect and (result.painted is not None) is defect


# -- 3. static plots that let the page scroll ---------------------------------------------------
def _wheel(widget, steps: int = -3) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_the_plots_scrolls_the_page_and_never_zooms(qtbot):
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    view.resize(900, 400)  # shorter than its content: the page scrolls
    view.show()
    qtbot.waitExposed(view)
    bar = view.page.verticalScrollBar()
    assert bar.maximum() > 0
    for plot in (view.deletion, view.insertion, view.similarity):
        box = plot.getPlotItem().getViewBox()
        assert box.state["mouseEnabled"] == [False, False] and not box.menuEnabled()
        assert plot.getPlotItem().buttonsHidden
        before_range, before_value = box.viewRange(), bar.value()
        bar.setValue(0 if before_value else bar.maximum() // 2)
        before_value = bar.value()
        _wheel(plot.viewport())
        assert box.viewRange() == before_range
        assert bar.value() != before_value


# -- 4. and 5. no stale panel; method titles ---------------------------------------------------
def test_window_trust_panel_clears_when_the_selection_changes(qtbot, window):
    from gui.trust.view import HINT

    wait_idle(qtbot, window)
    window.show_tab("trust")
    view = window.trust
    assert window.trust_controller.check()
    qtbot.waitUntil(lambda: view.result is not None, timeout=WAIT_MS)
    view.show_sanity(_sanity_display())
    window.browser.select_row(1)  # another image
    assert view.result is None and view.sanity_result is None and view.status.text() == HINT
    assert view.verdict.text() == "" and not view.deletion.getPlotItem().listDataItems()
    assert view.maps_row.count() == 0 and not view.similarity.getPlotItem().listDataItems()
    assert view.before_picture.pixmap().isNull()
    wait_idle(qtbot, window)
    assert window.trust_controller.check()
    qtbot.waitUntil(lambda: view.result is not None, timeout=WAIT_MS)
    assert view.status.text().startswith("Grad-CAM on ")  # 5: the method's title, not "gradcam"
    window.method_panel.select("saliency")  # another method
    assert view.result is None and view.status.text() == HINT
    finished = window.controller.client.signals.job_finished
    with qtbot.waitSignal(finished, timeout=WAIT_MS, check_params_cb=lambda reply: reply.channel == "trust"):
        assert window.trust_controller.check()
        window.browser.select_row(2)  # the answer for the image left behind is not shown
    assert view.result is None


def test_trust_panel_clears_when_another_model_opens(qtbot):
    from gui.trust.controller import TrustController
    from gui.trust.view import HINT, TrustView

    view, controller = TrustView(), _Controller("/x/a.png")
    qtbot.addWidget(view)
    TrustController(view, controller)
    view.show_sanity(_sanity_display())
    controller.modelChanged.emit(object())
    assert view.sanity_result is None and view.status.text() == HINT


def test_sanity_text_names_methods_by_title(qtbot):
    from gui.trust.controller import TrustController
    from gui.trust.view import TrustView

    view, controller = TrustView(), _Controller("/x/a.png")
    qtbot.addWidget(view)
    trust = TrustController(view, controller)
    assert trust.sanity()
    assert "Grad-CAM, Guided Backprop" in view.sanity_text.text() and "gradcam" not in view.sanity_text.text()
    view.show_sanity(_sanity_display())
    assert "Grad-CAM: PASS" in view.sanity_text.text()


# -- 6. the review banner names its method and layer ---------------------------------------------
def test_banner_names_the_method_and_layer_and_cautions_off_the_default_layer():
    from gui.trust.banner import banner_html

    trust = {"overall": {"verdict": "shortcut-suspected", "verdict_reason": "the maps miss the defects"}}
    text = banner_html(trust, method="Grad-CAM", layer="block2_conv", default_layer="last_conv")
    assert "Grad-CAM at layer block2_conv" in text
    assert "not the model's default CAM layer last_conv" in text
    plain = banner_html(trust, method="Grad-CAM", layer="last_conv", default_layer="last_conv")
    assert "Grad-CAM at layer last_conv" in plain and "default CAM layer" not in plain
    assert "at layer" not in banner_html(trust, method="Saliency")
    assert banner_html(trust).startswith("<table")  # the callers that pass only the verdict still work


def test_banner_reads_the_method_and_layer_of_a_review_run():
    from gui.trust.banner import banner_html

    trust = {"overall": {"verdict": "right-reason", "verdict_reason": "the maps point at the defects"}}
    run = {"method": "gradcam", "layer": "block2_conv"}
    text = banner_html(trust, run=run, titles={"gradcam": "Grad-CAM"}.get, default_layer="last_conv")
    assert "Grad-CAM at layer block2_conv" in text and "last_conv" in text


# -- 7. inconclusive curves are neither faithful nor unfaithful ---------------------------------
def _flat_faithfulness():
    """The demo's two-defect image: every curve within a few hundredths of the start."""
    from engine.trust.faithfulness import Curves, Faithfulness

    x = np.linspace(0, 1, 5)
    flat = Curves(np.array([0.99, 0.99, 0.98, 0.98, 0.97]), np.array([0.97, 0.97, 0.98, 0.98, 0.99]))
    wobble = Curves(np.array([0.99, 0.90, 0.91, 0.93, 0.97]), np.array([0.97, 1.0, 1.0, 1.0, 0.99]))
    return Faithfulness(1, x, wobble, flat, flat, 3)


def test_flat_curves_show_an_inconclusive_grey_verdict(qtbot):
    from gui.protocol import Explain, TrustCheck, TrustResult
    from gui.trust.view import VERDICT_COLOURS, TrustView

    view = TrustView()
    qtbot.addWidget(view)
    request = TrustCheck(Explain("/x/mixed_01_scratch_spot.png", "gradcam", None, 2))
    view.show_result(TrustResult(request, "spot", _flat_faithfulness(), np.zeros((40, 40, 3), np.uint8)))
    text = view.verdict.text()
    assert text.startswith("INCONCLUSIVE: removing pixels barely moves the score") and "FAITHFUL" not in text
    assert "p ≥ 0.97" in text and "cannot rank this map" in text
    assert VERDICT_COLOURS["inconclusive"] in view.verdict.styleSheet()
    view.show_result(TrustResult(request, "spot", _faithfulness(), np.zeros((40, 40, 3), np.uint8)))
    assert view.verdict.text().startswith("FAITHFUL") and VERDICT_COLOURS["faithful"] in view.verdict.styleSheet()


def test_inconclusive_compare_tiles_get_no_tick_and_no_star(qtbot):
    from gui.protocol import CompareTrustResult
    from gui.trust.compare_faithfulness import CompareFaithfulness, tile_line

    aucs = {"deletion_auc": 0.96, "insertion_auc": 0.99}
    line = tile_line(aucs, False, True, conclusive=False)
    assert "✓" not in line and "★" not in line and "inconclusive" in line
    assert "✓" in tile_line(aucs, True, True) and "★" in tile_line(aucs, True, True)
    grid, client = _finished_grid(qtbot), _Client()
    helper = CompareFaithfulness(grid, client.submit)
    assert helper.request()
    request = client.sent[-1]
    result = CompareTrustResult(request, (aucs, {"deletion_auc": 0.1, "insertion_auc": 0.9}), (False, True),
                                (False, True))
    helper.show(len(client.sent), result)
    first, second = (tile.title.text for tile in grid.tiles)
    assert "inconclusive" in first and "✓" not in first and "★" not in first
    assert "✓" in second and "★ most faithful" in second


def test_compare_task_reports_whether_each_tile_is_conclusive(tmp_path, ok_session):
    from gui.engine_loop import HANDLERS, Envelope
    from gui.protocol import CompareTrust, Explain

    from .test_trust_view import _Loop

    path = tmp_path / "c.png"
    cv2.imwrite(str(path), (np.random.default_rng(3).random((32, 32, 3)) * 255).astype(np.uint8))
    request = CompareTrust((Explain(str(path), "gradcam", None, 1), Explain(str(path), "saliency", None, 1)))
    loop = _Loop(ok_session)
    HANDLERS[CompareTrust](loop, Envelope("trust", 1, request), request)
    result = loop.emitted[-1].result
    assert len(result.conclusive) == 2 and all(isinstance(c, bool) for c in result.conclusive)
    assert all(not f or c for f, c in zip(result.faithful, result.conclusive, strict=True))


# -- 8. the removal box before a check ------------------------------------------------------------
def test_removal_box_says_not_run_until_a_check_finds_no_mask(qtbot):
    from gui.protocol import Explain, TrustCheck, TrustResult
    from gui.trust.view import NO_MASK, NOT_RUN, TrustView

    view = TrustView()
    qtbot.addWidget(view)
    assert view.removal_text.text() == NOT_RUN and "No defect mask" not in view.removal_text.text()
    request = TrustCheck(Explain("/x/a.png", "gradcam", None, 1))
    view.show_result(TrustResult(request, "scratch", _faithfulness(), np.zeros((40, 40, 3), np.uint8)))
    assert view.removal_text.text() == NO_MASK
    view.reset()
    assert view.removal_text.text() == NOT_RUN


# -- 9. a new map starts at the top; the sanity check keeps the header ----------------------------
def test_reset_scrolls_the_page_back_to_the_buttons(qtbot):
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    bar = view.page.verticalScrollBar()
    bar.setValue(bar.maximum())
    assert bar.value() > 0
    view.reset()
    assert bar.value() == 0


def test_sanity_check_keeps_the_header_and_reports_in_its_box(qtbot):
    from gui.protocol import SanityDisplay, SanityRequest
    from gui.trust.controller import TrustController
    from gui.trust.view import TrustView

    view, controller = TrustView(), _Controller("/x/a.png")
    qtbot.addWidget(view)
    trust = TrustController(view, controller)
    assert trust.sanity()
    assert "randomising" in view.sanity_text.text()
    controller.client.signals.relay(ProgressReported("trust", 1, 3))
    assert "1 of 3" in view.sanity_text.text() and "1 of 3" not in view.status.text()
    explain = controller.explain_request("/x/a.png")
    display = SanityDisplay(SanityRequest(explain, ("gradcam",)), "scratch", _sanity_display().results)
    controller.client.signals.relay(TrustComputed(trust.generation, display))
    assert view.status.text() == "Grad-CAM on a.png, class 'scratch'"
    assert "done" not in view.status.text().lower() and "Grad-CAM: PASS" in view.sanity_text.text()


# -- 10. a readable similarity plot ---------------------------------------------------------------
def test_similarity_plot_is_readable(qtbot):
    import pyqtgraph as pg
    from engine.trust.sanity import FAIL_CORRELATION, SanityResult, SanityStage
    from gui.protocol import Explain, SanityDisplay, SanityRequest
    from gui.trust.view import TrustView

    view = TrustView()
    view.method_title = {"gradcam": "Grad-CAM", "guided-backprop": "Guided Backprop"}.get
    qtbot.addWidget(view)
    m = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    layers = ("predictions", "block3_conv2", "block3_conv1", "block2_conv1")
    stages = (SanityStage("", m, 1.0, 1.0), *(SanityStage(name, m, 0.5 - 0.1 * i, 0.4) for i, name in enumerate(layers)))
    request = SanityRequest(Explain("/x/a.png", "gradcam", None, None), ("gradcam", "guided-backprop"))
    results = (SanityResult("gradcam", 1, stages, True, "ok"), SanityResult("guided-backprop", 1, stages, False, "no"))
    view.show_sanity(SanityDisplay(request, "scratch", results))
    plot = view.similarity.getPlotItem()
    # the legend sits below the axis, outside the data area, and names methods and measures once each
    assert view.similarity_legend.parentItem() is not plot.getViewBox() and plot.legend is None
    labels = [label.text for _sample, label in view.similarity_legend.items]
    assert labels == ["Grad-CAM", "Guided Backprop", "ρ (rank correlation)", "SSIM"]
    assert plot.layout.itemAt(4, 1) is view.similarity_legend
    # one colour per method, solid for rank correlation, dashed for SSIM
    curves = plot.listDataItems()
    styles = [c.opts["pen"].style() for c in curves]
    assert styles == [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine] * 2
    assert curves[0].opts["pen"].color() != curves[2].opts["pen"].color()
    # stage numbers as ticks, the layer names in the tool tip and under the maps
    ticks = view.similarity.getAxis("bottom")._tickLevels[0]
    assert [label for _x, label in ticks] == [str(i) for i in range(len(stages))]
    assert all(name in view.similarity.toolTip() for name in layers)
    # the pass line
    lines = [i for i in plot.items if isinstance(i, pg.InfiniteLine) and i.angle == 0]
    assert len(lines) == 1 and lines[0].value() == FAIL_CORRELATION
    assert lines[0].pen.style() == Qt.PenStyle.DashLine
    view.reset()
    assert not view.similarity_legend.items and view.similarity.toolTip() == ""
