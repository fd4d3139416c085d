"""Per-image flags and per-group verdicts on hand-made rows with known answers."""

from __future__ import annotations

import numpy as np

from engine.review.columns import RowColumns
from engine.review.rows import COLUMNS, ReviewRow, row_from_cells, row_to_cells
from engine.review.stats import trust_figures
from engine.trust.review import TrustAccumulator, trust_summary
from engine.trust.verdict import (
    CLEAR,
    INSUFFICIENT,
    LOW_PIXEL_AUROC,
    MIN_IMAGES,
    OFF_DEFECT,
    RIGHT_REASON,
    SHORTCUT,
    SURVIVES,
    image_flag,
    verdict,
)


def test_image_flags():
    assert image_flag(0.40, 0.02, 0.95, False, True) == CLEAR
    assert image_flag(0.03, 0.02, 0.95, False, True) == OFF_DEFECT  # energy under twice the area share
    assert image_flag(0.40, 0.02, LOW_PIXEL_AUROC - 0.01, False, True) == OFF_DEFECT
    assert image_flag(0.40, 0.02, 0.95, True, True) == SURVIVES
    assert image_flag(0.01, 0.02, 0.5, True, None) == f"{OFF_DEFECT}; {SURVIVES}"
    assert image_flag(0.40, 0.02, 0.95, True, False) == CLEAR  # a wrong prediction surviving is no shortcut sign


def _row(label: str, kept: bool | None, flag: str = CLEAR, correct: bool | None = True, **extra) -> ReviewRow:
    return ReviewRow(f"{label}/x.png", label, 1, correct=correct, kept_after_removal=kept, flag=flag, **extra)


def test_shortcut_sentence_gives_the_figures():
    rows = [_row("scratch", True) for _ in range(40)] + [_row("spot", True) for _ in range(39)] + [_row("spot", False)]
    found = verdict(rows)
    assert found.verdict == SHORTCUT and found.kept == 79 and found.images == 80
    assert found.reason == ("the defect prediction survived painting the defect out for 79 of 80 correctly "
                            "classified scratch and spot images")


def test_right_reason_insufficient_and_off_defect():
    good = [_row("crack", False) for _ in range(74)] + [_row("crack", True)]
    found = verdict(good)
    assert found.verdict == RIGHT_REASON and "74 of 75" in found.reason and found.kept_rate == 1 / 75
    few = [_row("crack", False) for _ in range(MIN_IMAGES - 1)] + [_row("ok", None), _row("crack", True, correct=False)]
    assert verdict(few).verdict == INSUFFICIENT and f"only {MIN_IMAGES - 1} " in verdict(few).reason
    off = [_row("spot", False, OFF_DEFECT) for _ in range(6)] + [_row("spot", False) for _ in range(4)]
    assert verdict(off).verdict == SHORTCUT and "off the defect for 6 of 10" in verdict(off).reason


def test_trust_rows_survive_the_csv_and_the_summary_has_every_field():
    row = _row("spot", True, SURVIVES, deletion_auc=0.1, insertion_auc=0.9, random_deletion_auc=0.5,
               random_insertion_auc=0.6, pixel_auroc=0.8, removal_probability=0.7)
    back = row_from_cells(dict(zip(COLUMNS, row_to_cells(row), strict=True)))
    assert back == row
    assert row_from_cells(dict(zip(COLUMNS, row_to_cells(_row("ok", None, "")), strict=True))).kept_after_removal is None
    rows = [row] * 6 + [_row("ok", None, "", deletion_auc=0.3, insertion_auc=0.8)]
    summary = trust_summary(rows, figures=trust_figures(RowColumns(rows)))
    wanted = {"verdict", "verdict_reason", "kept_after_removal_rate", "aupro", "mean_pixel_auroc", "deletion_auc",
              "insertion_auc"}
    assert wanted <= set(summary["overall"]) and set(summary["per_label"]) == {"ok", "spot"}
    assert summary["overall"]["verdict"] == SHORTCUT and summary["per_label"]["ok"]["verdict"] == INSUFFICIENT
    assert summary["per_label"]["spot"]["kept_after_removal_rate"] == 1.0
    assert summary["overall"]["deletion_auc"] == np.mean([0.1] * 6 + [0.3])
    assert trust_summary([_row("ok", None, "")]) is None


def test_accumulator_gives_aupro_and_mean_curves():
    from engine.review.runner import ReviewedImage
    from engine.trust.faithfulness import Curves, Faithfulness
    from engine.trust.review import ImageTrust

    mask = np.zeros((10, 10), bool)
    mask[2:4, 2:4] = True
    fractions = np.array([0.0, 0.5, 1.0])
    curve = Faithfulness(1, fractions, Curves(np.array([1.0, 0.2, 0.0]), np.array([0.0, 0.8, 1.0])),
                         Curves(np.array([1.0, 0.6, 0.0]), np.array([0.0, 0.4, 1.0])), None, 1)
    item = ReviewedImage(_row("spot", False), None, mask.astype(np.float32), mask, ImageTrust(curve, object()))
    acc = TrustAccumulator()
    acc.add([item, item])
    assert acc.aupro["spot"].value() == 1.0 and acc.aupro["all"].images == 2
    mean = acc.mean_curves("spot")
    assert mean["images"] == 2 and mean["map"]["deletion"] == [1.0, 0.2, 0.0]
    assert trust_summary([item.row] * 5, acc)["overall"]["aupro"] == 1.0


def test_accumulators_merge_like_one():
    from engine.trust.localisation import AuproAccumulator

    rng = np.random.default_rng(5)
    masks = [rng.random((12, 12)) > 0.8 for _ in range(4)]
    maps = [rng.random((12, 12)) for _ in range(4)]
    whole, first, second = AuproAccumulator(), AuproAccumulator(), AuproAccumulator()
    for i, (m, k) in enumerate(zip(maps, masks, strict=True)):
        whole.add(m, k)
        (first if i < 2 else second).add(m, k)
    first.merge(second)
    assert first.value() == whole.value() and first.images == 4
    a, b = TrustAccumulator(), TrustAccumulator()
    b.aupro["spot"] = whole
    b.curves["spot"] = {"fractions": np.array([0.0, 1.0]), "images": 2, "map": np.ones((2, 2)),
                        "random": np.ones((2, 2))}
    a.merge(b)
    a.merge(b)
    assert a.aupro["spot"].images == 8 and a.mean_curves("spot")["images"] == 4
    assert a.mean_curves("spot")["map"]["deletion"] == [0.5, 0.5]
