"""Turning raw maps into displayable ones: normalisation and resizing.

How a map is scaled to [0, 1] depends on what its zero means, which each method declares
beside its parameters (`Method.floor`, one of FLOORS):

* "zero": zero is "no evidence" (ReLU'd CAMs, gradient magnitudes, positive parts, occlusion's
  probability drops: a patch whose covering changes nothing). The map is divided by its peak,
  (x - 0) / (max - 0 + eps), so a weak map stays weak-looking only through its shape and a
  map with no positive value is "no positive evidence".
* "min": the map has no meaningful zero (RISE: every value is an expected probability, all
  positive). It is normalised by (x - min) / (max - min + eps), so the peak shows even when
  the map spans 0.86 to 1.0.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7
FLOORS = {
    "zero": "zero is no evidence: x / (max + eps)",
    "min": "no meaningful zero: (x - min) / (max - min + eps)",
}


def normalise(raw: np.ndarray, floor: str = "zero") -> tuple[np.ndarray, bool]:
    """Scale to [0, 1] by (x - low) / (max - low + eps), low = min(x, 0) for floor "zero" and
    min(x) for floor "min" (FLOORS); an all-zero or flat map gives zeros and True ("no positive
    evidence"), never NaN."""
    if floor not in FLOORS:
        raise ValueError(f"unknown floor {floor!r}; one of {', '.join(FLOORS)}")
    values = np.nan_to_num(np.asarray(raw, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if floor == "min" and values.size:
        low, high = float(values.min()), float(values.max())
        scale = max(1.0, abs(high), abs(low))
    else:
        low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        scale = max(1.0, abs(high))
        if high <= 0.0:
            return np.zeros_like(values), True
    span = high - low
    if span <= EPS * scale:
        return np.zeros_like(values), True
    return ((values - low) / (span + EPS)).astype(np.float32), False


def resize_map(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a 2-D map (or H x W x C) to (height, width), float32; area averaging
    when shrinking both ways (an image smaller than the map: a 1x1 image gets the mean)."""
    import cv2
    values = np.asarray(values, dtype=np.float32)
    if values.shape[:2] == (height, width):
        return values
    shrinking = height <= values.shape[0] and width <= values.shape[1]
    return cv2.resize(values, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
