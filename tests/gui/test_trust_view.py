"""The Trust view draws what the engine sends, and the engine-side tasks compute it (tiny model)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


def _faithfulness(faithful: bool = True):
    from engine.trust.faithfulness import Curves, Faithfulness

    x = np.array([0.0, 0.25, 1.0])
    good = Curves(np.array([0.9, 0.1, 0.0]), np.array([0.0, 0.8, 0.9]))
    control = Curves(np.array([0.9, 0.6, 0.0]), np.array([0.0, 0.3, 0.9]))
    return Faithfulness(1, x, good if faithful else control, control, control, 3)


def _request():
    from gui.protocol import Explain, TrustCheck

    return TrustCheck(Explain("/x/scratch_01.png", "gradcam", None, None))


def test_view_shows_curves_verdict_and_removal(qtbot):
    from gui.protocol import TrustResult
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    display = np.zeros((40, 40, 3), np.uint8)
    view.show_result(TrustResult(_request(), "scratch", _faithfulness(), display, display + 50,
                                 np.ones((40, 40), bool), 0.98, 0.91, "scratch", True))
    assert view.verdict.text().startswith("FAITHFUL") and "Deletion AUC" in view.verdict.text()
    assert len(view.deletion.getPlotItem().listDataItems()) == 3  # map, random, edges
    assert "SURVIVED" in view.removal_text.text() and view.after_picture.pixmap() is not None
    view.show_result(TrustResult(_request(), "scratch", _faithfulness(False), display))
    assert view.verdict.text().startswith("NOT FAITHFUL") and "No defect mask" in view.removal_text.text()


def test_view_shows_the_sanity_sequence(qtbot):
    from engine.trust.sanity import SanityResult, SanityStage
    from gui.protocol import Explain, SanityDisplay, SanityRequest
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    m = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    stages = (SanityStage("", m, 1.0, 1.0), SanityStage("predictions", m * 0.5, 0.2, 0.3),
              SanityStage("conv", m * 0.1, 0.0, 0.1))
    request = SanityRequest(Explain("/x/a.png", "gradcam", None, None), ("gradcam",))
    view.show_sanity(SanityDisplay(request, "scratch", (SanityResult("gradcam", 1, stages, True, "ok"),)))
    assert view.maps_row.count() == 3 and "gradcam: PASS" in view.sanity_text.text()
    assert len(view.similarity.getPlotItem().listDataItems()) == 2


class _Loop:
    """The parts of gui.engine_loop.EngineLoop the trust tasks use."""

    def __init__(self, session) -> None:
        self.session, self.emitted = session, []

    def cancel_check(self, _envelope):
        return lambda: False

    def progress(self, _channel):
        return lambda done, total: self.emitted.append(("progress", done, total))

    def explain_one(self, _envelope, request, progress=None, image=None):
        result = self.session.explain(image, request.method, request.layer, request.class_index)
        return result, image.display

    def stepping(self, envelope, _defer):
        return self.progress(envelope.channel)

    def emit(self, reply):
        self.emitted.append(reply)


@pytest.fixture(scope="module")
def tiny_session():
    from engine import Session
    from engine.model.sidecar import Sidecar

    from tests.models import tiny_cnn

    return Session(tiny_cnn(), "tiny.keras", Sidecar())


def image_with_mask(folder) -> Path:
    """A 32 px random image `a.png` with a bar-shaped defect mask `a_mask.png` beside it."""
    path = folder / "a.png"
    cv2.imwrite(str(path), (np.random.default_rng(1).random((32, 32, 3)) * 255).astype(np.uint8))
    mask = np.zeros((32, 32), np.uint8)
    mask[10:14, 4:28] = 255
    cv2.imwrite(str(folder / "a_mask.png"), mask)
    return path


def test_tasks_compute_curves_removal_and_sanity(tmp_path, tiny_session):
    from gui.engine_loop import HANDLERS, Envelope
    from gui.protocol import (
        Explain,
        SanityDisplay,
        SanityRequest,
        TrustCheck,
        TrustComputed,
        TrustResult,
    )

    path = image_with_mask(tmp_path)
    loop = _Loop(tiny_session)
    explain = Explain(str(path), "gradcam", None, None)
    HANDLERS[TrustCheck](loop, Envelope("trust", 1, TrustCheck(explain)), TrustCheck(explain))
    reply = loop.emitted[-1]
    result = reply.result
    assert isinstance(reply, TrustComputed) and reply.generation == 1 and isinstance(result, TrustResult)
    assert result.painted is not None and result.painted.shape == (32, 32, 3) and result.kept in (True, False)
    assert result.faithfulness.edges is not None
    request = SanityRequest(explain, ("gradcam",))
    HANDLERS[SanityRequest](loop, Envelope("trust", 2, request), request)
    assert isinstance(loop.emitted[-1].result, SanityDisplay) and ("progress", 3, 3) in loop.emitted


class _Client:
    def __init__(self) -> None:
        self.sent = []

    def submit(self, request):
        self.sent.append(request)
        return len(self.sent)


def test_compare_tiles_get_their_areas_and_the_best_is_marked(qtbot):
    from engine.results import Explanation
    from gui.compare import CompareGrid
    from gui.protocol import CompareTrust, CompareTrustResult
    from gui.trust.compare_faithfulness import CompareFaithfulness

    grid = CompareGrid()
    qtbot.addWidget(grid)
    keys = [("m", "/x/a.png", 1, method, None, None, ()) for method in ("gradcam", "saliency")]
    grid.set_tiles(["Grad-CAM", "Saliency"], keys)
    client = _Client()
    helper = CompareFaithfulness(grid, client.submit)
    assert not helper.request()  # no finished tile yet
    image = np.zeros((8, 8, 3), np.uint8)
    for key in keys:
        explanation = Explanation(key[3], None, 2, "spot", 0.9, 3.0, np.zeros((8, 8), np.float32),
                                  np.zeros((2, 2), np.float32), 0.1)
        grid.set_result(key, image, explanation)
    assert helper.request()
    request = client.sent[-1]
    assert isinstance(request, CompareTrust)
    assert [i.method for i in request.items] == ["gradcam", "saliency"] and request.items[0].class_index == 2
    aucs = ({"deletion_auc": 0.3, "insertion_auc": 0.8}, {"deletion_auc": 0.1, "insertion_auc": 0.9})
    helper.show(len(client.sent), CompareTrustResult(request, aucs, (False, True)))
    assert "★" not in grid.tiles[0].title.text and "del 0.30" in grid.tiles[0].title.text
    assert "★ most faithful" in grid.tiles[1].title.text and "✓" in grid.tiles[1].title.text


def test_compare_task_batches_every_tile(tmp_path, tiny_session):
    from gui.engine_loop import HANDLERS, Envelope
    from gui.protocol import CompareTrust, CompareTrustResult, Explain

    path = tmp_path / "b.png"
    cv2.imwrite(str(path), (np.random.default_rng(2).random((32, 32, 3)) * 255).astype(np.uint8))
    request = CompareTrust((Explain(str(path), "gradcam", None, 0), Explain(str(path), "saliency", None, 0)))
    loop = _Loop(tiny_session)
    HANDLERS[CompareTrust](loop, Envelope("trust", 3, request), request)
    result = loop.emitted[-1].result
    assert isinstance(result, CompareTrustResult) and len(result.aucs) == 2 and result.best() in (0, 1)


def test_window_trust_tab_checks_the_current_map(qtbot, window):
    """The real window: the Trust tab's check arrives for the image the canvas shows."""
    from tests.gui.conftest import WAIT_MS

    window.show_tab("trust")
    assert window.trust_controller.check()
    qtbot.waitUntil(lambda: window.trust.result is not None, timeout=WAIT_MS)
    result = window.trust.result
    assert result.request.explain.path == window.controller.path
    assert window.trust.verdict.text().split(":")[0] in ("FAITHFUL", "NOT FAITHFUL")
    assert len(window.trust.deletion.getPlotItem().listDataItems()) == 3


def test_window_review_with_trust_shows_the_verdict_banner(qtbot, window):
    """The Review tab with Trust metrics on: the same verdict as `batch --trust`, in the banner."""
    from tests.gui.conftest import WAIT_MS

    window.show_tab("review")
    window.review.options.trust.setChecked(True)
    window.review_controller.run()
    qtbot.waitUntil(lambda: window.review.banner.isVisible() and window.review.banner.text() != "",
                    timeout=3 * WAIT_MS)
    assert "RIGHT-REASON" in window.review.banner.text()
    flags = {window.review.model.text(row, 8) for row in window.review.model.rows}
    assert "clear" in flags
