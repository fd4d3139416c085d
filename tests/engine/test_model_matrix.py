"""Every kind of model x every file format: load, describe, predict and explain end to end.

Each cell saves a tiny model, opens it with Session.open (safe mode), and checks that the
loaded model computes what the original does, that predictions are probabilities, and that
Grad-CAM on the default layer gives a finite [0, 1] map at the image's own size.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.session import Session
from tests.models import (
    image,
    multi_output_model,
    nested_functional,
    nested_sequential,
    rescaling_model,
    residual_bn_separable_model,
    save_model,
    sequential_in_functional,
    sigmoid_model,
    squeezenet_like,
    tiny_cnn,
)

# builder, expected default layer, classes of output 0
MODELS = {
    "tiny_cnn": (tiny_cnn, "conv2", 3),
    "nested_sequential": (nested_sequential, "base/base_conv2", 3),
    "nested_functional": (nested_functional, "base/base_conv2", 3),
    "sequential_in_functional": (sequential_in_functional, "block/block_bn", 3),
    "sigmoid": (sigmoid_model, "conv2", 2),
    "multi_output": (multi_output_model, "conv2", 3),
    "residual_bn_separable": (residual_bn_separable_model, "post_act", 4),
    "rescaling": (rescaling_model, "conv1", 3),
    "squeezenet_like": (squeezenet_like, "features", 4),
}


def _first_output(model, x):
    out = model(x)
    return (out[0] if isinstance(out, (list, tuple)) else out).numpy()


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_matrix(tmp_path, kind, suffix):
    builder, default_layer, classes = MODELS[kind]
    model = builder()
    path = save_model(model, tmp_path, kind + suffix)
    sess = Session.open(path)
    info = sess.info

    assert info.default_layer == default_layer
    assert len(info.class_names) == classes
    assert info.preprocessing == ("none" if kind == "rescaling" else "unit")
    assert info.preprocessing_source == "guess"
    assert info.params == model.count_params()

    img = image(37, 53, seed=1)
    x = sess.model_input(img)[None]
    np.testing.assert_allclose(_first_output(sess.model, x), _first_output(model, x), rtol=1e-5, atol=1e-6)

    top = sess.predict([img], top=classes)[0].top
    assert len(top) == classes
    assert sum(score.probability for score in top) == pytest.approx(1.0, abs=1e-5)
    assert [s.probability for s in top] == sorted((s.probability for s in top), reverse=True)

    result = sess.explain(img, "gradcam")
    assert result.layer == default_layer
    assert result.class_index == top[0].index
    assert result.heatmap.shape == (37, 53) and result.heatmap.dtype == np.float32
    assert np.isfinite(result.heatmap).all()
    assert result.heatmap.min() >= 0.0 and result.heatmap.max() <= 1.0
    assert result.empty == (not result.heatmap.any())


def test_keras2_nested_and_sigmoid(tmp_path):
    """tf.keras 2 files of the transfer-learning shapes: a base model inside a Sequential and
    a functional model, with a sigmoid head."""
    import tf_keras

    tk = tf_keras.layers

    def base():
        base_in = tk.Input((32, 32, 3))
        y = tk.Conv2D(8, 3, padding="same", activation="relu", name="b_conv1")(base_in)
        y = tk.BatchNormalization(name="b_bn")(y)
        y = tk.Conv2D(16, 3, padding="same", activation="relu", name="b_conv2")(y)
        return tf_keras.Model(base_in, y, name="base")

    tf_keras.utils.set_random_seed(1)
    sequential = tf_keras.Sequential([tk.InputLayer(input_shape=(32, 32, 3)), base(),
                                      tk.GlobalAveragePooling2D(), tk.Dense(1, activation="sigmoid")])
    inputs = tk.Input((32, 32, 3))
    pooled = tk.GlobalAveragePooling2D()(base()(inputs))
    functional = tf_keras.Model(inputs, tk.Dense(3, activation="softmax")(pooled))
    img = image(32, 32, seed=2)
    for name, model, classes in (("seq.h5", sequential, 2), ("fun.h5", functional, 3)):
        model.save(tmp_path / name, save_format="h5")
        sess = Session.open(tmp_path / name)
        assert sess.info.default_layer == "base/b_conv2"
        assert len(sess.info.class_names) == classes
        x = sess.model_input(img)[None]
        np.testing.assert_allclose(sess.model(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
        for cls in range(classes):
            result = sess.explain(img, "gradcam", "b_conv1", cls)
            assert result.layer == "base/b_conv1" and result.raw.shape == (32, 32)
            assert np.isfinite(result.heatmap).all()


def test_keras2_transfer_learning_mobilenet(tmp_path):
    """The usual tf.keras 2 transfer-learning file: keras.applications MobileNetV2 (random
    weights, nothing downloaded) as a nested base, then pooling and a softmax head, in .h5."""
    import tf_keras

    tf_keras.utils.set_random_seed(2)
    base = tf_keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                             weights=None)
    inputs = tf_keras.Input((32, 32, 3))
    x = tf_keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(3, activation="softmax")(x))
    model.save(tmp_path / "mobilenet.h5", save_format="h5")

    sess = Session.open(tmp_path / "mobilenet.h5")
    img = image(32, 32, seed=4)
    x_in = sess.model_input(img)[None]
    np.testing.assert_allclose(sess.model(x_in).numpy(), model(x_in).numpy(), rtol=1e-4, atol=1e-5)
    layer = sess.info.default_layer
    assert layer is not None and layer.startswith(base.name + "/")
    result = sess.explain(img, "gradcam")
    assert result.heatmap.shape == (32, 32) and np.isfinite(result.heatmap).all()
