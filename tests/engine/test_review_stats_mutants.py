"""Review aggregates at their edges: counts per label, the confusion matrix's bounds, the
summary's words and JSON, and which images the report shows first.

Each test names the bug it guards against (found surviving by mutation testing, README
"Mutation testing").
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.review.columns import RowColumns
from engine.review.rows import ReviewRow
from engine.review.stats import (
    LabelStats,
    figures_line,
    per_label_stats,
    source_confusion,
    summarise,
    trust_figures,
    worst_cases,
)


def _rows() -> list[ReviewRow]:
    return [
        ReviewRow("b/1.png", "b", 1, "b", 1, 0.9, True, pointing_hit=True, energy_inside=0.8, iou=0.5),
        ReviewRow("b/2.png", "b", 1, "a", 0, 0.6, False, pointing_hit=False, energy_inside=0.2, deletion_auc=0.3),
        ReviewRow("3.png", None, None, "a", 0, 0.7, None),
        ReviewRow("b/4.png", "b", None, error="cannot read"),
    ]


def test_per_label_counts_and_figures():
    # bugs: an unreadable image not counted as an error, unlabelled images counted as labelled,
    # the no-label group misnamed, the overall group missing a row
    per_label, overall = per_label_stats(RowColumns(_rows()))
    assert [s.label for s in per_label] == ["(no label)", "b"]
    b = per_label[1]
    assert (b.images, b.errors, b.labelled, b.correct, b.with_mask) == (3, 1, 2, 1, 2)
    assert (b.accuracy, b.pointing, b.energy_inside, b.iou) == (0.5, 0.5, pytest.approx(0.5), 0.5)
    assert (overall.label, overall.images, overall.errors, overall.labelled) == ("all", 4, 1, 2)
    assert per_label[0].accuracy is None and per_label[0].pointing is None


def test_label_stats_json_has_counts_figures_and_accuracy():
    # bugs: the figures nested instead of flat, accuracy left out, a count dropped
    stats = LabelStats("b", 3, 1, 2, 1, 2, {"pointing": 0.5})
    assert stats.to_json() == {"label": "b", "images": 3, "errors": 1, "labelled": 2, "correct": 1,
                               "with_mask": 2, "pointing": 0.5, "accuracy": 0.5}


def test_figures_line_in_words():
    # bugs: a title, a separator or a figure's format changed in the summary line
    stats = LabelStats("all", 4, 0, 2, 1, 2, {"accuracy": 0.5, "pointing": 1.0, "energy_inside": 0.25})
    assert figures_line(stats) == "accuracy 50.0% · pointing game 100.0% · energy in mask 0.250 · IoU –"
    assert figures_line(stats, "; ").startswith("accuracy 50.0%; pointing game")


def test_confusion_counts_only_classes_within_range():
    # bugs: the last class dropped (< for <=), a missing or out-of-range index counted
    rows = [ReviewRow(f"{i}.png", "x", t, "x", p) for i, (t, p) in
            enumerate([(0, 0), (2, 2), (2, 0), (3, 0), (0, 3), (None, 1), (1, None), (-1, 1)])]
    confusion = source_confusion(RowColumns(rows), 3)
    assert confusion.dtype == np.int64
    assert confusion.tolist() == [[1, 0, 0], [0, 0, 0], [1, 0, 1]]
    # bug: the matrix sized by the classes seen, not by the model's
    assert source_confusion(RowColumns(rows[:1]), 3).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_summary_of_a_partial_review():
    # bugs: total taken from the rows when the folder holds more, the completeness or time lost
    rows = _rows()
    result = summarise(rows, ["a", "b"], total=10, complete=False, seconds=1.23456)
    data = result.to_json()
    assert (data["images_total"], data["images_done"], data["complete"], data["seconds"]) == (10, 4, False, 1.235)
    assert data["class_names"] == ["a", "b"] and data["accuracy"] == 0.5
    assert data["confusion_matrix"] == {"rows": "true class", "columns": "predicted class", "classes": ["a", "b"],
                                        "matrix": [[0, 0], [1, 1]]}
    assert list(data["per_label"]) == ["(no label)", "b"] and data["overall"]["images"] == 4
    assert summarise(rows, ["a", "b"]).total == 4


def test_verdict_and_trust_object_only_with_trust():
    # bug: a trust object (or verdict) reported for a review run without trust metrics
    result = summarise([ReviewRow("1.png", "a", 0, "a", 0, 0.9, True)], ["a"])
    assert result.trust is None and result.verdict is None and "trust" not in result.to_json()


def test_trust_figures_per_label_and_overall():
    # bugs: the label's rows not selected, the no-label group not found, trust means over other columns
    figures = trust_figures(RowColumns(_rows()))
    assert figures("b")["deletion_auc"] == 0.3
    assert figures("(no label)")["deletion_auc"] is None
    assert figures(None)["deletion_auc"] == 0.3
    assert set(figures(None)) == {"deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc",
                                  "mean_pixel_auroc"}


def _case(name: str, correct: bool | None, confidence: float = 0.5, energy: float | None = None) -> ReviewRow:
    return ReviewRow(name, "x", 0, "x", 0, confidence, correct, pointing_hit=None if energy is None else True,
                     energy_inside=energy)


def test_worst_cases_put_confident_mistakes_then_weak_evidence_first():
    # bugs: mistakes not sorted by confidence, weak evidence sorted the wrong way, places not shared
    rows = [_case("w1", False, 0.6), _case("w2", False, 0.9), _case("w3", False, 0.7),
            _case("e1", True, energy=0.4), _case("e2", None, energy=0.1), _case("e3", True, energy=0.8),
            _case("nomask", True)]
    assert [r.path for r in worst_cases(rows, 4)] == ["w2", "w3", "e2", "e1"]
    assert [r.path for r in worst_cases(rows, 3)] == ["w2", "e2", "e1"]
    assert [r.path for r in worst_cases(rows, 8)] == ["w2", "w3", "w1", "e2", "e1", "e3"]
    assert [r.path for r in worst_cases(rows[:3] + rows[3:4], 3)] == ["w2", "e1", "w3"]
    assert len(worst_cases(rows * 10)) == 24


def test_a_summary_is_complete_and_timeless_unless_told():
    # bug: the defaults of a summary made on the fly (the window's, the CLI's) changed
    result = summarise(_rows(), ["a", "b"])
    assert (result.complete, result.seconds) == (True, 0.0)


def test_trust_rows_give_a_trust_object_with_the_run_s_curves_and_figures():
    # bugs: the trust summary dropped, made without this run's accumulator or without the label figures
    from engine.trust.review import TrustAccumulator

    accumulator = TrustAccumulator()
    accumulator.mean_curves = lambda label: {"label": label}  # this run's curves, told apart per label
    rows = [ReviewRow("b/1.png", "b", 1, "b", 1, 0.9, True, pointing_hit=True, deletion_auc=0.25, flag="clear")]
    result = summarise(rows, ["a", "b"], trust=accumulator)
    data = result.to_json()
    assert data["trust"] is result.trust and result.verdict == result.trust["overall"]["verdict"]
    assert result.trust["per_label"]["b"]["mean_curves"] == {"label": "b"}
    assert result.trust["overall"]["deletion_auc"] == 0.25


def test_worst_cases_count_a_missing_confidence_or_energy_as_zero():
    # bugs: a mistake without a confidence ranked as the most confident, an image scored against a
    # mask without an energy share ranked as the strongest, spare places not all given to mistakes
    rows = [_case("none", False, None), _case("sure", False, 0.2), _case("e", True, energy=0.5),
            ReviewRow("noenergy", "x", 0, "x", 0, 0.5, True, pointing_hit=True)]
    assert [r.path for r in worst_cases(rows, 4)] == ["sure", "none", "noenergy", "e"]
    mistakes = [_case(f"w{i}", False, 0.9 - i / 10) for i in range(5)]
    assert [r.path for r in worst_cases(mistakes + [_case("e", True, energy=0.5)], 6)] == [
        "w0", "w1", "w2", "e", "w3", "w4"]
