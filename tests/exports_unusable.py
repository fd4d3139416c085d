"""Exports a runtime can open but ConvScope cannot use, built here with the real tools: each must be
refused at load in one line (tests/engine/test_export_refusals.py, tests/cli/test_export_refusals_cli.py)."""

from __future__ import annotations

from pathlib import Path


def saved_models(folder: Path) -> dict[str, Path]:
    """SavedModel folders without a usable serving signature, by what is wrong with them."""
    import tensorflow as tf

    class Module(tf.Module):
        def __init__(self, dtype=tf.float32, shape=(None, 8, 8, 3)) -> None:
            super().__init__()
            self.scale = tf.Variable(2.0)
            self.serve = tf.function(self._serve, input_signature=[tf.TensorSpec(shape, dtype)])

        def _serve(self, x):
            return {"scores": tf.reduce_mean(tf.cast(x, tf.float32), axis=(1, 2)) * self.scale}

    class OpenOutput(Module):
        def _serve(self, x):
            flat = tf.reshape(x, (tf.shape(x)[0], -1))
            return {"scores": flat[:, : tf.shape(x)[1]]}

    class TextOutput(Module):
        def _serve(self, x):
            return {"scores": tf.strings.as_string(tf.reduce_mean(x, axis=(1, 2)))}

    cases = {"no-signature": (Module(), {}), "other-signature": (Module(), "other"),
             "uint8-input": (Module(tf.uint8), None), "open-size": (Module(shape=(None, None, None, 3)), None),
             "open-output": (OpenOutput(), None), "text-output": (TextOutput(), None)}
    found = {}
    for name, (module, signatures) in cases.items():
        if signatures is None:
            signatures = {"serving_default": module.serve}
        elif signatures == "other":
            signatures = {"other": module.serve}
        tf.saved_model.save(module, str(folder / name), signatures=signatures)
        found[name] = folder / name
    (folder / "no-graph").mkdir()
    (folder / "no-graph" / "saved_model.pb").write_bytes(b"")  # parses as a SavedModel holding nothing
    (folder / "text-no-graph").mkdir()
    (folder / "text-no-graph" / "saved_model.pbtxt").write_text("saved_model_schema_version: 1\n")
    (folder / "damaged").mkdir()
    (folder / "damaged" / "saved_model.pb").write_bytes(b"\x08\x01not a protocol buffer" * 8)
    return {**found, **{name: folder / name for name in ("no-graph", "text-no-graph", "damaged")}}


def onnx_models(folder: Path) -> dict[str, Path]:
    """ONNX models onnxruntime runs that take or give something other than float tensors."""
    import onnx
    from onnx import TensorProto, helper

    def save(name: str, input_type: int, output_type: int) -> Path:
        x = helper.make_tensor_value_info("x", input_type, [None, 8, 8, 3])
        y = helper.make_tensor_value_info("y", output_type, [None, 3])
        nodes = [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
                 helper.make_node("ReduceMean", ["xf"], ["m"], axes=[1, 2], keepdims=0),
                 helper.make_node("Cast", ["m"], ["y"], to=output_type)]
        model = helper.make_model(helper.make_graph(nodes, name, [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
        path = folder / f"{name}.onnx"
        onnx.save(model, str(path))
        return path

    return {"uint8-input": save("uint8-input", TensorProto.UINT8, TensorProto.FLOAT),
            "int-output": save("int-output", TensorProto.FLOAT, TensorProto.INT64),
            "float-model": save("float-model", TensorProto.FLOAT, TensorProto.FLOAT)}


def tflite_models(folder: Path) -> dict[str, Path]:
    """A .tflite model whose input is a raw uint8 image (no quantisation parameters)."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((1, 8, 8, 3), tf.uint8)])
    def serve(x):
        return tf.reduce_mean(tf.cast(x, tf.float32), axis=(1, 2))

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], serve)
    path = folder / "uint8-input.tflite"
    path.write_bytes(converter.convert())
    return {"uint8-input": path}
