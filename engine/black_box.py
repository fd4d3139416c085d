"""The Session of a deployed export (.tflite, .onnx, a SavedModel folder): a black box.

It predicts, runs the gradient-free methods (occlusion, RISE) and serves the trust checks that
need only predictions (defect removal, deletion / insertion), through the same calls as a
Keras Session, so the CLI, the review and the window need no second path. Everything that
needs gradients, layers or weights is refused in one line that says what works instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from engine.errors import LayerError, MethodError
from engine.images.preprocessing import PREPROCESSING_MODES
from engine.methods import METHODS, Method
from engine.model.blackbox import WHAT_WORKS, BlackBoxContext, Runtime, open_runtime, refusal
from engine.model.loading import check_local_path
from engine.model.sidecar import Sidecar, read_sidecar
from engine.results import ModelInfo
from engine.session import Session
from engine.types import FloatArray, InputBatch


class BlackBoxSession(Session):
    """A Session over an export's runtime instead of a Keras model."""

    black_box = True

    def __init__(self, runtime: Runtime, path: str, sidecar: Sidecar,
                 preprocessing: str | None = None, methods: Mapping[str, type[Method]] = METHODS) -> None:
        # Session.__init__ is not called: it builds heads and the layer list from a Keras model
        self.methods = methods
        self.runtime = runtime
        self.box = BlackBoxContext(runtime)
        self.context = self.box  # type: ignore[assignment]  # what the methods and trust checks read
        self._methods = {}
        self.bit_depth = sidecar.bit_depth
        self.info = _info(runtime, path, sidecar, preprocessing, self.box)

    @classmethod
    def open(cls, path: str | Path, trust: bool = False, preprocessing: str | None = None,
             methods: Mapping[str, type[Method]] = METHODS) -> BlackBoxSession:
        """Open an export with its runtime and read its sidecar (class names, preprocessing)."""
        local = check_local_path(path)
        return cls(open_runtime(local, trust), str(path), read_sidecar(local), preprocessing, methods)

    @property
    def model(self):  # type: ignore[override]
        """An export has no Keras model: what needs one (the sanity check, feature views) stops here."""
        raise MethodError(refusal(self.info.name, "the model's weights and layers"))

    def logits(self, inputs: InputBatch, output: int = 0, batch_size: int = 32) -> FloatArray:
        """(B, units) logits of the export (log-probabilities when the graph ends in a softmax)."""
        self.check_output(output)
        parts = [self.box.logits(inputs[i:i + batch_size]) for i in range(0, len(inputs), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.runtime.units), np.float32)

    def method(self, name: str):
        """Occlusion and RISE; any other method is refused in one line."""
        if name in self.methods and not self.methods[name].gradient_free:
            raise MethodError(refusal(self.info.name, f"{name} (it needs the model's gradients or layers)"))
        return super().method(name)

    def layer(self, name: str | None):
        """An export has no layer a CAM or a feature view can read."""
        raise LayerError(refusal(self.info.name, "layers (CAMs, activations, filter patterns)"))


def _info(runtime: Runtime, path: str, sidecar: Sidecar, preprocessing: str | None,
          context: BlackBoxContext) -> ModelInfo:
    warnings: list[str] = []
    count = context.heads[0].class_count
    names = sidecar.class_names
    if names is not None and len(names) != count:
        warnings.append(f"the sidecar names {len(names)} classes but the model has {count}; names ignored")
        names = None
    if preprocessing is not None and preprocessing not in PREPROCESSING_MODES:
        raise MethodError(f"preprocessing must be one of {', '.join(PREPROCESSING_MODES)}")
    mode, source = (preprocessing, "option") if preprocessing else \
        (sidecar.preprocessing, "sidecar") if sidecar.preprocessing else ("unit", "guess")
    if source == "guess":
        warnings.append("no sidecar gives the preprocessing of this export: pixel/255 (unit) assumed; "
                        "set it with --preprocessing or a .convscope.json beside the model")
    warnings.append(f"{runtime.kind} export opened as a black box: {WHAT_WORKS}")
    return ModelInfo(path=str(path), name=Path(path).name, input_shape=runtime.input_shape,
                     class_names=tuple(names or (f"class {i}" for i in range(count))), heads=context.heads,
                     output_names=("output",), preprocessing=mode, preprocessing_source=source, default_layer=None,
                     layers=runtime.nodes, params=runtime.params, warnings=tuple(warnings))
