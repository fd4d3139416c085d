"""The black-box machinery without TensorFlow: the runtime protocol's helpers, the Session over a
numpy runtime (tests/numpy_runtime.py), and the demo's TFLite and ONNX exports with their runtimes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli.common import DEMO_MODEL
from engine.black_box import BlackBoxSession
from engine.errors import LayerError, MethodError, ModelLoadError
from engine.model.blackbox import (
    WHAT_WORKS,
    BlackBoxContext,
    activation_of,
    chunked,
    elements,
    is_black_box,
    node,
    open_runtime,
    outputs_to_logits,
    refusal,
)
from engine.model.heads import Head
from engine.model.sidecar import Sidecar
from tests.numpy_runtime import CLASSES, RegionRuntime, region_session

DEMO = Path(DEMO_MODEL).parent


def test_what_counts_as_an_export(tmp_path):
    # guards: an upper-case suffix missed, any folder taken for a SavedModel, a Keras file for an export
    for name in ("m.tflite", "m.TFLite", "m.onnx", "m.ONNX"):
        assert is_black_box(tmp_path / name)
    assert not is_black_box(tmp_path / "m.keras") and not is_black_box(tmp_path / "m.h5")
    for folder, marker in (("binary", "saved_model.pb"), ("text", "saved_model.pbtxt"), ("plain", "weights.bin")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / marker).write_bytes(b"")
    assert is_black_box(tmp_path / "binary") and is_black_box(tmp_path / "text")
    assert not is_black_box(tmp_path / "plain")


def test_an_empty_export_is_refused_before_any_runtime(tmp_path):
    for name in ("empty.tflite", "empty.onnx"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(ModelLoadError, match=rf"^{name}: the file is empty$"):
            open_runtime(tmp_path / name)


def test_the_suffix_chooses_the_runtime(tmp_path):
    # guards: an .onnx handed to TFLite (or the reverse), whatever the suffix's case
    for source, copy, kind in (("defects_int8.tflite", "x.TFLITE", "TFLite"), ("defects.onnx", "x.onnx", "ONNX")):
        (tmp_path / copy).write_bytes((DEMO / source).read_bytes())
        assert open_runtime(tmp_path / copy).kind == kind


def test_the_refusal_names_the_model_what_is_refused_and_what_works():
    line = refusal("m.onnx", "layers")
    assert line == f"m.onnx is a deployed export, opened as a black box: layers cannot be used; what works: {WHAT_WORKS}"
    assert "occlusion and rise" in WHAT_WORKS and "defect removal" in WHAT_WORKS


@pytest.mark.parametrize("activation", ["softmax", "sigmoid", "linear"])
def test_outputs_become_logits_whose_head_gives_them_back(activation):
    # guards: log(p) taken for a sigmoid unit, probabilities passed through as logits, a zero
    # probability turned into -inf
    outputs = {"softmax": np.array([[0.7, 0.3, 0.0]]), "sigmoid": np.array([[0.8], [0.0], [1.0]]),
               "linear": np.array([[2.5, -1.0, 0.0]])}[activation]
    logits = outputs_to_logits(outputs, activation)
    assert logits.dtype == np.float32 and np.isfinite(logits).all()
    if activation == "linear":
        assert np.array_equal(logits, outputs.astype(np.float32))
        return
    head = Head(activation, outputs.shape[1])
    back = head.probabilities(logits)
    expected = outputs if activation == "softmax" else np.concatenate([1 - outputs, outputs], axis=1)
    assert back == pytest.approx(expected, abs=1e-6)
    if activation == "sigmoid":
        assert logits[0, 0] == pytest.approx(np.log(0.8 / 0.2), abs=1e-6)


def test_chunked_pads_the_last_chunk_and_trims_its_result():
    # guards: the padding rows returned, the last short chunk run unpadded on a fixed-batch graph
    seen = []

    def run(part):
        seen.append(part.copy())
        return part.sum(axis=1, keepdims=True) * 10

    inputs = np.arange(14, dtype=np.float32).reshape(7, 2)
    out = chunked(run, inputs, 3)
    assert out == pytest.approx(inputs.sum(axis=1, keepdims=True) * 10)
    assert [len(part) for part in seen] == [3, 3, 3]
    assert np.array_equal(seen[-1], np.repeat(inputs[-1:], 3, axis=0))  # the last row repeated
    assert chunked(run, inputs[:3], 3).shape == (3, 1) and len(seen) == 4
    assert chunked(run, inputs[:0], 3).shape == (0,)


def test_graph_nodes_are_numbered_and_never_cam_targets():
    row = node(7, "conv", "CONV_2D", (None, 8, 8, 4), 100)
    assert (row.path, row.name, row.type, row.output_shape, row.params) == ("007:conv", "conv", "CONV_2D",
                                                                          (None, 8, 8, 4), 100)
    assert row.is_cam_target is False and row.is_model is False


def test_elements_per_sample():
    assert elements((None, 4, 5, 3)) == 60 and elements((1, 10)) == 10
    assert elements((None, None, 5)) == 0 and elements((None, 0, 5)) == 0


@pytest.mark.parametrize("ops, expected", [
    (["CONV_2D", "FULLY_CONNECTED", "SOFTMAX"], "softmax"),
    (["Conv", "Softmax", "Reshape", "Identity"], "softmax"),
    (["Gemm", "LOGISTIC", "DEQUANTIZE"], "sigmoid"),
    (["Gemm", "Sigmoid", "Squeeze", "Cast", "Flatten", "DELEGATE", "QUANTIZE"], "sigmoid"),
    (["Softmax", "Gemm"], "linear"),  # a softmax inside the graph, not at its end
    (["Sigmoid", "Add"], "linear"),
    ([], "linear"),
])
def test_the_head_activation_is_read_from_the_last_operators(ops, expected):
    # guards: a softmax anywhere taken for the head's, pass-through operators stopping the search
    assert activation_of(ops, 3) == expected


def test_the_context_caches_and_converts():
    runtime = RegionRuntime(slice(0, 8), slice(0, 8))
    context = BlackBoxContext(runtime)
    assert context.input_shape == (16, 16, 3) and context.heads[0].class_count == 3
    built = []
    assert context.cached("k", lambda: built.append(1) or "v") == "v" == context.cached("k", lambda: "other")
    assert built == [1] and context.cached("largest-activation", lambda: 5) == 0
    x = np.random.default_rng(0).random((2, 16, 16, 3)).astype(np.float64)
    assert context.logits(x) == pytest.approx(np.log(runtime.run(x.astype(np.float32))), abs=1e-5)
    with pytest.raises(MethodError, match="black box"):
        context.probe("layer")


def test_the_session_runs_the_runtime_in_batches():
    # guards: the batch size ignored (a lot in one runtime call), rows dropped or reordered
    session = region_session()
    x = np.random.default_rng(1).random((70, 16, 16, 3)).astype(np.float32)
    logits = session.logits(x, batch_size=32)
    assert session.runtime.calls == [32, 32, 6]
    assert logits == pytest.approx(np.log(session.runtime.run(x)), abs=1e-5)
    assert session.logits(x[:0]).shape == (0, 3)
    with pytest.raises(MethodError):
        session.logits(x, output=1)


def test_the_session_refuses_what_needs_a_model():
    session = region_session(name="m.npy")
    with pytest.raises(MethodError, match=r"^m.npy is a deployed export.*weights and layers"):
        _ = session.model
    with pytest.raises(MethodError, match=r"gradcam \(it needs the model's gradients or layers\)"):
        session.method("gradcam")
    with pytest.raises(LayerError, match="layers"):
        session.layer(None)
    assert session.method("occlusion").name == "occlusion" and session.method("rise").name == "rise"
    with pytest.raises(MethodError):
        session.method("no-such-method")


def info_of(sidecar: Sidecar, preprocessing: str | None = None):
    return BlackBoxSession(RegionRuntime(slice(0, 8), slice(0, 8)), "dir/m.npy", sidecar, preprocessing).info


def test_the_info_takes_names_and_preprocessing_from_the_sidecar():
    # guards: the option not overriding the sidecar, the sidecar's names used for another class count
    info = info_of(Sidecar(CLASSES, "symmetric"))
    assert (info.name, info.path, info.class_names) == ("m.npy", "dir/m.npy", CLASSES)
    assert (info.preprocessing, info.preprocessing_source) == ("symmetric", "sidecar")
    assert info.input_shape == (16, 16, 3) and info.default_layer is None and info.output_names == ("output",)
    assert len(info.warnings) == 1 and info.warnings[0] == f"numpy export opened as a black box: {WHAT_WORKS}"
    assert info_of(Sidecar(CLASSES, "symmetric"), "caffe").preprocessing_source == "option"
    guessed = info_of(Sidecar(("a", "b")))
    assert guessed.class_names == ("class 0", "class 1", "class 2")
    assert (guessed.preprocessing, guessed.preprocessing_source) == ("unit", "guess")
    assert "names 2 classes but the model has 3" in guessed.warnings[0] and "unit" in guessed.warnings[1]
    with pytest.raises(MethodError, match="preprocessing must be one of"):
        info_of(Sidecar(), "pixels")


def test_an_export_opens_with_its_sidecar():
    session = BlackBoxSession.open(DEMO / "defects_int8.tflite")
    assert session.black_box and session.info.preprocessing_source == "sidecar"
    assert session.info.class_names[0] == "ok" and session.info.layers[0].type == "Input"


@pytest.mark.parametrize("method, params, perturbed", [("occlusion", {"patch": 4, "stride": 4}, 16),
                                                       ("rise", {"masks": 10, "grid": 4}, 10)])
def test_gradient_free_methods_run_the_export_in_chunks(method, params, perturbed):
    # guards: a per-image loop (one runtime call per perturbed copy), or chunks past the context's max_chunk
    session = region_session()
    image = session.load_image(DEMO / "images" / "scratch" / "scratch_01.png")
    session.explain(image, method, **params)
    chunks = [rows for rows in session.runtime.calls if rows > 1]
    assert sum(chunks) >= perturbed - BlackBoxContext.max_chunk
    assert max(session.runtime.calls) == BlackBoxContext.max_chunk > 1
