"""Each CAM's combination of activations A and gradients g = dy/dA, against its paper's formula
written here in numpy (engine.methods.gradcam, gradient_cams, activation_cams): random
(B, h, w, C) activations, mostly ReLU'd like a convolution's, and signed gradients, with the cases the
formulas single out (a channel whose gradients are all zero, a channel that never fires).
No model is needed: the combinations are plain tensor functions."""

from __future__ import annotations

import numpy as np
import pytest

from engine.methods.activation_cams import first_component_projection
from engine.methods.gradcam import gradcam_map
from engine.methods.gradient_cams import (
    gradcam_elementwise_map,
    gradcam_plus_plus_map,
    hirescam_map,
    layercam_map,
    xgradcam_map,
)
from engine.model.backend import tf

SHAPE = (2, 5, 4, 6)  # two images: per-image sums over space must not mix them


def _inputs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    activations = np.maximum(rng.normal(0.2, 1.0, SHAPE), 0.0)
    grads = rng.normal(0.0, 1.0, SHAPE)
    activations[:, :, :, 1] = 0.0  # a channel that never fires
    activations[:, :, :, 3] = rng.normal(0.0, 1.0, SHAPE[:3])  # a layer output without ReLU is signed
    grads[:, :, :, 2] = 0.0  # a channel the score does not depend on
    grads[1] *= 3.0  # the second image's gradients on another scale
    return activations.astype(np.float32), grads.astype(np.float32)


def _combined(combine, activations: np.ndarray, grads: np.ndarray) -> np.ndarray:
    found = np.asarray(combine(tf.constant(activations), tf.constant(grads)))
    assert found.shape == SHAPE[:3]
    assert np.isfinite(found).all()
    return found


def _relu(x):
    return np.maximum(x, 0.0)


def _gradcam(a, g):
    return _relu((g.mean(axis=(1, 2), keepdims=True) * a).sum(axis=-1))


def _gradcam_plus_plus(a, g):
    """Chattopadhyay et al. 2018, eq. 19 with exp(score): alpha = g^2 / (2 g^2 + sum_ab A g^3),
    0 where g = 0; alphas normalised over space per channel; w = sum_ij alpha ReLU(g)."""
    g2, g3 = g.astype(np.float64) ** 2, g.astype(np.float64) ** 3
    denominator = 2 * g2 + a.sum(axis=(1, 2), keepdims=True) * g3
    alpha = np.where(g2 == 0, 0.0, g2 / np.where(g2 == 0, 1.0, denominator))
    norm = alpha.sum(axis=(1, 2), keepdims=True)
    alpha = np.where(norm == 0, 0.0, alpha / np.where(norm == 0, 1.0, norm))
    weights = (alpha * _relu(g)).sum(axis=(1, 2), keepdims=True)
    return _relu((weights * a).sum(axis=-1))


def _layercam(a, g):
    return _relu((_relu(g) * a).sum(axis=-1))


def _hirescam(a, g):
    return _relu((g * a).sum(axis=-1))


def _elementwise(a, g):
    return _relu(g * a).sum(axis=-1)


def _xgradcam(a, g):
    totals = a.sum(axis=(1, 2), keepdims=True)
    weights = np.where(totals == 0, 0.0, (a * g).sum(axis=(1, 2), keepdims=True) / np.where(totals == 0, 1, totals))
    return _relu((weights * a).sum(axis=-1))


FORMULAS = {
    "gradcam": (gradcam_map, _gradcam), "gradcam++": (gradcam_plus_plus_map, _gradcam_plus_plus),
    "layercam": (layercam_map, _layercam), "hirescam": (hirescam_map, _hirescam),
    "gradcam-elementwise": (gradcam_elementwise_map, _elementwise), "xgradcam": (xgradcam_map, _xgradcam),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
@pytest.mark.parametrize("seed", [0, 1])
def test_each_cam_is_its_papers_formula(name, seed):
    combine, formula = FORMULAS[name]
    activations, grads = _inputs(seed)
    expected = formula(activations, grads)
    assert expected.max() > 0 and (expected == 0).any()  # the ReLU both passes and cuts
    np.testing.assert_allclose(_combined(combine, activations, grads), expected, rtol=1e-4, atol=1e-5)


def test_the_cams_differ_from_one_another():
    """The formulas are distinct on these inputs, so a combination swapped for another shows."""
    activations, grads = _inputs()
    maps = {name: formula(activations, grads) for name, (_, formula) in FORMULAS.items()}
    names = sorted(maps)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not np.allclose(maps[first], maps[second], rtol=1e-3), (first, second)


def test_zero_gradients_give_an_empty_map_not_nan():
    activations, _ = _inputs()
    zeros = np.zeros(SHAPE, np.float32)
    for name, (combine, _) in FORMULAS.items():
        found = _combined(combine, activations, zeros)
        assert not found.any(), name


def _eigen(activations: np.ndarray) -> np.ndarray:
    """Centred (h*w, C) activations projected on their first right singular vector, signed to
    correlate positively with the per-position channel mean."""
    batch, height, width, channels = activations.shape
    found = np.zeros((batch, height, width))
    for i, image in enumerate(activations.astype(np.float64)):
        matrix = image.reshape(-1, channels)
        centred = matrix - matrix.mean(axis=0)
        projection = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
        mean_map = matrix.mean(axis=1)
        if np.sum((projection - projection.mean()) * (mean_map - mean_map.mean())) < 0:
            projection = -projection
        found[i] = projection.reshape(height, width)
    return found


@pytest.mark.parametrize("seed", [0, 4])
def test_eigencam_projects_on_the_first_principal_component(seed):
    activations, _ = _inputs(seed)
    activations[0] *= 0.5  # per image: another image's scale must not matter
    found = np.asarray(first_component_projection(tf.constant(activations)))
    assert found.shape == SHAPE[:3]
    expected = _eigen(activations)
    np.testing.assert_allclose(found, expected, rtol=1e-3, atol=1e-4)
    for image, projection in zip(activations, found, strict=True):  # the sign: along the channel mean
        assert np.corrcoef(projection.ravel(), image.mean(axis=-1).ravel())[0, 1] > 0


def test_eigencam_sign_follows_the_channel_mean_when_the_component_points_away():
    """Activations whose main direction of variation is anti-correlated with their mean: an
    unsigned SVD would show the background."""
    rng = np.random.default_rng(2)
    strong = rng.random((1, 6, 6, 1)).astype(np.float32) * 4.0
    activations = np.concatenate([strong, 5.0 - strong * 0.9, 0.1 * rng.random((1, 6, 6, 1), np.float32)], axis=-1)
    found = np.asarray(first_component_projection(tf.constant(activations)))[0]
    assert np.corrcoef(found.ravel(), activations[0].mean(axis=-1).ravel())[0, 1] > 0
    np.testing.assert_allclose(found, _eigen(activations)[0], rtol=1e-3, atol=1e-4)
