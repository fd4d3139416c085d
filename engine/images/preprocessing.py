"""Turning a loaded image into a model input: channels, size and pixel scaling."""

from __future__ import annotations

import re

import cv2
import numpy as np

from engine.images.decoding import LoadedImage

PREPROCESSING_MODES: tuple[str, ...] = ("unit", "symmetric", "caffe", "torch", "none")

CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)
TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
TORCH_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_LUMA_601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_NORMALIZING_LAYER = re.compile(r'"class_name"\s*:\s*"(?:[\w.>]*>)?(Rescaling|Normalization)"')


def _check_mode(mode: str) -> None:
    if mode not in PREPROCESSING_MODES:
        raise ValueError(
            f"unknown preprocessing {mode!r}; valid modes are: {', '.join(PREPROCESSING_MODES)}"
        )


def preprocess(pixels: np.ndarray, mode: str) -> np.ndarray:
    """Scale float pixels on 0..255, shape [..., C] with C = 3 (RGB) or 1 (gray), for a model.

    unit: x/255; symmetric: x/127.5 - 1; caffe: RGB->BGR minus the ImageNet BGR mean
    (gray: minus the mean of the three); torch: x/255 minus the ImageNet mean, divided by
    the std (gray: their means); none: unchanged. Returns a new float32 array.
    """
    _check_mode(mode)
    x = np.array(pixels, dtype=np.float32, copy=True)
    if x.ndim == 0 or x.shape[-1] not in (1, 3):
        raise ValueError(f"pixels must end in 1 or 3 channels, got shape {x.shape}")
    gray = x.shape[-1] == 1
    if mode == "unit":
        return x / np.float32(255.0)
    if mode == "symmetric":
        return x / np.float32(127.5) - np.float32(1.0)
    if mode == "caffe":
        mean = CAFFE_BGR_MEAN.mean(keepdims=True) if gray else CAFFE_BGR_MEAN
        return (x if gray else x[..., ::-1]) - mean
    if mode == "torch":
        mean = TORCH_MEAN.mean(keepdims=True) if gray else TORCH_MEAN
        std = TORCH_STD.mean(keepdims=True) if gray else TORCH_STD
        return (x / np.float32(255.0) - mean) / std
    return x


def _target_size(image: LoadedImage, size: tuple[int | None, int | None]) -> tuple[int, int]:
    height, width = size
    height = image.height if height is None else int(height)
    width = image.width if width is None else int(width)
    if height <= 0 or width <= 0:
        raise ValueError(f"model input size must be positive, got {size}")
    return height, width


def _resize(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    src_h, src_w = pixels.shape[:2]
    if (src_h, src_w) == (height, width):
        return pixels
    shrinking = height <= src_h and width <= src_w
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    out = cv2.resize(pixels, (width, height), interpolation=interpolation)  # dsize is (w, h)
    return out if out.ndim == 3 else out[:, :, None]


def to_model_input(
    image: LoadedImage, size: tuple[int | None, int | None], channels: int, mode: str
) -> np.ndarray:
    """Float32 (H, W, channels) array ready for ``model(x[None])``.

    ``size`` is the model's (height, width); None in either keeps the image's own.
    Shrinking uses INTER_AREA, enlarging INTER_LINEAR. ``channels`` 1 gives ITU-R 601
    luminance of ``image.pixels`` (the stored gray for gray sources), 3 gives RGB.
    """
    _check_mode(mode)
    if channels not in (1, 3):
        raise ValueError(f"the model expects {channels} input channels; only 1 or 3 are supported")
    height, width = _target_size(image, size)
    pixels = image.pixels
    if channels == 1:
        pixels = pixels[..., :1] if image.gray_source else pixels @ _LUMA_601[:, None]
    pixels = _resize(np.ascontiguousarray(pixels, dtype=np.float32), height, width)
    return np.ascontiguousarray(preprocess(pixels, mode), dtype=np.float32)


def guess_preprocessing(model_config_text: str) -> str:
    """Return "none" if the model config JSON has a Rescaling/Normalization layer, else "unit"."""
    return "none" if _NORMALIZING_LAYER.search(model_config_text or "") else "unit"
