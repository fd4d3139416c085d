"""Threshold-free localisation: pixel AUROC per image and AUPRO per lot.

- Pixel AUROC: the area under the ROC curve of the map's values as a score for "this
  pixel belongs to the defect" against the mask, i.e. the probability that a random defect
  pixel scores higher than a random background pixel (ties count one half;
  Mann-Whitney U / (n_defect * n_background)).
- AUPRO (Bergmann et al. 2021, "The MVTec anomaly detection dataset", section 4.2): for
  every threshold on the maps of a lot, the per-region overlap (PRO) is the mean, over
  every connected component of every mask (8-connectivity), of the share of that
  component's pixels above the threshold; the false-positive rate is the share of all
  background pixels above it. AUPRO is the area under PRO(FPR) for FPR in [0, 0.3],
  divided by 0.3 (1 is perfect). Unlike the pixel AUROC it weighs a small defect as much as
  a large one.

:func:`aupro` is exact (every distinct map value is a threshold, as in the MVTec
evaluation code); :class:`AuproAccumulator` streams a lot of any size into
:data:`BINS` threshold bins and gives the same value for maps quantised to those bins.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FPR_LIMIT = 0.3
BINS = 1000  # threshold levels of the streaming AUPRO (maps in [0, 1])


def pixel_auroc(heatmap: np.ndarray, mask: np.ndarray) -> float | None:
    """AUROC of the map against the boolean mask; None when the mask is empty or full."""
    from scipy.stats import rankdata

    values = np.nan_to_num(np.asarray(heatmap, dtype=np.float64)).ravel()
    positive = np.asarray(mask, bool).ravel()
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(values)  # average ranks for ties
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label per pixel, 0 = background; pixel count per label) with 8-connectivity."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(np.asarray(mask, np.uint8), connectivity=8)
    return labels, stats[:, cv2.CC_STAT_AREA].astype(np.float64) if count else np.zeros(1)


def _area(fpr: np.ndarray, pro: np.ndarray, limit: float) -> float | None:
    """Area under pro(fpr) from 0 to `limit` (interpolated at the limit), divided by `limit`."""
    keep = fpr <= limit
    x, y = fpr[keep], pro[keep]
    beyond = np.nonzero(~keep)[0]
    if beyond.size:
        j = beyond[0]
        x0, y0, x1, y1 = fpr[j - 1], pro[j - 1], fpr[j], pro[j]
        x, y = np.append(x, limit), np.append(y, y0 + (y1 - y0) * (limit - x0) / (x1 - x0))
    return float(np.trapezoid(y, x) / limit)


def aupro(maps: Sequence[np.ndarray], masks: Sequence[np.ndarray], limit: float = FPR_LIMIT) -> float | None:
    """Exact AUPRO of maps against boolean masks (same shapes pairwise); None without any
    defect region or without any background pixel."""
    scores, fp_weight, pro_weight, regions = [], [], [], 0
    for heatmap, mask in zip(maps, masks, strict=True):
        labels, areas = _components(mask)
        regions += len(areas) - 1
        scores.append(np.asarray(heatmap, np.float64).ravel())
        flat = labels.ravel()
        fp_weight.append((flat == 0).astype(np.float64))
        weight = np.zeros(flat.size)
        inside = flat > 0
        weight[inside] = 1.0 / areas[flat[inside]]
        pro_weight.append(weight)
    if not scores:
        return None
    score, fp, pro = np.concatenate(scores), np.concatenate(fp_weight), np.concatenate(pro_weight)
    if regions == 0 or fp.sum() == 0:
        return None
    order = np.argsort(-score, kind="stable")
    score, fp, pro = score[order], fp[order], pro[order]
    last = np.r_[np.nonzero(np.diff(score))[0], score.size - 1]  # the last pixel of each distinct value
    fpr = np.r_[0.0, np.cumsum(fp)[last] / fp.sum()]
    overlap = np.r_[0.0, np.cumsum(pro)[last] / regions]
    return _area(fpr, overlap, limit)


class AuproAccumulator:
    """AUPRO over a stream of (map, mask) pairs with maps in [0, 1], in BINS threshold bins."""

    def __init__(self, bins: int = BINS) -> None:
        """Empty: no image added yet."""
        self.bins = bins
        self.background = np.zeros(bins, np.float64)  # background pixels per bin
        self.overlap = np.zeros(bins, np.float64)  # sum over components of their pixel share per bin
        self.regions = 0
        self.images = 0

    def bin_of(self, values: np.ndarray) -> np.ndarray:
        """The bin of each map value (0 .. bins-1)."""
        return np.clip((np.nan_to_num(np.asarray(values, np.float64)) * self.bins).astype(np.int64), 0, self.bins - 1)

    def add(self, heatmap: np.ndarray, mask: np.ndarray) -> None:
        """Count one image (an image without a defect region adds background pixels only)."""
        labels, areas = _components(mask)
        flat, bins = labels.ravel(), self.bin_of(heatmap).ravel()
        inside = flat > 0
        self.background += np.bincount(bins[~inside], minlength=self.bins)
        self.overlap += np.bincount(bins[inside], weights=1.0 / areas[flat[inside]], minlength=self.bins)
        self.regions += len(areas) - 1
        self.images += 1

    def merge(self, other: AuproAccumulator) -> None:
        """Add another accumulator's counts (same bins), e.g. from another worker."""
        if other.bins != self.bins:
            raise ValueError("AUPRO accumulators with different bins cannot be merged")
        self.background += other.background
        self.overlap += other.overlap
        self.regions += other.regions
        self.images += other.images

    def value(self, limit: float = FPR_LIMIT) -> float | None:
        """AUPRO so far (thresholds at the bin edges, highest first); None without regions."""
        if self.regions == 0 or self.background.sum() == 0:
            return None
        fpr = np.r_[0.0, np.cumsum(self.background[::-1]) / self.background.sum()]
        pro = np.r_[0.0, np.cumsum(self.overlap[::-1]) / self.regions]
        return _area(fpr, pro, limit)
