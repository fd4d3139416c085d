"""Guided backpropagation (Springenberg et al. 2015; seed 001).

A probe of the model in which every ReLU-family activation keeps its forward function but
passes back only positive gradients: grad_in = f'(x) * ReLU(grad_out). For a ReLU that is
the guided rule, gradient passed only where the input and the incoming gradient are both
positive. "ReLU-family" means the monotone rectifiers that are the identity for positive
inputs: relu, relu6 (any ReLU layer, whatever its max_value / slope / threshold),
leaky_relu and elu/selu, whether a separate layer (ReLU, LeakyReLU, ELU, Activation) or
fused into a layer (Conv2D(activation="relu"), Dense, ...: a linear twin of the layer,
then the guided activation). Smooth, non-monotone gates (gelu, swish/silu, mish, hard
swish), squashing functions (sigmoid, tanh) and PReLU (a trained slope) are left as they
are, and the result says which ones it could not replace.

The map is max |gradient| over colour channels at the model input's resolution; the
signed 3-channel gradient is kept as the attributions (Explanation.raw).
"""

from __future__ import annotations

import functools

from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import input_gradients
from engine.methods.saliency import magnitude
from engine.model.backend import keras, tf
from engine.model.heads import activation_name

RELU_FAMILY = ("relu", "relu6", "leaky_relu", "elu", "selu")
_RECTIFIER_LAYERS = ("ReLU", "LeakyReLU", "ELU")
_UNTOUCHED = ("linear",)  # the head never reaches the substitute: the probe linearises it first


def guided(fn, x):
    """fn(x) forward; backward f'(x) * ReLU(incoming gradient) (fn must be element-wise)."""

    @tf.custom_gradient
    def apply(value):
        with tf.GradientTape() as tape:
            tape.watch(value)
            result = fn(value)

        def grad(upstream):
            return tape.gradient(result, value, output_gradients=tf.nn.relu(upstream))

        return result, grad

    return apply(x)


@functools.cache
def _guided_layer_class() -> type:
    """The Keras layer class, defined on first use so that importing this module is cheap."""

    class GuidedActivation(keras.layers.Layer):
        """A weightless layer applying `fn` with guided gradients."""

        def __init__(self, fn, **kwargs) -> None:
            super().__init__(**kwargs)
            self.fn = fn

        def call(self, x):
            """fn(x), guided on the way back."""
            return guided(self.fn, x)

    return GuidedActivation


def guided_activation(fn, name: str):
    """A weightless Keras layer applying the element-wise `fn` with guided gradients."""
    return _guided_layer_class()(fn, name=name)


class _GuidedFused:
    """Calls a linear twin of a layer with a fused activation, then the guided activation."""

    def __init__(self, layer, activation) -> None:
        from engine.model.probe import LinearActivation

        self.linear = LinearActivation(layer)
        self.activation = guided_activation(activation, f"{layer.name}_guided")

    def __call__(self, *args, **kwargs):
        return self.activation(self.linear(*args, **kwargs))


class GuidedSubstitute:
    """The probe substitute: guided twins for ReLU-family activations, and a record of the
    activations it left alone (with their layer names)."""

    def __init__(self) -> None:
        self.replaced: list[str] = []
        self.skipped: list[str] = []

    def __call__(self, layer):
        kind, name = type(layer).__name__, activation_name(layer)
        if kind in _RECTIFIER_LAYERS:
            self.replaced.append(layer.name)
            return lambda x, *args, **kwargs: guided_activation(layer, f"{layer.name}_guided")(x)
        if kind == "PReLU":
            self.skipped.append(f"{layer.name} (PReLU)")
            return None
        if getattr(layer, "activation", None) is None or name in _UNTOUCHED:
            return None
        if name not in RELU_FAMILY:
            self.skipped.append(f"{layer.name} ({name})")
            return None
        self.replaced.append(layer.name)
        if kind == "Activation":
            return lambda x, *args, **kwargs: guided_activation(layer.activation, f"{layer.name}_guided")(x)
        return _GuidedFused(layer, layer.activation)

    def notes(self) -> tuple[str, ...]:
        """What the user should know about the replacement."""
        notes = []
        if self.skipped:
            shown = ", ".join(self.skipped[:8]) + (", ..." if len(self.skipped) > 8 else "")
            notes.append(f"guided backprop could not replace {len(self.skipped)} non-ReLU activation(s), "
                         f"whose gradients pass unguided: {shown}")
        if not self.replaced:
            notes.append("guided backprop found no ReLU-family activation: the map equals plain gradients")
        return tuple(notes)


class GuidedBackprop(Method):
    """Input gradients through guided ReLUs."""

    name = "guided-backprop"
    title = "Guided Backpropagation"
    needs_layer = False

    def _function(self, output: int):
        def build():
            substitute = GuidedSubstitute()
            run = input_gradients(self.context, output, variant="guided", substitute=substitute)
            return run, substitute.notes()

        return self.context.cached(("guided-backprop", output), build)

    def run(self, job: Job) -> RawMaps:
        """One compiled pass of guided gradients over the batch."""
        job.report(0, 1)
        run, notes = self._function(job.output)
        grads, logits, chosen = run(tf.constant(job.inputs), tf.constant(job.classes))
        grads = grads.numpy()
        job.report(1, 1)
        return RawMaps(magnitude(grads), logits.numpy(), chosen.numpy(), notes, grads)
