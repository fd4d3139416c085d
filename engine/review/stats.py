"""Aggregates over review rows: confusion matrix, per-label accuracy and localisation.

Computed once, over columns (engine.review.columns.ColumnSource): a list of rows and a
columnar review folder go through the same code. The per-label figures are the means of the
columns that declare an `Aggregate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.review import rows as _rows
from engine.review.columns import (
    Cached,
    ColumnSource,
    RowColumns,
    aggregated,
    figure_text,
    flag_mask,
    means,
)
from engine.review.rows import ReviewRow


@dataclass(frozen=True)
class LabelStats:
    """Counts and the aggregated columns' means over the images of one label (or of all images)."""

    label: str
    images: int  # rows, including images that could not be read
    errors: int
    labelled: int  # images whose label names a class (so correctness is known)
    correct: int
    with_mask: int  # images scored against a mask
    figures: dict[str, float | None] = field(default_factory=dict)  # {Aggregate.key: mean}, e.g. "pointing"

    @property
    def accuracy(self) -> float | None:
        """correct / labelled, None when no image has a class label."""
        return self.correct / self.labelled if self.labelled else None

    @property
    def pointing(self) -> float | None:
        """Share of pointing-game hits among images with a mask."""
        return self.figures.get("pointing")

    @property
    def energy_inside(self) -> float | None:
        """Mean energy share inside the mask."""
        return self.figures.get("energy_inside")

    @property
    def iou(self) -> float | None:
        """Mean IoU of the emphasized region."""
        return self.figures.get("iou")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        counts = {k: v for k, v in vars(self).items() if k != "figures"}
        return {**counts, **self.figures, "accuracy": self.accuracy}


def figures_line(stats: LabelStats, separator: str = " · ") -> str:
    """The aggregated figures in words: "accuracy 95.0% · pointing game 80.0% · ..."."""
    return separator.join(f"{c.summed.title} {figure_text(c, stats.figures.get(c.summed.key))}"
                          for c in aggregated(_rows.registry()))


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


def source_stats(label: str, keep: np.ndarray, source: ColumnSource) -> LabelStats:
    """Counts and aggregated means over the rows of `source` in `keep`."""
    labelled, scored = keep & source.mask_of("correct"), keep & source.mask_of("pointing_hit")
    correct = source.numpy("correct", False).astype(bool)
    return LabelStats(
        label=label, images=int(keep.sum()), errors=int((keep & flag_mask(source, "unreadable")).sum()),
        labelled=int(labelled.sum()), correct=int((labelled & correct).sum()), with_mask=int(scored.sum()),
        figures=means(source, keep, aggregated(_rows.registry())),
    )


def per_label_stats(source: ColumnSource) -> tuple[tuple[LabelStats, ...], LabelStats]:
    """(one LabelStats per label, sorted by name; the one over all rows)."""
    source = source if isinstance(source, Cached) else Cached(source)  # each column read once for every label
    codes, labels = source.label_codes()
    per_label = tuple(source_stats(name or "(no label)", codes == i, source) for i, name in enumerate(labels))
    return per_label, source_stats("all", np.ones(len(source), bool), source)


def source_confusion(source: ColumnSource, class_count: int) -> np.ndarray:
    """Counts of (true class, predicted class) over rows whose label and prediction are classes."""
    truth, guess = source.numpy("label_index"), source.numpy("predicted_index")
    valid = (truth >= 0) & (truth < class_count) & (guess >= 0) & (guess < class_count)
    counts = np.bincount(truth[valid] * class_count + guess[valid], minlength=class_count * class_count)
    return counts.reshape(class_count, class_count).astype(np.int64)


def summarise(rows: Sequence[ReviewRow], class_names: Sequence[str], total: int | None = None,
              complete: bool = True, seconds: float = 0.0, trust=None) -> ReviewResult:
    """A ReviewResult over `rows` (the confusion matrix and per-label statistics), with the
    trust verdicts when rows carry trust figures (`trust`: an engine.trust.review.TrustAccumulator
    of this run, for AUPRO and the mean curves)."""
    from engine.trust.review import trust_summary

    source = Cached(RowColumns(rows))
    per_label, overall = per_label_stats(source)
    return ReviewResult(tuple(rows), tuple(class_names), source_confusion(source, len(class_names)), per_label,
                        overall, len(rows) if total is None else total, complete, seconds,
                        trust_summary(rows, trust, trust_figures(source)))


def trust_figures(source: ColumnSource) -> Callable[[str | None], dict[str, float | None]]:
    """The means of the trust columns that declare an aggregate, per label ("(no label)" for
    images without one; None: over all rows), as engine.trust.review.trust_summary asks for them."""
    codes, labels = source.label_codes()
    names = [name or "(no label)" for name in labels]
    columns = aggregated(_rows.registry(), trust=True)

    def figures(label: str | None) -> dict[str, float | None]:
        keep = np.ones(len(source), bool) if label is None else codes == names.index(label)
        return means(source, keep, columns)

    return figures


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
