"""Per-image flags and per-class / per-lot verdicts: is the model right for the right reason?

Per image with a defect mask (rules in the README, "Trust: the verdict"):

- ``off-defect``: the map's evidence is off the defect: its energy inside the mask is less
  than :data:`OFF_DEFECT_RATIO` times the mask's share of the image (a map spread at
  random puts about that share inside; Wang et al. 2020's energy-based pointing game), or
  its pixel AUROC against the mask is below :data:`LOW_PIXEL_AUROC`;
- ``survives-removal``: the explained class is still predicted after the defect was painted
  out (flagged for correctly classified images, whose explained class is the defect's).

Per class (folder label) and per lot, over the correctly classified images with a mask:

- ``insufficient-data`` with fewer than :data:`MIN_IMAGES` such images;
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


def image_flag(energy_inside: float | None, mask_share: float, pixel_auroc: float | None,
               kept: bool | None, correct: bool | None) -> str:
    """The flag of one image with a mask: "clear", or the reasons joined by "; "."""
    reasons = []
    low_energy = energy_inside is not None and energy_inside < OFF_DEFECT_RATIO * mask_share
    low_auroc = pixel_auroc is not None and pixel_auroc < LOW_PIXEL_AUROC
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

    @property
    def kept_rate(self) -> float | None:
        """kept / images, None without images."""
        return self.kept / self.images if self.images else None


def _names(labels: Sequence[str]) -> str:
    unique = list(dict.fromkeys(labels))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


def verdict(rows: Sequence) -> Verdict:
    """The verdict over review rows (those with a removal test and a correct prediction count)."""
    eligible = [r for r in rows if r.kept_after_removal is not None and r.correct is True]
    n = len(eligible)
    kept = sum(1 for r in eligible if r.kept_after_removal)
    off = sum(1 for r in eligible if OFF_DEFECT in (r.flag or ""))
    if n < MIN_IMAGES:
        return Verdict(INSUFFICIENT, f"only {n} correctly classified image{'s' if n != 1 else ''} with a defect "
                                     f"mask (at least {MIN_IMAGES} are needed)", n, kept, off)
    what = f"correctly classified {_names([r.label or '(no label)' for r in eligible])} images"
    if kept >= SHORTCUT_SHARE * n:
        return Verdict(SHORTCUT, f"the defect prediction survived painting the defect out for {kept} of {n} {what}",
                       n, kept, off)
    if off >= SHORTCUT_SHARE * n:
        return Verdict(SHORTCUT, f"the map's evidence lay off the defect for {off} of {n} {what} (energy in the mask "
                                 f"under {OFF_DEFECT_RATIO:g}x its area share, or pixel AUROC under {LOW_PIXEL_AUROC})",
                       n, kept, off)
    return Verdict(RIGHT_REASON, f"the defect prediction was lost when the defect was painted out for {n - kept} of "
                                 f"{n} {what}, and the map's evidence lay on the defect for {n - off} of them",
                   n, kept, off)
