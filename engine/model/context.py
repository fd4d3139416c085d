"""The per-model cache of probe models and compiled functions shared by all methods."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from engine.model.heads import Head
from engine.model.probe import Substitute, build_probe
from engine.types import KerasModel


class ModelContext:
    """One loaded model, its heads, and everything built from it once and reused."""

    def __init__(self, model: KerasModel, heads: tuple[Head, ...]) -> None:
        self.model: KerasModel = model
        self.heads = heads
        self._cache: dict[Hashable, Any] = {}

    @property
    def input_shape(self) -> tuple:
        """(height, width, channels) of the model input; None where size-agnostic."""
        return tuple(self.model.inputs[0].shape[1:])

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """Return the object stored under `key`, building it on first use."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def probe(self, targets: tuple[str, ...], output_index: int = 0, variant: str = "plain",
              substitute: Substitute | None = None):
        """image -> [target outputs..., logits], built once per (targets, output, variant)."""
        key = ("probe", targets, output_index, variant)
        return self.cached(key, lambda: build_probe(self.model, targets, output_index, substitute))

    def input_spec(self):
        """The tf.TensorSpec of a batch of model inputs (batch size left open)."""
        from engine.model.backend import tf

        return tf.TensorSpec((None, *self.input_shape), tf.float32)
