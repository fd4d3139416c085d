"""Aggregates over review rows: confusion matrix, per-label accuracy and localisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.review.rows import ReviewRow


@dataclass(frozen=True)
class LabelStats:
    """Accuracy and localisation over the images of one label (or of all images)."""

    label: str
    images: int  # rows, including images that could not be read
    errors: int
    labelled: int  # images whose label names a class (so correctness is known)
    correct: int
    with_mask: int  # images scored against a mask
    pointing: float | None  # share of pointing-game hits among images with a mask
    energy_inside: float | None  # mean energy share inside the mask
    iou: float | None  # mean IoU of the emphasized region

    @property
    def accuracy(self) -> float | None:
        """correct / labelled, None when no image has a class label."""
        return self.correct / self.labelled if self.labelled else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {**vars(self), "accuracy": self.accuracy}


@dataclass(frozen=True)
class ReviewResult:
    """Everything a review of a folder produced (possibly partial, see `complete`)."""

    rows: tuple[ReviewRow, ...]
    class_names: tuple[str, ...]
    confusion: np.ndarray  # (K, K) int64: rows = true class, columns = predicted class
    per_label: tuple[LabelStats, ...]  # one per folder label, sorted by name
    overall: LabelStats
    total: int  # images found in the folder
    complete: bool  # False when cancelled or interrupted before the end
    seconds: float = 0.0  # time spent by this run (not by earlier, resumed runs)
    trust: dict[str, Any] | None = None  # engine.trust.review.trust_summary: verdicts, or None without trust

    @property
    def verdict(self) -> str | None:
        """The lot's trust verdict (right-reason, shortcut-suspected, insufficient-data), or None."""
        return self.trust["overall"]["verdict"] if self.trust else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary without the per-image rows."""
        return {
            "images_total": self.total, "images_done": len(self.rows), "complete": self.complete,
            "seconds": round(self.seconds, 3), "class_names": list(self.class_names),
            "accuracy": self.overall.accuracy, "overall": self.overall.to_json(),
            "confusion_matrix": {"rows": "true class", "columns": "predicted class",
                                 "classes": list(self.class_names), "matrix": self.confusion.tolist()},
            "per_label": {s.label: s.to_json() for s in self.per_label},
            **({"trust": self.trust} if self.trust is not None else {}),
        }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def label_stats(label: str, rows: Sequence[ReviewRow]) -> LabelStats:
    """Accuracy and localisation over `rows`."""
    scored = [r for r in rows if r.has_mask]
    labelled = [r for r in rows if r.correct is not None]
    return LabelStats(
        label=label, images=len(rows), errors=sum(1 for r in rows if r.error),
        labelled=len(labelled), correct=sum(1 for r in labelled if r.correct), with_mask=len(scored),
        pointing=_mean([float(bool(r.pointing_hit)) for r in scored]),
        energy_inside=_mean([r.energy_inside for r in scored if r.energy_inside is not None]),
        iou=_mean([r.iou for r in scored if r.iou is not None]),
    )


def confusion_matrix(rows: Sequence[ReviewRow], class_count: int) -> np.ndarray:
    """Counts of (true class, predicted class) over rows whose label names a class."""
    matrix = np.zeros((class_count, class_count), dtype=np.int64)
    for row in rows:
        if row.label_index is not None and row.predicted_index is not None:
            if 0 <= row.label_index < class_count and 0 <= row.predicted_index < class_count:
                matrix[row.label_index, row.predicted_index] += 1
    return matrix


def summarise(rows: Sequence[ReviewRow], class_names: Sequence[str], total: int | None = None,
              complete: bool = True, seconds: float = 0.0, trust=None) -> ReviewResult:
    """A ReviewResult over `rows` (the confusion matrix and per-label statistics), with the
    trust verdicts when rows carry trust figures (`trust`: an engine.trust.review.TrustAccumulator
    of this run, for AUPRO and the mean curves)."""
    from engine.trust.review import trust_summary

    labels = sorted({r.label or "" for r in rows})
    per_label = tuple(label_stats(name or "(no label)", [r for r in rows if (r.label or "") == name])
                      for name in labels)
    return ReviewResult(tuple(rows), tuple(class_names), confusion_matrix(rows, len(class_names)), per_label,
                        label_stats("all", rows), len(rows) if total is None else total, complete, seconds,
                        trust_summary(rows, trust))


def worst_cases(rows: Sequence[ReviewRow], count: int = 24) -> list[ReviewRow]:
    """Rows to look at first: misclassified (most confident first), then lowest energy inside the mask.

    Up to half the places go to misclassified images, the rest to the lowest energy share;
    any places left over go to further misclassified images.
    """
    wrong = sorted((r for r in rows if r.correct is False), key=lambda r: -(r.confidence or 0.0))
    weak = sorted((r for r in rows if r.has_mask and r.correct is not False),
                  key=lambda r: (r.energy_inside or 0.0))
    chosen = wrong[: count // 2]
    chosen += weak[: count - len(chosen)]
    chosen += wrong[count // 2: count // 2 + count - len(chosen)]
    return chosen
