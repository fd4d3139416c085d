"""Export the demo model as it would be deployed: float and int8 TFLite, and ONNX.

Run from the repository root:  .venv/bin/python resources/demo/export_demo.py

Writes beside defects.keras: `defects_float.tflite` (float32), `defects_int8.tflite` (full
integer quantisation, int8 input and output tensors, calibrated on 200 synthetic training-like
images with their own seed) and `defects.onnx` (tf2onnx, NHWC, open batch); the TFLite files get
a copy of the demo sidecar (class names, "unit" preprocessing), the ONNX file shares
defects.convscope.json (a sidecar is found by the file's stem; its target layer is ignored). `compare` then shows what quantisation
changed (README, "Model versions and deployed exports"). The functions are also what the tests
use to build exports of small models with the real converters.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

CALIBRATION_SEED = 2468
CALIBRATION_IMAGES = 200


def tflite_float(model, float16: bool = False) -> bytes:
    """The model as a float32 (or float16-weight) TFLite flatbuffer."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def tflite_int8(model, samples: Iterable[np.ndarray], io_type: str = "int8") -> bytes:
    """Full integer quantisation calibrated on `samples` (preprocessed model inputs), with input
    and output tensors of `io_type` ("int8", "uint8", or "float32" to keep float ends)."""
    import tensorflow as tf

    calibration = [np.asarray(s, np.float32)[None] for s in samples]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x] for x in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io_type != "float32":
        converter.inference_input_type = converter.inference_output_type = getattr(tf, io_type)
    with warnings.catch_warnings():  # the converter's own note; the calibration above gives the statistics
        warnings.filterwarnings("ignore", "Statistics for quantized inputs were expected")
        return converter.convert()


def onnx_bytes(model, batch: int | None = None, opset: int = 17) -> bytes:
    """The model as ONNX (tf2onnx), NHWC, with an open (None) or fixed batch."""
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((batch, *model.input_shape[1:]), tf.float32, name="image"),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    return proto.SerializeToString()


def nchw_onnx(data: bytes) -> bytes:
    """An NHWC ONNX graph given an NCHW input, as PyTorch exports have: a Transpose to NHWC
    inserted after a new (batch, channels, height, width) input."""
    import onnx
    from onnx import helper

    model = onnx.load_from_string(data)
    graph = model.graph
    old = graph.input[0]
    dims = [d.dim_value or d.dim_param for d in old.type.tensor_type.shape.dim]
    new_name = old.name + "_nchw"
    nchw = helper.make_tensor_value_info(new_name, old.type.tensor_type.elem_type,
                                         [dims[0] or None, dims[3], dims[1], dims[2]])
    transpose = helper.make_node("Transpose", [new_name], [old.name], perm=[0, 2, 3, 1], name="to_nhwc")
    graph.node.insert(0, transpose)
    graph.input.remove(old)
    graph.input.insert(0, nchw)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def calibration_inputs(count: int = CALIBRATION_IMAGES, seed: int = CALIBRATION_SEED) -> np.ndarray:
    """Training-like synthetic images (not the demo lot), preprocessed as the demo model expects."""
    from resources.demo.synthetic import make_training_set

    images, _ = make_training_set(count, seed)
    return images.astype(np.float32) / 255.0  # "unit" preprocessing, as the sidecar says


def main() -> None:
    """Write the three exports and their sidecars beside the demo model."""
    import keras

    model = keras.saving.load_model(HERE / "defects.keras", compile=False)
    sidecar = json.loads((HERE / "defects.convscope.json").read_text(encoding="utf-8"))
    sidecar.pop("target_layer", None)  # an export has no layers to target
    exports = {"defects_float.tflite": tflite_float(model),
               "defects_int8.tflite": tflite_int8(model, calibration_inputs()),
               "defects.onnx": onnx_bytes(model)}
    for name, data in exports.items():
        path = HERE / name
        path.write_bytes(data)
        print(f"wrote {path.name} ({len(data) / 1024:.0f} KiB)")
        side = path.with_name(path.stem + ".convscope.json")
        if side.exists():  # defects.onnx shares defects.convscope.json (its target layer is ignored)
            continue
        side.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
