"""A .tflite export run by ai-edge-litert's interpreter (float, float16 and int8 models).

Quantised input and output tensors are converted with their scale and zero point
(real = scale * (q - zero_point)); a graph whose batch size is open is resized to each chunk,
one with a fixed batch (usually 1) is run chunk by chunk. Only the built-in operators are
resolved: a custom or TensorFlow (Flex) operator is refused at load, so no code comes from the file.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from engine.errors import ModelLoadError
from engine.model.backend import quiet_native_stderr
from engine.model.blackbox import GraphNode, activation_of, chunked, elements, node


class TfliteRuntime:
    """One .tflite file and its interpreter."""

    kind = "TFLite"

    def __init__(self, path: Path) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelLoadError(f"{path.name}: .tflite models need ai-edge-litert "
                                 "(pip install -e \".[deploy]\")") from None
        try:
            with quiet_native_stderr():  # the runtime's "INFO: Created ... delegate" line
                self._interpreter = Interpreter(model_path=str(path), num_threads=None)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{path.name}: not a TFLite model this runtime can run ({_first_line(exc)})") from None
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4:
            raise ModelLoadError(f"{path.name}: expected one image input (batch, height, width, channels), "
                                 f"found {[list(i['shape']) for i in inputs]}")
        self._input, self._output = inputs[0], outputs[0]
        for role, detail in (("input", self._input), ("output", self._output)):
            check_tensor_type(path.name, role, detail)
        shape = [int(d) for d in self._input["shape"]]
        self.input_shape = (shape[1], shape[2], shape[3])
        self.fixed_batch = int(self._input["shape_signature"][0]) if self._input["shape_signature"][0] > 0 else 0
        self.units = int(np.prod(self._output["shape"][1:]))
        self.nodes, ops = self._graph()
        self.activation = activation_of(ops, self.units)
        self.params = sum(n.params for n in self.nodes)
        self.largest_tensor = max((n_elements for n_elements in (elements(n.output_shape) for n in self.nodes)),
                                  default=0)
        self._lock = threading.Lock()  # an interpreter is not re-entrant
        self._batch = shape[0]

    def _graph(self) -> tuple[tuple[GraphNode, ...], list[str]]:
        tensors = {t["index"]: t for t in self._interpreter.get_tensor_details()}
        # the operator list is a private call of the interpreter (no public one lists operators)
        details: list[dict] = getattr(self._interpreter, "_get_ops_details", lambda: [])()
        # weights: tensors an operator reads that no operator writes and that are not the input
        written = {int(i) for op in details for i in op["outputs"]} | {int(self._input["index"])}
        rows = [node(0, str(self._input["name"]), "Input",
                     tuple(int(d) if d >= 0 else None for d in self._input["shape_signature"]))]
        ops: list[str] = []
        # the CPU delegate shows as one more operator standing for those it took over: not listed
        details = [op for op in details if op["op_name"] != "DELEGATE"]
        for index, op in enumerate(details, start=1):
            ops.append(str(op["op_name"]))
            out = tensors.get(int(op["outputs"][0])) if len(op["outputs"]) else None
            shape = tuple(int(d) if d >= 0 else None for d in out["shape_signature"]) if out is not None else ()
            weights = sum(int(np.prod(tensors[i]["shape"])) for i in map(int, op["inputs"])
                          if i in tensors and i not in written)
            name = str(out["name"]).split(";")[0] if out is not None else str(op["op_name"])  # fused: first
            rows.append(node(index, name, str(op["op_name"]),
                             shape, weights))
        return tuple(rows), ops

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """(B, H, W, C) float32 -> (B, units) float32, dequantised."""
        if self.fixed_batch:
            return chunked(self._invoke, inputs, self.fixed_batch)
        return self._invoke(inputs)

    def _invoke(self, inputs: np.ndarray) -> np.ndarray:
        with self._lock:
            if inputs.shape[0] != self._batch:
                self._interpreter.resize_tensor_input(self._input["index"], list(inputs.shape), strict=True)
                self._interpreter.allocate_tensors()
                self._batch = inputs.shape[0]
                self._input = self._interpreter.get_input_details()[0]
                self._output = self._interpreter.get_output_details()[0]
            self._interpreter.set_tensor(self._input["index"], quantise(inputs, self._input))
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._output["index"])
        return dequantise(raw, self._output).reshape(len(inputs), -1)


def check_tensor_type(name: str, role: str, detail: dict) -> None:
    """A float tensor, or an integer one with a scale (quantised); one line for anything else."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f" or (dtype.kind in "iu" and detail["quantization"][0]):
        return
    raise ModelLoadError(f"{name}: the model's {role} is {dtype.name} without quantisation parameters; "
                         "ConvScope feeds and reads float (or quantised) tensors")


def quantise(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float inputs in the tensor's type: q = round(x / scale) + zero_point, clipped to its range."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return values.astype(dtype)
    scale, zero = detail["quantization"]
    if not scale:
        return values.astype(dtype)
    limits = np.iinfo(dtype)
    scaled = values * np.float32(1.0 / scale)  # one pass fewer than a division, then in place
    np.rint(scaled, out=scaled)
    scaled += zero
    np.clip(scaled, limits.min, limits.max, out=scaled)
    return scaled.astype(dtype)


def dequantise(values: np.ndarray, detail: dict) -> np.ndarray:
    """real = scale * (q - zero_point) for a quantised tensor; float tensors as float32."""
    scale, zero = detail["quantization"]
    if np.dtype(detail["dtype"]).kind != "f" and scale:
        return (scale * (values.astype(np.float32) - zero)).astype(np.float32)
    return values.astype(np.float32)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__
