"""What a model's output means: softmax classes, a one-unit sigmoid (two classes), or logits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SQUASHING = ("softmax", "sigmoid")


@dataclass(frozen=True)
class Head:
    """One model output: its final activation and its number of units."""

    activation: str  # "softmax", "sigmoid" or "linear" (the output is already logits)
    units: int

    @property
    def binary(self) -> bool:
        """A one-unit output: class 1 is the logit, class 0 its negative."""
        return self.units == 1

    @property
    def class_count(self) -> int:
        """Classes shown to the user (2 for a one-unit output)."""
        return 2 if self.binary else self.units

    def class_logits(self, logits):
        """Per-class scores (pre-activation) from raw output logits; works on numpy and TF tensors."""
        if not self.binary:
            return logits
        if isinstance(logits, np.ndarray):
            return np.concatenate([-logits, logits], axis=-1)
        from engine.model.backend import tf

        return tf.concat([-logits, logits], axis=-1)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Per-class probabilities from raw output logits (numpy, batch first)."""
        logits = np.asarray(logits, dtype=np.float64)
        if self.binary:
            p = 1.0 / (1.0 + np.exp(-logits))
            return np.concatenate([1.0 - p, p], axis=-1)
        if self.activation == "sigmoid":
            return 1.0 / (1.0 + np.exp(-logits))
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)


def activation_name(layer) -> str:
    """The name of a layer's activation: 'softmax', 'sigmoid', 'linear', 'relu', ..."""
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", "linear")


OK_NAMES = frozenset({"ok", "good", "normal", "pass", "clean", "background", "negative", "no_defect", "nodefect",
                      "defect_free", "non_defective"})


def defect_classes(names: tuple[str, ...], binary: bool = False) -> np.ndarray:
    """Indices of the classes that are not named like a good part; when none is, class 1 of a
    one-unit (sigmoid) model, else every class."""
    keep = [i for i, name in enumerate(names) if name.strip().lower().replace(" ", "_").replace("-", "_")
            not in OK_NAMES]
    if len(keep) == len(names) and binary:
        keep = [1]
    return np.array(keep or range(len(names)))
