"""The numpy parts of occlusion and RISE, against libraries that define the same operation:
what an occluding patch shows (`fill_values`: zeros, the image's channel means, or a Gaussian
blur with mirrored edges, scipy.ndimage's) and RISE's mask upsampling (`interpolation_matrix`:
scikit-image's order-1 resize with mirrored edges, the RISE authors' recipe). Model-free, so
a mutant costs milliseconds; the methods themselves are checked on models in
test_methods_new.py and test_saturated.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.transform import resize

from engine.methods.perturbation import fill_values, interpolation_matrix


def _images(channels: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    return rng.random((2, 24, 20, channels)).astype(np.float32)


@pytest.mark.parametrize("channels", [1, 3])
def test_a_zero_fill_is_zeros_of_the_images_shape(channels):
    images = _images(channels)
    filled = fill_values(images, "zero", 8)
    assert filled.shape == images.shape and not filled.any()


@pytest.mark.parametrize("channels", [1, 3])
def test_a_mean_fill_is_each_images_own_channel_means(channels):
    images = _images(channels)
    images[1] += 5.0  # the second image's means differ from the first's
    filled = fill_values(images, "mean", 8)
    assert filled.shape == images.shape and filled.dtype == np.float32
    for image, fill in zip(images, filled, strict=True):
        for c in range(channels):
            np.testing.assert_allclose(fill[..., c], image[..., c].mean(), rtol=1e-6)


@pytest.mark.parametrize(("channels", "patch"), [(1, 16), (3, 16), (3, 1), (1, 6)])
def test_a_blur_fill_is_a_gaussian_of_a_quarter_patch_with_mirrored_edges(channels, patch):
    """sigma = patch / 4, at least 0.5 (a 1-pixel patch); OpenCV's BORDER_REFLECT is scipy's 'reflect'
    (edge pixel repeated), each channel blurred on its own, grayscale keeping its channel axis."""
    images = _images(channels)
    filled = fill_values(images, "blur", patch)
    assert filled.shape == images.shape and filled.dtype == np.float32
    sigma = max(patch / 4.0, 0.5)
    for image, fill in zip(images, filled, strict=True):
        for c in range(channels):
            want = gaussian_filter(image[..., c].astype(np.float64), sigma, mode="reflect", truncate=4.0)
            np.testing.assert_allclose(fill[..., c], want, atol=2e-3)


@pytest.mark.parametrize("cells", [1, 2, 3, 7])
@pytest.mark.parametrize("size", [5, 16, 33])
def test_rise_upsampling_is_scikit_images_order_one_resize_with_mirrored_edges(cells, size):
    grid = np.random.default_rng(cells * 100 + size).random((cells, cells))
    weights = interpolation_matrix(size, cells)
    assert weights.shape == (size, cells)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)  # each sample a weighted mean of the cells
    ours = weights @ grid @ weights.T
    want = resize(grid, (size, size), order=1, mode="reflect", anti_aliasing=False)
    np.testing.assert_allclose(ours, want, atol=1e-12)
