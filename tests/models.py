"""Tiny Keras models for the tests, built on the spot (never downloaded).

Every builder returns an un-compiled `keras.Model` with deterministic weights (the seed
argument fixes Keras' global random state first), small enough to build, save and
explain in well under a second. Other test files import them:

    from tests.models import tiny_cnn, save_model

Layer names are fixed so that tests can target them: the last convolution of
`tiny_cnn` is "conv2", the nested base network is called "base" and its last
convolution "base_conv2", output layers are called "predictions".
"""

from __future__ import annotations

from pathlib import Path

from engine.model.backend import keras

layers = keras.layers


def _seed(seed: int) -> None:
    keras.utils.set_random_seed(seed)


def save_model(model, folder: str | Path, name: str) -> Path:
    """Save `model` as `folder/name` (.keras or .h5, by the suffix of `name`) and return the path."""
    path = Path(folder) / name
    model.save(path)
    return path


def tiny_cnn(input_shape: tuple = (32, 32, 3), classes: int = 3, activation: str = "softmax",
             seed: int = 0):
    """Input -> conv1 (8) -> pool1 -> conv2 (16) -> GAP -> Dense(classes, activation) "predictions".

    The default CAM layer is "conv2" (layer index 3). Works with any input size and channel count.
    """
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_cnn")


def one_conv_model(input_shape: tuple = (32, 32, 3), filters: int = 6, conv_name: str = "conv1",
                   seed: int = 0):
    """Input -> one ReLU convolution `conv_name` -> GAP -> Dense(2, softmax): the smallest CAM model."""
    _seed(seed)
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=conv_name)(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax")(x))


def base_network(input_shape: tuple = (32, 32, 3), seed: int = 0, name: str = "base"):
    """A functional feature extractor (the usual transfer-learning base): two convolutions.

    Layers: base_input, base_conv1 (8 ch), base_pool, base_conv2 (16 ch, the last 4-D map 16x16).
    """
    _seed(seed)
    inputs = keras.Input(input_shape, name="base_input")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="base_conv1")(inputs)
    x = layers.MaxPooling2D(2, name="base_pool")(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="base_conv2")(x)
    return keras.Model(inputs, x, name=name)


def nested_sequential(input_shape: tuple = (32, 32, 3), classes: int = 3, seed: int = 0):
    """`Sequential([base, GAP, Dense(softmax)])` with a functional `base` as its first layer."""
    base = base_network(input_shape, seed)
    return keras.Sequential(
        [keras.Input(input_shape), base, layers.GlobalAveragePooling2D(name="gap"),
         layers.Dense(classes, activation="softmax", name="predictions")],
        name="nested_sequential",
    )


def nested_functional(input_shape: tuple = (32, 32, 3), classes: int = 3, seed: int = 0):
    """`Model(inp, Dense(GAP(base(inp))))`: the functional transfer-learning pattern."""
    base = base_network(input_shape, seed)
    inputs = keras.Input(input_shape, name="image")
    x = base(inputs)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="nested_functional")


def sequential_in_functional(input_shape: tuple = (32, 32, 3), classes: int = 3, seed: int = 0):
    """A functional model whose middle is a nested `Sequential` block named "block".

    Layers: image, stem (conv), block[block_conv (16 ch), block_bn], gap, predictions.
    """
    _seed(seed)
    block = keras.Sequential(
        [keras.Input((input_shape[0], input_shape[1], 8)),
         layers.Conv2D(16, 3, padding="same", activation="relu", name="block_conv"),
         layers.BatchNormalization(name="block_bn")],
        name="block",
    )
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    x = block(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="sequential_in_functional")


def sigmoid_model(input_shape: tuple = (32, 32, 3), seed: int = 0):
    """`tiny_cnn` with a one-unit sigmoid head: a two-class model (class 1 = the logit)."""
    return tiny_cnn(input_shape, classes=1, activation="sigmoid", seed=seed)


def multi_output_model(input_shape: tuple = (32, 32, 3), classes: tuple[int, int] = (3, 5),
                       seed: int = 0):
    """One trunk (conv1, conv2) and two softmax outputs "kind" and "grade" with different class counts."""
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    first = layers.Dense(classes[0], activation="softmax", name="kind")(x)
    second = layers.Dense(classes[1], activation="softmax", name="grade")(x)
    return keras.Model(inputs, [first, second], name="multi_output")


def dense_only_model(input_shape: tuple = (16, 16, 3), classes: int = 3, seed: int = 0):
    """Flatten -> Dense -> Dense(softmax): an image model without any 4-D layer (no CAMs)."""
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    x = layers.Dense(8, activation="relu", name="hidden")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="dense_only")


def lambda_model(input_shape: tuple = (16, 16, 3), classes: int = 3, seed: int = 0):
    """A CNN with a Lambda layer named "double_it" (executable content: refused in safe mode)."""
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Lambda(lambda t: t * 2.0, name="double_it")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="with_lambda")


def residual_bn_separable_model(input_shape: tuple = (32, 32, 3), classes: int = 4, seed: int = 0):
    """Conv + BatchNorm + ReLU stem, a residual block of SeparableConv2D with Add, then
    DepthwiseConv2D; ends in "post_act" (an Activation) before GAP and softmax."""
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_act")(x)
    shortcut = x
    y = layers.SeparableConv2D(8, 3, padding="same", activation="relu", name="sep1")(x)
    y = layers.SeparableConv2D(8, 3, padding="same", name="sep2")(y)
    x = layers.Add(name="add")([shortcut, y])
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", name="depthwise")(x)
    x = layers.BatchNormalization(name="post_bn")(x)
    x = layers.Activation("relu", name="post_act")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="residual_bn_separable")


def rescaling_model(input_shape: tuple = (32, 32, 3), classes: int = 3, seed: int = 0):
    """A CNN that rescales its own input (Rescaling 1/255): ConvScope should guess "none"."""
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="rescaling")


def squeezenet_like(input_shape: tuple = (32, 32, 3), classes: int = 4, seed: int = 0):
    """SqueezeNet's head: features (conv 16 ch) -> 1x1 "logits" conv with `classes` channels
    -> GAP -> Softmax. The default CAM layer must be "features", not the logits conv."""
    _seed(seed)
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="features")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Conv2D(classes, 1, activation="relu", name="conv10")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="squeezenet_like")


def keras2_h5(path: str | Path, input_shape: tuple = (32, 32, 3), classes: int = 3, seed: int = 0) -> Path:
    """Write an .h5 with Keras 2 (`tf_keras`, the legacy tf.keras) and return its path.

    A small Sequential CNN: conv1 (8) -> pool1 -> conv2 (16) -> GAP -> Dense(softmax)
    "predictions", as an old project would have saved it. Needs the test-only `tf_keras`.
    """
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    tk = tf_keras.layers
    model = tf_keras.Sequential([
        tk.InputLayer(input_shape=input_shape),
        tk.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
        tk.MaxPooling2D(2, name="pool1"),
        tk.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
        tk.GlobalAveragePooling2D(name="gap"),
        tk.Dense(classes, activation="softmax", name="predictions"),
    ], name="keras2_cnn")
    path = Path(path)
    model.save(path, save_format="h5")
    return path


def image(height: int = 48, width: int = 48, channels: int = 3, seed: int = 0, path: str = "<test>"):
    """A random `engine.images.decoding.LoadedImage` (RGB, or gray when `channels` is 1) of the given size."""
    import numpy as np

    from engine.images.decoding import LoadedImage

    rng = np.random.default_rng(seed)
    display = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if channels == 1:
        display[...] = display[..., :1]
    return LoadedImage(path, display, display.astype(np.float32), channels == 1, "uint8", 8)


def session(model, name: str = "model.keras", preprocessing: str | None = "unit", class_names=None):
    """An `engine.session.Session` on an in-memory model (no file), preprocessing "unit" by default."""
    from engine.model.sidecar import Sidecar
    from engine.session import Session

    names = tuple(class_names) if class_names else None
    return Session(model, name, Sidecar(class_names=names), preprocessing)
