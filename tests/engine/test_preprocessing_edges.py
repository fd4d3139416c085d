"""Model inputs at their edges (engine.images.preprocessing): float32 whatever the input type,
the smallest size, shrinking by area averaging and enlarging by interpolation, and the stored
gray of a gray image used as it is."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.images.preprocessing import preprocess, to_model_input


def _image(pixels: np.ndarray, gray: bool = False) -> LoadedImage:
    pixels = np.asarray(pixels, np.float32)
    return LoadedImage("x.png", np.clip(pixels, 0, 255).astype(np.uint8), pixels, gray, "uint8", 8)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64, np.int32])
def test_preprocess_returns_float32_for_any_input_type(dtype) -> None:
    result = preprocess(np.full((2, 2, 3), 3, dtype), "none")
    assert result.dtype == np.float32 and result.tolist() == np.full((2, 2, 3), 3.0).tolist()


def test_a_scalar_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^pixels must end in 1 or 3 channels, got shape \(\)$"):
        preprocess(np.float32(3.0), "unit")
    assert preprocess(np.zeros(3), "unit").shape == (3,)  # one pixel's channels


def test_the_smallest_model_input_is_one_pixel() -> None:
    image = _image(np.full((4, 4, 3), 100.0))
    assert to_model_input(image, (1, 1), 3, "none").shape == (1, 1, 3)
    for size in ((0, 4), (4, 0)):
        with pytest.raises(ValueError, match="model input size must be positive"):
            to_model_input(image, size, 3, "none")


def test_shrinking_averages_areas_in_either_direction() -> None:
    row = np.array([0.0, 0.0, 90.0, 150.0, 0.0, 0.0], np.float32)
    image = _image(np.repeat(np.tile(row[None, :, None], (3, 1, 1)), 3, axis=2))
    narrow = to_model_input(image, (3, 2), 3, "none")  # height kept, width divided by 3
    np.testing.assert_allclose(narrow[0, :, 0], [30.0, 50.0])  # the mean of each third, not its middle pixel
    tall = _image(np.repeat(np.tile(row[:, None, None], (1, 3, 1)), 3, axis=2))
    short = to_model_input(tall, (2, 3), 3, "none")
    np.testing.assert_allclose(short[:, 0, 0], [30.0, 50.0])


def test_enlarging_in_either_direction_interpolates() -> None:
    image = _image(np.repeat(np.array([[[0.0], [100.0]]], np.float32), 3, axis=2))  # 1 x 2
    wide = to_model_input(image, (1, 4), 3, "none")
    np.testing.assert_allclose(wide[0, :, 0], [0.0, 25.0, 75.0, 100.0])
    mixed = _image(np.repeat(np.array([[[0.0], [100.0]], [[0.0], [100.0]]], np.float32), 3, axis=2))  # 2 x 2
    result = to_model_input(mixed, (1, 4), 3, "none")  # shorter but wider: interpolated
    np.testing.assert_allclose(result[0, :, 0], [0.0, 25.0, 75.0, 100.0])


def test_one_channel_of_a_gray_image_is_its_stored_gray_exactly() -> None:
    gray = np.random.default_rng(0).random((5, 5, 1)).astype(np.float32) * 255
    image = _image(np.repeat(gray, 3, axis=2), gray=True)
    np.testing.assert_array_equal(to_model_input(image, (5, 5), 1, "none"), gray)
