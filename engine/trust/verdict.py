"""Per-image flags and per-class / per-lot verdicts: is the model right for the right reason?

Per image with a defect mask (rules in the README, "Trust: the verdict"):

- ``off-defect``: the map's evidence is off the defect: its energy inside the mask is less
  than :data:`OFF_DEFECT_RATIO` times the mask's share of the image (a map spread at
  random puts about that share inside; Wang et al. 2020's energy-based pointing game), or
  its pixel AUROC against the mask is below :data:`LOW_PIXEL_AUROC` (for masks that follow
  the defect, pixel or polygon: against a box or an ellipse, a map sharp on a thin scratch
  ranks the box's many defect-free pixels low, so only the energy test is fair there);
- ``survives-removal``: the explained class is still predicted after the defect was painted
  out (flagged for correctly classified images, whose explained class is the defect's).

A removal that lost the prediction counts only when its control (the same region painted
out off the defect, engine.trust.removal) kept it; otherwise it is *inconclusive* (a coarse
box can be so large that painting it out anywhere changes the prediction) and is left out
of the removal test. Rows of reviews made before the control (no ``mask_kind``) count as before.

Per class (folder label) and per lot, over the correctly classified images with a mask:

- ``insufficient-data`` with fewer than :data:`MIN_IMAGES` such images, or fewer than that
  many with a conclusive removal;
- ``shortcut-suspected`` when the prediction survived removal for at least
  :data:`SHORTCUT_SHARE` of them (shortcut learning, Geirhos et al. 2020; the removal test
  follows the counterfactual inpainting of DeGrave et al. 2021), or when the evidence was
  off the defect for at least that share;
- ``right-reason`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OFF_DEFECT_RATIO = 2.0
LOW_PIXEL_AUROC = 0.7
SHORTCUT_SHARE = 0.5
MIN_IMAGES = 5

RIGHT_REASON, SHORTCUT, INSUFFICIENT = "right-reason", "shortcut-suspected", "insufficient-data"
OFF_DEFECT, SURVIVES, CLEAR = "off-defect", "survives-removal", "clear"


COARSE_KINDS = ("box", "ellipse")  # regions drawn around a defect rather than along it


def image_flag(energy_inside: float | None, mask_share: float, pixel_auroc: float | None,
               kept: bool | None, correct: bool | None, mask_kind: str = "") -> str:
    """The flag of one image with a mask: "clear", or the reasons joined by "; " (the pixel
    AUROC test is left out for coarse regions, `mask_kind` box or ellipse)."""
    reasons = []
    low_energy = energy_inside is not None and energy_inside < OFF_DEFECT_RATIO * mask_share
    low_auroc = pixel_auroc is not None and pixel_auroc < LOW_PIXEL_AUROC and mask_kind not in COARSE_KINDS
    if low_energy or low_auroc:
        reasons.append(OFF_DEFECT)
    if kept and correct is not False:
        reasons.append(SURVIVES)
    return "; ".join(reasons) or CLEAR


@dataclass(frozen=True)
class Verdict:
    """A verdict with the sentence that gives its figures."""

    verdict: str
    reason: str
    images: int  # correctly classified images with a mask and a removal test
    kept: int  # of which the prediction survived removal
    off_defect: int  # of which the evidence was off the defect
    inconclusive: int = 0  # of which the removal lost the prediction but so did its control

    @property
    def kept_rate(self) -> float | None:
        """kept / images, None without images."""
        return self.kept / self.images if self.images else None


def _names(labels: Sequence[str]) -> str:
    unique = list(dict.fromkeys(labels))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def is_inconclusive(row) -> bool:
    """True when the row's removal lost the prediction and its control did not keep it (or none
    fitted off the defect); rows without a mask kind predate the control and count as before."""
    if row.kept_after_removal is not False or not row.mask_kind:
        return False
    return row.control_kept_after_removal is not True


def measured_against(rows: Sequence) -> str:
    """What the regions were, in words: "pixel masks", "box and polygon annotations", ..."""
    kinds = [r.mask_kind for r in rows if r.mask_kind]
    if not kinds:
        return ""
    ordered = sorted(set(kinds), key=lambda k: -kinds.count(k))
    return f"{_names(ordered)} {'masks' if ordered == ['pixel'] else 'regions'}"


def images_short(rows: Sequence) -> int:
    """How many more correctly classified images with a conclusive defect removal the verdict
    needs before it can be more than insufficient-data (0: enough)."""
    eligible = [r for r in rows if r.kept_after_removal is not None and r.correct is True]
    tested = len(eligible) - sum(1 for r in eligible if is_inconclusive(r))
    return max(0, MIN_IMAGES - tested)


def verdict(rows: Sequence) -> Verdict:
    """The verdict over review rows (those with a removal test and a correct prediction count)."""
    eligible = [r for r in rows if r.kept_after_removal is not None and r.correct is True]
    n = len(eligible)
    kept = sum(1 for r in eligible if r.kept_after_removal)
    off = sum(1 for r in eligible if OFF_DEFECT in (r.flag or ""))
    unsure = sum(1 for r in eligible if is_inconclusive(r))
    tested, against = n - unsure, measured_against(eligible)
    region = f" ({against})" if against else ""
    control = (f"; {unsure} removal{'s were' if unsure != 1 else ' was'} inconclusive (painting out the same "
               "shape off the defect, the control, changed the prediction too, or no place off the defect could "
               "hold it)") if unsure else ""
    if n < MIN_IMAGES or tested < MIN_IMAGES:
        why = (f"only {n} correctly classified image{'s' if n != 1 else ''} with a defect mask" if n < MIN_IMAGES
               else f"only {tested} of {n} correctly classified images had a conclusive defect removal")
        measured = f", measured against {against}" if against else ""
        return Verdict(INSUFFICIENT, f"{why} (at least {MIN_IMAGES} are needed){measured}{control}",
                       n, kept, off, unsure)
    what = f"correctly classified {_names([r.label or '(no label)' for r in eligible])} images"
    if kept >= SHORTCUT_SHARE * tested:
        return Verdict(SHORTCUT, f"the defect prediction survived painting the defect{region} out for {kept} of "
                                 f"{tested} {what}{control}", n, kept, off, unsure)
    if off >= SHORTCUT_SHARE * n:
        return Verdict(SHORTCUT, f"the map's evidence lay off the defect{region} for {off} of {n} {what} (energy "
                                 f"in the region under {OFF_DEFECT_RATIO:g}x its area share, or pixel AUROC under "
                                 f"{LOW_PIXEL_AUROC})", n, kept, off, unsure)
    controlled = ", while painting out the same shape off the defect (the control) kept it" if against else ""
    of = "of them" if tested == n else f"of all {n}"
    return Verdict(RIGHT_REASON, f"the defect prediction was lost when the defect{region} was painted out for "
                                 f"{tested - kept} of {tested} {what}{controlled}, and the map's evidence lay on the "
                                 f"defect for {n - off} {of}{control}", n, kept, off, unsure)
