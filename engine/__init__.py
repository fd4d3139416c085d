"""ConvScope's engine: all computation, no Qt, grouped by concept.

`model/` (loading, sidecar, layers, heads, the replayed graph), `images/` (decoding,
preprocessing), `methods/` (one module per method family and the registry), `maps/`
(normalising, combinations, rendering, grids), `features/` (activations, filter patterns),
`trust/` (faithfulness, sanity checks, verdicts) and `review/` (lot review). At the top only
the facade `session.Session`, `tiles` (any method over a large frame, tile by tile, which the
facade calls), `results`, `errors`, `params` (declared method parameters), `memory` (the memory
budget), `types` (the central type aliases) and `readme_section` (the README sections generated
from declarations).

May import numpy, OpenCV, TensorFlow / Keras (through `engine.model.backend` only), pyarrow,
scipy / scikit-image, and Ray inside functions; never PySide6, pyqtgraph or `gui` (ruff bans
them; import-linter's contracts in pyproject.toml check it, through any chain of imports).
Importing the package is cheap; TensorFlow loads on first use of `Session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import (
    Cancelled,
    ConvScopeError,
    ImageLoadError,
    LayerError,
    MethodError,
    ModelLoadError,
)
from engine.lazy_names import lazy_exports

if TYPE_CHECKING:
    from engine.session import Session

__all__ = ["Cancelled", "ConvScopeError", "ImageLoadError", "LayerError", "MethodError",
           "ModelLoadError", "Session"]


__getattr__ = lazy_exports(__name__, {"engine.session": ("Session",)}, globals())
