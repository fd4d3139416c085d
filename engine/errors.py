"""Errors the engine raises for bad input: each carries one line a user can act on."""

from __future__ import annotations


class ConvScopeError(Exception):
    """Base class: the message is one line, shown as is, never with a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class ModelLoadError(ConvScopeError):
    """The model file is missing, broken, of an unknown format, or not a Keras model."""


class UnsafeModelError(ModelLoadError):
    """Safe mode refused the model (executable content); loading needs an explicit trust flag."""


class ImageLoadError(ConvScopeError):
    """The image is missing, unreadable, empty, truncated or too large."""


class LayerError(ConvScopeError):
    """The layer does not exist or cannot serve the requested method."""


class MethodError(ConvScopeError):
    """Unknown method, bad parameter, or a method the model cannot support."""


class OutputPathError(ConvScopeError):
    """An output path is outside the folder the user chose, or cannot be written."""


class Cancelled(Exception):
    """A long operation stopped because its cancel check returned True."""
