"""Pixel AUROC against scikit-learn, AUPRO on hand-made maps and against a brute-force definition."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from engine.trust.localisation import AuproAccumulator, aupro, pixel_auroc


def _mask(shape=(20, 20), boxes=((2, 2, 6, 6),)) -> np.ndarray:
    m = np.zeros(shape, bool)
    for y0, x0, y1, x1 in boxes:
        m[y0:y1, x0:x1] = True
    return m


def test_pixel_auroc_matches_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    mask = _mask()
    heatmap = np.round(rng.random(mask.shape) + 0.4 * mask, 1)  # many ties
    assert pixel_auroc(heatmap, mask) == pytest.approx(roc_auc_score(mask.ravel(), heatmap.ravel()))
    assert pixel_auroc(mask.astype(float), mask) == pytest.approx(1.0)
    assert pixel_auroc(1.0 - mask, mask) == pytest.approx(0.0)
    assert pixel_auroc(np.zeros(mask.shape), mask) == pytest.approx(0.5)
    assert pixel_auroc(heatmap, np.zeros(mask.shape, bool)) is None
    assert pixel_auroc(heatmap, np.ones(mask.shape, bool)) is None


def _aupro_brute_force(maps, masks, limit=0.3):
    """The definition: every distinct value a threshold, PRO averaged over components."""
    import scipy.ndimage as ndi

    regions, background = [], []
    for m, k in zip(maps, masks, strict=True):
        labels, count = ndi.label(k, structure=np.ones((3, 3)))
        regions += [m[labels == i] for i in range(1, count + 1)]
        background.append(m[~k])
    background = np.concatenate(background)
    points = [(0.0, 0.0)]
    for t in sorted(np.unique(np.concatenate([m.ravel() for m in maps])), reverse=True):
        points.append((float(np.mean(background >= t)), float(np.mean([np.mean(r >= t) for r in regions]))))
    fpr, pro = np.array(points).T
    grid = np.r_[fpr[fpr <= limit], limit]
    values = np.interp(grid, fpr, pro)
    inside = fpr <= limit  # np.interp on repeated x takes the last point; the curve's own points first
    area = np.trapezoid(np.r_[pro[inside], values[-1]], np.r_[fpr[inside], limit])
    return area / limit


def test_aupro_known_answers():
    mask = _mask(boxes=((2, 2, 6, 6), (12, 12, 14, 14)))  # a 16-pixel and a 4-pixel defect
    assert aupro([mask.astype(float)], [mask]) == pytest.approx(1.0)
    assert aupro([np.full(mask.shape, 0.5)], [mask]) == pytest.approx(0.15)  # the diagonal: 0.3 * 0.3 / 2 / 0.3
    small_only = np.zeros(mask.shape)
    small_only[12:14, 12:14] = 1.0  # finds the small defect only: PRO 0.5 at FPR 0, then the diagonal
    assert aupro([small_only], [mask]) == pytest.approx(0.3 * (0.5 + 0.65) / 2 / 0.3)
    assert aupro([small_only], [np.zeros(mask.shape, bool)]) is None


def test_aupro_matches_the_definition_on_random_maps():
    rng = np.random.default_rng(3)
    masks = [_mask(boxes=((1, 1, 5, 9),)), _mask(boxes=((10, 3, 12, 5), (15, 15, 19, 19))), _mask(boxes=())]
    maps = [np.round(rng.random(m.shape) * 0.7 + 0.3 * m, 2) for m in masks]
    assert aupro(maps, masks) == pytest.approx(_aupro_brute_force(maps, masks))


def test_streaming_accumulator_equals_exact_on_binned_maps():
    rng = np.random.default_rng(4)
    masks = [_mask(boxes=((1, 1, 5, 9),)), _mask(boxes=((10, 3, 12, 5), (15, 15, 19, 19)))]
    bins = 50
    maps = [(np.floor((rng.random(m.shape) * 0.8 + 0.2 * m) * bins) + 0.5) / bins for m in masks]
    acc = AuproAccumulator(bins)
    assert acc.value() is None
    for m, k in zip(maps, masks, strict=True):
        acc.add(m, k)
    assert acc.regions == 3 and acc.images == 2
    assert acc.value() == pytest.approx(aupro(maps, masks))
