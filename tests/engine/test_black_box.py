"""Deployed exports as black boxes: built here with the real converters from tiny Keras models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import Session
from engine.errors import LayerError, MethodError, ModelLoadError, UnsafeModelError
from engine.model.tflite_runtime import dequantise, quantise
from resources.demo.export_demo import nchw_onnx, onnx_bytes, tflite_float, tflite_int8
from tests.models import tiny_cnn


@pytest.fixture(scope="module")
def keras_model():
    return tiny_cnn((32, 32, 3), classes=3)


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(1).random((7, 32, 32, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def exports(tmp_path_factory, keras_model, inputs):
    """Every export of the tiny model, each with a sidecar (preprocessing none: inputs are used as given)."""
    folder = tmp_path_factory.mktemp("exports")
    fixed = tiny_cnn((32, 32, 3), classes=3)
    fixed_input = __import__("keras").Input((32, 32, 3), batch_size=1)
    batch_one = __import__("keras").Model(fixed_input, fixed(fixed_input))
    files = {"float.tflite": tflite_float(keras_model),
             "f16.tflite": tflite_float(keras_model, float16=True),
             "int8.tflite": tflite_int8(keras_model, inputs, "int8"),
             "uint8.tflite": tflite_int8(keras_model, inputs, "uint8"),
             "batch1.tflite": tflite_float(batch_one),
             "model.onnx": onnx_bytes(keras_model),
             "batch1.onnx": onnx_bytes(keras_model, batch=1),
             "nchw.onnx": nchw_onnx(onnx_bytes(keras_model))}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        (folder / name).with_suffix(".convscope.json").write_text(json.dumps({"preprocessing": "none"}))
    keras_model.export(folder / "saved")
    (folder / "saved.convscope.json").write_text(json.dumps({"preprocessing": "none"}))
    return folder


def probabilities(session, x):
    return session.context.heads[0].probabilities(session.logits(x))


@pytest.mark.parametrize("name, tolerance", [("float.tflite", 1e-5), ("f16.tflite", 1e-2), ("model.onnx", 1e-5),
                                             ("nchw.onnx", 1e-5), ("batch1.tflite", 1e-5), ("batch1.onnx", 1e-5),
                                             ("saved", 1e-5), ("int8.tflite", 0.06), ("uint8.tflite", 0.06)])
def test_exports_predict_what_the_keras_model_predicts(exports, keras_model, inputs, name, tolerance):
    # guards: NCHW fed untransposed, fixed-batch graphs fed a whole batch (or padding kept),
    # quantised ends read as raw integers, outputs put through a second softmax
    session = Session.open(exports / name)
    expected = keras_model.predict(inputs, verbose=0)
    found = probabilities(session, inputs)
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, atol=tolerance)
    assert session.info.heads[0].activation == "softmax"


def test_int8_agrees_with_the_interpreter_itself(exports, inputs):
    # guards: a wrong scale or zero point on either end (the runtime's own answer is the reference)
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(exports / "int8.tflite"))
    interpreter.allocate_tensors()
    given, taken = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert np.dtype(given["dtype"]) == np.int8 and np.dtype(taken["dtype"]) == np.int8
    assert given["quantization"][1] != 0  # a zero point that matters
    rows = []
    for x in inputs:
        q = np.clip(np.round(x / given["quantization"][0]) + given["quantization"][1], -128, 127).astype(np.int8)
        interpreter.set_tensor(given["index"], q[None])
        interpreter.invoke()
        raw = interpreter.get_tensor(taken["index"]).astype(np.float32)
        rows.append(taken["quantization"][0] * (raw[0] - taken["quantization"][1]))
    session = Session.open(exports / "int8.tflite")
    np.testing.assert_allclose(probabilities(session, inputs), np.array(rows) / np.sum(rows, axis=1, keepdims=True),
                               atol=1e-6)


def test_quantise_round_trips_with_scale_and_zero_point():
    detail = {"dtype": np.int8, "quantization": (0.5, -3)}
    values = np.array([-10.0, 0.0, 1.0, 60.0, 100.0], np.float32)
    q = quantise(values, detail)
    assert q.tolist() == [-23, -3, -1, 117, 127]  # 100 clips at int8's top
    np.testing.assert_allclose(dequantise(q, detail), [-10.0, 0.0, 1.0, 60.0, 65.0])


def test_occlusion_and_rise_on_an_export_match_the_keras_model(exports, keras_model, tmp_path, inputs):
    # guards: a black-box method path that scores other rows or classes than the Keras path
    from tests.models import save_model

    keras_session = Session.open(save_model(keras_model, tmp_path, "m.keras"), preprocessing="none")
    export = Session.open(exports / "model.onnx")
    for method, params in (("occlusion", {"patch": 8, "stride": 4}), ("rise", {"masks": 64, "grid": 4})):
        job = keras_session.method(method).params(params)
        a = keras_session.method(method).run(_job(inputs[:3], job))
        b = export.method(method).run(_job(inputs[:3], job))
        np.testing.assert_allclose(a.maps, b.maps, atol=1e-4)


def _job(x, params):
    from engine.methods import Job

    return Job(x, np.arange(len(x), dtype=np.int32) % 3, None, 0, params)  # not only the top class


@pytest.mark.parametrize("method", ["gradcam", "saliency", "scorecam", "integrated-gradients"])
def test_gradient_methods_are_refused_naming_what_works(exports, method):
    session = Session.open(exports / "float.tflite")
    with pytest.raises(MethodError, match="occlusion and rise"):
        session.method(method)


def test_layers_and_the_sanity_check_are_refused(exports, inputs):
    from engine.images.decoding import LoadedImage  # noqa: F401 - the session builds images itself
    from engine.trust.sanity import sanity_check

    session = Session.open(exports / "model.onnx")
    with pytest.raises(LayerError, match="black box"):
        session.layer(None)
    with pytest.raises(MethodError, match="sanity check"):
        sanity_check(session, None, ("occlusion",))
    assert session.info.layers and not session.info.cam_layers  # operators listed, none a CAM target
    assert any(info.type == "Conv" for info in session.info.layers)


def test_saved_model_with_a_file_writing_operator_is_refused(tmp_path):
    # guards: a SavedModel loaded (and its graph run) without looking at its operators
    import tensorflow as tf

    class Writer(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 3), tf.float32)])
        def serve(self, x):
            tf.io.write_file(str(tmp_path / "written.txt"), "pwned")
            return {"output": tf.nn.softmax(tf.reduce_mean(x, axis=(1, 2)))}

    module = Writer()
    tf.saved_model.save(module, str(tmp_path / "evil"), signatures={"serving_default": module.serve})
    with pytest.raises(UnsafeModelError, match="WriteFile"):
        Session.open(tmp_path / "evil")
    assert not (tmp_path / "written.txt").exists()


@pytest.mark.parametrize("content", [b"", b"TFL3" + bytes(100), bytes(range(256)) * 8])
@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_damaged_exports_are_one_line(tmp_path, content, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError) as error:
        Session.open(path)
    assert "\n" not in str(error.value) and path.name in str(error.value)
