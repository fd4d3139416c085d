"""What the activation- and input-gradient methods do with their tensors, without a model (a
mutant costs a TensorFlow op, not a model build): Eigen-CAM's first-component projection against
scikit-learn's PCA (Muhammad & Yeasin 2020: the activations projected on their first principal
component), and the maps of saliency and gradient x input from given gradients."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from engine.methods.activation_cams import EigenCam, first_component_projection
from engine.methods.saliency import GradientInput, Saliency, magnitude
from engine.model.backend import tf


def _pca_map(activations: np.ndarray) -> np.ndarray:
    """Each image's (h*w, C) activations on their first principal component, signed to agree
    with the channel-mean map (the sign of a principal direction is arbitrary)."""
    maps = []
    for image in activations:
        h, w, c = image.shape
        matrix = image.reshape(h * w, c).astype(np.float64)
        projection = PCA(n_components=1, svd_solver="full").fit_transform(matrix)[:, 0]
        mean_map = matrix.mean(axis=1)
        if np.corrcoef(projection, mean_map)[0, 1] < 0:
            projection = -projection
        maps.append(projection.reshape(h, w))
    return np.stack(maps)


def _activations(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    blob = np.exp(-((np.arange(7)[:, None] - 2) ** 2 + (np.arange(9)[None, :] - 6) ** 2) / 4.0)
    channels = rng.normal(0, 1, 5)
    return np.stack([blob[..., None] * channels * k + rng.normal(0, 0.05, (7, 9, 5))
                     for k in (1.0, -2.0)]).astype(np.float32)  # two images, one of them negated


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eigen_cam_projects_each_image_on_its_own_first_principal_component(seed):
    activations = _activations(seed)
    ours = first_component_projection(tf.constant(activations)).numpy()
    np.testing.assert_allclose(ours, _pca_map(activations), atol=2e-4)
    eigen = EigenCam.project(tf.constant(activations)).numpy()
    np.testing.assert_allclose(eigen, np.maximum(_pca_map(activations), 0.0), atol=2e-4)  # its positive part


def test_eigen_cam_of_constant_activations_is_zero():
    activations = np.ones((1, 4, 4, 3), np.float32) * 2.5
    assert not np.any(np.abs(first_component_projection(tf.constant(activations)).numpy()) > 1e-6)


def test_saliency_is_the_largest_absolute_gradient_over_channels():
    grads = np.array([[[[0.2, -0.9, 0.1], [0.0, 0.3, -0.3]]]], np.float32)  # (1, 1, 2, 3)
    np.testing.assert_allclose(magnitude(grads), [[[0.9, 0.3]]])
    assert magnitude(grads.astype(np.float64)).dtype == np.float32
    np.testing.assert_array_equal(Saliency.attribute(grads, grads * 0), grads)  # the gradients themselves
    np.testing.assert_allclose(Saliency.show(grads), [[[0.9, 0.3]]])


def test_gradient_times_input_keeps_the_signed_product_and_shows_its_positive_mean():
    grads = np.array([[[[1.0, -2.0, 0.5]]]], np.float64)
    inputs = np.array([[[[3.0, 1.0, -4.0]]]], np.float64)
    attributions = GradientInput.attribute(grads, inputs)
    np.testing.assert_allclose(attributions, [[[[3.0, -2.0, -2.0]]]])
    assert attributions.dtype == np.float32
    shown = GradientInput.show(attributions)
    np.testing.assert_allclose(shown, [[[1.0]]])  # (3 + 0 + 0) / 3 channels
    assert shown.dtype == np.float32
