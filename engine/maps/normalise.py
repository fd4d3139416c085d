"""Turning raw maps into displayable ones: normalisation and resizing."""

from __future__ import annotations

import cv2
import numpy as np

EPS = 1e-7


def normalise(raw: np.ndarray) -> tuple[np.ndarray, bool]:
    """Scale to [0, 1] by (x - min) / (max - min + eps); an all-zero or flat map gives zeros
    and True ("no positive evidence"), never NaN."""
    values = np.nan_to_num(np.asarray(raw, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
    span = high - low
    if high <= 0.0 or span <= EPS * max(1.0, abs(high)):
        return np.zeros_like(values), True
    return ((values - low) / (span + EPS)).astype(np.float32), False


def resize_map(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a 2-D map (or H x W x C) to (height, width), float32; area averaging
    when shrinking both ways (an image smaller than the map: a 1x1 image gets the mean)."""
    values = np.asarray(values, dtype=np.float32)
    if values.shape[:2] == (height, width):
        return values
    shrinking = height <= values.shape[0] and width <= values.shape[1]
    return cv2.resize(values, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
