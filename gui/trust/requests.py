"""Requests the Trust view sends to the engine, and what comes back. Frozen, no Qt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gui.jobs import Explain


@dataclass(frozen=True)
class TrustCheck:
    """Deletion / insertion curves of the explanation `explain` names, and, when the image has a
    defect mask, the defect painted out and predicted again."""

    explain: Explain


@dataclass(frozen=True)
class SanityRequest:
    """The cascading randomisation test of `methods` on the image and class of `explain`."""

    explain: Explain
    methods: tuple[str, ...]


@dataclass(frozen=True)
class TrustResult:
    """What a TrustCheck found."""

    request: TrustCheck
    class_name: str
    faithfulness: object  # engine.trust.faithfulness.Faithfulness
    display: np.ndarray  # the image (H, W, 3) uint8
    painted: np.ndarray | None = None  # the image with the defect painted out; None without a mask
    region: np.ndarray | None = None  # the defect region painted out
    probability_before: float | None = None
    probability_after: float | None = None  # the explained class's, after removal
    predicted_after: str = ""  # the class predicted after removal
    kept: bool | None = None
    defect_class: bool = True  # False for the defect-free class ("ok", "good", ...): removal says nothing then


@dataclass(frozen=True)
class SanityDisplay:
    """A SanityRequest's results (engine.trust.sanity.SanityResult, maps included)."""

    request: SanityRequest
    class_name: str
    results: tuple


@dataclass(frozen=True)
class CompareTrust:
    """Deletion / insertion curves of every compare tile's map (one image)."""

    items: tuple[Explain, ...]


@dataclass(frozen=True)
class CompareTrustResult:
    """Per tile, in `request.items` order: the areas (map and controls), whether it beats both controls
    (False when inconclusive) and whether its curves can rank maps at all (engine.trust.faithfulness:
    conclusive; empty: every tile conclusive)."""

    request: CompareTrust
    aucs: tuple[dict, ...]
    faithful: tuple[bool, ...]
    conclusive: tuple[bool, ...] = ()

    def is_conclusive(self, index: int) -> bool:
        """Whether tile `index`'s curves can rank maps (True when not reported)."""
        return self.conclusive[index] if index < len(self.conclusive) else True

    def best(self) -> int | None:
        """The tile whose map is most faithful: the largest insertion minus deletion area (a ranking
        of the areas only; the tiles do not mark it when its curves are inconclusive)."""
        if not self.aucs:
            return None
        scores = [a["insertion_auc"] - a["deletion_auc"] for a in self.aucs]
        return int(max(range(len(scores)), key=scores.__getitem__))
