"""The removal's control: the same shape painted out off the defect, on the most similar
surface; a removal whose control also changes the prediction is inconclusive, and the verdict
says so, naming what it measured against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.review.rows import ReviewRow
from engine.trust.removal import Removal, control_region, dilate, dilation_pixels
from engine.trust.verdict import (
    CLEAR,
    INSUFFICIENT,
    MIN_IMAGES,
    OFF_DEFECT,
    RIGHT_REASON,
    image_flag,
    verdict,
)

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def _image(display: np.ndarray) -> LoadedImage:
    return LoadedImage("x.png", display, display.astype(np.float32), False, "uint8", 8)


# Guards: the control overlapping the defect, changing shape, or placed on the least similar surface.
def test_control_has_the_shape_lies_off_the_defect_on_the_most_similar_surface():
    rng = np.random.default_rng(0)
    display = np.empty((120, 160, 3), np.uint8)
    display[:, :80] = rng.integers(20, 40, (120, 80, 3))  # dark, smooth left half
    display[:, 80:] = rng.integers(150, 250, (120, 80, 3))  # bright, grainy right half: the defect's surface
    region = np.zeros((120, 160), bool)
    region[50:60, 100:130] = True
    region[60:70, 100:105] = True  # an L shape
    other = np.zeros_like(region)
    other[10:20, 130:150] = True  # a second defect, kept clear too
    control = control_region(_image(display), region, other)
    assert control is not None and control.sum() == region.sum()
    rows, cols = np.nonzero(control)
    shape = control[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert np.array_equal(shape, region[50:70, 100:130])
    grow = dilation_pixels(120, 160)
    assert not (dilate(control, grow) & dilate(region | other, grow)).any()
    assert cols.min() >= 80  # on the bright surface the defect sits on


def test_no_control_when_the_region_fits_nowhere_off_the_defect():
    region = np.zeros((90, 90), bool)
    region[20:72, 20:72] = True  # a third of the image
    assert control_region(_image(np.full((90, 90, 3), 128, np.uint8)), region) is None


def _removal(kept: bool, control: int | None) -> Removal:
    painted = _image(np.zeros((4, 4, 3), np.uint8))
    return Removal(1, 0.9, 0.2, 1 if kept else 0, painted, None, control)


# Guards: a lost prediction counted as evidence although painting out the control lost it too.
def test_inconclusive_rule():
    assert not _removal(False, 1).inconclusive  # lost, control kept: the defect mattered
    assert _removal(False, 0).inconclusive  # lost, control lost too
    assert _removal(False, None).inconclusive  # lost, no room for a control
    assert not _removal(True, 0).inconclusive and _removal(True, None).kept  # survived: a shortcut sign either way


# The test: a box covering a third of the image makes the removal inconclusive.
def test_a_box_a_third_of_the_image_is_inconclusive_but_the_tight_box_is_not():
    from engine import Session
    from engine.review.masks import fit_mask, load_mask
    from engine.trust.removal import remove_defects

    session = Session.open(DEMO / "defects.keras")
    path = DEMO / "images" / "scratch" / "scratch_01.png"
    image = session.load_image(path)
    mask = fit_mask(load_mask(path), image.height, image.width) > 0
    rows, cols = np.nonzero(mask)
    tight = np.zeros_like(mask)
    tight[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
    side = int(round(image.height * 3 ** -0.5))
    top = int(np.clip(rows.mean() - side / 2, 0, image.height - side))
    left = int(np.clip(cols.mean() - side / 2, 0, image.width - side))
    big = np.zeros_like(mask)
    big[top:top + side, left:left + side] = True
    assert abs(big.mean() - 1 / 3) < 0.01 and (big >= mask).all()
    best = session.predict([image], top=1)[0].best
    assert session.class_name(best.index) == "scratch"
    tight_result, big_result = remove_defects(session, [image, image], [tight, big], [best.index] * 2,
                                              [best.probability] * 2)
    assert not big_result.kept and big_result.inconclusive
    assert not tight_result.kept and tight_result.control_kept and not tight_result.inconclusive


def _row(kept: bool | None, control: bool | None, kind: str = "box", flag: str = CLEAR) -> ReviewRow:
    return ReviewRow("scratch/x.png", "scratch", 1, correct=True, kept_after_removal=kept, flag=flag,
                     mask_kind=kind, control_kept_after_removal=control)


# Guards: inconclusive removals counted as lost (right-reason from boxes too big to judge),
# a sentence that hides the kind of region or the control.
def test_verdict_names_the_kind_and_leaves_inconclusive_removals_out():
    rows = [_row(False, True) for _ in range(6)] + [_row(False, False) for _ in range(3)] + [_row(True, None)]
    found = verdict(rows)
    assert found.verdict == RIGHT_REASON and found.inconclusive == 3 and found.kept == 1
    assert "(box regions) was painted out for 6 of 7" in found.reason
    assert "the same shape off the defect (the control) kept it" in found.reason
    assert "3 removals were inconclusive" in found.reason
    unsure = [_row(False, False) for _ in range(8)] + [_row(False, True) for _ in range(MIN_IMAGES - 1)]
    found = verdict(unsure)
    assert found.verdict == INSUFFICIENT and f"only {MIN_IMAGES - 1} of {MIN_IMAGES + 7}" in found.reason
    mixed = [_row(False, True, "pixel") for _ in range(3)] + [_row(False, True, "polygon") for _ in range(5)]
    assert "(polygon and pixel regions)" in verdict(mixed).reason
    old = [_row(False, None, "") for _ in range(6)]  # a review made before the control: judged as before
    assert verdict(old).verdict == RIGHT_REASON and verdict(old).inconclusive == 0


# Guards: a precise map flagged off-defect because a box's defect-free pixels rank low.
@pytest.mark.parametrize(("kind", "flag"), [("pixel", OFF_DEFECT), ("polygon", OFF_DEFECT), ("box", CLEAR),
                                            ("ellipse", CLEAR)])
def test_pixel_auroc_judges_only_regions_that_follow_the_defect(kind, flag):
    assert image_flag(0.9, 0.1, 0.6, False, True, kind) == flag
    assert image_flag(0.1, 0.1, 0.95, False, True, kind) == OFF_DEFECT  # the energy test holds for every kind
