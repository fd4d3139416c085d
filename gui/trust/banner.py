"""The lot's trust verdict as a banner a reader cannot miss (rich text for a QLabel, no Qt import).

The verdict is about the maps of one method at one layer: the banner names them, and warns when
the layer is not the model's default CAM target (an early layer's maps are coarse or scattered,
and "shortcut-suspected" may then be about the layer rather than the model)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

COLOURS = {"right-reason": "#d8f0d8", "shortcut-suspected": "#f8cccc", "insufficient-data": "#fff0c0"}


def scope_text(method: str | None, layer: str | None, default_layer: str | None = None) -> str:
    """What the verdict is about: "Grad-CAM at layer block2_conv", and a caution off the default layer."""
    if not method:
        return ""
    text = f"Verdict for {method} at layer {layer}" if layer else f"Verdict for {method}"
    if layer and default_layer and layer != default_layer:
        text += f" (not the model's default CAM layer {default_layer}: the verdict is about this layer's maps)"
    return text + "."


def banner_html(trust: Any, *, method: str | None = None, layer: str | None = None,
                default_layer: str | None = None, run: dict | None = None,
                titles: Callable[[str], str | None] | None = None) -> str:
    """The verdict of a review's `trust` object (summary.json or ReviewResult.trust); "" without one.

    `method` (its display title) and `layer` name what the verdict is about; `run` (summary.json's
    "run": method, layer) gives them instead, the method's title looked up with `titles`;
    `default_layer` (ModelInfo.default_layer) adds a caution when the layer differs from it."""
    if not isinstance(trust, dict):
        return ""
    overall = trust.get("overall", trust)
    verdict = overall.get("verdict") if isinstance(overall, dict) else None
    if not verdict:
        return ""
    if run and not method:
        method = (titles(run["method"]) if titles and run.get("method") else None) or run.get("method")
        layer = layer or run.get("layer")
    reason = overall.get("verdict_reason") or overall.get("sentence") or ""
    flagged = overall.get("flagged")
    tail = f" {flagged} image(s) flagged: see the Flag column." if flagged else ""
    scope = scope_text(method, layer, default_layer)
    scope = f"<br><span style='font-size:10pt'>{escape(scope, quote=False)}</span>" if scope else ""
    colour = COLOURS.get(verdict, "#eeeeee")
    return (f"<table width='100%' cellpadding='8' bgcolor='{colour}'><tr><td>"
            f"<span style='font-size:15pt; font-weight:700'>{escape(verdict.upper())}</span><br>"
            f"{escape(reason)}.{escape(tail)}{scope}</td></tr></table>")
