"""The layer list as `model.summary()` shows it, nested models included, and layer lookup."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from engine.errors import LayerError
from engine.types import KerasLayer, KerasModel

PATH_SEPARATOR = "/"
# Layers that only re-sample or copy a feature map: a poor CAM target when a richer one precedes them.
_PASS_THROUGH = ("Pooling", "Dropout", "ZeroPadding", "Cropping", "UpSampling", "GaussianNoise")


@dataclass(frozen=True)
class LayerInfo:
    """One row of the layer tree."""

    path: str  # unique: names of the enclosing models and the layer, joined by "/"
    name: str
    type: str
    output_shape: tuple  # batch dimension included, as summary() shows it: (None, 16, 16, 128)
    params: int
    depth: int  # 0 for the outer model's own layers, 1 inside a nested model, ...
    is_model: bool  # a nested model, expandable in the tree

    @property
    def parent(self) -> str | None:
        """Path of the enclosing nested model, None at the top level."""
        return self.path.rpartition(PATH_SEPARATOR)[0] or None

    @property
    def is_spatial(self) -> bool:
        """A 4-D (batch, height, width, channels) output: usable for CAMs and feature views."""
        shape = self.output_shape
        return len(shape) == 4 and not (shape[1] == 1 and shape[2] == 1)

    @property
    def is_cam_target(self) -> bool:
        """A layer a CAM can be computed on: spatial output, not the input, not a container."""
        return self.is_spatial and not self.is_model and self.type != "InputLayer"

    @property
    def shape_text(self) -> str:
        """The output shape written as summary() writes it."""
        return "(" + ", ".join("None" if d is None else str(d) for d in self.output_shape) + ")"


def not_a_target(info: LayerInfo, purpose: str) -> str:
    """Why a layer cannot serve `purpose` ("a CAM", "feature views"): the input, a nested model
    (whose inner layers can), or an output that is not spatial."""
    if info.type == "InputLayer":
        return f"'{info.path}' is the model's input, not a layer; {purpose} needs a layer after it"
    if info.is_model:
        return (f"'{info.path}' is a nested model; {purpose} needs one of its layers, "
                f"e.g. '{info.path}/<layer name>' (see `info`)")
    return (f"layer '{info.path}' has output {info.shape_text}; {purpose} needs a 4-D "
            "(batch, height, width, channels) output with a spatial size above 1x1")


def _output_shape(layer) -> tuple:
    try:
        output = layer.output
    except (AttributeError, ValueError):
        return ()
    if isinstance(output, (list, tuple)):
        output = output[0]
    return tuple(output.shape)


def _params(layer) -> int:
    try:
        return int(layer.count_params())
    except ValueError:  # an unbuilt layer has no weights yet
        return 0


def _is_model(layer) -> bool:
    return hasattr(layer, "layers") and hasattr(layer, "inputs")


def iter_layers(model: KerasModel, prefix: str = "", depth: int = 0) -> Iterator[tuple[LayerInfo, KerasLayer]]:
    """Yield (info, layer) for every layer, depth first, nested models followed by their own layers."""
    for layer in model.layers:
        path = prefix + layer.name
        nested = _is_model(layer)
        yield (
            LayerInfo(path, layer.name, type(layer).__name__, _output_shape(layer), _params(layer), depth, nested),
            layer,
        )
        if nested:
            yield from iter_layers(layer, path + PATH_SEPARATOR, depth + 1)


def list_layers(model: KerasModel) -> tuple[LayerInfo, ...]:
    """Every layer of the model, nested models expanded, in summary() order."""
    return tuple(info for info, _ in iter_layers(model))


def resolve_layer(layers: tuple[LayerInfo, ...], name: str) -> LayerInfo:
    """Find a layer by its full path, or by its bare name when that is unique."""
    by_path = [info for info in layers if info.path == name]
    if by_path:
        return by_path[0]
    by_name = [info for info in layers if info.name == name]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        choices = ", ".join(info.path for info in by_name)
        raise LayerError(f"layer name '{name}' is ambiguous; use one of: {choices}")
    raise LayerError(f"no layer named '{name}' in the model; {_layer_hint(layers, name)}")


def _layer_hint(layers: tuple[LayerInfo, ...], name: str) -> str:
    """The closest names, or the CAM targets to choose from (the last few when there are many)."""
    names = list(dict.fromkeys([info.path for info in layers] + [info.name for info in layers]))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    targets = [info.path for info in layers if info.is_cam_target]
    shown = ", ".join(targets[-8:])
    return f"layers with a spatial output: {'…, ' if len(targets) > 8 else ''}{shown} (`info --model M` lists every layer)"


def default_target_layer(layers: tuple[LayerInfo, ...], class_count: int) -> LayerInfo | None:
    """The last layer with a spatial 4-D output; None when the model has no such layer.

    Skipped: 'logits' convolutions (as many channels as classes, as in SqueezeNet's conv10)
    and layers that only pool or copy the map of a richer layer before them.
    """
    candidates = [
        info for info in layers
        if info.is_cam_target
        and not (info.type.startswith("Conv") and info.output_shape[-1] == class_count)
    ]
    if not candidates:
        return None
    rich = [info for info in candidates if not any(word in info.type for word in _PASS_THROUGH)]
    return (rich or candidates)[-1]

