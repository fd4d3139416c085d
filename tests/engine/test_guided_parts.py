"""Guided backpropagation's parts without a model: the guided gradient rule
(grad_in = f'(x) * ReLU(grad_out), Springenberg et al. 2015) on given tensors, which activation
each kind of Keras layer gets a guided twin for, and the notes about the ones left alone."""

from __future__ import annotations

import numpy as np
import pytest

from engine.methods.guided import GuidedSubstitute, guided
from engine.model.backend import keras, tf


def _guided_gradient(fn, x: np.ndarray, upstream: np.ndarray) -> np.ndarray:
    value = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(value)
        result = guided(fn, value)
    return tape.gradient(result, value, output_gradients=tf.constant(upstream)).numpy()


def test_a_guided_relu_passes_back_only_where_input_and_gradient_are_positive():
    x = np.array([2.0, 2.0, -1.0, -1.0, 0.5], np.float32)
    upstream = np.array([3.0, -3.0, 3.0, -3.0, 0.0], np.float32)
    np.testing.assert_allclose(_guided_gradient(tf.nn.relu, x, upstream), [3.0, 0.0, 0.0, 0.0, 0.0])


def test_a_guided_activation_keeps_its_forward_function_and_derivative():
    x = np.array([-2.0, -0.5, 1.5], np.float32)
    value = tf.constant(x)
    np.testing.assert_allclose(guided(tf.nn.elu, value).numpy(), tf.nn.elu(value).numpy())
    upstream = np.array([2.0, 2.0, 2.0], np.float32)  # all positive: f'(x) * upstream
    np.testing.assert_allclose(_guided_gradient(tf.nn.elu, x, upstream), 2.0 * np.array([np.exp(-2.0), np.exp(-0.5), 1.0]),
                               rtol=1e-6)


@pytest.mark.parametrize("layer", [keras.layers.ReLU(), keras.layers.ReLU(max_value=6.0), keras.layers.LeakyReLU(),
                                   keras.layers.ELU(), keras.layers.Activation("relu"), keras.layers.Activation("selu"),
                                   keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.Dense(2, activation="elu")],
                         ids=lambda layer: f"{type(layer).__name__}")
def test_every_rectifier_gets_a_guided_twin(layer):
    substitute = GuidedSubstitute()
    assert substitute(layer) is not None
    assert substitute.replaced == [layer.name] and substitute.skipped == []
    assert substitute.notes() == ()


@pytest.mark.parametrize(("layer", "named"), [(keras.layers.PReLU(), "PReLU"), (keras.layers.Activation("tanh"), "tanh"),
                                              (keras.layers.Dense(2, activation="gelu"), "gelu"),
                                              (keras.layers.Conv2D(2, 3, activation="sigmoid"), "sigmoid")])
def test_other_activations_are_left_alone_and_named(layer, named):
    substitute = GuidedSubstitute()
    assert substitute(layer) is None
    assert substitute.skipped == [f"{layer.name} ({named})"] and substitute.replaced == []


def test_linear_layers_and_layers_without_an_activation_are_not_counted():
    substitute = GuidedSubstitute()
    for layer in (keras.layers.Dense(2), keras.layers.Conv2D(2, 3, activation="linear"), keras.layers.Flatten()):
        assert substitute(layer) is None
    assert substitute.skipped == [] and substitute.replaced == []
    assert substitute.notes() == ("guided backprop found no ReLU-family activation: the map equals plain gradients",)


def test_the_note_names_the_first_eight_skipped_activations_and_counts_them_all():
    substitute = GuidedSubstitute()
    substitute(keras.layers.ReLU(name="r"))
    for k in range(9):
        substitute(keras.layers.Activation("tanh", name=f"t{k}"))
    shown = ", ".join(f"t{k} (tanh)" for k in range(8))
    assert substitute.notes() == (f"guided backprop could not replace 9 non-ReLU activation(s), whose gradients pass "
                                  f"unguided: {shown}, ...",)
    exactly_eight = GuidedSubstitute()
    exactly_eight(keras.layers.ReLU(name="r"))
    for k in range(8):
        exactly_eight(keras.layers.Activation("tanh", name=f"t{k}"))
    assert exactly_eight.notes()[0].endswith(f"unguided: {shown}")
