"""Probe models: the loaded model's graph replayed on a fresh input, exposing any layer
(nested sub-models included) next to pre-activation scores, without mutating the model."""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import LayerError, ModelLoadError
from engine.model.backend import keras
from engine.model.heads import SQUASHING, Head, activation_name
from engine.model.keras_private import run_through_graph
from engine.model.layers import PATH_SEPARATOR
from engine.types import KerasModel

# A substitute returns a callable to use instead of calling `layer`, or None to keep it.
Substitute = Callable[[object], Callable | None]


def _is_model(layer) -> bool:
    return isinstance(layer, keras.Model)


def _output_layer(model, index: int):
    """The layer producing output `index`, followed into nested models."""
    if isinstance(model, keras.Sequential):
        layer = model.layers[-1]
    else:
        layer = model.outputs[index]._keras_history.operation
    return _output_layer(layer, 0) if _is_model(layer) else layer


def output_heads(model) -> tuple[Head, ...]:
    """The head of every model output."""
    heads = []
    for index, output in enumerate(model.outputs):
        units = int(output.shape[-1]) if output.shape[-1] is not None else 1
        heads.append(Head(activation_name(_output_layer(model, index)), units))
    return tuple(heads)


def output_names(model) -> tuple[str, ...]:
    """A readable name for every output: the name of the layer that produces it."""
    return tuple(_output_layer(model, i).name for i in range(len(model.outputs)))


def check_image_model(model, name: str) -> None:
    """Refuse models that do not take exactly one image-like input."""
    if len(model.inputs) != 1:
        raise ModelLoadError(f"{name}: the model has {len(model.inputs)} inputs; ConvScope explains models with one image input")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise ModelLoadError(f"{name}: the input shape {shape} is not an image (batch, height, width, channels)")
    if any(len(out.shape) != 2 for out in model.outputs):
        raise ModelLoadError(f"{name}: an output is not a (batch, classes) vector; ConvScope explains classifiers")


ACTIVATION_LAYERS_MODULE = "keras.src.layers.activations"  # Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax


def is_activation_layer(layer) -> bool:
    """Whether `layer` is a standalone activation layer (any keras.layers activation class or a
    subclass of one): its pre-activation is its input."""
    return any(cls.__module__.startswith(ACTIVATION_LAYERS_MODULE) for cls in type(layer).__mro__)


class LinearActivation:
    """Calls a layer's twin with a linear activation (weights copied once): the layer's
    pre-activation. A standalone activation layer passes its input through; a layer without a
    fused activation (BatchNormalization, Add, ...) is called as it is."""

    def __init__(self, layer) -> None:
        self.layer = layer
        self.twin = None

    def __call__(self, *args, **kwargs):
        if is_activation_layer(self.layer):
            return args[0]
        if "activation" not in self.layer.get_config():
            return self.layer(*args, **kwargs)
        if self.twin is None:
            config = {**self.layer.get_config(), "activation": "linear"}
            self.twin = type(self.layer).from_config(config)
            self.twin(*args, **kwargs)  # builds its weights, copied before the call that counts (an eager one too)
            self.twin.set_weights(self.layer.get_weights())
        return self.twin(*args, **kwargs)


class _Replay:
    """Rebuilds a model's graph on new symbolic inputs, recording chosen layers' outputs."""

    def __init__(self, model, targets: tuple[str, ...], substitute: Substitute | None,
                 overrides: dict[str, object] | None = None) -> None:
        self.targets = set(targets)
        self.captured: dict[str, object] = {}
        self.substitute = substitute
        self.overrides = overrides or {}  # layer path -> tensor used as that layer's output
        squashing = [
            _output_layer(model, i) for i in range(len(model.outputs))
        ]
        self.linear = {id(layer): LinearActivation(layer) for layer in squashing if activation_name(layer) in SQUASHING}

    def run(self, model, inputs, prefix: str = ""):
        """Outputs of `model` called on `inputs`, with captures, substitutes and linear heads."""

        def call(layer, *args, **kwargs):
            path = prefix + layer.name
            if path in self.overrides:
                output = self.overrides[path]
            elif _is_model(layer):
                output = self.run(layer, args[0], path + PATH_SEPARATOR)
            else:
                output = self._callable(layer)(*args, **kwargs)
            if path in self.targets:
                self.captured[path] = output
            return output

        if isinstance(model, keras.Sequential):
            x = inputs
            for layer in model.layers:
                x = call(layer, x)
            return x
        return run_through_graph(model, inputs, call)  # a Keras internal: see keras_private

    def _callable(self, layer):
        if id(layer) in self.linear:
            return self.linear[id(layer)]
        if self.substitute is not None:
            replacement = self.substitute(layer)
            if replacement is not None:
                return replacement
        return layer


def build_probe(model: KerasModel, targets: tuple[str, ...] = (), output_index: int = 0,
                substitute: Substitute | None = None) -> KerasModel:
    """A Keras model: image -> [outputs of `targets`..., logits of output `output_index`].

    Target paths are LayerInfo paths ("base/block5_conv3"). Softmax and sigmoid heads are
    replaced by linear twins; `substitute` may swap other layers (guided backprop).
    """
    inputs = keras.Input(batch_shape=tuple(model.inputs[0].shape), dtype="float32")
    replay = _Replay(model, targets, substitute)
    outputs = replay.run(model, inputs)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    missing = [t for t in targets if t not in replay.captured]
    if missing:
        raise LayerError(f"layer '{missing[0]}' is not on the path from the input to the output")
    captured = [replay.captured[t] for t in targets]
    return keras.Model(inputs, [*captured, outputs[output_index]])


def build_tail(model: KerasModel, layer: str, output_index: int = 0) -> tuple[KerasModel, bool]:
    """The model from `layer`'s output onward: (Keras model, takes_image).

    The model maps A (a batch shaped like the layer's output) to the logits of output
    `output_index` (linear head, as in build_probe). When a connection bypasses the layer (a
    skip over it), the logits also depend on the image: the model then takes [image, A] and
    `takes_image` is True.
    """
    shape = build_probe(model, (layer,), output_index).outputs[0].shape
    image = keras.Input(batch_shape=tuple(model.inputs[0].shape), dtype="float32")
    replaced = keras.Input(batch_shape=tuple(shape), dtype="float32")
    replay = _Replay(model, (), None, overrides={layer: replaced})
    outputs = replay.run(model, image)
    logits = (list(outputs) if isinstance(outputs, (list, tuple)) else [outputs])[output_index]
    try:
        return keras.Model(replaced, logits), False
    except ValueError:  # the logits also depend on the image through a path around the layer
        return keras.Model([image, replaced], logits), True
