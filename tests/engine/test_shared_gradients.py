"""The gradient CAMs share one compiled function and one computation per (image, layer, class,
output) (issue 20, item 14): a Compare grid traces one graph, not one per method."""

from __future__ import annotations

import numpy as np

from engine.methods import METHODS
from engine.methods.gradcam import GradientCam
from tests.models import image, session, tiny_cnn

GRADIENT_CAMS = sorted(name for name, cls in METHODS.items() if issubclass(cls, GradientCam))


def _counting(sess, layer: str) -> list[int]:
    """Wrap the shared compiled function so that each computation is counted."""
    key = ("cam-gradients", layer, 0)
    compiled = sess.context._cache[key]
    calls: list[int] = []

    def counted(x, classes):
        calls.append(len(x))
        return compiled(x, classes)

    counted.experimental_get_tracing_count = compiled.experimental_get_tracing_count  # type: ignore[attr-defined]
    sess.context._cache[key] = counted
    return calls


def test_a_grid_of_gradient_cams_computes_the_gradients_once():
    """Guards: each method tracing and running its own graph (seconds on a new model's first grid)."""
    assert {"gradcam", "gradcam++", "layercam", "hirescam", "gradcam-elementwise", "xgradcam"} <= set(GRADIENT_CAMS)
    sess, picture = session(tiny_cnn(seed=3)), image(32, 32, seed=1)
    first = sess.explain(picture, "gradcam", "conv2")
    calls = _counting(sess, "conv2")
    grid = {name: sess.explain(picture, name, "conv2") for name in GRADIENT_CAMS}
    assert calls == [] and np.array_equal(grid["gradcam"].raw, first.raw)  # all from the first computation
    assert sess.context._cache[("cam-gradients", "conv2", 0)].experimental_get_tracing_count() == 1
    assert not [key for key in sess.context._cache if isinstance(key, tuple) and key[0] in GRADIENT_CAMS]
    other_class = (first.class_index + 1) % 3
    for name in GRADIENT_CAMS:
        sess.explain(picture, name, "conv2", other_class)
    assert calls == [1]  # a new class: one more computation for the whole grid


def test_the_shared_results_follow_the_image_and_the_class():
    """Guards: a cache keyed without the image's pixels or the class (stale maps)."""
    sess = session(tiny_cnn(seed=3))
    one, two = image(32, 32, seed=1), image(32, 32, seed=2)
    maps = {(s, c): sess.explain(p, "layercam", "conv2", c).raw for s, p in ((1, one), (2, two)) for c in (0, 1)}
    fresh = session(tiny_cnn(seed=3))
    for (seed, class_index), raw in maps.items():
        again = fresh.explain(one if seed == 1 else two, "layercam", "conv2", class_index).raw
        np.testing.assert_allclose(raw, again, rtol=1e-6, atol=1e-7)
    assert not np.allclose(maps[(1, 0)], maps[(2, 0)]) and not np.allclose(maps[(1, 0)], maps[(1, 1)])


def test_the_cache_is_bounded_in_entries_and_bytes(monkeypatch):
    """Guards: a cache that grows with every image reviewed (a lot review runs through it)."""
    from engine.methods import gradcam

    sess = session(tiny_cnn(seed=3))
    for seed in range(gradcam.RESULTS_KEPT + 3):
        sess.explain(image(32, 32, seed=seed), "gradcam", "conv2")
    assert len(sess.context._cache["cam-gradients/results"]) == gradcam.RESULTS_KEPT
    monkeypatch.setattr(gradcam, "RESULTS_BYTES", 1)
    calls = _counting(sess, "conv2")
    for name in GRADIENT_CAMS:
        sess.explain(image(32, 32, seed=99), name, "conv2")
    assert calls == [1] * len(GRADIENT_CAMS)  # too large to keep: computed for each method
