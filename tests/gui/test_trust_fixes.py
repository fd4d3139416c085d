"""The Trust features' UX fixes: the Compare tab's Faithfulness button on the real window, errors
shown, removal only for defect classes, static plots that let the page scroll, no stale panels,
method titles, and the review banner naming its method and layer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from .conftest import WAIT_MS, wait_idle


# -- 1. the Compare tab's Faithfulness button ---------------------------------------------------
def test_tile_request_keeps_every_field_of_the_explain_key():
    """The compare tile's key (gui.jobs.Explain.key) gives back the very request, output included."""
    from gui.jobs import Explain
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


# -- 2. removal is about defect predictions ---------------------------------------------------
@pytest.fixture(scope="module")
def ok_session():
    from engine import Session
    from engine.model.sidecar import Sidecar

    from tests.models import tiny_cnn

    return Session(tiny_cnn(), "tiny.keras", Sidecar(class_names=("ok", "scratch", "spot")))


def test_task_skips_the_removal_for_the_defect_free_class(tmp_path, ok_session):
    from gui.engine_loop import HANDLERS, Envelope
    from gui.jobs import Explain
    from gui.trust.requests import TrustCheck

    from .test_trust_view import _Loop

    path = tmp_path / "a.png"
    cv2.imwrite(str(path), (np.random.default_rng(1).random((32, 32, 3)) * 255).astype(np.uint8))
    mask = np.zeros((32, 32), np.uint8)
    mask[10:14, 4:28] = 255
    cv2.imwrite(str(tmp_path / "a_mask.png"), mask)
    loop = _Loop(ok_session)
    for class_index, defect in ((0, False), (1, True)):
        request = TrustCheck(Explain(str(path), "gradcam", None, class_index))
        HANDLERS[TrustCheck](loop, Envelope("trust", 1, request), request)
        result = loop.emitted[-1][2]
        assert result.defect_class is defect and (result.painted is not None) is defect


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
