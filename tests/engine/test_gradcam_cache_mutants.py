"""The gradient CAMs' shared activations and gradients (issue 20, item 14): computed once per
(images, classes, layer, output) and kept for the next method, the last RESULTS_KEPT batches
within RESULTS_BYTES. A stand-in compiled function counts the passes, so no model is built; and
the multi-layer pass's progress and map type on a fake probe."""

from __future__ import annotations

import numpy as np
import pytest

from engine.methods import gradcam
from engine.methods.base import Job
from engine.model.backend import tf


class _Context:
    def __init__(self) -> None:
        self.cache: dict = {}

    def cached(self, key, build):
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]


@pytest.fixture
def passes(monkeypatch):
    """The compiled passes made, as (layer, output, batch size); each returns (A, dy/dA, logits, chosen)
    with A of `side` x `side` x 4 float32 per image."""
    made: list[tuple] = []

    def cam_gradients(context, layer, output):
        def run(x, classes):
            made.append((layer, output, int(x.shape[0])))
            side = context.side
            activations = tf.ones((x.shape[0], side, side, 4))
            return activations, activations * 2, tf.zeros((x.shape[0], 3)), classes

        return run

    monkeypatch.setattr(gradcam, "cam_gradients", cam_gradients)
    return made


def _inputs(seed: int, count: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 8, 8, 3)).astype(np.float32)


def test_the_same_batch_class_layer_and_output_is_computed_once(passes):
    context = _Context()
    context.side = 2
    x, classes = _inputs(0), np.array([1])
    first = gradcam.layer_gradients(context, x, classes, "conv", 0)
    again = gradcam.layer_gradients(context, x.copy(), classes.copy(), "conv", 0)
    assert passes == [("conv", 0, 1)] and again is first
    for other in ((x, np.array([2]), "conv", 0), (x, classes, "conv2", 0), (x, classes, "conv", 1),
                  (_inputs(1), classes, "conv", 0), (x.astype(np.float64), classes, "conv", 0)):
        gradcam.layer_gradients(context, *other)
    assert len(passes) == 6  # another class, layer, output, image or dtype is another pass


def test_the_last_four_batches_are_kept_and_a_used_one_stays(passes):
    context = _Context()
    context.side = 2
    batches = [_inputs(seed) for seed in range(6)]
    for x in batches[:4]:
        gradcam.layer_gradients(context, x, np.array([0]), "conv", 0)
    gradcam.layer_gradients(context, batches[0], np.array([0]), "conv", 0)  # used again: the newest
    gradcam.layer_gradients(context, batches[4], np.array([0]), "conv", 0)  # evicts batch 1, the oldest
    assert len(passes) == 5
    gradcam.layer_gradients(context, batches[0], np.array([0]), "conv", 0)
    assert len(passes) == 5  # still kept
    gradcam.layer_gradients(context, batches[1], np.array([0]), "conv", 0)
    assert len(passes) == 6  # was evicted
    assert len(context.cache["cam-gradients/results"]) == gradcam.RESULTS_KEPT


def test_kept_batches_stay_within_the_byte_budget_and_a_larger_one_is_not_kept(passes, monkeypatch):
    context = _Context()
    context.side = 4  # one image: 4 * 4 * 4 float32 = 256 bytes of A, 512 with dy/dA
    monkeypatch.setattr(gradcam, "RESULTS_BYTES", 1024)
    first, second = _inputs(0), _inputs(1)
    gradcam.layer_gradients(context, first, np.array([0]), "conv", 0)
    gradcam.layer_gradients(context, second, np.array([0]), "conv", 0)  # 1024 bytes together: both kept
    gradcam.layer_gradients(context, first, np.array([0]), "conv", 0)
    assert len(passes) == 2
    gradcam.layer_gradients(context, _inputs(2), np.array([0]), "conv", 0)  # over the budget: the oldest goes
    kept = context.cache["cam-gradients/results"]
    assert len(kept) == 2 and sum(gradcam._size(r) for r in kept.values()) <= 1024
    big = _inputs(3, count=3)  # 1536 bytes alone: computed, never kept
    gradcam.layer_gradients(context, big, np.zeros(3, int), "conv", 0)
    gradcam.layer_gradients(context, big, np.zeros(3, int), "conv", 0)
    assert [p[2] for p in passes].count(3) == 2 and len(kept) == 2


def test_a_cached_batchs_size_counts_activations_and_gradients():
    activations = tf.zeros((2, 3, 5, 7), tf.float32)
    assert gradcam._size((activations,)) == 2 * 2 * 3 * 5 * 7 * 4


def test_a_multi_layer_pass_reports_progress_and_gives_float32_maps(monkeypatch):
    """run_layers (fused maps): one compiled pass for several layers, progress 0 of 1 then 1 of 1."""
    reports: list[tuple[int, int]] = []
    job = Job(_inputs(0, 2), np.array([-1, 1], np.int32), "a,b", progress=lambda d, t: reports.append((d, t)))
    method = gradcam.GradCam.__new__(gradcam.GradCam)

    def layers_function(self, job, layers):
        assert layers == ("a", "b")
        return lambda x, classes: ([tf.ones((2, 3, 3), tf.float64), tf.zeros((2, 2, 2), tf.float64)],
                                   tf.constant([[0.0, 1.0], [2.0, 0.0]]), tf.constant([1, 1]))

    monkeypatch.setattr(gradcam.GradCam, "_layers_function", layers_function)
    maps = method.run_layers(job, ("a", "b"))
    assert reports == [(0, 1), (1, 1)]
    assert [m.maps.shape for m in maps] == [(2, 3, 3), (2, 2, 2)] and all(m.maps.dtype == np.float32 for m in maps)
    np.testing.assert_array_equal(maps[1].classes, [1, 1])
    np.testing.assert_array_equal(maps[0].logits, [[0.0, 1.0], [2.0, 0.0]])


def test_a_batch_of_exactly_the_byte_budget_is_kept(passes, monkeypatch):
    context = _Context()
    context.side = 4
    monkeypatch.setattr(gradcam, "RESULTS_BYTES", 1024)
    pair = _inputs(5, count=2)  # 2 images * 512 bytes: the budget exactly
    gradcam.layer_gradients(context, pair, np.zeros(2, int), "conv", 0)
    gradcam.layer_gradients(context, pair, np.zeros(2, int), "conv", 0)
    assert len(passes) == 1
