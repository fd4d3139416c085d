"""The trust columns of a lot review and the `trust` object of its summary.

:func:`add_trust` is called by engine.review.runner for each group of reviewed images
(``ReviewOptions.trust``): deletion / insertion curves with the random control for every
image, and for images with a mask the pixel AUROC, the defect removal and the flag.
:class:`TrustAccumulator` keeps what the rows cannot hold (AUPRO's threshold histograms,
the curves summed per label); :func:`trust_summary` turns rows (and the accumulator, when
the review ran in this process) into the verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.trust.faithfulness import REVIEW_STEPS, Faithfulness, faithfulness
from engine.trust.localisation import AuproAccumulator, pixel_auroc
from engine.trust.removal import Removal, remove_defects
from engine.trust.verdict import image_flag, measured_against, verdict

REVIEW_SEEDS = 1  # one random order per image: a lot's mean averages over its images anyway
ALL = "all"


@dataclass(frozen=True)
class ImageTrust:
    """What the trust step found for one image, beyond its row."""

    faithfulness: Faithfulness
    removal: Removal | None  # None without a mask


def add_trust(session, reviewed: list, output: int = 0, cancel: Callable[[], bool] | None = None,
              steps: int = REVIEW_STEPS, seeds: int = REVIEW_SEEDS) -> list:
    """The reviewed images (one model-input size) with their trust columns and `trust` filled."""
    todo = [i for i, item in enumerate(reviewed) if item.image is not None and item.heatmap is not None]
    if not todo:
        return reviewed
    items = [reviewed[i] for i in todo]
    classes = [int(item.row.explained_index) for item in items]
    curves = faithfulness(session, [it.image for it in items], [it.heatmap for it in items], classes, steps, seeds,
                          edges=False, output=output, cancel=cancel)
    masked = [k for k, it in enumerate(items) if it.region is not None and it.region.any()]
    removals = remove_defects(session, [items[k].image for k in masked], [items[k].region for k in masked],
                              [classes[k] for k in masked], [curves[k].map.deletion[0] for k in masked], output,
                              avoid=[getattr(items[k], "others", None) for k in masked])
    removal_of = dict(zip(masked, removals, strict=True))
    out = list(reviewed)
    for k, index in enumerate(todo):
        out[index] = _with_trust(items[k], curves[k], removal_of.get(k))
    return out


def _with_trust(item, curve: Faithfulness, removal: Removal | None):
    aucs = curve.aucs()
    fields: dict[str, Any] = {name: aucs[name] for name in
                              ("deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc")}
    if removal is not None:
        auroc = pixel_auroc(item.heatmap, item.region)
        share = float(np.mean(item.region))
        fields.update(pixel_auroc=auroc, removal_probability=removal.probability_after,
                      kept_after_removal=removal.kept, control_kept_after_removal=removal.control_kept,
                      flag=image_flag(item.row.energy_inside, share, auroc, removal.kept, item.row.correct,
                                      item.row.mask_kind))
    return replace(item, row=replace(item.row, **fields), trust=ImageTrust(curve, removal))


class TrustAccumulator:
    """Per label (and over the lot): AUPRO's histograms and the summed curves."""

    def __init__(self) -> None:
        """Empty."""
        self.aupro: dict[str, AuproAccumulator] = {}
        self.curves: dict[str, dict[str, Any]] = {}

    def add(self, reviewed: Sequence) -> None:
        """Count a batch of reviewed images (those without trust data are skipped)."""
        for item in reviewed:
            found = getattr(item, "trust", None)
            if found is None:
                continue
            for label in (ALL, item.row.label or "(no label)"):
                self._add_curves(label, found.faithfulness)
                if found.removal is not None:
                    self.aupro.setdefault(label, AuproAccumulator()).add(item.heatmap, item.region)

    def merge(self, other: TrustAccumulator) -> None:
        """Add another accumulator's figures (a review split over workers, e.g. Ray actors)."""
        for label, aupro in other.aupro.items():
            self.aupro.setdefault(label, AuproAccumulator(aupro.bins)).merge(aupro)
        for label, entry in other.curves.items():
            mine = self.curves.setdefault(label, {"fractions": entry["fractions"], "images": 0,
                                                  "map": np.zeros_like(entry["map"]),
                                                  "random": np.zeros_like(entry["random"])})
            if len(mine["fractions"]) == len(entry["fractions"]):
                mine["images"] += entry["images"]
                mine["map"] += entry["map"]
                mine["random"] += entry["random"]

    def _add_curves(self, label: str, curve: Faithfulness) -> None:
        entry = self.curves.setdefault(label, {"fractions": curve.fractions, "images": 0,
                                               "map": np.zeros((2, len(curve.fractions))),
                                               "random": np.zeros((2, len(curve.fractions)))})
        if len(entry["fractions"]) != len(curve.fractions):
            return
        entry["images"] += 1
        entry["map"] += np.stack([curve.map.deletion, curve.map.insertion])
        entry["random"] += np.stack([curve.random.deletion, curve.random.insertion])

    def mean_curves(self, label: str) -> dict[str, Any] | None:
        """The label's curves averaged over its images (JSON-ready), None without any."""
        entry = self.curves.get(label)
        if not entry or not entry["images"]:
            return None
        n = entry["images"]
        return {"images": n, "fractions": entry["fractions"].tolist(),
                "map": {"deletion": (entry["map"][0] / n).tolist(), "insertion": (entry["map"][1] / n).tolist()},
                "random": {"deletion": (entry["random"][0] / n).tolist(),
                           "insertion": (entry["random"][1] / n).tolist()}}


Figures = Callable[[str | None], dict[str, Any]]  # a label's (None: all rows') means of the trust columns


def label_trust(rows: Sequence, aupro: AuproAccumulator | None, curves: dict[str, Any] | None,
                figures: dict[str, Any] | None = None) -> dict[str, Any]:
    """The trust figures and verdict of one group of rows, with `figures`: the means of the trust
    columns that declare one (engine.review.stats.trust_figures; trust sits below the review)."""
    found = verdict(rows)
    flagged = sum(1 for r in rows if r.flag and r.flag != "clear")
    return {"verdict": found.verdict, "verdict_reason": found.reason,
            "kept_after_removal_rate": found.kept_rate, "kept_after_removal": found.kept,
            "removal_images": found.images, "off_defect": found.off_defect, "flagged": flagged,
            "inconclusive_removals": found.inconclusive, "measured_against": measured_against(rows),
            "aupro": aupro.value() if aupro is not None else None,
            "aupro_images": aupro.images if aupro is not None else 0,
            **(figures or {}),
            "mean_curves": curves}


def has_trust(rows: Sequence) -> bool:
    """True when any row carries trust figures."""
    return any(r.deletion_auc is not None or r.flag for r in rows)


def trust_summary(rows: Sequence, accumulator: TrustAccumulator | None = None,
                  figures: Figures | None = None) -> dict[str, Any] | None:
    """The summary's `trust` object: `overall` and `per_label`, each with its verdict (and the
    trust columns' means, `figures(label)`); None when no row has trust figures. AUPRO and mean
    curves need the accumulator (a review run in this process); without it they are None."""
    if not has_trust(rows):
        return None
    acc = accumulator or TrustAccumulator()
    labels = sorted({r.label or "(no label)" for r in rows})
    per_label = {name: label_trust([r for r in rows if (r.label or "(no label)") == name], acc.aupro.get(name),
                                   acc.mean_curves(name), figures(name) if figures else None) for name in labels}
    overall = label_trust(rows, acc.aupro.get(ALL), acc.mean_curves(ALL), figures(None) if figures else None)
    return {"overall": overall, "per_label": per_label}


def verdict_line(trust: dict[str, Any]) -> str:
    """One line for a terminal: the lot's verdict and its reason."""
    overall = trust["overall"]
    return f"verdict: {overall['verdict'].upper()}: {overall['verdict_reason']}"
