"""Requests the window sends to the engine worker, the method descriptions it gets back,
and the cache of finished explanations. Plain frozen dataclasses: no Qt, no TensorFlow."""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from engine.maps.combine import COMBINATIONS
from engine.params import Param
from engine.review.runner import ReviewOptions


@dataclass(frozen=True)
class OpenModel:
    """Load a model file; a failure leaves the previous model in place."""

    path: str
    trust: bool = False


@dataclass(frozen=True)
class PredictFolder:
    """Predict every image, in batches, reporting each batch as it is done."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Explain:
    """Explain one image with one method, layer and class (None = the predicted class) of one
    model output (multi-output models)."""

    path: str
    method: str
    layer: str | None
    class_index: int | None
    params: tuple[tuple[str, Any], ...] = ()
    output: int = 0

    def key(self, model: str) -> tuple:
        """The cache key: the image file's identity and everything that changes the map."""
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            mtime = -1
        return (model, self.path, mtime, self.method, self.layer, self.class_index, self.params, self.output)


@dataclass(frozen=True)
class Compare:
    """Several explanations of the same image, one per tile."""

    items: tuple[Explain, ...]


@dataclass(frozen=True)
class Activations:
    """The feature maps of a layer for an image, as a grid picture."""

    path: str
    layer: str


@dataclass(frozen=True)
class Patterns:
    """Filter patterns of a layer by gradient ascent; partial grids arrive as it runs."""

    layer: str
    count: int = 16
    size: int = 64
    steps: int = 40
    regularised: bool = True  # jitter, blur and pre-activation; False = seed 002's plain ascent


@dataclass(frozen=True)
class ReviewFolder:
    """Review a folder like `convscope batch`: predict, explain and score every image with
    `options` (the engine's own ReviewOptions); with a report folder, also write results.csv,
    summary.json, report.html and overlays there (`resume` continues the review already there)."""

    folder: str
    options: ReviewOptions = field(default_factory=ReviewOptions)
    report_folder: str = ""
    resume: bool = False


@dataclass(frozen=True)
class MethodSpec:
    """What the window needs to know about one engine method: its declared parameters
    (engine.params.Param, frozen, so safe to send from the worker thread)."""

    name: str
    title: str
    needs_layer: bool
    parameters: tuple[Param, ...] = ()

    def combinations(self) -> tuple[Param, ...]:
        """The map combinations that apply to this method."""
        return tuple(p for p in COMBINATIONS if p.applies(self.needs_layer))


@dataclass(frozen=True)
class FeatureResult:
    """A grid picture for the features tab."""

    image: np.ndarray  # (H, W, 3) uint8
    caption: str
    final: bool = True
    columns: int = 8
    tiles: np.ndarray | None = field(default=None, compare=False)  # (N, h, w, 3) for export
    kind: str = "activations"  # or "filters"
    path: str = ""  # the image the activations belong to ("" for filter patterns)


class ResultCache:
    """A small least-recently-used cache of (Explanation, display image) pairs."""

    def __init__(self, limit: int = 96) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple, tuple] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        """The cached pair, or None."""
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: tuple, value: tuple) -> None:
        """Store a pair, dropping the oldest beyond the limit."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (a new model was loaded)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
