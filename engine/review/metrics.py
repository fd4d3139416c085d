"""Localisation metrics: does an explanation map point at the ground-truth defect?

All three compare a heatmap in [0, 1] at the image's resolution with a boolean mask of
the same size (see :func:`engine.review.masks.class_mask` for how a mask file becomes
that boolean mask):

- pointing game (Zhang et al. 2016): the heatmap's maximum lies in the mask, or within
  ``tolerance`` pixels of it (the paper uses 15 px);
- energy inside the mask (the energy-based pointing game of Wang et al. 2020, Score-CAM):
  sum of the heatmap over the mask divided by its sum over the image;
- IoU of the emphasized region ``heatmap >= threshold`` with the mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_TOLERANCE: int = 15
DEFAULT_THRESHOLD: float = 0.5


@dataclass(frozen=True)
class ImageMetrics:
    """Peak position and, when a non-empty mask is given, the three localisation scores."""

    peak_x: int | None  # column of the heatmap maximum; None when the map is all zero
    peak_y: int | None
    pointing_hit: bool | None = None  # None: no usable mask
    energy_inside: float | None = None  # share of heatmap energy inside the mask, 0..1
    iou: float | None = None  # IoU of (heatmap >= threshold) with the mask, 0..1
    mask_pixels: int = 0  # pixels of the mask the scores used
    mask_mode: str = ""  # "class" (class-index pixels), "binary" (non-zero pixels) or "" (none)

    @property
    def has_mask(self) -> bool:
        """True when the localisation scores were computed."""
        return self.pointing_hit is not None


def heatmap_peak(heatmap: np.ndarray) -> tuple[int, int] | None:
    """(x, y) of the heatmap maximum (first in row-major order on ties); None if all <= 0."""
    values = np.asarray(heatmap)
    if values.size == 0 or not np.isfinite(values).any() or float(np.nanmax(values)) <= 0.0:
        return None
    y, x = np.unravel_index(int(np.nanargmax(values)), values.shape[:2])
    return int(x), int(y)


def pointing_hit(peak: tuple[int, int] | None, mask: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """True when a mask pixel lies within `tolerance` pixels (Euclidean) of the peak.

    With tolerance 0 the peak pixel itself must be in the mask. No peak is a miss.
    """
    if peak is None:
        return False
    x, y = peak
    radius = max(0, int(np.floor(tolerance)))
    y0, y1 = max(0, y - radius), min(mask.shape[0], y + radius + 1)
    x0, x1 = max(0, x - radius), min(mask.shape[1], x + radius + 1)
    window = mask[y0:y1, x0:x1]
    if not window.any():
        return False
    yy, xx = np.nonzero(window)
    return bool(np.min((yy + y0 - y) ** 2 + (xx + x0 - x) ** 2) <= tolerance * tolerance)


def energy_inside(heatmap: np.ndarray, mask: np.ndarray) -> float:
    """sum(heatmap inside mask) / sum(heatmap); 0 for an all-zero map."""
    values = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float64)), 0.0, None)
    total = float(values.sum())
    return float(values[mask].sum()) / total if total > 0.0 else 0.0


def region_iou(heatmap: np.ndarray, mask: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> float:
    """|R & M| / |R | M| with R = heatmap >= threshold (an all-zero map has an empty R)."""
    region = np.asarray(heatmap) >= threshold
    if threshold <= 0.0:
        region &= np.asarray(heatmap) > 0.0
    union = int(np.count_nonzero(region | mask))
    return int(np.count_nonzero(region & mask)) / union if union else 0.0


def image_metrics(heatmap: np.ndarray, mask: np.ndarray | None, class_index: int, *,
                  num_classes: int | None = None, tolerance: float = DEFAULT_TOLERANCE,
                  threshold: float = DEFAULT_THRESHOLD) -> ImageMetrics:
    """All metrics of one heatmap against a mask file's array (None: peak only).

    The mask is reduced to a boolean mask for `class_index` by
    :func:`engine.review.masks.class_mask`; an empty result gives peak only.
    """
    from engine.review.masks import class_mask

    peak = heatmap_peak(heatmap)
    px, py = peak if peak is not None else (None, None)
    if mask is None:
        return ImageMetrics(px, py)
    if mask.shape[:2] != np.shape(heatmap)[:2]:
        raise ValueError(f"mask {mask.shape[:2]} and heatmap {np.shape(heatmap)[:2]} differ in size")
    region, mode = class_mask(mask, class_index, num_classes)
    pixels = int(np.count_nonzero(region))
    if pixels == 0:
        return ImageMetrics(px, py)
    return ImageMetrics(px, py, pointing_hit(peak, region, tolerance), energy_inside(heatmap, region),
                        region_iou(heatmap, region, threshold), pixels, mode)
