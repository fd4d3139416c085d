"""Grad-CAM against the keras.io reference (seed 000), through nested bases, on sigmoid,
multi-output, non-square and grayscale models; caching, and no mutation of the model."""

from __future__ import annotations

import numpy as np
import pytest

from bench.reference import make_gradcam_heatmap as keras_io_gradcam  # seed 000, line for line
from engine.errors import LayerError, MethodError
from engine.images.decoding import LoadedImage
from engine.model.backend import keras, tf
from tests.models import (
    dense_only_model,
    image,
    multi_output_model,
    nested_functional,
    nested_sequential,
    session,
    sigmoid_model,
    tiny_cnn,
)


def _corr(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _without_softmax(model):
    """The same network with a linear last Dense: the pre-softmax logits (weights shared by copy)."""
    logits = tiny_cnn(tuple(model.inputs[0].shape[1:]), model.outputs[0].shape[-1], activation="linear")
    logits.set_weights(model.get_weights())
    return logits


@pytest.fixture(scope="module")
def softmax_cnn():
    return tiny_cnn(classes=3, seed=11)


@pytest.fixture(scope="module")
def softmax_session(softmax_cnn):
    return session(softmax_cnn)


@pytest.mark.parametrize("class_index", [None, 0, 1, 2])
def test_matches_keras_io_reference_on_logits(softmax_cnn, softmax_session, class_index):
    img = image(32, 32, seed=3)
    x = softmax_session.model_input(img)[None]
    ours = softmax_session.explain(img, "gradcam", "conv2", class_index)
    predicted = int(np.argmax(softmax_cnn(x).numpy()[0]))
    wanted = predicted if class_index is None else class_index
    assert ours.class_index == wanted
    reference = keras_io_gradcam(x, _without_softmax(softmax_cnn), "conv2", wanted)
    if not ours.empty:
        assert _corr(ours.raw, reference) >= 0.999
        np.testing.assert_allclose(ours.raw / ours.raw.max(), reference, atol=1e-4)
    else:
        assert not np.any(reference > 0)


def test_softmax_reference_correlates_but_is_not_ours(softmax_cnn, softmax_session):
    """On the model *with* softmax, keras.io differentiates the probability: dp_c/dA =
    p_c (dz_c/dA - sum_j p_j dz_j/dA). The maps usually look alike but need not be equal;
    ConvScope uses logits, as Grad-CAM's paper does."""
    img = image(32, 32, seed=3)
    x = softmax_session.model_input(img)[None]
    ours = softmax_session.explain(img, "gradcam", "conv2")
    with_softmax = keras_io_gradcam(x, softmax_cnn, "conv2", ours.class_index)
    assert with_softmax.shape == ours.raw.shape
    assert np.isfinite(with_softmax).all()
    assert _corr(ours.raw, with_softmax) > 0.3  # alike (0.5-0.95 on random tiny models) ...
    assert np.abs(ours.raw / ours.raw.max() - with_softmax).max() > 1e-3  # ... but not the same map


def _head_logits(model, features):
    """GAP + the last Dense of a nested model, computed by hand (pre-activation)."""
    dense = model.get_layer("predictions")
    kernel, bias = dense.get_weights()
    return tf.reduce_mean(features, axis=(1, 2)) @ kernel + bias


@pytest.mark.parametrize("builder", [nested_sequential, nested_functional])
@pytest.mark.parametrize("target", ["base_conv1", "base_conv2"])
def test_nested_base_matches_hand_computed(builder, target):
    model = builder(seed=5)
    sess = session(model)
    img = image(32, 32, seed=9)
    x = tf.constant(sess.model_input(img)[None])
    base = model.get_layer("base")
    inner = keras.Model(base.inputs, [base.get_layer(target).output, base.output])
    with tf.GradientTape() as tape:
        activations, features = inner(x)
        logits = _head_logits(model, features)
        score = logits[:, 1]
    grads = tape.gradient(score, activations)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    expected = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))[0].numpy()

    ours = sess.explain(img, "gradcam", target, 1)
    assert ours.layer == f"base/{target}"
    np.testing.assert_allclose(ours.raw, expected, rtol=1e-4, atol=1e-5 * max(1.0, expected.max()))
    np.testing.assert_allclose(ours.logit, logits.numpy()[0, 1], rtol=1e-4, atol=1e-5)


def test_loaded_model_is_not_mutated():
    model = tiny_cnn(seed=2)
    x = np.random.default_rng(0).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)
    weights_before = [w.copy() for w in model.get_weights()]
    output_before = model(x).numpy()
    sess = session(model)
    for layer in ("conv1", "conv2"):
        sess.explain(image(32, 32), "gradcam", layer)
    sess.predict([image(32, 32)])
    assert model.layers[-1].activation.__name__ == "softmax"
    for before, after in zip(weights_before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model(x).numpy(), output_before)
    np.testing.assert_allclose(output_before.sum(axis=1), 1.0, rtol=1e-5)


def test_sigmoid_head_is_two_classes_with_opposite_evidence():
    model = sigmoid_model(seed=4)
    sess = session(model)
    assert sess.info.class_names == ("class 0", "class 1")
    img = image(32, 32, seed=1)
    x = sess.model_input(img)[None]
    p = float(model(x).numpy()[0, 0])
    prediction = sess.predict([img], top=2)[0]
    probabilities = {s.index: s.probability for s in prediction.top}
    np.testing.assert_allclose([probabilities[0], probabilities[1]], [1 - p, p], rtol=1e-5, atol=1e-6)

    # The class-1 map before ReLU is S = sum_k w_k A_k; class 0 has weights -w_k, so -S.
    probe = keras.Model(model.inputs, [model.get_layer("conv2").output, model.get_layer("gap").output])
    with tf.GradientTape() as tape:
        activations, pooled = probe(tf.constant(x))
        logit = _head_logits(model, activations)[:, 0]
    weights = tf.reduce_mean(tape.gradient(logit, activations), axis=(1, 2), keepdims=True)
    signed = tf.reduce_sum(weights * activations, axis=-1)[0].numpy()
    assert (signed > 0).any() and (signed < 0).any()  # this input has evidence for both classes

    one = sess.explain(img, "gradcam", "conv2", 1)
    zero = sess.explain(img, "gradcam", "conv2", 0)
    tolerance = 1e-5 * np.abs(signed).max()
    np.testing.assert_allclose(one.raw, np.maximum(signed, 0), atol=tolerance)
    np.testing.assert_allclose(zero.raw, np.maximum(-signed, 0), atol=tolerance)
    assert not np.any((one.raw > tolerance) & (zero.raw > tolerance))  # disjoint evidence
    assert not one.empty and not zero.empty
    np.testing.assert_allclose(one.logit, -zero.logit, rtol=1e-6)


def test_sigmoid_class_without_evidence_is_empty_not_nan():
    model = sigmoid_model(seed=4)
    dense = model.get_layer("predictions")
    kernel, bias = dense.get_weights()
    dense.set_weights([np.abs(kernel) + 0.01, bias])  # every ReLU channel pushes towards class 1
    sess = session(model)
    img = image(32, 32, seed=2)
    one = sess.explain(img, "gradcam", "conv2", 1)
    zero = sess.explain(img, "gradcam", "conv2", 0)
    assert not one.empty and one.raw.max() > 0 and one.heatmap.max() > 0.5
    assert zero.empty and any("no positive evidence" in note for note in zero.notes)
    assert np.isfinite(zero.heatmap).all() and not zero.heatmap.any()
    assert zero.heatmap.shape == (32, 32)


@pytest.mark.parametrize("input_shape, image_size", [((40, 64, 3), (100, 150)), ((48, 32, 1), (70, 45))])
def test_non_square_and_grayscale_models_full_resolution(input_shape, image_size):
    sess = session(tiny_cnn(input_shape, classes=2, seed=8))
    img = image(*image_size, channels=3, seed=6)
    result = sess.explain(img, "gradcam")
    assert result.layer == "conv2"
    assert result.raw.shape == (input_shape[0] // 2, input_shape[1] // 2)
    assert result.heatmap.shape == image_size and result.heatmap.dtype == np.float32
    assert 0.0 <= result.heatmap.min() and result.heatmap.max() <= 1.0
    assert np.isfinite(result.heatmap).all()


def test_compiled_once_per_layer_and_output(softmax_session):
    sess = softmax_session
    sess.explain(image(32, 32, seed=0), "gradcam", "conv1")
    keys = set(sess.context._cache)
    function = sess.context._cache[("cam-gradients", "conv1", 0)]  # shared by the gradient CAMs
    traces = function.experimental_get_tracing_count()
    assert traces == 1
    for seed, cls in ((1, None), (2, 0), (3, 2)):
        sess.explain(image(40 + seed, 30, seed=seed), "gradcam", "conv1", cls)
    sess.explain_batch([image(32, 32, seed=4), image(32, 32, seed=5)], "gradcam", "conv1", [1, None])
    assert set(sess.context._cache) == keys
    assert function.experimental_get_tracing_count() == traces


def test_multi_output_uses_the_chosen_output():
    model = multi_output_model(classes=(3, 5), seed=6)
    sess = session(model)
    assert sess.info.output_names == ("kind", "grade")
    assert [h.class_count for h in sess.info.heads] == [3, 5]
    img = image(32, 32, seed=7)
    x = sess.model_input(img)[None]
    grade = model(x)[1].numpy()[0]
    result = sess.explain(img, "gradcam", "conv2", 4, output=1)
    assert result.class_index == 4
    np.testing.assert_allclose(result.probability, grade[4], rtol=1e-4)
    predicted = sess.explain(img, "gradcam", "conv2", None, output=1)
    assert predicted.class_index == int(np.argmax(grade))
    assert sess.predict([img], top=5, output=1)[0].best.index == int(np.argmax(grade))
    with pytest.raises(MethodError, match="out of range"):
        sess.explain(img, "gradcam", "conv2", 4, output=0)


def test_no_spatial_layer_means_no_cam():
    sess = session(dense_only_model())
    assert sess.info.default_layer is None
    assert any("CAMs are unavailable" in w for w in sess.info.warnings)
    with pytest.raises(LayerError, match="CAMs are unavailable") as info:
        sess.explain(image(16, 16), "gradcam")
    assert "\n" not in str(info.value)
    with pytest.raises(LayerError, match="4-D"):
        sess.explain(image(16, 16), "gradcam", "hidden")


def test_constant_image_gives_finite_maps(softmax_session):
    flat = np.full((32, 32, 3), 128, np.uint8)
    img = LoadedImage("flat", flat, flat.astype(np.float32), False, "uint8", 8)
    result = softmax_session.explain(img, "gradcam", "conv2")
    assert np.isfinite(result.heatmap).all() and np.isfinite(result.raw).all()


def test_a_score_that_ignores_the_input_is_called_flat_not_missing_evidence():
    model = tiny_cnn(seed=5)
    dense = model.get_layer("predictions")
    kernel, bias = dense.get_weights()
    dense.set_weights([np.abs(kernel) * 1e-12, bias])  # positive but vanishing evidence for every class
    explanation = session(model).explain(image(32, 32, seed=3), "gradcam", "conv2", 0)
    assert explanation.empty and 0 < explanation.raw.max() < 1e-6
    assert np.isfinite(explanation.heatmap).all() and not explanation.heatmap.any()
    assert any("flat" in note and "barely depends on the input" in note for note in explanation.notes)
