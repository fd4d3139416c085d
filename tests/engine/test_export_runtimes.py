"""The TFLite and ONNX runtimes on the demo's own exports (no TensorFlow): batches of any size
agree with single rows, quantised ends are converted, NCHW and fixed-batch graphs are fed right,
and the graph is listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli.common import DEMO_MODEL
from engine.errors import ModelLoadError
from engine.model import onnx_runtime, tflite_runtime
from engine.model.onnx_runtime import OnnxRuntime
from engine.model.tflite_runtime import TfliteRuntime, check_tensor_type, dequantise, quantise

DEMO = Path(DEMO_MODEL).parent


@pytest.fixture(scope="module")
def inputs():
    return np.random.default_rng(2).random((5, 128, 128, 3), dtype=np.float32)


def one_by_one(runtime, inputs):
    return np.concatenate([runtime.run(inputs[i:i + 1]) for i in range(len(inputs))])


@pytest.mark.parametrize("name", ["defects_int8.tflite", "defects_float.tflite"])
def test_tflite_batches_of_any_size_agree_with_single_rows(inputs, name):
    # guards: the interpreter not resized (or its tensor details not re-read) when the batch changes
    runtime = TfliteRuntime(DEMO / name)
    whole = runtime.run(inputs)
    assert whole.shape == (5, 4) and whole.dtype == np.float32
    assert one_by_one(runtime, inputs) == pytest.approx(whole, abs=1e-6)
    assert runtime.run(inputs[:3]) == pytest.approx(whole[:3], abs=1e-6)
    assert whole.sum(axis=1) == pytest.approx(np.ones(5), abs=0.02)  # dequantised probabilities, not raw integers


def test_the_tflite_graph_is_described():
    runtime = TfliteRuntime(DEMO / "defects_int8.tflite")
    assert (runtime.kind, runtime.input_shape, runtime.units, runtime.fixed_batch) == ("TFLite", (128, 128, 3), 4, 0)
    assert runtime.activation == "softmax"
    first = runtime.nodes[0]
    assert (first.type, first.output_shape, first.path[:4]) == ("Input", (None, 128, 128, 3), "000:")
    assert [n.path[:3] for n in runtime.nodes] == [f"{i:03d}" for i in range(len(runtime.nodes))]
    assert "DELEGATE" not in {n.type for n in runtime.nodes} and "CONV_2D" in {n.type for n in runtime.nodes}
    assert runtime.params == sum(n.params for n in runtime.nodes) and runtime.params > 1000
    assert runtime.largest_tensor == max(n.output_shape[1] * n.output_shape[2] * n.output_shape[3]
                                         for n in runtime.nodes if len(n.output_shape) == 4 and n.type != "Input")


def test_quantise_rounds_offsets_and_clips_to_the_type():
    # guards: truncation instead of rounding, the zero point subtracted instead of added, no clip (wrap-around)
    detail = {"dtype": np.int8, "quantization": (0.5, -10)}
    values = np.array([0.0, 0.74, 0.76, -1.0, 1000.0, -1000.0], np.float32)
    assert quantise(values, detail).tolist() == [-10, -9, -8, -12, 127, -128]
    assert quantise(values, detail).dtype == np.int8
    unsigned = {"dtype": np.uint8, "quantization": (1.0, 0)}
    assert quantise(np.array([-3.0, 300.0]), unsigned).tolist() == [0, 255]
    assert quantise(np.array([1.5]), {"dtype": np.float16, "quantization": (0.0, 0)}).dtype == np.float16
    raw = quantise(np.array([3.7]), {"dtype": np.int32, "quantization": (0.0, 0)})
    assert raw.tolist() == [3] and raw.dtype == np.int32


def test_dequantise_uses_scale_and_zero_point():
    detail = {"dtype": np.uint8, "quantization": (0.25, 4)}
    assert dequantise(np.array([4, 8, 0], np.uint8), detail).tolist() == [0.0, 1.0, -1.0]
    assert dequantise(np.array([3], np.int8), {"dtype": np.int8, "quantization": (0.0, 0)}).tolist() == [3.0]
    floats = dequantise(np.array([0.5], np.float16), {"dtype": np.float16, "quantization": (0.0, 0)})
    assert floats.dtype == np.float32 and floats.tolist() == [0.5]


@pytest.mark.parametrize("dtype, scale, usable", [(np.float32, 0.0, True), (np.float16, 0.0, True),
                                                  (np.int8, 0.1, True), (np.uint8, 0.1, True),
                                                  (np.int8, 0.0, False), (np.int32, 0.0, False),
                                                  (np.bool_, 0.0, False)])
def test_only_float_or_quantised_tensors_are_usable(dtype, scale, usable):
    detail = {"dtype": dtype, "quantization": (scale, 0)}
    if usable:
        check_tensor_type("m.tflite", "input", detail)
        return
    with pytest.raises(ModelLoadError, match=rf"^m.tflite: the model's input is {np.dtype(dtype).name} without"):
        check_tensor_type("m.tflite", "input", detail)


def test_first_line_of_a_runtime_error():
    for module in (tflite_runtime, onnx_runtime):
        assert module._first_line(ValueError("\n  first  \nsecond")) == "first"
        assert module._first_line(ValueError("")) == "ValueError"
        assert module._first_line(ValueError("x" * 300)) == "x" * 200


@pytest.fixture(scope="module")
def onnx_variants(tmp_path_factory):
    """The demo's ONNX export as it is, with an NCHW input (as PyTorch exports) and with a fixed batch of 2."""
    import onnx

    from resources.demo.export_demo import nchw_onnx

    folder = tmp_path_factory.mktemp("onnx")
    data = (DEMO / "defects.onnx").read_bytes()
    (folder / "nchw.onnx").write_bytes(nchw_onnx(data))
    fixed = onnx.load_from_string(data)
    fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2
    for output in fixed.graph.output:
        output.type.tensor_type.shape.dim[0].dim_value = 2
    (folder / "fixed.onnx").write_bytes(fixed.SerializeToString())
    return {"nhwc": DEMO / "defects.onnx", "nchw": folder / "nchw.onnx", "fixed": folder / "fixed.onnx"}


def test_onnx_layouts_and_fixed_batches_give_the_same_outputs(onnx_variants, inputs):
    # guards: an NCHW graph fed NHWC (or the layout guessed from the wrong place), a fixed-batch graph
    # fed five rows at once or its padding returned
    runtimes = {name: OnnxRuntime(path) for name, path in onnx_variants.items()}
    assert (runtimes["nhwc"].nchw, runtimes["nchw"].nchw, runtimes["fixed"].nchw) == (False, True, False)
    assert (runtimes["nhwc"].fixed_batch, runtimes["fixed"].fixed_batch) == (0, 2)
    assert all(r.input_shape == (128, 128, 3) for r in runtimes.values())
    expected = runtimes["nhwc"].run(inputs)
    assert expected.shape == (5, 4) and expected.sum(axis=1) == pytest.approx(np.ones(5), abs=1e-5)
    assert one_by_one(runtimes["nhwc"], inputs) == pytest.approx(expected, abs=1e-5)
    for name in ("nchw", "fixed"):
        assert runtimes[name].run(inputs) == pytest.approx(expected, abs=1e-5)


def test_the_onnx_graph_is_described(onnx_variants):
    import onnx

    runtime = OnnxRuntime(onnx_variants["nhwc"])
    model = onnx.load(str(onnx_variants["nhwc"]))
    assert (runtime.kind, runtime.units, runtime.activation, runtime.dtype) == ("ONNX", 4, "softmax", np.float32)
    assert runtime.nodes[0].type == "Input" and runtime.nodes[0].output_shape[1:] == (128, 128, 3)
    assert [n.type for n in runtime.nodes[1:]] == [n.op_type for n in model.graph.node]
    assert runtime.params == sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    conv = next(n for n in runtime.nodes if n.type == "Conv")
    assert conv.params > 0 and len(conv.output_shape) == 4
    assert sum(n.params for n in runtime.nodes) >= runtime.params
