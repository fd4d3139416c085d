"""Properties every method must have: Faster Score-CAM = Score-CAM on all channels, Integrated
Gradients completeness, guided backprop against a hand-written backward pass, one-unit
sigmoid heads, honest empty maps, one trace per compiled function, bounded and cancellable
chunks, and parameter checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.errors import Cancelled, MethodError
from engine.images.decoding import LoadedImage
from engine.methods import METHODS, common
from engine.model.backend import keras, tf
from engine.model.sidecar import Sidecar
from engine.session import Session

SIZE = 24


def _image(seed: int = 3, size: int = SIZE) -> LoadedImage:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((size, size, 3)).astype(np.float32), (0, 0), 1.5)
    pixels = (255 * (noise - noise.min()) / (noise.max() - noise.min())).astype(np.float32)
    return LoadedImage("blobs.png", pixels.astype(np.uint8), pixels, False, "uint8", 8)


def _cnn(units: int = 3, activation: str = "softmax", seed: int = 2):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(12, 3, padding="same", activation="relu", name="last")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(units, activation=activation, name="head",
                                 kernel_initializer=keras.initializers.RandomNormal(0, 2))(x)
    return keras.Model(inputs, outputs)


def _session(model, preprocessing: str = "unit") -> Session:
    return Session(model, "tiny.keras", Sidecar(preprocessing=preprocessing))


@pytest.fixture(scope="module")
def session():
    return _session(_cnn())


def test_faster_scorecam_with_all_channels_equals_scorecam(session):
    image = _image()
    full = session.explain(image, "scorecam", layer="last", class_index=1)
    faster = session.explain(image, "faster-scorecam", layer="last", class_index=1, top_n=12)
    np.testing.assert_allclose(faster.raw, full.raw, rtol=1e-5, atol=1e-6)
    assert full.raw.max() > 0


@pytest.mark.parametrize("preprocessing, baselines", [("unit", 0), ("symmetric", 0), ("unit", 2)])
def test_integrated_gradients_completeness(preprocessing, baselines):
    session = _session(_cnn(seed=4), preprocessing)
    image = _image(7)
    result = session.explain(image, "integrated-gradients", class_index=2, steps=128, baselines=baselines)
    x = session.model_input(image)[None]
    from engine.methods.integrated import baselines as make_baselines

    start_inputs = make_baselines(x.shape[1:], baselines, preprocessing)
    f_x = session.logits(x)[0, 2]
    f_b = session.logits(start_inputs)[:, 2].mean()
    assert result.raw.shape == (SIZE, SIZE, 3)
    assert abs(result.raw.sum() - (f_x - f_b)) <= 0.05 * abs(f_x - f_b)
    assert not any("integrated gradients" in note for note in result.notes)


def _guided_model():
    keras.utils.set_random_seed(9)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(inputs)
    x = keras.layers.Conv2D(5, 3, name="c2")(x)
    x = keras.layers.LeakyReLU(negative_slope=0.2, name="leaky")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(6, name="d1")(x)
    x = keras.layers.Activation("relu", name="act")(x)
    x = keras.layers.Dense(7, name="d2")(x)
    x = keras.layers.ReLU(name="relu_layer")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs)


def _hand_guided(model, x: np.ndarray, class_index: int) -> np.ndarray:
    """Guided backprop written out layer by layer: g_in = f'(z) * ReLU(g_out) at each activation."""
    get = model.get_layer
    w1, b1 = get("c1").get_weights()
    w2, b2 = get("c2").get_weights()
    (w3, b3), (w4, b4), (w5, _) = get("d1").get_weights(), get("d2").get_weights(), get("head").get_weights()
    x = tf.constant(x)
    z1 = tf.nn.conv2d(x, w1, 1, "VALID") + b1
    h1 = tf.nn.relu(z1)
    z2 = tf.nn.conv2d(h1, w2, 1, "VALID") + b2
    h2 = tf.where(z2 > 0, z2, 0.2 * z2)
    z3 = tf.reshape(h2, (1, -1)) @ w3 + b3
    z4 = tf.nn.relu(z3) @ w4 + b4
    g = w5[:, class_index][None]  # d logit / d h5
    g = np.maximum(g, 0) * (z4.numpy() > 0)  # ReLU layer
    g = g @ w4.T
    g = np.maximum(g, 0) * (z3.numpy() > 0)  # Activation("relu")
    g = (g @ w3.T).reshape(h2.shape)
    g = np.maximum(g, 0) * np.where(z2.numpy() > 0, 1.0, 0.2)  # LeakyReLU
    with tf.GradientTape() as tape:
        tape.watch(h1)
        conv2 = tf.nn.conv2d(h1, w2, 1, "VALID")
    g = tape.gradient(conv2, h1, output_gradients=tf.constant(g, tf.float32)).numpy()
    g = np.maximum(g, 0) * (z1.numpy() > 0)  # Conv2D(activation="relu")
    with tf.GradientTape() as tape:
        tape.watch(x)
        conv1 = tf.nn.conv2d(x, w1, 1, "VALID")
    return tape.gradient(conv1, x, output_gradients=tf.constant(g, tf.float32)).numpy()[0]


def test_guided_backprop_matches_hand_written_backward_pass():
    model = _guided_model()
    session = Session(model, "guided.keras", Sidecar(preprocessing="none"))
    rng = np.random.default_rng(1)
    pixels = rng.random((8, 8, 3)).astype(np.float32) * 255
    image = LoadedImage("x.png", pixels.astype(np.uint8), pixels, False, "uint8", 8)
    x = session.model_input(image)[None]
    for class_index in range(3):
        result = session.explain(image, "guided-backprop", class_index=class_index)
        expected = _hand_guided(model, x, class_index)
        assert np.abs(expected).max() > 0
        np.testing.assert_allclose(result.raw, expected, rtol=1e-4, atol=1e-6)
        assert result.notes == ()
        plain = session.explain(image, "saliency", class_index=class_index).raw
        assert not np.allclose(plain, result.raw)  # the guidance changed something


def test_guided_backprop_names_the_activations_it_could_not_replace():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, activation="gelu", name="gelu_conv")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="relu_conv")(x)
    x = keras.layers.Activation("swish", name="swish_act")(x)
    x = keras.layers.PReLU(name="prelu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    session = _session(keras.Model(inputs, outputs))
    result = session.explain(_image(), "guided-backprop")
    note = " ".join(result.notes)
    for name in ("gelu_conv (gelu)", "swish_act (silu)", "prelu (PReLU)"):
        assert name in note
    assert "relu_conv" not in note


def test_one_unit_sigmoid_head_gives_opposite_maps():
    session = _session(_cnn(units=1, activation="sigmoid", seed=6))
    image = _image(2)
    # Guided backprop is not in this list: rectifying the backward signal is not odd in it.
    for method in ("saliency", "smoothgrad", "integrated-gradients"):
        zero, one = (session.explain(image, method, class_index=c) for c in (0, 1))
        np.testing.assert_allclose(zero.raw, -one.raw, rtol=1e-4, atol=1e-6)
        assert zero.logit == pytest.approx(-one.logit)
        assert zero.probability + one.probability == pytest.approx(1.0)
    zero, one = (session.explain(image, "gradcam", layer="last", class_index=c) for c in (0, 1))
    assert np.all(zero.raw * one.raw == 0.0)  # ReLU(-S) and ReLU(S): disjoint supports
    assert zero.raw.max() > 0 and one.raw.max() > 0
    # LayerCAM splits each gradient by sign: the two maps differ by sum_k g_k A_k (A >= 0 here).
    from engine.methods.gradcam import cam_gradients

    activations, grads, _, _ = cam_gradients(session.context, "last", 0)(
        tf.constant(session.model_input(image)[None]), tf.constant([1], tf.int32))
    signed = tf.reduce_sum(grads * activations, axis=-1).numpy()[0]
    zero, one = (session.explain(image, "layercam", layer="last", class_index=c) for c in (0, 1))
    np.testing.assert_allclose(one.raw - zero.raw, signed, rtol=1e-4, atol=1e-7)


def test_a_map_without_positive_evidence_is_empty_not_nan():
    model = _cnn(units=2)
    head = model.layers[-1]
    kernel, bias = head.get_weights()
    kernel[:, 0] = -np.abs(kernel[:, 0]) - 0.1  # class 0 only ever loses from ReLU activations
    head.set_weights([kernel, bias])
    session = _session(model)
    for method in ("gradcam", "gradcam++", "layercam", "scorecam"):
        result = session.explain(_image(), method, layer="last", class_index=0)
        assert not np.isnan(result.heatmap).any()
        if method != "scorecam":  # Score-CAM's weights are probabilities, always positive
            assert result.empty and result.heatmap.max() == 0.0
            assert any("no positive evidence" in note for note in result.notes)


def test_class_indices_do_not_retrace(session):
    image = _image()
    for method in ("gradcam++", "layercam", "saliency", "scorecam", "integrated-gradients"):
        for class_index in range(3):
            session.explain(image, method, layer="last", class_index=class_index)
    context = session.context
    assert context.cached(("cam-gradients", "last", 0), None).experimental_get_tracing_count() == 1  # both CAMs
    assert context.cached(("input-gradients", 0, "plain"), None).experimental_get_tracing_count() == 1
    assert context.cached(("scorecam-scores", 0), None).experimental_get_tracing_count() == 1


def test_scorecam_chunks_report_progress_and_cancel(session, monkeypatch):
    monkeypatch.setattr(common, "MAX_CHUNK", 3)
    calls: list[tuple[int, int]] = []
    session.explain(_image(), "scorecam", layer="last", progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 12) and calls[-1] == (12, 12) and len(calls) == 5
    reported: list[int] = []

    def cancel() -> bool:
        return len(reported) >= 2

    with pytest.raises(Cancelled):
        session.explain(_image(), "integrated-gradients", steps=30,
                        progress=lambda d, t: reported.append(d), cancel=cancel)
    assert reported == [0, 3]


def test_chunk_size_bounds_memory():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((224, 224, 3))
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(512, 3, strides=16, padding="same", activation="relu")(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    context = _session(keras.Model(inputs, outputs)).context
    budget = 256 * 2**20
    size = common.chunk_size(context, (224, 224, 3), budget)
    per_row = 4 * (224 * 224 * 3 + 2 * 224 * 224 * 64)
    assert 1 <= size and size * per_row <= budget
    assert common.chunk_size(context, (224, 224, 3), 1) == 1


@pytest.mark.parametrize("method, params", [
    ("faster-scorecam", {"top_n": 0}), ("smoothgrad", {"samples": 0}), ("smoothgrad", {"noise": -1}),
    ("integrated-gradients", {"steps": 0}), ("integrated-gradients", {"baselines": -2}),
    ("saliency", {"top_n": 3}), ("saliency", {"guided": True}), ("gradcam", {"polarity": "positive"}),
    ("saliency", {"polarity": "sideways"}), ("saliency", {"clip_percentile": 120}),
])
def test_bad_parameters_are_refused(session, method, params):
    with pytest.raises(MethodError):
        session.explain(_image(), method, layer="last", **params)


def test_every_method_reports_its_parameters_and_time(session):
    for name, cls in METHODS.items():
        result = session.explain(_image(), name, layer="last" if cls.needs_layer else None)
        data = result.to_json()
        assert data["method"] == name and result.seconds > 0 and data["seconds"] == round(result.seconds, 4)
        assert {"guided", "edges", "emphasize", "outline", "polarity"} <= set(data["params"])
        assert {p.name for p in cls.parameters} <= set(data["params"])
        assert np.isfinite(result.heatmap).all() and result.heatmap.shape == (SIZE, SIZE)
