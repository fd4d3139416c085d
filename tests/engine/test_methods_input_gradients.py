"""The input-gradient methods against their papers' formulas, written here independently of
engine/methods (the gradient of the explained class's pre-activation logit, taken with a
GradientTape on the Keras layers' own weights):

- saliency (Simonyan et al. 2014, seed 004): max over channels of |d logit / d x|;
- SmoothGrad (Smilkov et al. 2017): the mean saliency over `samples` noisy copies
  x + N(0, sigma^2), sigma = noise * (max x - min x), the gradients read AT THE NOISY COPIES
  (the bug it guards against: gradients at the clean input, which makes SmoothGrad saliency);
- gradient x input (Shrikumar et al. 2016): x * d logit / d x, shown as its positive part
  averaged over channels;
- Integrated Gradients (Sundararajan et al. 2017, seed 004): (x - b) * the trapezoidal rule over
  steps + 1 points of the straight path, averaged over the baselines.

Each method runs on a batch of two images whose explained classes differ (one given, one the
predicted class), so that rows mixed up between images show.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.images.preprocessing import preprocess
from engine.methods import common
from engine.methods.base import Job
from engine.methods.integrated import BASELINE_SEED, baselines, trapezoid_weights
from engine.methods.saliency import NOISE_SEED, magnitude
from engine.model.backend import keras, tf
from tests.engine.test_methods_properties import SIZE, _cnn, _image, _session

CLASSES = np.array([2, -1], np.int32)  # an explicit class, then "the predicted one"


@pytest.fixture(scope="module")
def model():
    return _cnn(seed=5)


@pytest.fixture(scope="module")
def session(model):
    return _session(model)


@pytest.fixture(scope="module")
def inputs(session):
    return np.stack([session.model_input(_image(seed)) for seed in (1, 8)]).astype(np.float32)


def _logit_model(model):
    """x -> pre-activation logits: the head's Dense weights applied to the layer before it."""
    features = keras.Model(model.input, model.get_layer("head").input)
    kernel, bias = model.get_layer("head").get_weights()
    return lambda x: tf.matmul(features(x), kernel) + bias


def _reference_gradients(model, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """d logit_c / d x of each row, c = classes[row]."""
    logits_of = _logit_model(model)
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = tf.gather(logits_of(x), classes, batch_dims=1)
    return tape.gradient(scores, x).numpy()


def _explained_classes(model, x: np.ndarray) -> np.ndarray:
    """CLASSES with -1 replaced by the top class of the clean input."""
    top = np.argmax(_logit_model(model)(x).numpy(), axis=-1)
    return np.where(CLASSES < 0, top, CLASSES).astype(np.int32)


def _run(session, method: str, x: np.ndarray, progress=None, preprocessing: str = "unit", **params):
    worker = session.method(method)
    return worker.run(Job(x, CLASSES, None, 0, worker.params(params), progress, None, preprocessing))


def test_the_two_images_explain_different_classes(model, inputs):
    assert len(set(_explained_classes(model, inputs).tolist())) == 2  # else a row mix-up could hide


def test_magnitude_is_the_largest_absolute_channel():
    grads = np.array([[[[0.5, -2.0, 1.0]], [[-0.25, 0.0, 0.125]]]], np.float64)
    found = magnitude(grads)
    assert found.dtype == np.float32 and found.shape == (1, 2, 1)
    np.testing.assert_array_equal(found[0, :, 0], [2.0, 0.25])


def test_saliency_is_the_largest_absolute_gradient(session, model, inputs):
    chosen = _explained_classes(model, inputs)
    grads = _reference_gradients(model, inputs, chosen)
    calls: list[tuple[int, int]] = []
    raw = _run(session, "saliency", inputs, progress=lambda d, t: calls.append((d, t)))
    np.testing.assert_array_equal(raw.classes, chosen)
    np.testing.assert_allclose(raw.attributions, grads, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(raw.maps, np.abs(grads).max(axis=-1), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(raw.logits, _logit_model(model)(inputs).numpy(), rtol=1e-5, atol=1e-6)
    assert calls == [(0, 1), (1, 1)]


def test_gradient_x_input_is_the_positive_part_of_the_product(session, model, inputs):
    chosen = _explained_classes(model, inputs)
    product = inputs * _reference_gradients(model, inputs, chosen)
    raw = _run(session, "gradient-input", inputs)
    assert raw.attributions.dtype == np.float32 and raw.maps.dtype == np.float32
    np.testing.assert_allclose(raw.attributions, product, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(raw.maps, np.maximum(product, 0).mean(axis=-1), rtol=1e-4, atol=1e-8)
    assert (product < 0).any() and (product > 0).any()  # both signs present: the ReLU matters


def _reference_smoothgrad(model, x: np.ndarray, samples: int, noise: float):
    """(mean max|g|, mean g) over noisy copies, the same normal draws as the method's: its noise
    is seeded (NOISE_SEED) so that an image always gives the same map, drawn image by image."""
    chosen = _explained_classes(model, x)
    rows = np.repeat(np.arange(len(x)), samples)
    sigma = noise * (x.reshape(len(x), -1).max(axis=1) - x.reshape(len(x), -1).min(axis=1))
    draws = np.random.default_rng(NOISE_SEED).standard_normal((len(rows), *x.shape[1:]), dtype=np.float32)
    noisy = x[rows] + draws * sigma[rows, None, None, None].astype(np.float32)
    grads = _reference_gradients(model, noisy, chosen[rows]).reshape(len(x), samples, *x.shape[1:])
    return np.abs(grads).max(axis=-1).mean(axis=1), grads.mean(axis=1)


@pytest.mark.parametrize("chunk", [64, 3])
def test_smoothgrad_averages_saliency_over_noisy_copies(session, model, inputs, monkeypatch, chunk):
    monkeypatch.setattr(common, "MAX_CHUNK", chunk)  # chunks of 3 split an image's copies
    maps, mean_grads = _reference_smoothgrad(model, inputs, samples=5, noise=0.3)
    calls: list[tuple[int, int]] = []
    raw = _run(session, "smoothgrad", inputs, progress=lambda d, t: calls.append((d, t)), samples=5, noise=0.3)
    np.testing.assert_array_equal(raw.classes, _explained_classes(model, inputs))
    np.testing.assert_allclose(raw.maps, maps, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(raw.attributions, mean_grads, rtol=1e-4, atol=1e-6)
    assert raw.maps.dtype == np.float32 and raw.attributions.dtype == np.float32
    assert calls[0] == (0, 10) and calls[-1] == (10, 10)


def test_smoothgrad_reads_its_gradients_at_the_noisy_copies(session, model, inputs):
    """Planted bug: gradients taken at the clean input (SmoothGrad silently becomes saliency)."""
    plain = _run(session, "saliency", inputs)
    smooth = _run(session, "smoothgrad", inputs, samples=5, noise=0.3)
    assert np.abs(smooth.maps - plain.maps).max() > 0.1 * plain.maps.max()
    at_clean = np.abs(_reference_gradients(model, inputs, _explained_classes(model, inputs))).max(axis=-1)
    assert not np.allclose(smooth.maps, at_clean, rtol=1e-2)


def test_smoothgrad_explains_the_class_of_the_clean_input(inputs):
    """Every noisy copy explains the class predicted on the clean image, not its own top class
    (on this model, the noisy copies' top class is another one)."""
    model = _cnn(seed=2)
    noisy = inputs + np.float32(3.0) * np.random.default_rng(0).standard_normal(inputs.shape, dtype=np.float32)
    assert (np.argmax(_logit_model(model)(noisy).numpy(), -1) != _explained_classes(model, inputs)).all()
    raw = _run(_session(model), "smoothgrad", inputs, samples=6, noise=3.0)
    maps, _ = _reference_smoothgrad(model, inputs, samples=6, noise=3.0)
    np.testing.assert_allclose(raw.maps, maps, rtol=1e-4, atol=1e-6)


def test_trapezoid_weights_halve_both_ends():
    np.testing.assert_allclose(trapezoid_weights(4), [0.125, 0.25, 0.25, 0.25, 0.125])
    np.testing.assert_allclose(trapezoid_weights(1), [0.5, 0.5])
    assert trapezoid_weights(7).dtype == np.float32 and trapezoid_weights(7).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("mode", ["unit", "symmetric"])
def test_baselines_are_black_or_seeded_random_pixels(mode):
    black = baselines((4, 5, 3), 0, mode)
    assert black.shape == (1, 4, 5, 3) and black.dtype == np.float32
    np.testing.assert_array_equal(black, preprocess(np.zeros((1, 4, 5, 3), np.float32), mode))
    random = baselines((4, 5, 3), 3, mode)
    pixels = np.random.default_rng(BASELINE_SEED).random((3, 4, 5, 3), dtype=np.float32) * 255.0
    np.testing.assert_allclose(random, preprocess(pixels, mode), rtol=1e-6)
    assert len({r.tobytes() for r in random}) == 3  # three different baselines
    np.testing.assert_array_equal(baselines((4, 5, 3), 3, mode), random)  # reproducible


def test_baselines_of_a_non_image_input_stay_pixels():
    """An input with neither 1 nor 3 channels is not an image: no image preprocessing applies."""
    found = baselines((2, 2, 4), 2, "symmetric")
    pixels = np.random.default_rng(BASELINE_SEED).random((2, 2, 2, 4), dtype=np.float32) * 255.0
    np.testing.assert_allclose(found, pixels)
    black = baselines((2, 2, 4), 0, "symmetric")  # float32 like the inputs, or the compiled gradient refuses it
    assert black.dtype == np.float32 and black.shape == (1, 2, 2, 4) and not black.any()


def _reference_integrated(model, x: np.ndarray, starts: np.ndarray, steps: int) -> np.ndarray:
    """mean over baselines b of (x - b) * sum_k w_k grad(b + a_k (x - b)), trapezoidal w_k."""
    chosen = _explained_classes(model, x)
    alphas = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    found = np.zeros_like(x, np.float64)
    for b in starts:
        path = np.stack([b + a * (x - b) for a in alphas]).reshape(-1, *x.shape[1:]).astype(np.float32)
        grads = _reference_gradients(model, path, np.tile(chosen, len(alphas))).reshape(len(alphas), *x.shape)
        found += (x - b) * np.tensordot(weights, grads, axes=1)
    return found / len(starts)


@pytest.mark.parametrize("preprocessing, count, chunk", [("unit", 0, 64), ("symmetric", 2, 64), ("symmetric", 2, 5)])
def test_integrated_gradients_follow_the_trapezoidal_path_integral(session, model, inputs, monkeypatch,
                                                                   preprocessing, count, chunk):
    monkeypatch.setattr(common, "MAX_CHUNK", chunk)
    steps = 4
    x = preprocess(inputs * 255.0, preprocessing)  # the images as that preprocessing gives them
    starts = baselines(x.shape[1:], count, preprocessing)
    expected = _reference_integrated(model, x, starts, steps)
    calls: list[tuple[int, int]] = []
    raw = _run(session, "integrated-gradients", x, progress=lambda d, t: calls.append((d, t)),
               preprocessing=preprocessing, steps=steps, baselines=count)
    assert raw.attributions.dtype == np.float32 and raw.maps.dtype == np.float32
    np.testing.assert_allclose(raw.attributions, expected, rtol=2e-3, atol=1e-6)
    np.testing.assert_allclose(raw.maps, np.maximum(expected, 0).mean(axis=-1), rtol=2e-3, atol=1e-6)
    np.testing.assert_array_equal(raw.classes, _explained_classes(model, x))
    np.testing.assert_allclose(raw.logits, _logit_model(model)(x).numpy(), rtol=1e-5, atol=1e-6)
    total = len(x) * len(starts) * (steps + 1)
    assert calls[0] == (0, total) and calls[-1] == (total, total)


def _completeness_target(model, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """F(x) - mean over the baselines of F(b), per image (F: the explained class's logit)."""
    chosen = _explained_classes(model, x)
    logits_of = _logit_model(model)
    final = logits_of(x).numpy()[np.arange(len(x)), chosen]
    start = np.stack([logits_of(np.repeat(b[None], len(x), 0)).numpy()[np.arange(len(x)), chosen] for b in starts])
    return final - start.mean(axis=0)


def _completeness_gap(model, x: np.ndarray, attributions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """|sum of attributions - (F(x) - mean F(b))| / |F(x) - mean F(b)| per image."""
    target = _completeness_target(model, x, starts)
    return np.abs(attributions.reshape(len(x), -1).sum(axis=1) - target) / np.abs(target)


@pytest.mark.parametrize("count", [0, 2])
def test_integrated_gradients_note_an_incomplete_integral(session, model, inputs, count):
    """Completeness: the attributions sum to F(x) - F(baseline) within 5 % or a note says so."""
    starts = baselines(inputs.shape[1:], count, "unit")
    coarse = _run(session, "integrated-gradients", inputs, steps=1, baselines=count)
    gaps = _completeness_gap(model, inputs, coarse.attributions, starts)
    noted = [n for n in coarse.notes if n.startswith("integrated gradients: attributions sum to")]
    assert len(noted) == int((gaps > 0.05).sum()) >= 1
    assert "F(x) - F(baseline)" in noted[0] and noted[0].endswith("more steps would tighten the integral")
    # the note's figures: the attributions' sum and F(x) - mean F(b), at the baseline itself
    total, target = (float(v) for v in re.findall(r"(?:sum to|F\(baseline\) =) (\S+?)[;\s]", noted[0]))
    first = int(np.argmax(gaps > 0.05))
    assert total == pytest.approx(coarse.attributions[first].sum(), rel=1e-3)
    assert target == pytest.approx(_completeness_target(model, inputs, starts)[first], rel=1e-3)
    fine = _run(session, "integrated-gradients", inputs, steps=64, baselines=count)
    assert (_completeness_gap(model, inputs, fine.attributions, starts) <= 0.05).all() and fine.notes == ()


def test_shapes_follow_the_model_input(session, inputs):
    for method in ("saliency", "smoothgrad", "gradient-input", "integrated-gradients"):
        params = {"smoothgrad": {"samples": 2}, "integrated-gradients": {"steps": 2}}.get(method, {})
        raw = _run(session, method, inputs, **params)
        assert raw.maps.shape == (2, SIZE, SIZE) and raw.attributions.shape == (2, SIZE, SIZE, 3), method


@pytest.mark.parametrize("method, params", [("smoothgrad", {"samples": 5}), ("integrated-gradients", {"steps": 4})])
def test_chunks_hold_two_backward_rows_within_the_memory_budget(session, model, inputs, monkeypatch, method, params):
    """A row of a backward pass holds the input and the largest activation four times (its input
    and output, and their gradients): a budget of two such rows runs two rows at a time."""
    largest = max(int(np.prod(layer.output.shape[1:])) for layer in model.layers)
    per_row = 4 * (int(np.prod(inputs.shape[1:])) + 4 * largest)
    monkeypatch.setattr(common.memory, "budget_bytes", lambda: 2 * per_row + 1)
    monkeypatch.setattr(common, "CHUNK_SECONDS", float("inf"))  # no halving on a slow machine
    done: list[int] = []
    _run(session, method, inputs, progress=lambda d, t: done.append(d), **params)
    assert done == [0, 2, 4, 6, 8, 10]



def test_the_completeness_note_starts_just_past_five_percent():
    """At exactly 5 % of F(x) - F(b) no note (21 against 20: the gap is 1.0 = 0.05 x 20 exactly in
    binary floating point); just past it, a note; a target of 0 is measured against 1e-6."""
    from engine.methods.integrated import _completeness_notes

    def notes(total: float, target: float) -> tuple[str, ...]:
        return _completeness_notes(np.full((1, 1, 1, 1), total, np.float64), np.array([target]))

    assert notes(21.0, 20.0) == () and notes(19.0, 20.0) == ()
    assert len(notes(21.01, 20.0)) == 1 and len(notes(18.99, 20.0)) == 1
    assert notes(4e-8, 0.0) == () and len(notes(6e-8, 0.0)) == 1


def test_smoothgrads_noise_scales_with_each_images_own_value_range(session, model, inputs):
    """sigma = noise x (max - min) of each image (Smilkov et al.: noise level as a fraction of the
    range). The fixture's images span about [0, 1], where noise x range and noise / range agree:
    here one image spans 37 units and the other a tenth of one."""
    wide = np.stack([inputs[0] * 37.0, inputs[1] * 0.1]).astype(np.float32)
    spans = np.ptp(wide.reshape(2, -1), axis=1)
    assert spans[0] > 30 and spans[1] < 0.2
    maps, mean_grads = _reference_smoothgrad(model, wide, samples=3, noise=0.2)
    raw = _run(session, "smoothgrad", wide, samples=3, noise=0.2)
    np.testing.assert_allclose(raw.maps, maps, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(raw.attributions, mean_grads, rtol=1e-4, atol=1e-6)
