"""Probe models (engine.model.probe) on their own: heads and names of every output, the image
model check, linear twins of squashing heads, captured layers, and the tail from a layer
onward, each against what Keras itself computes. The methods' tests reach these only through
a Session; here each behaviour has a test that fails by itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import LayerError, ModelLoadError
from engine.model.heads import Head
from engine.model.probe import (
    LinearActivation,
    build_probe,
    build_tail,
    check_image_model,
    is_activation_layer,
    output_heads,
    output_names,
)
from tests.models import (
    keras,
    layers,
    multi_output_model,
    nested_sequential,
    sigmoid_model,
    tiny_cnn,
)


def _batch(shape=(2, 32, 32, 3), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _logits(model, x, dense: str = "predictions") -> np.ndarray:
    """The pre-activation of the Dense head, from Keras' own layers (kernel and bias)."""
    head = model.get_layer(dense)
    features = keras.Model(model.inputs[0], head.input)(x).numpy()
    kernel, bias = head.get_weights()
    return features @ kernel + bias


def test_heads_and_names_of_every_output_nested_ones_followed():
    # guards: the head taken from the wrong output, a nested model's head not followed inside
    assert output_heads(tiny_cnn(classes=4)) == (Head("softmax", 4),)
    assert output_heads(sigmoid_model()) == (Head("sigmoid", 1),)
    multi = multi_output_model(classes=(3, 5))
    assert output_heads(multi) == (Head("softmax", 3), Head("softmax", 5))
    assert output_names(multi) == ("kind", "grade")
    nested = nested_sequential(classes=2)
    assert output_heads(nested) == (Head("softmax", 2),) and output_names(nested) == ("predictions",)
    inputs = keras.Input((8, 8, 3))
    inner = keras.Model(inputs, layers.Dense(2, activation="sigmoid", name="inner_head")(layers.Flatten()(inputs)))
    outer_in = keras.Input((8, 8, 3))
    outer = keras.Model(outer_in, inner(outer_in))  # the output is a nested model's
    assert output_heads(outer) == (Head("sigmoid", 2),) and output_names(outer) == ("inner_head",)


def test_models_that_are_not_one_image_in_classes_out_are_refused_in_one_line():
    a, b = keras.Input((8, 8, 3)), keras.Input((8, 8, 3))
    two = keras.Model([a, b], layers.Dense(2)(layers.Flatten()(layers.Add()([a, b]))))
    with pytest.raises(ModelLoadError, match=r"^two.keras: the model has 2 inputs; ConvScope explains models with one image input$"):
        check_image_model(two, "two.keras")
    flat = keras.Input((12,))
    with pytest.raises(ModelLoadError, match=r"^m: the input shape \(None, 12\) is not an image"):
        check_image_model(keras.Model(flat, layers.Dense(2)(flat)), "m")
    image = keras.Input((8, 8, 3))
    with pytest.raises(ModelLoadError, match=r"^m: an output is not a \(batch, classes\) vector"):
        check_image_model(keras.Model(image, layers.Conv2D(2, 3)(image)), "m")
    check_image_model(tiny_cnn(), "fine")  # one image in, one vector out


@pytest.mark.parametrize("layer, expected", [
    (layers.Activation("relu"), True), (layers.ReLU(), True), (layers.LeakyReLU(), True),
    (layers.Softmax(), True), (layers.ELU(), True), (layers.Conv2D(2, 3), False), (layers.Dense(2), False),
    (layers.BatchNormalization(), False), (type("MyReLU", (layers.ReLU,), {})(), True),
])
def test_standalone_activation_layers_and_their_subclasses(layer, expected):
    assert is_activation_layer(layer) is expected


def test_a_linear_twin_is_the_layer_without_its_activation_built_once():
    # guards: the twin's weights not copied, a twin rebuilt on every call, an activation layer
    # or a layer without one (BatchNormalization) given a twin
    dense = layers.Dense(3, activation="softmax")
    x = _batch((4, 5))
    dense(x)
    twin = LinearActivation(dense)
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(twin(x).numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    built = twin.twin
    np.testing.assert_allclose(twin(x).numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert twin.twin is built
    assert LinearActivation(layers.Softmax())(x) is x
    norm = layers.BatchNormalization()
    norm(x)
    np.testing.assert_allclose(LinearActivation(norm)(x).numpy(), norm(x).numpy())


def test_a_probe_returns_the_targets_in_order_then_the_logits_of_the_chosen_output():
    model = multi_output_model(classes=(3, 5))
    x = _batch()
    probe = build_probe(model, ("conv2", "conv1"), output_index=1)
    conv2, conv1, logits = (t.numpy() for t in probe(x))
    np.testing.assert_allclose(conv1, keras.Model(model.inputs[0], model.get_layer("conv1").output)(x), rtol=1e-5)
    np.testing.assert_allclose(conv2, keras.Model(model.inputs[0], model.get_layer("conv2").output)(x), rtol=1e-5)
    np.testing.assert_allclose(logits, _logits(model, x, "grade"), rtol=1e-4, atol=1e-5)
    assert logits.shape == (2, 5)


def test_a_probe_reaches_into_a_nested_base_and_refuses_a_layer_off_the_path():
    model = nested_sequential(classes=2)
    x = _batch()
    features, logits = (t.numpy() for t in build_probe(model, ("base/base_conv2",))(x))
    base = model.get_layer("base")
    np.testing.assert_allclose(features, base(x).numpy(), rtol=1e-5)
    np.testing.assert_allclose(logits, _logits(model, x), rtol=1e-4, atol=1e-5)
    with pytest.raises(LayerError, match=r"^layer 'base/nowhere' is not on the path from the input to the output$"):
        build_probe(model, ("base/nowhere",))


def test_a_sigmoid_head_gives_its_logit():
    model = sigmoid_model()
    x = _batch()
    found = build_probe(model)(x)
    logits = (found[0] if isinstance(found, (list, tuple)) else found).numpy()
    np.testing.assert_allclose(logits, _logits(model, x), rtol=1e-4, atol=1e-5)
    probabilities = model(x).numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), probabilities, rtol=1e-5)


def test_the_tail_from_a_layer_gives_the_logits_of_its_activations():
    # guards: the tail rebuilt on the image instead of the layer's output, the wrong output's logits
    model = multi_output_model(classes=(3, 5))
    x = _batch()
    activations = keras.Model(model.inputs[0], model.get_layer("conv1").output)(x)
    for index, dense in ((0, "kind"), (1, "grade")):
        tail, takes_image = build_tail(model, "conv1", index)
        assert not takes_image
        np.testing.assert_allclose(tail(activations).numpy(), _logits(model, x, dense), rtol=1e-4, atol=1e-5)


def test_a_skip_around_the_layer_makes_the_tail_take_the_image_too():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    stem = layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    inner = layers.Conv2D(4, 3, padding="same", activation="relu", name="inner")(stem)
    merged = layers.Add(name="add")([stem, inner])  # the stem reaches the head around "inner"
    head = layers.Dense(3, activation="softmax", name="predictions")(layers.GlobalAveragePooling2D()(merged))
    model = keras.Model(inputs, head)
    x = _batch((2, 16, 16, 3))
    tail, takes_image = build_tail(model, "inner")
    assert takes_image
    activations = keras.Model(inputs, model.get_layer("inner").output)(x).numpy()
    np.testing.assert_allclose(tail([x, activations]).numpy(), _logits(model, x), rtol=1e-4, atol=1e-5)
    doubled = tail([x, 2 * activations]).numpy()  # the layer's part is replaced, the skip is not
    assert not np.allclose(doubled, _logits(model, x), atol=1e-4)


def test_an_output_of_unknown_width_counts_as_one_unit():
    inputs = keras.Input((8, 8, None))  # channels unknown: so is the pooled output's width
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(inputs))
    assert output_heads(model) == (Head("linear", 1),)


def test_the_replay_keeps_the_keyword_arguments_a_layer_was_called_with():
    # guards: a node's call arguments dropped (a BatchNormalization built with training=True
    # would switch to its moving statistics in the probe)
    keras.utils.set_random_seed(1)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="norm")(x, training=True)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax", name="predictions")(
        layers.GlobalAveragePooling2D()(x)))
    model.get_layer("norm").set_weights([np.full(4, 2.0), np.full(4, 0.5), np.full(4, 3.0), np.full(4, 9.0)])
    x = _batch((4, 16, 16, 3))
    logits = build_probe(model, ("norm",))(x)
    np.testing.assert_allclose(logits[1].numpy(), _logits(model, x), rtol=1e-4, atol=1e-5)
    batch_mean = logits[0].numpy().mean(axis=(0, 1, 2))
    np.testing.assert_allclose(batch_mean, np.full(4, 0.5), atol=1e-4)  # normalised by the batch: beta
    # a layer without an activation keeps its call arguments through its "linear twin" too
    twin = build_probe(model, ("norm",), substitute=lambda layer: LinearActivation(layer) if layer.name == "norm" else None)
    np.testing.assert_allclose(twin(x)[0].numpy(), logits[0].numpy(), rtol=1e-5, atol=1e-5)
