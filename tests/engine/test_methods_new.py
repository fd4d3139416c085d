"""The methods of issue 14 against independent implementations written here from the papers.

The references use plain Keras and tf.GradientTape on the test model (the target layer's
features model and the Dense head's weights: logits = mean_ij(A) @ W + b), scikit-learn's
PCA, scikit-image's resize (as RISE's authors' code) and numpy loops; no engine code apart
from the image's preprocessing, which both sides share. Three tiny models: a nested
transfer-learning model (layer inside the base), a one-unit sigmoid model (class 1 = the
logit, class 0 its negative) and a grayscale non-square one.

Agreement checked (the README's figures): at the layer's (or input's) grid, maps scaled to
a maximum of 1 agree within 1e-4 (gradient CAMs, Ablation-CAM, gradient x input, occlusion,
RISE with the authors' mask recipe) and 1e-3 (Eigen-CAM: float32 SVD against PCA in float64).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import Cancelled
from engine.model.backend import keras, tf
from tests.models import (
    image,
    nested_functional,
    residual_bn_separable_model,
    session,
    sigmoid_model,
    tiny_cnn,
)

TOL = 1e-4


class Parts:
    """A model, its session, one image, and the reference's pieces: features x -> A, head A -> logits."""

    def __init__(self, kind: str) -> None:
        if kind == "nested":
            self.model, self.layer = nested_functional(), "base/base_conv2"
            self.features = self.model.get_layer("base")
            shape = (40, 56, 3)
        elif kind == "sigmoid":
            self.model, self.layer = sigmoid_model(), "conv2"
            self.features = keras.Model(self.model.inputs[0], self.model.get_layer("conv2").output)
            shape = (40, 40, 3)
        else:
            self.model, self.layer = tiny_cnn((24, 40, 1), classes=3), "conv2"
            self.features = keras.Model(self.model.inputs[0], self.model.get_layer("conv2").output)
            shape = (30, 50, 1)
        self.binary = kind == "sigmoid"
        self.weights, self.bias = (np.asarray(w) for w in self.model.get_layer("predictions").get_weights())
        self.session = session(self.model)
        self.image = image(shape[0], shape[1], channels=shape[2], seed=3)
        self.x = self.session.model_input(self.image)[None]

    def logits(self, activations):
        """Pre-activation class scores from the layer's activations (one column per class)."""
        raw = tf.reduce_mean(activations, axis=(1, 2)) @ self.weights + self.bias
        return tf.concat([-raw, raw], axis=-1) if self.binary else raw

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """The model's own output (softmax, or the sigmoid as two classes), float64."""
        out = np.asarray(self.model(x, training=False), np.float64)
        return np.concatenate([1.0 - out, out], axis=-1) if self.binary else out

    def grads(self, class_index: int):
        """(A, dy_c/dA) for the image, numpy."""
        activations = tf.constant(self.features(self.x))
        with tf.GradientTape() as tape:
            tape.watch(activations)
            score = self.logits(activations)[:, class_index]
        return activations.numpy()[0], tape.gradient(score, activations).numpy()[0]

    def explain(self, method: str, class_index: int, **params):
        return self.session.explain(self.image, method, layer=self.layer if method not in INPUT_METHODS else None,
                                    class_index=class_index, **params)


INPUT_METHODS = ("occlusion", "rise", "gradient-input")
KINDS = ["nested", "sigmoid", "gray"]


@pytest.fixture(scope="module", params=KINDS)
def parts(request):
    return Parts(request.param)


def _scaled(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, np.float64)
    assert values.max() > 0, "the reference map is empty: pick another class or seed"
    return values / values.max()


def _class(parts: Parts) -> int:
    return int(np.argmax(parts.logits(parts.features(parts.x))[0]))


def _references(activations, grads):
    totals = activations.sum(axis=(0, 1))
    weights = np.divide((activations * grads).sum(axis=(0, 1)), totals, out=np.zeros_like(totals), where=totals != 0)
    return {
        "hirescam": np.maximum((grads * activations).sum(-1), 0),
        "gradcam-elementwise": np.maximum(grads * activations, 0).sum(-1),
        "xgradcam": np.maximum((activations * weights).sum(-1), 0),
    }


@pytest.mark.parametrize("method", ["hirescam", "gradcam-elementwise", "xgradcam"])
def test_gradient_cams_match_the_papers(parts, method):
    for class_index in range(2):
        activations, grads = parts.grads(class_index)
        theirs = _references(activations, grads)[method]
        if theirs.max() <= 0:
            continue  # no positive evidence for this class: nothing to compare
        ours = parts.explain(method, class_index)
        assert ours.class_index == class_index
        np.testing.assert_allclose(_scaled(ours.raw), _scaled(theirs), rtol=0, atol=TOL)


def test_eigencam_matches_pca(parts):
    from sklearn.decomposition import PCA

    activations = np.asarray(parts.features(parts.x))[0].astype(np.float64)
    flat = activations.reshape(-1, activations.shape[-1])
    projection = PCA(n_components=1, svd_solver="full").fit_transform(flat)[:, 0]
    if np.corrcoef(projection, flat.mean(axis=1))[0, 1] < 0:
        projection = -projection
    theirs = np.maximum(projection, 0).reshape(activations.shape[:2])
    ours = parts.explain("eigencam", 0)
    np.testing.assert_allclose(_scaled(ours.raw), _scaled(theirs), rtol=0, atol=1e-3)
    assert parts.explain("eigencam", 1).raw.tolist() == ours.raw.tolist()  # class-agnostic


def test_ablationcam_matches_the_paper(parts):
    class_index = _class(parts)
    activations = np.asarray(parts.features(parts.x))[0]
    score = float(parts.logits(activations[None])[0, class_index])
    weights = []
    for k in range(activations.shape[-1]):
        ablated = activations.copy()
        ablated[..., k] = 0.0
        weights.append((score - float(parts.logits(ablated[None])[0, class_index])) / abs(score))
    theirs = np.maximum(activations @ np.array(weights), 0)
    ours = parts.explain("ablationcam", class_index)
    np.testing.assert_allclose(_scaled(ours.raw), _scaled(theirs), rtol=0, atol=TOL)
    # unscaled too: weights divided by |y_c|, not multiplied (the normalised maps cannot tell)
    np.testing.assert_allclose(ours.raw, theirs, rtol=1e-3, atol=1e-4 * float(np.max(theirs)))


def test_ablation_tail_around_a_skip_connection():
    """The tail from `sep1` onward needs the image too (the shortcut bypasses sep1): checked
    against the model's own layers called by hand with channel k of sep1 zeroed."""
    model = residual_bn_separable_model()
    ours_session = session(model)
    picture = image(32, 32, seed=4)
    x = ours_session.model_input(picture)[None]
    layer = model.get_layer

    def logits_with(ablated_channel: int | None):
        shortcut = layer("stem_act")(layer("stem_bn")(layer("stem_conv")(x), training=False))
        a = np.array(layer("sep1")(shortcut))
        if ablated_channel is not None:
            a[..., ablated_channel] = 0.0
        y = layer("add")([shortcut, layer("sep2")(a)])
        y = layer("post_act")(layer("post_bn")(layer("depthwise")(y), training=False))
        dense = layer("predictions")
        return np.asarray(layer("gap")(y) @ dense.kernel + dense.bias)[0], a

    base, activations = logits_with(None)
    class_index = int(np.argmax(base))
    weights = [(base[class_index] - logits_with(k)[0][class_index]) / abs(base[class_index])
               for k in range(activations.shape[-1])]
    theirs = np.maximum(activations[0] @ np.array(weights), 0)
    ours = ours_session.explain(picture, "ablationcam", layer="sep1", class_index=class_index)
    np.testing.assert_allclose(_scaled(ours.raw), _scaled(theirs), rtol=0, atol=TOL)


def test_gradient_input_matches_the_tape(parts):
    class_index = _class(parts)
    x = tf.constant(parts.x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = parts.logits(parts.features(x))[:, class_index]
    theirs = (tape.gradient(score, x).numpy() * parts.x)[0]
    ours = parts.explain("gradient-input", class_index)
    np.testing.assert_allclose(ours.raw, theirs, rtol=1e-4, atol=1e-6 * np.abs(theirs).max())
    np.testing.assert_allclose(_scaled(np.maximum(ours.raw, 0).mean(-1)), _scaled(np.maximum(theirs, 0).mean(-1)),
                               rtol=0, atol=TOL)


def _occlusion_reference(parts: Parts, class_index: int, patch: int, stride: int) -> np.ndarray:
    x = parts.x[0]
    height, width, _ = x.shape
    base = parts.probabilities(parts.x)[0, class_index]
    ys = sorted(set(range(0, height - patch + 1, stride)) | {height - patch})
    xs = sorted(set(range(0, width - patch + 1, stride)) | {width - patch})
    total, count = np.zeros((height, width)), np.zeros((height, width))
    for top in ys:
        for left in xs:
            occluded = x.copy()
            occluded[top:top + patch, left:left + patch] = x.mean(axis=(0, 1))
            drop = base - parts.probabilities(occluded[None])[0, class_index]
            total[top:top + patch, left:left + patch] += drop
            count[top:top + patch, left:left + patch] += 1
    return total / count


def test_occlusion_matches_sliding_patches(parts):
    class_index = _class(parts)
    theirs = _occlusion_reference(parts, class_index, patch=8, stride=6)
    ours = parts.explain("occlusion", class_index, patch=8, stride=6, fill="mean")
    assert ours.raw.shape == (*parts.x.shape[1:3], 1)
    np.testing.assert_allclose(ours.raw[..., 0], theirs, rtol=0, atol=TOL * np.abs(theirs).max())


def _rise_reference(parts: Parts, class_index: int, count: int, side: int, keep: float, seed: int) -> np.ndarray:
    """The authors' generate_masks / explain (skimage resize, order 1, reflect), our seed recipe."""
    from skimage.transform import resize

    height, width = parts.x.shape[1:3]
    rng = np.random.default_rng(seed)
    grid = rng.random((count, side, side)) < keep
    cell = np.ceil(np.array([height, width]) / side).astype(int)
    shifts = rng.integers(0, cell, (count, 2))
    up = (side + 1) * cell
    masks = np.empty((count, height, width))
    for i in range(count):
        big = resize(grid[i].astype(float), up, order=1, mode="reflect", anti_aliasing=False)
        masks[i] = big[shifts[i, 0]:shifts[i, 0] + height, shifts[i, 1]:shifts[i, 1] + width]
    scores = parts.probabilities((parts.x * masks[..., None]).astype(np.float32))[:, class_index]
    # the paper's map, over the largest masked probability (ours weights by p_i / max p)
    return np.tensordot(scores, masks, axes=1) / count / keep / scores.max()


def test_rise_matches_the_authors_recipe(parts):
    class_index = _class(parts)
    theirs = _rise_reference(parts, class_index, count=300, side=5, keep=0.5, seed=7)
    ours = parts.explain("rise", class_index, masks=300, grid=5, keep=0.5, seed=7)
    np.testing.assert_allclose(ours.raw, theirs, rtol=0, atol=TOL * theirs.max())


@pytest.mark.parametrize("method, params", [("ablationcam", {}), ("occlusion", {"patch": 4, "stride": 2}),
                                            ("rise", {"masks": 200})])
def test_gradient_free_methods_chunk_report_and_cancel(monkeypatch, method, params):
    """A tiny memory budget gives one-row chunks: many progress reports, the same map, and a
    cancel stops the work within a chunk."""
    parts = Parts("gray")
    layer = None if method in INPUT_METHODS else parts.layer
    whole = parts.session.explain(parts.image, method, layer, **params)
    monkeypatch.setenv("CONVSCOPE_MEMORY_BUDGET_MB", "0.001")
    reports: list[tuple[int, int]] = []
    chunked = parts.session.explain(parts.image, method, layer, progress=lambda d, t: reports.append((d, t)),
                                    **params)
    # float32 rounding differs with the batch's composition: a few ulps of a probability
    np.testing.assert_allclose(chunked.raw, whole.raw, rtol=0, atol=1e-5 * np.abs(whole.raw).max() + 1e-7)
    assert len(reports) > 10 and reports[-1][0] == reports[-1][1]
    calls = []
    with pytest.raises(Cancelled):
        parts.session.explain(parts.image, method, layer, cancel=lambda: calls.append(1) or len(calls) > 3, **params)
    assert len(calls) == 4


def test_rise_is_seeded():
    parts = Parts("sigmoid")
    first = parts.explain("rise", 1, masks=50, seed=3).raw
    assert np.array_equal(first, parts.explain("rise", 1, masks=50, seed=3).raw)
    assert not np.array_equal(first, parts.explain("rise", 1, masks=50, seed=4).raw)


@pytest.mark.parametrize("fill", ["zero", "blur"])
def test_occlusion_fills(fill):
    parts = Parts("nested")
    result = parts.explain("occlusion", 0, patch=8, stride=8, fill=fill)
    assert result.raw.shape == (*parts.x.shape[1:3], 1) and np.isfinite(result.raw).all()


def _saturated_model():
    """Positive 3x3 features, GAP and a two-class softmax; the test sets the head so that class 1's
    logit is gain * (mean feature - t), t just below the test image's: the image is class 1 with
    p = 1, and any Score-CAM mask (in [0, 1], 0 somewhere) darkens it, so every masked input is
    class 0 with p_1 = exp(-huge) = 0 in float32."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((32, 32, 3))
    features = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="features",
                                   kernel_initializer=keras.initializers.RandomUniform(0.0, 0.2),
                                   bias_initializer="zeros")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(pooled)
    model = keras.Model(inputs, outputs)
    extractor = keras.Model(inputs, features)
    return model, extractor


def test_scorecam_is_not_blank_on_a_saturated_model():
    picture = image(32, 32, seed=8)
    model, extractor = _saturated_model()
    ours_session = session(model)
    x = ours_session.model_input(picture)[None]
    activations = np.asarray(extractor(x))[0]
    pooled = activations.mean(axis=(0, 1))
    threshold = float(pooled.mean()) * 0.999
    gain = 1e5
    model.get_layer("predictions").set_weights([np.stack([np.zeros(6), np.full(6, gain / 6)], axis=1),
                                                np.array([0.0, -gain * threshold])])
    assert float(np.asarray(model(x))[0, 1]) == 1.0
    # The reference: the paper's weights in float64 log space from our formula's definition.
    import cv2

    log_probabilities = []
    for k in range(activations.shape[-1]):
        up = cv2.resize(activations[..., k], (32, 32), interpolation=cv2.INTER_LINEAR)
        mask = (up - up.min()) / (up.max() - up.min())
        logits = np.asarray(extractor(x * mask[None, ..., None]), np.float64).mean(axis=(1, 2))[0] \
            @ np.stack([np.zeros(6), np.full(6, gain / 6)], axis=1) + np.array([0.0, -gain * threshold])
        log_probabilities.append(logits[1] - np.logaddexp(logits[0], logits[1]))
    log_probabilities = np.array(log_probabilities)
    assert np.all(np.exp(log_probabilities.astype(np.float32)) == 0.0), "the paper's weights must underflow here"
    theirs = np.maximum(activations @ np.exp(log_probabilities - log_probabilities.max()), 0)
    ours = ours_session.explain(picture, "scorecam", layer="features", class_index=1)
    assert not ours.empty and ours.raw.max() > 0
    assert any("underflows" in note for note in ours.notes)
    assert np.corrcoef(ours.raw.ravel(), theirs.ravel())[0, 1] >= 0.999


def test_scorecam_informative_probabilities_carry_no_note():
    parts = Parts("nested")
    result = parts.explain("scorecam", 0)
    assert not any(note.startswith("score-cam") for note in result.notes)
