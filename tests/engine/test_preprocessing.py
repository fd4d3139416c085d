"""Tests for engine.images.preprocessing: exact arithmetic of every mode and model-input shaping."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.images.preprocessing import (
    PREPROCESSING_MODES,
    guess_preprocessing,
    preprocess,
    to_model_input,
)

RGB = np.array([[[0.0, 127.5, 255.0], [10.0, 20.0, 30.0]]], dtype=np.float32)  # (1, 2, 3)
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68])
TORCH_MEAN = np.array([0.485, 0.456, 0.406])
TORCH_STD = np.array([0.229, 0.224, 0.225])


def _image(pixels: np.ndarray, gray: bool = False) -> LoadedImage:
    pixels = np.asarray(pixels, dtype=np.float32)
    display = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return LoadedImage("<test>", display, pixels, gray, "uint8", 8)


def _expected_rgb(mode: str, x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return {
        "unit": x / 255.0,
        "symmetric": x / 127.5 - 1.0,
        "caffe": x[..., ::-1] - CAFFE_BGR_MEAN,
        "torch": (x / 255.0 - TORCH_MEAN) / TORCH_STD,
        "none": x,
    }[mode]


@pytest.mark.parametrize("mode", PREPROCESSING_MODES)
def test_rgb_modes_exact(mode: str) -> None:
    out = preprocess(RGB, mode)
    assert out.dtype == np.float32 and out.shape == RGB.shape
    np.testing.assert_allclose(out, _expected_rgb(mode, RGB), rtol=1e-6, atol=1e-5)


def test_known_values() -> None:
    np.testing.assert_allclose(preprocess(RGB, "unit")[0, 0], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(preprocess(RGB, "symmetric")[0, 0], [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(
        preprocess(RGB, "caffe")[0, 1], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6
    )
    np.testing.assert_allclose(
        preprocess(RGB, "torch")[0, 0],
        [-0.485 / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225],
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("unit", lambda x: x / 255.0),
        ("symmetric", lambda x: x / 127.5 - 1.0),
        ("caffe", lambda x: x - CAFFE_BGR_MEAN.mean()),
        ("torch", lambda x: (x / 255.0 - TORCH_MEAN.mean()) / TORCH_STD.mean()),
        ("none", lambda x: x),
    ],
)
def test_gray_modes_use_mean_statistics(mode: str, expected) -> None:
    gray = np.array([[[0.0], [100.0], [255.0]]], dtype=np.float32)
    out = preprocess(gray, mode)
    assert out.shape == gray.shape
    np.testing.assert_allclose(out, expected(gray.astype(np.float64)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", PREPROCESSING_MODES)
def test_batch_dims_are_kept(mode: str) -> None:
    batch = np.stack([RGB, RGB * 0.5, RGB[:, ::-1]])[None]  # (1, 3, 1, 2, 3)
    out = preprocess(batch, mode)
    assert out.shape == batch.shape
    np.testing.assert_allclose(out[0, 1], preprocess(RGB * 0.5, mode), rtol=1e-6)


def test_input_is_not_modified_and_none_copies() -> None:
    before = RGB.copy()
    out = preprocess(RGB, "none")
    out += 1
    np.testing.assert_array_equal(RGB, before)


def test_bad_mode_and_channels() -> None:
    with pytest.raises(ValueError, match="unit, symmetric, caffe, torch, none"):
        preprocess(RGB, "tf")
    with pytest.raises(ValueError, match="channels"):
        preprocess(np.zeros((2, 2, 4), np.float32), "unit")


def test_to_model_input_non_square_resize() -> None:
    pixels = np.random.default_rng(0).uniform(0, 255, (100, 50, 3)).astype(np.float32)
    out = to_model_input(_image(pixels), (40, 70), 3, "unit")
    assert out.shape == (40, 70, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_to_model_input_flat_colour_survives_shrink_and_enlarge() -> None:
    pixels = np.empty((30, 20, 3), np.float32)
    pixels[:] = [10.0, 20.0, 30.0]
    for size in [(10, 5), (64, 64), (15, 40)]:
        out = to_model_input(_image(pixels), size, 3, "none")
        assert out.shape == (*size, 3)
        np.testing.assert_allclose(out[size[0] // 2, size[1] // 2], [10, 20, 30], rtol=1e-5)


def test_to_model_input_one_channel_luminance() -> None:
    pixels = np.zeros((4, 6, 3), np.float32)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = 100.0, 200.0, 50.0
    out = to_model_input(_image(pixels), (4, 6), 1, "none")
    assert out.shape == (4, 6, 1)
    np.testing.assert_allclose(out, 0.299 * 100 + 0.587 * 200 + 0.114 * 50, rtol=1e-6)
    resized = to_model_input(_image(pixels), (8, 3), 1, "unit")
    assert resized.shape == (8, 3, 1)


def test_to_model_input_gray_source_keeps_exact_values() -> None:
    gray = np.repeat(np.arange(12, dtype=np.float32).reshape(3, 4, 1), 3, axis=2)
    out = to_model_input(_image(gray, gray=True), (None, None), 1, "none")
    np.testing.assert_array_equal(out[..., 0], np.arange(12, dtype=np.float32).reshape(3, 4))


def test_to_model_input_size_agnostic() -> None:
    pixels = np.full((13, 29, 3), 51.0, np.float32)
    assert to_model_input(_image(pixels), (None, None), 3, "unit").shape == (13, 29, 3)
    assert to_model_input(_image(pixels), (None, 10), 3, "unit").shape == (13, 10, 3)
    assert to_model_input(_image(pixels), (7, None), 1, "unit").shape == (7, 29, 1)
    np.testing.assert_allclose(to_model_input(_image(pixels), (None, None), 3, "unit"), 0.2)


def test_to_model_input_rejects_bad_arguments() -> None:
    image = _image(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="4 input channels"):
        to_model_input(image, (4, 4), 4, "unit")
    with pytest.raises(ValueError, match="valid modes"):
        to_model_input(image, (4, 4), 3, "bogus")
    with pytest.raises(ValueError, match="positive"):
        to_model_input(image, (0, 4), 3, "unit")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"layers": [{"class_name": "Rescaling", "config": {}}]}', "none"),
        ('{"layers": [{"class_name":"Normalization"}]}', "none"),
        ('{"layers": [{"class_name": "Conv2D"}, {"class_name": "Dense"}]}', "unit"),
        ('{"name": "Rescaling_like", "class_name": "RescalingX"}', "unit"),
        ("", "unit"),
    ],
)
def test_guess_preprocessing(text: str, expected: str) -> None:
    assert guess_preprocessing(text) == expected
