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


def graph_ops(path: Path) -> list[str]:
    """Every operator type in saved_model.pb (graph and function library), in file order."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString((path / "saved_model.pb").read_bytes())
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelLoadError(f"{path.name}: saved_model.pb is damaged ({exc})") from None
    found: list[str] = []
    for meta in proto.meta_graphs:
        found.extend(n.op for n in meta.graph_def.node)
        for function in meta.graph_def.library.function:
            found.extend(n.op for n in function.node_def)
    return found


class SavedModelRuntime:
    """One SavedModel folder and its serving function."""

    kind = "SavedModel"

    def __init__(self, path: Path, trust: bool = False) -> None:
        from engine.model.backend import tf

        ops = graph_ops(path)
        unsafe = sorted(set(ops) & UNSAFE_OPS)
        if unsafe and not trust:
            raise UnsafeModelError(f"{path.name}: refused in safe mode: the graph holds operator "
                                   f"{', '.join(unsafe)}, which reads or writes files or runs Python code; "
                                   "load it only if you trust its author (--trust-model)")
        try:
            loaded = tf.saved_model.load(str(path))
            self._function = loaded.signatures[SIGNATURE]
        except KeyError:
            raise ModelLoadError(f"{path.name}: the SavedModel has no '{SIGNATURE}' signature") from None
        except Exception as exc:  # TensorFlow raises many types for a bad folder
            raise ModelLoadError(f"{path.name}: cannot load the SavedModel ({_first_line(exc)})") from None
        self._keep = loaded  # the signature's variables live as long as the loaded object
        specs = self._function.structured_input_signature[1]
        if len(specs) != 1:
            raise ModelLoadError(f"{path.name}: the serving signature takes {len(specs)} inputs; one image expected")
        (self._input_name, spec), = specs.items()
        shape = spec.shape.as_list()
        if len(shape) != 4 or not all(isinstance(d, int) for d in shape[1:]):
            raise ModelLoadError(f"{path.name}: the serving input {shape} is not (batch, height, width, channels)")
        self.input_shape = (shape[1], shape[2], shape[3])
        self.fixed_batch = shape[0] or 0
        outputs = self._function.structured_outputs
        self._output_name = sorted(outputs)[0]
        self.units = int(np.prod(outputs[self._output_name].shape.as_list()[1:]))
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

        found = self._function(**{self._input_name: tf.constant(inputs, tf.float32)})[self._output_name]
        return np.asarray(found.numpy(), np.float32).reshape(len(inputs), -1)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__
