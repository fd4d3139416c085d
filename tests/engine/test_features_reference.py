"""Filter patterns and filter means against an eager reference written from seed 002's ascent
(engine.features.patterns' docstring): a sub-model cut at the layer with Keras' own API, one
GradientTape per filter, numpy for the step. Written from the survivors of a mutation run.

Per filter f and step k, on x in the model's preprocessed input space (x = scale * pixels + offset):
    objective = mean(features(roll(x, shift_k))[..., f]) - tv * TV(x)
    g = d objective / dx * scale                       (the gradient in pixel units)
    x <- x + scale * g / (sqrt(mean(g^2)) + 1e-5) * step_size
and every `blur_every` steps a Gaussian blur of x (reflected borders).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.features import patterns as F
from tests.models import session

LAYER = "conv1"


@pytest.fixture(scope="module")
def model():
    from engine.model.backend import keras

    keras.utils.set_random_seed(4)
    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name=LAYER)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


@pytest.fixture(scope="module")
def torch_session(model):
    return session(model, preprocessing="torch")  # per-channel slopes: the pixel scale matters


def _cut(model, layer: str, linear: bool):
    """The model from the input to `layer`'s output; with `linear`, the layer without its activation."""
    from engine.model.backend import keras

    target = model.get_layer(layer)
    if not linear:
        return keras.Model(model.inputs[0], target.output)
    twin = type(target).from_config({**target.get_config(), "activation": "linear"})
    output = twin(target.input)
    twin.set_weights(target.get_weights())
    return keras.Model(model.inputs[0], output)


def _total_variation(x):
    import tensorflow as tf

    return tf.reduce_mean(tf.abs(x[1:] - x[:-1])) + tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1]))


def _reference_ascent(model, layer, filters, settings: F.PatternSettings, mode: str, linear: bool = False):
    import tensorflow as tf

    cut = _cut(model, layer, linear)
    scale = F.pixel_scale(mode, 3).astype(np.float64)
    images = F.starting_noise(filters, settings.size, 3, mode, settings.seed).astype(np.float64)
    for k in range(settings.steps):
        shift = [int(s) for s in F._jitter_shift(settings, k)]
        for i, f in enumerate(filters):
            x = tf.Variable(images[i], dtype=tf.float32)
            with tf.GradientTape() as tape:
                rolled = tf.roll(x, shift, axis=[0, 1])
                objective = tf.reduce_mean(cut(rolled[None])[0, ..., f]) - settings.tv * _total_variation(x)
            g = tape.gradient(objective, x).numpy().astype(np.float64) * scale
            images[i] = images[i] + scale * g / (np.sqrt(np.mean(g ** 2)) + 1e-5) * settings.step_size
        if settings.blur_every and (k + 1) % settings.blur_every == 0:
            images = np.stack([cv2.GaussianBlur(image.astype(np.float32), (0, 0), settings.blur_sigma,
                                                borderType=cv2.BORDER_REFLECT) for image in images]).astype(np.float64)
    return images


@pytest.mark.parametrize("settings", [
    F.PatternSettings(size=24, steps=3, step_size=3.0, batch=2),
    F.PatternSettings(size=24, steps=4, step_size=2.0, jitter=3, blur_every=2, blur_sigma=0.8, tv=0.3, seed=5,
                      batch=2),
], ids=["plain", "regularised"])
def test_the_ascent_is_seed_002s_step_with_its_regularisers(model, torch_session, settings):
    # guards: the RMS over the batch or without its epsilon, the pixel scale applied once or
    # not at all, the TV term added instead of subtracted, the jitter rolled on other axes,
    # a blur on the wrong steps, a chunk of filters (batch=2 of 3) ascended with the wrong filters
    filters = [4, 0, 2]
    got = F.ascend(torch_session, LAYER, filters, settings)
    expected = _reference_ascent(model, LAYER, filters, settings, "torch")
    start = F.starting_noise(filters, settings.size, 3, "torch", settings.seed)
    moved = np.abs(expected - start).max()
    assert moved > 0.1  # the steps did move the images
    np.testing.assert_allclose(got, expected, atol=2e-3 * moved)


def test_pre_activation_ascends_the_layer_without_its_activation(model, torch_session):
    # guards: the linear twin not reaching the ascent (a ReLU filter silent on the noise stays put)
    settings = F.PatternSettings(size=24, steps=2, step_size=2.0, pre_activation=True)
    got = F.ascend(torch_session, LAYER, [1, 5], settings)
    expected = _reference_ascent(model, LAYER, [1, 5], settings, "torch", linear=True)
    np.testing.assert_allclose(got, expected, atol=2e-3 * np.abs(expected).max())


def test_filter_means_are_each_images_own_filters_mean(model, torch_session):
    # guards: the filters gathered for the wrong image, the mean over the channel axis, the
    # pre-activation switch not passed on
    rng = np.random.default_rng(0)
    images = rng.normal(0, 1, (3, 24, 24, 3)).astype(np.float32)
    filters = [5, 1, 3]
    for linear in (False, True):
        features = _cut(model, LAYER, linear)(images).numpy()
        expected = [features[i, ..., f].mean() for i, f in enumerate(filters)]
        got = F.filter_means(torch_session, LAYER, images, filters, pre_activation=linear)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert (_cut(model, LAYER, True)(images).numpy() < 0).any()  # the two variants do differ


def test_filter_patterns_are_the_ascent_deprocessed_with_the_chosen_contrast(torch_session):
    # guards: deprocessed with another mode or contrast, partial views of other images
    settings = F.PatternSettings(size=24, steps=4, contrast=0.25, partial_every=2)
    partial: list = []
    patterns = F.filter_patterns(torch_session, LAYER, [2, 3], settings, on_partial=partial.append)
    raw = F.ascend(torch_session, LAYER, [2, 3], settings)
    np.testing.assert_array_equal(patterns, F.deprocess(raw, "torch", 0.25))
    assert len(partial) == 2 and np.array_equal(partial[-1], patterns)


def test_filter_means_run_in_inference_mode():
    # guards: the extractor called in training mode (batch statistics instead of the model's)
    from engine.model.backend import keras

    keras.utils.set_random_seed(6)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    model.get_layer("norm").set_weights([np.full(4, 2.0), np.full(4, 0.5), np.full(4, 3.0), np.full(4, 4.0)])
    images = np.random.default_rng(1).normal(5, 2, (3, 16, 16, 3)).astype(np.float32)
    features = keras.Model(inputs, model.get_layer("norm").output)(images, training=False).numpy()
    got = F.filter_means(session(model, preprocessing="unit"), "norm", images, [0, 1, 3])
    np.testing.assert_allclose(got, [features[i, ..., f].mean() for i, f in enumerate([0, 1, 3])], rtol=1e-5)


def test_filter_means_of_images_too_small_for_the_free_size_copy():
    # guards: the size check skipped (a VALID convolution run on images it cannot take)
    from engine.model.backend import keras

    keras.utils.set_random_seed(7)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 5, name="c1")(inputs)
    x = keras.layers.Conv2D(4, 5, name="c2")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    small = np.random.default_rng(2).random((2, 6, 6, 3)).astype(np.float32)
    import tensorflow as tf

    resized = tf.image.resize(small, (16, 16)).numpy()  # the fallback: the fixed model on resized images
    features = keras.Model(inputs, model.get_layer("c2").output)(resized).numpy()
    got = F.filter_means(session(model, preprocessing="unit"), "c2", small, [1, 2])
    np.testing.assert_allclose(got, [features[0, ..., 1].mean(), features[1, ..., 2].mean()], rtol=1e-5)
