"""ConvScope's engine: model loading, images, explanation methods and feature views. No Qt.

Importing the package is cheap; TensorFlow loads on first use of `Session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import (
    Cancelled,
    ConvScopeError,
    ImageLoadError,
    LayerError,
    MethodError,
    ModelLoadError,
)

if TYPE_CHECKING:
    from engine.session import Session

__all__ = ["Cancelled", "ConvScopeError", "ImageLoadError", "LayerError", "MethodError",
           "ModelLoadError", "Session"]


def __getattr__(name: str) -> Any:
    if name == "Session":
        from engine.session import Session

        return Session
    raise AttributeError(name)
