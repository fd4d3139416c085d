"""Cascading randomisation: the copy, the re-initialisation, the similarity measures, the rule."""

from __future__ import annotations

import numpy as np
import pytest

from engine.trust.sanity import (
    FAIL_CORRELATION,
    SanityStage,
    _judge,
    half_stage,
    map_ssim,
    rank_correlation,
)


def _spearman_by_formula(a: np.ndarray, b: np.ndarray) -> float:
    """1 - 6 sum d^2 / (n (n^2 - 1)) for values without ties."""
    ra, rb = np.argsort(np.argsort(a.ravel())), np.argsort(np.argsort(b.ravel()))
    n = a.size
    return 1.0 - 6.0 * float(np.sum((ra - rb) ** 2)) / (n * (n * n - 1))


def test_rank_correlation_matches_the_formula_and_is_zero_for_a_constant_map():
    rng = np.random.default_rng(0)
    a, b = rng.random((12, 12)), rng.random((12, 12))
    assert rank_correlation(a, b) == pytest.approx(_spearman_by_formula(a, b))
    assert rank_correlation(a, a ** 3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.zeros_like(a)) == 0.0


def test_ssim_known_answers():
    a = np.random.default_rng(1).random((32, 32))
    assert map_ssim(a, a) == pytest.approx(1.0)
    assert map_ssim(a, 1.0 - a) < 0.0


def test_rule_fails_a_map_that_stays_correlated_after_the_top_half():
    assert half_stage(8) == 4 and half_stage(3) == 2 and half_stage(1) == 1
    m = np.zeros((4, 4), np.float32)
    stays = (SanityStage("", m, 1.0, 1.0),) + tuple(SanityStage(f"l{i}", m, 0.9, 0.9) for i in range(4))
    drops = (SanityStage("", m, 1.0, 1.0), SanityStage("l0", m, 0.9, 0.9), SanityStage("l1", m, 0.1, 0.2),
             SanityStage("l2", m, 0.9, 0.9), SanityStage("l3", m, 0.9, 0.9))
    assert not _judge("x", 0, stays).passed
    judged = _judge("x", 0, drops)
    assert judged.passed and "l1" in judged.reason and str(FAIL_CORRELATION) in judged.reason
    border = (SanityStage("", m, 1.0, 1.0), SanityStage("l0", m, FAIL_CORRELATION, 0.5))
    assert not _judge("x", 0, border).passed


@pytest.mark.parametrize("builder", ["tiny_cnn", "nested_functional"])
def test_copy_and_reinitialise_leave_the_loaded_model_alone(builder):
    from engine.trust.sanity import copy_model, reinitialise, weighted_layers
    from tests import models

    model = getattr(models, builder)()
    before = [w.copy() for w in model.get_weights()]
    twin = copy_model(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, twin.get_weights(), strict=True))
    layers = weighted_layers(twin)
    assert [layer.name for layer in layers][-1] == "predictions" and len(layers) == 3
    for layer in layers:
        reinitialise(layer)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    dense = layers[-1]
    assert not np.array_equal(dense.kernel.numpy(), model.get_layer("predictions").kernel.numpy())
    assert np.all(dense.bias.numpy() == 0.0)  # biases re-initialised by their own (zeros) initialiser


def test_sanity_check_on_a_tiny_model(tmp_path):
    import cv2

    from engine import Session
    from engine.model.sidecar import Sidecar
    from engine.trust.sanity import sanity_check
    from tests.models import tiny_cnn

    session = Session(tiny_cnn(), "tiny.keras", Sidecar())
    before = [w.copy() for w in session.model.get_weights()]
    path = tmp_path / "x.png"
    cv2.imwrite(str(path), (np.random.default_rng(2).random((32, 32, 3)) * 255).astype(np.uint8))
    image = session.load_image(path)
    calls = []
    results = sanity_check(session, image, ["gradcam", "saliency"], class_index=1,
                           progress=lambda d, t: calls.append((d, t)))
    assert [r.method for r in results] == ["gradcam", "saliency"]
    for result in results:
        assert result.class_index == 1
        assert [s.layer for s in result.stages] == ["", "predictions", "conv2", "conv1"]
        assert result.stages[0].rank_correlation == 1.0 and result.stages[0].heatmap.shape == (32, 32)
        assert result.passed == (result.stages[2].rank_correlation < FAIL_CORRELATION)
        assert result.to_json()["verdict"] in ("pass", "fail")
    assert calls[-1] == (3, 3)
    assert all(np.array_equal(a, b) for a, b in zip(before, session.model.get_weights(), strict=True))
    again = session.explain(image, "gradcam", class_index=1).heatmap
    assert np.allclose(cv2.resize(again, (32, 32)), results[0].stages[0].heatmap, atol=1e-5)
