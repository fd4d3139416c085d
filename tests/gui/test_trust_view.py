"""The Trust view draws what the engine sends, and the engine-side tasks compute it (tiny model)."""

from __future__ import annotations

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
    from gui.jobs import Explain
    from gui.trust.requests import TrustCheck

    return TrustCheck(Explain("/x/scratch_01.png", "gradcam", None, None))


def test_view_shows_curves_verdict_and_removal(qtbot):
    from gui.trust.requests import TrustResult
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
    from gui.jobs import Explain
    from gui.trust.requests import SanityDisplay, SanityRequest
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

    def _cancel_check(self, _envelope):
        return lambda: False

    def _progress(self, _channel):
        return lambda done, total: self.emitted.append(("progress", done, total))

    def _explain_one(self, _envelope, request, progress=None, image=None):
        result = self.session.explain(image, request.method, request.layer, request.class_index)
        return result, image.display

    def emit(self, name, *args):
        self.emitted.append((name, *args))


@pytest.fixture(scope="module")
def tiny_session():
    from engine import Session
    from engine.model.sidecar import Sidecar

    from tests.models import tiny_cnn

    return Session(tiny_cnn(), "tiny.keras", Sidecar())


def test_tasks_compute_curves_removal_and_sanity(tmp_path, tiny_session):
    from gui.engine_loop import HANDLERS, Envelope
    from gui.jobs import Explain
    from gui.trust.requests import SanityDisplay, SanityRequest, TrustCheck, TrustResult

    path = tmp_path / "a.png"
    cv2.imwrite(str(path), (np.random.default_rng(1).random((32, 32, 3)) * 255).astype(np.uint8))
    mask = np.zeros((32, 32), np.uint8)
    mask[10:14, 4:28] = 255
    cv2.imwrite(str(tmp_path / "a_mask.png"), mask)
    loop = _Loop(tiny_session)
    explain = Explain(str(path), "gradcam", None, None)
    HANDLERS[TrustCheck](loop, Envelope("trust", 1, TrustCheck(explain)), TrustCheck(explain))
    name, generation, result = loop.emitted[-1]
    assert name == "trust_computed" and generation == 1 and isinstance(result, TrustResult)
    assert result.painted is not None and result.painted.shape == (32, 32, 3) and result.kept in (True, False)
    assert result.faithfulness.edges is not None
    request = SanityRequest(explain, ("gradcam",))
    HANDLERS[SanityRequest](loop, Envelope("trust", 2, request), request)
    assert isinstance(loop.emitted[-1][2], SanityDisplay) and ("progress", 3, 3) in loop.emitted
