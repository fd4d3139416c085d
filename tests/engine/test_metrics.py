"""Localisation metrics on hand-made heatmaps and masks with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from engine.review import (
    energy_inside,
    heatmap_peak,
    image_metrics,
    pointing_hit,
    region_iou,
)


def _square_mask(shape=(20, 20), top=5, left=5, size=4) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    mask[top:top + size, left:left + size] = 1
    return mask


def test_peak_is_x_then_y():
    heat = np.zeros((10, 20), np.float32)
    heat[3, 17] = 1.0
    assert heatmap_peak(heat) == (17, 3)


def test_peak_of_all_zero_map_is_none_and_a_miss():
    heat = np.zeros((8, 8), np.float32)
    assert heatmap_peak(heat) is None
    assert pointing_hit(None, np.ones((8, 8), bool)) is False


def test_pointing_peak_inside_and_outside_with_zero_tolerance():
    mask = _square_mask() > 0  # rows 5..8, columns 5..8
    assert pointing_hit((5, 5), mask, tolerance=0)
    assert pointing_hit((8, 8), mask, tolerance=0)
    assert not pointing_hit((9, 8), mask, tolerance=0)
    assert not pointing_hit((0, 0), mask, tolerance=0)


def test_pointing_tolerance_is_euclidean_pixels():
    mask = _square_mask() > 0
    # (12, 8) is 4 px right of column 8: a hit from tolerance 4 on.
    assert not pointing_hit((12, 8), mask, tolerance=3.9)
    assert pointing_hit((12, 8), mask, tolerance=4)
    # (11, 11) is (3, 3) from corner (8, 8): distance sqrt(18) = 4.24.
    assert not pointing_hit((11, 11), mask, tolerance=4)
    assert pointing_hit((11, 11), mask, tolerance=4.25)


def test_energy_share_is_exact():
    mask = np.zeros((4, 4), bool)
    mask[0, :2] = True
    heat = np.zeros((4, 4), np.float32)
    heat[0, 0], heat[0, 1], heat[3, 3], heat[2, 2] = 1.0, 0.5, 0.25, 0.25
    assert energy_inside(heat, mask) == pytest.approx(1.5 / 2.0)
    assert energy_inside(np.zeros((4, 4)), mask) == 0.0


def test_iou_is_exact():
    mask = np.zeros((10, 10), bool)
    mask[0:4, 0:4] = True  # 16 pixels
    heat = np.zeros((10, 10), np.float32)
    heat[2:6, 2:6] = 0.8  # 16 pixels, overlap 2x2 = 4
    heat[9, 9] = 0.49  # below the threshold: not emphasized
    assert region_iou(heat, mask, 0.5) == pytest.approx(4 / 28)
    assert region_iou(heat, mask, 0.9) == 0.0


def test_image_metrics_without_mask_gives_peak_only():
    heat = np.zeros((6, 6), np.float32)
    heat[1, 2] = 1.0
    metrics = image_metrics(heat, None, 1)
    assert (metrics.peak_x, metrics.peak_y) == (2, 1)
    assert not metrics.has_mask and metrics.energy_inside is None and metrics.iou is None


def test_image_metrics_with_binary_mask():
    mask = np.zeros((10, 10), np.uint8)
    mask[0:5, 0:5] = 255
    heat = np.zeros((10, 10), np.float32)
    heat[2, 2], heat[8, 8] = 1.0, 1.0 / 3.0
    metrics = image_metrics(heat, mask, 2, num_classes=4, tolerance=0)
    assert metrics.pointing_hit is True
    assert metrics.energy_inside == pytest.approx(0.75)
    assert metrics.iou == pytest.approx(1 / 25)
    assert metrics.mask_mode == "binary" and metrics.mask_pixels == 25


def test_image_metrics_uses_only_the_explained_class_of_a_class_index_mask():
    mask = np.zeros((10, 10), np.uint8)
    mask[0:2, :] = 1  # scratch
    mask[8:10, :] = 2  # spot
    heat = np.zeros((10, 10), np.float32)
    heat[9, 5] = 1.0  # on the spot
    scratch = image_metrics(heat, mask, 1, num_classes=4, tolerance=0)
    spot = image_metrics(heat, mask, 2, num_classes=4, tolerance=0)
    assert scratch.mask_mode == "class" and scratch.pointing_hit is False and scratch.energy_inside == 0.0
    assert spot.mask_mode == "class" and spot.pointing_hit is True and spot.energy_inside == 1.0
    # class 3 is absent from the mask: the whole defect area counts (binary).
    crack = image_metrics(heat, mask, 3, num_classes=4, tolerance=0)
    assert crack.mask_mode == "binary" and crack.mask_pixels == 40 and crack.pointing_hit is True


def test_empty_mask_and_size_mismatch():
    heat = np.ones((5, 5), np.float32)
    assert not image_metrics(heat, np.zeros((5, 5), np.uint8), 1).has_mask
    with pytest.raises(ValueError):
        image_metrics(heat, np.ones((4, 5), np.uint8), 1)


def test_all_zero_map_with_mask_is_a_miss_with_zero_scores():
    metrics = image_metrics(np.zeros((5, 5), np.float32), np.ones((5, 5), np.uint8), 1)
    assert metrics.pointing_hit is False and metrics.energy_inside == 0.0 and metrics.iou == 0.0
    assert metrics.peak_x is None
