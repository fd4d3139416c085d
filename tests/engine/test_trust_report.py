"""The HTML report with trust figures: the verdict first, the per-class curves, flagged images first."""

from __future__ import annotations

from engine.review.report import render_report
from engine.review.rows import ReviewRow
from engine.review.stats import summarise
from engine.review.trust_report import curves_svg, flagged_first
from engine.trust.review import TrustAccumulator


def _row(name: str, flag: str, kept: bool, correct: bool = True) -> ReviewRow:
    return ReviewRow(f"spot/{name}.png", "spot", 2, predicted="spot", predicted_index=2, confidence=0.9,
                     correct=correct, explained="spot", explained_index=2, mask="class", pointing_hit=True,
                     energy_inside=0.4, iou=0.5, deletion_auc=0.1, insertion_auc=0.9, random_deletion_auc=0.5,
                     random_insertion_auc=0.5, pixel_auroc=0.9, removal_probability=0.8, kept_after_removal=kept,
                     flag=flag)


def test_report_opens_with_the_verdict_and_shows_flagged_images_first():
    rows = [_row(f"clear_{i}", "clear", False) for i in range(3)] + [_row(f"kept_{i}", "survives-removal", True)
                                                                     for i in range(4)]
    result = summarise(rows, ("ok", "scratch", "spot"), trust=TrustAccumulator())
    assert result.verdict == "shortcut-suspected"
    html = render_report(result, {}, "complete", lambda row: None)
    assert html.index('id=verdict') < html.index("<table class=meta>")  # the verdict before everything else
    assert "survived painting the defect out for 4 of 7 correctly classified spot images" in html
    assert "<table id=trust>" in html and "Trust metrics" in html
    sheet = html[html.index("<h2>Worst cases"):]
    assert sheet.index("kept_0") < sheet.index("clear_0")


def test_no_trust_no_trust_sections():
    rows = [ReviewRow("a.png", "ok", 0, predicted="ok", predicted_index=0, correct=True)]
    html = render_report(summarise(rows, ("ok",)), {}, "complete", lambda row: None)
    assert "id=verdict" not in html and "<table id=trust>" not in html


def test_curves_svg_and_flagged_first():
    curves = {"fractions": [0.0, 0.5, 1.0], "map": {"deletion": [1.0, 0.2, 0.0], "insertion": [0.0, 0.8, 1.0]},
              "random": {"deletion": [1.0, 0.5, 0.0], "insertion": [0.0, 0.5, 1.0]}}
    svg = curves_svg(curves, "deletion", size=100)
    assert svg.count("<polyline") == 2 and 'points="4.0,4.0 50.0,77.6 96.0,96.0"' in svg
    rows = [_row("a", "clear", False), _row("b", "off-defect", False), _row("c", "", False)]
    assert [r.path for r in flagged_first(rows, rows[:1], count=2)] == ["spot/b.png", "spot/a.png"]
