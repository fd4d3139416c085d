"""The engine's central types, named once for annotations (importing this costs nothing).

Keras is imported lazily (engine.model.backend) and ships no type information, so a Keras
model or layer is `Any` to the type checker; the aliases still say in every signature which
one a value is. Arrays are numpy arrays of float32, as everything crossing the engine is.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

KerasModel: TypeAlias = Any
"""A loaded `keras.Model` (functional, Sequential or subclassed), never modified by the engine."""

KerasLayer: TypeAlias = Any
"""A `keras.layers.Layer` of a loaded model (a nested model is one too)."""

FloatArray: TypeAlias = NDArray[np.float32]
"""Any float32 array: maps, activations, pixels."""

InputBatch: TypeAlias = NDArray[np.float32]
"""Preprocessed model inputs, (batch, height, width, channels) float32."""

__all__ = ["FloatArray", "InputBatch", "KerasLayer", "KerasModel"]
