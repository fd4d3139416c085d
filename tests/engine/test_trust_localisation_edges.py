"""Pixel AUROC and AUPRO at their edges: the FPR limit falling between two thresholds, masks and
maps in other dtypes, the empty and one-pixel cases, the streaming bins' boundaries. Each test
names the bug it guards against; the figures are worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from engine.trust.localisation import AuproAccumulator, aupro, pixel_auroc


def _stepped() -> tuple[np.ndarray, np.ndarray]:
    """A 4-pixel defect on 100 pixels (96 background) and a map of four levels, giving the curve
    (FPR, PRO): (0, 0.5) at 1.0, (0.25, 0.5) at 0.8, (0.5, 1) at 0.5, (1, 1) at 0."""
    mask = np.zeros((10, 10), bool)
    mask[0, :4] = True
    heatmap = np.zeros((10, 10))
    heatmap[0, :2] = 1.0  # half the defect first, no background
    flat = heatmap.ravel()
    background = np.flatnonzero(~mask.ravel())
    flat[background[:24]] = 0.8  # a quarter of the background
    flat[background[24:48]] = 0.5
    heatmap[0, 2:4] = 0.5  # the rest of the defect with another quarter
    return heatmap, mask


# Guards: the PRO at the FPR limit interpolated with a wrong formula (a sign or a division
# swapped): between (0.25, 0.5) and (0.5, 1) the PRO at 0.3 is 0.6, so the area is
# 0.25 * 0.5 + 0.05 * (0.5 + 0.6) / 2 = 0.1525, divided by 0.3.
def test_aupro_interpolates_the_pro_at_the_fpr_limit():
    heatmap, mask = _stepped()
    assert aupro([heatmap], [mask]) == pytest.approx(0.1525 / 0.3)
    streamed = AuproAccumulator()
    streamed.add(heatmap, mask)
    assert streamed.value() == pytest.approx(0.1525 / 0.3)


# Guards: an 8-bit map negated before sorting (uint8 wraps around, ranking bright pixels last),
# a mask of 0/255 read as indices instead of as a boolean.
def test_eight_bit_maps_and_masks_give_the_same_figures():
    heatmap, mask = _stepped()
    as_bytes = np.round(heatmap * 255).astype(np.uint8)
    assert aupro([as_bytes], [mask]) == pytest.approx(aupro([heatmap], [mask]))
    assert pixel_auroc(heatmap, mask.astype(np.uint8) * 255) == pytest.approx(pixel_auroc(heatmap, mask))


# Guards: a lot whose maps and masks differ in number silently cut to the shorter one.
def test_aupro_refuses_maps_and_masks_of_different_counts():
    heatmap, mask = _stepped()
    with pytest.raises(ValueError):
        aupro([heatmap, heatmap], [mask])


# Guards: None returned for a lot with one background pixel or one region, or a number for a
# lot without any region (a division by zero instead of "no figure").
def test_aupro_is_none_only_without_regions_or_background():
    heatmap, _ = _stepped()
    almost_full = np.ones((10, 10), bool)
    almost_full[9, 9] = False
    assert aupro([heatmap], [almost_full]) is not None
    streamed = AuproAccumulator()
    streamed.add(heatmap, almost_full)
    assert streamed.regions == 1 and streamed.value() is not None
    clean = AuproAccumulator()
    clean.add(heatmap, np.zeros((10, 10), bool))
    assert clean.value() is None


# Guards: the streamed curve starting at PRO 1 instead of 0. A flat map (all in the highest bin)
# is the diagonal: 0.3 * 0.3 / 2 / 0.3 = 0.15, not 1.
def test_streamed_flat_map_is_the_diagonal():
    _, mask = _stepped()
    streamed = AuproAccumulator()
    streamed.add(np.ones((10, 10)), mask)
    assert streamed.value() == pytest.approx(0.15)


# Guards: values outside [0, 1] (a resize's overshoot) or NaN falling outside the bins, 0 not in
# the lowest bin, 1 not in the highest.
def test_bins_hold_every_value():
    streamed = AuproAccumulator(1000)
    found = streamed.bin_of(np.array([-0.01, 0.0, 0.0015, 0.5, 0.9995, 1.0, 1.2, np.nan]))
    assert found.tolist() == [0, 0, 1, 500, 999, 999, 999, 0]


# Guards: accumulators of different bins merged as if they matched.
def test_merging_different_bins_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="^AUPRO accumulators with different bins cannot be merged$"):
        AuproAccumulator(100).merge(AuproAccumulator(50))
