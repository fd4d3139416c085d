"""A deployed-export stand-in computed with numpy: a real black-box Session (engine.black_box)
over a tiny classifier, so comparisons and black-box code run in milliseconds without TensorFlow.

The classifier looks at one region of a 16 x 16 image: each class's logit is a weight times
the mean brightness of that region's channel (red for class 0, green for 1, blue for 2), so
occluding the region is what changes the prediction, and two models that look at different
regions give different maps.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.black_box import BlackBoxSession
from engine.model.blackbox import node
from engine.model.sidecar import Sidecar

SIDE = 16
CLASSES = ("red", "green", "blue")


class RegionRuntime:
    """A Runtime (engine.model.blackbox) whose classes read the mean colour of one region."""

    kind = "numpy"
    units = len(CLASSES)
    params = 0
    largest_tensor = 0

    def __init__(self, rows: slice, columns: slice, activation: str = "softmax", scale: float = 8.0) -> None:
        self.rows, self.columns, self.activation, self.scale = rows, columns, activation, scale
        self.input_shape = (SIDE, SIDE, 3)
        self.nodes = (node(0, "input", "Input", (None, SIDE, SIDE, 3)),)
        self.calls: list[int] = []  # rows of every run, to check batching

    def run(self, inputs: np.ndarray) -> np.ndarray:
        """(B, 16, 16, 3) -> (B, 3) softmax probabilities (or logits with activation 'linear')."""
        self.calls.append(len(inputs))
        logits = self.scale * inputs[:, self.rows, self.columns, :].mean(axis=(1, 2))
        if self.activation == "linear":
            return logits.astype(np.float32)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)


def region_session(rows: slice = slice(0, 8), columns: slice = slice(0, 8), name: str = "region.npy",
                   **runtime) -> BlackBoxSession:
    """A black-box Session over a RegionRuntime (pixels/255 preprocessing, the three class names)."""
    return BlackBoxSession(RegionRuntime(rows, columns, **runtime), name, Sidecar(CLASSES, "unit"))


def write_lot(folder: Path, count: int = 2, masks: bool = False) -> Path:
    """`count` images per class under folder/<class>/: black, with the class's colour in the
    top-left quadrant (what a RegionRuntime on that quadrant reads) and in the bottom-right;
    with `masks`, a <name>_mask.png beside each marks the top-left quadrant as the defect."""
    for index, name in enumerate(CLASSES):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for number in range(count):
            image = np.zeros((SIDE, SIDE, 3), np.uint8)
            image[:8, :8, 2 - index] = 200 + 20 * number  # BGR on disk
            image[8:, 8:, 2 - index] = 150
            cv2.imwrite(str(folder / name / f"{name}_{number}.png"), image)
            if masks:
                mask = np.zeros((SIDE, SIDE), np.uint8)
                mask[:8, :8] = 255
                cv2.imwrite(str(folder / name / f"{name}_{number}_mask.png"), mask)
    return folder
