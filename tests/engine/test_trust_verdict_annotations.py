"""The verdict's sentence and counts over annotated rows (mask kinds, the removal's control):
each test names the bug it guards against; the sentences are the ones a user reads in the
report and the window, so they are compared whole."""

from __future__ import annotations

from engine.review.rows import ReviewRow
from engine.trust.verdict import (
    CLEAR,
    INSUFFICIENT,
    MIN_IMAGES,
    OFF_DEFECT,
    RIGHT_REASON,
    SHORTCUT,
    measured_against,
    verdict,
)

INCONCLUSIVE_WHY = ("inconclusive (painting out the same shape off the defect, the control, changed the "
                    "prediction too, or no place off the defect could hold it)")


def _row(kept: bool | None, control: bool | None = True, kind: str = "box", flag: str = CLEAR) -> ReviewRow:
    return ReviewRow("scratch/x.png", "scratch", 1, correct=True, kept_after_removal=kept, flag=flag,
                     mask_kind=kind, control_kept_after_removal=control)


def _lost(count: int, kind: str = "box") -> list[ReviewRow]:
    return [_row(False, True, kind) for _ in range(count)]


def _unsure(count: int, kind: str = "box") -> list[ReviewRow]:
    return [_row(False, False, kind) for _ in range(count)]


# Guards: kinds named in an arbitrary order instead of the most frequent first (the order may
# happen to be right for one lot, so both lots are checked); pixel masks called regions or
# regions called masks.
def test_measured_against_names_the_most_frequent_kind_first_and_pixel_masks_as_masks():
    assert measured_against(_lost(5, "box") + _lost(1, "pixel")) == "box and pixel regions"
    assert measured_against(_lost(1, "box") + _lost(5, "pixel")) == "pixel and box regions"
    assert measured_against(_lost(3, "pixel")) == "pixel masks"
    assert measured_against(_lost(3, "polygon")) == "polygon regions"
    assert measured_against(_lost(3, "")) == ""


# Guards: the right-reason sentence claiming a control on a review that had none, or losing
# its wording; "of them" when some removals were left out as inconclusive.
def test_right_reason_sentence_with_and_without_the_control():
    found = verdict(_lost(6) + _unsure(1) + [_row(True)])
    assert found.reason == ("the defect prediction was lost when the defect (box regions) was painted out for 6 of 7 "
                            "correctly classified scratch images, while painting out the same shape off the defect "
                            "(the control) kept it, and the map's evidence lay on the defect for 8 of all 8; "
                            f"1 removal was {INCONCLUSIVE_WHY}")
    old = verdict([_row(False, None, "") for _ in range(MIN_IMAGES)])
    assert old.reason == ("the defect prediction was lost when the defect was painted out for 5 of 5 correctly "
                          "classified scratch images, and the map's evidence lay on the defect for 5 of them")


# Guards: "1 removals were", a wrong count of inconclusive removals in the sentence or the fields.
def test_inconclusive_removals_are_counted_in_words_and_fields():
    assert f"; 2 removals were {INCONCLUSIVE_WHY}" in verdict(_lost(6) + _unsure(2)).reason
    assert f"; 1 removal was {INCONCLUSIVE_WHY}" in verdict(_lost(6) + _unsure(1)).reason
    assert "inconclusive" not in verdict(_lost(6)).reason


# Guards: the inconclusive count or the off-defect count dropped or swapped in each branch.
def test_every_verdict_keeps_its_counts():
    kept = verdict([_row(True, None, flag=OFF_DEFECT)] * 2 + [_row(True)] * 4 + _unsure(3))
    assert (kept.verdict, kept.images, kept.kept, kept.off_defect, kept.inconclusive) == (SHORTCUT, 9, 6, 2, 3)
    off = verdict([_row(False, True, flag=OFF_DEFECT)] * 6 + _unsure(2))
    assert (off.verdict, off.images, off.kept, off.off_defect, off.inconclusive) == (SHORTCUT, 8, 0, 6, 2)
    assert off.reason.startswith("the map's evidence lay off the defect (box regions) for 6 of 8 correctly "
                                 "classified scratch images")
    few = verdict(_lost(2) + _unsure(1))
    assert (few.verdict, few.images, few.inconclusive) == (INSUFFICIENT, 3, 1)
    right = verdict(_lost(6) + _unsure(1))
    assert (right.verdict, right.inconclusive, right.off_defect) == (RIGHT_REASON, 1, 0)


# Guards: the minimum's boundary: with exactly MIN_IMAGES images of which one was inconclusive,
# the sentence must say the conclusive removals were too few, not the images.
def test_insufficient_sentence_at_the_minimum_and_what_it_was_measured_against():
    found = verdict(_lost(MIN_IMAGES - 1) + _unsure(1))
    assert found.verdict == INSUFFICIENT
    assert found.reason == (f"only {MIN_IMAGES - 1} of {MIN_IMAGES} correctly classified images had a conclusive "
                            f"defect removal (at least {MIN_IMAGES} are needed), measured against box regions; "
                            f"1 removal was {INCONCLUSIVE_WHY}")
    old = verdict([_row(False, None, "") for _ in range(MIN_IMAGES - 1)])
    assert old.reason == (f"only {MIN_IMAGES - 1} correctly classified images with a defect mask "
                          f"(at least {MIN_IMAGES} are needed)")
    assert verdict(_lost(MIN_IMAGES)).verdict == RIGHT_REASON
