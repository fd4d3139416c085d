"""Comparing two models, without a window: the requests model B needs (gui.plan), their channels
(gui.protocol), and the engine loop's second session (gui.engine_loop) on the demo model and its
int8 TFLite export."""

from __future__ import annotations

import queue
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from engine.model.layers import LayerInfo
from engine.results import ModelInfo
from gui.actions import MODEL_FILTER, model_path
from gui.plan import EngineFacts, compare_items, explain_request_b, requests_for
from gui.protocol import (
    CloseModelB,
    Compare,
    Explain,
    ExplanationComputed,
    ExplanationFailed,
    JobFailed,
    MethodSpec,
    ModelOpened,
    OpenModel,
    OpenModelB,
    channel_of,
)
from gui.state import ViewState

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"
IMAGE = str(DEMO / "images" / "crack" / "crack_01.png")
TILES = 12


def _layer(path: str) -> LayerInfo:
    return LayerInfo(path, path, "Conv2D", (None, 8, 8, 8), 80, 0, False)


def _info(path: str, classes: tuple[str, ...], layers: tuple[str, ...], default: str | None) -> ModelInfo:
    return ModelInfo(path, Path(path).name, (32, 32, 3), classes, (), ("out",), "unit", "sidecar", default,
                     tuple(_layer(name) for name in layers), 1000)


SPECS = (MethodSpec("gradcam", "Grad-CAM", True), MethodSpec("saliency", "Saliency", False),
         MethodSpec("occlusion", "Occlusion", False, gradient_free=True))
A = _info("a.keras", ("ok", "scratch"), ("conv1", "conv2"), "conv2")
B_SAME = _info("b.keras", ("ok", "scratch"), ("conv1", "head"), "head")
B_BOX = _info("b.tflite", ("good", "bad"), (), None)
STATE = ViewState(image="x.png", method="gradcam", layer="conv1", class_index=1, model_b="b.keras")


def facts(info_b: ModelInfo | None = B_SAME, black_box: frozenset[str] = frozenset()) -> EngineFacts:
    return EngineFacts(SPECS, A, info_b, black_box)


def test_b_explains_what_a_does_with_its_own_layer_and_classes_where_they_differ():
    a = Explain("x.png", "gradcam", "conv1", 1)
    assert explain_request_b(STATE, facts(), a) == replace(a, model="b")  # B has conv1 and A's classes
    other_layer = explain_request_b(STATE, facts(), replace(a, layer="conv2"))
    assert other_layer is not None and other_layer.layer == "head"  # B has no conv2: its default layer
    boxed = explain_request_b(STATE, facts(B_BOX), a)
    assert boxed is not None and boxed.class_index is None and boxed.layer is None  # other class names: B's own
    assert explain_request_b(replace(STATE, model_b=None), facts(), a) is None
    assert explain_request_b(STATE, facts(None), a) is None


def test_a_and_b_maps_are_requested_on_their_own_channels():
    wanted = requests_for(STATE, facts(), lambda _r: False, TILES)
    assert [(r.model, channel_of(r)) for r in wanted] == [("a", "explain"), ("b", "explain_b")]
    cached_b = requests_for(STATE, facts(), lambda r: r.model == "b", TILES)
    assert [r.model for r in cached_b] == ["a"]
    running_b = requests_for(STATE, facts(), lambda _r: False, TILES, running_b=wanted[1])
    assert [r.model for r in running_b] == ["a"]
    assert [r.model for r in requests_for(replace(STATE, model_b=None), facts(), lambda _r: False, TILES)] == ["a"]


def test_the_models_compare_mode_puts_a_then_b_per_method_runnable_methods_first():
    state = replace(STATE, tab="compare", compare_mode="models")
    boxed = facts(B_BOX, frozenset({"b"}))
    assert [(t.method, t.model) for t in compare_items(state, boxed, TILES)] == [("occlusion", "a"), ("occlusion", "b")]
    ticked = replace(state, compare_methods=("gradcam", "saliency", "occlusion"))
    tiles = compare_items(ticked, boxed, TILES)
    assert [(t.method, t.model) for t in tiles] == [("occlusion", "a"), ("occlusion", "b"), ("gradcam", "a"),
                                                    ("gradcam", "b"), ("saliency", "a"), ("saliency", "b")]
    assert [(t.method, t.model) for t in compare_items(state, facts(), 4)][:2] == [("gradcam", "a"), ("gradcam", "b")]
    assert len(compare_items(state, facts(), 4)) == 4  # two methods, A and B
    assert {t.model for t in compare_items(replace(state, model_b=None), facts(None), TILES)} == {"a"}
    compare = requests_for(state, facts(), lambda _r: False, TILES, canvas=False)
    assert len(compare) == 1 and isinstance(compare[0], Compare) and len(compare[0].items) == 6


def test_the_line_above_the_models_grid_names_a_and_b_and_what_is_left_out():
    from gui.compare import models_scope

    assert models_scope("a.keras", None, 3).startswith("Only one model is open: choose B with File")
    assert "the first 6 of 17 methods" in models_scope("a.keras", "b.keras", 6, total=17)
    assert "the 2 methods both can run" in models_scope("a.keras", "b.tflite", 2, black_box=True, total=17)
    assert "A = a.keras, B = b.keras: 3 methods" in models_scope("a.keras", "b.keras", 3, total=3)


def test_the_open_dialog_offers_the_exports_and_savedmodel_folders(tmp_path):
    for pattern in ("*.keras", "*.h5", "*.tflite", "*.onnx", "saved_model.pb"):
        assert pattern in MODEL_FILTER.split(";;")[0]
    folder = tmp_path / "exported"
    assert model_path(str(folder / "saved_model.pb")) == str(folder)
    assert model_path(str(tmp_path / "m.tflite")) == str(tmp_path / "m.tflite")
    assert model_path("") == ""


@pytest.fixture(scope="module")
def loop():
    """An engine loop with the demo model as A; replies collected in `loop.replies`."""
    from gui.engine_loop import EngineLoop

    replies: list = []
    latest = dict.fromkeys(("model", "explain", "explain_b", "compare", "model_b"), 0)
    engine = EngineLoop(queue.Queue(), replies.append, latest, threading.Event())
    engine.start({})
    engine.replies = replies  # type: ignore[attr-defined]
    send(engine, OpenModel(str(DEMO / "defects.keras")))
    return engine


def send(loop, request) -> list:
    """Run one request as the window would send it; the replies it produced."""
    from gui.engine_loop import Envelope

    channel = channel_of(request)
    loop.latest[channel] += 1
    start = len(loop.replies)
    loop.handle(Envelope(channel, loop.latest[channel], request))
    return loop.replies[start:]


def test_the_loop_holds_a_second_session_that_explains_what_it_can(loop):
    opened = [r for r in send(loop, OpenModelB(str(DEMO / "defects_int8.tflite"))) if isinstance(r, ModelOpened)]
    assert [(r.model, r.black_box, r.info.name) for r in opened] == [("b", True, "defects_int8.tflite")]

    refused = send(loop, Explain(IMAGE, "gradcam", None, None, model="b"))
    failed = [r for r in refused if isinstance(r, ExplanationFailed)]
    assert len(failed) == 1 and failed[0].channel == "explain_b" and "occlusion" in failed[0].message
    assert not any(isinstance(r, JobFailed) for r in refused)  # B's pane says it, not an error

    both = send(loop, Compare((Explain(IMAGE, "occlusion", None, None), Explain(IMAGE, "occlusion", None, None,
                                                                                  model="b"))))
    maps = [r for r in both if isinstance(r, ExplanationComputed)]
    assert [r.request.model for r in maps] == ["a", "b"]
    assert maps[0].explanation.class_name == maps[1].explanation.class_name == "crack"
    assert maps[0].explanation.probability != maps[1].explanation.probability  # two models, not A twice

    send(loop, CloseModelB())
    gone = [r for r in send(loop, Explain(IMAGE, "occlusion", None, None, model="b"))
            if isinstance(r, ExplanationFailed)]
    assert len(gone) == 1 and "no second model" in gone[0].message
    assert loop.session is not None and loop.session.info.name == "defects.keras"  # A untouched


def test_a_second_model_that_runs_code_needs_trust_like_the_first(loop, tmp_path):
    from tests.models import lambda_model, save_model

    path = str(save_model(lambda_model(), tmp_path, "with_lambda.keras"))
    refused = [r for r in send(loop, OpenModelB(path)) if isinstance(r, JobFailed)]
    assert len(refused) == 1 and refused[0].unsafe and refused[0].channel == "model_b"
    assert loop.session_b is None or loop.session_b.info.path != path
    trusted = [r for r in send(loop, OpenModelB(path, trust=True)) if isinstance(r, ModelOpened)]
    assert [r.info.name for r in trusted] == ["with_lambda.keras"] and loop.session.info.name == "defects.keras"


def test_a_review_comparison_uses_the_loaded_model_b_not_a_second_copy(loop, tmp_path):
    # bug guarded against: the Review tab's comparison opened its own copy of B, untrusted, so a B
    # the user had trusted was refused there, and B's memory was held twice
    from tests.models import lambda_model, save_model

    path = str(save_model(lambda_model(), tmp_path, "trusted_b.keras"))
    send(loop, OpenModelB(path, trust=True))
    assert loop.session_b is not None
    assert loop.comparison_model(loop.session_b.info.path, trust=False) is loop.session_b
