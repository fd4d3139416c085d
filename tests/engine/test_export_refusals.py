"""Exports a runtime opens but ConvScope cannot use are refused at load, in one line that says
what is wrong (not TensorFlow's or onnxruntime's message, nor a traceback at the first prediction)."""

from __future__ import annotations

import pytest

from engine import Session
from engine.errors import ModelLoadError
from tests.exports_unusable import onnx_models, saved_models, tflite_models

SAVED_MODEL_REASONS = {
    "no-signature": "no 'serving_default' signature (signatures: none)",
    "other-signature": "no 'serving_default' signature (signatures: other)",
    "uint8-input": "serving input takes uint8",
    "open-size": "with a fixed image size",
    "open-output": "open size",
    "text-output": "holds string, not scores",
    "no-graph": "saved_model.pb holds no graph",
    "text-no-graph": "saved_model.pbtxt holds no graph",
    "damaged": "saved_model.pb is damaged",
}


@pytest.fixture(scope="module")
def unusable(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unusable")
    return {"saved": saved_models(folder), "onnx": onnx_models(folder), "tflite": tflite_models(folder)}


def one_line(path) -> str:
    with pytest.raises(ModelLoadError) as error:
        Session.open(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(path.name + ":"), message
    return message


@pytest.mark.parametrize("case", sorted(SAVED_MODEL_REASONS))
def test_a_saved_model_without_a_usable_serving_signature_is_one_line(unusable, case):
    # guards: a missing signature, a non-float or open input, an open or text output, or a graph-less
    # saved_model.pb reaching TensorFlow (a traceback, or its multi-line message cut at 200 characters)
    assert SAVED_MODEL_REASONS[case] in one_line(unusable["saved"][case])


@pytest.mark.parametrize("case, words", [("uint8-input", "input is tensor(uint8)"),
                                         ("int-output", "output is tensor(int64)")])
def test_an_onnx_model_that_does_not_take_and_give_floats_is_one_line(unusable, case, words):
    # guards: a uint8 input fed float32 (onnxruntime's traceback at predict), integer outputs read as scores
    assert words in one_line(unusable["onnx"][case])


def test_an_onnx_model_with_float_ends_opens(unusable):
    session = Session.open(unusable["onnx"]["float-model"])
    assert session.info.input_shape == (8, 8, 3) and len(session.info.class_names) == 3


def test_a_tflite_model_with_a_raw_integer_input_is_one_line(unusable):
    # guards: float pixels cast to uint8 without a scale (every value truncated) and read as a prediction
    assert "input is uint8 without quantisation parameters" in one_line(unusable["tflite"]["uint8-input"])
