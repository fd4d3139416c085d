"""Deployed exports (.tflite, .onnx, a SavedModel folder) opened as black boxes.

A black box answers one question: the output for a batch of preprocessed (B, H, W, C)
float32 inputs. Each runtime (engine.model.tflite_runtime, onnx_runtime, savedmodel_runtime)
implements :class:`Runtime`; :class:`BlackBoxContext` gives the gradient-free methods and the
trust checks what a ModelContext gives them for a Keras model: heads, the input shape, a
cache and `logits(x)`. Outputs that are probabilities (a final softmax / sigmoid in the graph)
are turned back into logits (log p; log(p / (1 - p)) for one sigmoid unit), so Head.probabilities
gives the runtime's probabilities again and every caller reads one kind of score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.errors import MethodError, ModelLoadError
from engine.model.heads import Head
from engine.model.layers import LayerInfo

BLACK_BOX_SUFFIXES = (".tflite", ".onnx")
WHAT_WORKS = ("predictions, the gradient-free methods occlusion and rise, and the trust checks that need only "
              "predictions (defect removal, deletion/insertion)")
_TINY = float(np.finfo(np.float32).tiny)


@dataclass(frozen=True)
class GraphNode(LayerInfo):
    """One operator of an exported graph in the layer tree: shown, never a CAM target."""

    @property
    def is_cam_target(self) -> bool:
        """An export has no layer a CAM can read: always False."""
        return False


class Runtime(Protocol):
    """What every runtime module provides for one opened export."""

    kind: str  # "TFLite", "ONNX", "SavedModel"
    input_shape: tuple[int, int, int]  # (height, width, channels), NHWC whatever the file's layout
    activation: str  # the graph's last activation: "softmax", "sigmoid" or "linear"
    units: int
    nodes: tuple[GraphNode, ...]
    params: int
    largest_tensor: int  # elements of the largest intermediate tensor per sample (0: unknown)

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """(B, H, W, C) float32 preprocessed inputs -> (B, units) float32 outputs as the graph gives them."""
        ...


def is_black_box(path: str | Path) -> bool:
    """True for a .tflite / .onnx file or a SavedModel folder (a folder with saved_model.pb)."""
    local = Path(path)
    if local.is_dir():
        return (local / "saved_model.pb").is_file() or (local / "saved_model.pbtxt").is_file()
    return local.suffix.lower() in BLACK_BOX_SUFFIXES


def open_runtime(path: Path, trust: bool = False) -> Runtime:
    """Open an export with its runtime; ModelLoadError (one line) when it is damaged or unsupported."""
    if path.is_dir():
        from engine.model.savedmodel_runtime import SavedModelRuntime

        return SavedModelRuntime(path, trust)
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path.name}: the file is empty")
    if path.suffix.lower() == ".tflite":
        from engine.model.tflite_runtime import TfliteRuntime

        return TfliteRuntime(path)
    from engine.model.onnx_runtime import OnnxRuntime

    return OnnxRuntime(path)


def refusal(name: str, what: str) -> str:
    """The one line that refuses `what` on a black box and names what works."""
    return f"{name} is a deployed export, opened as a black box: {what} cannot be used; what works: {WHAT_WORKS}"


def outputs_to_logits(outputs: np.ndarray, activation: str) -> np.ndarray:
    """Logits whose Head activation gives `outputs` back: log p for softmax, log(p / (1 - p)) for sigmoid."""
    values = np.asarray(outputs, np.float64)
    if activation == "softmax":
        return np.log(np.clip(values, _TINY, None)).astype(np.float32)
    if activation == "sigmoid":
        p = np.clip(values, _TINY, 1.0 - 1e-7)
        return (np.log(p) - np.log1p(-p)).astype(np.float32)
    return values.astype(np.float32)


def chunked(run: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, size: int) -> np.ndarray:
    """`run` over fixed-size chunks of `inputs` (a fixed-batch graph), the last one padded."""
    parts = []
    for start in range(0, len(inputs), size):
        part = inputs[start:start + size]
        short = size - len(part)
        if short:
            part = np.concatenate([part, np.repeat(part[-1:], short, axis=0)])
        parts.append(run(part)[: size - short])
    return np.concatenate(parts) if parts else np.zeros((0,), np.float32)


def node(index: int, name: str, kind: str, shape: tuple, params: int = 0) -> GraphNode:
    """A GraphNode row: numbered so that names repeated in a graph stay unique paths."""
    return GraphNode(f"{index:03d}:{name}", name, kind, tuple(shape), int(params), 0, False)


def elements(shape: tuple) -> int:
    """Elements per sample of a tensor shape (batch first); 0 when any size is unknown."""
    dims = shape[1:]
    return math.prod(dims) if all(isinstance(d, int) and d > 0 for d in dims) else 0


class BlackBoxContext:
    """A ModelContext for an export: heads, input shape, cache, and numpy logits."""

    black_box = True
    # Rows per runtime call: on the demo model the CPU runtimes gain nothing per image past a few
    # rows, and 16- or 64-row chunks ran 2x slower than a per-image loop (numpy work on arrays
    # that leave the cache); at 4 rows it is on par (bench/blackbox.py, README).
    max_chunk = 4

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.heads = (Head(runtime.activation, runtime.units),)
        self._cache: dict[Hashable, Any] = {"largest-activation": runtime.largest_tensor}

    @property
    def input_shape(self) -> tuple:
        """(height, width, channels) of the model input."""
        return self.runtime.input_shape

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Return the object stored under `key`, building it on first use."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def probe(self, *args: Any, **kwargs: Any) -> Any:
        """An export has no inner layers to expose (the session refuses before this is reached)."""
        raise MethodError(f"a deployed export is a black box: its layers cannot be read; what works: {WHAT_WORKS}")

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        """(B, units) logits of a batch of preprocessed inputs (see outputs_to_logits)."""
        outputs = self.runtime.run(np.ascontiguousarray(inputs, np.float32))
        return outputs_to_logits(outputs, self.runtime.activation)


def activation_of(last_ops: list[str], units: int) -> str:
    """The head activation from the graph's operator types nearest the output (case-insensitive)."""
    for kind in reversed(last_ops):
        lowered = kind.lower()
        if "softmax" in lowered:
            return "softmax"
        if lowered in ("logistic", "sigmoid"):
            return "sigmoid"
        if lowered not in ("identity", "reshape", "squeeze", "quantize", "dequantize", "cast", "flatten",
                           "delegate"):
            break
    return "linear"
