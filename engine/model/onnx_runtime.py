"""An .onnx export run by onnxruntime on the CPU (NHWC or NCHW input, open or fixed batch).

The layout is read from the input's shape: channels (1, 3 or 4) in the second place and not
in the last means NCHW (PyTorch exports), and the NHWC batches the engine works with are
transposed on the way in. Only onnxruntime's own operators run: a graph with a custom
operator domain fails to load (no library is registered), so no code comes from the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import ModelLoadError
from engine.model.blackbox import GraphNode, activation_of, chunked, node

CHANNELS = (1, 3, 4)
FLOAT_TYPES: dict[str, type[np.floating]] = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
                                "tensor(double)": np.float64}


class OnnxRuntime:
    """One .onnx file and its inference session."""

    kind = "ONNX"

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ModelLoadError(f"{path.name}: .onnx models need onnxruntime (pip install -e \".[deploy]\")") from None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for every bad file
            raise ModelLoadError(f"{path.name}: not an ONNX model this runtime can run ({_first_line(exc)})") from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelLoadError(f"{path.name}: expected one image input with 4 dimensions, "
                                 f"found {[i.shape for i in inputs]}")
        self._input_name = inputs[0].name
        shape = list(inputs[0].shape)
        self.nchw = shape[1] in CHANNELS and shape[3] not in CHANNELS
        height, width, channels = (shape[2], shape[3], shape[1]) if self.nchw else (shape[1], shape[2], shape[3])
        if not all(isinstance(d, int) for d in (height, width, channels)):
            raise ModelLoadError(f"{path.name}: the input size {shape} is not fixed; export with a fixed image size")
        self.input_shape = (height, width, channels)
        self.fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else 0
        self.dtype = _float_type(path.name, "input", inputs[0].type)
        output = self._session.get_outputs()[0]
        _float_type(path.name, "output", output.type)
        self._output_name = output.name
        self.units = int(np.prod([d for d in output.shape[1:] if isinstance(d, int)] or [1]))
        self.nodes, ops, self.params = _graph(path, self._input_name, shape)
        self.activation = activation_of(ops, self.units)
        self.largest_tensor = 0  # onnxruntime does not report intermediate shapes without running

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """(B, H, W, C) float32 -> (B, units) float32."""
        if self.fixed_batch:
            return chunked(self._invoke, inputs, self.fixed_batch)
        return self._invoke(inputs)

    def _invoke(self, inputs: np.ndarray) -> np.ndarray:
        feed = np.ascontiguousarray(inputs.transpose(0, 3, 1, 2) if self.nchw else inputs, self.dtype)
        found = self._session.run([self._output_name], {self._input_name: feed})[0]
        return np.asarray(found, np.float32).reshape(len(inputs), -1)


def _float_type(name: str, role: str, onnx_type: str) -> type[np.floating]:
    """The numpy type of a float tensor ('tensor(float)' and kin); one line for any other type."""
    if onnx_type not in FLOAT_TYPES:
        raise ModelLoadError(f"{name}: the model's {role} is {onnx_type}; ConvScope feeds and reads float tensors "
                             "(preprocessed images in, scores out)")
    return FLOAT_TYPES[onnx_type]


def _graph(path: Path, input_name: str, input_shape: list) -> tuple[tuple[GraphNode, ...], list[str], int]:
    """The graph's nodes (operator, first output, weights read) and its initialiser count, read
    with the onnx package when it is installed (onnxruntime alone does not list nodes)."""
    rows = [node(0, input_name, "Input", tuple(d if isinstance(d, int) else None for d in input_shape))]
    try:
        import onnx
    except Exception:  # noqa: BLE001 - absent, or broken beside an older ml_dtypes: the model still runs
        return tuple(rows), [], 0
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # already loaded by onnxruntime: a listing problem is not worth refusing the model
        return tuple(rows), [], 0
    sizes = {t.name: int(np.prod(t.dims)) for t in model.graph.initializer}
    shapes = _inferred_shapes(onnx, model)
    ops = []
    for index, graph_node in enumerate(model.graph.node, start=1):
        ops.append(graph_node.op_type)
        weights = sum(sizes.get(name, 0) for name in graph_node.input)
        rows.append(node(index, graph_node.output[0] if graph_node.output else graph_node.name,
                         graph_node.op_type, shapes.get(graph_node.output[0] if graph_node.output else "", ()),
                         weights))
    return tuple(rows), ops, sum(sizes.values())


def _inferred_shapes(onnx, model) -> dict[str, tuple]:
    """Tensor name -> shape from ONNX shape inference (None for an open size); {} if it fails."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # inference is a courtesy for the layer tree
        return {}
    found = {}
    for info in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = info.type.tensor_type.shape.dim
        found[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
    return found


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__
