"""A TensorFlow SavedModel folder run through its serving signature.

A SavedModel is a TensorFlow graph, and a graph can hold operators that read or write files
or call back into Python. Before loading, the graph's operator types are read from
saved_model.pb (no TensorFlow object is built) and a graph with such an operator is refused
unless the user trusts the model; the checkpoint's own save / restore operators are allowed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import ModelLoadError, UnsafeModelError
from engine.model.blackbox import GraphNode, chunked, node

SIGNATURE = "serving_default"
# Operators that run Python code or touch files outside the model's own checkpoint.
UNSAFE_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc", "ReadFile", "WriteFile", "MatchingFiles",
                        "DeleteFile", "RecursiveCreateDir", "ImmutableConst", "TFRecordDataset",
                        "FixedLengthRecordDataset", "TextLineDataset", "PrintV2", "Print", "DebugIdentityV3"})


def _ops(proto) -> list[str]:
    found: list[str] = []
    for meta in proto.meta_graphs:
        found.extend(n.op for n in meta.graph_def.node)
        for function in meta.graph_def.library.function:
            found.extend(n.op for n in function.node_def)
    return found


def read_proto(path: Path):
    """The folder's SavedModel protocol buffer (binary saved_model.pb, else text saved_model.pbtxt),
    refused in one line when damaged or holding no graph."""
    from google.protobuf import text_format  # type: ignore[import-untyped]
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    binary = path / "saved_model.pb"
    try:
        if binary.is_file():
            proto.ParseFromString(binary.read_bytes())
        else:
            text_format.Parse((path / "saved_model.pbtxt").read_text(encoding="utf-8"), proto)
    except Exception as exc:  # protobuf's DecodeError, ParseError, a text file that is not UTF-8, ...
        raise ModelLoadError(f"{path.name}: {_graph_file(path)} is damaged ({_first_line(exc)})") from None
    if not proto.meta_graphs:
        raise ModelLoadError(f"{path.name}: {_graph_file(path)} holds no graph (no MetaGraph): not a usable SavedModel")
    return proto


def _graph_file(path: Path) -> str:
    return "saved_model.pb" if (path / "saved_model.pb").is_file() else "saved_model.pbtxt"


def serving_tags(name: str, proto) -> list[str] | None:
    """The tags to load: None when the folder holds one graph, the 'serve' graph's when it holds several."""
    if len(proto.meta_graphs) == 1:
        return None
    for meta in proto.meta_graphs:
        if "serve" in meta.meta_info_def.tags:
            return list(meta.meta_info_def.tags)
    raise ModelLoadError(f"{name}: the SavedModel holds several graphs and none is tagged 'serve'")


class SavedModelRuntime:
    """One SavedModel folder and its serving function."""

    kind = "SavedModel"

    def __init__(self, path: Path, trust: bool = False) -> None:
        proto = read_proto(path)
        ops = _ops(proto)
        unsafe = sorted(set(ops) & UNSAFE_OPS)
        if unsafe and not trust:
            raise UnsafeModelError(f"{path.name}: refused in safe mode: the graph holds operator "
                                   f"{', '.join(unsafe)}, which reads or writes files or runs Python code; "
                                   "load it only if you trust its author (--trust-model)")
        loaded, self._function = _serving_function(path, serving_tags(path.name, proto))
        self._keep = loaded  # the signature's variables live as long as the loaded object
        self._input_name, shape, self._input_dtype = _image_input(path.name, self._function)
        self.input_shape = (shape[1], shape[2], shape[3])
        self.fixed_batch = shape[0] or 0
        self._output_name, self.units = _class_output(path.name, self._function)
        self.nodes = self._nodes(ops, shape)
        # graph order says nothing about which operator is last: a softmax anywhere is the head's
        self.activation = "softmax" if "Softmax" in ops else "sigmoid" if "Sigmoid" in ops and self.units == 1 \
            else "linear"
        self.params = int(sum(np.prod(v.shape) for v in getattr(loaded, "variables", [])))
        self.largest_tensor = 0

    def _nodes(self, ops: list[str], shape: list) -> tuple[GraphNode, ...]:
        counted: dict[str, int] = {}
        for op in ops:
            counted[op] = counted.get(op, 0) + 1
        rows = [node(0, self._input_name, "Input", tuple(shape))]
        rows += [node(i, f"{op} x{count}", op, ()) for i, (op, count) in enumerate(sorted(counted.items()), start=1)]
        return tuple(rows)

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """(B, H, W, C) float32 -> (B, units) float32."""
        if self.fixed_batch:
            return chunked(self._invoke, inputs, self.fixed_batch)
        return self._invoke(inputs)

    def _invoke(self, inputs: np.ndarray) -> np.ndarray:
        from engine.model.backend import tf

        found = self._function(**{self._input_name: tf.constant(inputs, self._input_dtype)})[self._output_name]
        return np.asarray(found.numpy(), np.float32).reshape(len(inputs), -1)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__


def _serving_function(path: Path, tags: list[str] | None):
    """The loaded SavedModel and its serving signature; one line when TensorFlow cannot load it."""
    from engine.model.backend import tf

    try:
        loaded = tf.saved_model.load(str(path), tags=tags)
    except Exception as exc:  # TensorFlow raises many types for a bad folder
        raise ModelLoadError(f"{path.name}: cannot load the SavedModel ({_first_line(exc)})") from None
    signatures = getattr(loaded, "signatures", {})
    if SIGNATURE not in signatures:
        found = ", ".join(sorted(signatures)) or "none"
        raise ModelLoadError(f"{path.name}: the SavedModel has no '{SIGNATURE}' signature (signatures: {found}); "
                             "export it with one that takes a batch of images")
    return loaded, signatures[SIGNATURE]


def _image_input(name: str, function) -> tuple[str, list, object]:
    """(name, shape, dtype) of the signature's one image input: 4-D, a fixed image size, floats."""
    specs = function.structured_input_signature[1]
    if len(specs) != 1:
        raise ModelLoadError(f"{name}: the serving signature takes {len(specs)} inputs; one image expected")
    (input_name, spec), = specs.items()
    shape = spec.shape.as_list() if spec.shape.rank is not None else None
    if shape is None or len(shape) != 4 or not all(isinstance(d, int) for d in shape[1:]):
        raise ModelLoadError(f"{name}: the serving input {shape} is not (batch, height, width, channels) "
                             "with a fixed image size")
    if not spec.dtype.is_floating:
        raise ModelLoadError(f"{name}: the serving input takes {spec.dtype.name}; ConvScope feeds preprocessed "
                             "float images: export the model with a float input")
    return input_name, shape, spec.dtype


def _class_output(name: str, function) -> tuple[str, int]:
    """(name, units) of the signature's first output (by name): floats, a fixed size per image."""
    outputs = function.structured_outputs
    if not isinstance(outputs, dict) or not outputs:
        raise ModelLoadError(f"{name}: the serving signature has no named output")
    output_name = sorted(outputs)[0]
    spec = outputs[output_name]
    dims = spec.shape.as_list()[1:] if spec.shape.rank is not None else [None]
    if not all(isinstance(d, int) for d in dims):
        raise ModelLoadError(f"{name}: the serving output {output_name!r} has an open size {spec.shape}; "
                             "one score per class expected")
    if not spec.dtype.is_floating:
        raise ModelLoadError(f"{name}: the serving output {output_name!r} holds {spec.dtype.name}, not scores")
    return output_name, int(np.prod(np.array(dims, dtype=np.int64)))
