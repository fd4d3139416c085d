"""Frozen results that cross from the engine to the GUI, the CLI and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.model.heads import Head
from engine.model.layers import LayerInfo


@dataclass(frozen=True)
class ModelInfo:
    """Everything known about a loaded model that a view or a command shows."""

    path: str
    name: str
    input_shape: tuple  # (height, width, channels); None for a size-agnostic dimension
    class_names: tuple[str, ...]
    heads: tuple[Head, ...]
    output_names: tuple[str, ...]
    preprocessing: str
    preprocessing_source: str  # "sidecar", "option" or "guess"
    default_layer: str | None
    layers: tuple[LayerInfo, ...]
    params: int
    warnings: tuple[str, ...] = ()

    @property
    def cam_layers(self) -> tuple[LayerInfo, ...]:
        """Layers usable as CAM targets (spatial 4-D outputs)."""
        return tuple(info for info in self.layers if info.is_cam_target)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the `info --json` output)."""
        return {
            "path": self.path, "name": self.name, "input_shape": list(self.input_shape),
            "class_names": list(self.class_names), "preprocessing": self.preprocessing,
            "preprocessing_source": self.preprocessing_source, "default_layer": self.default_layer,
            "params": self.params, "warnings": list(self.warnings),
            "outputs": [{"name": n, "activation": h.activation, "units": h.units}
                        for n, h in zip(self.output_names, self.heads, strict=True)],
            "layers": [{"path": i.path, "type": i.type, "output_shape": list(i.output_shape),
                        "params": i.params, "depth": i.depth, "cam_target": i.is_cam_target} for i in self.layers],
        }


@dataclass(frozen=True)
class ClassScore:
    """One class of a prediction."""

    index: int
    name: str
    probability: float
    logit: float


@dataclass(frozen=True)
class Prediction:
    """Top-k classes of one image, best first."""

    path: str
    top: tuple[ClassScore, ...]

    @property
    def best(self) -> ClassScore:
        """The predicted class."""
        return self.top[0]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"path": self.path, "top": [vars(c) for c in self.top]}


@dataclass(frozen=True)
class Explanation:
    """One explanation map with everything needed to show, save and reproduce it."""

    method: str
    layer: str | None
    class_index: int
    class_name: str
    probability: float
    logit: float
    heatmap: np.ndarray  # (H, W) float32 in [0, 1] at the image's full resolution
    raw: np.ndarray  # the map before normalisation, at the layer's (or model input's) resolution
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    empty: bool = False  # no positive evidence: the map is all zero
    notes: tuple[str, ...] = ()
    # Tiles (engine.tiles): (x, y, width, height) of the tile the verdict comes from.
    tile: tuple[int, int, int, int] | None = None

    @property
    def class_agnostic(self) -> bool:
        """The map is about the image, not about the class (Eigen-CAM): the method's declaration."""
        from engine.methods import METHODS

        method = METHODS.get(self.method)
        return bool(method is not None and method.class_agnostic)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary without the arrays."""
        return {
            "method": self.method, "class_agnostic": self.class_agnostic, "layer": self.layer,
            "class_index": self.class_index,
            "class_name": self.class_name, "probability": self.probability, "logit": self.logit,
            "seconds": round(self.seconds, 4), "params": self.params, "empty": self.empty,
            "notes": list(self.notes), "map_shape": list(self.raw.shape),
            "heatmap_shape": list(self.heatmap.shape),
            **({"tile": list(self.tile)} if self.tile is not None else {}),
        }
