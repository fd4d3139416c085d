"""What every explanation method shares: its description, its inputs, its raw output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from engine.errors import Cancelled
from engine.model.context import ModelContext
from engine.params import Param, check_params
from engine.types import InputBatch

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class Job:
    """One request: a batch of preprocessed inputs and what to explain in them."""

    inputs: InputBatch  # (B, H, W, C) float32, preprocessed for the model
    classes: np.ndarray  # (B,) int32 class index per image; -1 = the predicted class
    layer: str | None  # layer path for CAMs, None for input-gradient methods
    output: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    progress: Progress | None = None
    cancel: CancelCheck | None = None
    preprocessing: str = "none"  # the model's pixel scaling, for baselines built in pixel space

    @property
    def cam_layer(self) -> str:
        """The target layer of a CAM job (the session resolves one for every method that
        needs a layer; a job without one is a programming error, not bad input)."""
        if self.layer is None:
            raise ValueError("a CAM job needs a target layer")
        return self.layer

    def report(self, done: int, total: int) -> None:
        """Report progress and stop here if the user cancelled."""
        if self.cancel is not None and self.cancel():
            raise Cancelled()
        if self.progress is not None:
            self.progress(done, total)


@dataclass(frozen=True)
class RawMaps:
    """A method's output for a batch: maps at their own resolution and the output logits."""

    maps: np.ndarray  # (B, h, w) float32, not yet normalised
    logits: np.ndarray  # (B, units) raw logits of the chosen output
    classes: np.ndarray  # (B,) the class explained for each image
    notes: tuple[str, ...] = ()
    # Input-gradient methods only: (B, H, W, C) signed attributions at the model input's
    # resolution, kept for polarity views and returned as Explanation.raw.
    attributions: np.ndarray | None = None


class Method:
    """Base class: subclasses set the class attributes and implement `run`."""

    name: ClassVar[str]
    title: ClassVar[str]
    needs_layer: ClassVar[bool]  # CAMs need a 4-D layer; input-gradient methods do not
    parameters: ClassVar[tuple[Param, ...]] = ()  # declared once: CLI, GUI, README come from it
    # What the raw map's zero means, for its normalisation (engine.maps.normalise.FLOORS): "zero"
    # is "no evidence" (ReLU'd CAMs, magnitudes, drops), "min" when the map has no meaningful zero.
    floor: ClassVar[str] = "zero"
    # The map is about the image, not about a class (Eigen-CAM): said in titles, JSON and reviews.
    class_agnostic: ClassVar[bool] = False

    def __init__(self, context: ModelContext) -> None:
        self.context = context

    def params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every declared parameter's value (the given ones checked, the rest defaults)."""
        return check_params(self.parameters, given, self.name)

    def run(self, job: Job) -> RawMaps:
        """Compute raw maps for the job's batch."""
        raise NotImplementedError
