"""The window's state: every choice the user has made, in one plain object.

The controller owns one `ViewState`. Widgets show it and emit what the user changed; the
controller applies the change with `dataclasses.replace`, remembers it in the settings and
turns it into engine requests. Nothing here imports Qt or the engine's heavy parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .compose import ViewSettings

# ViewState field -> settings key, for the choices remembered between runs
REMEMBERED = {"image": "image", "method": "method", "layer": "layer", "compare_mode": "compare_mode"}


@dataclass(frozen=True)
class ViewState:
    """The current choices: image, method and its parameters, layer, class, output, compare
    mode, view settings and the tab in front."""

    image: str | None = None  # the selected image's path
    method: str | None = None  # engine method name
    params: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()  # per method: the parameters and
    # combinations chosen for it that differ from their defaults (the method panel keeps each method's)
    layer: str | None = None  # CAM target layer path
    class_index: int | None = None  # None: the predicted class
    output: int = 0  # model output (multi-output models)
    compare_mode: str = "methods"  # "methods", "layers", "classes" or "models" (A | B per method)
    compare_methods: tuple[str, ...] = ()  # the methods the compare tiles show; () = every method
    view: ViewSettings = field(default_factory=ViewSettings)
    tab: str = "heatmap"  # "heatmap", "compare", "features", "review" or "trust"
    model_b: str | None = None  # the second model's path; None = not comparing

    def params_of(self, method: str) -> tuple[tuple[str, Any], ...]:
        """The parameters chosen for a method, as a request takes them."""
        return dict(self.params).get(method, ())

    def remembered(self) -> dict[str, Any]:
        """The values kept in the settings, by settings key ("" for None)."""
        values = {key: getattr(self, name) or "" for name, key in REMEMBERED.items()}
        view = self.view
        values.update(opacity=view.opacity, threshold=view.threshold, colormap=view.colormap,
                      outline=view.outline, view_mode=view.mode)
        return values


def initial_state(settings) -> ViewState:
    """The state the window starts with, from the remembered settings."""
    s = settings
    view = ViewSettings(s.get("opacity"), s.get("threshold"), s.get("colormap"), s.get("outline"), s.get("view_mode"))
    return ViewState(method=s.get("method") or None, layer=s.get("layer") or None,
                     compare_mode=s.get("compare_mode"), view=view)
