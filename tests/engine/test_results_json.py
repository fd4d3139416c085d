"""What `info --json`, `predict --json` and `explain --json` print (engine.results), and the
one-line messages of the engine's errors (engine.errors), without a model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import (
    Cancelled,
    ConvScopeError,
    ImageLoadError,
    LayerError,
    MethodError,
    ModelLoadError,
    OutputPathError,
    UnsafeModelError,
)
from engine.model.heads import Head
from engine.model.layers import LayerInfo
from engine.results import ClassScore, Explanation, ModelInfo, Prediction

INPUT = LayerInfo("input", "input", "InputLayer", (None, 8, 8, 3), 0, 0, False)
CONV = LayerInfo("conv", "conv", "Conv2D", (None, 8, 8, 4), 112, 0, False)
BACKBONE = LayerInfo("backbone", "backbone", "Functional", (None, 4, 4, 4), 20, 0, True)
INNER = LayerInfo("backbone/c", "c", "Conv2D", (None, 4, 4, 4), 20, 1, False)
DENSE = LayerInfo("dense", "dense", "Dense", (None, 2), 10, 0, False)


def _info(**changes: object) -> ModelInfo:
    fields: dict = dict(path="/m/defects.keras", name="defects", input_shape=(None, 8, 3),
                        class_names=("ok", "scratch"), heads=(Head("softmax", 2),), output_names=("probs",),
                        preprocessing="unit", preprocessing_source="guess", default_layer="conv",
                        layers=(INPUT, CONV, BACKBONE, INNER, DENSE), params=142)
    fields.update(changes)
    return ModelInfo(**fields)


def test_cam_layers_are_the_spatial_layers_that_are_not_input_or_container() -> None:
    assert _info().cam_layers == (CONV, INNER)


def test_model_info_json_lists_every_field() -> None:
    data = _info(warnings=("w1",)).to_json()
    assert data == {
        "path": "/m/defects.keras", "name": "defects", "input_shape": [None, 8, 3],
        "class_names": ["ok", "scratch"], "preprocessing": "unit", "preprocessing_source": "guess",
        "default_layer": "conv", "params": 142, "warnings": ["w1"],
        "outputs": [{"name": "probs", "activation": "softmax", "units": 2}],
        "layers": [
            {"path": "input", "type": "InputLayer", "output_shape": [None, 8, 8, 3], "params": 0, "depth": 0,
             "cam_target": False},
            {"path": "conv", "type": "Conv2D", "output_shape": [None, 8, 8, 4], "params": 112, "depth": 0,
             "cam_target": True},
            {"path": "backbone", "type": "Functional", "output_shape": [None, 4, 4, 4], "params": 20, "depth": 0,
             "cam_target": False},
            {"path": "backbone/c", "type": "Conv2D", "output_shape": [None, 4, 4, 4], "params": 20, "depth": 1,
             "cam_target": True},
            {"path": "dense", "type": "Dense", "output_shape": [None, 2], "params": 10, "depth": 0,
             "cam_target": False},
        ],
    }
    json.dumps(data)
    assert _info().to_json()["warnings"] == []


def test_model_info_json_pairs_every_output_with_its_head() -> None:
    info = _info(heads=(Head("softmax", 3), Head("sigmoid", 1)), output_names=("kind", "defect"))
    assert info.to_json()["outputs"] == [{"name": "kind", "activation": "softmax", "units": 3},
                                         {"name": "defect", "activation": "sigmoid", "units": 1}]
    with pytest.raises(ValueError):
        _info(heads=(Head("softmax", 3),), output_names=("a", "b")).to_json()


def test_prediction_best_is_the_first_and_json_keeps_the_order() -> None:
    top = (ClassScore(1, "scratch", 0.75, 1.5), ClassScore(0, "ok", 0.25, 0.4))
    prediction = Prediction("a.png", top)
    assert prediction.best is top[0]
    assert prediction.to_json() == {"path": "a.png", "top": [
        {"index": 1, "name": "scratch", "probability": 0.75, "logit": 1.5},
        {"index": 0, "name": "ok", "probability": 0.25, "logit": 0.4}]}


def _explanation(method: str = "gradcam", **changes: object) -> Explanation:
    fields: dict = dict(method=method, layer="conv", class_index=1, class_name="scratch", probability=0.75,
                        logit=1.5, heatmap=np.zeros((10, 12), np.float32), raw=np.zeros((4, 5), np.float32),
                        seconds=0.123456)
    fields.update(changes)
    return Explanation(**fields)


def test_explanation_json_summarises_without_the_arrays() -> None:
    data = _explanation(params={"relu": True}, empty=True, notes=("n1", "n2")).to_json()
    assert data == {
        "method": "gradcam", "class_agnostic": False, "layer": "conv", "class_index": 1, "class_name": "scratch",
        "probability": 0.75, "logit": 1.5, "seconds": 0.1235, "params": {"relu": True}, "empty": True,
        "notes": ["n1", "n2"], "map_shape": [4, 5], "heatmap_shape": [10, 12],
    }
    json.dumps(data)


def test_explanation_defaults_and_the_verdict_tile() -> None:
    plain = _explanation()
    assert (plain.params, plain.empty, plain.notes, plain.tile) == ({}, False, (), None)
    assert "tile" not in plain.to_json()
    assert _explanation(tile=(3, 4, 32, 30)).to_json()["tile"] == [3, 4, 32, 30]
    assert _explanation().params is not _explanation().params


def test_class_agnostic_follows_the_method_declaration() -> None:
    assert _explanation("eigencam").class_agnostic is True
    assert _explanation("eigencam").to_json()["class_agnostic"] is True
    assert _explanation("gradcam").class_agnostic is False
    assert _explanation("no such method").class_agnostic is False


@pytest.mark.parametrize("error", [ConvScopeError, ModelLoadError, UnsafeModelError, ImageLoadError, LayerError,
                                   MethodError, OutputPathError])
def test_error_messages_are_one_line_with_single_spaces(error: type[ConvScopeError]) -> None:
    assert str(error("  the file\n  is\tbroken  ")) == "the file is broken"
    assert str(error(3)) == "3"  # type: ignore[arg-type]
    assert isinstance(error("x"), ConvScopeError)


def test_error_hierarchy_lets_callers_catch_by_kind() -> None:
    assert issubclass(UnsafeModelError, ModelLoadError)
    assert not issubclass(Cancelled, ConvScopeError)
