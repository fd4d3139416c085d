"""Localisation metrics at their edges: borders, boundaries, odd dtypes and the options passed on.

Each test names the bug it guards against (found surviving by mutation testing, README
"Mutation testing").
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.review.metrics import (
    energy_inside,
    heatmap_peak,
    image_metrics,
    pointing_hit,
    region_iou,
)


def test_a_single_pixel_map_has_its_peak():
    # bug: a 1-pixel map taken for an empty one (size == 1 instead of 0)
    assert heatmap_peak(np.array([[0.7]])) == (0, 0)


def test_an_all_nan_map_has_no_peak():
    # bug: the "no finite value" test dropped (`and` for `or`), so nanargmax raises on all-NaN
    assert heatmap_peak(np.full((3, 4), np.nan)) is None


def test_a_size_mismatch_names_both_sizes():
    # bug: the message losing the sizes the user must compare
    with pytest.raises(ValueError, match=r"mask \(4, 5\) and heatmap \(4, 6\) differ"):
        image_metrics(np.ones((4, 6)), np.ones((4, 5), np.uint8), 1)


def test_peak_hits_a_mask_pixel_on_the_image_border():
    # bug: the search window starting at row or column 1, so border pixels are never reached
    mask = np.zeros((10, 10), bool)
    mask[0, 0] = True
    assert pointing_hit((0, 0), mask, tolerance=0)
    assert pointing_hit((3, 0), mask, tolerance=3)
    assert pointing_hit((0, 3), mask, tolerance=3)


def test_pointing_window_of_a_tall_image_reaches_its_lower_rows():
    # bug: the rows clipped by the width (shape[1]) of a non-square mask
    mask = np.zeros((40, 10), bool)
    mask[38, 5] = True
    assert pointing_hit((5, 35), mask, tolerance=5)
    assert not pointing_hit((5, 30), mask, tolerance=5)


def test_negative_heatmap_values_carry_no_energy():
    # bug: negative values left in, cancelling the energy outside the mask
    heatmap = np.array([[1.0, -1.0]])
    mask = np.array([[True, False]])
    assert energy_inside(heatmap, mask) == 1.0


def test_energy_of_a_half_precision_map_does_not_overflow():
    # bug: summing in the map's own float16 (max 65504) instead of float64
    heatmap = np.ones((400, 400), np.float16)
    mask = np.zeros((400, 400), bool)
    mask[:200] = True
    assert energy_inside(heatmap, mask) == pytest.approx(0.5)


def test_a_pixel_at_the_threshold_is_emphasized():
    # bug: `>` for `>=`, dropping pixels exactly at the threshold
    heatmap = np.array([[0.5, 0.2]])
    mask = np.array([[True, False]])
    assert region_iou(heatmap, mask, threshold=0.5) == 1.0


def test_threshold_zero_emphasizes_only_positive_pixels():
    # bugs: at threshold 0 every pixel (zeros included) or no pixel counted as emphasized
    heatmap = np.array([[0.0, 0.3, 0.0, 0.6]])
    mask = np.array([[False, True, False, False]])
    assert region_iou(heatmap, mask, threshold=0.0) == pytest.approx(0.5)


def test_iou_of_an_empty_map_against_an_empty_mask_is_zero():
    # bugs: a division by an empty union, or an empty pair scored as a perfect 1
    empty = np.zeros((3, 3))
    assert region_iou(empty, empty.astype(bool)) == 0.0


def test_class_count_decides_a_class_mask():
    # bug: num_classes not passed on, so a value past the last class still reads as a class index
    mask = np.zeros((4, 4), np.uint8)
    mask[0, 0], mask[3, 3] = 1, 3
    heatmap = np.zeros((4, 4))
    heatmap[0, 0] = 1.0
    assert image_metrics(heatmap, mask, 1, num_classes=3).mask_mode == "binary"
    assert image_metrics(heatmap, mask, 1, num_classes=3).mask_pixels == 2
    assert image_metrics(heatmap, mask, 1).mask_mode == "class"


def test_the_peak_is_kept_with_and_without_usable_mask():
    # bug: the peak's x or y dropped from the row when a mask is scored or is empty for the class
    heatmap = np.zeros((5, 6))
    heatmap[3, 4] = 1.0
    mask = np.zeros((5, 6), np.uint8)
    empty = image_metrics(heatmap, mask, 1)
    assert (empty.peak_x, empty.peak_y, empty.has_mask) == (4, 3, False)
    mask[3, 4] = 1
    scored = image_metrics(heatmap, mask, 1)
    assert (scored.peak_x, scored.peak_y, scored.has_mask) == (4, 3, True)


def test_image_metrics_uses_the_given_threshold():
    # bug: the review's IoU threshold not passed on (the default 0.5 used instead)
    heatmap = np.array([[0.9, 0.3, 0.0]])
    mask = np.array([[1, 1, 0]], np.uint8)
    assert image_metrics(heatmap, mask, 1).iou == pytest.approx(0.5)
    assert image_metrics(heatmap, mask, 1, threshold=0.2).iou == pytest.approx(1.0)
