"""The Review tab, beside engine/review: `convscope batch` inside the window.

- `options`: the settings panel (target, tolerance, threshold, report folder) that yields the
  engine's ReviewOptions;
- `table`: the rows as a Qt table model, its filter proxy and its view;
- `confusion`: the clickable confusion matrix and the per-label figures;
- `tab`: the tab's widgets (with a banner area for a verdict on the lot);
- `controller`: the tab's logic between the engine worker, the browser and the window.

May import PySide6, gui's shared modules and the TensorFlow-free parts of engine.review.
"""

from __future__ import annotations

from .controller import ReviewController
from .tab import ReviewTab

__all__ = ["ReviewController", "ReviewTab"]
